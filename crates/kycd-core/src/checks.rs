//! Automated checks: each a pure function over the customer and what the
//! edges found, returning pass, fail with a reason code, or review.

use crate::customer::{Customer, ScreeningHit};
use crate::policy::{Settings, SignalPolicy};
use crate::reasons::RejectionReason;
use crate::time::Timestamp;
use crate::validate;

#[derive(Debug, Clone, PartialEq)]
pub enum CheckResult {
    Pass,
    /// Passed, with a note kept in `requirements.issues`.
    Note {
        code: String,
        message: String,
    },
    Fail(RejectionReason),
    /// A person must look (stays `pending`).
    Review {
        code: String,
        message: String,
    },
    /// A possible sanctions or PEP match (→ `on_hold`).
    Hold(Vec<ScreeningHit>),
}

fn signal(
    policy: SignalPolicy,
    code: &str,
    message: String,
    reason: RejectionReason,
) -> CheckResult {
    match policy {
        SignalPolicy::Pass => CheckResult::Note {
            code: code.into(),
            message,
        },
        SignalPolicy::Review => CheckResult::Review {
            code: code.into(),
            message,
        },
        SignalPolicy::Reject => CheckResult::Fail(reason),
    }
}

/// Format: the identifiers match the rules of their country of residence.
pub fn format(c: &Customer) -> CheckResult {
    match c.residence_country() {
        Some("BR") if c.has_identifier("ssn") && !c.has_identifier("cpf") => CheckResult::Review {
            code: "identifier_country_mismatch".into(),
            message: "a resident of Brazil gave a US SSN and no CPF".into(),
        },
        _ => CheckResult::Pass,
    }
}

/// Eligibility: minimum age and allowed countries.
pub fn eligibility(c: &Customer, s: &Settings, now: Timestamp) -> CheckResult {
    if let Some(dob) = c.individual.as_ref().and_then(|i| i.date_of_birth)
        && validate::age_on(dob, now.date_naive()) < s.min_age
    {
        return CheckResult::Fail(RejectionReason::Underage);
    }
    if let Some(allowed) = &s.allowed_countries {
        let mut countries: Vec<&str> = c
            .addresses
            .iter()
            .filter(|a| a.primary)
            .map(|a| a.country.as_str())
            .collect();
        if let Some(b) = &c.business
            && let Some(country) = &b.country
        {
            countries.push(country);
        }
        if countries.iter().any(|k| !allowed.iter().any(|a| a == k)) {
            return CheckResult::Fail(RejectionReason::UnsupportedCountry);
        }
    }
    CheckResult::Pass
}

/// What a duplicate signal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateKind {
    Identifier,
    DocumentNumber,
    Email,
    Phone,
    /// The same document photo (by perceptual hash) on another customer.
    DocumentImage,
}

/// Duplication: the same identifier, document number, email or phone on
/// another customer of the same organization and environment (found by the
/// store through blind indexes). Identifiers and document numbers follow the
/// `duplicate_identifier` setting; shared emails and phones are only noted.
pub fn duplicates(found: &[(DuplicateKind, String)], s: &Settings) -> CheckResult {
    let strong: Vec<&String> = found
        .iter()
        .filter(|(k, _)| matches!(k, DuplicateKind::Identifier | DuplicateKind::DocumentNumber))
        .map(|(_, id)| id)
        .collect();
    if !strong.is_empty() {
        let message = format!("the same identifier is used by {}", join_ids(&strong));
        return signal(
            s.duplicate_identifier,
            "duplicate_identifier",
            message,
            RejectionReason::DuplicateCustomer,
        );
    }
    // A document photo already used by another customer is a fraud signal a
    // person must look at, whatever the identifier policy.
    let images: Vec<&String> = found
        .iter()
        .filter(|(k, _)| *k == DuplicateKind::DocumentImage)
        .map(|(_, id)| id)
        .collect();
    if !images.is_empty() {
        return CheckResult::Review {
            code: "duplicate_document_image".into(),
            message: format!(
                "the same document photo was uploaded for {}",
                join_ids(&images)
            ),
        };
    }
    let weak: Vec<&String> = found.iter().map(|(_, id)| id).collect();
    if weak.is_empty() {
        CheckResult::Pass
    } else {
        CheckResult::Note {
            code: "shared_contact".into(),
            message: format!("the same email or phone is used by {}", join_ids(&weak)),
        }
    }
}

fn join_ids(ids: &[&String]) -> String {
    let mut v: Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
    v.sort();
    v.dedup();
    v.join(", ")
}

