//! `/v1/events`: the outbox as the platform sees it, each event's webhook
//! delivery attempts, and manual redelivery.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::IdPath;
use crate::http::{ApiQuery, List, OptionalJson, Page};
use crate::openapi::resources::{DeliveryAttempt, Redelivery, ScheduledDelivery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kycd_core::ids::{EventId, WebhookEndpointId};
use kycd_store::Scope;
use kycd_store::events::{self, Event, EventFilter};
use kycd_store::webhooks::{self as hooks, deliveries};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list))
        .route("/v1/events/{id}", get(retrieve))
        .route("/v1/events/{id}/deliveries", get(list_deliveries))
        .route("/v1/events/{id}/redeliver", post(redeliver))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    customer_id: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<List<Value>>> {
    let page = Page {
        limit: q.limit,
        starting_after: q.starting_after,
    };
    if let Some(t) = &q.event_type
        && !kycd_core::events::ALL.contains(&t.as_str())
    {
        return Err(ApiError::invalid_field(
            "type",
            "unknown event type (the types are listed in the OpenAPI document's EventType)",
        ));
    }
    let f = EventFilter {
        event_type: q.event_type,
        customer_id: q.customer_id,
        starting_after: page.starting_after.clone(),
        limit: page.limit()?,
    };
    let mut conn = s.store.reader().await?;
    let (data, has_more) = events::list(&mut conn, &caller.scope, &f).await?;
    Ok(Json(List::new(
        data.iter().map(|e| e.payload()).collect(),
        has_more,
    )))
}

async fn retrieve(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<EventId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(load(&s, &caller.scope, &id).await?.payload()))
}

async fn load(s: &AppState, scope: &Scope, id: &EventId) -> ApiResult<Event> {
    let mut conn = s.store.reader().await?;
    events::get(&mut conn, scope, id)
        .await
        .map_err(|e| match e {
            kycd_store::StoreError::NotFound => ApiError::not_found("event"),
            e => e.into(),
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    endpoint_id: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// The attempts made to deliver an event, newest first.
async fn list_deliveries(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<EventId>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<List<DeliveryAttempt>>> {
    let page = Page {
        limit: q.limit,
        starting_after: q.starting_after,
    };
    let limit = page.limit()?;
    let e = load(&s, &caller.scope, &id).await?;
    let mut conn = s.store.reader().await?;
    let (data, has_more) = deliveries::attempts(
        &mut conn,
        &caller.scope,
        &e.id,
        q.endpoint_id.as_deref(),
        page.starting_after.as_deref(),
        limit,
    )
    .await?;
    let data = data
        .iter()
        .map(|a| {
            let status = match (a.status_code, &a.error) {
                (Some(c), _) if (200..300).contains(&c) => "succeeded",
                (None, None) => "in_progress",
                _ => "failed",
            };
            DeliveryAttempt {
                id: a.id.clone(),
                object: "webhook_delivery_attempt",
                event_id: e.id.clone(),
                endpoint_id: a.endpoint_id.clone(),
                url: a.url.clone(),
                delivery_id: a.delivery_id.clone(),
                attempt: a.attempt,
                status,
                status_code: a.status_code,
                duration_ms: a.duration_ms,
                error: a.error.clone(),
                created_at: a.at,
                delivery_status: a.delivery_status.clone(),
                next_attempt_at: a.next_attempt_at,
            }
        })
        .collect();
    Ok(Json(List::new(data, has_more)))
}

/// The optional body of `POST /v1/events/{id}/redeliver`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RedeliverRequest)]
pub struct RedeliverBody {
    /// Only to this endpoint (`we_…`; an unknown one is `404`); default: every
    /// enabled endpoint subscribed to the event's type.
    endpoint_id: Option<String>,
}

/// Delivers the event again: to one endpoint, or to every enabled endpoint
/// that subscribes to its type. Each gets a new round of attempts with the
/// full retry schedule; receivers see the same `webhook-id`.
async fn redeliver(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<EventId>,
    OptionalJson(body): OptionalJson<RedeliverBody>,
) -> ApiResult<(StatusCode, Json<Redelivery>)> {
    let e = load(&s, &caller.scope, &id).await?;
    let targets: Vec<String> = match &body.endpoint_id {
        Some(endpoint_id) => {
            let not_found = || ApiError::not_found("webhook endpoint").with_param("endpoint_id");
            if WebhookEndpointId::parse(endpoint_id).is_none() {
                return Err(not_found());
            }
            let mut conn = s.store.reader().await?;
            let ep = hooks::get(&mut conn, &caller.scope, endpoint_id)
                .await
                .map_err(|err| match err {
                    kycd_store::StoreError::NotFound => not_found(),
                    err => err.into(),
                })?;
            if ep.status != hooks::ENABLED {
                return Err(ApiError::conflict(
                    "endpoint_disabled",
                    "this webhook endpoint is disabled: re-enable it first (PATCH with \"disabled\": false)",
                )
                .with_param("endpoint_id"));
            }
            vec![ep.id]
        }
        None => {
            let mut conn = s.store.reader().await?;
            hooks::enabled_in_scope(&mut conn, &caller.scope)
                .await?
                .into_iter()
                .filter(|(_, types)| hooks::accepts(types, &e.event_type))
                .map(|(id, _)| id)
                .collect()
        }
    };
    let response = crate::service::with_retry(|| async {
        let mut tx = s.store.begin().await?;
        let ids =
            deliveries::redeliver(&mut tx, &caller.scope, &e.id, &targets, chrono::Utc::now())
                .await?;
        let deliveries = ids
            .iter()
            .zip(&targets)
            .map(|(d, ep)| ScheduledDelivery {
                delivery_id: d.clone(),
                endpoint_id: ep.clone(),
                status: "pending",
            })
            .collect();
        let response = Redelivery {
            object: "redelivery",
            event_id: e.id.clone(),
            deliveries,
        };
        // The replay of a redelivery names the same deliveries: written with
        // them (ids only: sealed under the organization's key).
        let subject = crate::idempotency::org_subject(&caller.scope);
        crate::idempotency::complete_in_tx(
            &s,
            &mut tx,
            crate::idempotency::Success::Accepted,
            &response,
            &subject,
        )
        .await?;
        tx.commit().await.map_err(kycd_store::StoreError::from)?;
        Ok(response)
    })
    .await?;
    s.outbox_notify.notify_one();
    Ok((StatusCode::ACCEPTED, Json(response)))
}
