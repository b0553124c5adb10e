//! Policy: the organization's settings per environment, and which
//! requirements a customer type, level, mode and product ask for.

use crate::customer::{BeneficialOwner, Customer, CustomerType, Level, Mode, OwnerRole};
use crate::status::CustomerStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether an approved customer becomes `active` at once or waits in `verified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Automatic,
    Manual,
}

/// What an approved customer may do while its updated data is re-verified
/// (`update_requested`): `keep` the previous approval's capabilities until the
/// re-verification ends or that approval expires, or `suspend` them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateAccess {
    #[default]
    Keep,
    Suspend,
}

/// What a check that could not run (or found a weak signal) does to the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalPolicy {
    /// Record it in `requirements.issues`, do not block.
    Pass,
    /// Keep the customer `pending` for a reviewer.
    Review,
    /// Reject.
    Reject,
}

/// How a product-access request is decided once its requirements are met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPolicy {
    Auto,
    Manual,
}

/// What a product requires and how requests for it are decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPolicy {
    /// The verification level the product needs.
    pub level: Level,
    /// Requirements beyond the level.
    #[schema(schema_with = crate::schema::requirement_codes)]
    pub requirements: Vec<String>,
    pub approval: ApprovalPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Products {
    pub cards: ProductPolicy,
    pub virtual_accounts: ProductPolicy,
}

/// The organization's policy for one environment (`GET/PATCH /v1/settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub activation: Activation,
    /// How long an approval is valid, in days.
    #[schema(minimum = 1, maximum = 3650, example = 365)]
    pub verification_validity_days: u32,
    /// How many days before expiry `customer.verification.expiring` is sent
    /// (shorter than the validity).
    #[schema(minimum = 0, maximum = 3649, example = 7)]
    pub expiring_notice_days: u32,
    /// Lifetime of a hosted verification link.
    #[schema(minimum = 1, maximum = 10080, example = 30)]
    pub link_ttl_minutes: u32,
    #[schema(minimum = 0, maximum = 125, example = 18)]
    pub min_age: u32,
    /// ISO 3166-1 alpha-2 codes of the countries of residence accepted; `null`: all.
    #[schema(value_type = Option<Vec<crate::schema::Country>>, required = true)]
    pub allowed_countries: Option<Vec<String>>,
    /// Screening matches scoring at least this much are possible matches.
    #[schema(minimum = 0.5, maximum = 1.0, example = 0.85)]
    pub screening_threshold: f64,
    /// What the decision does when no screening list is loaded.
    pub unscreened: SignalPolicy,
    /// What a national id or document number already used by another customer does.
    pub duplicate_identifier: SignalPolicy,
    /// Hosted verifications whose checks all pass are approved without a
    /// reviewer (data-only KYC). Off by default: the hosted flow or a reviewer decides.
    pub auto_approve_hosted: bool,
    /// Capabilities while an active customer's changed data is re-verified.
    #[serde(default)]
    pub update_access: UpdateAccess,
    /// How the hosted pages present the organization to its end users.
    #[serde(default)]
    pub branding: Branding,
    /// A business's owners holding at least this share (percent) must be
    /// verified individual customers, as must every controller.
    #[serde(default = "default_owner_threshold")]
    #[schema(minimum = 1, maximum = 100, example = 25, required = true)]
    pub beneficial_owner_threshold_percent: u32,
    pub products: Products,
    /// Requests per second each API key of this environment may make (burst
    /// twice that); absent: the server's default (`KYCD_RATE_LIMIT`; in a
    /// PATCH, `null` goes back to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000, nullable = false, example = 100)]
    pub rate_limit_per_second: Option<u32>,
}

/// The organization as its end users see it on the hosted pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    /// The name shown in the header and in messages ("ask Acme for a new
    /// link"); `null`: the organization's name.
    #[schema(max_length = 80, example = "Acme Bank")]
    pub display_name: Option<String>,
    /// `#RRGGBB`: buttons, links and the progress bar.
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$", example = "#0B6E4F")]
    pub primary_color: Option<String>,
    /// Shown at the foot of every page.
    #[schema(format = Email, example = "help@acme.example")]
    pub support_email: Option<String>,
    /// The logo in the header of every page: a PNG or JPEG, base64, at most
    /// 32 KB and 1024 pixels a side. The server re-encodes it (metadata dropped).
    #[serde(default)]
    #[schema(max_length = 43692, content_encoding = "base64")]
    pub logo_base64: Option<String>,
}

