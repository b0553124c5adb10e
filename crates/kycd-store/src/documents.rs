//! Document rows (the bytes live encrypted in the blob store).

use crate::db::{Conn, Scope, StoreResult};
use sqlx::Row;

/// (type, status) of every document of a customer, for requirement checks.
pub async fn evidence(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT type, status FROM documents WHERE customer_id = $1 AND organization_id = $2 AND environment = $3 ORDER BY id",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
