//! Lifecycle operations over HTTP-agnostic inputs: start verification,
//! re-submission on new data, activation, reviewer decisions, forced sandbox
//! outcomes and expiry. Each is one transaction through `commit`.

use super::{OperationContext, commit, evaluation};
use super::{Reason, Refusal};
use crate::idempotency::Success;
use crate::providers::{ExternalLink, Provider};
use crate::service::{ServiceError, ServiceResult};
use crate::state::AppState;
use kycd_core::customer::{Customer, Level, Mode};
use kycd_core::input::VerificationRequest;
use kycd_core::lifecycle::{self as core, Change, Decision, LifecycleError};
use kycd_core::policy;
use kycd_core::providers::{ProviderKind, ProviderVerdict};
use kycd_core::reasons::RejectionReason;
use kycd_core::status::CustomerStatus;
use kycd_store::KeyOwner;
use kycd_store::{Conn, Tx, customers as db, usage};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Issues a fresh single-use hosted link (token stored hashed, URL sealed).
async fn issue_link(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    ch: &mut Change,
) -> ServiceResult<()> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw);
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let expires = cx.now + chrono::Duration::minutes(cx.settings.link_ttl_minutes as i64);
    let c = &mut ch.customer;
    db::insert_link(conn, &cx.scope, &c.id, &hash, expires, cx.now).await?;
    let url = format!("{}/hosted/v/{token}", state.public_url);
    let key = state
        .vault
        .customer_key(conn, KeyOwner::scoped(&cx.scope, &c.id))
        .await?;
    let sealed =
        state
            .vault
            .seal_str(&key, &cx.scope.organization_id, &c.id, "hosted_url", &url)?;
    db::put_secret(conn, &cx.scope, &c.id, "hosted_url", &sealed).await?;
    c.verification.url = Some(url);
    c.verification.url_expires_at = Some(expires);
    Ok(())
}

/// Ensures a customer waiting on the end user has a live link.
pub(crate) async fn ensure_link(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    ch: &mut Change,
    fresh: bool,
) -> ServiceResult<()> {
    if ch.customer.verification.provider == Some(ProviderKind::Sumsub) {
        // The link is the provider's (issued when the verification started):
        // shown while the end user has something to do there.
        if matches!(
            ch.customer.status,
            CustomerStatus::Pending
                | CustomerStatus::NeedsInformation
                | CustomerStatus::UpdateRequested
        ) {
            if ch.customer.verification.url.is_none() {
                super::customers::with_link(state, conn, cx, &mut ch.customer).await?;
            }
        } else {
            ch.customer.verification.url = None;
            ch.customer.verification.url_expires_at = None;
        }
        return Ok(());
    }
    // The end user has something to do: the items still missing while
    // pending, and always in needs_information and update_requested (API.md:
    // a hosted link is returned), even when nothing specific was asked for.
    let status = ch.customer.status;
    let waiting = ch.customer.verification.mode == Mode::Hosted
        && match status {
            CustomerStatus::Pending => !ch.customer.verification.requirements.missing.is_empty(),
            CustomerStatus::NeedsInformation | CustomerStatus::UpdateRequested => true,
            _ => false,
        };
    // Entering a waiting state issues a fresh link, whatever the old one's age.
    let entered = ch.history.iter().any(|h| h.to == status);
    let live = ch
        .customer
        .verification
        .url_expires_at
        .is_some_and(|e| e > cx.now);
    if waiting && (fresh || !live || (entered && status != CustomerStatus::Pending)) {
        issue_link(state, conn, cx, ch).await?;
    } else if waiting && ch.customer.verification.url.is_none() {
        // The live link is sealed in the vault: show it again.
        super::customers::with_link(state, conn, cx, &mut ch.customer).await?;
    } else if !waiting {
        ch.customer.verification.url = None;
        ch.customer.verification.url_expires_at = None;
    }
    Ok(())
}

