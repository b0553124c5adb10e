//! `/v1/test_helpers`: sandbox-only helpers. Forced outcomes go through the
//! same domain operations, transitions and events as production (customer
//! verification outcomes, the clock, product-access decisions). With a live
//! key every path here is 404.

pub mod documents;
pub mod screening;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::http::IdPath;
use crate::openapi::resources::TestClock;
use crate::service::{self, lifecycle::ReviewerDecision};
use crate::state::AppState;
use crate::wire::CustomerResponse;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use kycd_core::ids::{CustomerId, ProductAccessId};
use kycd_core::reasons::RejectionReason;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/test_helpers/customers/{id}/verification",
            post(force_verification),
        )
        .route("/v1/test_helpers/clock/advance", post(advance_clock))
        .route(
            "/v1/test_helpers/product_access/{id}",
            post(decide_product_access),
        )
        .route(
            "/v1/test_helpers/{*rest}",
            axum::routing::any(crate::http::not_found),
        )
        .route_layer(axum::middleware::from_fn(sandbox_only))
}

pub(crate) async fn sandbox_only(req: Request, next: Next) -> Response {
    match req.extensions().get::<Caller>() {
        Some(caller) if caller.is_sandbox() => next.run(req).await,
        _ => crate::http::not_found().await.into_response(),
    }
}

/// Forces a verification outcome (sandbox only).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ForceVerificationRequest)]
pub struct ForceBody {
    #[schema(schema_with = crate::openapi::enums::forced_verification_outcome)]
    status: String,
    /// For `rejected` (default `data_mismatch`).
    #[schema(value_type = Option<kycd_core::reasons::RejectionReason>)]
    rejection_reason: Option<String>,
    /// For `needs_information`: the missing requirement codes (default: what the policy still misses).
    #[schema(schema_with = crate::openapi::enums::requirement_codes)]
    missing: Option<Vec<String>>,
}

async fn force_verification(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    ApiJson(body): ApiJson<ForceBody>,
) -> ApiResult<Json<CustomerResponse>> {
    let decision = match body.status.as_str() {
        "approved" => ReviewerDecision::Approve,
        "rejected" => {
            let code = body.rejection_reason.as_deref().unwrap_or("data_mismatch");
            let r = RejectionReason::parse(code).ok_or_else(|| {
                ApiError::invalid_field("rejection_reason", "unknown rejection reason")
            })?;
            ReviewerDecision::Reject(r)
        }
        // Without `missing`: what the policy still misses (possibly nothing,
        // then any update re-submits).
        "needs_information" => {
            let missing = body.missing.unwrap_or_default();
            if let Some(i) = missing
                .iter()
                .position(|code| kycd_core::policy::requirement(code).is_none())
            {
                return Err(ApiError::invalid_field(
                    format!("missing[{i}]"),
                    "unknown requirement code (GET /v1/requirements lists them)",
                ));
            }
            ReviewerDecision::RequestInformation(missing)
        }
        "on_hold" => ReviewerDecision::Hold,
        "expired" => ReviewerDecision::Expire,
        _ => {
            return Err(ApiError::invalid_field(
                "status",
                "must be approved, rejected, needs_information, on_hold or expired",
            ));
        }
    };
    review_as_helper(&s, &caller, &id, decision).await
}

/// Moves the sandbox clock forward: `days`, `seconds` or both (each at most
/// ten years), a positive total.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AdvanceClockRequest)]
pub struct AdvanceBody {
    #[schema(minimum = 0, maximum = 3660, example = 30)]
    days: Option<i64>,
    #[schema(minimum = 0, maximum = 316_224_000)]
    seconds: Option<i64>,
}

/// The most one advance may move the clock by, per field (ten years).
const MAX_ADVANCE_DAYS: i64 = 3660;

async fn advance_clock(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AdvanceBody>,
) -> ApiResult<Json<TestClock>> {
    let (days, seconds) = (body.days.unwrap_or(0), body.seconds.unwrap_or(0));
    if !(0..=MAX_ADVANCE_DAYS).contains(&days) {
        return Err(ApiError::invalid_field(
            "days",
            format!("must be from 0 to {MAX_ADVANCE_DAYS} (ten years)"),
        ));
    }
    if !(0..=MAX_ADVANCE_DAYS * 86_400).contains(&seconds) {
        return Err(ApiError::invalid_field(
            "seconds",
            "must be from 0 to ten years of seconds",
        ));
    }
    let secs = days * 86_400 + seconds;
    if secs == 0 {
        return Err(ApiError::invalid_field(
            "days",
            "give days or seconds: a positive amount",
        ));
    }
    let defaults =
        serde_json::to_string(&kycd_core::policy::Settings::defaults(false)).unwrap_or_default();
    let mut conn = s.store.writer().await?;
    let offset = kycd_store::orgs::advance_clock(&mut conn, &caller.scope, &defaults, secs).await?;
    s.settings_cache.invalidate(&caller.scope);
    drop(conn);
    let ran = crate::jobs::scheduler::run_due(&s, Some(&caller.scope), offset).await?;
    crate::jobs::run_due_webhooks(&s).await;
    let now = chrono::Utc::now() + chrono::Duration::seconds(offset);
    Ok(Json(TestClock {
        object: "test_clock",
        offset_seconds: offset,
        now,
        processed: ran,
    }))
}

/// Decides a pending product-access request as a reviewer would (sandbox only).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DecideProductAccessRequest)]
pub struct ProductAccessBody {
    #[schema(schema_with = crate::openapi::enums::forced_product_access_outcome)]
    status: String,
    /// Only with `rejected`: a snake_case code of at most 64 characters.
    #[schema(schema_with = crate::openapi::enums::reviewer_code)]
    rejection_reason: Option<String>,
}

/// Decides a pending product-access request as a reviewer would.
async fn decide_product_access(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProductAccessId>,
    ApiJson(body): ApiJson<ProductAccessBody>,
) -> ApiResult<Json<crate::wire::ProductAccessResponse>> {
    let grant = match body.status.as_str() {
        "granted" => true,
        "rejected" => false,
        _ => {
            return Err(ApiError::invalid_field(
                "status",
                "must be granted or rejected",
            ));
        }
    };
    if let Some(r) = &body.rejection_reason {
        let ok = !r.is_empty()
            && r.len() <= 64
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok || grant {
            return Err(ApiError::invalid_field(
                "rejection_reason",
                "only with status rejected: a snake_case code of at most 64 characters",
            ));
        }
    }
    let cx = service::context(&s, &caller).await?;
    let cx = service::OperationContext {
        actor: format!("test_helper:{}", caller.key_id),
        ..cx
    };
    Ok(Json(
        service::products::decide(&s, &cx, &id, grant, body.rejection_reason)
            .await?
            .into(),
    ))
}

/// Applies a reviewer decision on behalf of the sandbox (actor `test_helper:<key>`),
/// through the same domain operation the back office uses.
pub(crate) async fn review_as_helper(
    s: &AppState,
    caller: &Caller,
    id: &str,
    decision: ReviewerDecision,
) -> ApiResult<Json<CustomerResponse>> {
    let cx = service::context(s, caller).await?;
    let cx = service::OperationContext {
        actor: format!("test_helper:{}", caller.key_id),
        ..cx
    };
    Ok(Json(
        service::lifecycle::review(s, &cx, id, decision)
            .await?
            .into(),
    ))
}
