//! The verification lifecycle as pure operations: each takes the customer and
//! returns the change to commit (new record, status-history rows, events), or
//! the reason it is refused. The server commits a change in one transaction.

use crate::checks::CheckResult;
use crate::customer::{Customer, Level, Mode, RequirementIssue, ScreeningHit};
use crate::events::{self, NewEvent};
use crate::policy::{Activation, Settings};
use crate::reasons::RejectionReason;
use crate::status::{CustomerStatus, InvalidTransition, can_transition};
use crate::time::{Timestamp, format};
use serde_json::{Value, json};

use CustomerStatus::*;

/// One row of a customer's status history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub from: CustomerStatus,
    pub to: CustomerStatus,
    pub reason: String,
    pub actor: String,
    pub at: Timestamp,
}

/// A state change to commit atomically.
#[derive(Debug, Clone)]
pub struct Change {
    pub customer: Customer,
    pub history: Vec<StatusChange>,
    pub events: Vec<NewEvent>,
    pub actor: String,
    pub now: Timestamp,
}

/// Why an operation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    #[error("{0}")]
    Refused(String),
}

impl Change {
    pub fn new(customer: Customer, actor: impl Into<String>, now: Timestamp) -> Self {
        Change {
            customer,
            history: vec![],
            events: vec![],
            actor: actor.into(),
            now,
        }
    }

    pub fn status(&self) -> CustomerStatus {
        self.customer.status
    }

    fn base_data(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("customer_id".into(), json!(self.customer.id));
        m.insert("external_id".into(), json!(self.customer.external_id));
        m.insert("status".into(), json!(self.customer.status));
        m
    }

    /// Adds an event about this customer with the standard fields plus `extra`.
    pub fn event(&mut self, event_type: &'static str, extra: Value) {
        let mut data = self.base_data();
        if let Value::Object(e) = extra {
            data.extend(e);
        }
        self.events.push(NewEvent {
            event_type,
            customer_id: Some(self.customer.id.clone()),
            data: Value::Object(data),
        });
    }

    /// Moves to `to` through the transition table, writing history and `customer.status_changed`.
    pub fn move_to(&mut self, to: CustomerStatus, reason: &str) -> Result<(), InvalidTransition> {
        let from = self.customer.status;
        if !can_transition(from, to) {
            return Err(InvalidTransition { from, to });
        }
        self.customer.status = to;
        self.customer.updated_at = self.now;
        self.history.push(StatusChange {
            from,
            to,
            reason: reason.into(),
            actor: self.actor.clone(),
            at: self.now,
        });
        self.event(
            events::CUSTOMER_STATUS_CHANGED,
            json!({"previous_status": from, "reason": reason}),
        );
        Ok(())
    }
}

/// What the automated checks and the requirements decide.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Approve {
        notes: Vec<RequirementIssue>,
    },
    Reject(RejectionReason),
    NeedsInformation(Vec<String>),
    Hold(Vec<ScreeningHit>),
    /// Waits for a reviewer (stays pending / update_requested).
    Review(Vec<RequirementIssue>),
}

/// Combines the missing requirements and check results into one decision:
/// a failure rejects, a possible match holds, missing items ask for
/// information, a review signal waits for a person, else approve.
pub fn decide(missing: &[String], checks: &[CheckResult]) -> Decision {
    let mut notes = vec![];
    let mut reviews = vec![];
    let mut hits = vec![];
    let mut fail: Option<RejectionReason> = None;
    for c in checks {
        match c {
            CheckResult::Pass => {}
            CheckResult::Note { code, message } => notes.push(RequirementIssue {
                code: code.clone(),
                message: message.clone(),
                param: None,
            }),
            CheckResult::Review { code, message } => reviews.push(RequirementIssue {
                code: code.clone(),
                message: message.clone(),
                param: None,
            }),
            CheckResult::Hold(h) => hits.extend(h.iter().cloned()),
            CheckResult::Fail(r) => {
                // A final reason wins over a resubmittable one.
                if fail.is_none_or(|f| f.resubmittable() && !r.resubmittable()) {
                    fail = Some(*r);
                }
            }
        }
    }
    if let Some(r) = fail {
        return Decision::Reject(r);
    }
    if !hits.is_empty() {
        return Decision::Hold(hits);
    }
    if !missing.is_empty() {
        return Decision::NeedsInformation(missing.to_vec());
    }
    if !reviews.is_empty() {
        reviews.extend(notes);
        return Decision::Review(reviews);
    }
    Decision::Approve { notes }
}

