//! The Idempotency-Key middleware for POST requests: the first response is
//! stored and replayed; the same key with another body is 422; a retry while
//! the first still runs is 409.
//!
//! Crash safety (Stripe's "atomic phases"): a request that changes data
//! writes its response with [`complete_in_tx`] on the same transaction as
//! the change, so the two commit together or not at all. A key whose request
//! died before committing belongs to a dead node and is retryable at once
//! (see [`crate::node`]); a key whose effect committed replays it. Responses
//! of requests without an effect (errors, reads) are stored afterwards, and a
//! failure on our side (5xx) releases the key.
//!
//! A stored response is sealed under the data key of the resource it is about
//! (the customer, the webhook endpoint), so erasing that resource makes its
//! replay unreadable: the replay answers 404. Other responses are sealed
//! under the organization's idempotency key.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::{buffer, json_response};
use crate::service::{Refusal, RefusalKind, ServiceError, ServiceResult};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kycd_store::KeyOwner;
use kycd_store::idempotency::{self, Claim, Claimant};
use kycd_store::{Conn, Scope};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// The claim of the request being served, reachable from the service that
/// commits its effect.
#[derive(Debug, Clone)]
struct Pending {
    scope: Scope,
    key: String,
    token: String,
    /// The response was written on the effect's transaction (which then
    /// committed, unless the request failed).
    recorded: bool,
}

/// The success a request with an effect answered, stored with its response
/// for the replays (the services name it without an HTTP type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// 200: done.
    Ok,
    /// 201: a resource was created.
    Created,
    /// 202: accepted, the effect follows.
    Accepted,
}

impl Success {
    pub fn status(self) -> StatusCode {
        match self {
            Success::Ok => StatusCode::OK,
            Success::Created => StatusCode::CREATED,
            Success::Accepted => StatusCode::ACCEPTED,
        }
    }
}

tokio::task_local! {
    static CURRENT: Arc<Mutex<Option<Pending>>>;
}

/// The Idempotency-Key claim of the request being served, carried to the
/// task that writes its effect (the group committer), where
/// [`with_claim`] makes it current again for [`complete_in_tx`].
#[derive(Clone, Debug)]
pub struct ClaimHandle(Arc<Mutex<Option<Pending>>>);

/// A claim as it was before a transaction wrote to it ([`ClaimHandle::save`]).
#[derive(Debug)]
pub struct SavedClaim(Option<Pending>);

impl ClaimHandle {
    /// The claim as it is now, to [`restore`](Self::restore) when the
    /// transaction about to write this request's response rolls back.
    pub fn save(&self) -> SavedClaim {
        SavedClaim(self.0.lock().expect("idempotency slot").clone())
    }

    /// Puts back the claim as it was before a transaction that rolled back
    /// (a group commit's first attempt): what that attempt marked (its
    /// response "recorded") did not happen, and the next attempt writes the
    /// record again with the same claim.
    pub fn restore(&self, saved: SavedClaim) {
        *self.0.lock().expect("idempotency slot") = saved.0;
    }
}

/// The claim of the request this task serves, if it has an Idempotency-Key.
pub fn current_claim() -> Option<ClaimHandle> {
    CURRENT.try_with(Arc::clone).ok().map(ClaimHandle)
}

/// Runs `f` with `claim` as the current request's claim.
pub async fn with_claim<F: std::future::Future>(claim: Option<ClaimHandle>, f: F) -> F::Output {
    match claim {
        Some(ClaimHandle(slot)) => CURRENT.scope(slot, f).await,
        None => f.await,
    }
}

/// Writes this request's response on `conn` — the transaction of its effect —
/// when the request carries an Idempotency-Key; `subject_id` is the resource
/// the response is about (its data key seals the stored copy). Fails with
/// `409 idempotency_key_in_use` when the claim was lost meanwhile, so the
/// effect rolls back.
pub async fn complete_in_tx<T: Serialize>(
    state: &AppState,
    conn: &mut Conn,
    status: Success,
    value: &T,
    subject_id: &str,
) -> ServiceResult<()> {
    complete_in_tx_with_key(state, conn, status, value, subject_id, None).await
}

/// [`complete_in_tx`] for a caller that holds the subject's data key (a
/// create that just made it): `None` reads it from `conn`.
pub async fn complete_in_tx_with_key<T: Serialize>(
    state: &AppState,
    conn: &mut Conn,
    status: Success,
    value: &T,
    subject_id: &str,
    data_key: Option<&kycd_vault::DataKey>,
) -> ServiceResult<()> {
    let Ok(slot) = CURRENT.try_with(Arc::clone) else {
        return Ok(());
    };
    // Written on every attempt: a transaction retried after a deadlock
    // writes it again (the rolled-back attempt's copy is gone).
    let (scope, key, token) = {
        let guard = slot.lock().expect("idempotency slot");
        match guard.as_ref() {
            Some(p) => (p.scope.clone(), p.key.clone(), p.token.clone()),
            None => return Ok(()),
        }
    };
    let body = serde_json::to_string(value)
        .map_err(|e| ServiceError::internal(format!("idempotent response: {e}")))?;
    let sealed = match data_key {
        Some(data_key) => seal_under(state, data_key, &scope, &key, subject_id, &body)?,
        None => seal(state, conn, &scope, &key, subject_id, &body).await?,
    };
    if !idempotency::complete(
        conn,
        &scope,
        &key,
        &token,
        status.status().as_u16(),
        &sealed,
        Some(subject_id),
    )
    .await?
    {
        return Err(in_use().into());
    }
    if let Some(p) = slot.lock().expect("idempotency slot").as_mut() {
        p.recorded = true;
    }
    Ok(())
}

