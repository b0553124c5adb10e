//! The back office's health reads across scopes: webhook endpoints failing
//! or disabled, failed deliveries per organization and environment, and a
//! customer's latest events and deliveries for the case view. These reads
//! take no `Scope` by nature: the back office's operators look across
//! organizations (the server limits an organization's operator to its own).

use crate::db::{Conn, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};

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
    /// An endpoint as selected (`failing_since` in microseconds).
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        organization_id: String,
        environment: String,
        url: String,
        status: String,
        disabled_reason: Option<String>,
        failing_since: Option<i64>,
    }
    let rows = sqlx::query_as::<_, Row>(
        "SELECT id, organization_id, environment, url, status, disabled_reason, failing_since \
         FROM webhook_endpoints WHERE deleted_at IS NULL \
         AND (status = 'disabled' OR failing_since IS NOT NULL) \
         ORDER BY status, failing_since, id LIMIT 100",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UnhealthyEndpoint {
            id: r.id,
            organization_id: r.organization_id,
            environment: r.environment,
            url: r.url,
            status: r.status,
            disabled_reason: r.disabled_reason,
            failing_since: r.failing_since.map(from_micros),
        })
        .collect())
}

/// Deliveries that failed for good since `since`: (organization, environment, count).
pub async fn failed_deliveries(
    conn: &mut Conn,
    since: DateTime<Utc>,
) -> StoreResult<Vec<(String, String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        organization_id: String,
        environment: String,
        failed: i64,
    }
    let rows = sqlx::query_as::<_, Row>(
        "SELECT organization_id, environment, COUNT(*) AS failed FROM deliveries \
         WHERE status = 'failed' AND updated_at >= $1 \
         GROUP BY organization_id, environment ORDER BY organization_id, environment",
    )
    .bind(micros(&since))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.organization_id, r.environment, r.failed))
        .collect())
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
    /// An event as selected (`created_at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        #[sqlx(rename = "type")]
        event_type: String,
        created_at: i64,
    }
    let rows = sqlx::query_as::<_, Row>(
        "SELECT id, type, created_at FROM events WHERE customer_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CaseEvent {
            id: r.id,
            event_type: r.event_type,
            created_at: from_micros(r.created_at),
        })
        .collect())
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
    /// A delivery as selected (`updated_at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        event_id: String,
        event_type: String,
        endpoint_id: String,
        status: String,
        attempts: i64,
        updated_at: i64,
    }
    let rows = sqlx::query_as::<_, Row>(
        "SELECT d.id AS id, d.event_id AS event_id, e.type AS event_type, d.endpoint_id AS endpoint_id, \
         d.status AS status, d.attempts AS attempts, d.updated_at AS updated_at \
         FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE e.customer_id = $1 ORDER BY d.id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CaseDelivery {
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            endpoint_id: r.endpoint_id,
            status: r.status,
            attempts: r.attempts,
            updated_at: from_micros(r.updated_at),
        })
        .collect())
}
