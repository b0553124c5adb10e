//! Screening state: loaded list versions, and the customers to re-screen.

use crate::db::{Conn, Scope, StoreResult, from_micros, micros};
use crate::ids;
use chrono::{DateTime, Utc};
use kycd_core::customer::Customer;
use sqlx::Row;

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
    let rows = sqlx::query(
        "SELECT name, format, entries, checksum, loaded_at FROM screening_lists ORDER BY id DESC",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ListVersion {
                name: r.try_get(0)?,
                format: r.try_get(1)?,
                entries: r.try_get(2)?,
                checksum: r.try_get(3)?,
                loaded_at: from_micros(r.try_get(4)?),
            })
        })
        .collect()
}

/// Customers of every organization that screening applies to (not erased,
/// not rejected), in id order from `after`: the re-screening walk.
pub async fn customers_page(
    conn: &mut Conn,
    cipher: &dyn crate::customers::DocCipher,
    after: &str,
    limit: i64,
) -> StoreResult<Vec<(Scope, Customer)>> {
    let rows = sqlx::query(
        "SELECT organization_id, environment, doc, id, \
         (SELECT wrapped_key FROM customer_keys k WHERE k.customer_id = customers.id) FROM customers \
         WHERE id > $1 AND erased_at IS NULL AND status NOT IN ('rejected', 'not_started') ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let org: String = r.try_get(0)?;
            let doc: String = r.try_get(2)?;
            let id: String = r.try_get(3)?;
            let wrapped: Option<String> = r.try_get(4)?;
            let c: Customer = crate::customers::open(cipher, &org, &id, wrapped.as_deref(), &doc)?;
            Ok((Scope::new(org, r.try_get::<String, _>(1)?), c))
        })
        .collect()
}

/// (list, entry_id) pairs a reviewer dismissed for this customer.
pub async fn dismissed(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<(String, String)>> {
    let rows =
        sqlx::query("SELECT list, entry_id FROM screening_dismissals WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Records a reviewer's dismissal of a possible match for this customer.
pub async fn dismiss(
    conn: &mut Conn,
    customer_id: &str,
    list: &str,
    entry_id: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO screening_dismissals (customer_id, list, entry_id, actor, at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(customer_id)
    .bind(list)
    .bind(entry_id)
    .bind(actor)
    .bind(micros(&at))
    .execute(conn)
    .await?;
    Ok(())
}