/// Starts (or restarts) verification. Hosted or reliance, the customer moves
/// to `pending` (`update_requested` when it was `active`); from `pending` or
/// `needs_information` only the link is renewed (the caller issues it).
pub fn start_verification(ch: &mut Change, level: Level, mode: Mode) -> Result<(), LifecycleError> {
    let v = &ch.customer.verification;
    match ch.status() {
        Rejected if v.resubmittable == Some(false) => {
            let reason = v.rejection_reason.map(|r| r.as_str()).unwrap_or("final");
            return Err(LifecycleError::Refused(format!(
                "the rejection ({reason}) is final: a new submission is not accepted"
            )));
        }
        NotStarted | Rejected | Expired => {
            reset_for_new_submission(ch, level, mode);
            ch.move_to(Pending, "verification_started")?;
        }
        Active => {
            reset_for_new_submission(ch, level, mode);
            ch.move_to(UpdateRequested, "reverification_started")?;
        }
        // A new link for the verification under way (nothing moves).
        Pending | NeedsInformation | UpdateRequested => {
            ch.customer.verification.level = level;
            ch.customer.verification.mode = mode;
        }
        other => {
            return Err(InvalidTransition {
                from: other,
                to: Pending,
            }
            .into());
        }
    }
    let (lvl, md) = (level.as_str(), mode.as_str());
    ch.event(
        events::VERIFICATION_STARTED,
        json!({"level": lvl, "mode": md}),
    );
    Ok(())
}

fn reset_for_new_submission(ch: &mut Change, level: Level, mode: Mode) {
    let v = &mut ch.customer.verification;
    v.level = level;
    v.mode = mode;
    v.rejection_reason = None;
    v.resubmittable = None;
    v.requirements.issues.clear();
    v.screening_matches.clear();
    v.access_kept = false;
}

/// Applies a decision to a customer under review.
pub fn apply_decision(
    ch: &mut Change,
    decision: Decision,
    settings: &Settings,
) -> Result<(), LifecycleError> {
    if !matches!(
        ch.status(),
        Pending | UpdateRequested | OnHold | NeedsInformation
    ) {
        return Err(LifecycleError::Refused(format!(
            "a customer in status {} is not under review",
            ch.status()
        )));
    }
    match decision {
        Decision::Approve { notes } => {
            let to = match settings.activation {
                Activation::Automatic => Active,
                Activation::Manual => Verified,
            };
            ch.move_to(to, "verification_approved")?;
            let now = ch.now;
            let v = &mut ch.customer.verification;
            v.approved_at = Some(now);
            v.expires_at =
                Some(now + chrono::Duration::days(settings.verification_validity_days as i64));
            v.requirements.missing.clear();
            v.requirements.issues = notes;
            v.rejection_reason = None;
            v.resubmittable = None;
            v.url = None;
            v.url_expires_at = None;
            v.screening_matches.clear();
            let (approved, expires) = (format(&now), v.expires_at.map(|e| format(&e)));
            ch.event(
                events::VERIFICATION_APPROVED,
                json!({"approved_at": approved, "expires_at": expires}),
            );
        }
        Decision::Reject(reason) => {
            ch.move_to(Rejected, reason.as_str())?;
            let v = &mut ch.customer.verification;
            v.rejection_reason = Some(reason);
            v.resubmittable = Some(reason.resubmittable());
            v.url = None;
            v.url_expires_at = None;
            let rejected_at = format(&ch.now);
            ch.event(
                events::VERIFICATION_REJECTED,
                json!({
                    "rejected_at": rejected_at,
                    "rejection_reason": reason,
                    "resubmittable": reason.resubmittable(),
                    "message": reason.messages(),
                }),
            );
        }
        Decision::NeedsInformation(missing) => {
            if ch.status() != NeedsInformation {
                ch.move_to(NeedsInformation, "information_requested")?;
            }
            ch.customer.verification.requirements.missing = missing.clone();
            ch.event(
                events::VERIFICATION_NEEDS_INFORMATION,
                json!({"missing": missing}),
            );
        }
        Decision::Hold(hits) => hold_for_screening(ch, hits)?,
        Decision::Review(issues) => {
            if matches!(ch.status(), OnHold | NeedsInformation) {
                ch.move_to(Pending, "in_review")?;
            }
            ch.customer.verification.requirements.missing.clear();
            ch.customer.verification.requirements.issues = issues;
        }
    }
    Ok(())
}

