//! Connection set-up, migrations and the small dialect layer.

use crate::breaker::{Admission, Breaker};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Conn = AnyConnection;
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Row-locking suffix for claim queries: several nodes share work on PostgreSQL.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// Organization and environment: the key on every row and every query (read
/// from a row's `organization_id` and `environment` columns by name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct Scope {
    pub organization_id: String,
    pub environment: String,
}

impl Scope {
    pub fn new(org: impl Into<String>, env: impl Into<String>) -> Self {
        Scope {
            organization_id: org.into(),
            environment: env.into(),
        }
    }
    pub fn is_live(&self) -> bool {
        self.environment == "live"
    }
}

/// The owner of a data key in `customer_keys`: a customer, webhook endpoint or
/// provider configuration of one environment, or an owner of the whole
/// organization (its idempotency subject, a back-office operator), stored with
/// the empty environment. A key is read only under its owner's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyOwner<'a> {
    pub organization_id: &'a str,
    /// The owner's environment; empty for an owner of the whole organization.
    pub environment: &'a str,
    pub id: &'a str,
}

impl<'a> KeyOwner<'a> {
    /// An owner that lives in one environment of the scope's organization.
    pub fn scoped(scope: &'a Scope, id: &'a str) -> Self {
        KeyOwner {
            organization_id: &scope.organization_id,
            environment: &scope.environment,
            id,
        }
    }

    /// An owner of the whole organization, in no one environment.
    pub fn organization_wide(organization_id: &'a str, id: &'a str) -> Self {
        KeyOwner {
            organization_id,
            environment: "",
            id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict on {0}")]
    Conflict(String),
    #[error("the record changed meanwhile")]
    VersionConflict,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database was migrated by a newer kycd: this binary does not know
    /// some of its migrations, and refuses to run against it.
    #[error(
        "the database schema is newer than this kycd knows: it has migration {database}, this binary's newest is \
         {latest_known} (unknown to it: {unknown}). Refusing to start; nothing was changed. Run the kycd version that \
         migrated this database, or a newer one (migrations are forward-only: going back means restoring the backup \
         taken before the upgrade)"
    )]
    SchemaTooNew {
        database: i64,
        latest_known: i64,
        unknown: String,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database was unreachable moments ago (the circuit is open): not tried.
    #[error("the database is unavailable")]
    Unavailable { retry_after: Duration },
}

/// The unique constraints a write may violate, named once for both backends:
/// PostgreSQL reports the constraint (or unique index) name, SQLite the
/// columns (`UNIQUE constraint failed: table.column, …`); both map to the
/// name `StoreError::Conflict` carries.
const UNIQUE_CONSTRAINTS: &[(&str, &str, &str)] = &[
    (
        "customers_external_id",
        "customers.organization_id, customers.environment, customers.external_id",
        "external_id",
    ),
    ("customers_pkey", "customers.id", "customer id"),
    (
        "product_access_open",
        "product_access.customer_id, product_access.product",
        "product_access_open",
    ),
    (
        "product_access_pkey",
        "product_access.id",
        "product access id",
    ),
    ("documents_pkey", "documents.id", "document id"),
    (
        "webhook_endpoints_pkey",
        "webhook_endpoints.id",
        "webhook endpoint id",
    ),
    (
        "delivery_attempts_delivery_id_attempt_key",
        "delivery_attempts.delivery_id, delivery_attempts.attempt",
        "delivery attempt",
    ),
    (
        "deliveries_event_id_endpoint_id_key",
        "deliveries.event_id, deliveries.endpoint_id",
        "delivery",
    ),
    ("organizations_pkey", "organizations.id", "organization id"),
    ("api_keys_pkey", "api_keys.id", "api key id"),
    ("api_keys_key_hash_key", "api_keys.key_hash", "api key"),
    (
        "idempotency_keys_pkey",
        "idempotency_keys.organization_id, idempotency_keys.environment, idempotency_keys.key",
        "idempotency key",
    ),
    ("events_pkey", "events.id", "event id"),
    (
        "inbound_webhooks_provider_external_id_key",
        "inbound_webhooks.provider, inbound_webhooks.external_id",
        "inbound webhook",
    ),
];

/// The name of the unique constraint a database error violated, or `None`
/// when it is not a unique violation. Unknown constraints are named as the
/// database names them.
pub fn violated_unique(e: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    if db.kind() != sqlx::error::ErrorKind::UniqueViolation {
        return None;
    }
    if let Some(name) = db.constraint() {
        return Some(
            UNIQUE_CONSTRAINTS
                .iter()
                .find(|(pg, _, _)| *pg == name)
                .map_or_else(|| name.to_string(), |(_, _, field)| field.to_string()),
        );
    }
    let message = db.message();
    let columns = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or(message)
        .trim();
    Some(
        UNIQUE_CONSTRAINTS
            .iter()
            .find(|(_, sqlite, _)| *sqlite == columns)
            .map_or_else(|| columns.to_string(), |(_, _, field)| field.to_string()),
    )
}

impl StoreError {
    /// Turns a unique violation into `Conflict(name)`, naming the constraint
    /// that was violated (`external_id`, `customer id`, `idempotency key`…).
    pub fn from_insert(e: sqlx::Error) -> StoreError {
        match violated_unique(&e) {
            Some(name) => StoreError::Conflict(name),
            None => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// A deadlock or serialization failure between concurrent transactions
    /// (PostgreSQL 40P01 / 40001, SQLite busy): the whole transaction may be retried.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::VersionConflict => true,
            StoreError::Database(sqlx::Error::Database(db)) => {
                matches!(
                    db.code().as_deref(),
                    Some("40P01") | Some("40001") | Some("5") | Some("6")
                )
            }
            _ => false,
        }
    }
}

impl StoreError {
    /// The database could not be reached (connection refused or lost, pool
    /// acquire timed out, circuit open): a transient outage, not the caller's
    /// fault and not a bug. Retrying later may succeed.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable { .. } => true,
            StoreError::Database(e) => is_connection_error(e),
            _ => false,
        }
    }
}

