//! `/v1/settings`: the organization's policy for this environment.

use crate::auth::Caller;
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

async fn retrieve(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let (settings, _) = service::settings::load(&s, &caller.scope).await?;
    Ok(Json(with_object(&settings, &caller.scope.environment)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let settings = service::settings::update(&s, &caller.scope, patch).await?;
    Ok(Json(with_object(&settings, &caller.scope.environment)))
}
