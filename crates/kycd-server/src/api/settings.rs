//! `/v1/settings`: the organization's policy for this environment.

use crate::auth::Ctx;
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use kycd_core::policy::Settings;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/settings", get(retrieve).patch(update))
}

fn with_object(s: &Settings, env: &str) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["object"] = "settings".into();
    v["environment"] = env.into();
    v
}

async fn retrieve(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let (settings, _) = service::settings::load(&s, &ctx.scope).await?;
    Ok(Json(with_object(&settings, &ctx.scope.environment)))
}

async fn update(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let settings = service::settings::update(&s, &ctx.scope, patch).await?;
    Ok(Json(with_object(&settings, &ctx.scope.environment)))
}
