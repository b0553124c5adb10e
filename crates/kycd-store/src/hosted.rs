//! The hosted flow's links and browser sessions: a link's state by its token
//! hash, opening it once, and the session it opens (stored by the hash of its
//! id, bound to the link and the customer).
//!
//! Looked up by token hash, with no `Scope`: like an API key at
//! authentication, the token is what tells the scope (each row carries it).

use crate::db::{Conn, Scope, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};

/// A hosted link as the page sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub scope: Scope,
    pub customer_id: String,
    pub expires_at: DateTime<Utc>,
    /// A newer link for the same customer retired this one.
    pub retired: bool,
    /// When a browser opened it (it opens one session only).
    pub opened_at: Option<DateTime<Utc>>,
}

/// A link by the hash of its token, whatever its state.
pub async fn link(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<Link>> {
    /// A `hosted_links` row (times in microseconds).
    #[derive(sqlx::FromRow)]
    struct LinkRow {
        #[sqlx(flatten)]
        scope: Scope,
        customer_id: String,
        expires_at: i64,
        used_at: Option<i64>,
        opened_at: Option<i64>,
    }
    let row = sqlx::query_as::<_, LinkRow>(
        "SELECT organization_id, environment, customer_id, expires_at, used_at, opened_at \
         FROM hosted_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Link {
        scope: r.scope,
        customer_id: r.customer_id,
        expires_at: from_micros(r.expires_at),
        retired: r.used_at.is_some(),
        opened_at: r.opened_at.map(from_micros),
    }))
}

/// A new browser session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub token_hash: &'a str,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
}

/// Marks the link opened and records its session, unless another browser
/// opened it first: `false` then, and nothing is written.
pub async fn open(conn: &mut Conn, link: &Link, s: &NewSession<'_>) -> StoreResult<bool> {
    let claimed = sqlx::query(
        "UPDATE hosted_links SET opened_at = $1 \
         WHERE token_hash = $2 AND opened_at IS NULL AND used_at IS NULL",
    )
    .bind(micros(&s.now))
    .bind(s.token_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO hosted_sessions (id_hash, token_hash, customer_id, organization_id, environment, \
         csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(s.id_hash)
    .bind(s.token_hash)
    .bind(&link.customer_id)
    .bind(&link.scope.organization_id)
    .bind(&link.scope.environment)
    .bind(s.csrf_token)
    .bind(micros(&s.now))
    .execute(conn)
    .await?;
    Ok(true)
}

/// A browser session with the state of the link that opened it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub scope: Scope,
    pub customer_id: String,
    pub token_hash: String,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
    /// The link was renewed since: the session ended with it.
    pub link_retired: bool,
}

/// A session by the hash of its id.
pub async fn session(conn: &mut Conn, id_hash: &str) -> StoreResult<Option<Session>> {
    /// A `hosted_sessions` row with its link's state (times in microseconds).
    #[derive(sqlx::FromRow)]
    struct SessionRow {
        #[sqlx(flatten)]
        scope: Scope,
        customer_id: String,
        token_hash: String,
        csrf_token: String,
        last_seen_at: i64,
        link_used_at: Option<i64>,
        link_token_hash: Option<String>,
    }
    let row = sqlx::query_as::<_, SessionRow>(
        "SELECT s.organization_id AS organization_id, s.environment AS environment, s.customer_id AS customer_id, \
         s.token_hash AS token_hash, s.csrf_token AS csrf_token, s.last_seen_at AS last_seen_at, l.used_at AS link_used_at, l.token_hash AS link_token_hash FROM hosted_sessions s \
         LEFT JOIN hosted_links l ON l.token_hash = s.token_hash WHERE s.id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Session {
        scope: r.scope,
        customer_id: r.customer_id,
        token_hash: r.token_hash,
        csrf_token: r.csrf_token,
        last_seen_at: from_micros(r.last_seen_at),
        // A link deleted (erasure) ends its sessions too.
        link_retired: r.link_used_at.is_some() || r.link_token_hash.is_none(),
    }))
}

/// Records activity (sessions end after a period without any).
pub async fn touch(conn: &mut Conn, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE hosted_sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(micros(&now))
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends a session (the user finished, or it expired).
pub async fn end(conn: &mut Conn, id_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM hosted_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}