/// Whether the platform may PATCH this customer (API.md's status table):
/// the statuses that allow it, and a rejection that may be resubmitted, so
/// the data can be corrected before a new start (a final rejection stays
/// locked and retained).
pub fn may_patch(c: &Customer) -> bool {
    c.status.patch_allowed() || (c.status == Rejected && c.verification.resubmittable == Some(true))
}

/// `verified` → `active`.
pub fn activate(ch: &mut Change) -> Result<(), LifecycleError> {
    if ch.status() != Verified {
        return Err(InvalidTransition {
            from: ch.status(),
            to: Active,
        }
        .into());
    }
    ch.move_to(Active, "activated")?;
    Ok(())
}

/// → `deactivated`, with the operator's or platform's reason.
pub fn deactivate(ch: &mut Change, reason: &str) -> Result<(), LifecycleError> {
    ch.move_to(Deactivated, reason)?;
    Ok(())
}

/// `deactivated` → `active`, or → `expired` when the approval lapsed meanwhile.
pub fn reactivate(ch: &mut Change) -> Result<(), LifecycleError> {
    if ch.status() != Deactivated {
        return Err(InvalidTransition {
            from: ch.status(),
            to: Active,
        }
        .into());
    }
    let still_valid = ch
        .customer
        .verification
        .expires_at
        .is_some_and(|e| e > ch.now);
    if !still_valid {
        ch.move_to(Expired, "reactivated_after_expiry")?;
        ch.event(
            events::VERIFICATION_EXPIRED,
            json!({"expired_at": ch.customer.verification.expires_at.map(|e| format(&e))}),
        );
        return Ok(());
    }
    ch.move_to(Active, "reactivated")?;
    Ok(())
}

/// An admin overturns a rejection (the back office; a final one needs a
/// second admin): `rejected` → `pending`, waiting for a reviewer's decision.
/// The rejection's reason is cleared; the screening matches stay on the case.
pub fn overturn_rejection(ch: &mut Change) -> Result<(), LifecycleError> {
    if ch.status() != Rejected {
        return Err(InvalidTransition {
            from: ch.status(),
            to: Pending,
        }
        .into());
    }
    ch.move_to(Pending, "rejection_overturned")?;
    let v = &mut ch.customer.verification;
    v.rejection_reason = None;
    v.resubmittable = None;
    v.requirements.missing.clear();
    v.requirements.issues = vec![RequirementIssue {
        code: "awaiting_review".into(),
        message: "a rejection was overturned; waiting for a reviewer's decision".into(),
        param: None,
    }];
    Ok(())
}

/// The approval aged past its validity.
pub fn expire(ch: &mut Change) -> Result<(), LifecycleError> {
    ch.move_to(Expired, "verification_expired")?;
    ch.event(
        events::VERIFICATION_EXPIRED,
        json!({"expired_at": ch.customer.verification.expires_at.map(|e| format(&e))}),
    );
    Ok(())
}

/// The expiry notice (no status change).
pub fn notify_expiring(ch: &mut Change) {
    let at = ch.customer.verification.expires_at.map(|e| format(&e));
    ch.event(events::VERIFICATION_EXPIRING, json!({"expires_at": at}));
}

/// Whether a business in this status follows its owners: one holding an
/// approval (`active`, `verified`) or a verification under way (`pending`,
/// `update_requested`, `needs_information`). `on_hold` waits for its reviewer
/// (releasing the hold runs the checks again, owners included); the others
/// have no approval to lose.
pub fn follows_owners(status: CustomerStatus) -> bool {
    matches!(
        status,
        Active | Verified | Pending | UpdateRequested | NeedsInformation
    )
}

