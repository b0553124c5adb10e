//! The hosted flow's operations: the end user's draft (what they typed, kept
//! sealed on the customer until they submit, so nothing is lost across
//! renewed links), previewing it with the API's validation, and the
//! submission that applies it, evaluates the customer and tells the platform.

use super::Refusal;
use super::customers::{Editor, apply_patch, identifier_field, update_in_tx};
use super::{OperationContext, commit, lifecycle};
use crate::service::ServiceResult;
use crate::state::AppState;
use kycd_core::customer::Customer;
use kycd_core::events;
use kycd_core::input::{CustomerPatch, IdentifierInput};
use kycd_store::KeyOwner;
use kycd_store::{Conn, customers as db};
use serde_json::{Map, Value, json};

/// The sealed secret that holds the draft.
const DRAFT: &str = "hosted_draft";

/// What the end user entered and has not submitted: a PATCH body.
pub type Draft = Map<String, Value>;

/// The customer's draft (empty when none).
pub async fn draft(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    customer_id: &str,
) -> ServiceResult<Draft> {
    let org = &cx.scope.organization_id;
    let Some(sealed) = db::get_secret(conn, &cx.scope, customer_id, DRAFT).await? else {
        return Ok(Draft::new());
    };
    let Some(key) = state
        .vault
        .existing_customer_key(conn, KeyOwner::scoped(&cx.scope, customer_id))
        .await?
    else {
        return Ok(Draft::new());
    };
    let text = state
        .vault
        .open_str(&key, org, customer_id, DRAFT, &sealed)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// The customer as the draft would make it, validated like a PATCH: the
/// error names the field (`individual.date_of_birth`, `identifiers[0].value`…).
pub fn preview(c: &Customer, draft: &Draft, cx: &OperationContext) -> Result<Customer, Refusal> {
    let patch: CustomerPatch = serde_json::from_value(Value::Object(draft.clone()))
        .map_err(|e| Refusal::invalid_request(e.to_string()))?;
    Ok(apply_patch(c, patch, cx.now)?.customer)
}

/// Adds one step's answers to the draft once the whole draft still
/// validates; nothing is saved when it does not.
pub async fn save_step(
    state: &AppState,
    cx: &OperationContext,
    c: &Customer,
    answers: Draft,
) -> ServiceResult<()> {
    let mut conn = state.store.reader().await?;
    let mut next = draft(state, &mut conn, cx, &c.id).await?;
    drop(conn);
    for (k, v) in answers {
        match (next.get_mut(&k), v) {
            (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
            (_, v) => {
                next.insert(k, v);
            }
        }
    }
    preview(c, &next, cx)?;
    let org = &cx.scope.organization_id;
    let mut tx = state.store.begin().await?;
    let key = state
        .vault
        .customer_key(&mut tx, KeyOwner::scoped(&cx.scope, &c.id))
        .await?;
    let sealed = state
        .vault
        .seal_str(&key, org, &c.id, DRAFT, &Value::Object(next).to_string())?;
    db::put_secret(&mut tx, &cx.scope, &c.id, DRAFT, &sealed).await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    Ok(())
}

/// The end user submits: the draft is applied as a PATCH by the end user
/// (identifiers already on file are kept), the customer is evaluated as for
/// new evidence, and `customer.verification.submitted` is written, all in
/// one transaction; the draft is then gone.
pub async fn submit(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
) -> ServiceResult<Customer> {
    let mut tx = state.store.begin().await?;
    let mut d = draft(state, &mut tx, cx, customer_id).await?;
    let mut moved = false;
    if !d.is_empty() {
        if d.contains_key("identifiers") {
            let kept = identifiers_on_file(state, &mut tx, cx, customer_id).await?;
            let new: Vec<Value> = match d.remove("identifiers") {
                Some(Value::Array(a)) => a,
                _ => vec![],
            };
            let same = |a: &IdentifierInput, v: &Value| v["type"] == a.kind.as_str();
            let mut all: Vec<Value> = kept
                .into_iter()
                .filter(|k| !new.iter().any(|v| same(k, v)))
                .map(|k| json!({"type": k.kind, "value": k.value, "country": k.country}))
                .collect();
            all.extend(new);
            d.insert("identifiers".into(), Value::Array(all));
        }
        let patch: CustomerPatch = serde_json::from_value(Value::Object(d))
            .map_err(|e| Refusal::invalid_request(e.to_string()))?;
        let ch = update_in_tx(state, &mut tx, cx, customer_id, patch, Editor::EndUser).await?;
        moved = !ch.history.is_empty();
    }
    if !moved {
        lifecycle::on_new_evidence(state, &mut tx, cx, customer_id).await?;
    }
    let c = db::get(&mut tx, &*cx.vault, &cx.scope, customer_id)
        .await?
        .customer;
    commit::write_events(
        &mut tx,
        &cx.scope,
        &[events::NewEvent {
            event_type: events::VERIFICATION_SUBMITTED,
            customer_id: Some(c.id.clone()),
            data: json!({
                "customer_id": c.id,
                "external_id": c.external_id,
                "status": c.status.as_str(),
                "missing": c.verification.requirements.missing,
            }),
        }],
        cx,
    )
    .await?;
    db::delete_secrets(&mut tx, &cx.scope, customer_id, DRAFT).await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    state.outbox_notify.notify_one();
    Ok(c)
}

/// The identifiers on file with their values, opened from the vault (a
/// PATCH replaces the list whole; the hosted flow adds to it).
async fn identifiers_on_file(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    customer_id: &str,
) -> ServiceResult<Vec<IdentifierInput>> {
    let c = db::get(conn, &*cx.vault, &cx.scope, customer_id)
        .await?
        .customer;
    let org = &cx.scope.organization_id;
    let Some(key) = state
        .vault
        .existing_customer_key(conn, KeyOwner::scoped(&cx.scope, customer_id))
        .await?
    else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    for i in &c.identifiers {
        let field = identifier_field(&i.kind, i.country.as_deref());
        if let Some(sealed) = db::get_secret(conn, &cx.scope, customer_id, &field).await? {
            out.push(IdentifierInput {
                kind: i.kind.clone(),
                value: state
                    .vault
                    .open_str(&key, org, customer_id, &field, &sealed)?,
                country: i.country.clone(),
            });
        }
    }
    Ok(out)
}