/// Errors that say the connection (not the statement) failed.
fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL shutting down / refusing connections:
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
        // class 08 connection exceptions.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("57P0") || c.starts_with("08")),
        _ => false,
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// PostgreSQL connections per process unless configured (more connections
/// than cores only add context switches on small machines).
pub const DEFAULT_POOL_SIZE: u32 = 8;

/// How the store talks to its database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a request waits for a PostgreSQL connection before it is told
    /// the database is unavailable (SQLite keeps a long wait: its single
    /// writer connection queues writes, it is never "away").
    pub acquire_timeout: Duration,
    /// Consecutive connection failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open circuit fails requests at once before probing again.
    pub breaker_open_for: Duration,
    /// PostgreSQL connections in the pool.
    pub pool_size: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            acquire_timeout: Duration::from_secs(1),
            breaker_threshold: crate::breaker::DEFAULT_FAILURE_THRESHOLD,
            breaker_open_for: crate::breaker::DEFAULT_OPEN_FOR,
            pool_size: DEFAULT_POOL_SIZE,
        }
    }
}

/// Microseconds since the epoch: how timestamps are stored.
pub fn micros(ts: &DateTime<Utc>) -> i64 {
    ts.timestamp_micros()
}

pub fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

/// Every SQLite connection's settings. `synchronous = FULL`: in WAL mode
/// each commit syncs the WAL before it returns, so a write acknowledged is on
/// disk and survives a power loss or an OS crash, as a PostgreSQL commit does
/// (`NORMAL` would survive a crash of kycd only). Measured here ≈ 0.25 ms
/// per commit; group commit shares it among a group's creates.
async fn sqlite_session_setup(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute(
        "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .await?;
    Ok(())
}

/// The database: a writer pool and a reader pool (the same pool on PostgreSQL;
/// on SQLite one writer connection serialises writes without busy waits while
/// readers run in parallel under WAL).
#[derive(Clone, Debug)]
pub struct Store {
    pub dialect: Dialect,
    pub(crate) write: AnyPool,
    read: AnyPool,
    breaker: Arc<Breaker>,
}

static DRIVERS: std::sync::Once = std::sync::Once::new();

impl Store {
    /// Connects: `postgres://…` or `sqlite://path` (or a bare file path).
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Store::connect_with(url, &StoreOptions::default()).await
    }

    /// Connects with explicit options (acquire timeout, circuit breaker).
    pub async fn connect_with(url: &str, options: &StoreOptions) -> StoreResult<Store> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let breaker = Arc::new(Breaker::new(
            options.breaker_threshold,
            options.breaker_open_for,
        ));
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = AnyConnectOptions::from_str(url)?;
            let pool = AnyPoolOptions::new()
                .test_before_acquire(false)
                .max_connections(options.pool_size.max(1))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await?;
            return Ok(Store {
                dialect: Dialect::Postgres,
                write: pool.clone(),
                read: pool,
                breaker,
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        let url = format!("sqlite://{path}?mode=rwc");
        let opts = AnyConnectOptions::from_str(&url)?;
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|c, _| Box::pin(sqlite_session_setup(c)))
            .connect_with(opts.clone())
            .await?;
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&write)
            .await?;
        let read = AnyPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|c, _| Box::pin(sqlite_session_setup(c)))
            .connect_with(opts)
            .await?;
        Ok(Store {
            dialect: Dialect::Sqlite,
            write,
            read,
            breaker,
        })
    }

    /// Runs a connection attempt through the circuit breaker: refused at once
    /// while the circuit is open; connection failures and successes are counted.
    async fn guarded<T>(
        &self,
        attempt: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> StoreResult<T> {
        if let Admission::Refused { retry_after } = self.breaker.admit(Instant::now()) {
            return Err(StoreError::Unavailable { retry_after });
        }
        match attempt.await {
            Ok(v) => {
                self.breaker.success();
                Ok(v)
            }
            Err(e) => {
                if is_connection_error(&e) {
                    self.breaker.failure(Instant::now());
                }
                Err(StoreError::Database(e))
            }
        }
    }

    /// Whether the circuit breaker is refusing database work right now.
    pub fn is_circuit_open(&self) -> bool {
        self.breaker.is_open(Instant::now())
    }

    /// A write transaction.
    pub async fn begin(&self) -> StoreResult<Tx> {
        self.guarded(self.write.begin()).await
    }

    /// A connection for reads.
    pub async fn reader(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.guarded(self.read.acquire()).await
    }

    /// A connection for single-statement writes outside a transaction.
    pub async fn writer(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.guarded(self.write.acquire()).await
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> bool {
        let Ok(mut conn) = self.reader().await else {
            return false;
        };
        match sqlx::query("SELECT 1").execute(&mut *conn).await {
            Ok(_) => true,
            Err(e) => {
                if is_connection_error(&e) {
                    self.breaker.failure(Instant::now());
                }
                false
            }
        }
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// A scoped list of one table, paginated newest first by id (ids are
/// time-ordered, so the id is the cursor).
pub struct Listing<'a> {
    pub table: &'a str,
    pub columns: &'a str,
    /// An extra SQL condition every row must meet (`""` for none).
    pub condition: &'a str,
}

impl Listing<'_> {
    /// One page: `WHERE organization_id, environment [AND column = value …]
    /// [AND id < starting_after] ORDER BY id DESC`, decoded, and whether more follow.
    pub async fn page<T>(
        &self,
        conn: &mut Conn,
        scope: &Scope,
        filters: &[(&str, &str)],
        starting_after: Option<&str>,
        limit: i64,
        decode: impl Fn(&sqlx::any::AnyRow) -> StoreResult<T>,
    ) -> StoreResult<(Vec<T>, bool)> {
        let mut sql = format!(
            "SELECT {} FROM {} WHERE organization_id = $1 AND environment = $2",
            self.columns, self.table
        );
        if !self.condition.is_empty() {
            sql.push_str(&format!(" AND {}", self.condition));
        }
        let mut n = 2;
        for (column, _) in filters {
            n += 1;
            sql.push_str(&format!(" AND {column} = ${n}"));
        }
        if starting_after.is_some() {
            sql.push_str(&format!(" AND id < ${}", n + 1));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
        let mut q = sqlx::query(&sql)
            .bind(&scope.organization_id)
            .bind(&scope.environment);
        for (_, value) in filters {
            q = q.bind(*value);
        }
        if let Some(after) = starting_after {
            q = q.bind(after);
        }
        let rows = q.fetch_all(conn).await?;
        let has_more = rows.len() as i64 > limit;
        let data = rows
            .iter()
            .take(limit as usize)
            .map(decode)
            .collect::<StoreResult<_>>()?;
        Ok((data, has_more))
    }
}

/// Creates (or re-creates) database `name` on the PostgreSQL server of
/// `server_url` and returns its URL: tests and benchmarks get a fresh database each.
pub async fn create_postgres_database(server_url: &str, name: &str) -> StoreResult<String> {
    use sqlx::Connection;
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let mut conn = AnyConnection::connect(server_url).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let (prefix, _) = server_url
        .rsplit_once('/')
        .ok_or_else(|| StoreError::Corrupt("a PostgreSQL URL needs a database path".into()))?;
    Ok(format!("{prefix}/{name}"))
}

/// A fresh database for one test or benchmark, `{prefix}_{pid}_{n}`, on the
/// PostgreSQL server of `server_url`; returns its URL. The first call of a
/// process first drops the databases of this prefix left by processes that
/// are gone (Linux: no `/proc/{pid}`), so repeated runs do not fill the
/// server; those of runs still going are left alone.
pub async fn create_scratch_database(server_url: &str, prefix: &str) -> StoreResult<String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        drop_databases_of_gone_processes(server_url, prefix).await?;
    }
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    create_postgres_database(server_url, &format!("{prefix}_{}_{n}", std::process::id())).await
}

