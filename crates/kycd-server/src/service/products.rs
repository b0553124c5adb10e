//! Product access (cards, virtual accounts) and capabilities: requests
//! decided by the policy, reviewer decisions, access following the customer's
//! status, and the lean capability lookup money-movement services call.

use super::{OperationContext, commit, evaluation};
use super::{Reason, Refusal};
use crate::service::{ServiceError, ServiceResult};
use crate::state::AppState;
use kycd_core::capabilities::{
    self as caps, Capability, CapabilityState, CustomerFacts, ProductAccess,
};
use kycd_core::customer::Customer;
use kycd_core::events::NewEvent;
use kycd_core::policy::{Evidence, Product};
use kycd_core::status::CustomerStatus;
use kycd_store::products::{self as db, AccessFilter};
use kycd_store::{Conn, Scope, StoreError, Tx, customers, ids, usage};
use serde_json::{Value, json};

#[track_caller]
fn not_found() -> ServiceError {
    Refusal::not_found("customer").into()
}

/// Writes the outbox event (the access object plus the customer's external id)
/// and an audit row for a product-access change.
async fn record(
    conn: &mut Conn,
    cx: &OperationContext,
    pa: &ProductAccess,
    external_id: Option<&str>,
    event: &'static str,
) -> ServiceResult<()> {
    let mut data = serde_json::to_value(pa).unwrap_or(Value::Null);
    data["external_id"] = json!(external_id);
    commit::write_events(
        conn,
        &cx.scope,
        &[NewEvent {
            event_type: event,
            customer_id: Some(pa.customer_id.clone()),
            data,
        }],
        cx,
    )
    .await?;
    customers::insert_audit(
        conn,
        &*cx.vault,
        &cx.scope,
        &cx.actor,
        event,
        Some(&pa.id),
        &json!({"customer_id": pa.customer_id, "product": pa.product, "status": pa.status,
                "suspended": pa.suspended, "rejection_reason": pa.rejection_reason}),
        cx.now,
    )
    .await?;
    Ok(())
}