fn in_use() -> Refusal {
    Refusal::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being processed: retry shortly",
    )
}

fn reused() -> Refusal {
    Refusal::new(
        RefusalKind::KeyReused,
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request",
    )
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req
        .headers()
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_string))
    else {
        return next.run(req).await;
    };
    let key = match key {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k,
        _ => {
            return ApiError::invalid_field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    // The largest body any route takes (a document upload, a batch of customers).
    let limit = (state.config.max_document_bytes * 2).max(crate::api::customers::batch_body_limit(
        state.config.max_body_bytes,
    ));
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::payload_too_large("the request body is too large").into_response();
        }
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update(b" ");
    h.update(parts.uri.path());
    h.update(b"\n");
    h.update(&bytes);
    let hash = hex::encode(h.finalize());
    let token = kycd_store::ids::new("claim");
    let claim = claim(&state, &caller.scope, &key, &hash, &token).await;
    match claim {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::Mismatch) => ApiError::from(reused()).into_response(),
        Ok(Claim::Running { .. }) => ApiError::from(in_use()).into_response(),
        Ok(Claim::Replay {
            status,
            body,
            subject_id,
        }) => {
            let body =
                match open_body(&state, &caller.scope, &key, subject_id.as_deref(), &body).await {
                    Ok(b) => b,
                    Err(e) => return ApiError::from(e).into_response(),
                };
            let mut res = json_response(status, body.into());
            res.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            res
        }
        Ok(Claim::Claimed) => {
            let slot = Arc::new(Mutex::new(Some(Pending {
                scope: caller.scope.clone(),
                key: key.clone(),
                token: token.clone(),
                recorded: false,
            })));
            let req = Request::from_parts(parts, Body::from(bytes));
            let res = CURRENT.scope(slot.clone(), next.run(req)).await;
            let recorded = slot
                .lock()
                .expect("idempotency slot")
                .as_ref()
                .is_some_and(|p| p.recorded);
            if recorded {
                if !res.status().is_success() {
                    // The effect's transaction may have failed to commit after
                    // the response was written on it: free the key (a key
                    // whose response did commit is kept).
                    if let Ok(mut conn) = state.store.writer().await {
                        let _ = idempotency::release(&mut conn, &caller.scope, &key, &token).await;
                    }
                }
                return res;
            }
            // Errors are rendered later (with the request id); store the rendered form.
            let res = match res.extensions().get::<ApiError>().cloned() {
                Some(err) => {
                    let mut r = (err.status, axum::Json(err.body("replayed"))).into_response();
                    r.extensions_mut().insert(err);
                    r
                }
                None => res,
            };
            let status = res.status();
            let err = res.extensions().get::<ApiError>().cloned();
            let (parts, body) = buffer(res).await;
            if let Err(e) = record_after(&state, &caller.scope, &key, &token, status, &body).await {
                tracing::error!(
                    error = %e,
                    location = %e.location,
                    "idempotency bookkeeping failed"
                );
            }
            let mut res = Response::from_parts(parts, Body::from(body));
            if let Some(err) = err {
                res.extensions_mut().insert(err);
            }
            res
        }
    }
}

/// Claims the key, taking over a claim whose node is dead.
async fn claim(
    state: &AppState,
    scope: &Scope,
    key: &str,
    hash: &str,
    token: &str,
) -> ServiceResult<Claim> {
    let owner = state.node.id();
    let who = Claimant {
        owner: &owner,
        token,
    };
    let now = chrono::Utc::now();
    let mut conn = state.store.writer().await?;
    let claim = idempotency::claim(&mut conn, scope, key, hash, &who, now).await?;
    drop(conn);
    let Claim::Running {
        owner: Some(holder),
        token: old_token,
    } = &claim
    else {
        return Ok(claim);
    };
    if state.node.is_alive(&state.store, holder).await {
        return Ok(claim);
    }
    let mut conn = state.store.writer().await?;
    Ok(
        idempotency::take_over(&mut conn, scope, key, hash, &who, old_token.as_deref(), now)
            .await?,
    )
}

/// The id under which an organization's idempotency data key is kept: the
/// subject of responses about no erasable resource.
pub fn org_subject(scope: &Scope) -> String {
    format!("idem_{}", scope.organization_id)
}

