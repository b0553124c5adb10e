//! Document rows (the bytes live encrypted in the blob store): insert, read,
//! list, review, and removal on erasure. Every query is scoped by
//! organization and environment.

use crate::db::{Conn, Scope, StoreError, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// One document's metadata (never its bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRow {
    pub id: String,
    pub customer_id: String,
    pub doc_type: String,
    pub side: Option<String>,
    pub status: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub blob_key: String,
    pub rejection_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, customer_id, type, side, status, content_type, size, sha256, blob_key, rejection_reason, created_at, reviewed_at";

/// Reads a `documents` row holding `COLUMNS` by column name (times are
/// stored in microseconds).
fn row(r: &sqlx::any::AnyRow) -> StoreResult<DocumentRow> {
    Ok(DocumentRow {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        doc_type: r.try_get("type")?,
        side: r.try_get("side")?,
        status: r.try_get("status")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        blob_key: r.try_get("blob_key")?,
        rejection_reason: r.try_get("rejection_reason")?,
        created_at: from_micros(r.try_get("created_at")?),
        reviewed_at: r.try_get::<Option<i64>, _>("reviewed_at")?.map(from_micros),
    })
}

/// (type, status) of every document of a customer, for requirement checks.
pub async fn evidence(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<Vec<(String, String)>> {
    #[derive(sqlx::FromRow)]
    struct Evidence {
        #[sqlx(rename = "type")]
        doc_type: String,
        status: String,
    }
    let rows = sqlx::query_as::<_, Evidence>(
        "SELECT type, status FROM documents WHERE customer_id = $1 AND organization_id = $2 AND environment = $3 ORDER BY id",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.doc_type, r.status)).collect())
}

pub async fn insert(conn: &mut Conn, scope: &Scope, d: &DocumentRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO documents (id, customer_id, organization_id, environment, type, side, status, content_type, size, sha256, blob_key, rejection_reason, created_at, reviewed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&d.id)
    .bind(&d.customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(&d.doc_type)
    .bind(&d.side)
    .bind(&d.status)
    .bind(&d.content_type)
    .bind(d.size)
    .bind(&d.sha256)
    .bind(&d.blob_key)
    .bind(&d.rejection_reason)
    .bind(micros(&d.created_at))
    .bind(d.reviewed_at.as_ref().map(micros))
    .execute(conn)
    .await
    .map_err(StoreError::from_insert)?;
    Ok(())
}

/// A document by id in this scope (any customer).
pub async fn get(conn: &mut Conn, scope: &Scope, id: &str) -> StoreResult<DocumentRow> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM documents WHERE id = $1 AND organization_id = $2 AND environment = $3"
    ))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?;
    r.as_ref().map(row).transpose()?.ok_or(StoreError::NotFound)
}

/// A customer's documents, newest first; `starting_after` continues after that id.
pub async fn list(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> StoreResult<(Vec<DocumentRow>, bool)> {
    let list = crate::db::Listing {
        table: "documents",
        columns: COLUMNS,
        condition: "",
    };
    list.page(
        conn,
        scope,
        &[("customer_id", customer_id)],
        starting_after,
        limit,
        row,
    )
    .await
}

/// Records a reviewer's decision on a document still `pending`. Returns
/// false when the document was no longer pending (someone decided first).
pub async fn set_review(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    status: &str,
    rejection_reason: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE documents SET status = $1, rejection_reason = $2, reviewed_at = $3 \
         WHERE id = $4 AND organization_id = $5 AND environment = $6 AND status = 'pending'",
    )
    .bind(status)
    .bind(rejection_reason)
    .bind(micros(&at))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes every document row of a customer; returns their blob keys.
pub async fn delete_for_customer(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<Vec<String>> {
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT blob_key FROM documents WHERE customer_id = $1 AND organization_id = $2 AND environment = $3",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM documents WHERE customer_id = $1 AND organization_id = $2 AND environment = $3",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    Ok(keys)
}
