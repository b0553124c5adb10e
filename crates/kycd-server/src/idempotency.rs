//! The Idempotency-Key middleware for POST requests: the first response is
//! stored and replayed; the same key with another body is 422; a retry while
//! the first still runs is 409.

use crate::auth::Ctx;
use crate::error::ApiError;
use crate::http::{buffer, json_response};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kycd_store::idempotency::{self, Claim};
use sha2::{Digest, Sha256};

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
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let limit = state.config.max_document_bytes * 2;
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
    let now = chrono::Utc::now();
    let claim = match state.store.writer().await {
        Ok(mut conn) => idempotency::claim(&mut conn, &ctx.scope, &key, &hash, now).await,
        Err(e) => Err(e),
    };
    match claim {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::Mismatch) => ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_error",
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        )
        .into_response(),
        Ok(Claim::InProgress) => ApiError::conflict(
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed: retry shortly",
        )
        .into_response(),
        Ok(Claim::Replay { status, body }) => {
            let body = match open_body(&state, &ctx.scope, &key, &body).await {
                Ok(b) => b,
                Err(e) => return e.into_response(),
            };
            let mut res = json_response(status, body.into());
            res.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            res
        }
        Ok(Claim::Claimed) => {
            let req = Request::from_parts(parts, Body::from(bytes));
            let res = next.run(req).await;
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
            if let Err(e) = record(&state, &ctx.scope, &key, status, &body).await {
                tracing::error!(code = e.code, "idempotency bookkeeping failed");
            }
            let mut res = Response::from_parts(parts, Body::from(body));
            if let Some(err) = err {
                res.extensions_mut().insert(err);
            }
            res
        }
    }
}

/// The id under which an organization's idempotency data key is kept.
fn key_owner(scope: &kycd_store::Scope) -> String {
    format!("idem_{}", scope.organization_id)
}

/// Stores the response sealed with the organization's idempotency data key
/// (responses carry personal data and, for webhook endpoints, secrets), or
/// forgets the claim when the request failed on our side.
async fn record(
    state: &AppState,
    scope: &kycd_store::Scope,
    key: &str,
    status: axum::http::StatusCode,
    body: &[u8],
) -> Result<(), ApiError> {
    let mut conn = state.store.writer().await?;
    if status.is_server_error() {
        return Ok(idempotency::release(&mut conn, scope, key).await?);
    }
    let org = &scope.organization_id;
    let data_key = state
        .vault
        .customer_key(&mut conn, org, &key_owner(scope))
        .await?;
    let field = format!("idempotency:{}:{key}", scope.environment);
    let sealed = state.vault.seal_str(
        &data_key,
        org,
        &key_owner(scope),
        &field,
        &String::from_utf8_lossy(body),
    )?;
    Ok(idempotency::complete(&mut conn, scope, key, status.as_u16(), &sealed).await?)
}

async fn open_body(
    state: &AppState,
    scope: &kycd_store::Scope,
    key: &str,
    sealed: &str,
) -> Result<String, ApiError> {
    let mut conn = state.store.reader().await?;
    let org = &scope.organization_id;
    let data_key = state
        .vault
        .existing_customer_key(&mut conn, org, &key_owner(scope))
        .await?
        .ok_or_else(ApiError::internal)?;
    let field = format!("idempotency:{}:{key}", scope.environment);
    state
        .vault
        .open_str(&data_key, org, &key_owner(scope), &field, sealed)
}