/// An active customer entering re-verification keeps or suspends its
/// capabilities as its organization's `update_access` says.
fn note_update_access(ch: &mut Change, cx: &OperationContext) {
    let entered = ch
        .history
        .iter()
        .any(|h| h.to == CustomerStatus::UpdateRequested);
    if entered && ch.customer.status == CustomerStatus::UpdateRequested {
        ch.customer.verification.access_kept =
            cx.settings.update_access == kycd_core::policy::UpdateAccess::Keep;
    }
}

/// One 403 reason per missing requirement.
pub fn missing_reasons(missing: &[String]) -> Vec<Reason> {
    missing
        .iter()
        .map(|m| Reason {
            code: m.clone(),
            message: policy::missing_message(m),
            param: None,
        })
        .collect()
}

/// What a start needs: the level and mode, the provider and what it
/// prepared outside the transaction (an external link).
pub struct Start<'a> {
    pub level: Level,
    pub mode: Mode,
    pub provider: &'a Provider,
    pub prepared: Option<ExternalLink>,
}

/// Starts verification with a provider inside the caller's transaction.
pub async fn start_with(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    customer: Customer,
    version: i64,
    start: Start<'_>,
) -> ServiceResult<Customer> {
    let Start {
        level,
        mode,
        provider,
        prepared,
    } = start;
    let mut ch = Change::new(customer, cx.actor.clone(), cx.now);
    core::start_verification(&mut ch, level, mode).map_err(refused)?;
    note_update_access(&mut ch, cx);
    if mode == Mode::Reliance {
        let (ev, _) = evaluation::evidence(tx, cx, &ch.customer).await?;
        let mut missing = evaluation::missing_given(&ch.customer, &ev);
        let liveness = ch.customer.attestation.as_ref().is_some_and(|a| a.liveness);
        if !ev.document_types.is_empty()
            && !liveness
            && !missing.iter().any(|m| m == "liveness_attestation")
        {
            missing.push("liveness_attestation".into());
        }
        if !missing.is_empty() {
            return Err(ServiceError::from(Refusal::requirements_not_met(
                format!(
                    "reliance verification needs {} more item(s): {}",
                    missing.len(),
                    missing.join(", ")
                ),
                missing_reasons(&missing),
            )));
        }
    }
    // Billed once per verification begun: a renewed link (a start while
    // pending or needing information) moves nothing and is not a new one. The
    // record is keyed by the customer's version, so a racing duplicate start
    // cannot count twice either.
    if !ch.history.is_empty() {
        usage::record(
            tx,
            &cx.scope,
            usage::VERIFICATIONS_STARTED,
            &format!("{}@{version}", ch.customer.id),
            cx.now,
        )
        .await?;
    }
    ch.customer.verification.requirements.missing.clear();
    evaluation::evaluate(state, tx, cx, &mut ch).await?;
    provider.attach(state, tx, cx, &mut ch, prepared).await?;
    commit::commit(tx, cx, &ch, version, "verification.start").await?;
    after_status_change(state, tx, cx, &ch).await?;
    Ok(ch.customer)
}

fn refused(e: LifecycleError) -> Refusal {
    Refusal::invalid_transition(e.to_string())
}

/// POST /v1/customers/{id}/verification.
pub async fn start(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
    req: VerificationRequest,
) -> ServiceResult<Customer> {
    // The provider is called before the transaction, once the start is
    // known to be allowed: when it is down nothing changes (502).
    let (provider, prepared) = {
        let mut conn = state.store.reader().await?;
        let stored = load(&mut conn, cx, id).await?;
        drop(conn);
        let level = req.level.unwrap_or(stored.customer.verification.level);
        let mode = req.mode.unwrap_or(stored.customer.verification.mode);
        let provider = Provider::resolve(state, &cx.scope, req.provider, mode).await?;
        let mut dry = Change::new(stored.customer, cx.actor.clone(), cx.now);
        core::start_verification(&mut dry, level, mode).map_err(refused)?;
        let prepared = provider.prepare(state, cx, id, level).await?;
        (provider, prepared)
    };
    let mut tx = state.store.begin().await?;
    let stored = load(&mut tx, cx, id).await?;
    let level = req.level.unwrap_or(stored.customer.verification.level);
    let mode = req.mode.unwrap_or(stored.customer.verification.mode);
    let start = Start {
        level,
        mode,
        provider: &provider,
        prepared,
    };
    let c = start_with(state, &mut tx, cx, stored.customer, stored.version, start).await?;
    let response = crate::wire::CustomerResponse::from(&c);
    crate::idempotency::complete_in_tx(state, &mut tx, Success::Ok, &response, &c.id).await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    state.outbox_notify.notify_one();
    Ok(c)
}

