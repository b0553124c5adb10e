//! Deliveries: the fan-out of outbox events to endpoints (one row per (event,
//! endpoint)), leased claims of due deliveries (each claim writes its attempt
//! row first: UNIQUE(delivery_id, attempt) makes a second sending of the same
//! attempt impossible), attempt results, redelivery and the attempt log.
//! The dispatcher's functions (fan-out, claims, results, events by id) are
//! global by nature: one worker serves every scope, and each row carries its
//! own; what the API reads (`attempts`, `redeliver`) takes the `Scope`.

use super::placeholders;
use crate::db::{Conn, Dialect, Scope, StoreError, StoreResult, from_micros, micros};
use crate::events::Event;
use crate::ids;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};
use std::collections::{HashMap, HashSet};

pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const CANCELED: &str = "canceled";

/// Fans out up to `batch` events of the outbox (oldest first): a
/// `deliveries` row per matching enabled endpoint of the event's scope, due
/// at `now`, then takes the events out of the outbox. Run inside a
/// transaction; on PostgreSQL the outbox rows are claimed with SKIP LOCKED
/// so several nodes share the work. Returns (events, deliveries).
pub async fn fan_out(
    conn: &mut Conn,
    dialect: Dialect,
    batch: i64,
    now: DateTime<Utc>,
) -> StoreResult<(usize, usize)> {
    /// An event waiting for fan-out.
    #[derive(sqlx::FromRow)]
    struct Pending {
        id: String,
        #[sqlx(flatten)]
        scope: Scope,
        #[sqlx(rename = "type")]
        event_type: String,
    }
    let lock = match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE OF o SKIP LOCKED",
    };
    let rows = sqlx::query_as::<_, Pending>(&format!(
        "SELECT e.id, e.organization_id, e.environment, e.type FROM event_outbox o \
         JOIN events e ON e.id = o.event_id ORDER BY o.event_id LIMIT {batch}{lock}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok((0, 0));
    }
    let mut endpoints: HashMap<Scope, Vec<(String, Vec<String>)>> = HashMap::new();
    let mut new_rows: Vec<(String, String, Scope)> = vec![];
    let mut event_ids: Vec<String> = Vec::with_capacity(rows.len());
    for Pending {
        id,
        scope,
        event_type,
    } in rows
    {
        if !endpoints.contains_key(&scope) {
            let list = super::enabled_in_scope(&mut *conn, &scope).await?;
            endpoints.insert(scope.clone(), list);
        }
        for (endpoint_id, events) in &endpoints[&scope] {
            if super::accepts(events, &event_type) {
                new_rows.push((id.clone(), endpoint_id.clone(), scope.clone()));
            }
        }
        event_ids.push(id);
    }
    let t = micros(&now);
    for chunk in new_rows.chunks(100) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, 'pending', 0, ${}, 0, ${}, ${}, 0)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 6,
                    b + 6
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO deliveries (id, event_id, endpoint_id, organization_id, environment, status, attempts, \
             next_attempt_at, locked_until, created_at, updated_at, round_base) VALUES {values} \
             ON CONFLICT (event_id, endpoint_id) DO NOTHING"
        );
        let mut q = sqlx::query(&sql);
        for (event_id, endpoint_id, scope) in chunk {
            q = q
                .bind(ids::new("dlv"))
                .bind(event_id)
                .bind(endpoint_id)
                .bind(&scope.organization_id)
                .bind(&scope.environment)
                .bind(t);
        }
        q.execute(&mut *conn).await?;
    }
    let sql = format!(
        "DELETE FROM event_outbox WHERE event_id IN ({})",
        placeholders(1, event_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &event_ids {
        q = q.bind(id);
    }
    q.execute(&mut *conn).await?;
    Ok((event_ids.len(), new_rows.len()))
}

/// One claimed attempt of one delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub scope: Scope,
    /// The number of this attempt (1-based, counted over the delivery's life).
    pub attempt: i64,
    /// Attempts made before the current round (a redelivery starts a round).
    pub round_base: i64,
}

