//! The inbox of provider webhooks (Sumsub…): stored durably once their
//! signature checked, unique per (provider, payload digest) so a provider's
//! retry is idempotent, then processed in arrival order and marked.
//! Global by nature: the inbox serves every scope (each payload carries the
//! scope it was addressed to, if any).

use crate::db::{Conn, Dialect, Scope, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub id: String,
    pub provider: String,
    /// The provider's id of the payload, else the SHA-256 of its bytes.
    pub external_id: String,
    pub event_type: Option<String>,
    /// What the payload is about (Sumsub: the applicant id).
    pub subject: Option<String>,
    pub payload: String,
    pub received_at: DateTime<Utc>,
    /// The organization and environment it was addressed to and verified
    /// for (`/webhooks/inbound/sumsub/{organization_id}`); none on the
    /// deprecated global route.
    pub scope: Option<Scope>,
}

/// Stores a payload; false when the same one was stored before (a retry).
pub async fn insert(conn: &mut Conn, w: &Inbound) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO inbound_webhooks (id, provider, external_id, event_type, subject, payload, received_at, organization_id, environment) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (provider, external_id) DO NOTHING",
    )
    .bind(&w.id)
    .bind(&w.provider)
    .bind(&w.external_id)
    .bind(&w.event_type)
    .bind(&w.subject)
    .bind(&w.payload)
    .bind(micros(&w.received_at))
    .bind(w.scope.as_ref().map(|s| s.organization_id.clone()))
    .bind(w.scope.as_ref().map(|s| s.environment.clone()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Up to `limit` unprocessed payloads, oldest first, locked for this
/// transaction on PostgreSQL (SKIP LOCKED: other nodes take other rows).
pub async fn claim_unprocessed(
    conn: &mut Conn,
    dialect: Dialect,
    limit: i64,
) -> StoreResult<Vec<Inbound>> {
    /// An `inbound_webhooks` row as selected (`received_at` in microseconds;
    /// no scope on the deprecated global route).
    #[derive(sqlx::FromRow)]
    struct InboundRow {
        id: String,
        provider: String,
        external_id: String,
        event_type: Option<String>,
        subject: Option<String>,
        payload: String,
        received_at: i64,
        organization_id: Option<String>,
        environment: Option<String>,
    }
    let rows = sqlx::query_as::<_, InboundRow>(&format!(
        "SELECT id, provider, external_id, event_type, subject, payload, received_at, organization_id, environment FROM inbound_webhooks \
         WHERE processed_at IS NULL ORDER BY received_at, id LIMIT {limit}{}",
        dialect.skip_locked()
    ))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Inbound {
            id: r.id,
            provider: r.provider,
            external_id: r.external_id,
            event_type: r.event_type,
            subject: r.subject,
            payload: r.payload,
            received_at: from_micros(r.received_at),
            scope: match (r.organization_id, r.environment) {
                (Some(o), Some(e)) => Some(Scope::new(o, e)),
                _ => None,
            },
        })
        .collect())
}

/// Marks a payload processed (with the processing error, if it failed for good).
pub async fn mark_processed(
    conn: &mut Conn,
    id: &str,
    now: DateTime<Utc>,
    error: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE inbound_webhooks SET processed_at = $1, error = $2, attempts = attempts + 1 WHERE id = $3 AND processed_at IS NULL",
    )
    .bind(micros(&now))
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// (stored, processed) counts for a provider: for health checks and tests.
pub async fn counts(conn: &mut Conn, provider: &str) -> StoreResult<(i64, i64)> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS stored, COUNT(processed_at) AS processed FROM inbound_webhooks WHERE provider = $1",
    )
    .bind(provider)
    .fetch_one(conn)
    .await?;
    Ok((r.try_get("stored")?, r.try_get("processed")?))
}