/// The most bytes of a branding logo (decoded).
pub const MAX_LOGO_BYTES: usize = 32 * 1024;

impl Branding {
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(n) = &self.display_name
            && (n.trim().is_empty() || n.chars().count() > 80 || n.chars().any(char::is_control))
        {
            return Err((
                "branding.display_name".into(),
                "must be 1 to 80 characters, without control characters".into(),
            ));
        }
        if let Some(c) = &self.primary_color
            && !(c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()))
        {
            return Err((
                "branding.primary_color".into(),
                "must be a colour as #RRGGBB".into(),
            ));
        }
        if self
            .logo_base64
            .as_ref()
            .is_some_and(|l| l.len() > MAX_LOGO_BYTES.div_ceil(3) * 4)
        {
            return Err((
                "branding.logo_base64".into(),
                "the logo is limited to 32 KB".into(),
            ));
        }
        if let Some(e) = &self.support_email
            && crate::validate::email(e).is_err()
        {
            return Err((
                "branding.support_email".into(),
                "must be an email address".into(),
            ));
        }
        Ok(())
    }
}

/// The share at or above which an owner must be verified, unless the
/// organization sets `beneficial_owner_threshold_percent`.
pub const DEFAULT_OWNER_THRESHOLD_PERCENT: u32 = 25;

fn default_owner_threshold() -> u32 {
    DEFAULT_OWNER_THRESHOLD_PERCENT
}

/// The bounds of `rate_limit_per_second`.
pub const RATE_LIMIT_BOUNDS: std::ops::RangeInclusive<u32> = 1..=100_000;

pub const DEFAULT_SCREENING_THRESHOLD: f64 = 0.80;

impl Settings {
    /// Defaults in code. Sandbox is lenient where live is careful: with no
    /// screening list loaded, live sends customers to review.
    pub fn defaults(live: bool) -> Settings {
        Settings {
            activation: Activation::Automatic,
            verification_validity_days: 365,
            expiring_notice_days: 7,
            link_ttl_minutes: 30,
            min_age: 18,
            allowed_countries: None,
            screening_threshold: DEFAULT_SCREENING_THRESHOLD,
            unscreened: if live {
                SignalPolicy::Review
            } else {
                SignalPolicy::Pass
            },
            duplicate_identifier: if live {
                SignalPolicy::Review
            } else {
                SignalPolicy::Pass
            },
            auto_approve_hosted: false,
            update_access: UpdateAccess::Keep,
            branding: Branding::default(),
            beneficial_owner_threshold_percent: DEFAULT_OWNER_THRESHOLD_PERCENT,
            rate_limit_per_second: None,
            products: Products {
                cards: ProductPolicy {
                    level: Level::Full,
                    requirements: vec!["phone_verified".into()],
                    approval: ApprovalPolicy::Auto,
                },
                virtual_accounts: ProductPolicy {
                    level: Level::Full,
                    requirements: vec!["proof_of_address".into(), "tax_id".into()],
                    approval: ApprovalPolicy::Auto,
                },
            },
        }
    }

