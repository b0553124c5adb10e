//! Screening state: loaded list versions, and the customers to re-screen.
//! The list versions and the re-screening walk are global by nature (one
//! set of lists serves every organization; the walk visits every scope and
//! returns each customer's); a customer's dismissals take its `Scope`.

use crate::customers::customer_in_scope;
use crate::db::{Conn, Scope, StoreResult, from_micros, micros};
use crate::ids;
use chrono::{DateTime, Utc};
use kycd_core::customer::Customer;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListVersion {
    pub name: String,
    pub format: String,
    pub entries: i64,
    #[serde(with = "kycd_core::time::rfc3339")]
    pub loaded_at: DateTime<Utc>,
    pub checksum: String,
}

/// Records a loaded list version (one row per load whose checksum changed).
pub async fn record_version(conn: &mut Conn, v: &ListVersion) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO screening_lists (id, name, format, entries, checksum, loaded_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ids::new("lst"))
    .bind(&v.name)
    .bind(&v.format)
    .bind(v.entries)
    .bind(&v.checksum)
    .bind(micros(&v.loaded_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Every recorded version, newest first.
pub async fn versions(conn: &mut Conn) -> StoreResult<Vec<ListVersion>> {
    /// A `screening_lists` row (`loaded_at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct VersionRow {
        name: String,
        format: String,
        entries: i64,
        checksum: String,
        loaded_at: i64,
    }
    let rows = sqlx::query_as::<_, VersionRow>(
        "SELECT name, format, entries, checksum, loaded_at FROM screening_lists ORDER BY id DESC",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ListVersion {
            name: r.name,
            format: r.format,
            entries: r.entries,
            checksum: r.checksum,
            loaded_at: from_micros(r.loaded_at),
        })
        .collect())
}

/// Customers of every organization that screening applies to (not erased,
/// not rejected), in id order from `after`: the re-screening walk.
pub async fn customers_page(
    conn: &mut Conn,
    cipher: &dyn crate::customers::DocCipher,
    after: &str,
    limit: i64,
) -> StoreResult<Vec<(Scope, Customer)>> {
    /// A customer's sealed document with its scope and wrapped data key.
    #[derive(sqlx::FromRow)]
    struct Sealed {
        #[sqlx(flatten)]
        scope: Scope,
        doc: String,
        id: String,
        wrapped_key: Option<String>,
    }
    let rows = sqlx::query_as::<_, Sealed>(
        "SELECT organization_id, environment, doc, id, \
         (SELECT wrapped_key FROM customer_keys k WHERE k.customer_id = customers.id AND k.environment = customers.environment) AS wrapped_key FROM customers \
         WHERE id > $1 AND erased_at IS NULL AND status NOT IN ('rejected', 'not_started') ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let c: Customer = crate::customers::open(
                cipher,
                &r.scope.organization_id,
                &r.id,
                r.wrapped_key.as_deref(),
                &r.doc,
            )?;
            Ok((r.scope, c))
        })
        .collect()
}

/// (list, entry_id) pairs a reviewer dismissed for this customer of `scope`.
pub async fn dismissed(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<Vec<(String, String)>> {
    #[derive(sqlx::FromRow)]
    struct Dismissal {
        list: String,
        entry_id: String,
    }
    let rows = sqlx::query_as::<_, Dismissal>(&format!(
        "SELECT list, entry_id FROM screening_dismissals WHERE customer_id = $1 AND {}",
        customer_in_scope(2, 3)
    ))
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.list, r.entry_id)).collect())
}

/// Records a reviewer's dismissal of a possible match for this customer of
/// `scope` (nothing is written for a customer of another scope).
pub async fn dismiss(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    list: &str,
    entry_id: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO screening_dismissals (customer_id, list, entry_id, actor, at) \
         SELECT $1, $2, $3, $4, $5 WHERE {} ON CONFLICT DO NOTHING",
        customer_in_scope(6, 7)
    ))
    .bind(customer_id)
    .bind(list)
    .bind(entry_id)
    .bind(actor)
    .bind(micros(&at))
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    Ok(())
}