/// The result of screening the customer (and, for a business, its owners).
#[derive(Debug, Clone, PartialEq)]
pub enum ScreeningOutcome {
    /// No list is loaded: nothing was screened.
    NotScreened,
    Clear,
    PossibleMatch(Vec<ScreeningHit>),
}

/// Screening: a possible match holds the customer for a reviewer.
pub fn screening(outcome: &ScreeningOutcome, s: &Settings) -> CheckResult {
    match outcome {
        ScreeningOutcome::Clear => CheckResult::Pass,
        ScreeningOutcome::PossibleMatch(hits) => CheckResult::Hold(hits.clone()),
        ScreeningOutcome::NotScreened => signal(
            s.unscreened,
            "not_screened",
            "no sanctions or PEP list is loaded: the customer was not screened".into(),
            RejectionReason::SanctionsMatch,
        ),
    }
}

/// Documents: uploaded documents a reviewer has not accepted yet keep the
/// verification in review (kycd does not judge pictures itself).
pub fn documents(pending_review: &[String]) -> CheckResult {
    if pending_review.is_empty() {
        CheckResult::Pass
    } else {
        CheckResult::Review {
            code: "documents_in_review".into(),
            message: format!(
                "documents waiting for a reviewer: {}",
                pending_review.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_document_photo_goes_to_review_even_when_identifiers_pass() {
        let s = Settings::defaults(false);
        let found = vec![(DuplicateKind::DocumentImage, "cus_other".to_string())];
        match duplicates(&found, &s) {
            CheckResult::Review { code, .. } => assert_eq!(code, "duplicate_document_image"),
            other => panic!("{other:?}"),
        }
    }
    use crate::customer::*;
    use crate::status::CustomerStatus;

    fn customer(dob: &str, country: &str) -> Customer {
        let now = crate::time::parse("2026-01-01T00:00:00Z").unwrap();
        Customer {
            id: "cus_1".into(),
            object: "customer".into(),
            customer_type: CustomerType::Individual,
            external_id: None,
            status: CustomerStatus::Pending,
            verification: Verification::default(),
            individual: Some(Individual {
                date_of_birth: Some(dob.parse().unwrap()),
                ..Default::default()
            }),
            business: None,
            addresses: vec![Address {
                line1: "x".into(),
                line2: None,
                city: "y".into(),
                region: None,
                postal_code: None,
                country: country.into(),
                primary: true,
            }],
            identifiers: vec![],
            attestation: None,
            metadata: Default::default(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn eligibility_age_and_country() {
        let now = crate::time::parse("2026-01-01T00:00:00Z").unwrap();
        let mut s = Settings::defaults(false);
        assert_eq!(
            eligibility(&customer("2000-01-01", "BR"), &s, now),
            CheckResult::Pass
        );
        assert_eq!(
            eligibility(&customer("2008-01-02", "BR"), &s, now),
            CheckResult::Fail(RejectionReason::Underage)
        );
        assert_eq!(
            eligibility(&customer("2008-01-01", "BR"), &s, now),
            CheckResult::Pass
        );
        s.allowed_countries = Some(vec!["US".into()]);
        assert_eq!(
            eligibility(&customer("2000-01-01", "BR"), &s, now),
            CheckResult::Fail(RejectionReason::UnsupportedCountry)
        );
    }

    #[test]
    fn duplicates_follow_policy() {
        let mut s = Settings::defaults(true);
        let found = vec![(DuplicateKind::Identifier, "cus_2".to_string())];
        assert!(matches!(duplicates(&found, &s), CheckResult::Review { .. }));
        s.duplicate_identifier = SignalPolicy::Reject;
        assert_eq!(
            duplicates(&found, &s),
            CheckResult::Fail(RejectionReason::DuplicateCustomer)
        );
        let weak = vec![(DuplicateKind::Email, "cus_3".to_string())];
        assert!(matches!(duplicates(&weak, &s), CheckResult::Note { .. }));
        assert_eq!(duplicates(&[], &s), CheckResult::Pass);
    }

    #[test]
    fn unscreened_passes_in_sandbox_and_reviews_in_live() {
        assert!(matches!(
            screening(&ScreeningOutcome::NotScreened, &Settings::defaults(false)),
            CheckResult::Note { .. }
        ));
        assert!(matches!(
            screening(&ScreeningOutcome::NotScreened, &Settings::defaults(true)),
            CheckResult::Review { .. }
        ));
    }
}
