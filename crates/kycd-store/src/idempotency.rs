//! Idempotency keys: the first response is stored and replayed; a concurrent
//! duplicate finds the key claimed. The claim is a single INSERT, so exactly
//! one request wins even when twenty arrive at once.

use crate::db::{Conn, Scope, StoreResult, micros};
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This request owns the key: run it, then `complete`.
    Claimed,
    /// Another request with this key is still running.
    InProgress,
    /// Same key, different request.
    Mismatch,
    /// Finished before: replay this response.
    Replay { status: u16, body: String },
}

/// How long a response is kept, and how long a claim may run before it is considered abandoned.
pub const RETENTION: Duration = Duration::hours(24);
pub const LOCK: Duration = Duration::seconds(60);

pub async fn claim(
    conn: &mut Conn,
    scope: &Scope,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (organization_id, environment, key, request_hash, state, created_at, locked_until) \
         VALUES ($1, $2, $3, $4, 'running', $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .bind(request_hash)
    .bind(micros(&now))
    .bind(micros(&(now + LOCK)))
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    let row = sqlx::query(
        "SELECT request_hash, state, response_status, response_body, created_at, locked_until FROM idempotency_keys \
         WHERE organization_id = $1 AND environment = $2 AND key = $3",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        // Deleted between the two statements (a failed first attempt): try once more.
        return Ok(Claim::InProgress);
    };
    let hash: String = row.try_get(0)?;
    let state: String = row.try_get(1)?;
    let created_at: i64 = row.try_get(4)?;
    let locked_until: i64 = row.try_get(5)?;
    if created_at < micros(&(now - RETENTION))
        || (state == "running" && locked_until < micros(&now))
    {
        // Expired, or abandoned by a crashed request: take it over.
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET request_hash = $1, state = 'running', response_status = NULL, response_body = NULL, \
             created_at = $2, locked_until = $3 WHERE organization_id = $4 AND environment = $5 AND key = $6 AND locked_until = $7",
        )
        .bind(request_hash)
        .bind(micros(&now))
        .bind(micros(&(now + LOCK)))
        .bind(&scope.organization_id)
        .bind(&scope.environment)
        .bind(key)
        .bind(locked_until)
        .execute(&mut *conn)
        .await?;
        return Ok(if taken.rows_affected() == 1 {
            Claim::Claimed
        } else {
            Claim::InProgress
        });
    }
    if hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    if state == "running" {
        return Ok(Claim::InProgress);
    }
    let status: i64 = row.try_get(2)?;
    let body: String = row.try_get(3)?;
    Ok(Claim::Replay {
        status: status as u16,
        body,
    })
}

pub async fn complete(
    conn: &mut Conn,
    scope: &Scope,
    key: &str,
    status: u16,
    body: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', response_status = $1, response_body = $2 \
         WHERE organization_id = $3 AND environment = $4 AND key = $5",
    )
    .bind(status as i64)
    .bind(body)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a claim whose request failed on our side, so a retry can run.
pub async fn release(conn: &mut Conn, scope: &Scope, key: &str) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE organization_id = $1 AND environment = $2 AND key = $3",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes responses older than the retention window.
pub async fn purge(conn: &mut Conn, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(micros(&(now - RETENTION)))
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
