//! Sandbox helper for screening reviews: confirm or dismiss the possible
//! matches of a customer on hold, as a compliance reviewer would.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::http::IdPath;
use crate::service::lifecycle::ReviewerDecision;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use kycd_core::ids::CustomerId;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/test_helpers/customers/{id}/screening", post(decide))
        .route_layer(axum::middleware::from_fn(super::sandbox_only))
}

/// Confirms or dismisses the possible screening matches of a customer `on_hold` (sandbox only).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ScreeningDecisionRequest)]
pub struct Body {
    #[schema(schema_with = crate::openapi::enums::screening_decision)]
    decision: String,
}

async fn decide(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    ApiJson(b): ApiJson<Body>,
) -> ApiResult<Json<crate::wire::CustomerResponse>> {
    let decision = match b.decision.as_str() {
        "confirm" => ReviewerDecision::ConfirmMatch,
        "dismiss" => ReviewerDecision::DismissMatch,
        _ => {
            return Err(ApiError::invalid_field(
                "decision",
                "must be confirm or dismiss",
            ));
        }
    };
    super::review_as_helper(&s, &caller, &id, decision).await
}
