//! `POST /v1/test_helpers/documents/{doc_id}`: the sandbox reviewer of a
//! document (`{"status": "accepted"|"rejected", "reason"?}`), through the same
//! `service::documents::review` as the back office. With a live key it is 404.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::http::IdPath;
use crate::service::{self, documents};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use kycd_core::ids::DocumentId;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/test_helpers/documents/{doc_id}", post(review))
        .route_layer(axum::middleware::from_fn(sandbox_only))
}

/// The guard of `api::test_helpers`: only sandbox keys see these paths.
async fn sandbox_only(req: Request, next: Next) -> Response {
    match req.extensions().get::<Caller>() {
        Some(caller) if caller.is_sandbox() => next.run(req).await,
        _ => crate::http::not_found().await.into_response(),
    }
}

/// Reviews a document as a reviewer would (sandbox only).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewDocumentRequest)]
pub struct ReviewBody {
    #[schema(schema_with = crate::openapi::enums::forced_document_outcome)]
    status: String,
    /// Only with `rejected`: why (default `document_unreadable`).
    #[schema(value_type = Option<kycd_core::reasons::RejectionReason>)]
    reason: Option<String>,
}

async fn review(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(doc_id): IdPath<DocumentId>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<Json<documents::Document>> {
    let accept = match body.status.as_str() {
        "accepted" => true,
        "rejected" => false,
        _ => {
            return Err(ApiError::invalid_field(
                "status",
                "must be accepted or rejected",
            ));
        }
    };
    let cx = service::context(&s, &caller).await?;
    let cx = service::OperationContext {
        actor: format!("test_helper:{}", caller.key_id),
        ..cx
    };
    let doc = documents::find(&s, &cx, &doc_id).await?;
    Ok(Json(
        documents::review(
            &s,
            &cx,
            &doc.customer_id,
            &doc_id,
            accept,
            body.reason.as_deref(),
        )
        .await?,
    ))
}
