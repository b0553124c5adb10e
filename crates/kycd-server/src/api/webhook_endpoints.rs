//! `/v1/webhook_endpoints`: register, read, list, update, delete endpoints
//! and rotate their signing secret. A secret is returned once (at creation or
//! rotation) and stored sealed in the vault. URLs pass the SSRF guard
//! (resolved addresses included) unless KYCD_WEBHOOK_ALLOW_PRIVATE is set.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::IdPath;
use crate::http::{ApiJson, ApiQuery, List, Page, created};
use crate::jobs::dispatcher::secrets::SecretSet;
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use kycd_core::ids::WebhookEndpointId;
use kycd_store::webhooks::{self as store, Endpoint, deliveries};
use kycd_store::{Scope, customers::insert_audit, ids};
use kycd_webhooks::{TargetHost, UrlError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook_endpoints", post(create).get(list))
        .route(
            "/v1/webhook_endpoints/{id}",
            get(retrieve).patch(update).delete(remove),
        )
        .route(
            "/v1/webhook_endpoints/{id}/rotate_secret",
            post(rotate_secret),
        )
}

const MAX_DESCRIPTION: usize = 500;

/// A webhook endpoint as the API shows it. `secret` (`whsec_…`) is present
/// only in the responses of create and `rotate_secret`: store it then.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct EndpointView {
    #[schema(example = "we_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = crate::openapi::schemas::webhook_endpoint_tag)]
    pub object: &'static str,
    #[schema(example = "https://example.com/webhooks/kycd")]
    pub url: String,
    #[schema(value_type = Vec<crate::openapi::enums::EnabledEvent>)]
    pub enabled_events: Vec<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    #[schema(value_type = crate::openapi::enums::WebhookEndpointStatus)]
    pub status: String,
    /// `manual`, or why kycd disabled it.
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    #[schema(value_type = crate::openapi::schemas::Environment)]
    pub environment: String,
    #[serde(with = "kycd_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<Utc>,
    #[serde(with = "kycd_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<Utc>,
    /// The signing secret (create and `rotate_secret` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")]
    pub secret: Option<String>,
    /// Until when the previous secret keeps signing (`rotate_secret` only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "kycd_core::time::rfc3339_opt"
    )]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub previous_secret_expires_at: Option<chrono::DateTime<Utc>>,
}

/// The API form of an endpoint (never its secrets).
pub fn view(e: &Endpoint) -> EndpointView {
    EndpointView {
        id: e.id.clone(),
        object: "webhook_endpoint",
        url: e.url.clone(),
        enabled_events: e.enabled_events.clone(),
        description: e.description.clone(),
        status: e.status.clone(),
        disabled_reason: e.disabled_reason.clone(),
        environment: e.scope.environment.clone(),
        created_at: e.created_at,
        updated_at: e.updated_at,
        secret: None,
        previous_secret_expires_at: None,
    }
}

