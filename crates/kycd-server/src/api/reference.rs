//! Reference data: rejection reasons, requirements, usage.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiQuery, List};
use crate::openapi::schemas::Usage;
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use kycd_core::customer::{CustomerType, Level, Mode};
use kycd_core::policy::{self, Product};
use kycd_core::reasons::{ReasonInfo, RejectionReason};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/rejection_reasons", get(rejection_reasons))
        .route("/v1/requirements", get(requirements))
        .route("/v1/usage", get(usage))
}

async fn rejection_reasons() -> Json<List<ReasonInfo>> {
    Json(List::new(
        RejectionReason::ALL.iter().map(|r| r.info()).collect(),
        false,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementsQuery {
    #[serde(rename = "type")]
    customer_type: Option<String>,
    level: Option<String>,
    mode: Option<String>,
    product: Option<String>,
}

async fn requirements(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RequirementsQuery>,
) -> ApiResult<Json<List<&'static policy::Requirement>>> {
    let t = match q.customer_type.as_deref() {
        None => CustomerType::Individual,
        Some(t) => CustomerType::parse(t)
            .ok_or_else(|| ApiError::invalid_field("type", "must be individual or business"))?,
    };
    let level = match q.level.as_deref() {
        None => Level::Basic,
        Some(l) => Level::parse(l)
            .ok_or_else(|| ApiError::invalid_field("level", "must be basic or full"))?,
    };
    let mode = match q.mode.as_deref() {
        None | Some("hosted") => Mode::Hosted,
        Some("reliance") => Mode::Reliance,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "mode",
                "must be hosted or reliance",
            ));
        }
    };
    let cx = service::context(&s, &caller).await?;
    let codes: Vec<String> = match q.product.as_deref() {
        None => policy::requirements_for(t, level, mode)
            .iter()
            .map(|c| c.to_string())
            .collect(),
        Some(p) => {
            let product = Product::parse(p).ok_or_else(|| {
                ApiError::invalid_field("product", "must be cards or virtual_accounts")
            })?;
            policy::product_requirements(&cx.settings, t, product, mode)
        }
    };
    let data = codes
        .iter()
        .filter_map(|c| policy::requirement(c))
        .collect();
    Ok(Json(List::new(data, false)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageQuery {
    month: Option<String>,
}

async fn usage(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> ApiResult<Json<Usage>> {
    let cx = service::context(&s, &caller).await?;
    let month = match q.month {
        None => cx.now.format("%Y-%m").to_string(),
        Some(m) => {
            let ok = m.len() == 7
                && chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok();
            if !ok {
                return Err(ApiError::invalid_field("month", "must be YYYY-MM"));
            }
            m
        }
    };
    let mut conn = s.store.reader().await?;
    let mut count =
        async |metric| kycd_store::usage::count(&mut conn, &cx.scope, &month, metric).await;
    let customers_created = count(kycd_store::usage::CUSTOMERS_CREATED).await?;
    let verifications_started = count(kycd_store::usage::VERIFICATIONS_STARTED).await?;
    let product_access_requests = count(kycd_store::usage::PRODUCT_ACCESS_REQUESTS).await?;
    Ok(Json(Usage {
        object: "usage",
        month,
        environment: cx.scope.environment.clone(),
        customers_created,
        verifications_started,
        product_access_requests,
    }))
}