/// Whose data key seals a response: the organization's own subject is shared
/// by its environments (the field names the environment); any other subject
/// (a customer) lives in the scope's environment.
fn key_owner<'a>(scope: &'a Scope, subject_id: &'a str) -> KeyOwner<'a> {
    if subject_id == org_subject(scope) {
        KeyOwner::organization_wide(&scope.organization_id, subject_id)
    } else {
        KeyOwner::scoped(scope, subject_id)
    }
}

fn field(scope: &Scope, key: &str) -> String {
    format!("idempotency:{}:{key}", scope.environment)
}

/// Seals a response under `subject_id`'s data key.
async fn seal(
    state: &AppState,
    conn: &mut Conn,
    scope: &Scope,
    key: &str,
    subject_id: &str,
    body: &str,
) -> ServiceResult<String> {
    let data_key = state
        .vault
        .customer_key(conn, key_owner(scope, subject_id))
        .await?;
    seal_under(state, &data_key, scope, key, subject_id, body)
}

fn seal_under(
    state: &AppState,
    data_key: &kycd_vault::DataKey,
    scope: &Scope,
    key: &str,
    subject_id: &str,
    body: &str,
) -> ServiceResult<String> {
    state.vault.seal_str(
        data_key,
        &scope.organization_id,
        subject_id,
        &field(scope, key),
        body,
    )
}

/// Stores the response of a request that wrote nothing (an error, a read)
/// under the organization's idempotency key, or forgets the claim when the
/// request failed on our side.
async fn record_after(
    state: &AppState,
    scope: &Scope,
    key: &str,
    token: &str,
    status: StatusCode,
    body: &[u8],
) -> ServiceResult<()> {
    let mut conn = state.store.writer().await?;
    if status.is_server_error() {
        return Ok(idempotency::release(&mut conn, scope, key, token).await?);
    }
    let owner = org_subject(scope);
    let sealed = seal(
        state,
        &mut conn,
        scope,
        key,
        &owner,
        &String::from_utf8_lossy(body),
    )
    .await?;
    idempotency::complete(
        &mut conn,
        scope,
        key,
        token,
        status.as_u16(),
        &sealed,
        Some(&owner),
    )
    .await?;
    Ok(())
}

/// Opens a stored response; its subject erased since: 404.
async fn open_body(
    state: &AppState,
    scope: &Scope,
    key: &str,
    subject_id: Option<&str>,
    sealed: &str,
) -> ServiceResult<String> {
    let mut conn = state.store.reader().await?;
    let org = &scope.organization_id;
    let owner = subject_id
        .map(str::to_string)
        .unwrap_or_else(|| org_subject(scope));
    let Some(data_key) = state
        .vault
        .existing_customer_key(&mut conn, key_owner(scope, &owner))
        .await?
    else {
        return Err(Refusal::not_found(
            "resource: it was deleted since this request was first made",
        )
        .into());
    };
    state
        .vault
        .open_str(&data_key, org, &owner, &field(scope, key), sealed)
}

/// What [`run_keyed`] did: ran the operation, or found the key completed
/// already and returns its stored answer.
#[derive(Debug)]
pub enum Keyed<T> {
    Fresh(T),
    Replayed { status: u16, body: String },
}

/// Runs `op` under an Idempotency-Key as the HTTP layer does, for callers
/// without HTTP (`kycd import`): the key is claimed (a claim of a dead
/// process is taken over), `op` writes its answer on its own transaction
/// with [`complete_in_tx`], and a key already completed returns the stored
/// answer instead of running `op` again. `request_hash` stands for the
/// request: the same key with another hash is `422 idempotency_key_reused`.
/// When `op` fails the claim is released, so a retry runs it again.
pub async fn run_keyed<T, F, Fut>(
    state: &AppState,
    scope: &Scope,
    key: &str,
    request_hash: &str,
    op: F,
) -> ServiceResult<Keyed<T>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ServiceResult<T>>,
{
    let token = kycd_store::ids::new("claim");
    match claim(state, scope, key, request_hash, &token).await? {
        Claim::Mismatch => Err(reused().into()),
        Claim::Running { .. } => Err(in_use().into()),
        Claim::Replay {
            status,
            body,
            subject_id,
        } => Ok(Keyed::Replayed {
            status,
            body: open_body(state, scope, key, subject_id.as_deref(), &body).await?,
        }),
        Claim::Claimed => {
            let slot = Arc::new(Mutex::new(Some(Pending {
                scope: scope.clone(),
                key: key.to_string(),
                token: token.clone(),
                recorded: false,
            })));
            match CURRENT.scope(slot, op()).await {
                Ok(v) => Ok(Keyed::Fresh(v)),
                Err(e) => {
                    if let Ok(mut conn) = state.store.writer().await {
                        let _ = idempotency::release(&mut conn, scope, key, &token).await;
                    }
                    Err(e)
                }
            }
        }
    }
}