/// Drops the databases `{prefix}_{pid}_…` whose process is gone.
async fn drop_databases_of_gone_processes(server_url: &str, prefix: &str) -> StoreResult<()> {
    use sqlx::Connection;
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return Ok(());
    }
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let mut conn = AnyConnection::connect(server_url).await?;
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname::text FROM pg_database")
        .fetch_all(&mut conn)
        .await?;
    let own = std::process::id().to_string();
    for (name,) in names {
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('_'))
            .and_then(|rest| rest.split('_').next())
        else {
            continue;
        };
        let is_pid = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
        if is_pid && pid != own && !proc.join(pid).exists() {
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await?;
        }
    }
    Ok(())
}

/// A named savepoint inside the caller's transaction: the work after it can be
/// undone alone ([`rollback_to_savepoint`]) while the transaction goes on, so
/// one failing item of a batch leaves its neighbours in the same commit. On
/// PostgreSQL this is also what makes the transaction usable again after a
/// failed statement (a unique violation). Plain statements (the simple query
/// protocol): savepoint names are never bound parameters.
pub async fn savepoint(conn: &mut Conn, name: &str) -> StoreResult<()> {
    savepoint_sql(conn, &format!("SAVEPOINT {}", savepoint_name(name)?)).await
}

/// Keeps the work since the savepoint (it commits with the transaction).
pub async fn release_savepoint(conn: &mut Conn, name: &str) -> StoreResult<()> {
    savepoint_sql(
        conn,
        &format!("RELEASE SAVEPOINT {}", savepoint_name(name)?),
    )
    .await
}

/// Undoes the work since the savepoint, and releases it.
pub async fn rollback_to_savepoint(conn: &mut Conn, name: &str) -> StoreResult<()> {
    let name = savepoint_name(name)?;
    savepoint_sql(conn, &format!("ROLLBACK TO SAVEPOINT {name}")).await?;
    savepoint_sql(conn, &format!("RELEASE SAVEPOINT {name}")).await
}

/// Savepoint names are spliced into SQL: only `[a-z_]` names are accepted.
fn savepoint_name(name: &str) -> StoreResult<&str> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        Ok(name)
    } else {
        Err(StoreError::Corrupt(format!(
            "invalid savepoint name {name:?}"
        )))
    }
}

async fn savepoint_sql(conn: &mut Conn, sql: &str) -> StoreResult<()> {
    (&mut *conn).execute(sql).await?;
    Ok(())
}
