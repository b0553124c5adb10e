//! `/v1/customers`: create (one, or many with `/v1/customers/batch`), read,
//! list, update, erase; verification start, activation, deactivation,
//! reactivation; explanation.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::IdPath;
use crate::http::{
    ApiQuery, List, OptionalJson, Page, RawBody, RequestId, created, parse_json,
    parse_json_envelope,
};
use crate::metrics::StageClock;
use crate::service::{self, customer_batch, customers, lifecycle};
use crate::state::AppState;
use crate::wire::{CustomerBatchResponse, CustomerResponse, CustomerVerificationResponse};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kycd_core::ids::CustomerId;
use kycd_core::input::{CustomerInput, VerificationRequest};
use kycd_core::status::CustomerStatus;
use serde::Deserialize;
use serde_json::Value;

/// The body limit of `POST /v1/customers/batch`: ten times the limit of other
/// bodies (`KYCD_MAX_BODY_BYTES`, 1 MiB by default, so 10 MiB), room for 1,000
/// customers of up to about 10 KiB each.
pub fn batch_body_limit(max_body_bytes: usize) -> usize {
    max_body_bytes.saturating_mul(10)
}

pub fn router(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/v1/customers", post(create).get(list))
        .route(
            "/v1/customers/batch",
            post(create_batch).layer(DefaultBodyLimit::max(batch_body_limit(max_body_bytes))),
        )
        .route(
            "/v1/customers/{id}",
            get(retrieve).patch(update).delete(erase),
        )
        .route(
            "/v1/customers/{id}/verification",
            post(start_verification).get(verification),
        )
        .route("/v1/customers/{id}/activate", post(activate))
        .route("/v1/customers/{id}/deactivate", post(deactivate))
        .route("/v1/customers/{id}/reactivate", post(reactivate))
        .route("/v1/customers/{id}/explanation", get(explanation))
}

/// `POST /v1/customers`, its stages timed (`kycd_create_stage_seconds`).
async fn create(
    State(s): State<AppState>,
    caller: Caller,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let mut clock = StageClock::start();
    let input: CustomerInput = parse_json(&body)?;
    clock.lap("parse");
    let cx = service::context(&s, &caller).await?;
    clock.lap("context");
    let c = customers::create(&s, &cx, input, &mut clock).await?;
    let response = created(CustomerResponse::from(c));
    clock.lap("respond");
    clock.finish(&s.metrics);
    Ok(response)
}

/// The body of `POST /v1/customers/batch`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CustomerBatchCreate)]
pub struct BatchBody {
    /// 1 to 1,000 customers, each exactly a `CustomerCreate` body (the body
    /// of `POST /v1/customers`). Each is validated on its own: an item the
    /// single create would refuse gets that error as its result, and the
    /// others are created.
    #[serde(default)]
    #[schema(required = true, min_items = 1, max_items = 1000, value_type = Vec<Object>)]
    customers: Vec<Value>,
}

/// Reads the batch: the envelope must be right (an object with 1 to 1,000
/// objects in `customers`), else the whole request is `400`; each item is
/// then parsed as `POST /v1/customers` parses its body, its error kept for
/// its result.
pub fn parse_batch(body: &[u8]) -> ApiResult<Vec<customer_batch::Item>> {
    let batch: BatchBody = parse_json_envelope(body)?;
    customer_batch::check_count(batch.customers.len())?;
    batch
        .customers
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            if !item.is_object() {
                return Err(ApiError::invalid_field(
                    format!("customers[{i}]"),
                    "must be a customer object",
                ));
            }
            let bytes = serde_json::to_vec(&item).map_err(|_| ApiError::internal())?;
            Ok(crate::http::parse_json::<CustomerInput>(&bytes))
        })
        .collect()
}

async fn create_batch(
    State(s): State<AppState>,
    caller: Caller,
    Extension(request_id): Extension<RequestId>,
    RawBody(body): RawBody,
) -> ApiResult<Json<CustomerBatchResponse>> {
    let items = parse_batch(&body)?;
    let cx = service::context(&s, &caller).await?;
    Ok(Json(
        customer_batch::create_many(&s, &cx, items, &request_id.0).await?,
    ))
}

