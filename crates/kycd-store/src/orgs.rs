//! Organizations, API keys (stored as SHA-256 hashes only) and per-environment settings.
//!
//! Settings take the `Scope`. The rest is global by nature: organizations
//! are what a scope is made of; a key is looked up by its hash at
//! authentication, before any scope is known (the key yields it); the
//! operator's key commands (`keys_matching`, `revoke_key`) work across
//! organizations; `clock_offsets` serves the scheduler, which visits every
//! scope.

use crate::db::{Conn, Scope, StoreError, StoreResult, micros};
use chrono::{DateTime, Utc};
use sqlx::FromRow;

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

/// An `organizations` row (`created_at` in microseconds).
#[derive(sqlx::FromRow)]
struct OrganizationRow {
    id: String,
    name: String,
    created_at: i64,
}

fn organization(r: &sqlx::any::AnyRow) -> StoreResult<Organization> {
    let r = OrganizationRow::from_row(r)?;
    Ok(Organization {
        id: r.id,
        name: r.name,
        created_at: crate::from_micros(r.created_at),
    })
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
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(conn)
        .await?)
}

pub async fn find_org_by_name(conn: &mut Conn, name: &str) -> StoreResult<Option<Organization>> {
    let row = sqlx::query(
        "SELECT id, name, created_at FROM organizations WHERE name = $1 ORDER BY id LIMIT 1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(organization).transpose()
}

pub async fn get_org(conn: &mut Conn, id: &str) -> StoreResult<Option<Organization>> {
    let row = sqlx::query("SELECT id, name, created_at FROM organizations WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(organization).transpose()
}

/// The first `limit` organizations by id (a command picking the only one).
pub async fn first_orgs(conn: &mut Conn, limit: i64) -> StoreResult<Vec<Organization>> {
    let rows = sqlx::query("SELECT id, name, created_at FROM organizations ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(organization).collect()
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
    #[derive(sqlx::FromRow)]
    struct KeyRow {
        id: String,
        #[sqlx(flatten)]
        scope: Scope,
        prefix: String,
        revoked_at: Option<i64>,
    }
    let rows = sqlx::query_as::<_, KeyRow>(
        "SELECT id, organization_id, environment, prefix, revoked_at FROM api_keys WHERE prefix = $1 OR id = $1 ORDER BY id",
    )
    .bind(prefix_or_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ApiKeyInfo {
            id: r.id,
            scope: r.scope,
            prefix: r.prefix,
            revoked: r.revoked_at.is_some(),
        })
        .collect())
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
    #[derive(sqlx::FromRow)]
    struct KeyRow {
        id: String,
        #[sqlx(flatten)]
        scope: Scope,
        key_hash: String,
    }
    let row = sqlx::query_as::<_, KeyRow>(
        "SELECT id, organization_id, environment, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        (
            KeyOwner {
                key_id: r.id,
                scope: r.scope,
            },
            r.key_hash,
        )
    }))
}

/// The stored settings body (JSON) and the sandbox clock offset, if any.
pub async fn get_settings(conn: &mut Conn, scope: &Scope) -> StoreResult<Option<(String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct SettingsRow {
        body: String,
        clock_offset_seconds: i64,
    }
    let row = sqlx::query_as::<_, SettingsRow>(
        "SELECT body, clock_offset_seconds FROM settings WHERE organization_id = $1 AND environment = $2",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.body, r.clock_offset_seconds)))
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
    #[derive(sqlx::FromRow)]
    struct OffsetRow {
        #[sqlx(flatten)]
        scope: Scope,
        clock_offset_seconds: i64,
    }
    let rows = sqlx::query_as::<_, OffsetRow>(
        "SELECT organization_id, environment, clock_offset_seconds FROM settings WHERE clock_offset_seconds <> 0",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.scope, r.clock_offset_seconds))
        .collect())
}