/// `["*"]` or known event types, without duplicates.
fn parse_events(list: Vec<String>) -> ApiResult<Vec<String>> {
    if list.is_empty() {
        return Err(ApiError::invalid_field(
            "enabled_events",
            "give at least one event type, or [\"*\"] for all",
        ));
    }
    let mut out: Vec<String> = vec![];
    for (i, e) in list.into_iter().enumerate() {
        if e != "*" && !kycd_core::events::ALL.contains(&e.as_str()) {
            return Err(ApiError::invalid_field(
                "enabled_events",
                format!(
                    "enabled_events[{i}]: unknown event type (see GET /v1/events for the types kycd emits, or use \"*\")"
                ),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.len() > 1 && out.iter().any(|e| e == "*") {
        return Err(ApiError::invalid_field(
            "enabled_events",
            "\"*\" already means every event type: give it alone",
        ));
    }
    Ok(out)
}

/// Validates an endpoint URL and, unless private targets are allowed,
/// resolves its host and refuses loopback, private, link-local and metadata addresses.
pub async fn check_url(url: &str, allow_private: bool) -> ApiResult<String> {
    let bad = |m: String| ApiError::invalid_field("url", m);
    let target = match kycd_webhooks::check_url(url.trim()) {
        Ok(t) => t,
        Err(UrlError::ForbiddenHost | UrlError::ForbiddenAddress(_)) if allow_private => {
            return Ok(kycd_webhooks::Url::parse(url.trim())
                .map_err(|e| bad(e.to_string()))?
                .to_string());
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    if let TargetHost::Domain(name) = &target.host
        && !is_dns_name(name)
    {
        return Err(bad(
            "the host must be a DNS name (letters, digits and hyphens) or an IP address".into(),
        ));
    }
    if !allow_private && let TargetHost::Domain(name) = &target.host {
        let lookup = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::lookup_host((name.as_str(), target.port)),
        )
        .await;
        let addrs: Vec<_> = match lookup {
            Ok(Ok(a)) => a.map(|a| a.ip()).collect(),
            _ => return Err(bad("the host name could not be resolved".into())),
        };
        kycd_webhooks::check_resolved_addrs(addrs).map_err(|e| bad(e.to_string()))?;
    }
    Ok(target.url.to_string())
}

/// Letters, digits and hyphens in dot-separated labels of 1 to 63 characters
/// that neither start nor end with a hyphen (what DNS can resolve; the URL
/// parser lets through hosts such as `d2.info*`).
fn is_dns_name(name: &str) -> bool {
    name.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}

fn check_description(d: Option<String>) -> ApiResult<Option<String>> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(ApiError::invalid_field(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        )),
        d => Ok(d.filter(|d| !d.trim().is_empty())),
    }
}

async fn audit(
    conn: &mut kycd_store::Conn,
    s: &AppState,
    caller: &Caller,
    action: &str,
    e: &Endpoint,
) -> kycd_store::StoreResult<()> {
    insert_audit(
        conn,
        &*s.vault,
        &caller.scope,
        &caller.actor(),
        action,
        Some(&e.id),
        &json!({"url_host": kycd_webhooks::Url::parse(&e.url).ok().and_then(|u| u.host_str().map(str::to_string))}),
        Utc::now(),
    )
    .await?;
    Ok(())
}

/// The body of `POST /v1/webhook_endpoints`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookEndpointCreate)]
pub struct CreateBody {
    /// Where to deliver (`http` or `https`); private and loopback addresses are
    /// refused unless the operator allows them.
    #[schema(schema_with = crate::openapi::enums::webhook_url)]
    url: String,
    /// Event types to deliver, or `["*"]` (the default) for all.
    #[schema(schema_with = crate::openapi::enums::enabled_events)]
    enabled_events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    description: Option<String>,
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Response> {
    let url = check_url(&body.url, s.config.webhook_allow_private).await?;
    let enabled_events = parse_events(body.enabled_events.unwrap_or_else(|| vec!["*".into()]))?;
    let description = check_description(body.description)?;
    let now = Utc::now();
    let set = SecretSet::generate();
    let mut e = Endpoint {
        id: ids::new("we"),
        scope: caller.scope.clone(),
        url,
        enabled_events,
        description,
        secrets: String::new(),
        status: store::ENABLED.into(),
        disabled_reason: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = s.store.begin().await?;
    e.secrets = set.seal(&s, &mut tx, &caller.scope, &e.id).await?;
    store::insert(&mut tx, &e).await?;
    audit(&mut tx, &s, &caller, "webhook_endpoint.create", &e).await?;
    let mut v = view(&e);
    v.secret = Some(set.current().to_string());
    // The stored replay holds the secret: sealed under the endpoint's key,
    // which deleting the endpoint destroys.
    crate::idempotency::complete_in_tx(
        &s,
        &mut tx,
        crate::idempotency::Success::Created,
        &v,
        &e.id,
    )
    .await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    Ok(created(v))
}

async fn load(s: &AppState, scope: &Scope, id: &WebhookEndpointId) -> ApiResult<Endpoint> {
    let mut conn = s.store.reader().await?;
    store::get(&mut conn, scope, id).await.map_err(|e| match e {
        kycd_store::StoreError::NotFound => ApiError::not_found("webhook endpoint"),
        e => e.into(),
    })
}

async fn retrieve(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<WebhookEndpointId>,
) -> ApiResult<Json<EndpointView>> {
    Ok(Json(view(&load(&s, &caller.scope, &id).await?)))
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<List<EndpointView>>> {
    let limit = page.limit()?;
    let mut conn = s.store.reader().await?;
    let (data, has_more) = store::list(
        &mut conn,
        &caller.scope,
        page.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(List::new(data.iter().map(view).collect(), has_more)))
}

/// The body of `PATCH /v1/webhook_endpoints/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookEndpointUpdate)]
pub struct UpdateBody {
    #[schema(schema_with = crate::openapi::enums::webhook_url_update)]
    url: Option<String>,
    #[schema(schema_with = crate::openapi::enums::enabled_events)]
    enabled_events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    description: Option<String>,
    /// `true` disables the endpoint; `false` re-enables it and resumes the
    /// deliveries its disabling canceled.
    disabled: Option<bool>,
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<WebhookEndpointId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<EndpointView>> {
    let mut e = load(&s, &caller.scope, &id).await?;
    if let Some(u) = body.url {
        e.url = check_url(&u, s.config.webhook_allow_private).await?;
    }
    if let Some(list) = body.enabled_events {
        e.enabled_events = parse_events(list)?;
    }
    if body.description.is_some() {
        e.description = check_description(body.description)?;
    }
    let now = Utc::now();
    let was_enabled = e.status == store::ENABLED;
    match body.disabled {
        Some(true) if was_enabled => {
            e.status = store::DISABLED.into();
            e.disabled_reason = Some("manual".into());
        }
        Some(false) if !was_enabled => {
            e.status = store::ENABLED.into();
            e.disabled_reason = None;
            e.failing_since = None;
        }
        _ => {}
    }
    e.updated_at = now;
    let now_enabled = e.status == store::ENABLED;
    crate::service::with_retry(|| async {
        let mut tx = s.store.begin().await?;
        store::update(&mut tx, &e, body.disabled.is_some()).await?;
        if was_enabled && !now_enabled {
            deliveries::cancel_pending(&mut tx, &e.id, now).await?;
        } else if !was_enabled && now_enabled {
            store::record_health(&mut tx, &e.id, true, now).await?;
            deliveries::resume_canceled(&mut tx, &e.id, now).await?;
        }
        audit(&mut tx, &s, &caller, "webhook_endpoint.update", &e).await?;
        tx.commit().await.map_err(kycd_store::StoreError::from)?;
        Ok(())
    })
    .await?;
    if !was_enabled && now_enabled {
        s.outbox_notify.notify_one();
    }
    Ok(Json(view(&e)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<WebhookEndpointId>,
) -> ApiResult<Json<crate::openapi::resources::DeletedWebhookEndpoint>> {
    let e = load(&s, &caller.scope, &id).await?;
    // The dispatcher locks the endpoint's deliveries while it claims them: a
    // deadlock with it is retried here rather than answered 409.
    let deleted = service::with_retry(|| async {
        let mut tx = s.store.begin().await?;
        if !store::delete(&mut tx, &caller.scope, &e.id, Utc::now()).await? {
            return Ok(false);
        }
        audit(&mut tx, &s, &caller, "webhook_endpoint.delete", &e).await?;
        tx.commit().await.map_err(kycd_store::StoreError::from)?;
        Ok(true)
    })
    .await?;
    if !deleted {
        return Err(ApiError::not_found("webhook endpoint"));
    }
    Ok(Json(crate::openapi::resources::DeletedWebhookEndpoint {
        id: e.id,
        object: "webhook_endpoint",
        deleted: true,
    }))
}

async fn rotate_secret(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<WebhookEndpointId>,
) -> ApiResult<Json<EndpointView>> {
    let mut e = load(&s, &caller.scope, &id).await?;
    // Previous secrets expire on the scope's clock (the sandbox clock can move them along).
    let cx = service::context(&s, &caller).await?;
    let mut tx = s.store.begin().await?;
    let mut set = SecretSet::open(&s, &mut tx, &caller.scope, &e.id, &e.secrets).await?;
    let previous_expires_at = set.rotate(cx.now);
    let sealed = set.seal(&s, &mut tx, &caller.scope, &e.id).await?;
    e.updated_at = Utc::now();
    if !store::replace_secrets(
        &mut tx,
        &caller.scope,
        &e.id,
        &e.secrets,
        &sealed,
        e.updated_at,
    )
    .await?
    {
        return Err(ApiError::conflict(
            "concurrent_update",
            "the endpoint changed meanwhile: retry",
        ));
    }
    e.secrets = sealed;
    audit(&mut tx, &s, &caller, "webhook_endpoint.rotate_secret", &e).await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    let mut v = view(&e);
    v.secret = Some(set.current().to_string());
    v.previous_secret_expires_at = Some(previous_expires_at);
    Ok(Json(v))
}
