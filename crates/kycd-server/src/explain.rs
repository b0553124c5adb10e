//! Plain-words explanations of a customer's status for support teams.

use kycd_core::customer::Customer;
use kycd_core::policy;
use kycd_core::status::CustomerStatus::*;
use kycd_core::time::{Timestamp, format};

fn missing_list(c: &Customer) -> String {
    c.verification
        .requirements
        .missing
        .iter()
        .map(|m| {
            policy::requirement(m)
                .map(|r| r.description.to_string())
                .unwrap_or_else(|| m.clone())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why the customer is where it is.
pub fn summary(c: &Customer, now: Timestamp) -> String {
    let v = &c.verification;
    match c.status {
        NotStarted => "Verification has not started. The customer cannot use any product yet.".into(),
        Pending if !v.requirements.missing.is_empty() => format!(
            "Verification is in progress and waits for the end user to provide: {}.",
            missing_list(c)
        ),
        Pending if !v.requirements.issues.is_empty() => format!(
            "Verification is waiting for a reviewer: {}.",
            v.requirements.issues.iter().map(|i| i.message.clone()).collect::<Vec<_>>().join("; ")
        ),
        Pending => "Verification is in progress; the automated checks are running or a reviewer will decide.".into(),
        NeedsInformation => format!("Blocked until the customer provides: {}.", missing_list(c)),
        OnHold => {
            let n = v.screening_matches.len();
            if n > 0 {
                format!("On hold: {n} possible sanctions or PEP match(es) wait for a compliance reviewer.")
            } else {
                "On hold for additional checks by a compliance reviewer.".into()
            }
        }
        Verified => "Verification passed; the customer waits for activation (this organization activates manually).".into(),
        Active => match v.expires_at {
            Some(e) if e > now => format!("Verified and active. The verification is valid until {}.", format(&e)),
            _ => "Verified and active.".into(),
        },
        UpdateRequested => "The customer's verified data changed; the update is being re-verified.".into(),
        Rejected => {
            let reason = v.rejection_reason.map(|r| r.messages().en).unwrap_or("Verification failed.");
            if v.resubmittable == Some(true) {
                format!("Rejected: {reason} A new submission may succeed.")
            } else {
                format!("Rejected: {reason} The decision is final.")
            }
        }
        Expired => format!(
            "The verification expired{}. The customer cannot transact until it is verified again.",
            v.expires_at.map(|e| format!(" on {}", format(&e))).unwrap_or_default()
        ),
        Deactivated => "The customer was deactivated by the platform or an operator.".into(),
    }
}

/// What happens next, as steps.
pub fn next_steps(c: &Customer) -> Vec<String> {
    let steps: Vec<String> = match c.status {
        NotStarted => vec!["Start verification: POST /v1/customers/{id}/verification.".into()],
        Pending if !c.verification.requirements.missing.is_empty() => {
            vec!["Send the end user the verification link, or supply the missing items.".into()]
        }
        Pending | OnHold => vec!["Wait for the decision; a webhook announces it.".into()],
        UpdateRequested => vec![
            "Send the end user the verification link (a new one: POST /v1/customers/{id}/verification), or wait for the decision; a webhook announces it.".into(),
        ],
        NeedsInformation => vec![
            "Supply the missing items with PATCH /v1/customers/{id} or a document upload; the verification re-submits itself.".into(),
        ],
        Verified => vec!["Activate the customer: POST /v1/customers/{id}/activate.".into()],
        Active => vec![],
        Rejected if c.verification.resubmittable == Some(true) => {
            vec!["Correct the data with PATCH /v1/customers/{id}, then start a new verification: POST /v1/customers/{id}/verification.".into()]
        }
        Rejected => vec!["None: the rejection is final.".into()],
        Expired => vec!["Start a new verification: POST /v1/customers/{id}/verification.".into()],
        Deactivated => vec!["Reactivate if appropriate: POST /v1/customers/{id}/reactivate.".into()],
    };
    steps
        .into_iter()
        .map(|s| s.replace("{id}", &c.id))
        .collect()
}