async fn load(conn: &mut Conn, cx: &OperationContext, id: &str) -> ServiceResult<db::Stored> {
    if !kycd_core::ids::is_prefixed("cus", id) {
        return Err(ServiceError::from(Refusal::not_found("customer")));
    }
    db::get(conn, &*cx.vault, &cx.scope, id)
        .await
        .map_err(|_| Refusal::not_found("customer").into())
}

/// After the platform changed data: an active customer is re-verified, a
/// customer that needed information is re-submitted when the items are there.
pub async fn after_data_change(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    ch: &mut Change,
) -> ServiceResult<()> {
    match ch.customer.status {
        CustomerStatus::Active => {
            let (level, mode) = (
                ch.customer.verification.level,
                ch.customer.verification.mode,
            );
            core::start_verification(ch, level, mode).map_err(refused)?;
            note_update_access(ch, cx);
            evaluation::evaluate(state, tx, cx, ch).await?;
            ensure_link(state, tx, cx, ch, false).await?;
        }
        CustomerStatus::NeedsInformation => resubmit_if_ready(state, tx, cx, ch).await?,
        _ => {}
    }
    Ok(())
}

/// needs_information → pending → decision, once the items asked for (the
/// customer's `missing` when it entered needs_information) have arrived; with
/// nothing specific asked for, any new data re-submits. What the policy still
/// lacks beyond them is then collected as at the first start (the hosted flow
/// while `pending`; a reliance verification asks again).
pub async fn resubmit_if_ready(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    ch: &mut Change,
) -> ServiceResult<()> {
    let (evidence, _) = evaluation::evidence(tx, cx, &ch.customer).await?;
    let missing: Vec<String> = ch
        .customer
        .verification
        .requirements
        .missing
        .iter()
        .filter(|code| !policy::is_met(code, &ch.customer, &evidence))
        .cloned()
        .collect();
    if missing.is_empty() {
        ch.customer.verification.requirements.missing.clear();
        ch.move_to(CustomerStatus::Pending, "information_supplied")
            .map_err(|e| refused(e.into()))?;
        evaluation::evaluate(state, tx, cx, ch).await?;
    } else {
        ch.customer.verification.requirements.missing = missing;
    }
    ensure_link(state, tx, cx, ch, false).await?;
    Ok(())
}