    /// Checks the invariants a PATCH must keep; returns (param, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |p: &str, m: &str| Err((p.to_string(), m.to_string()));
        if !(1..=3650).contains(&self.verification_validity_days) {
            return bad("verification_validity_days", "must be between 1 and 3650");
        }
        if self.expiring_notice_days >= self.verification_validity_days {
            return bad("expiring_notice_days", "must be shorter than the validity");
        }
        self.branding.validate()?;
        if !(1..=10080).contains(&self.link_ttl_minutes) {
            return bad("link_ttl_minutes", "must be between 1 and 10080 (one week)");
        }
        if !(0..=125).contains(&self.min_age) {
            return bad("min_age", "must be between 0 and 125");
        }
        if !(1..=100).contains(&self.beneficial_owner_threshold_percent) {
            return bad(
                "beneficial_owner_threshold_percent",
                "must be an integer from 1 to 100",
            );
        }
        if !(0.5..=1.0).contains(&self.screening_threshold) {
            return bad("screening_threshold", "must be between 0.5 and 1.0");
        }
        if let Some(rate) = self.rate_limit_per_second
            && !RATE_LIMIT_BOUNDS.contains(&rate)
        {
            return bad(
                "rate_limit_per_second",
                "must be an integer from 1 to 100000 (requests per second per API key)",
            );
        }
        if let Some(list) = &self.allowed_countries {
            for (i, c) in list.iter().enumerate() {
                if !crate::countries::is_iso_alpha2(c) {
                    return Err((
                        format!("allowed_countries[{i}]"),
                        "must be an ISO 3166-1 alpha-2 code".into(),
                    ));
                }
            }
        }
        for (name, p) in [
            ("cards", &self.products.cards),
            ("virtual_accounts", &self.products.virtual_accounts),
        ] {
            for (i, r) in p.requirements.iter().enumerate() {
                if requirement(r).is_none() {
                    return Err((
                        format!("products.{name}.requirements[{i}]"),
                        "unknown requirement code".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn product(&self, product: Product) -> &ProductPolicy {
        match product {
            Product::Cards => &self.products.cards,
            Product::VirtualAccounts => &self.products.virtual_accounts,
        }
    }
}

/// A product a customer may request access to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    Cards,
    VirtualAccounts,
}

impl Product {
    pub const ALL: [Product; 2] = [Product::Cards, Product::VirtualAccounts];
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Cards => "cards",
            Product::VirtualAccounts => "virtual_accounts",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What a requirement is: data to collect, a document to upload, or a check to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    Field,
    Document,
    Check,
}

/// A requirement code with its kind and a description integrators can show.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Requirement {
    #[schema(schema_with = crate::schema::requirement_code)]
    pub code: &'static str,
    pub kind: RequirementKind,
    pub description: &'static str,
}

use RequirementKind::*;

/// The vocabulary of `requirements.missing` and of 403 reasons.
pub const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        code: "legal_name",
        kind: Field,
        description: "Full legal name (individual: first and last name; business: legal name)",
    },
    Requirement {
        code: "date_of_birth",
        kind: Field,
        description: "Date of birth (YYYY-MM-DD)",
    },
    Requirement {
        code: "nationality",
        kind: Field,
        description: "Nationality (ISO 3166-1 alpha-2)",
    },
    Requirement {
        code: "email",
        kind: Field,
        description: "Email address",
    },
    Requirement {
        code: "phone",
        kind: Field,
        description: "Phone number in E.164 format",
    },
    Requirement {
        code: "primary_address",
        kind: Field,
        description: "Primary residential (or registered) address",
    },
    Requirement {
        code: "national_id",
        kind: Field,
        description: "National identifier: CPF for residents of Brazil, SSN or ITIN for residents of the United States, else a national id, passport or tax id",
    },
    Requirement {
        code: "tax_id",
        kind: Field,
        description: "Tax identifier (CPF, SSN, ITIN, EIN, CNPJ or tax_id)",
    },
    Requirement {
        code: "registration_number",
        kind: Field,
        description: "Company registration number",
    },
    Requirement {
        code: "country",
        kind: Field,
        description: "Country of incorporation",
    },
    Requirement {
        code: "beneficial_owner",
        kind: Check,
        description: "Verified beneficial owners: every owner at or above the threshold share (default 25%) and every controller is a verified individual customer; with none of those named, at least one owner is",
    },
    Requirement {
        code: "identity_document",
        kind: Document,
        description: "Identity document (passport, national id or driver's license)",
    },
    Requirement {
        code: "selfie",
        kind: Document,
        description: "Selfie of the end user",
    },
    Requirement {
        code: "proof_of_address",
        kind: Document,
        description: "Proof of address document",
    },
    Requirement {
        code: "business_formation",
        kind: Document,
        description: "Business formation document (articles, registration certificate)",
    },
    Requirement {
        code: "attestation",
        kind: Check,
        description: "Attestation of the trusted provider that verified the user (reliance mode)",
    },
    Requirement {
        code: "liveness_attestation",
        kind: Check,
        description: "Attestation with liveness: true from the trusted provider (stands in for the selfie)",
    },
    Requirement {
        code: "email_verified",
        kind: Check,
        description: "Email address verified by the platform",
    },
    Requirement {
        code: "phone_verified",
        kind: Check,
        description: "Phone number verified by the platform",
    },
];

pub fn requirement(code: &str) -> Option<&'static Requirement> {
    REQUIREMENTS.iter().find(|r| r.code == code)
}

