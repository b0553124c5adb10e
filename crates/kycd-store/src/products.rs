//! Product access rows (the API object as a JSON document plus the columns
//! queries need) and the one-read lookup behind capability checks.

use crate::db::{Conn, Dialect, Scope, StoreError, StoreResult, from_micros, micros};
use kycd_core::capabilities::{CustomerFacts, ProductAccess};
use kycd_core::customer::Customer;
use kycd_core::policy::Product;
use kycd_core::status::CustomerStatus;
use sqlx::Row;

fn decode(doc: &str) -> StoreResult<ProductAccess> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("product access: {e}")))
}

fn encode(pa: &ProductAccess) -> StoreResult<String> {
    serde_json::to_string(pa).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Inserts a request; a second open (pending or granted) request for the same
/// customer and product is `Conflict("product_access_open")`.
pub async fn insert(conn: &mut Conn, scope: &Scope, pa: &ProductAccess) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO product_access (id, customer_id, organization_id, environment, product, status, suspended, doc, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&pa.id)
    .bind(&pa.customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(pa.product.as_str())
    .bind(pa.status.as_str())
    .bind(pa.suspended as i64)
    .bind(encode(pa)?)
    .bind(micros(&pa.created_at))
    .bind(micros(&pa.updated_at))
    .execute(conn)
    .await
    .map_err(StoreError::from_insert)?;
    Ok(())
}

pub async fn update(conn: &mut Conn, scope: &Scope, pa: &ProductAccess) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE product_access SET status = $1, suspended = $2, doc = $3, updated_at = $4 \
         WHERE id = $5 AND organization_id = $6 AND environment = $7",
    )
    .bind(pa.status.as_str())
    .bind(pa.suspended as i64)
    .bind(encode(pa)?)
    .bind(micros(&pa.updated_at))
    .bind(&pa.id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get(conn: &mut Conn, scope: &Scope, id: &str) -> StoreResult<ProductAccess> {
    let row = sqlx::query(
        "SELECT doc FROM product_access WHERE id = $1 AND organization_id = $2 AND environment = $3",
    )
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode(&row.try_get::<String, _>("doc")?)
}

/// Every request of a customer, oldest first.
pub async fn for_customer(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<Vec<ProductAccess>> {
    let rows = sqlx::query(
        "SELECT doc FROM product_access WHERE customer_id = $1 AND organization_id = $2 AND environment = $3 ORDER BY id",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| decode(&r.try_get::<String, _>("doc")?))
        .collect()
}

/// A page of a customer's requests, newest first.
pub async fn list(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> StoreResult<(Vec<ProductAccess>, bool)> {
    let list = crate::db::Listing {
        table: "product_access",
        columns: "doc",
        condition: "",
    };
    list.page(
        conn,
        scope,
        &[("customer_id", customer_id)],
        starting_after,
        limit,
        |r| decode(&r.try_get::<String, _>("doc")?),
    )
    .await
}

/// Locks the customer row for the rest of the transaction (PostgreSQL; on
/// SQLite the single writer already serialises write transactions), so a
/// product decision and a concurrent status change are ordered. Returns
/// whether the customer exists.
pub async fn lock_customer(
    conn: &mut Conn,
    dialect: Dialect,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<bool> {
    let suffix = match dialect {
        Dialect::Postgres => " FOR UPDATE",
        Dialect::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT id FROM customers WHERE id = $1 AND organization_id = $2 AND environment = $3 AND erased_at IS NULL{suffix}"
    ))
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// Which product-access rows a capability lookup needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessFilter {
    /// None (`transact`).
    Nothing,
    /// One product's.
    Product(Product),
    /// Every product's (the capabilities object).
    All,
}

/// What a capability depends on, read in one query.
#[derive(Debug, Clone)]
pub struct CapabilityFacts {
    pub customer: CustomerFacts,
    pub access: Vec<ProductAccess>,
}

/// One read: the customer's status columns (its document only when it is not
/// active, for the reason) joined with the requested product-access rows.
/// `None` when there is no such customer in the scope.
pub async fn capability_facts(
    conn: &mut Conn,
    cipher: &dyn crate::customers::DocCipher,
    scope: &Scope,
    customer_id: &str,
    filter: AccessFilter,
) -> StoreResult<Option<CapabilityFacts>> {
    // Placeholders in order of first appearance (SQLite binds `$n` by name, in order).
    // The document (and its key) only when it is needed: never for an active customer.
    let base = format!(
        "c.status, c.expires_at, CASE WHEN c.status = 'active' THEN NULL ELSE c.doc END AS customer_doc, \
         CASE WHEN c.status = 'active' THEN NULL ELSE {} END AS wrapped_key",
        crate::customers::wrapped_key_column("c")
    );
    let join = "LEFT JOIN product_access pa ON pa.customer_id = $1 \
                AND pa.organization_id = $2 AND pa.environment = $3";
    let scoped =
        "c.id = $1 AND c.organization_id = $2 AND c.environment = $3 AND c.erased_at IS NULL";
    let sql = match filter {
        AccessFilter::Nothing => format!("SELECT {base} FROM customers c WHERE {scoped}"),
        AccessFilter::Product(_) => {
            format!(
                "SELECT {base}, pa.doc AS access_doc FROM customers c {join} AND pa.product = $4 WHERE {scoped}"
            )
        }
        AccessFilter::All => {
            format!("SELECT {base}, pa.doc AS access_doc FROM customers c {join} WHERE {scoped}")
        }
    };
    let mut q = sqlx::query(&sql)
        .bind(customer_id)
        .bind(&scope.organization_id)
        .bind(&scope.environment);
    if let AccessFilter::Product(p) = filter {
        q = q.bind(p.as_str());
    }
    let rows = q.fetch_all(conn).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    // Read by name, each when it is needed.
    let status: String = first.try_get("status")?;
    let doc: Option<String> = first.try_get("customer_doc")?;
    let customer = match doc {
        Some(doc) => {
            let wrapped: Option<String> = first.try_get("wrapped_key")?;
            let c: Customer = crate::customers::open(
                cipher,
                &scope.organization_id,
                customer_id,
                wrapped.as_deref(),
                &doc,
            )?;
            CustomerFacts::of(&c)
        }
        None => CustomerFacts {
            status: CustomerStatus::parse(&status),
            expires_at: first
                .try_get::<Option<i64>, _>("expires_at")?
                .map(from_micros),
            ..Default::default()
        },
    };
    let mut access = vec![];
    for r in rows.iter().filter(|_| filter != AccessFilter::Nothing) {
        if let Some(d) = r.try_get::<Option<String>, _>("access_doc")? {
            access.push(decode(&d)?);
        }
    }
    Ok(Some(CapabilityFacts { customer, access }))
}
