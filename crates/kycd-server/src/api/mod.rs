//! The `/v1` API: one router per resource, merged here behind authentication
//! and idempotency.

pub mod customers;
pub mod events;
pub mod reference;
pub mod settings;
pub mod test_helpers;

use crate::state::AppState;
use axum::Router;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(customers::router())
        .merge(events::router())
        .merge(reference::router())
        .merge(settings::router())
        .merge(test_helpers::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::require_key,
        ))
}