/// New evidence arrived (a document upload): re-submit or re-evaluate as the status asks.
pub async fn on_new_evidence(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<()> {
    let stored = load(tx, cx, id).await?;
    let mut ch = Change::new(stored.customer, cx.actor.clone(), cx.now);
    match ch.customer.status {
        CustomerStatus::NeedsInformation => resubmit_if_ready(state, tx, cx, &mut ch).await?,
        CustomerStatus::Pending | CustomerStatus::UpdateRequested => {
            evaluation::evaluate(state, tx, cx, &mut ch).await?;
            ensure_link(state, tx, cx, &mut ch, false).await?;
        }
        _ => return Ok(()),
    }
    commit::commit(tx, cx, &ch, stored.version, "verification.evidence").await?;
    after_status_change(state, tx, cx, &ch).await?;
    Ok(())
}

/// Runs a domain operation on a customer in its own transaction.
pub async fn run<F>(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
    action: &str,
    op: F,
) -> ServiceResult<Customer>
where
    F: FnOnce(&mut Change) -> Result<(), LifecycleError>,
{
    let mut tx = state.store.begin().await?;
    let c = run_in(state, &mut tx, cx, id, action, op).await?;
    super::finish(state, tx).await?;
    Ok(c)
}

/// [`run`] in the caller's transaction (the caller commits, then wakes the
/// outbox with [`super::finish`]): a refusal writes nothing the caller has
/// to undo, as the caller drops the transaction.
pub async fn run_in<F>(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
    action: &str,
    op: F,
) -> ServiceResult<Customer>
where
    F: FnOnce(&mut Change) -> Result<(), LifecycleError>,
{
    let stored = load(tx, cx, id).await?;
    let mut ch = Change::new(stored.customer, cx.actor.clone(), cx.now);
    op(&mut ch).map_err(refused)?;
    ensure_link(state, tx, cx, &mut ch, false).await?;
    commit::commit(tx, cx, &ch, stored.version, action).await?;
    after_status_change(state, tx, cx, &ch).await?;
    let response = crate::wire::CustomerResponse::from(&ch.customer);
    crate::idempotency::complete_in_tx(state, tx, Success::Ok, &response, id).await?;
    Ok(ch.customer)
}

/// Follow-ups of a status change in the same transaction (product access suspension/restoration).
pub async fn after_status_change(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    ch: &Change,
) -> ServiceResult<()> {
    if ch.history.is_empty() {
        return Ok(());
    }
    // A re-verification that ended in approval re-checks what was kept.
    let reverified = ch
        .history
        .iter()
        .any(|h| h.from == CustomerStatus::UpdateRequested && h.to == CustomerStatus::Active);
    crate::service::products::follow_customer(state, tx, cx, &ch.customer, reverified).await?;
    // An individual who stopped (or started again) counting as a verified
    // owner: the businesses naming it follow, in this transaction.
    if ch.customer.customer_type == kycd_core::customer::CustomerType::Individual
        && let Some(first) = ch.history.first()
    {
        let (was, is) = (
            policy::owner_counts(first.from),
            policy::owner_counts(ch.customer.status),
        );
        if was != is {
            let change = if is {
                OwnerChange::Regained
            } else {
                OwnerChange::Lost
            };
            follow_owner(state, tx, cx, &ch.customer.id, change).await?;
        }
    }
    Ok(())
}

/// What happened to a beneficial owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerChange {
    /// It no longer holds an approval (deactivated, rejected, expired, on hold…).
    Lost,
    /// It holds an approval again.
    Regained,
    /// It is being erased: the businesses drop it from their owners.
    Erased,
}

