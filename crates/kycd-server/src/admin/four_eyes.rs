//! Four eyes (issue 15): overturning a final rejection, approving a customer
//! with a confirmed screening match, reactivating a customer an operator
//! deactivated for compliance and revealing a full identifier in `live` need
//! a second admin. The first operator's action stores a request (the form's
//! fields, never a revealed value) that waits up to seven days on the scope's
//! clock; another admin approves it (the action then runs through the same
//! domain operation, the approver as actor, the requester in the audit, in
//! the transaction that records the approval: an action the domain refuses
//! leaves the request pending and writes nothing) or declines it. Identifier reveals (direct in sandbox) show the value once,
//! audited with the operator's reason.

use super::{Fields, Role, Signed, case_context, fail, field, message, signed_form};
use crate::service::{self, OperationContext, ServiceResult};
use crate::state::AppState;
use crate::web::{or_page, page, random_token, see_other};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use kycd_core::customer::Customer;
use kycd_core::status::CustomerStatus;
use kycd_store::KeyOwner;
use kycd_store::four_eyes::{self as db, Request};
use serde_json::{Value, json};

/// How long a request waits for its second admin.
pub const VALID_DAYS: i64 = 7;

/// The action that reveals an identifier.
pub const REVEAL: &str = "reveal_identifier";

/// Why this action on this customer needs a second admin (None: it does not).
pub(super) async fn needed(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
    action: &str,
) -> ServiceResult<Option<&'static str>> {
    use CustomerStatus::*;
    if action == REVEAL {
        return Ok(cx.live().then_some("revealing a full identifier in live"));
    }
    if !matches!(action, "overturn_rejection" | "approve" | "reactivate") {
        return Ok(None);
    }
    let c = service::customers::get(state, cx, id).await?;
    let mut conn = state.store.reader().await?;
    let history = kycd_store::customers::history(&mut conn, &cx.scope, id).await?;
    drop(conn);
    let why = match action {
        "overturn_rejection"
            if c.status == Rejected && c.verification.resubmittable != Some(true) =>
        {
            Some("overturning a final rejection")
        }
        "approve"
            if matches!(
                c.status,
                Pending | OnHold | UpdateRequested | NeedsInformation
            ) && service::lifecycle::confirmed_match(&history) =>
        {
            Some("approving a customer with a confirmed screening match")
        }
        "reactivate"
            if c.status == Deactivated
                && service::lifecycle::deactivated_for_compliance(&history) =>
        {
            Some("reactivating a customer deactivated for compliance")
        }
        _ => None,
    };
    Ok(why)
}

/// Writes one audit entry about a customer (the operator's scope).
async fn audit(
    state: &AppState,
    cx: &OperationContext,
    actor: &str,
    action: &str,
    customer_id: &str,
    details: &Value,
) -> ServiceResult<()> {
    let mut conn = state.store.writer().await?;
    kycd_store::customers::insert_audit(
        &mut conn,
        &*state.vault,
        &cx.scope,
        actor,
        action,
        Some(customer_id),
        details,
        Utc::now(),
    )
    .await?;
    Ok(())
}

/// Stores a request for `action` and answers `202` with a page saying it
/// waits for a second admin.
pub(super) async fn request(
    state: &AppState,
    who: &Signed,
    cx: &OperationContext,
    id: &str,
    action: &str,
    f: &Fields,
    why: &str,
) -> Response {
    let params: Vec<(String, String)> = f.iter().filter(|(k, _)| k != "csrf").cloned().collect();
    let note = field(f, "note").map(|n| n.chars().take(2000).collect::<String>());
    let r = Request {
        id: kycd_store::ids::new("fer"),
        organization_id: cx.scope.organization_id.clone(),
        environment: cx.scope.environment.clone(),
        customer_id: id.to_string(),
        action: action.to_string(),
        parameters: json!(params).to_string(),
        note: note.clone(),
        requested_by: who.op.id.clone(),
        created_at: cx.now,
        expires_at: cx.now + chrono::Duration::days(VALID_DAYS),
        decided_by: None,
        decided_at: None,
        outcome: None,
        revealed_at: None,
    };
    let stored = async {
        let mut tx = state.store.begin().await?;
        db::insert(&mut tx, &r).await?;
        kycd_store::customers::insert_audit(
            &mut tx,
            &*state.vault,
            &cx.scope,
            &cx.actor,
            "admin.four_eyes_requested",
            Some(id),
            &json!({
                "request_id": r.id,
                "action": action,
                "why": why,
                "parameters": shown_params(&params),
                "note": note,
                "expires_at": kycd_core::time::format(&r.expires_at),
            }),
            Utc::now(),
        )
        .await?;
        tx.commit().await.map_err(kycd_store::StoreError::from)?;
        Ok::<_, service::ServiceError>(())
    }
    .await;
    if let Err(e) = stored {
        return fail(e);
    }
    let nonce = random_token();
    page(
        StatusCode::ACCEPTED,
        &nonce,
        super::pages::four_eyes_waiting(&nonce, who, &r, why),
    )
}