/// The requirement codes for a customer type, level and mode, in a stable order.
pub fn requirements_for(
    customer_type: CustomerType,
    level: Level,
    mode: Mode,
) -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = match customer_type {
        CustomerType::Individual => {
            vec![
                "legal_name",
                "date_of_birth",
                "nationality",
                "email",
                "phone",
                "primary_address",
                "national_id",
            ]
        }
        CustomerType::Business => vec![
            "legal_name",
            "registration_number",
            "country",
            "primary_address",
            "beneficial_owner",
        ],
    };
    match (customer_type, level, mode) {
        (CustomerType::Individual, level, Mode::Reliance) => {
            // The provider verified the person: `basic` (seed 003's PARTIAL) rests
            // on a valid national identifier, the address and the verified contact
            // details; `full` also needs the identity document the provider checked
            // (uploaded, or named in the attestation) and its liveness check, which
            // stands in for the selfie.
            if level == Level::Full {
                codes.extend(["identity_document", "liveness_attestation"]);
            }
            codes.extend(["email_verified", "phone_verified"]);
        }
        (CustomerType::Individual, Level::Full, Mode::Hosted) => {
            codes.extend(["identity_document", "selfie"])
        }
        (CustomerType::Business, Level::Full, _) => codes.push("business_formation"),
        _ => {}
    }
    if mode == Mode::Reliance {
        codes.insert(0, "attestation");
    }
    codes
}

/// What the store knows about a customer beyond its record, for requirement checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Types of documents on file that are not rejected (`passport`, `selfie`, …).
    pub document_types: Vec<String>,
    /// For a business: the status of each beneficial owner that is an
    /// individual customer of the scope (an erased or unknown one is absent).
    pub owner_statuses: Vec<(String, CustomerStatus)>,
    /// The organization's `beneficial_owner_threshold_percent` (`None`: the default).
    pub owner_threshold_percent: Option<u32>,
}

/// Whether an owner in this status counts as verified: it holds an approval
/// (`active`, `verified`, or `update_requested` while its update is re-verified).
pub fn owner_counts(status: CustomerStatus) -> bool {
    status.holds_approval()
}

/// One beneficial owner as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerStanding {
    pub owner: BeneficialOwner,
    /// `None`: no such individual customer any more (erased).
    pub status: Option<CustomerStatus>,
    pub verified: bool,
    /// Must be verified: a share at or above the threshold, or a controller.
    pub required: bool,
}

/// The business's owners with their status and what the policy asks of each.
pub fn owner_standings(c: &Customer, e: &Evidence) -> Vec<OwnerStanding> {
    let threshold = f64::from(
        e.owner_threshold_percent
            .unwrap_or(DEFAULT_OWNER_THRESHOLD_PERCENT),
    );
    let Some(b) = &c.business else {
        return vec![];
    };
    b.beneficial_owners
        .iter()
        .map(|o| {
            let status = e
                .owner_statuses
                .iter()
                .find(|(id, _)| *id == o.customer_id)
                .map(|(_, s)| *s);
            OwnerStanding {
                owner: o.clone(),
                status,
                verified: status.is_some_and(owner_counts),
                required: o.has_role(OwnerRole::Controller)
                    || o.ownership_percent.is_some_and(|p| p >= threshold),
            }
        })
        .collect()
}

/// The `beneficial_owner` requirement: every required owner is verified; with
/// none required (no share at the threshold, no controller), at least one
/// owner is.
pub fn owners_met(standings: &[OwnerStanding]) -> bool {
    if standings.iter().any(|s| s.required) {
        standings.iter().filter(|s| s.required).all(|s| s.verified)
    } else {
        standings.iter().any(|s| s.verified)
    }
}

