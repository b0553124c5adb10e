//! `POST /webhooks/inbound/sumsub/{organization_id}` (and the deprecated
//! global `POST /webhooks/inbound/{provider}`): provider webhooks (no API
//! key). The signature is checked on the raw body before anything is stored,
//! with the organization's `webhook_secret` (`PUT /v1/providers/sumsub`); a
//! valid payload lands in the durable inbox once (a provider's retry is a
//! no-op) and the inbound worker applies it.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use kycd_store::webhooks::inbound::{self, Inbound};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/inbound/{provider}", post(receive))
        .route(
            "/webhooks/inbound/sumsub/{organization_id}",
            post(receive_for_organization),
        )
}

fn invalid_signature(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "authentication_error",
        "invalid_signature",
        message,
    )
}

/// Sumsub: `X-Payload-Digest` = hex HMAC of the raw body under the webhook
/// secret, with the algorithm in `X-Payload-Digest-Alg` (HMAC_SHA1_HEX when
/// absent): `kycd_webhooks::verify_payload_digest`.
pub fn verify_sumsub(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    kycd_webhooks::verify_payload_digest(
        secret.as_bytes(),
        header("x-payload-digest-alg"),
        header("x-payload-digest"),
        body,
    )
    .map_err(|e| invalid_signature(&e.to_string()))
}

async fn read_body(req: Request) -> ApiResult<Bytes> {
    Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large("the request body is too large")
        } else {
            ApiError::invalid_request("the request body could not be read")
        }
    })
}

/// The deprecated global secret (`KYCD_SUMSUB_WEBHOOK_SECRET`), kept for one
/// release as a fallback.
fn verify_global(s: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let Some(secret) = s
        .config
        .sumsub_webhook_secret
        .as_ref()
        .map(secrecy::ExposeSecret::expose_secret)
    else {
        return Err(invalid_signature(
            "inbound sumsub webhooks are not configured (PUT /v1/providers/sumsub)",
        ));
    };
    verify_sumsub(secret, headers, body)?;
    tracing::warn!(
        "KYCD_SUMSUB_WEBHOOK_SECRET is deprecated: configure Sumsub per organization (PUT /v1/providers/sumsub) and use /webhooks/inbound/sumsub/{{organization_id}}"
    );
    Ok(())
}

async fn receive(
    State(s): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Json<Value>> {
    let body = read_body(req).await?;
    match provider.as_str() {
        "sumsub" => verify_global(&s, &headers, &body)?,
        _ => return Err(ApiError::not_found("inbound webhook provider")),
    }
    store(&s, provider, &body, None).await
}

/// Sumsub's webhooks for one organization: checked against the
/// `webhook_secret` of its sandbox or live configuration (whichever signed
/// it names the environment), else the deprecated global secret.
async fn receive_for_organization(
    State(s): State<AppState>,
    Path(organization_id): Path<String>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Json<Value>> {
    let body = read_body(req).await?;
    let mut scope = None;
    if kycd_core::ids::is_prefixed("org", &organization_id) {
        for env in ["sandbox", "live"] {
            let candidate = kycd_store::Scope::new(organization_id.clone(), env);
            if let Some(cfg) = crate::providers::sumsub::load(&s, &candidate).await?
                && verify_sumsub(cfg.webhook_secret(), &headers, &body).is_ok()
            {
                scope = Some(candidate);
                break;
            }
        }
    }
    if scope.is_none() {
        verify_global(&s, &headers, &body)?;
    }
    store(&s, "sumsub".into(), &body, scope).await
}

/// Stores a verified payload in the inbox (once) and wakes the worker.
async fn store(
    s: &AppState,
    provider: String,
    body: &[u8],
    scope: Option<kycd_store::Scope>,
) -> ApiResult<Json<Value>> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid_request("the payload must be a JSON object"))?;
    let text = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_string);
    let w = Inbound {
        id: kycd_store::ids::new("iwh"),
        external_id: hex::encode(Sha256::digest(body)),
        event_type: text("type"),
        subject: text("applicantId"),
        payload: String::from_utf8_lossy(body).into_owned(),
        received_at: chrono::Utc::now(),
        provider,
        scope,
    };
    let mut conn = s.store.writer().await?;
    let stored = inbound::insert(&mut conn, &w).await?;
    drop(conn);
    if stored {
        let state = s.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::jobs::inbound::process_pending(&state).await {
                tracing::warn!(error = %e, location = %e.location, "inbound webhook processing deferred");
            }
        });
    }
    Ok(Json(json!({"received": true, "duplicate": !stored})))
}