impl Claimed {
    /// The attempt number within the current round (1 = first try).
    pub fn attempt_in_round(&self) -> u32 {
        u32::try_from((self.attempt - self.round_base).max(1)).unwrap_or(u32::MAX)
    }
}

/// A claimed delivery as `claim` returns it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    event_id: String,
    endpoint_id: String,
    #[sqlx(flatten)]
    scope: Scope,
    attempts: i64,
    round_base: i64,
}

impl From<ClaimedRow> for Claimed {
    fn from(r: ClaimedRow) -> Self {
        Claimed {
            delivery_id: r.id,
            event_id: r.event_id,
            endpoint_id: r.endpoint_id,
            scope: r.scope,
            attempt: r.attempts,
            round_base: r.round_base,
        }
    }
}

/// Claims up to `limit` pending deliveries due at `due_before` (the scope's
/// clock: pass `scope` for a sandbox scope whose clock is ahead) whose lease
/// expired at `now`: takes a lease until `lease_until`, counts the attempt and
/// writes its (empty) attempt row, all in the caller's transaction.
pub async fn claim(
    conn: &mut Conn,
    dialect: Dialect,
    scope: Option<&Scope>,
    due_before: DateTime<Utc>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<Claimed>> {
    let scoped = if scope.is_some() {
        " AND organization_id = $4 AND environment = $5"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE deliveries SET attempts = attempts + 1, locked_until = $1, updated_at = $2 WHERE id IN (\
         SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 AND locked_until <= $2{scoped} \
         ORDER BY next_attempt_at LIMIT {limit}{}) \
         RETURNING id, event_id, endpoint_id, organization_id, environment, attempts, round_base",
        dialect.skip_locked()
    );
    let mut q = sqlx::query(&sql)
        .bind(micros(&lease_until))
        .bind(micros(&now))
        .bind(micros(&due_before));
    if let Some(s) = scope {
        q = q.bind(&s.organization_id).bind(&s.environment);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let claimed = rows
        .iter()
        .map(|r| Ok(ClaimedRow::from_row(r)?.into()))
        .collect::<StoreResult<Vec<Claimed>>>()?;
    let t = micros(&now);
    for chunk in claimed.chunks(100) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = 1 + i * 5;
                format!(
                    "($1, ${}, ${}, ${}, ${}, ${}, NULL, 0, NULL)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO delivery_attempts (at, id, delivery_id, event_id, endpoint_id, attempt, status_code, duration_ms, error) \
             VALUES {values}"
        );
        let mut q = sqlx::query(&sql).bind(t);
        for c in chunk {
            q = q
                .bind(ids::new("dla"))
                .bind(&c.delivery_id)
                .bind(&c.event_id)
                .bind(&c.endpoint_id)
                .bind(c.attempt);
        }
        q.execute(&mut *conn)
            .await
            .map_err(StoreError::from_insert)?;
    }
    Ok(claimed)
}

/// Events by id, with their scope (the dispatcher builds payloads from them).
pub async fn events_by_ids(conn: &mut Conn, ids: &[&str]) -> StoreResult<Vec<(Scope, Event)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {}, organization_id, environment FROM events WHERE id IN ({})",
        crate::events::COLUMNS,
        placeholders(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((Scope::from_row(r)?, crate::events::event(r)?)))
        .collect()
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Succeeded,
    /// Try again at this time of the scope's clock.
    RetryAt(DateTime<Utc>),
    /// The last attempt failed.
    Failed,
    /// The endpoint was disabled or deleted meanwhile.
    Canceled,
}

/// The result of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub claimed: Claimed,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub next: Next,
}

