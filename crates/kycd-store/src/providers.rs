//! Identity provider configuration per scope (public part in clear, the
//! credentials as one vault-sealed string) and each customer's applicant at
//! a provider with the newest event applied to it.

use crate::db::{Conn, Scope, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::FromRow;

/// One provider's stored configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProvider {
    pub provider: String,
    /// JSON of the public settings (level name, base URL, level mapping).
    pub config: String,
    /// The credentials, sealed by the vault.
    pub secrets: String,
    pub configured_at: DateTime<Utc>,
}

pub async fn put(conn: &mut Conn, scope: &Scope, p: &StoredProvider) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO identity_providers (organization_id, environment, provider, config, secrets, configured_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (organization_id, environment, provider) \
         DO UPDATE SET config = excluded.config, secrets = excluded.secrets, configured_at = excluded.configured_at",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(&p.provider)
    .bind(&p.config)
    .bind(&p.secrets)
    .bind(micros(&p.configured_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut Conn,
    scope: &Scope,
    provider: &str,
) -> StoreResult<Option<StoredProvider>> {
    Ok(list(conn, scope)
        .await?
        .into_iter()
        .find(|p| p.provider == provider))
}

pub async fn list(conn: &mut Conn, scope: &Scope) -> StoreResult<Vec<StoredProvider>> {
    /// An `identity_providers` row (`configured_at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct ProviderRow {
        provider: String,
        config: String,
        secrets: String,
        configured_at: i64,
    }
    let rows = sqlx::query_as::<_, ProviderRow>(
        "SELECT provider, config, secrets, configured_at FROM identity_providers \
         WHERE organization_id = $1 AND environment = $2 ORDER BY provider",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredProvider {
            provider: r.provider,
            config: r.config,
            secrets: r.secrets,
            configured_at: from_micros(r.configured_at),
        })
        .collect())
}

/// Removes a configuration; false when there was none.
pub async fn delete(conn: &mut Conn, scope: &Scope, provider: &str) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM identity_providers WHERE organization_id = $1 AND environment = $2 AND provider = $3",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(provider)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A customer's applicant at a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Applicant {
    pub provider: String,
    pub applicant_id: String,
    pub scope: Scope,
    pub customer_id: String,
    /// Creation time (ms) of the newest provider event applied.
    pub last_event_ms: i64,
}

/// Records the applicant of a customer (idempotent).
pub async fn put_applicant(
    conn: &mut Conn,
    scope: &Scope,
    provider: &str,
    applicant_id: &str,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO provider_applicants (provider, applicant_id, organization_id, environment, customer_id, last_event_ms, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (provider, applicant_id) DO NOTHING",
    )
    .bind(provider)
    .bind(applicant_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(customer_id)
    .bind(micros(&now))
    .execute(conn)
    .await?;
    Ok(())
}

/// A `provider_applicants` row as selected by `APPLICANT_COLUMNS`.
#[derive(sqlx::FromRow)]
struct ApplicantRow {
    provider: String,
    applicant_id: String,
    #[sqlx(flatten)]
    scope: Scope,
    customer_id: String,
    last_event_ms: i64,
}

fn applicant_row(r: &sqlx::any::AnyRow) -> StoreResult<Applicant> {
    let r = ApplicantRow::from_row(r)?;
    Ok(Applicant {
        provider: r.provider,
        applicant_id: r.applicant_id,
        scope: r.scope,
        customer_id: r.customer_id,
        last_event_ms: r.last_event_ms,
    })
}

const APPLICANT_COLUMNS: &str =
    "provider, applicant_id, organization_id, environment, customer_id, last_event_ms";

/// The applicant by the provider's id, whatever its scope: global by nature,
/// as a key lookup by hash is (a provider's webhook names the applicant, and
/// the applicant tells the scope; the caller checks it against the scope the
/// webhook was addressed to).
pub async fn applicant(
    conn: &mut Conn,
    provider: &str,
    applicant_id: &str,
) -> StoreResult<Option<Applicant>> {
    let row = sqlx::query(&format!(
        "SELECT {APPLICANT_COLUMNS} FROM provider_applicants WHERE provider = $1 AND applicant_id = $2"
    ))
    .bind(provider)
    .bind(applicant_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(applicant_row).transpose()
}

/// The applicant of a customer at a provider.
pub async fn applicant_of(
    conn: &mut Conn,
    scope: &Scope,
    provider: &str,
    customer_id: &str,
) -> StoreResult<Option<Applicant>> {
    let row = sqlx::query(&format!(
        "SELECT {APPLICANT_COLUMNS} FROM provider_applicants WHERE provider = $1 \
         AND organization_id = $2 AND environment = $3 AND customer_id = $4 ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(provider)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(customer_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(applicant_row).transpose()
}

/// Moves the newest applied event of the applicant of `scope` forward to
/// `at_ms`; false (nothing changed) when an event as new or newer was applied
/// already, or the applicant is another scope's.
pub async fn advance_event(
    conn: &mut Conn,
    scope: &Scope,
    provider: &str,
    applicant_id: &str,
    at_ms: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE provider_applicants SET last_event_ms = $1 WHERE provider = $2 AND applicant_id = $3 \
         AND organization_id = $4 AND environment = $5 AND last_event_ms < $1",
    )
    .bind(at_ms)
    .bind(provider)
    .bind(applicant_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Applicants at `provider` whose customer still waits on it (`pending` or
/// `on_hold`), recorded before `before`, oldest first: for reconciliation,
/// a job over every scope (each applicant carries its scope).
pub async fn waiting(
    conn: &mut Conn,
    provider: &str,
    before: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<Applicant>> {
    let rows = sqlx::query(&format!(
        "SELECT a.provider AS provider, a.applicant_id AS applicant_id, a.organization_id AS organization_id, \
         a.environment AS environment, a.customer_id AS customer_id, a.last_event_ms AS last_event_ms \
         FROM provider_applicants a JOIN customers c ON c.id = a.customer_id \
         AND c.organization_id = a.organization_id AND c.environment = a.environment \
         WHERE a.provider = $1 AND a.created_at < $2 AND c.status IN ('pending', 'on_hold') \
         AND c.erased_at IS NULL ORDER BY a.created_at LIMIT {limit}"
    ))
    .bind(provider)
    .bind(micros(&before))
    .fetch_all(conn)
    .await?;
    rows.iter().map(applicant_row).collect()
}

/// Sets the applicant's newest applied event to `at_ms` (reconciliation:
/// the provider's current state supersedes anything older).
pub async fn mark_reconciled(
    conn: &mut Conn,
    scope: &Scope,
    provider: &str,
    applicant_id: &str,
    at_ms: i64,
) -> StoreResult<bool> {
    advance_event(conn, scope, provider, applicant_id, at_ms).await
}