/// The businesses that name `owner_id` follow its change, each committed in
/// the caller's transaction (with its history, events and product access):
/// one whose owners no longer meet the policy moves to `needs_information`
/// (`beneficial_owner` missing); one waiting in `needs_information` re-submits
/// once they do again, and a verification under way that lacked its owners
/// runs its checks again. An erased owner is dropped from the business's owners.
pub async fn follow_owner(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    owner_id: &str,
    change: OwnerChange,
) -> ServiceResult<()> {
    let businesses = db::businesses_owned_by(tx, &cx.scope, owner_id).await?;
    for bid in businesses {
        let stored = match db::get(tx, &*cx.vault, &cx.scope, &bid).await {
            Ok(s) => s,
            Err(kycd_store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut ch = Change::new(stored.customer.clone(), "system", cx.now);
        if change == OwnerChange::Erased
            && let Some(b) = ch.customer.business.as_mut()
        {
            b.beneficial_owners.retain(|o| o.customer_id != owner_id);
            ch.customer.updated_at = cx.now;
            ch.event(
                kycd_core::events::CUSTOMER_UPDATED,
                serde_json::json!({"verified_data_changed": true}),
            );
            super::customers::write_owner_links(tx, cx, &ch.customer).await?;
        }
        match change {
            OwnerChange::Lost | OwnerChange::Erased => {
                let (ev, _) = evaluation::evidence(tx, cx, &ch.customer).await?;
                if core::follows_owners(ch.customer.status)
                    && !policy::is_met("beneficial_owner", &ch.customer, &ev)
                {
                    core::owners_lost(&mut ch).map_err(refused)?;
                    ensure_link(state, tx, cx, &mut ch, false).await?;
                }
            }
            OwnerChange::Regained => {
                // Only a business waiting for its owners: one that needs other
                // items (or nothing specific) waits for the platform.
                let waiting = ch
                    .customer
                    .verification
                    .requirements
                    .missing
                    .iter()
                    .any(|m| m == "beneficial_owner");
                match ch.customer.status {
                    CustomerStatus::NeedsInformation if waiting => {
                        resubmit_if_ready(state, tx, cx, &mut ch).await?;
                    }
                    // A verification under way runs its checks again.
                    CustomerStatus::Pending | CustomerStatus::UpdateRequested if waiting => {
                        evaluation::evaluate(state, tx, cx, &mut ch).await?;
                        ensure_link(state, tx, cx, &mut ch, false).await?;
                    }
                    _ => {}
                }
            }
        }
        if ch.history.is_empty() && ch.events.is_empty() && ch.customer == stored.customer {
            continue;
        }
        commit::commit(tx, cx, &ch, stored.version, "business.owner_changed").await?;
        if !ch.history.is_empty() {
            crate::service::products::follow_customer(state, tx, cx, &ch.customer, false).await?;
        }
    }
    Ok(())
}

pub async fn activate(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<Customer> {
    run(state, cx, id, "customer.activate", core::activate).await
}

pub async fn deactivate(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
    reason: &str,
) -> ServiceResult<Customer> {
    let mut tx = state.store.begin().await?;
    let c = deactivate_in(state, &mut tx, cx, id, reason).await?;
    super::finish(state, tx).await?;
    Ok(c)
}

/// [`deactivate`] in the caller's transaction (see [`run_in`]).
pub async fn deactivate_in(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
    reason: &str,
) -> ServiceResult<Customer> {
    run_in(state, tx, cx, id, "customer.deactivate", |ch| {
        core::deactivate(ch, reason)
    })
    .await
}

pub async fn reactivate(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<Customer> {
    let mut tx = state.store.begin().await?;
    let c = reactivate_in(state, &mut tx, cx, id).await?;
    super::finish(state, tx).await?;
    Ok(c)
}

/// [`reactivate`] in the caller's transaction (see [`run_in`]).
pub async fn reactivate_in(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<Customer> {
    run_in(state, tx, cx, id, "customer.reactivate", core::reactivate).await
}

/// An admin overturns a rejection (the back office: a final one only once a
/// second admin approved), in the caller's transaction (see [`run_in`]).
pub async fn overturn_rejection_in(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<Customer> {
    run_in(
        state,
        tx,
        cx,
        id,
        "customer.overturn_rejection",
        core::overturn_rejection,
    )
    .await
}

/// The deactivation reason an operator gives for compliance (the back
/// office's form): reactivating such a customer needs a second admin, and
/// the API cannot.
pub const COMPLIANCE_REASON: &str = "compliance";

/// Whether the customer's last deactivation was an operator's, for compliance.
pub fn deactivated_for_compliance(history: &[kycd_store::customers::HistoryRow]) -> bool {
    history
        .iter()
        .rev()
        .find(|h| h.to_status == "deactivated")
        .is_some_and(|h| h.reason == COMPLIANCE_REASON && h.actor.starts_with("operator:"))
}

/// Whether the customer carries a confirmed screening match: a rejection for
/// a sanctions or PEP match with no approval since.
pub fn confirmed_match(history: &[kycd_store::customers::HistoryRow]) -> bool {
    let mut confirmed = false;
    for h in history {
        match h.to_status.as_str() {
            "rejected" if h.reason == "sanctions_match" || h.reason == "pep_match" => {
                confirmed = true
            }
            "active" | "verified" => confirmed = false,
            _ => {}
        }
    }
    confirmed
}

/// A reviewer's (or the sandbox's) decision on a customer under review.
#[derive(Debug, Clone)]
pub enum ReviewerDecision {
    Approve,
    Reject(RejectionReason),
    RequestInformation(Vec<String>),
    Hold,
    ReleaseHold,
    ConfirmMatch,
    DismissMatch,
    Expire,
}

/// Applies a reviewer decision (the back office and the sandbox helpers call this).
pub async fn review(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
    decision: ReviewerDecision,
) -> ServiceResult<Customer> {
    let mut tx = state.store.begin().await?;
    let c = review_in(state, &mut tx, cx, id, decision).await?;
    super::finish(state, tx).await?;
    Ok(c)
}

/// [`review`] in the caller's transaction (see [`run_in`]).
pub async fn review_in(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
    decision: ReviewerDecision,
) -> ServiceResult<Customer> {
    let stored = load(tx, cx, id).await?;
    let mut ch = Change::new(stored.customer, cx.actor.clone(), cx.now);
    let settings = cx.settings.clone();
    let r = match decision {
        ReviewerDecision::Approve => {
            core::apply_decision(&mut ch, Decision::Approve { notes: vec![] }, &settings)
        }
        ReviewerDecision::Reject(reason) => {
            core::apply_decision(&mut ch, Decision::Reject(reason), &settings)
        }
        ReviewerDecision::RequestInformation(items) if items.is_empty() => {
            // The sandbox's forced needs_information: ask for what the policy still misses.
            let missing = evaluation::missing(tx, cx, &ch.customer).await?;
            core::apply_decision(&mut ch, Decision::NeedsInformation(missing), &settings)
        }
        ReviewerDecision::RequestInformation(items) => core::request_information(&mut ch, items),
        ReviewerDecision::Hold => core::hold_for_screening(&mut ch, vec![]),
        ReviewerDecision::ReleaseHold => core::release_hold(&mut ch),
        ReviewerDecision::ConfirmMatch => core::confirm_match(&mut ch),
        ReviewerDecision::Expire => core::expire(&mut ch),
        ReviewerDecision::DismissMatch => {
            let hits = ch.customer.verification.screening_matches.clone();
            for h in &hits {
                kycd_store::screening::dismiss(
                    tx,
                    &cx.scope,
                    &ch.customer.id,
                    &h.list,
                    &h.entry_id,
                    &cx.actor,
                    cx.now,
                )
                .await?;
            }
            core::release_hold(&mut ch)
        }
    };
    r.map_err(refused)?;
    if ch.customer.status == CustomerStatus::Pending
        && ch
            .history
            .last()
            .is_some_and(|h| h.reason == "hold_released")
    {
        evaluation::evaluate(state, tx, cx, &mut ch).await?;
    }
    ensure_link(state, tx, cx, &mut ch, false).await?;
    commit::commit(tx, cx, &ch, stored.version, "verification.review").await?;
    after_status_change(state, tx, cx, &ch).await?;
    let response = crate::wire::CustomerResponse::from(&ch.customer);
    crate::idempotency::complete_in_tx(state, tx, Success::Ok, &response, id).await?;
    Ok(ch.customer)
}

/// Expiry work for one customer: the notice at expires_at − notice days, the
/// expiry at expires_at. Returns whether anything was done.
pub async fn process_expiry(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<bool> {
    let mut tx = state.store.begin().await?;
    let Ok(stored) = db::get(&mut tx, &*cx.vault, &cx.scope, id).await else {
        return Ok(false);
    };
    let Some(expires_at) = stored.customer.verification.expires_at else {
        return Ok(false);
    };
    let notice_at = expires_at - chrono::Duration::days(cx.settings.expiring_notice_days as i64);
    let status = stored.customer.status;
    let mut ch = Change::new(stored.customer, "scheduler", cx.now);
    let mut notified = stored.expiring_notified;
    if cx.now >= expires_at && status.holds_approval() {
        if !notified {
            core::notify_expiring(&mut ch);
            notified = true;
        }
        core::expire(&mut ch).map_err(refused)?;
    } else if cx.now >= notice_at && !notified && status.holds_approval() {
        core::notify_expiring(&mut ch);
        notified = true;
    } else {
        return Ok(false);
    }
    commit::commit(&mut tx, cx, &ch, stored.version, "verification.expiry").await?;
    db::set_expiring_notified(&mut tx, id, notified).await?;
    after_status_change(state, &mut tx, cx, &ch).await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    state.outbox_notify.notify_one();
    Ok(true)
}

/// Re-screening after a list refresh found a possible match: hold the customer.
pub async fn hold_for_rescreen(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
    hits: Vec<kycd_core::customer::ScreeningHit>,
) -> ServiceResult<()> {
    run(state, cx, id, "screening.rescreen_hold", |ch| {
        core::hold_for_screening(ch, hits)
    })
    .await
    .map(|_| ())
}

/// Applies an identity provider's verdict on a customer, in the caller's
/// transaction, with the provider as the actor (`provider:sumsub`). An
/// approval still passes kycd's own checks (screening, duplicates): a
/// possible sanctions match holds the customer instead. A verdict that does
/// not fit the customer's status (e.g. a late answer after a reviewer
/// decided) changes nothing.
pub async fn apply_provider_verdict(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
    verdict: ProviderVerdict,
) -> ServiceResult<()> {
    let stored = load(tx, cx, id).await?;
    let mut ch = Change::new(stored.customer, cx.actor.clone(), cx.now);
    let under_review = matches!(
        ch.customer.status,
        CustomerStatus::Pending
            | CustomerStatus::UpdateRequested
            | CustomerStatus::OnHold
            | CustomerStatus::NeedsInformation
    );
    match verdict {
        ProviderVerdict::Pending => match ch.customer.status {
            CustomerStatus::NeedsInformation => {
                ch.customer.verification.requirements.missing.clear();
                ch.move_to(CustomerStatus::Pending, "information_supplied")
                    .map_err(|e| refused(e.into()))?;
            }
            // The user answered a RETRY rejection in the provider's flow: the
            // verification under way resumes (a final rejection stays final).
            CustomerStatus::Rejected
                if ch.customer.verification.resubmittable == Some(true)
                    && ch.customer.verification.provider == Some(ProviderKind::Sumsub) =>
            {
                let (level, mode) = (
                    ch.customer.verification.level,
                    ch.customer.verification.mode,
                );
                core::start_verification(&mut ch, level, mode).map_err(refused)?;
            }
            _ => return Ok(()),
        },
        ProviderVerdict::OnHold => match ch.customer.status {
            CustomerStatus::Pending | CustomerStatus::UpdateRequested => {
                ch.move_to(CustomerStatus::OnHold, "provider_on_hold")
                    .map_err(|e| refused(e.into()))?;
                ch.event(
                    kycd_core::events::VERIFICATION_ON_HOLD,
                    serde_json::json!({"reason": "provider_on_hold", "lists": []}),
                );
            }
            _ => return Ok(()),
        },
        ProviderVerdict::Approved if under_review => {
            match evaluation::provider_checks(state, tx, cx, &ch.customer).await? {
                // Already held (kycd's own screening): it stays for a person.
                Decision::Hold(_) if ch.customer.status == CustomerStatus::OnHold => {
                    return Ok(());
                }
                decision => {
                    core::apply_decision(&mut ch, decision, &cx.settings).map_err(refused)?
                }
            }
        }
        ProviderVerdict::Rejected {
            reason,
            resubmittable,
            labels,
        } if under_review => {
            core::apply_decision(&mut ch, Decision::Reject(reason), &cx.settings)
                .map_err(refused)?;
            ch.customer.verification.resubmittable = Some(resubmittable);
            if let Some(e) = ch
                .events
                .iter_mut()
                .find(|e| e.event_type == kycd_core::events::VERIFICATION_REJECTED)
            {
                e.data["resubmittable"] = resubmittable.into();
            }
            // The provider's own labels, verbatim, next to kycd's code.
            if !labels.is_empty()
                && let Some(h) = ch.history.last_mut()
            {
                h.reason = format!(
                    "{} ({}: {})",
                    reason.as_str(),
                    ProviderKind::Sumsub.as_str(),
                    labels.join(", ")
                );
            }
        }
        ProviderVerdict::Approved | ProviderVerdict::Rejected { .. } => return Ok(()),
    }
    ensure_link(state, tx, cx, &mut ch, false).await?;
    commit::commit(tx, cx, &ch, stored.version, "verification.provider").await?;
    after_status_change(state, tx, cx, &ch).await?;
    state.outbox_notify.notify_one();
    Ok(())
}
