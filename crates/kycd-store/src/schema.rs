//! Schema versions: the migrations embedded in this binary, what a database
//! has applied (read without changing anything, for `kycd migrate --check`),
//! and the refusal to run against a schema newer than this binary knows.
//! Migrations are forward-only: there are no down migrations.

use crate::db::{Dialect, Store, StoreError, StoreResult};
use sqlx::migrate::{Migrate, MigrateError, Migrator};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// The embedded migrator of a backend.
pub(crate) fn migrator(dialect: Dialect) -> &'static Migrator {
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    }
}

/// One migration: its number and what it does (from its file name).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
}

/// The migrations this binary embeds for `dialect`, in order.
pub fn embedded(dialect: Dialect) -> Vec<MigrationInfo> {
    migrator(dialect)
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| MigrationInfo {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect()
}

/// Where a database stands against the embedded migrations.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SchemaStatus {
    /// Applied, known to this binary, unchanged.
    pub applied: Vec<MigrationInfo>,
    /// Embedded but not applied yet.
    pub pending: Vec<MigrationInfo>,
    /// Applied by a newer kycd: this binary does not know them.
    pub unknown: Vec<MigrationInfo>,
    /// Applied, but the embedded file differs from what was applied.
    pub modified: Vec<i64>,
    /// A migration that failed half-way (only on a database without
    /// transactional DDL; never expected here).
    pub dirty: Option<i64>,
    /// The newest migration this binary embeds.
    pub latest_known: i64,
}

impl SchemaStatus {
    /// Nothing to apply and nothing this binary would refuse.
    pub fn up_to_date(&self) -> bool {
        self.pending.is_empty() && self.is_usable()
    }

    /// No newer, modified or half-applied migration: this binary may migrate
    /// and run against the database.
    pub fn is_usable(&self) -> bool {
        self.unknown.is_empty() && self.modified.is_empty() && self.dirty.is_none()
    }

    /// The newest migration the database has applied (0 for none).
    pub fn database_version(&self) -> i64 {
        self.applied
            .iter()
            .chain(&self.unknown)
            .map(|m| m.version)
            .max()
            .unwrap_or(0)
    }

    /// Why this binary refuses the database, if it does.
    pub fn refusal(&self) -> Option<StoreError> {
        if !self.unknown.is_empty() {
            return Some(StoreError::SchemaTooNew {
                database: self.database_version(),
                latest_known: self.latest_known,
                unknown: self
                    .unknown
                    .iter()
                    .map(|m| format!("{} ({})", m.version, m.description))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if let Some(&v) = self.modified.first() {
            return Some(StoreError::Migrate(MigrateError::VersionMismatch(v)));
        }
        self.dirty
            .map(|v| StoreError::Migrate(MigrateError::Dirty(v)))
    }
}

impl Store {
    /// Reads which migrations the database has applied and compares them with
    /// the embedded ones. Changes nothing: not even the bookkeeping table is
    /// created when it is missing (then every migration is pending).
    pub async fn schema_status(&self) -> StoreResult<SchemaStatus> {
        let migrator = migrator(self.dialect);
        let mut conn = self.writer().await?;
        let exists_sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
            }
        };
        let exists: i64 = sqlx::query_scalar(exists_sql).fetch_one(&mut *conn).await?;
        let mut status = SchemaStatus {
            applied: vec![],
            pending: vec![],
            unknown: vec![],
            modified: vec![],
            dirty: None,
            latest_known: migrator.iter().map(|m| m.version).max().unwrap_or(0),
        };
        let mut applied: Vec<(i64, String, Vec<u8>)> = vec![];
        if exists > 0 {
            status.dirty = conn.dirty_version().await?;
            let checksums = conn.list_applied_migrations().await?;
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT version, description FROM _sqlx_migrations ORDER BY version",
            )
            .fetch_all(&mut *conn)
            .await?;
            for (version, description) in rows {
                let checksum = checksums
                    .iter()
                    .find(|a| a.version == version)
                    .map(|a| a.checksum.to_vec())
                    .unwrap_or_default();
                applied.push((version, description, checksum));
            }
        }
        for (version, description, checksum) in &applied {
            match migrator.iter().find(|m| m.version == *version) {
                Some(m) => {
                    if m.checksum.as_ref() != checksum.as_slice() {
                        status.modified.push(*version);
                    }
                    status.applied.push(MigrationInfo {
                        version: *version,
                        description: m.description.to_string(),
                    });
                }
                None => status.unknown.push(MigrationInfo {
                    version: *version,
                    description: description.clone(),
                }),
            }
        }
        status.pending = embedded(self.dialect)
            .into_iter()
            .filter(|m| !applied.iter().any(|(v, _, _)| *v == m.version))
            .collect();
        Ok(status)
    }

    /// Runs the embedded migrations of this backend, after refusing a
    /// database migrated by a newer kycd (a migration this binary does not
    /// know), one whose applied migration differs from the embedded file, or
    /// a half-applied one: then nothing is changed.
    pub async fn migrate(&self) -> StoreResult<()> {
        if let Some(refusal) = self.schema_status().await?.refusal() {
            return Err(refusal);
        }
        match migrator(self.dialect).run(&self.write).await {
            Ok(()) => Ok(()),
            // A newer node migrated between the check and the migrator's lock.
            Err(MigrateError::VersionMissing(_)) => Err(self
                .schema_status()
                .await?
                .refusal()
                .unwrap_or(StoreError::Migrate(MigrateError::VersionMissing(0)))),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies the embedded migrations up to and including `version` only:
    /// tests build a database as an older kycd left it.
    #[doc(hidden)]
    pub async fn migrate_up_to(&self, version: i64) -> StoreResult<()> {
        let mut conn = self.writer().await?;
        conn.ensure_migrations_table().await?;
        let applied = conn.list_applied_migrations().await?;
        for m in migrator(self.dialect).iter() {
            if m.version <= version
                && !m.migration_type.is_down_migration()
                && !applied.iter().any(|a| a.version == m.version)
            {
                conn.apply(m).await?;
            }
        }
        Ok(())
    }
}
