//! Document operations (upload, list, download, review, erase).

use super::Cx;
use crate::error::ApiResult;
use crate::state::AppState;
use kycd_store::Conn;

/// Removes a customer's documents on erasure (their bytes are already
/// unreadable once the data key is gone).
pub async fn erase_all(
    _state: &AppState,
    conn: &mut Conn,
    cx: &Cx,
    customer_id: &str,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM documents WHERE customer_id = $1 AND organization_id = $2 AND environment = $3")
        .bind(customer_id)
        .bind(&cx.scope.organization_id)
        .bind(&cx.scope.environment)
        .execute(conn)
        .await
        .map_err(kycd_store::StoreError::from)?;
    Ok(())
}
