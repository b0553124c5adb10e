//! Organizations, API keys (stored as SHA-256 hashes only) and per-environment settings.

use crate::db::{Conn, Scope, StoreError, StoreResult, micros};
use chrono::{DateTime, Utc};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// What an API key resolves to.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub key_id: String,
    pub scope: Scope,
}

pub async fn insert_org(conn: &mut Conn, org: &Organization) -> StoreResult<()> {
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&org.id)
        .bind(&org.name)
        .bind(micros(&org.created_at))
        .execute(conn)
        .await
        .map_err(StoreError::from_insert)?;
    Ok(())
}

pub async fn count_orgs(conn: &mut Conn) -> StoreResult<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM organizations")
        .fetch_one(conn)
        .await?
        .try_get(0)?)
}

pub async fn find_org_by_name(conn: &mut Conn, name: &str) -> StoreResult<Option<Organization>> {
    let row = sqlx::query(
        "SELECT id, name, created_at FROM organizations WHERE name = $1 ORDER BY id LIMIT 1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Organization {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            created_at: crate::from_micros(r.try_get(2)?),
        })
    })
    .transpose()
}

pub async fn get_org(conn: &mut Conn, id: &str) -> StoreResult<Option<Organization>> {
    let row = sqlx::query("SELECT id, name, created_at FROM organizations WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        Ok(Organization {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            created_at: crate::from_micros(r.try_get(2)?),
        })
    })
    .transpose()
}

/// The first `limit` organizations by id (a command picking the only one).
pub async fn first_orgs(conn: &mut Conn, limit: i64) -> StoreResult<Vec<Organization>> {
    let rows = sqlx::query("SELECT id, name, created_at FROM organizations ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Organization {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                created_at: crate::from_micros(r.try_get(2)?),
            })
        })
        .collect()
}

/// An API key as listed for operators (never its hash).
#[derive(Debug, Clone)]
pub struct ApiKeyInfo {
    pub id: String,
    pub scope: Scope,
    pub prefix: String,
    pub revoked: bool,
}

/// The keys whose prefix (first 12 characters) or id is `prefix_or_id`.
pub async fn keys_matching(conn: &mut Conn, prefix_or_id: &str) -> StoreResult<Vec<ApiKeyInfo>> {
    let rows = sqlx::query(
        "SELECT id, organization_id, environment, prefix, revoked_at FROM api_keys WHERE prefix = $1 OR id = $1 ORDER BY id",
    )
    .bind(prefix_or_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ApiKeyInfo {
                id: r.try_get(0)?,
                scope: Scope::new(r.try_get::<String, _>(1)?, r.try_get::<String, _>(2)?),
                prefix: r.try_get(3)?,
                revoked: r.try_get::<Option<i64>, _>(4)?.is_some(),
            })
        })
        .collect()
}

/// Revokes a key; false if it was revoked already (or does not exist).
/// Requests check `revoked_at` on every call, so this takes effect at once.
pub async fn revoke_key(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(micros(&now))
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_key(
    conn: &mut Conn,
    id: &str,
    scope: &Scope,
    key_hash: &str,
    prefix: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, organization_id, environment, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(key_hash)
    .bind(prefix)
    .bind(micros(&now))
    .execute(conn)
    .await
    .map_err(StoreError::from_insert)?;
    Ok(())
}

/// Looks a key up by its hash. The hash is an index lookup; the caller
/// compares the hash again in constant time.
pub async fn find_key(conn: &mut Conn, key_hash: &str) -> StoreResult<Option<(KeyOwner, String)>> {
    let row = sqlx::query(
        "SELECT id, organization_id, environment, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok((
            KeyOwner {
                key_id: r.try_get(0)?,
                scope: Scope::new(r.try_get::<String, _>(1)?, r.try_get::<String, _>(2)?),
            },
            r.try_get(3)?,
        ))
    })
    .transpose()
}

/// The stored settings body (JSON) and the sandbox clock offset, if any.
pub async fn get_settings(conn: &mut Conn, scope: &Scope) -> StoreResult<Option<(String, i64)>> {
    let row = sqlx::query(
        "SELECT body, clock_offset_seconds FROM settings WHERE organization_id = $1 AND environment = $2",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

pub async fn put_settings(conn: &mut Conn, scope: &Scope, body: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO settings (organization_id, environment, body, clock_offset_seconds) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (organization_id, environment) DO UPDATE SET body = excluded.body",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the sandbox clock forward; returns the new offset in seconds.
pub async fn advance_clock(
    conn: &mut Conn,
    scope: &Scope,
    default_body: &str,
    seconds: i64,
) -> StoreResult<i64> {
    sqlx::query(
        "INSERT INTO settings (organization_id, environment, body, clock_offset_seconds) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (organization_id, environment) DO UPDATE SET clock_offset_seconds = settings.clock_offset_seconds + excluded.clock_offset_seconds",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(default_body)
    .bind(seconds)
    .execute(&mut *conn)
    .await?;
    Ok(get_settings(conn, scope)
        .await?
        .map(|(_, o)| o)
        .unwrap_or(0))
}

/// Every scope with a clock offset (the scheduler runs due work per scope).
pub async fn clock_offsets(conn: &mut Conn) -> StoreResult<Vec<(Scope, i64)>> {
    let rows = sqlx::query(
        "SELECT organization_id, environment, clock_offset_seconds FROM settings WHERE clock_offset_seconds <> 0",
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                Scope::new(r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?),
                r.try_get(2)?,
            ))
        })
        .collect()
}
