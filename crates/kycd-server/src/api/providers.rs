//! `/v1/providers`: identity providers of the key's organization and
//! environment. `PUT /v1/providers/sumsub` configures Sumsub (credentials
//! sealed by the vault, never returned), `GET` lists or shows, `DELETE` removes.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::providers::sumsub;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/providers", get(list)).route(
        "/v1/providers/{provider}",
        get(retrieve).put(configure).delete(remove),
    )
}

fn known(provider: &str) -> ApiResult<()> {
    if provider == sumsub::NAME {
        Ok(())
    } else {
        Err(ApiError::not_found("identity provider"))
    }
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let data: Vec<Value> = sumsub::load(&s, &caller.scope)
        .await?
        .map(|c| c.to_json(&caller.scope))
        .into_iter()
        .collect();
    Ok(Json(
        json!({"object": "list", "data": data, "has_more": false}),
    ))
}

async fn retrieve(
    State(s): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
) -> ApiResult<Json<Value>> {
    known(&provider)?;
    let cfg = sumsub::load(&s, &caller.scope)
        .await?
        .ok_or_else(|| ApiError::not_found("identity provider configuration"))?;
    Ok(Json(cfg.to_json(&caller.scope)))
}

async fn configure(
    State(s): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    known(&provider)?;
    let cfg = sumsub::configure(&s, &caller.scope, body).await?;
    tracing::info!(provider = sumsub::NAME, organization_id = %caller.scope.organization_id, environment = %caller.scope.environment, "identity provider configured");
    Ok(Json(cfg.to_json(&caller.scope)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
) -> ApiResult<Json<Value>> {
    known(&provider)?;
    if !sumsub::remove(&s, &caller.scope).await? {
        return Err(ApiError::not_found("identity provider configuration"));
    }
    Ok(Json(
        json!({"object": "provider", "provider": provider, "deleted": true}),
    ))
}
