//! The built-in provider: kycd's own hosted flow. Its link is the
//! single-use `/hosted/v/…` link the lifecycle issues; its verdicts are
//! kycd's automated checks and reviewers, so there is nothing to map.

use crate::service::{OperationContext, ServiceResult, lifecycle};
use crate::state::AppState;
use kycd_core::lifecycle::Change;
use kycd_store::Conn;

/// A fresh hosted link while the customer has something to do.
pub async fn attach_link(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    ch: &mut Change,
) -> ServiceResult<()> {
    lifecycle::ensure_link(state, conn, cx, ch, true).await
}
