//! Identity providers as pure data: which provider carries a verification,
//! and the tables that turn a provider's verdict (Sumsub's review answer,
//! reject type and reject labels) into kycd's decision and reason codes.
//!
//! Sumsub's vocabulary, as documented at docs.sumsub.com:
//! - "Receive results via API" (docs/receive-and-interpret-results-via-api):
//!   `reviewResult.reviewAnswer` is `GREEN` (approved) or `RED` (rejected);
//!   with `RED`, `rejectLabels` lists the labels and `reviewRejectType` is
//!   `FINAL` (no new attempt) or `RETRY` (the applicant may resubmit).
//! - "User verification webhooks" (docs/user-verification-webhooks): the
//!   types `applicantPending`, `applicantOnHold`, `applicantReviewed`…, and
//!   `createdAtMs` as `yyyy-MM-dd HH:mm:ss.fff` in UTC.

use crate::reasons::RejectionReason;
use serde::{Deserialize, Serialize};

/// Who carries a hosted verification: kycd's own hosted flow or Sumsub's WebSDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// kycd's built-in hosted flow.
    Kycd,
    /// Sumsub (WebSDK link; results by webhook).
    Sumsub,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Kycd => "kycd",
            ProviderKind::Sumsub => "sumsub",
        }
    }

    /// The history/explanation actor of a decision this provider made.
    pub fn actor(self) -> String {
        format!("provider:{}", self.as_str())
    }
}

/// What a provider says about a verification, in kycd's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderVerdict {
    /// The applicant submitted; the provider is checking.
    Pending,
    /// The provider paused the review (its own compliance check).
    OnHold,
    /// Approved by the provider (kycd's own checks still run).
    Approved,
    /// Rejected: the kycd reason, whether a new attempt may succeed, and the
    /// provider's labels verbatim (kept in the history).
    Rejected {
        reason: RejectionReason,
        resubmittable: bool,
        labels: Vec<String>,
    },
}

/// Sumsub `rejectLabels` → kycd reason codes: the one table. Labels not in
/// it map to `data_mismatch` (the label itself is kept in the history).
/// Labels from docs.sumsub.com "Rejection labels" (docs/rejection-labels).
pub const SUMSUB_REJECT_LABELS: &[(&str, RejectionReason)] = &[
    ("FORGERY", RejectionReason::FraudSuspected),
    ("FRAUDULENT_PATTERNS", RejectionReason::FraudSuspected),
    ("FRAUDULENT_LIVENESS", RejectionReason::FraudSuspected),
    ("ADVERSE_MEDIA", RejectionReason::FraudSuspected),
    ("COMPROMISED_PERSONS", RejectionReason::FraudSuspected),
    ("CRIMINAL", RejectionReason::FraudSuspected),
    ("BLACKLIST", RejectionReason::FraudSuspected),
    ("SANCTIONS", RejectionReason::SanctionsMatch),
    ("PEP", RejectionReason::PepMatch),
    ("UNSATISFACTORY_PHOTOS", RejectionReason::DocumentUnreadable),
    ("BAD_PROOF_OF_IDENTITY", RejectionReason::DocumentUnreadable),
    ("SCREENSHOTS", RejectionReason::DocumentUnreadable),
    ("DOCUMENT_DAMAGED", RejectionReason::DocumentUnreadable),
    ("EXPIRATION_DATE", RejectionReason::DocumentExpired),
    ("SELFIE_MISMATCH", RejectionReason::LivenessFailed),
    ("BAD_FACE_MATCHING", RejectionReason::LivenessFailed),
    ("BAD_SELFIE", RejectionReason::LivenessFailed),
    ("AGE_REQUIREMENT_MISMATCH", RejectionReason::Underage),
    ("WRONG_USER_REGION", RejectionReason::UnsupportedCountry),
    ("DUPLICATE", RejectionReason::DuplicateCustomer),
];

/// The kycd reason of one Sumsub label (`data_mismatch` when unknown).
pub fn sumsub_label_reason(label: &str) -> RejectionReason {
    SUMSUB_REJECT_LABELS
        .iter()
        .find(|(l, _)| *l == label)
        .map(|(_, r)| *r)
        .unwrap_or(RejectionReason::DataMismatch)
}

/// How serious a reason is: the most serious of several labels names the rejection.
fn severity(r: RejectionReason) -> u8 {
    use RejectionReason::*;
    match r {
        SanctionsMatch => 9,
        FraudSuspected => 8,
        PepMatch => 7,
        DuplicateCustomer => 6,
        Underage => 5,
        UnsupportedCountry => 4,
        LivenessFailed => 3,
        DocumentExpired => 2,
        DocumentUnreadable => 1,
        DataMismatch => 0,
    }
}

