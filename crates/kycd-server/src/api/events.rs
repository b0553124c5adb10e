//! `/v1/events`: the outbox as the platform sees it.

use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiQuery, List, Page};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use kycd_store::events::{self, EventFilter};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list))
        .route("/v1/events/{id}", get(retrieve))
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
    ctx: Ctx,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<List<Value>>> {
    let page = Page {
        limit: q.limit,
        starting_after: q.starting_after,
    };
    let f = EventFilter {
        event_type: q.event_type,
        customer_id: q.customer_id,
        starting_after: page.starting_after.clone(),
        limit: page.limit()?,
    };
    let mut conn = s.store.reader().await?;
    let (data, has_more) = events::list(&mut conn, &ctx.scope, &f).await?;
    Ok(Json(List::new(
        data.iter().map(|e| e.payload()).collect(),
        has_more,
    )))
}

async fn retrieve(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut conn = s.store.reader().await?;
    let e = events::get(&mut conn, &ctx.scope, &id)
        .await
        .map_err(|_| ApiError::not_found("event"))?;
    Ok(Json(e.payload()))
}