/// Documents that prove identity (uploaded, or attested by a provider).
pub const IDENTITY_DOCUMENTS: &[&str] = &["passport", "national_id", "drivers_license"];

/// Whether one requirement is met by the customer and its evidence.
pub fn is_met(code: &str, c: &Customer, e: &Evidence) -> bool {
    let ind = c.individual.as_ref();
    let biz = c.business.as_ref();
    let has_doc = |types: &[&str]| e.document_types.iter().any(|d| types.contains(&d.as_str()));
    match code {
        "legal_name" => match c.customer_type {
            CustomerType::Individual => {
                ind.is_some_and(|i| i.first_name.is_some() && i.last_name.is_some())
            }
            CustomerType::Business => biz.is_some_and(|b| b.legal_name.is_some()),
        },
        "date_of_birth" => ind.is_some_and(|i| i.date_of_birth.is_some()),
        "nationality" => ind.is_some_and(|i| i.nationality.is_some()),
        "email" => ind
            .and_then(|i| i.email.as_ref())
            .or(biz.and_then(|b| b.email.as_ref()))
            .is_some(),
        "phone" => ind
            .and_then(|i| i.phone.as_ref())
            .or(biz.and_then(|b| b.phone.as_ref()))
            .is_some(),
        "primary_address" => c.primary_address().is_some(),
        "national_id" => match c.residence_country() {
            Some("BR") => c.has_identifier("cpf"),
            Some("US") => c.has_identifier("ssn") || c.has_identifier("itin"),
            _ => ["cpf", "ssn", "itin", "national_id", "passport", "tax_id"]
                .iter()
                .any(|k| c.has_identifier(k)),
        },
        "tax_id" => ["cpf", "ssn", "itin", "ein", "cnpj", "tax_id"]
            .iter()
            .any(|k| c.has_identifier(k)),
        "registration_number" => biz.is_some_and(|b| b.registration_number.is_some()),
        "country" => biz.is_some_and(|b| b.country.is_some()),
        "beneficial_owner" => owners_met(&owner_standings(c, e)),
        "identity_document" => {
            has_doc(IDENTITY_DOCUMENTS)
                || c.attestation
                    .as_ref()
                    .is_some_and(|a| a.document_type.is_some())
        }
        "selfie" => has_doc(&["selfie"]) || c.attestation.as_ref().is_some_and(|a| a.liveness),
        "proof_of_address" => has_doc(&["proof_of_address"]),
        "business_formation" => has_doc(&["business_formation"]),
        "attestation" => c.attestation.is_some(),
        "liveness_attestation" => c.attestation.as_ref().is_some_and(|a| a.liveness),
        "email_verified" => ind.is_some_and(|i| i.email_verified),
        "phone_verified" => ind.is_some_and(|i| i.phone_verified),
        _ => false,
    }
}

/// The requirement codes not yet met, in policy order.
pub fn missing(codes: &[&str], c: &Customer, e: &Evidence) -> Vec<String> {
    codes
        .iter()
        .filter(|code| !is_met(code, c, e))
        .map(|c| c.to_string())
        .collect()
}

/// Requirements of a product beyond its level, as configured.
pub fn product_requirements(
    settings: &Settings,
    customer_type: CustomerType,
    product: Product,
    mode: Mode,
) -> Vec<String> {
    let p = settings.product(product);
    let mut codes: Vec<String> = requirements_for(customer_type, p.level, mode)
        .iter()
        .map(|s| s.to_string())
        .collect();
    for r in &p.requirements {
        if !codes.contains(r) {
            codes.push(r.clone());
        }
    }
    codes
}