/// The form's fields as the audit shows them (no note: it has its own key).
fn shown_params(params: &[(String, String)]) -> Value {
    Value::Object(
        params
            .iter()
            .filter(|(k, v)| k != "note" && !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect(),
    )
}

fn stored_fields(r: &Request) -> Fields {
    serde_json::from_str(&r.parameters).unwrap_or_default()
}

/// Records a refused approval in the audit log (best effort: the refusal
/// stands even if the record cannot be written).
async fn refused(state: &AppState, cx: &OperationContext, r: &Request, why: &str) {
    let _ = audit(
        state,
        cx,
        &cx.actor,
        "admin.four_eyes_refused",
        &r.customer_id,
        &json!({"request_id": r.id, "action": r.action, "why": why}),
    )
    .await;
}

/// A request this operator may see (else a 404 page).
async fn load(state: &AppState, who: &Signed, id: &str) -> Result<Request, Response> {
    let not_found = || super::not_found(who, "four-eyes request");
    if !kycd_core::ids::is_prefixed("fer", id) {
        return Err(not_found());
    }
    let mut conn = state.store.reader().await.map_err(fail)?;
    match db::get(&mut conn, id).await.map_err(fail)? {
        Some(r) if who.sees(&r.organization_id) => Ok(r),
        _ => Err(not_found()),
    }
}

pub(super) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    decide(state, headers, id, f, true).await
}

pub(super) async fn decline(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    decide(state, headers, id, f, false).await
}

