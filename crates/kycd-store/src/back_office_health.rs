//! The back office's health reads across scopes: webhook endpoints failing
//! or disabled, failed deliveries per organization and environment, and a
//! customer's latest events and deliveries for the case view.

use crate::db::{Conn, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// An endpoint that fails (since when) or was disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct UnhealthyEndpoint {
    pub id: String,
    pub organization_id: String,
    pub environment: String,
    pub url: String,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
}

/// Endpoints failing or disabled (not deleted), worst first, at most 100.
pub async fn unhealthy_endpoints(conn: &mut Conn) -> StoreResult<Vec<UnhealthyEndpoint>> {
    let rows = sqlx::query(
        "SELECT id, organization_id, environment, url, status, disabled_reason, failing_since \
         FROM webhook_endpoints WHERE deleted_at IS NULL \
         AND (status = 'disabled' OR failing_since IS NOT NULL) \
         ORDER BY status, failing_since, id LIMIT 100",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UnhealthyEndpoint {
                id: r.try_get(0)?,
                organization_id: r.try_get(1)?,
                environment: r.try_get(2)?,
                url: r.try_get(3)?,
                status: r.try_get(4)?,
                disabled_reason: r.try_get(5)?,
                failing_since: r.try_get::<Option<i64>, _>(6)?.map(from_micros),
            })
        })
        .collect()
}

/// Deliveries that failed for good since `since`: (organization, environment, count).
pub async fn failed_deliveries(
    conn: &mut Conn,
    since: DateTime<Utc>,
) -> StoreResult<Vec<(String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT organization_id, environment, COUNT(*) FROM deliveries \
         WHERE status = 'failed' AND updated_at >= $1 \
         GROUP BY organization_id, environment ORDER BY organization_id, environment",
    )
    .bind(micros(&since))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// One of a customer's events.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    pub id: String,
    pub event_type: String,
    pub created_at: DateTime<Utc>,
}

/// A customer's latest events, newest first.
pub async fn events_of(
    conn: &mut Conn,
    customer_id: &str,
    limit: i64,
) -> StoreResult<Vec<CaseEvent>> {
    let rows = sqlx::query(
        "SELECT id, type, created_at FROM events WHERE customer_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseEvent {
                id: r.try_get(0)?,
                event_type: r.try_get(1)?,
                created_at: from_micros(r.try_get(2)?),
            })
        })
        .collect()
}

/// One delivery of one of a customer's events.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDelivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: String,
    pub status: String,
    pub attempts: i64,
    pub updated_at: DateTime<Utc>,
}

/// The deliveries of a customer's events, newest first.
pub async fn deliveries_of(
    conn: &mut Conn,
    customer_id: &str,
    limit: i64,
) -> StoreResult<Vec<CaseDelivery>> {
    let rows = sqlx::query(
        "SELECT d.id, d.event_id, e.type, d.endpoint_id, d.status, d.attempts, d.updated_at \
         FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE e.customer_id = $1 ORDER BY d.id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseDelivery {
                id: r.try_get(0)?,
                event_id: r.try_get(1)?,
                event_type: r.try_get(2)?,
                endpoint_id: r.try_get(3)?,
                status: r.try_get(4)?,
                attempts: r.try_get(5)?,
                updated_at: from_micros(r.try_get(6)?),
            })
        })
        .collect()
}