/// A business's beneficial owners no longer meet the policy (an owner left
/// `active` or was erased): it moves to `needs_information` with
/// `beneficial_owner` missing (kept with what was already missing), and re-submits
/// itself when the owners meet it again (a PATCH, or the owner approved again).
pub fn owners_lost(ch: &mut Change) -> Result<(), LifecycleError> {
    if !follows_owners(ch.status()) {
        return Err(LifecycleError::Refused(format!(
            "a customer in status {} does not follow its owners",
            ch.status()
        )));
    }
    let code = "beneficial_owner".to_string();
    let mut missing = ch.customer.verification.requirements.missing.clone();
    if ch.status() == NeedsInformation && missing.contains(&code) {
        return Ok(());
    }
    if !missing.contains(&code) {
        missing.push(code);
    }
    if ch.status() != NeedsInformation {
        ch.move_to(NeedsInformation, "beneficial_owner_lost")?;
    }
    ch.customer.verification.access_kept = false;
    ch.customer.verification.requirements.missing = missing.clone();
    ch.event(
        events::VERIFICATION_NEEDS_INFORMATION,
        json!({"missing": missing}),
    );
    Ok(())
}

/// A reviewer asks for information: the items must be requirement codes.
pub fn request_information(ch: &mut Change, items: Vec<String>) -> Result<(), LifecycleError> {
    if items.is_empty() {
        return Err(LifecycleError::Refused(
            "name at least one missing item".into(),
        ));
    }
    if let Some(bad) = items
        .iter()
        .find(|i| crate::policy::requirement(i).is_none())
    {
        return Err(LifecycleError::Refused(format!(
            "unknown requirement code: {bad}"
        )));
    }
    apply_decision(
        ch,
        Decision::NeedsInformation(items),
        &Settings::defaults(false),
    )
}

/// A possible match put on hold: the reviewer confirms it (→ rejected, final)
/// or releases the hold (→ pending, checks run again without the dismissed hits).
pub fn confirm_match(ch: &mut Change) -> Result<(), LifecycleError> {
    if ch.status() != OnHold {
        return Err(InvalidTransition {
            from: ch.status(),
            to: Rejected,
        }
        .into());
    }
    let pep_only = ch
        .customer
        .verification
        .screening_matches
        .iter()
        .all(|h| h.pep);
    let reason = if pep_only && !ch.customer.verification.screening_matches.is_empty() {
        RejectionReason::PepMatch
    } else {
        RejectionReason::SanctionsMatch
    };
    apply_decision(ch, Decision::Reject(reason), &Settings::defaults(false))
}

/// Releases a hold: back to `pending` so the checks run again.
pub fn release_hold(ch: &mut Change) -> Result<(), LifecycleError> {
    if ch.status() != OnHold {
        return Err(InvalidTransition {
            from: ch.status(),
            to: Pending,
        }
        .into());
    }
    ch.customer.verification.screening_matches.clear();
    ch.move_to(Pending, "hold_released")?;
    Ok(())
}

/// Puts a customer on hold outside a verification (re-screening after a list refresh).
pub fn hold_for_screening(ch: &mut Change, hits: Vec<ScreeningHit>) -> Result<(), LifecycleError> {
    ch.move_to(OnHold, "possible_screening_match")?;
    ch.customer.verification.screening_matches = hits.clone();
    let lists: Vec<&str> = hits.iter().map(|h| h.list.as_str()).collect();
    ch.event(
        events::VERIFICATION_ON_HOLD,
        json!({"reason": "possible_screening_match", "lists": lists}),
    );
    if !hits.is_empty() {
        // The list entries that matched (public list data); the customer's own
        // name is not repeated in the webhook.
        let matches: Vec<Value> = hits
            .iter()
            .map(|h| {
                json!({
                    "list": h.list,
                    "entry_id": h.entry_id,
                    "name": h.name,
                    "score": h.score,
                    "programs": h.programs,
                    "pep": h.pep,
                    "subject": h.subject,
                })
            })
            .collect();
        ch.event(events::SCREENING_MATCH, json!({"matches": matches}));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