async fn decide(
    state: AppState,
    headers: HeaderMap,
    id: String,
    f: Fields,
    approve: bool,
) -> Response {
    let who = or_page!(signed_form(&state, &headers, &f).await);
    let r = or_page!(load(&state, &who, &id).await);
    let verb = if approve { "approve" } else { "decline" };
    if who.role != Role::Admin {
        return message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Not allowed",
            &format!(
                "Only an admin can {verb} a four-eyes request; your role ({}) cannot.",
                who.role.as_str()
            ),
        );
    }
    let cx = or_page!(case_context(&state, &who, &r.customer_id).await);
    let requester = format!("operator:{}", r.requested_by);
    if approve && r.requested_by == who.op.id {
        refused(
            &state,
            &cx,
            &r,
            "the requester cannot approve their own request",
        )
        .await;
        return message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "A second admin must approve",
            "You asked for this action yourself: four eyes means another admin approves it. You may decline (withdraw) it.",
        );
    }
    if let Some(outcome) = &r.outcome {
        return message(
            StatusCode::CONFLICT,
            Some(&who),
            "Already decided",
            &format!("This request was {outcome} already."),
        );
    }
    if approve && cx.now >= r.expires_at {
        refused(&state, &cx, &r, "expired").await;
        return message(
            StatusCode::CONFLICT,
            Some(&who),
            "Request expired",
            &format!(
                "This request expired on {} (requests wait {VALID_DAYS} days): ask again from the case.",
                r.expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
        );
    }
    let outcome = if approve { "approved" } else { "declined" };
    // The decision, its audit entry and (approved) the action with its own
    // audit entry are one transaction: an action the domain refuses now
    // (the case changed since the request) leaves the request pending.
    let decided = async {
        let mut tx = state.store.begin().await?;
        if !db::decide(&mut tx, &r.id, &who.op.id, outcome, cx.now).await? {
            return Ok(false);
        }
        kycd_store::customers::insert_audit(
            &mut tx,
            &*state.vault,
            &cx.scope,
            &cx.actor,
            &format!("admin.four_eyes_{outcome}"),
            Some(&r.customer_id),
            &json!({
                "request_id": r.id,
                "action": r.action,
                "requested_by": requester,
                "note": r.note,
            }),
            Utc::now(),
        )
        .await?;
        // A reveal is the requester's to see, once, later.
        if approve && r.action != REVEAL {
            let extra = json!({
                "four_eyes_request": r.id,
                "requested_by": requester,
                "approved_by": cx.actor,
            });
            let fields = stored_fields(&r);
            super::execute_in(
                &state,
                &mut tx,
                &cx,
                &r.customer_id,
                &r.action,
                &fields,
                extra,
            )
            .await?;
        }
        service::finish(&state, tx).await?;
        Ok::<_, service::ServiceError>(true)
    }
    .await;
    match decided {
        Ok(true) => {}
        Ok(false) => {
            return message(
                StatusCode::CONFLICT,
                Some(&who),
                "Already decided",
                "Another admin decided this request at the same time.",
            );
        }
        Err(e) => {
            let api = crate::error::ApiError::from(e);
            refused(&state, &cx, &r, &format!("{}: {}", api.code, api.message)).await;
            return message(
                api.status,
                Some(&who),
                "Approval refused",
                &format!(
                    "{} ({}): {}. Nothing was approved or changed: the request stays pending. \
                     Decline it, or let it expire, if the case no longer needs it.",
                    r.action.replace('_', " "),
                    api.code,
                    api.message
                ),
            );
        }
    }
    let done = if approve && r.action != REVEAL {
        r.action.clone()
    } else {
        format!("four_eyes_{outcome}")
    };
    see_other(&format!("/admin/customers/{}?done={done}", r.customer_id))
}

/// The identifier a reveal form names (`identifier`: its index on the case,
/// or its type) and the operator's reason.
fn reveal_fields(c: &Customer, f: &Fields) -> ServiceResult<(usize, String)> {
    use crate::service::Refusal;
    let which =
        field(f, "identifier").ok_or_else(|| Refusal::invalid_field("identifier", "required"))?;
    let index = match which.parse::<usize>() {
        Ok(i) => Some(i).filter(|i| *i < c.identifiers.len()),
        Err(_) => c.identifiers.iter().position(|i| i.kind == which),
    }
    .ok_or_else(|| Refusal::invalid_field("identifier", "no such identifier on this customer"))?;
    let reason: String = field(f, "reason")
        .ok_or_else(|| {
            Refusal::invalid_field("reason", "required: say why you need the full value")
        })?
        .chars()
        .take(500)
        .collect();
    Ok((index, reason))
}

/// The `reveal_identifier` action: the value at once in sandbox, a request in live.
pub(super) async fn reveal_action(
    state: &AppState,
    who: &Signed,
    cx: &OperationContext,
    id: &str,
    f: &Fields,
) -> Response {
    let c = match service::customers::get(state, cx, id).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let (index, reason) = match reveal_fields(&c, f) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    match needed(state, cx, id, REVEAL).await {
        Ok(Some(why)) => {
            // The identifier as the requester saw it: the reveal checks it is
            // still the one at that place.
            let i = &c.identifiers[index];
            let mut f = f.clone();
            f.retain(|(k, _)| k != "identifier_type" && k != "identifier_country");
            f.push(("identifier_type".into(), i.kind.clone()));
            f.push((
                "identifier_country".into(),
                i.country.clone().unwrap_or_default(),
            ));
            request(state, who, cx, id, REVEAL, &f, why).await
        }
        Ok(None) => show(state, who, cx, &c, index, &reason, json!({})).await,
        Err(e) => fail(e),
    }
}

