//! Idempotency keys, crash-safe: a request claims its key (a single INSERT,
//! so exactly one of twenty concurrent duplicates wins) with a random token
//! and the id of the node that runs it; the response is written by the
//! claim's holder in the same transaction as the effect (`complete` on the
//! effect's transaction), so a committed effect always replays and an effect
//! that never committed leaves a claim that is retryable as soon as its node
//! is known dead (or its lease lapses).

use crate::db::{Conn, Scope, StoreResult, micros};
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This request owns the key: run it, then `complete` with this token.
    Claimed,
    /// Another request with this key is running on `owner` (a node id).
    Running {
        owner: Option<String>,
        token: Option<String>,
    },
    /// Same key, different request.
    Mismatch,
    /// Finished before: replay this response, sealed under `subject_id`'s key.
    Replay {
        status: u16,
        body: String,
        subject_id: Option<String>,
    },
}

/// How long a response is kept, and how long a claim may run before it is
/// considered abandoned even when its node cannot be checked.
pub const RETENTION: Duration = Duration::hours(24);
pub const LOCK: Duration = Duration::seconds(60);

/// Who claims: the node (`owner`) and the claim's own random `token`.
#[derive(Debug, Clone)]
pub struct Claimant<'a> {
    pub owner: &'a str,
    pub token: &'a str,
}

pub async fn claim(
    conn: &mut Conn,
    scope: &Scope,
    key: &str,
    request_hash: &str,
    who: &Claimant<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (organization_id, environment, key, request_hash, state, created_at, locked_until, claim_token, owner) \
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .bind(request_hash)
    .bind(micros(&now))
    .bind(micros(&(now + LOCK)))
    .bind(who.token)
    .bind(who.owner)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    let row = sqlx::query(
        "SELECT request_hash, state, response_status, response_body, created_at, locked_until, owner, claim_token, subject_id \
         FROM idempotency_keys WHERE organization_id = $1 AND environment = $2 AND key = $3",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        // Released between the two statements (a failed attempt): retry shortly.
        return Ok(Claim::Running {
            owner: None,
            token: None,
        });
    };
    // Read by name, each when it is needed: the response columns are NULL
    // while the claim runs.
    let hash: String = row.try_get("request_hash")?;
    let state: String = row.try_get("state")?;
    let created_at: i64 = row.try_get("created_at")?;
    let locked_until: i64 = row.try_get("locked_until")?;
    let token: Option<String> = row.try_get("claim_token")?;
    if created_at < micros(&(now - RETENTION))
        || (state == "running" && locked_until < micros(&now))
    {
        // Expired, or abandoned past its lease: take it over.
        return take_over(conn, scope, key, request_hash, who, token.as_deref(), now).await;
    }
    if hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    if state == "running" {
        return Ok(Claim::Running {
            owner: row.try_get("owner")?,
            token,
        });
    }
    let status: i64 = row.try_get("response_status")?;
    Ok(Claim::Replay {
        status: status as u16,
        body: row.try_get("response_body")?,
        subject_id: row.try_get("subject_id")?,
    })
}

/// Takes over a running claim whose holder is gone (its node died, or its
/// lease lapsed), if it still holds `old_token`.
pub async fn take_over(
    conn: &mut Conn,
    scope: &Scope,
    key: &str,
    request_hash: &str,
    who: &Claimant<'_>,
    old_token: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Claim> {
    let taken = sqlx::query(
        "UPDATE idempotency_keys SET request_hash = $1, state = 'running', response_status = NULL, response_body = NULL, \
         subject_id = NULL, created_at = $2, locked_until = $3, claim_token = $4, owner = $5 \
         WHERE organization_id = $6 AND environment = $7 AND key = $8 AND COALESCE(claim_token, '') = $9",
    )
    .bind(request_hash)
    .bind(micros(&now))
    .bind(micros(&(now + LOCK)))
    .bind(who.token)
    .bind(who.owner)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .bind(old_token.unwrap_or(""))
    .execute(conn)
    .await?;
    Ok(if taken.rows_affected() == 1 {
        Claim::Claimed
    } else {
        Claim::Running {
            owner: None,
            token: None,
        }
    })
}

/// Stores the response of the claim holding `token`; returns false when the
/// claim was lost (taken over after its lease lapsed). Called on the effect's
/// own transaction, the effect and its response commit together.
pub async fn complete(
    conn: &mut Conn,
    scope: &Scope,
    key: &str,
    token: &str,
    status: u16,
    body: &str,
    subject_id: Option<&str>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', response_status = $1, response_body = $2, subject_id = $3 \
         WHERE organization_id = $4 AND environment = $5 AND key = $6 AND claim_token = $7 AND state = 'running'",
    )
    .bind(status as i64)
    .bind(body)
    .bind(subject_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .bind(token)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets a claim whose request failed on our side, so a retry can run.
pub async fn release(conn: &mut Conn, scope: &Scope, key: &str, token: &str) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE organization_id = $1 AND environment = $2 AND key = $3 \
         AND claim_token = $4 AND state = 'running'",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key)
    .bind(token)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes responses older than the retention window (a job over every
/// scope: global by nature).
pub async fn purge(conn: &mut Conn, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(micros(&(now - RETENTION)))
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Whether the PostgreSQL session `(pid, started)` is still connected: a
/// node's liveness anchor (see the server's node identity).
pub async fn postgres_session_alive(conn: &mut Conn, pid: i64, started: i64) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1::int \
         AND (extract(epoch FROM backend_start) * 1000000)::bigint = $2",
    )
    .bind(pid)
    .bind(started)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// This PostgreSQL session's `(pid, started)`.
pub async fn postgres_session(conn: &mut Conn) -> StoreResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT pid::bigint AS pid, (extract(epoch FROM backend_start) * 1000000)::bigint AS started \
         FROM pg_stat_activity WHERE pid = pg_backend_pid()",
    )
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("pid")?, row.try_get("started")?))
}