/// The human message for a missing requirement, used in 403 reasons.
pub fn missing_message(code: &str) -> String {
    match requirement(code) {
        Some(r) => format!("missing: {}", r.description),
        None => format!("missing: {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{Business, Verification};
    use CustomerStatus::*;

    fn business(owners: Vec<BeneficialOwner>) -> Customer {
        Customer {
            id: "cus_b".into(),
            object: "customer".into(),
            customer_type: CustomerType::Business,
            external_id: None,
            status: NotStarted,
            verification: Verification::default(),
            individual: None,
            business: Some(Business {
                beneficial_owners: owners,
                ..Default::default()
            }),
            addresses: vec![],
            identifiers: vec![],
            attestation: None,
            metadata: Default::default(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn owner(id: &str, percent: Option<f64>, roles: &[OwnerRole]) -> BeneficialOwner {
        BeneficialOwner {
            customer_id: id.into(),
            ownership_percent: percent,
            roles: roles.to_vec(),
        }
    }

    fn evidence(statuses: &[(&str, CustomerStatus)], threshold: Option<u32>) -> Evidence {
        Evidence {
            owner_statuses: statuses.iter().map(|(i, s)| (i.to_string(), *s)).collect(),
            owner_threshold_percent: threshold,
            ..Default::default()
        }
    }

    fn met(c: &Customer, e: &Evidence) -> bool {
        is_met("beneficial_owner", c, e)
    }

    #[test]
    fn owners_at_the_threshold_must_be_verified() {
        use OwnerRole::Owner;
        let c = business(vec![
            owner("cus_v", Some(60.0), &[Owner]),
            owner("cus_u", Some(30.0), &[Owner]),
        ]);
        assert!(!met(&c, &evidence(&[("cus_v", Active)], None)));
        assert!(met(
            &c,
            &evidence(&[("cus_v", Active), ("cus_u", Verified)], None)
        ));
        // Exactly at the threshold counts; below it does not.
        let c = business(vec![
            owner("cus_v", Some(60.0), &[Owner]),
            owner("cus_u", Some(25.0), &[Owner]),
        ]);
        assert!(!met(&c, &evidence(&[("cus_v", Active)], None)));
        let c = business(vec![
            owner("cus_v", Some(60.0), &[Owner]),
            owner("cus_u", Some(10.0), &[Owner]),
        ]);
        assert!(met(&c, &evidence(&[("cus_v", Active)], None)));
        assert!(!met(&c, &evidence(&[("cus_v", Active)], Some(10))));
    }

    #[test]
    fn controllers_must_be_verified_whatever_their_share() {
        let c = business(vec![
            owner("cus_v", Some(100.0), &[OwnerRole::Owner]),
            owner("cus_c", None, &[OwnerRole::Controller]),
        ]);
        assert!(!met(&c, &evidence(&[("cus_v", Active)], None)));
        let s = owner_standings(&c, &evidence(&[("cus_v", Active)], None));
        assert!(s[1].required && !s[1].verified && s[1].status.is_none());
        assert!(met(
            &c,
            &evidence(&[("cus_v", Active), ("cus_c", UpdateRequested)], None)
        ));
    }

    #[test]
    fn with_nobody_required_one_verified_owner_is_enough() {
        let c = business(vec![
            BeneficialOwner::bare("cus_a"),
            owner("cus_b", Some(5.0), &[OwnerRole::Signatory]),
        ]);
        assert!(!met(&c, &evidence(&[], None)));
        assert!(!met(
            &c,
            &evidence(&[("cus_a", Deactivated), ("cus_b", Pending)], None)
        ));
        assert!(met(&c, &evidence(&[("cus_b", Active)], None)));
        assert!(!met(&business(vec![]), &evidence(&[], None)));
    }

    #[test]
    fn only_statuses_holding_an_approval_count() {
        let counted: Vec<_> = CustomerStatus::ALL
            .into_iter()
            .filter(|s| owner_counts(*s))
            .collect();
        assert_eq!(counted, vec![Verified, Active, UpdateRequested]);
    }

    #[test]
    fn the_threshold_setting_is_bounded() {
        let mut s = Settings::defaults(false);
        assert_eq!(s.beneficial_owner_threshold_percent, 25);
        for bad in [0, 101] {
            s.beneficial_owner_threshold_percent = bad;
            assert_eq!(
                s.validate().unwrap_err().0,
                "beneficial_owner_threshold_percent"
            );
        }
        s.beneficial_owner_threshold_percent = 100;
        assert!(s.validate().is_ok());
    }
}