/// `(CAST($a AS T1), CAST($b AS T2), …), …`: `rows` rows of typed parameters
/// numbered from `first` (typed, so PostgreSQL knows them inside VALUES).
fn typed_values(rows: usize, first: usize, types: &[&str]) -> String {
    (0..rows)
        .map(|i| {
            let b = first + i * types.len();
            let cols: Vec<String> = types
                .iter()
                .enumerate()
                .map(|(k, t)| format!("CAST(${} AS {t})", b + k))
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records attempt results and moves each delivery on, in two statements per
/// 100 results (`UPDATE … FROM (VALUES …)`, which both engines speak). A
/// delivery that changed meanwhile (a redelivery started a new round, or the
/// lease expired and someone else took the next attempt) only gets its
/// attempt logged, and a lease of ours released.
pub async fn record(
    conn: &mut Conn,
    results: &[AttemptResult],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for chunk in results.chunks(100) {
        let sql = format!(
            "UPDATE delivery_attempts SET status_code = v.column3, duration_ms = v.column4, error = v.column5 \
             FROM (VALUES {}) AS v WHERE delivery_attempts.delivery_id = v.column1 AND delivery_attempts.attempt = v.column2",
            typed_values(
                chunk.len(),
                1,
                &["TEXT", "BIGINT", "BIGINT", "BIGINT", "TEXT"]
            )
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(&r.claimed.delivery_id)
                .bind(r.claimed.attempt)
                .bind(r.status_code)
                .bind(r.duration_ms)
                .bind(&r.error);
        }
        q.execute(&mut *conn).await?;

        let sql = format!(
            "UPDATE deliveries SET locked_until = 0, updated_at = $1, status = v.column4, \
             next_attempt_at = COALESCE(v.column5, deliveries.next_attempt_at) \
             FROM (VALUES {}) AS v \
             WHERE deliveries.id = v.column1 AND deliveries.attempts = v.column2 AND deliveries.round_base = v.column3 \
             RETURNING deliveries.id AS id",
            typed_values(
                chunk.len(),
                2,
                &["TEXT", "BIGINT", "BIGINT", "TEXT", "BIGINT"]
            )
        );
        let mut q = sqlx::query(&sql).bind(micros(&now));
        for r in chunk {
            let (status, next_at) = match &r.next {
                Next::Succeeded => (SUCCEEDED, None),
                Next::RetryAt(at) => (PENDING, Some(micros(at))),
                Next::Failed => (FAILED, None),
                Next::Canceled => (CANCELED, None),
            };
            q = q
                .bind(&r.claimed.delivery_id)
                .bind(r.claimed.attempt)
                .bind(r.claimed.round_base)
                .bind(status)
                .bind(next_at);
        }
        let moved: HashSet<String> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("id"))
            .collect::<Result<_, _>>()?;
        for r in chunk
            .iter()
            .filter(|r| !moved.contains(&r.claimed.delivery_id))
        {
            sqlx::query("UPDATE deliveries SET locked_until = 0 WHERE id = $1 AND attempts = $2")
                .bind(&r.claimed.delivery_id)
                .bind(r.claimed.attempt)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Cancels the pending deliveries of an endpoint (disabled or deleted).
pub async fn cancel_pending(
    conn: &mut Conn,
    endpoint_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(sqlx::query(
        "UPDATE deliveries SET status = $1, updated_at = $2 WHERE endpoint_id = $3 AND status = $4",
    )
    .bind(CANCELED)
    .bind(micros(&now))
    .bind(endpoint_id)
    .bind(PENDING)
    .execute(conn)
    .await?
    .rows_affected())
}

/// A re-enabled endpoint gets the deliveries its disabling canceled, due now,
/// with a fresh retry schedule.
pub async fn resume_canceled(
    conn: &mut Conn,
    endpoint_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(sqlx::query(
        "UPDATE deliveries SET status = $1, next_attempt_at = $2, round_base = attempts, updated_at = $2 \
         WHERE endpoint_id = $3 AND status = $4",
    )
    .bind(PENDING)
    .bind(micros(&now))
    .bind(endpoint_id)
    .bind(CANCELED)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Starts a new round of delivery of `event_id` to each endpoint (creating the
/// delivery if there was none): due at `now`, retry schedule from the start.
/// Returns the delivery ids, in the order of `endpoint_ids`.
pub async fn redeliver(
    conn: &mut Conn,
    scope: &Scope,
    event_id: &str,
    endpoint_ids: &[String],
    now: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let mut out = vec![];
    for endpoint_id in endpoint_ids {
        let id: String = sqlx::query_scalar(
            "INSERT INTO deliveries (id, event_id, endpoint_id, organization_id, environment, status, attempts, \
             next_attempt_at, locked_until, created_at, updated_at, round_base) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, 0, $6, $6, 0) \
             ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending', next_attempt_at = excluded.next_attempt_at, \
             round_base = deliveries.attempts, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(ids::new("dlv"))
        .bind(event_id)
        .bind(endpoint_id)
        .bind(&scope.organization_id)
        .bind(&scope.environment)
        .bind(micros(&now))
        .fetch_one(&mut *conn)
        .await?;
        out.push(id);
    }
    Ok(out)
}

/// One line of `GET /v1/events/{id}/deliveries`.
#[derive(Debug, Clone)]
pub struct AttemptLog {
    pub id: String,
    pub delivery_id: String,
    pub endpoint_id: String,
    pub url: Option<String>,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
    pub delivery_status: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The attempts made for an event in this scope, newest first.
pub async fn attempts(
    conn: &mut Conn,
    scope: &Scope,
    event_id: &str,
    endpoint_id: Option<&str>,
    starting_after: Option<&str>,
    limit: i64,
) -> StoreResult<(Vec<AttemptLog>, bool)> {
    let mut sql = String::from(
        "SELECT a.id AS id, a.delivery_id AS delivery_id, a.endpoint_id AS endpoint_id, w.url AS url, \
         a.attempt AS attempt, a.status_code AS status_code, a.duration_ms AS duration_ms, a.error AS error, a.at AS at, \
         d.status AS delivery_status, d.next_attempt_at AS next_attempt_at FROM delivery_attempts a \
         JOIN deliveries d ON d.id = a.delivery_id \
         LEFT JOIN webhook_endpoints w ON w.id = a.endpoint_id AND w.deleted_at IS NULL \
         WHERE a.event_id = $1 AND d.organization_id = $2 AND d.environment = $3",
    );
    let mut n = 3;
    for (cond, v) in [
        ("a.endpoint_id = ", endpoint_id),
        ("a.id < ", starting_after),
    ] {
        if v.is_some() {
            n += 1;
            sql.push_str(&format!(" AND {cond}${n}"));
        }
    }
    sql.push_str(&format!(" ORDER BY a.id DESC LIMIT {}", limit + 1));
    let mut q = sqlx::query(&sql)
        .bind(event_id)
        .bind(&scope.organization_id)
        .bind(&scope.environment);
    for v in [endpoint_id, starting_after].into_iter().flatten() {
        q = q.bind(v);
    }
    /// An attempt with its delivery's state, as selected (times in microseconds).
    #[derive(sqlx::FromRow)]
    struct AttemptRow {
        id: String,
        delivery_id: String,
        endpoint_id: String,
        url: Option<String>,
        attempt: i64,
        status_code: Option<i64>,
        duration_ms: i64,
        error: Option<String>,
        at: i64,
        delivery_status: String,
        next_attempt_at: i64,
    }
    let rows = q.fetch_all(conn).await?;
    let has_more = rows.len() as i64 > limit;
    let data = rows
        .iter()
        .take(limit as usize)
        .map(|r| {
            let r = AttemptRow::from_row(r)?;
            Ok(AttemptLog {
                id: r.id,
                delivery_id: r.delivery_id,
                endpoint_id: r.endpoint_id,
                url: r.url,
                attempt: r.attempt,
                status_code: r.status_code,
                duration_ms: r.duration_ms,
                error: r.error,
                at: from_micros(r.at),
                next_attempt_at: (r.delivery_status == PENDING)
                    .then(|| from_micros(r.next_attempt_at)),
                delivery_status: r.delivery_status,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok((data, has_more))
}
