//! The `/v1` API: one router per resource, merged here behind authentication
//! and idempotency.

pub mod customers;
pub mod documents;
pub mod events;
pub mod inbound;
pub mod products;
pub mod providers;
pub mod reference;
pub mod screening;
pub mod settings;
pub mod test_helpers;
pub mod webhook_endpoints;

use crate::state::AppState;
use axum::Router;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(customers::router(state.config.max_body_bytes))
        .merge(events::router())
        .merge(products::router())
        .merge(providers::router())
        .merge(reference::router())
        .merge(screening::router())
        .merge(settings::router())
        .merge(test_helpers::router())
        .merge(test_helpers::screening::router())
        .merge(webhook_endpoints::router())
        .merge(test_helpers::documents::router())
        .merge(documents::router(state.config.max_document_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::layer,
        ))
        .layer(axum::middleware::from_fn(crate::limits::require_json_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::ratelimit::per_key,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_key,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::ratelimit::failed_auth,
        ))
}