async fn retrieve(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
) -> ApiResult<Json<CustomerResponse>> {
    let cx = service::context(&s, &caller).await?;
    Ok(Json(customers::get(&s, &cx, &id).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    external_id: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<CustomerResponse>>> {
    let page = Page {
        limit: q.limit,
        starting_after: q.starting_after,
    };
    let status = match q.status.as_deref().map(CustomerStatus::parse_filter) {
        Some(None) => return Err(ApiError::invalid_field("status", "unknown status")),
        Some(Some(st)) => Some(st.as_str().to_string()),
        None => None,
    };
    let cx = service::context(&s, &caller).await?;
    let blind_index =
        customers::contact_index(&s, &cx, q.email.as_deref(), q.phone.as_deref()).await?;
    let filter = kycd_store::customers::ListFilter {
        status,
        external_id: q.external_id,
        blind_index,
        starting_after: page.starting_after.clone(),
        limit: page.limit()?,
    };
    let (data, has_more) = customers::list(&s, &cx, filter).await?;
    Ok(Json(List::new(
        data.iter().map(CustomerResponse::from).collect(),
        has_more,
    )))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    body: Bytes,
) -> ApiResult<Json<CustomerResponse>> {
    let cx = service::context(&s, &caller).await?;
    Ok(Json(customers::update(&s, &cx, &id, &body).await?.into()))
}

async fn erase(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
) -> ApiResult<Response> {
    let cx = service::context(&s, &caller).await?;
    customers::erase(&s, &cx, &id).await?;
    Ok(Json(crate::openapi::schemas::DeletedCustomer {
        id: id.into_string(),
        object: "customer",
        deleted: true,
    })
    .into_response())
}

async fn start_verification(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    OptionalJson(req): OptionalJson<VerificationRequest>,
) -> ApiResult<Json<CustomerResponse>> {
    let cx = service::context(&s, &caller).await?;
    Ok(Json(lifecycle::start(&s, &cx, &id, req).await?.into()))
}

async fn verification(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
) -> ApiResult<Json<CustomerVerificationResponse>> {
    let cx = service::context(&s, &caller).await?;
    Ok(Json((&customers::get(&s, &cx, &id).await?).into()))
}

async fn activate(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
) -> ApiResult<Json<CustomerResponse>> {
    let cx = service::context(&s, &caller).await?;
    Ok(Json(lifecycle::activate(&s, &cx, &id).await?.into()))
}

/// The optional body of `POST /v1/customers/{id}/deactivate`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeactivateRequest)]
pub struct DeactivateBody {
    /// Why the customer is deactivated (kept in the status history).
    #[schema(max_length = 500)]
    reason: Option<String>,
}

async fn deactivate(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    OptionalJson(body): OptionalJson<DeactivateBody>,
) -> ApiResult<Json<CustomerResponse>> {
    let reason = body.reason.unwrap_or_else(|| "deactivated".into());
    if reason.chars().count() > 500 {
        return Err(ApiError::invalid_field(
            "reason",
            "must be at most 500 characters",
        ));
    }
    let cx = service::context(&s, &caller).await?;
    Ok(Json(
        lifecycle::deactivate(&s, &cx, &id, &reason).await?.into(),
    ))
}

async fn reactivate(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
) -> ApiResult<Json<CustomerResponse>> {
    let cx = service::context(&s, &caller).await?;
    // An operator's deactivation for compliance is lifted in the back office
    // only, where it needs a second admin.
    let mut conn = s.store.reader().await?;
    let history = kycd_store::customers::history(&mut conn, &cx.scope, &id).await?;
    drop(conn);
    if lifecycle::deactivated_for_compliance(&history) {
        return Err(ApiError::invalid_transition(
            "an operator deactivated this customer for compliance: only the back office can reactivate it (with a second admin)",
        ));
    }
    Ok(Json(lifecycle::reactivate(&s, &cx, &id).await?.into()))
}

async fn explanation(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
) -> ApiResult<Json<crate::openapi::schemas::Explanation>> {
    let cx = service::context(&s, &caller).await?;
    let c = customers::get(&s, &cx, &id).await?;
    let mut conn = s.store.reader().await?;
    let history = kycd_store::customers::history(&mut conn, &cx.scope, &id).await?;
    let beneficial_owners = match c.customer_type {
        kycd_core::customer::CustomerType::Business => {
            let (ev, _) = service::evaluation::evidence(&mut conn, &cx, &c).await?;
            Some(
                kycd_core::policy::owner_standings(&c, &ev)
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            )
        }
        kycd_core::customer::CustomerType::Individual => None,
    };
    Ok(Json(crate::openapi::schemas::Explanation {
        beneficial_owners,
        object: "explanation",
        summary: crate::explain::summary(&c, cx.now),
        next_steps: crate::explain::next_steps(&c),
        customer_id: c.id,
        status: c.status,
        history: history.into_iter().map(Into::into).collect(),
    }))
}