/// Locks and reads the customer in the caller's transaction (404 when absent).
async fn locked_customer(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<Customer> {
    if !kycd_core::ids::is_prefixed("cus", id)
        || !db::lock_customer(tx, state.store.dialect, &cx.scope, id).await?
    {
        return Err(not_found());
    }
    Ok(customers::get(tx, &*cx.vault, &cx.scope, id)
        .await
        .map_err(|_| not_found())?
        .customer)
}

/// The 403 for a customer that may not request products yet.
fn not_active(c: &Customer, now: chrono::DateTime<chrono::Utc>) -> Option<Refusal> {
    let (code, step) = caps::customer_block(&CustomerFacts::of(c), now)?;
    Some(Refusal::requirements_not_met(
        format!(
            "product access requires an active customer; this customer is {}: {step}",
            c.status
        ),
        vec![Reason {
            code: "customer_not_active".into(),
            message: format!("{code}: {step}"),
            param: None,
        }],
    ))
}

/// The customer's evidence counting documents in review, and counting only
/// accepted documents (the documents in review taken out one for one).
async fn evidence(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<(Evidence, Evidence)> {
    let (lenient, in_review) = evaluation::evidence(conn, cx, c).await?;
    let mut strict = lenient.clone();
    for t in &in_review {
        if let Some(i) = strict.document_types.iter().position(|d| d == t) {
            strict.document_types.remove(i);
        }
    }
    Ok((lenient, strict))
}

/// POST /v1/customers/{id}/product_access. Returns the request and whether it
/// was created (`false`: an open request for the product already existed).
pub async fn request(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
    product: Product,
) -> ServiceResult<(ProductAccess, bool)> {
    let mut tx = state.store.begin().await?;
    let c = locked_customer(state, &mut tx, cx, customer_id).await?;
    if let Some(e) = not_active(&c, cx.now) {
        return Err(e.into());
    }
    let existing = db::for_customer(&mut tx, &cx.scope, &c.id).await?;
    if let Some(open) = existing
        .into_iter()
        .find(|p| p.product == product && p.is_open())
    {
        return Ok((open, false));
    }
    let (lenient, strict) = evidence(&mut tx, cx, &c).await?;
    let gaps = caps::product_gaps(&cx.settings, &c, &strict, &lenient, product);
    let approval = cx.settings.product(product).approval;
    let (pa, event) = ProductAccess::request(
        ids::new("pa"),
        c.id.clone(),
        product,
        gaps,
        approval,
        cx.now,
    );
    db::insert(&mut tx, &cx.scope, &pa).await?;
    usage::record(
        &mut tx,
        &cx.scope,
        usage::PRODUCT_ACCESS_REQUESTS,
        &pa.id,
        cx.now,
    )
    .await?;
    record(&mut tx, cx, &pa, c.external_id.as_deref(), event).await?;
    let response = crate::wire::ProductAccessResponse::from(&pa);
    crate::idempotency::complete_in_tx(
        state,
        &mut tx,
        crate::idempotency::Success::Created,
        &response,
        &c.id,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    state.outbox_notify.notify_one();
    Ok((pa, true))
}

/// A reviewer's decision on a pending request (the back office and the sandbox
/// helper call this). Granting needs the customer to be active.
pub async fn decide(
    state: &AppState,
    cx: &OperationContext,
    pa_id: &str,
    grant: bool,
    reason: Option<String>,
) -> ServiceResult<ProductAccess> {
    let missing = || Refusal::not_found("product_access");
    if !kycd_core::ids::is_prefixed("pa", pa_id) {
        return Err(missing().into());
    }
    let mut tx = state.store.begin().await?;
    let pa = decide_in(state, &mut tx, cx, pa_id, grant, reason).await?;
    super::finish(state, tx).await?;
    Ok(pa)
}

/// [`decide`] in the caller's transaction.
pub async fn decide_in(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    pa_id: &str,
    grant: bool,
    reason: Option<String>,
) -> ServiceResult<ProductAccess> {
    let missing = || Refusal::not_found("product_access");
    let customer_id = db::get(tx, &cx.scope, pa_id)
        .await
        .map_err(|_| missing())?
        .customer_id;
    let c = locked_customer(state, tx, cx, &customer_id).await?;
    // Re-read under the customer's lock: a concurrent decision is seen.
    let mut pa = db::get(tx, &cx.scope, pa_id).await.map_err(|_| missing())?;
    if grant && let Some((_, step)) = caps::customer_block(&CustomerFacts::of(&c), cx.now) {
        return Err(ServiceError::from(Refusal::invalid_transition(format!(
            "access can be granted only to an active customer; this customer is {}: {step}",
            c.status
        ))));
    }
    let event = pa
        .decide(grant, reason, cx.now)
        .map_err(Refusal::invalid_transition)?;
    db::update(tx, &cx.scope, &pa).await?;
    record(tx, cx, &pa, c.external_id.as_deref(), event).await?;
    let response = crate::wire::ProductAccessResponse::from(&pa);
    crate::idempotency::complete_in_tx(
        state,
        tx,
        crate::idempotency::Success::Ok,
        &response,
        &c.id,
    )
    .await?;
    Ok(pa)
}

/// Access follows the customer, in the transaction of its status change:
/// leaving `active` suspends granted access; returning to `active` restores it
/// when the current policy is still met, else rejects it with the missing items.
pub async fn follow_customer(
    _state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    c: &Customer,
    reverified: bool,
) -> ServiceResult<()> {
    let list = db::for_customer(tx, &cx.scope, &c.id).await?;
    if !list.iter().any(|p| p.status == caps::AccessStatus::Granted) {
        return Ok(());
    }
    // Active, or re-verifying with the previous approval's capabilities kept.
    let active = c.status == CustomerStatus::Active
        || (c.status == CustomerStatus::UpdateRequested
            && caps::customer_block(&CustomerFacts::of(c), cx.now).is_none());
    let evidence = if active && (reverified || list.iter().any(|p| p.suspended)) {
        Some(evaluation::evidence(tx, cx, c).await?.0)
    } else {
        None
    };
    for mut pa in list {
        let event = match &evidence {
            Some(ev) if active => {
                let missing = caps::product_missing(&cx.settings, c, ev, pa.product);
                if pa.suspended {
                    pa.resume(missing, cx.now)
                } else if reverified && c.status == CustomerStatus::Active {
                    pa.recheck(missing, cx.now)
                } else {
                    None
                }
            }
            _ if active => None,
            _ => pa.suspend(c.status, cx.now),
        };
        if let Some(event) = event {
            db::update(tx, &cx.scope, &pa).await?;
            record(tx, cx, &pa, c.external_id.as_deref(), event).await?;
        }
    }
    Ok(())
}

/// GET /v1/customers/{id}/product_access (newest first).
pub async fn list(
    state: &AppState,
    scope: &Scope,
    customer_id: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> ServiceResult<(Vec<ProductAccess>, bool)> {
    let mut conn = state.store.reader().await?;
    exists(&mut conn, &*state.vault, scope, customer_id).await?;
    Ok(db::list(&mut conn, scope, customer_id, starting_after, limit).await?)
}

/// GET /v1/customers/{id}/product_access/{pa_id}.
pub async fn get(
    state: &AppState,
    scope: &Scope,
    customer_id: &str,
    pa_id: &str,
) -> ServiceResult<ProductAccess> {
    let missing = || Refusal::not_found("product_access");
    if !kycd_core::ids::is_prefixed("pa", pa_id) {
        return Err(missing().into());
    }
    let mut conn = state.store.reader().await?;
    exists(&mut conn, &*state.vault, scope, customer_id).await?;
    let pa = db::get(&mut conn, scope, pa_id)
        .await
        .map_err(|_| missing())?;
    if pa.customer_id != customer_id {
        return Err(missing().into());
    }
    Ok(pa)
}

async fn exists(
    conn: &mut Conn,
    cipher: &dyn kycd_store::customers::DocCipher,
    scope: &Scope,
    customer_id: &str,
) -> ServiceResult<()> {
    if !kycd_core::ids::is_prefixed("cus", customer_id) {
        return Err(not_found());
    }
    match db::capability_facts(conn, cipher, scope, customer_id, AccessFilter::Nothing).await? {
        Some(_) => Ok(()),
        None => Err(not_found()),
    }
}

/// One capability, in one read and without loading settings (the hot path).
pub async fn check(
    state: &AppState,
    scope: &Scope,
    customer_id: &str,
    cap: Capability,
) -> ServiceResult<CapabilityState> {
    if !kycd_core::ids::is_prefixed("cus", customer_id) {
        return Err(not_found());
    }
    let filter = cap
        .product()
        .map_or(AccessFilter::Nothing, AccessFilter::Product);
    let mut conn = state.store.reader().await?;
    let facts = db::capability_facts(&mut conn, &*state.vault, scope, customer_id, filter)
        .await?
        .ok_or_else(not_found)?;
    drop(conn);
    let access = cap.product().and_then(|p| caps::latest(&facts.access, p));
    Ok(caps::evaluate(
        cap,
        &facts.customer,
        access,
        chrono::Utc::now(),
    ))
}

/// Every capability of a customer, with the current request behind each product.
pub async fn capabilities(
    state: &AppState,
    scope: &Scope,
    customer_id: &str,
) -> ServiceResult<Value> {
    if !kycd_core::ids::is_prefixed("cus", customer_id) {
        return Err(not_found());
    }
    let mut conn = state.store.reader().await?;
    let facts = db::capability_facts(
        &mut conn,
        &*state.vault,
        scope,
        customer_id,
        AccessFilter::All,
    )
    .await?
    .ok_or_else(not_found)?;
    drop(conn);
    let now = chrono::Utc::now();
    let mut out = json!({
        "object": "capabilities",
        "customer_id": customer_id,
        "customer_status": facts.customer.status,
    });
    for cap in Capability::ALL {
        let access = cap.product().and_then(|p| caps::latest(&facts.access, p));
        let mut v = serde_json::to_value(caps::evaluate(cap, &facts.customer, access, now))
            .unwrap_or(Value::Null);
        if cap.product().is_some() {
            v["product_access_id"] = json!(access.map(|a| &a.id));
        }
        out[cap.as_str()] = v;
    }
    Ok(out)
}
