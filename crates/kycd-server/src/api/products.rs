//! `/v1/customers/{id}/product_access`, `/v1/customers/{id}/capabilities` and
//! `/v1/capability_checks` (the hot path of payments: one read, no settings).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Reason};
use crate::http::{ApiJson, ApiQuery, List, Page, created};
use crate::http::{IdPath, IdsPath};
use crate::openapi::resources::CapabilityCheck;
use crate::service::{self, products};
use crate::state::AppState;
use crate::wire::ProductAccessResponse;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kycd_core::capabilities::Capability;
use kycd_core::ids::{CustomerId, ProductAccessId};
use kycd_core::policy::Product;
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/customers/{id}/product_access", post(request).get(list))
        .route("/v1/customers/{id}/product_access/{pa_id}", get(retrieve))
        .route("/v1/customers/{id}/capabilities", get(capabilities))
        .route("/v1/capability_checks", post(check))
}

/// The body of `POST /v1/customers/{id}/product_access`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProductAccessRequest)]
pub struct RequestBody {
    #[schema(value_type = kycd_core::policy::Product)]
    product: Option<String>,
}

fn product(value: Option<&str>) -> ApiResult<Product> {
    value
        .and_then(Product::parse)
        .ok_or_else(|| ApiError::invalid_field("product", "must be cards or virtual_accounts"))
}

/// 201 with a new request; 200 with the open (pending or granted) one when
/// the product was already requested.
async fn request(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    ApiJson(body): ApiJson<RequestBody>,
) -> ApiResult<Response> {
    let product = product(body.product.as_deref())?;
    let cx = service::context(&s, &caller).await?;
    let (pa, is_new) = products::request(&s, &cx, &id, product).await?;
    let pa = ProductAccessResponse::from(pa);
    Ok(if is_new {
        created(pa)
    } else {
        Json(pa).into_response()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<ProductAccessResponse>>> {
    let page = Page {
        limit: q.limit,
        starting_after: q.starting_after,
    };
    let limit = page.limit()?;
    let (data, has_more) = products::list(
        &s,
        &caller.scope,
        &id,
        page.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(List::new(
        data.iter().map(ProductAccessResponse::from).collect(),
        has_more,
    )))
}

async fn retrieve(
    State(s): State<AppState>,
    caller: Caller,
    IdsPath(id, pa_id): IdsPath<CustomerId, ProductAccessId>,
) -> ApiResult<Json<ProductAccessResponse>> {
    Ok(Json(
        products::get(&s, &caller.scope, &id, &pa_id).await?.into(),
    ))
}

async fn capabilities(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(products::capabilities(&s, &caller.scope, &id).await?))
}

/// The body of `POST /v1/capability_checks`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CapabilityCheckRequest)]
pub struct CheckBody {
    /// The customer (`cus_…`); an unknown one is `404`.
    #[schema(value_type = String, min_length = 1, example = "cus_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    customer_id: Option<String>,
    #[schema(schema_with = crate::openapi::enums::capability, required = true)]
    capability: Option<String>,
}

/// 200 `{"allowed": true}` or 403 `missing_capability` naming the step to take.
async fn check(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CheckBody>,
) -> ApiResult<Json<CapabilityCheck>> {
    let Some(customer_id) = body.customer_id.filter(|c| !c.is_empty()) else {
        return Err(ApiError::invalid_field(
            "customer_id",
            "a customer id (cus_…) is required",
        ));
    };
    let cap = body
        .capability
        .as_deref()
        .and_then(Capability::parse)
        .ok_or_else(|| {
            ApiError::invalid_field("capability", "must be transact, cards or virtual_accounts")
        })?;
    let state = products::check(&s, &caller.scope, &customer_id, cap).await?;
    if state.is_enabled() {
        return Ok(Json(CapabilityCheck {
            object: "capability_check",
            allowed: true,
            customer_id,
            capability: cap.as_str(),
            status: "enabled",
        }));
    }
    let reason = state.reason.unwrap_or("missing_capability");
    let message = state.message.unwrap_or_default();
    Err(ApiError::missing_capability(format!(
        "{} is not available for this customer: {message}",
        cap.as_str()
    ))
    .with_reasons(vec![Reason {
        code: reason.to_string(),
        message,
        param: None,
    }]))
}
