//! Webhook endpoints (secrets stored sealed by the caller, never in clear);
//! `deliveries` holds the outbox fan-out, claims and attempt log, `inbound`
//! the durable inbox of provider webhooks. What the API reads and writes
//! takes the `Scope`; the dispatcher's reads and health writes (`by_ids`,
//! `record_health`, `disable`) go by endpoint id, global by nature: one
//! worker serves every scope and checks each endpoint against its delivery.

pub mod deliveries;
pub mod inbound;

use crate::db::{Conn, Scope, StoreError, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};

pub const ENABLED: &str = "enabled";
pub const DISABLED: &str = "disabled";
pub const DELETED: &str = "deleted";

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: String,
    pub scope: Scope,
    pub url: String,
    /// `["*"]` or event type names.
    pub enabled_events: Vec<String>,
    pub description: Option<String>,
    /// The signing secrets, sealed by the vault.
    pub secrets: String,
    pub status: String,
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts (scope clock).
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    /// Whether this endpoint subscribes to `event_type`.
    pub fn accepts(&self, event_type: &str) -> bool {
        accepts(&self.enabled_events, event_type)
    }
}

pub fn accepts(enabled_events: &[String], event_type: &str) -> bool {
    enabled_events.iter().any(|e| e == "*" || e == event_type)
}

pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const COLUMNS: &str = "id, organization_id, environment, url, enabled_events, description, secrets, status, \
     disabled_reason, failing_since, created_at, updated_at";

/// A `webhook_endpoints` row as selected by `COLUMNS` (events as JSON text,
/// times in microseconds).
#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    #[sqlx(flatten)]
    scope: Scope,
    url: String,
    enabled_events: String,
    description: Option<String>,
    secrets: String,
    status: String,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn parse_events(json: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn endpoint(r: &sqlx::any::AnyRow) -> StoreResult<Endpoint> {
    let r = EndpointRow::from_row(r)?;
    Ok(Endpoint {
        id: r.id,
        scope: r.scope,
        url: r.url,
        enabled_events: parse_events(&r.enabled_events)?,
        description: r.description,
        secrets: r.secrets,
        status: r.status,
        disabled_reason: r.disabled_reason,
        failing_since: r.failing_since.map(from_micros),
        created_at: from_micros(r.created_at),
        updated_at: from_micros(r.updated_at),
    })
}

fn events_json(e: &Endpoint) -> String {
    serde_json::to_string(&e.enabled_events).unwrap_or_else(|_| "[]".into())
}

pub async fn insert(conn: &mut Conn, e: &Endpoint) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO webhook_endpoints ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&e.id)
    .bind(&e.scope.organization_id)
    .bind(&e.scope.environment)
    .bind(&e.url)
    .bind(events_json(e))
    .bind(&e.description)
    .bind(&e.secrets)
    .bind(&e.status)
    .bind(&e.disabled_reason)
    .bind(e.failing_since.as_ref().map(micros))
    .bind(micros(&e.created_at))
    .bind(micros(&e.updated_at))
    .execute(conn)
    .await
    .map_err(StoreError::from_insert)?;
    Ok(())
}

/// An endpoint of this scope that was not deleted.
pub async fn get(conn: &mut Conn, scope: &Scope, id: &str) -> StoreResult<Endpoint> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 AND environment = $3 AND deleted_at IS NULL"
    ))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(endpoint)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Newest first; `starting_after` is an endpoint id.
pub async fn list(
    conn: &mut Conn,
    scope: &Scope,
    starting_after: Option<&str>,
    limit: i64,
) -> StoreResult<(Vec<Endpoint>, bool)> {
    let list = crate::db::Listing {
        table: "webhook_endpoints",
        columns: COLUMNS,
        condition: "deleted_at IS NULL",
    };
    list.page(conn, scope, &[], starting_after, limit, endpoint)
        .await
}

