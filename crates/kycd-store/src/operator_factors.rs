//! The back office's second factor: an operator's sealed TOTP secret
//! (confirmed or not, with the last time step accepted) and the sign-ins
//! waiting for their code; and the one-time links to documents shown inline.
//! Global by nature, no `Scope`: operators are the installation's staff, and
//! a link is found by its token hash (it names its document).

use crate::db::{Conn, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};

/// An operator's TOTP enrolment.
#[derive(Debug, Clone, PartialEq)]
pub struct Totp {
    pub secret_sealed: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_step: i64,
}

pub async fn totp(conn: &mut Conn, operator_id: &str) -> StoreResult<Option<Totp>> {
    /// An `operator_totp` row (`confirmed_at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct TotpRow {
        secret_sealed: String,
        confirmed_at: Option<i64>,
        last_step: i64,
    }
    let row = sqlx::query_as::<_, TotpRow>(
        "SELECT secret_sealed, confirmed_at, last_step FROM operator_totp WHERE operator_id = $1",
    )
    .bind(operator_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Totp {
        secret_sealed: r.secret_sealed,
        confirmed_at: r.confirmed_at.map(from_micros),
        last_step: r.last_step,
    }))
}

/// Starts (or restarts) an enrolment with a new sealed secret, unless one is
/// confirmed already (`false` then).
pub async fn start_totp(
    conn: &mut Conn,
    operator_id: &str,
    secret_sealed: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    sqlx::query("DELETE FROM operator_totp WHERE operator_id = $1 AND confirmed_at IS NULL")
        .bind(operator_id)
        .execute(&mut *conn)
        .await?;
    let n = sqlx::query(
        "INSERT INTO operator_totp (operator_id, secret_sealed, confirmed_at, last_step, created_at) \
         VALUES ($1, $2, NULL, 0, $3) ON CONFLICT (operator_id) DO NOTHING",
    )
    .bind(operator_id)
    .bind(secret_sealed)
    .bind(micros(&now))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Records an accepted code's step (and confirms the enrolment); `false` when
/// a code of this step or a later one was accepted already (a replay).
pub async fn accept_step(
    conn: &mut Conn,
    operator_id: &str,
    step: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = sqlx::query(
        "UPDATE operator_totp SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2) \
         WHERE operator_id = $3 AND last_step < $1",
    )
    .bind(step)
    .bind(micros(&now))
    .bind(operator_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Removes an operator's second factor; `false` when there was none.
pub async fn remove_totp(conn: &mut Conn, operator_id: &str) -> StoreResult<bool> {
    let n = sqlx::query("DELETE FROM operator_totp WHERE operator_id = $1")
        .bind(operator_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM operator_pending_logins WHERE operator_id = $1")
        .bind(operator_id)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

// ---- sign-ins waiting for their code --------------------------------------------

/// Starts a pending sign-in (and forgets those begun before `stale_before`).
pub async fn insert_pending(
    conn: &mut Conn,
    id_hash: &str,
    operator_id: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM operator_pending_logins WHERE created_at < $1")
        .bind(micros(&stale_before))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO operator_pending_logins (id_hash, operator_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(id_hash)
    .bind(operator_id)
    .bind(micros(&now))
    .execute(conn)
    .await?;
    Ok(())
}

/// A pending sign-in: (operator, started at).
pub async fn pending(
    conn: &mut Conn,
    id_hash: &str,
) -> StoreResult<Option<(String, DateTime<Utc>)>> {
    #[derive(sqlx::FromRow)]
    struct PendingRow {
        operator_id: String,
        created_at: i64,
    }
    let row = sqlx::query_as::<_, PendingRow>(
        "SELECT operator_id, created_at FROM operator_pending_logins WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.operator_id, from_micros(r.created_at))))
}

pub async fn end_pending(conn: &mut Conn, id_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM operator_pending_logins WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- one-time document links --------------------------------------------------------

/// A document link as issued.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLink {
    pub document_id: String,
    pub customer_id: String,
    pub operator_id: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Issues a link (and forgets those that expired before `now`).
pub async fn insert_link(
    conn: &mut Conn,
    token_hash: &str,
    l: &DocumentLink,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM operator_document_links WHERE expires_at < $1")
        .bind(micros(&now))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO operator_document_links (token_hash, document_id, customer_id, operator_id, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(&l.document_id)
    .bind(&l.customer_id)
    .bind(&l.operator_id)
    .bind(micros(&l.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn link(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<DocumentLink>> {
    /// An `operator_document_links` row (times in microseconds).
    #[derive(sqlx::FromRow)]
    struct LinkRow {
        document_id: String,
        customer_id: String,
        operator_id: String,
        expires_at: i64,
        used_at: Option<i64>,
    }
    let row = sqlx::query_as::<_, LinkRow>(
        "SELECT document_id, customer_id, operator_id, expires_at, used_at \
         FROM operator_document_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| DocumentLink {
        document_id: r.document_id,
        customer_id: r.customer_id,
        operator_id: r.operator_id,
        expires_at: from_micros(r.expires_at),
        used_at: r.used_at.map(from_micros),
    }))
}

/// Marks a link used; `false` when it was used already (one use only).
pub async fn use_link(conn: &mut Conn, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let n = sqlx::query(
        "UPDATE operator_document_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(micros(&now))
    .bind(token_hash)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}