/// The kycd reason of a set of labels: the most serious mapped one.
pub fn sumsub_labels_reason(labels: &[String]) -> RejectionReason {
    labels
        .iter()
        .map(|l| sumsub_label_reason(l))
        .max_by_key(|r| severity(*r))
        .unwrap_or(RejectionReason::DataMismatch)
}

/// A Sumsub webhook (or review status) in kycd's terms; `None` when the
/// type says nothing about the verification's outcome (e.g. `applicantCreated`).
/// `reviewRejectType` decides resubmission: `RETRY` may, `FINAL` may not
/// (absent: the reason's own rule).
pub fn sumsub_verdict(
    event_type: &str,
    review_answer: Option<&str>,
    reject_type: Option<&str>,
    labels: &[String],
) -> Option<ProviderVerdict> {
    match event_type {
        "applicantPending" => Some(ProviderVerdict::Pending),
        "applicantOnHold" => Some(ProviderVerdict::OnHold),
        "applicantReviewed" => match review_answer? {
            "GREEN" => Some(ProviderVerdict::Approved),
            "RED" => {
                let reason = sumsub_labels_reason(labels);
                let resubmittable = match reject_type {
                    Some("RETRY") => true,
                    Some("FINAL") => false,
                    _ => reason.resubmittable(),
                };
                Some(ProviderVerdict::Rejected {
                    reason,
                    resubmittable,
                    labels: labels.to_vec(),
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// Sumsub's `createdAtMs` (`2021-05-14 16:00:25.032`, UTC) as Unix
/// milliseconds; a number is taken as milliseconds already.
pub fn sumsub_created_at_ms(v: &serde_json::Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s = v.as_str()?;
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use RejectionReason::*;

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_label_table_maps_the_issue_s_labels() {
        for (label, reason) in [
            ("FORGERY", FraudSuspected),
            ("FRAUDULENT_PATTERNS", FraudSuspected),
            ("UNSATISFACTORY_PHOTOS", DocumentUnreadable),
            ("BAD_PROOF_OF_IDENTITY", DocumentUnreadable),
            ("SELFIE_MISMATCH", LivenessFailed),
            ("BAD_FACE_MATCHING", LivenessFailed),
            ("AGE_REQUIREMENT_MISMATCH", Underage),
            ("WRONG_USER_REGION", UnsupportedCountry),
            ("DUPLICATE", DuplicateCustomer),
            ("SANCTIONS", SanctionsMatch),
            ("PEP", PepMatch),
            ("ADVERSE_MEDIA", FraudSuspected),
            ("COMPROMISED_PERSONS", FraudSuspected),
            ("SOMETHING_NEW", DataMismatch),
        ] {
            assert_eq!(sumsub_label_reason(label), reason, "{label}");
        }
    }

    #[test]
    fn the_most_serious_label_names_the_rejection() {
        assert_eq!(
            sumsub_labels_reason(&labels(&["UNSATISFACTORY_PHOTOS", "FORGERY"])),
            FraudSuspected
        );
        assert_eq!(sumsub_labels_reason(&[]), DataMismatch);
    }

    #[test]
    fn review_answers_become_verdicts() {
        assert_eq!(
            sumsub_verdict("applicantReviewed", Some("GREEN"), None, &[]),
            Some(ProviderVerdict::Approved)
        );
        assert_eq!(
            sumsub_verdict(
                "applicantReviewed",
                Some("RED"),
                Some("RETRY"),
                &labels(&["SELFIE_MISMATCH"])
            ),
            Some(ProviderVerdict::Rejected {
                reason: LivenessFailed,
                resubmittable: true,
                labels: labels(&["SELFIE_MISMATCH"])
            })
        );
        let Some(ProviderVerdict::Rejected { resubmittable, .. }) = sumsub_verdict(
            "applicantReviewed",
            Some("RED"),
            Some("FINAL"),
            &labels(&["UNSATISFACTORY_PHOTOS"]),
        ) else {
            panic!("a rejection")
        };
        assert!(!resubmittable);
        assert_eq!(
            sumsub_verdict("applicantOnHold", None, None, &[]),
            Some(ProviderVerdict::OnHold)
        );
        assert_eq!(
            sumsub_verdict("applicantPending", None, None, &[]),
            Some(ProviderVerdict::Pending)
        );
        assert_eq!(sumsub_verdict("applicantCreated", None, None, &[]), None);
    }

    #[test]
    fn created_at_ms_parses_sumsub_s_format() {
        let v = serde_json::json!("2021-05-14 16:00:25.032");
        assert_eq!(sumsub_created_at_ms(&v), Some(1_621_008_025_032));
        assert_eq!(sumsub_created_at_ms(&serde_json::json!(5)), Some(5));
        assert_eq!(sumsub_created_at_ms(&serde_json::json!("nope")), None);
    }
}