/// Writes the fields a platform may change (url, events, description, and
/// the status when `set_status`); secrets and health have their own writers.
pub async fn update(conn: &mut Conn, e: &Endpoint, set_status: bool) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET url = $1, enabled_events = $2, description = $3, \
         status = CASE WHEN $4 = 1 THEN $5 ELSE status END, \
         disabled_reason = CASE WHEN $4 = 1 THEN $6 ELSE disabled_reason END, updated_at = $7 \
         WHERE id = $8 AND organization_id = $9 AND environment = $10 AND deleted_at IS NULL",
    )
    .bind(&e.url)
    .bind(events_json(e))
    .bind(&e.description)
    .bind(i64::from(set_status))
    .bind(&e.status)
    .bind(&e.disabled_reason)
    .bind(micros(&e.updated_at))
    .bind(&e.id)
    .bind(&e.scope.organization_id)
    .bind(&e.scope.environment)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Replaces the sealed secrets if they are still `old` (two concurrent
/// rotations: one wins, the other gets false).
pub async fn replace_secrets(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET secrets = $1, updated_at = $2 \
         WHERE id = $3 AND organization_id = $4 AND environment = $5 AND secrets = $6 AND deleted_at IS NULL",
    )
    .bind(new)
    .bind(micros(&now))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(old)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Soft-deletes the endpoint, forgets its secrets and destroys their data key;
/// its pending deliveries are canceled. False when there was no such endpoint.
pub async fn delete(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET status = $1, secrets = '', deleted_at = $2, updated_at = $2 \
         WHERE id = $3 AND organization_id = $4 AND environment = $5 AND deleted_at IS NULL",
    )
    .bind(DELETED)
    .bind(micros(&now))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    crate::customers::delete_customer_key(conn, crate::KeyOwner::scoped(scope, id)).await?;
    deliveries::cancel_pending(conn, id, now).await?;
    Ok(true)
}

/// The enabled endpoints of a scope, as (id, enabled_events): the fan-out's view.
pub async fn enabled_in_scope(
    conn: &mut Conn,
    scope: &Scope,
) -> StoreResult<Vec<(String, Vec<String>)>> {
    let rows = sqlx::query(
        "SELECT id, enabled_events FROM webhook_endpoints WHERE organization_id = $1 AND environment = $2 AND status = $3",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(ENABLED)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                parse_events(&r.try_get::<String, _>("enabled_events")?)?,
            ))
        })
        .collect()
}

/// Endpoints by id, whatever their scope or status (the dispatcher checks
/// each against the scope of the delivery that names it), with the sandbox
/// clock offset of their scope in seconds (0 when none).
pub async fn by_ids(conn: &mut Conn, ids: &[&str]) -> StoreResult<Vec<(Endpoint, i64)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {COLUMNS}, COALESCE((SELECT s.clock_offset_seconds FROM settings s \
         WHERE s.organization_id = webhook_endpoints.organization_id AND s.environment = webhook_endpoints.environment), 0) \
         AS clock_offset_seconds FROM webhook_endpoints WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((endpoint(r)?, r.try_get("clock_offset_seconds")?)))
        .collect()
}

/// Health after a batch of attempts: a success ends a failing run; a failure
/// starts one if none is running. Returns `failing_since` afterwards.
pub async fn record_health(
    conn: &mut Conn,
    id: &str,
    succeeded: bool,
    now: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    if succeeded {
        sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
            .bind(id)
            .execute(conn)
            .await?;
        return Ok(None);
    }
    let failing_since: Option<Option<i64>> = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id = $2 RETURNING failing_since",
    )
    .bind(micros(&now))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(failing_since.flatten().map(from_micros))
}

/// Disables an enabled endpoint and cancels its pending deliveries; false if
/// it was not enabled (someone else disabled or deleted it first).
pub async fn disable(
    conn: &mut Conn,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET status = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4 AND status = $5",
    )
    .bind(DISABLED)
    .bind(reason)
    .bind(micros(&now))
    .bind(id)
    .bind(ENABLED)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    deliveries::cancel_pending(conn, id, now).await?;
    Ok(true)
}