/// Opens the identifier's value from the vault.
async fn identifier_value(
    state: &AppState,
    cx: &OperationContext,
    c: &Customer,
    index: usize,
) -> ServiceResult<String> {
    use crate::service::Refusal;
    let i = c.identifiers.get(index).ok_or_else(|| {
        Refusal::invalid_field("identifier", "no such identifier on this customer")
    })?;
    let org = &cx.scope.organization_id;
    let mut conn = state.store.reader().await?;
    let key = state
        .vault
        .existing_customer_key(&mut conn, KeyOwner::scoped(&cx.scope, &c.id))
        .await?
        .ok_or_else(|| Refusal::not_found("identifier"))?;
    let field = service::customers::identifier_field(&i.kind, i.country.as_deref());
    let sealed = kycd_store::customers::get_secret(&mut conn, &cx.scope, &c.id, &field)
        .await?
        .ok_or_else(|| Refusal::not_found("identifier"))?;
    state.vault.open_str(&key, org, &c.id, &field, &sealed)
}

/// Shows one identifier in full, audited with the reason (and the request).
async fn show(
    state: &AppState,
    who: &Signed,
    cx: &OperationContext,
    c: &Customer,
    index: usize,
    reason: &str,
    extra: Value,
) -> Response {
    let value = match identifier_value(state, cx, c, index).await {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let i = &c.identifiers[index];
    let mut details = json!({
        "identifier": i.kind,
        "country": i.country,
        "index": index,
        "reason": reason,
    });
    if let (Some(d), Value::Object(x)) = (details.as_object_mut(), extra) {
        d.extend(x);
    }
    if let Err(e) = audit(
        state,
        cx,
        &cx.actor,
        "admin.reveal_identifier",
        &c.id,
        &details,
    )
    .await
    {
        return fail(e);
    }
    let nonce = random_token();
    page(
        StatusCode::OK,
        &nonce,
        super::pages::revealed(&nonce, who, c, index, &value, reason),
    )
}

/// `POST /admin/requests/{id}/reveal`: the requester of an approved reveal
/// sees the value, once.
pub(super) async fn reveal_approved(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let who = or_page!(signed_form(&state, &headers, &f).await);
    let r = match load(&state, &who, &id).await {
        Ok(r) if r.action == REVEAL => r,
        Ok(_) => {
            return super::not_found(&who, "reveal request");
        }
        Err(res) => return res,
    };
    if r.requested_by != who.op.id {
        return message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Not allowed",
            "Only the operator who asked for this reveal may see the value.",
        );
    }
    if r.outcome.as_deref() != Some("approved") {
        return message(
            StatusCode::CONFLICT,
            Some(&who),
            "Not approved",
            "A second admin has not approved this reveal.",
        );
    }
    let cx = or_page!(case_context(&state, &who, &r.customer_id).await);
    if cx.now >= r.expires_at {
        return message(
            StatusCode::CONFLICT,
            Some(&who),
            "Request expired",
            "This reveal expired: ask again from the case.",
        );
    }
    let c = match service::customers::get(&state, &cx, &r.customer_id).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let asked = stored_fields(&r);
    let (index, reason) = match reveal_fields(&c, &asked) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let i = &c.identifiers[index];
    if field(&asked, "identifier_type") != Some(i.kind.as_str())
        || field(&asked, "identifier_country") != i.country.as_deref()
    {
        return message(
            StatusCode::CONFLICT,
            Some(&who),
            "Identifiers changed",
            "The customer's identifiers changed since the request: ask again from the case.",
        );
    }
    let consumed = async {
        let mut conn = state.store.writer().await?;
        db::consume_reveal(&mut conn, &r.id, cx.now).await
    }
    .await;
    match consumed {
        Ok(true) => {}
        Ok(false) => {
            return message(
                StatusCode::GONE,
                Some(&who),
                "Already shown",
                "An approved reveal shows the value once; it was shown already. Ask again from the case.",
            );
        }
        Err(e) => return fail(e),
    }
    let extra = json!({
        "four_eyes_request": r.id,
        "approved_by": r.decided_by.map(|d| format!("operator:{d}")),
    });
    show(&state, &who, &cx, &c, index, &reason, extra).await
}
