//! The hosted flow's steps, built from what the customer's level still
//! misses: which step collects which requirement, in the order an end user
//! meets them, and which national identifier a country asks for.

use crate::customer::CustomerType;

/// One page of the hosted flow that collects something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Names, date of birth, nationality.
    Personal,
    /// Legal name, registration number, country of a business.
    Company,
    /// Email and phone.
    Contact,
    /// The primary address.
    Address,
    /// The national identifier of the country of residence.
    NationalId,
    /// Identity document: type, front, back when the type has one.
    Document,
    /// A photo of the end user.
    Selfie,
    /// A proof of address document.
    ProofOfAddress,
    /// A business formation document.
    Formation,
}

impl Step {
    /// Every step, in the order of the flow.
    pub const ORDER: [Step; 9] = [
        Step::Personal,
        Step::Company,
        Step::Contact,
        Step::Address,
        Step::NationalId,
        Step::Document,
        Step::Selfie,
        Step::ProofOfAddress,
        Step::Formation,
    ];

    /// The step's name in URLs.
    pub fn slug(self) -> &'static str {
        match self {
            Step::Personal => "personal",
            Step::Company => "company",
            Step::Contact => "contact",
            Step::Address => "address",
            Step::NationalId => "national-id",
            Step::Document => "document",
            Step::Selfie => "selfie",
            Step::ProofOfAddress => "proof-of-address",
            Step::Formation => "formation",
        }
    }

    pub fn from_slug(s: &str) -> Option<Step> {
        Step::ORDER.into_iter().find(|step| step.slug() == s)
    }

    /// Whether the step uploads files (a multipart form).
    pub fn uploads(self) -> bool {
        matches!(
            self,
            Step::Document | Step::Selfie | Step::ProofOfAddress | Step::Formation
        )
    }

    /// The step that collects a requirement code, if an end user can supply it
    /// (checks such as `email_verified` or `beneficial_owner` are the platform's).
    pub fn for_requirement(customer_type: CustomerType, code: &str) -> Option<Step> {
        let business = customer_type == CustomerType::Business;
        Some(match code {
            "legal_name" | "registration_number" | "country" if business => Step::Company,
            "legal_name" | "date_of_birth" | "nationality" => Step::Personal,
            "email" | "phone" => Step::Contact,
            "primary_address" => Step::Address,
            "national_id" | "tax_id" => Step::NationalId,
            "identity_document" => Step::Document,
            "selfie" => Step::Selfie,
            "proof_of_address" => Step::ProofOfAddress,
            "business_formation" => Step::Formation,
            _ => return None,
        })
    }
}

/// The steps that collect `missing`, in flow order, each once.
pub fn steps(customer_type: CustomerType, missing: &[String]) -> Vec<Step> {
    let wanted: Vec<Step> = missing
        .iter()
        .filter_map(|code| Step::for_requirement(customer_type, code))
        .collect();
    Step::ORDER
        .into_iter()
        .filter(|s| wanted.contains(s))
        .collect()
}

/// The requirement codes of `missing` that no step collects: the platform
/// (or a reviewer) must supply them.
pub fn not_collectable(customer_type: CustomerType, missing: &[String]) -> Vec<String> {
    missing
        .iter()
        .filter(|code| Step::for_requirement(customer_type, code).is_none())
        .cloned()
        .collect()
}

/// The identifier types the national-identifier step offers for a country
/// of residence, the first being the one asked for by default: the same
/// rule as the `national_id` requirement of the policy.
pub fn national_id_types(country: Option<&str>) -> &'static [&'static str] {
    match country {
        Some("BR") => &["cpf"],
        Some("US") => &["ssn", "itin"],
        _ => &["national_id", "passport", "tax_id"],
    }
}

/// The identity document types and whether each has a back side.
pub const IDENTITY_DOCUMENT_TYPES: [(&str, bool); 3] = [
    ("passport", false),
    ("national_id", true),
    ("drivers_license", true),
];

/// Whether an identity document type has a back side to photograph.
pub fn has_back(doc_type: &str) -> bool {
    IDENTITY_DOCUMENT_TYPES
        .iter()
        .any(|(t, back)| *t == doc_type && *back)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_full_individual_walks_every_step_in_order() {
        let missing = codes(&[
            "selfie",
            "national_id",
            "legal_name",
            "email",
            "phone",
            "primary_address",
            "identity_document",
            "date_of_birth",
        ]);
        assert_eq!(
            steps(CustomerType::Individual, &missing),
            vec![
                Step::Personal,
                Step::Contact,
                Step::Address,
                Step::NationalId,
                Step::Document,
                Step::Selfie
            ]
        );
    }

    #[test]
    fn only_what_is_missing_is_asked() {
        let missing = codes(&["primary_address"]);
        assert_eq!(
            steps(CustomerType::Individual, &missing),
            vec![Step::Address]
        );
        assert!(steps(CustomerType::Individual, &[]).is_empty());
    }

    #[test]
    fn a_business_gets_company_details_and_its_owner_is_the_platforms() {
        let missing = codes(&["legal_name", "country", "beneficial_owner"]);
        assert_eq!(steps(CustomerType::Business, &missing), vec![Step::Company]);
        assert_eq!(
            not_collectable(CustomerType::Business, &missing),
            codes(&["beneficial_owner"])
        );
    }

    #[test]
    fn national_identifier_follows_the_country() {
        assert_eq!(national_id_types(Some("BR")), &["cpf"]);
        assert_eq!(national_id_types(Some("US")), &["ssn", "itin"]);
        assert_eq!(national_id_types(Some("DE"))[0], "national_id");
        assert_eq!(national_id_types(None)[0], "national_id");
    }

    #[test]
    fn slugs_round_trip() {
        for s in Step::ORDER {
            assert_eq!(Step::from_slug(s.slug()), Some(s));
        }
        assert_eq!(Step::from_slug("nope"), None);
        assert!(has_back("national_id") && !has_back("passport"));
    }
}
