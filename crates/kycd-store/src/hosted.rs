//! The hosted flow's links and browser sessions: a link's state by its token
//! hash, opening it once, and the session it opens (stored by the hash of its
//! id, bound to the link and the customer).

use crate::db::{Conn, Scope, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::Row;

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
    let row = sqlx::query(
        "SELECT organization_id, environment, customer_id, expires_at, used_at, opened_at \
         FROM hosted_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Link {
            scope: Scope::new(r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?),
            customer_id: r.try_get(2)?,
            expires_at: from_micros(r.try_get(3)?),
            retired: r.try_get::<Option<i64>, _>(4)?.is_some(),
            opened_at: r.try_get::<Option<i64>, _>(5)?.map(from_micros),
        })
    })
    .transpose()
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
    let row = sqlx::query(
        "SELECT s.organization_id, s.environment, s.customer_id, s.token_hash, s.csrf_token, \
         s.last_seen_at, l.used_at, l.token_hash FROM hosted_sessions s \
         LEFT JOIN hosted_links l ON l.token_hash = s.token_hash WHERE s.id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Session {
            scope: Scope::new(r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?),
            customer_id: r.try_get(2)?,
            token_hash: r.try_get(3)?,
            csrf_token: r.try_get(4)?,
            last_seen_at: from_micros(r.try_get(5)?),
            // A link deleted (erasure) ends its sessions too.
            link_retired: r.try_get::<Option<i64>, _>(6)?.is_some()
                || r.try_get::<Option<String>, _>(7)?.is_none(),
        })
    })
    .transpose()
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
