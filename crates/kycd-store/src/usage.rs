//! Billable usage: one row per (metric, resource), written in the transaction
//! that creates the resource, so counts are exact under concurrency and retries.

use crate::db::{Conn, Scope, StoreResult, micros};
use chrono::{DateTime, Utc};

pub const CUSTOMERS_CREATED: &str = "customers_created";
pub const VERIFICATIONS_STARTED: &str = "verifications_started";
pub const PRODUCT_ACCESS_REQUESTS: &str = "product_access_requests";

pub async fn record(
    conn: &mut Conn,
    scope: &Scope,
    metric: &str,
    resource_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO usage_records (organization_id, environment, month, metric, resource_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(at.format("%Y-%m").to_string())
    .bind(metric)
    .bind(resource_id)
    .bind(micros(&at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The rows recording `metric` for many resources (of any scopes), for
/// [`crate::rows::insert_all`]: the rows [`record`] writes one at a time.
pub fn rows(metric: &str, list: &[(&Scope, &str, DateTime<Utc>)]) -> crate::rows::Insert {
    crate::rows::Insert {
        table: "usage_records",
        columns: &[
            "organization_id",
            "environment",
            "month",
            "metric",
            "resource_id",
            "created_at",
        ],
        tail: "ON CONFLICT DO NOTHING",
        rows: list
            .iter()
            .map(|(scope, resource_id, at)| {
                vec![
                    scope.organization_id.as_str().into(),
                    scope.environment.as_str().into(),
                    at.format("%Y-%m").to_string().into(),
                    metric.into(),
                    (*resource_id).into(),
                    micros(at).into(),
                ]
            })
            .collect(),
    }
}

pub async fn count(conn: &mut Conn, scope: &Scope, month: &str, metric: &str) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM usage_records WHERE organization_id = $1 AND environment = $2 AND month = $3 AND metric = $4",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(month)
    .bind(metric)
    .fetch_one(conn)
    .await?)
}
