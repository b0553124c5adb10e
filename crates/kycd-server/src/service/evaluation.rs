//! Runs the automated checks for a customer under review and decides: gathers
//! the evidence the pure checks need (documents, owners, duplicate signals
//! through blind indexes, screening) and calls `kycd_core::lifecycle::decide`.

use super::OperationContext;
use crate::service::ServiceResult;
use crate::state::AppState;
use kycd_core::checks::{self, CheckResult, DuplicateKind, ScreeningOutcome};
use kycd_core::customer::{Customer, CustomerType, Mode, ScreeningHit};
use kycd_core::lifecycle::{Change, Decision, apply_decision, decide};
use kycd_core::policy::{self, Evidence};
use kycd_core::status::CustomerStatus;
use kycd_store::{Conn, customers as db, documents};

/// Documents on file (not rejected) and the status of each beneficial owner.
pub async fn evidence(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<(Evidence, Vec<String>)> {
    let docs = documents::evidence(conn, &cx.scope, &c.id).await?;
    let document_types = docs
        .iter()
        .filter(|(_, s)| s != "rejected")
        .map(|(t, _)| t.clone())
        .collect();
    let in_review = docs
        .iter()
        .filter(|(_, s)| s == "pending")
        .map(|(t, _)| t.clone())
        .collect();
    let owner_statuses = owner_statuses(conn, cx, c).await?;
    Ok((
        Evidence {
            document_types,
            owner_statuses,
            owner_threshold_percent: Some(cx.settings.beneficial_owner_threshold_percent),
        },
        in_review,
    ))
}

/// The status of each of a business's owners that is an individual customer
/// of the scope (an erased one has none).
pub async fn owner_statuses(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<Vec<(String, CustomerStatus)>> {
    let mut out = vec![];
    if let Some(b) = &c.business {
        for owner in &b.beneficial_owners {
            match db::get(conn, &*cx.vault, &cx.scope, &owner.customer_id).await {
                Ok(o) if o.customer.customer_type == CustomerType::Individual => {
                    out.push((owner.customer_id.clone(), o.customer.status));
                }
                Ok(_) | Err(kycd_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(out)
}

/// The requirement codes of the customer's level and mode that are not met.
pub async fn missing(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<Vec<String>> {
    let (ev, _) = evidence(conn, cx, c).await?;
    Ok(missing_given(c, &ev))
}

/// The unmet requirement codes given the evidence already gathered.
pub fn missing_given(c: &Customer, ev: &Evidence) -> Vec<String> {
    let codes =
        policy::requirements_for(c.customer_type, c.verification.level, c.verification.mode);
    let mut missing = policy::missing(&codes, c, ev);
    // Items a reviewer asked for stay missing until supplied.
    for item in &c.verification.requirements.missing {
        if !missing.contains(item) && !policy::is_met(item, c, ev) {
            missing.push(item.clone());
        }
    }
    missing
}

/// Screens the customer (and a business's owners) against the loaded lists.
pub async fn screen(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<ScreeningOutcome> {
    let Some(screener) = state.screener() else {
        return Ok(ScreeningOutcome::NotScreened);
    };
    let mut subjects: Vec<Customer> = vec![c.clone()];
    if let Some(b) = &c.business {
        for owner in &b.beneficial_owners {
            if let Ok(o) = db::get(conn, &*cx.vault, &cx.scope, &owner.customer_id).await {
                subjects.push(o.customer);
            }
        }
    }
    let dismissed = kycd_store::screening::dismissed(conn, &cx.scope, &c.id).await?;
    let mut hits = vec![];
    for s in &subjects {
        for h in crate::screening::screen_customer(&screener, s, cx.settings.screening_threshold) {
            if !dismissed.contains(&(h.list.clone(), h.entry_id.clone())) {
                hits.push(ScreeningHit {
                    subject: s.id.clone(),
                    ..h
                });
            }
        }
    }
    Ok(if hits.is_empty() {
        ScreeningOutcome::Clear
    } else {
        ScreeningOutcome::PossibleMatch(hits)
    })
}

/// The blind-index kind of document photos' perceptual hashes.
pub const IMAGE_INDEX: &str = "image:dhash";

/// Duplicate signals: blind indexes of this customer shared with another.
pub async fn duplicates(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<Vec<(DuplicateKind, String)>> {
    let found = db::duplicates_of(conn, &cx.scope, &c.id).await?;
    Ok(found
        .into_iter()
        .map(|(kind, other)| {
            let k = if kind.starts_with("identifier:") {
                DuplicateKind::Identifier
            } else if kind == IMAGE_INDEX {
                DuplicateKind::DocumentImage
            } else if kind.starts_with("document:") {
                DuplicateKind::DocumentNumber
            } else if kind == "contact:email" {
                DuplicateKind::Email
            } else {
                DuplicateKind::Phone
            };
            (k, other)
        })
        .collect())
}

/// Evaluates a customer under review and applies the decision to `ch`.
/// Hosted mode with items missing stays `pending` for the end user (the link
/// collects them); otherwise the checks run and decide.
pub async fn evaluate(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    ch: &mut Change,
) -> ServiceResult<()> {
    let c = ch.customer.clone();
    let (ev, in_review) = evidence(conn, cx, &c).await?;
    let missing = missing_given(&c, &ev);
    if !missing.is_empty()
        && c.verification.mode == Mode::Hosted
        && c.status != CustomerStatus::NeedsInformation
    {
        ch.customer.verification.requirements.missing = missing;
        return Ok(());
    }
    let dups = duplicates(conn, cx, &c).await?;
    let screening = screen(state, conn, cx, &c).await?;
    let results: Vec<CheckResult> = vec![
        checks::format(&c),
        checks::eligibility(&c, &cx.settings, cx.now),
        checks::duplicates(&dups, &cx.settings),
        checks::screening(&screening, &cx.settings),
        // Documents wait for a reviewer; in sandbox an organization that
        // auto-approves hosted verifications also lets them through, so the
        // whole hosted flow can be tried end to end without a person.
        if c.verification.mode == Mode::Reliance || (!cx.live() && cx.settings.auto_approve_hosted)
        {
            CheckResult::Pass
        } else {
            checks::documents(&in_review)
        },
    ];
    let mut decision = decide(&missing, &results);
    if let Decision::Approve { notes } = &decision
        && c.verification.mode == Mode::Hosted
        && !cx.settings.auto_approve_hosted
    {
        // The checks passed; a hosted verification is completed by the end
        // user's hosted flow or a reviewer (or the sandbox test helpers).
        let mut issues = vec![kycd_core::customer::RequirementIssue {
            code: "awaiting_review".into(),
            message:
                "the automated checks passed; waiting for the hosted verification or a reviewer"
                    .into(),
            param: None,
        }];
        issues.extend(notes.iter().cloned());
        decision = Decision::Review(issues);
    }
    if let Decision::NeedsInformation(_) = &decision
        && c.status == CustomerStatus::NeedsInformation
    {
        ch.customer.verification.requirements.missing = missing;
        return Ok(());
    }
    apply_decision(ch, decision, &cx.settings)?;
    Ok(())
}

/// kycd's own checks on a customer an identity provider approved: the
/// provider verified the person and the documents; kycd still screens the
/// lists and looks for duplicates. `Approve` when they pass.
pub async fn provider_checks(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<Decision> {
    let dups = duplicates(conn, cx, c).await?;
    let screening = screen(state, conn, cx, c).await?;
    let results = vec![
        checks::duplicates(&dups, &cx.settings),
        checks::screening(&screening, &cx.settings),
    ];
    Ok(decide(&[], &results))
}
