//! Customers (a document sealed under the customer's data key, plus the clear
//! columns queries need: ids, scope, status, timestamps), their status
//! history, the audit trail, vault rows (wrapped keys, sealed secrets, blind
//! indexes) and hosted links.

use crate::db::{Conn, KeyOwner, Scope, StoreError, StoreResult, from_micros, micros};
use crate::ids;
use crate::rows::{Insert, Value};
use chrono::{DateTime, Utc};
use kycd_core::customer::Customer;
use kycd_core::lifecycle::StatusChange;
use sqlx::{FromRow, Row};

/// A customer with its optimistic-concurrency version.
#[derive(Debug, Clone)]
pub struct Stored {
    pub customer: Customer,
    pub version: i64,
    pub expiring_notified: bool,
}

/// Seals and opens customer documents under the customer's data key. It is
/// implemented by the vault at the edge, so this crate never holds a key.
pub trait DocCipher: Send + Sync {
    /// Seals `doc` (JSON) under the data key wrapped in `wrapped_key`.
    fn seal_doc(
        &self,
        org: &str,
        customer_id: &str,
        wrapped_key: &str,
        doc: &str,
    ) -> Result<String, String>;
    /// Opens a document sealed by [`DocCipher::seal_doc`].
    fn open_doc(
        &self,
        org: &str,
        customer_id: &str,
        wrapped_key: &str,
        sealed: &str,
    ) -> Result<String, String>;
    /// A fresh data key for `customer_id`, wrapped (customers created before
    /// documents were sealed may have none).
    fn new_wrapped_key(&self, org: &str, customer_id: &str) -> String;
}

fn decode(doc: &str) -> StoreResult<Customer> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("customer document: {e}")))
}

/// The plain JSON of the stored form of a customer, ready to be sealed.
pub fn encode(c: &Customer) -> StoreResult<String> {
    serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A plain (unsealed) document: written before sealing existed, or the
/// minimal record that erasure keeps.
fn is_plain(doc: &str) -> bool {
    doc.starts_with('{')
}

/// Decodes a stored document: plain, or sealed under the customer's key.
pub(crate) fn open(
    cipher: &dyn DocCipher,
    org: &str,
    id: &str,
    wrapped: Option<&str>,
    doc: &str,
) -> StoreResult<Customer> {
    if is_plain(doc) {
        return decode(doc);
    }
    let wrapped = wrapped.ok_or_else(|| StoreError::Corrupt("customer data key missing".into()))?;
    let plain = cipher
        .open_doc(org, id, wrapped, doc)
        .map_err(StoreError::Corrupt)?;
    decode(&plain)
}

/// Inserts a new customer whose document the caller sealed already (the CPU
/// work stays outside the write transaction); its wrapped key is written by
/// the caller in the same transaction.
pub async fn insert(
    conn: &mut Conn,
    scope: &Scope,
    c: &Customer,
    sealed_doc: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO customers (id, organization_id, environment, external_id, status, doc, version, created_at, updated_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9)",
    )
    .bind(&c.id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(&c.external_id)
    .bind(c.status.as_str())
    .bind(sealed_doc)
    .bind(micros(&c.created_at))
    .bind(micros(&c.updated_at))
    .bind(c.verification.expires_at.map(|e| micros(&e)))
    .execute(conn)
    .await
    .map_err(StoreError::from_insert)?;
    Ok(())
}

/// A new customer and its vault rows, for [`new_customer_rows`].
pub struct NewCustomer<'a> {
    pub scope: &'a Scope,
    pub customer: &'a Customer,
    pub sealed_doc: &'a str,
    pub wrapped_key: &'a str,
    /// `(kind, hash)` of every blind index (identifiers, email, phone).
    pub blind_indexes: Vec<&'a (String, String)>,
    /// `(field, ciphertext)` of every sealed value.
    pub secrets: &'a [(String, String)],
}

/// The rows of new customers (of any scopes) with their data keys, blind
/// indexes and sealed values, for [`crate::rows::insert_all`]: the same rows
/// as [`insert`], [`put_customer_key`], [`replace_blind_indexes`] and
/// [`put_secret`] write one customer at a time. A duplicate `external_id`
/// fails the whole insert with `Conflict`.
pub fn new_customer_rows(list: &[NewCustomer<'_>]) -> Vec<Insert> {
    let customers = list
        .iter()
        .map(|n| {
            let c = n.customer;
            vec![
                c.id.as_str().into(),
                n.scope.organization_id.as_str().into(),
                n.scope.environment.as_str().into(),
                c.external_id.clone().into(),
                c.status.as_str().into(),
                n.sealed_doc.into(),
                Value::Int(1),
                micros(&c.created_at).into(),
                micros(&c.updated_at).into(),
                c.verification.expires_at.map(|e| micros(&e)).into(),
            ]
        })
        .collect();
    let keys = list
        .iter()
        .map(|n| {
            vec![
                n.customer.id.as_str().into(),
                n.scope.organization_id.as_str().into(),
                n.scope.environment.as_str().into(),
                n.wrapped_key.into(),
            ]
        })
        .collect();
    let indexes = list
        .iter()
        .flat_map(|n| {
            n.blind_indexes.iter().map(|(kind, hash)| {
                vec![
                    n.scope.organization_id.as_str().into(),
                    n.scope.environment.as_str().into(),
                    n.customer.id.as_str().into(),
                    kind.as_str().into(),
                    hash.as_str().into(),
                ]
            })
        })
        .collect();
    let secrets = list
        .iter()
        .flat_map(|n| {
            n.secrets.iter().map(|(field, sealed)| {
                vec![
                    n.customer.id.as_str().into(),
                    field.as_str().into(),
                    sealed.as_str().into(),
                ]
            })
        })
        .collect();
    vec![
        Insert {
            table: "customers",
            columns: &[
                "id",
                "organization_id",
                "environment",
                "external_id",
                "status",
                "doc",
                "version",
                "created_at",
                "updated_at",
                "expires_at",
            ],
            tail: "",
            rows: customers,
        },
        Insert {
            table: "customer_keys",
            columns: &[
                "customer_id",
                "organization_id",
                "environment",
                "wrapped_key",
            ],
            tail: "ON CONFLICT (customer_id) DO NOTHING",
            rows: keys,
        },
        Insert {
            table: "blind_indexes",
            columns: &[
                "organization_id",
                "environment",
                "customer_id",
                "kind",
                "hash",
            ],
            tail: "ON CONFLICT DO NOTHING",
            rows: indexes,
        },
        Insert {
            table: "customer_secrets",
            columns: &["customer_id", "field", "ciphertext"],
            tail: "",
            rows: secrets,
        },
    ]
}

/// The customer's wrapped data key as a correlated subquery on `{table}`'s
/// id and environment.
pub(crate) fn wrapped_key_column(table: &str) -> String {
    format!(
        "(SELECT wrapped_key FROM customer_keys k WHERE k.customer_id = {table}.id AND k.environment = {table}.environment)"
    )
}

/// The columns of `CustomerRow`, read by name.
const COLUMNS: &str = "doc, version, expiring_notified, organization_id, id, \
     (SELECT wrapped_key FROM customer_keys k WHERE k.customer_id = customers.id AND k.environment = customers.environment) AS wrapped_key";

/// A customer row as selected by `COLUMNS`.
#[derive(sqlx::FromRow)]
struct CustomerRow {
    doc: String,
    version: i64,
    expiring_notified: i64,
    organization_id: String,
    id: String,
    wrapped_key: Option<String>,
}

fn stored(cipher: &dyn DocCipher, r: &sqlx::any::AnyRow) -> StoreResult<Stored> {
    let row = CustomerRow::from_row(r)?;
    Ok(Stored {
        customer: open(
            cipher,
            &row.organization_id,
            &row.id,
            row.wrapped_key.as_deref(),
            &row.doc,
        )?,
        version: row.version,
        expiring_notified: row.expiring_notified != 0,
    })
}

/// The customer's wrapped data key, created when it has none yet.
async fn wrapped_key_of(
    conn: &mut Conn,
    cipher: &dyn DocCipher,
    owner: KeyOwner<'_>,
) -> StoreResult<String> {
    if let Some(w) = get_customer_key(conn, owner).await? {
        return Ok(w);
    }
    put_customer_key(
        conn,
        owner,
        &cipher.new_wrapped_key(owner.organization_id, owner.id),
    )
    .await?;
    get_customer_key(conn, owner)
        .await?
        .ok_or_else(|| StoreError::Corrupt("customer data key missing".into()))
}

pub async fn get(
    conn: &mut Conn,
    cipher: &dyn DocCipher,
    scope: &Scope,
    id: &str,
) -> StoreResult<Stored> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customers WHERE id = $1 AND organization_id = $2 AND environment = $3 AND erased_at IS NULL"
    ))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|r| stored(cipher, r))
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Writes the new state if nobody changed the customer since `version` was read.
pub async fn update(
    conn: &mut Conn,
    cipher: &dyn DocCipher,
    scope: &Scope,
    c: &Customer,
    version: i64,
) -> StoreResult<i64> {
    let org = &scope.organization_id;
    let wrapped = wrapped_key_of(conn, cipher, KeyOwner::scoped(scope, &c.id)).await?;
    let doc = cipher
        .seal_doc(org, &c.id, &wrapped, &encode(c)?)
        .map_err(StoreError::Corrupt)?;
    let done = sqlx::query(
        "UPDATE customers SET external_id = $1, status = $2, doc = $3, version = version + 1, updated_at = $4, expires_at = $5 \
         WHERE id = $6 AND organization_id = $7 AND environment = $8 AND version = $9 AND erased_at IS NULL",
    )
    .bind(&c.external_id)
    .bind(c.status.as_str())
    .bind(doc)
    .bind(micros(&c.updated_at))
    .bind(c.verification.expires_at.map(|e| micros(&e)))
    .bind(&c.id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(version)
    .execute(conn)
    .await
    .map_err(StoreError::from_insert)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(version + 1)
}

pub async fn set_expiring_notified(conn: &mut Conn, id: &str, value: bool) -> StoreResult<()> {
    sqlx::query("UPDATE customers SET expiring_notified = $1 WHERE id = $2")
        .bind(value as i64)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub external_id: Option<String>,
    /// Customers having this blind index: (kind, hex HMAC), e.g. the email's
    /// (`contact:email`), so a search never reads a personal value in clear.
    pub blind_index: Option<(String, String)>,
    pub starting_after: Option<String>,
    pub limit: i64,
}

/// Newest first; `starting_after` continues after that id.
pub async fn list(
    conn: &mut Conn,
    cipher: &dyn DocCipher,
    scope: &Scope,
    f: &ListFilter,
) -> StoreResult<(Vec<Customer>, bool)> {
    let mut filters = vec![];
    if let Some(st) = &f.status {
        filters.push(("status", st.as_str()));
    }
    if let Some(e) = &f.external_id {
        filters.push(("external_id", e.as_str()));
    }
    let mut condition = String::from("erased_at IS NULL");
    if let Some((kind, hash)) = &f.blind_index {
        // Both are ours (a fixed kind, a hex HMAC): checked, then inlined.
        let safe = |v: &str| {
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '_')
        };
        if !safe(kind) || !safe(hash) {
            return Err(StoreError::Corrupt("blind index filter".into()));
        }
        condition.push_str(&format!(
            " AND id IN (SELECT customer_id FROM blind_indexes WHERE organization_id = $1 AND environment = $2 \
             AND kind = '{kind}' AND hash = '{hash}')"
        ));
    }
    let list = crate::db::Listing {
        table: "customers",
        columns: COLUMNS,
        condition: &condition,
    };
    list.page(
        conn,
        scope,
        &filters,
        f.starting_after.as_deref(),
        f.limit,
        |r| stored(cipher, r).map(|s| s.customer),
    )
    .await
}

/// Approved customers whose expiry notice or expiry is due at `now`, in one
/// scope or (None) in every scope.
pub async fn due_for_expiry(
    conn: &mut Conn,
    scope: Option<&Scope>,
    now: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<(Scope, String)>> {
    let mut sql = String::from(
        "SELECT organization_id, environment, id FROM customers \
         WHERE status IN ('active', 'verified', 'update_requested') AND erased_at IS NULL \
         AND ((expiring_notified = 0 AND notice_at <= $1) OR expires_at <= $1)",
    );
    if scope.is_some() {
        sql.push_str(" AND organization_id = $3 AND environment = $4");
    }
    sql.push_str(" ORDER BY expires_at LIMIT $2");
    let mut q = sqlx::query(&sql).bind(micros(&now)).bind(limit);
    if let Some(s) = scope {
        q = q.bind(&s.organization_id).bind(&s.environment);
    }
    let rows = q.fetch_all(conn).await?;
    rows.iter()
        .map(|r| Ok((Scope::from_row(r)?, r.try_get("id")?)))
        .collect()
}

/// A new approval: schedule its expiry notice and clear the previous one.
pub async fn schedule_expiry(
    conn: &mut Conn,
    id: &str,
    notice_at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE customers SET notice_at = $1, expiring_notified = 0 WHERE id = $2")
        .bind(micros(&notice_at))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_history(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    h: &StatusChange,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO status_history (id, customer_id, organization_id, environment, from_status, to_status, reason, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(ids::new("hist"))
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(h.from.as_str())
    .bind(h.to.as_str())
    .bind(&h.reason)
    .bind(&h.actor)
    .bind(micros(&h.at))
    .execute(conn)
    .await?;
    Ok(())
}

/// One row of status history as read back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub actor: String,
    #[serde(with = "kycd_core::time::rfc3339")]
    pub at: DateTime<Utc>,
}

pub async fn history(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<Vec<HistoryRow>> {
    let rows = sqlx::query(
        "SELECT from_status, to_status, reason, actor, at FROM status_history \
         WHERE customer_id = $1 AND organization_id = $2 AND environment = $3 ORDER BY id",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?;
    /// A `status_history` row as stored (`at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct Record {
        from_status: Option<String>,
        to_status: String,
        reason: String,
        actor: String,
        at: i64,
    }
    rows.iter()
        .map(|r| {
            let r = Record::from_row(r)?;
            Ok(HistoryRow {
                from_status: r.from_status,
                to_status: r.to_status,
                reason: r.reason,
                actor: r.actor,
                at: from_micros(r.at),
            })
        })
        .collect()
}

/// Writes an audit entry (unsealed, MAC'd by `keys`; see [`crate::audit`]).
#[allow(clippy::too_many_arguments)]
pub async fn insert_audit(
    conn: &mut Conn,
    keys: &dyn crate::audit::EntryMac,
    scope: &Scope,
    actor: &str,
    action: &str,
    resource_id: Option<&str>,
    details: &serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let entry = audit_entry(scope, actor, action, resource_id, details, at);
    crate::audit::insert(conn, keys, &entry).await
}

/// A new audit entry (not yet sealed into the chain; its MAC is computed when
/// it is written).
pub fn audit_entry(
    scope: &Scope,
    actor: &str,
    action: &str,
    resource_id: Option<&str>,
    details: &serde_json::Value,
    at: DateTime<Utc>,
) -> crate::audit::Entry {
    crate::audit::Entry {
        id: ids::new("aud"),
        organization_id: scope.organization_id.clone(),
        environment: scope.environment.clone(),
        actor: actor.to_string(),
        action: action.to_string(),
        resource_id: resource_id.map(str::to_string),
        details: details.to_string(),
        at: micros(&at),
        seq: None,
        prev_hash: None,
        hash: None,
        mac: None,
    }
}

pub async fn count_audit(conn: &mut Conn, resource_id: &str, action: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE resource_id = $1 AND action = $2")
            .bind(resource_id)
            .bind(action)
            .fetch_one(conn)
            .await?,
    )
}

// ---- vault rows -------------------------------------------------------------

/// Stores a wrapped data key unless one exists; returns whether this one was stored
/// (the first writer wins, so concurrent first uses agree on one key).
pub async fn put_customer_key(
    conn: &mut Conn,
    owner: KeyOwner<'_>,
    wrapped: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO customer_keys (customer_id, organization_id, environment, wrapped_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(owner.id)
    .bind(owner.organization_id)
    .bind(owner.environment)
    .bind(wrapped)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The wrapped data key of `owner` (a customer, a webhook endpoint, a provider
/// configuration, or an owner of the whole organization), read under the
/// owner's organization and environment: a sandbox request never reads a
/// live owner's key, even by its id.
pub async fn get_customer_key(conn: &mut Conn, owner: KeyOwner<'_>) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT wrapped_key FROM customer_keys WHERE customer_id = $1 AND organization_id = $2 AND environment = $3",
    )
    .bind(owner.id)
    .bind(owner.organization_id)
    .bind(owner.environment)
    .fetch_optional(conn)
    .await?)
}

/// Deletes `owner`'s data key (crypto-shredding: what it sealed is unreadable
/// from then on, wherever a copy remains).
pub async fn delete_customer_key(conn: &mut Conn, owner: KeyOwner<'_>) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM customer_keys WHERE customer_id = $1 AND organization_id = $2 AND environment = $3",
    )
    .bind(owner.id)
    .bind(owner.organization_id)
    .bind(owner.environment)
    .execute(conn)
    .await?;
    Ok(())
}

/// The name of a scope's blind-index key in `organization_keys`: one per
/// environment (live keeps the name of the single key of earlier versions).
pub fn blind_index_purpose(scope: &Scope) -> String {
    if scope.is_live() {
        "blind_index".to_string()
    } else {
        format!("blind_index:{}", scope.environment)
    }
}

/// Stores the scope's wrapped blind-index key unless one exists; returns
/// whether this one was stored (the first writer wins).
pub async fn put_blind_index_key(
    conn: &mut Conn,
    scope: &Scope,
    wrapped: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO organization_keys (organization_id, purpose, wrapped_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(&scope.organization_id)
    .bind(blind_index_purpose(scope))
    .bind(wrapped)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The scope's wrapped blind-index key, if it has one yet.
pub async fn get_blind_index_key(conn: &mut Conn, scope: &Scope) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT wrapped_key FROM organization_keys WHERE organization_id = $1 AND purpose = $2",
    )
    .bind(&scope.organization_id)
    .bind(blind_index_purpose(scope))
    .fetch_optional(conn)
    .await?)
}

/// A stored wrapped key: the row's id (customer or organization) and its
/// owner or purpose (the customer's organization, or the key's purpose).
#[derive(sqlx::FromRow)]
struct WrappedKeyRow {
    id: String,
    detail: String,
    wrapped_key: String,
}

/// The two tables of wrapped keys, each with the query of its rows.
const WRAPPED_KEY_TABLES: [(&str, &str); 2] = [
    (
        "customer_keys",
        "SELECT customer_id AS id, organization_id AS detail, wrapped_key FROM customer_keys",
    ),
    (
        "organization_keys",
        "SELECT organization_id AS id, purpose AS detail, wrapped_key FROM organization_keys",
    ),
];

impl WrappedKeyRow {
    fn labelled(self, table: &str) -> (String, String, String, String) {
        (table.into(), self.id, self.detail, self.wrapped_key)
    }
}

/// Every wrapped key, for master-key rotation: (table, id, purpose, wrapped).
pub async fn all_wrapped_keys(
    conn: &mut Conn,
) -> StoreResult<Vec<(String, String, String, String)>> {
    let mut out = vec![];
    for (table, sql) in WRAPPED_KEY_TABLES {
        for r in sqlx::query_as::<_, WrappedKeyRow>(sql)
            .fetch_all(&mut *conn)
            .await?
        {
            out.push(r.labelled(table));
        }
    }
    Ok(out)
}

pub async fn rewrap_customer_key(
    conn: &mut Conn,
    customer_id: &str,
    wrapped: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE customer_keys SET wrapped_key = $1 WHERE customer_id = $2")
        .bind(wrapped)
        .bind(customer_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn rewrap_org_key(
    conn: &mut Conn,
    org: &str,
    purpose: &str,
    wrapped: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE organization_keys SET wrapped_key = $1 WHERE organization_id = $2 AND purpose = $3",
    )
    .bind(wrapped)
    .bind(org)
    .bind(purpose)
    .execute(conn)
    .await?;
    Ok(())
}

/// The condition that customer `$1` is one of the scope in `${org}` and
/// `${env}` (for rows keyed by customer id alone). A look-up by primary key,
/// then a comparison: with only `id` to match, every plan takes the primary
/// key — a generic plan made while the table was nearly empty included.
/// Written as `EXISTS (… WHERE c.id = $1 AND c.organization_id = … AND
/// c.environment = …)`, such a plan once took the index (organization_id,
/// environment, status, id), which `id` cannot bound, and read every customer
/// of the scope on each call (see the profile in docs/src/benchmarks.md).
pub fn customer_in_scope(org: usize, env: usize) -> String {
    format!(
        "COALESCE((SELECT c.organization_id = ${org} AND c.environment = ${env} FROM customers c WHERE c.id = $1), FALSE)"
    )
}

/// Stores (or replaces) a sealed value of a customer of `scope` (`NotFound`
/// when the customer is not one of the scope).
pub async fn put_secret(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    field: &str,
    ciphertext: &str,
) -> StoreResult<()> {
    let done = sqlx::query(&format!(
        "INSERT INTO customer_secrets (customer_id, field, ciphertext) SELECT $1, $2, $3 WHERE {} \
         ON CONFLICT (customer_id, field) DO UPDATE SET ciphertext = excluded.ciphertext",
        customer_in_scope(4, 5)
    ))
    .bind(customer_id)
    .bind(field)
    .bind(ciphertext)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A sealed value of a customer of `scope`.
pub async fn get_secret(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    field: &str,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT ciphertext FROM customer_secrets WHERE customer_id = $1 AND field = $2 AND {}",
        customer_in_scope(3, 4)
    ))
    .bind(customer_id)
    .bind(field)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?)
}

/// Deletes the secrets of a customer of `scope` whose field starts with
/// `prefix` (e.g. `identifier:`).
pub async fn delete_secrets(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    prefix: &str,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "DELETE FROM customer_secrets WHERE customer_id = $1 AND field LIKE $2 AND {}",
        customer_in_scope(3, 4)
    ))
    .bind(customer_id)
    .bind(format!("{prefix}%"))
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the blind indexes of one kind family (`kind` starting with `prefix`);
/// `fresh`: the customer has none yet (creation), nothing to delete.
/// Adds one blind index entry (kept when already there).
pub async fn add_blind_index(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    kind: &str,
    hash: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO blind_indexes (organization_id, environment, kind, hash, customer_id) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(kind)
    .bind(hash)
    .bind(customer_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn replace_blind_indexes(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    prefix: &str,
    entries: &[(String, String)],
    fresh: bool,
) -> StoreResult<()> {
    if !fresh {
        sqlx::query("DELETE FROM blind_indexes WHERE customer_id = $1 AND kind LIKE $2")
            .bind(customer_id)
            .bind(format!("{prefix}%"))
            .execute(&mut *conn)
            .await?;
    }
    if entries.is_empty() {
        return Ok(());
    }
    // One multi-row INSERT: fewer round trips on the create path.
    let rows: Vec<String> = (0..entries.len())
        .map(|k| format!("($1, $2, $3, ${}, ${})", 4 + 2 * k, 5 + 2 * k))
        .collect();
    let sql = format!(
        "INSERT INTO blind_indexes (organization_id, environment, customer_id, kind, hash) VALUES {} ON CONFLICT DO NOTHING",
        rows.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(&scope.organization_id)
        .bind(&scope.environment)
        .bind(customer_id);
    for (kind, hash) in entries {
        q = q.bind(kind).bind(hash);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

// ---- beneficial-owner links ---------------------------------------------------

/// Replaces the owners a business names (ids only: shares and roles stay in
/// its sealed document), in the caller's transaction with the business.
pub async fn replace_owner_links(
    conn: &mut Conn,
    scope: &Scope,
    business_id: &str,
    owner_ids: &[String],
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM business_owners WHERE business_id = $1 AND organization_id = $2 AND environment = $3",
    )
    .bind(business_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(&mut *conn)
    .await?;
    for owner in owner_ids {
        sqlx::query(
            "INSERT INTO business_owners (organization_id, environment, business_id, owner_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&scope.organization_id)
        .bind(&scope.environment)
        .bind(business_id)
        .bind(owner)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The businesses of `scope` (not erased) that name `owner_id` as a
/// beneficial owner, by id.
pub async fn businesses_owned_by(
    conn: &mut Conn,
    scope: &Scope,
    owner_id: &str,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT o.business_id FROM business_owners o JOIN customers c ON c.id = o.business_id \
         WHERE o.owner_id = $1 AND o.organization_id = $2 AND o.environment = $3 \
         AND c.erased_at IS NULL ORDER BY o.business_id",
    )
    .bind(owner_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?)
}

/// The one-off pass that writes the owner links of businesses stored before
/// the links existed.
pub const LINK_BUSINESS_OWNERS: &str = "link_business_owners";

/// Writes the owner links of the businesses among up to `limit` customers
/// after `after` in id order (opening each document); returns the last id
/// read, `None` when there were no more.
pub async fn link_business_owners(
    conn: &mut Conn,
    cipher: &dyn DocCipher,
    after: &str,
    limit: i64,
) -> StoreResult<Option<String>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, environment AS scope_environment FROM customers \
         WHERE erased_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut last = None;
    for r in &rows {
        let s = stored(cipher, r)?;
        let scope = Scope::new(
            r.try_get::<String, _>("organization_id")?,
            r.try_get::<String, _>("scope_environment")?,
        );
        if let Some(b) = &s.customer.business {
            let ids: Vec<String> = b
                .beneficial_owners
                .iter()
                .map(|o| o.customer_id.clone())
                .collect();
            replace_owner_links(conn, &scope, &s.customer.id, &ids).await?;
        }
        last = Some(s.customer.id);
    }
    Ok(last)
}

// ---- hosted links -----------------------------------------------------------

pub async fn insert_link(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    // A new link supersedes the previous ones (single live link per customer).
    sqlx::query("UPDATE hosted_links SET used_at = $1 WHERE customer_id = $2 AND used_at IS NULL")
        .bind(micros(&now))
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO hosted_links (token_hash, customer_id, organization_id, environment, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(micros(&expires_at))
    .bind(micros(&now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Crypto-shredding: removes the data key, secrets, indexes and links, and
/// replaces the document by a minimal record.
pub async fn erase(
    conn: &mut Conn,
    scope: &Scope,
    minimal: &Customer,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let id = &minimal.id;
    delete_customer_key(conn, KeyOwner::scoped(scope, id)).await?;
    for sql in [
        "DELETE FROM customer_secrets WHERE customer_id = $1",
        "DELETE FROM blind_indexes WHERE customer_id = $1",
        "DELETE FROM hosted_links WHERE customer_id = $1",
        "DELETE FROM hosted_sessions WHERE customer_id = $1",
        "DELETE FROM business_owners WHERE business_id = $1 OR owner_id = $1",
        // The back office's claim and tags on the case (operators' free text).
        "DELETE FROM case_claims WHERE customer_id = $1",
        "DELETE FROM case_tags WHERE customer_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    sqlx::query(
        "UPDATE customers SET doc = $1, external_id = NULL, erased_at = $2, version = version + 1 \
         WHERE id = $3 AND organization_id = $4 AND environment = $5",
    )
    .bind(encode(minimal)?)
    .bind(micros(&now))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .execute(conn)
    .await?;
    Ok(())
}

/// Other customers of the scope sharing any blind index with this one, in one
/// query: (kind, other customer id). The duplicate signals of the checks.
pub async fn duplicates_of(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT b2.kind AS kind, b2.customer_id AS customer_id FROM blind_indexes b1 \
         JOIN blind_indexes b2 ON b2.organization_id = b1.organization_id AND b2.environment = b1.environment \
         AND b2.kind = b1.kind AND b2.hash = b1.hash \
         JOIN customers c ON c.id = b2.customer_id \
         WHERE b1.customer_id = $1 AND b1.organization_id = $2 AND b1.environment = $3 \
         AND b2.customer_id <> $1 AND c.erased_at IS NULL LIMIT 20",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("customer_id")?)))
        .collect()
}

/// The one-off pass that seals documents an older version stored in clear.
pub const SEAL_PLAIN_DOCUMENTS: &str = "seal_plain_customer_documents";

/// Whether the one-off maintenance pass `name` ran to completion.
pub async fn maintenance_done(conn: &mut Conn, name: &str) -> StoreResult<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM maintenance_done WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Records that the one-off maintenance pass `name` ran to completion.
pub async fn mark_maintenance_done(
    conn: &mut Conn,
    name: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO maintenance_done (name, done_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(name)
    .bind(micros(&now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Seals up to `limit` documents still stored in clear (written before
/// documents were sealed); returns how many were sealed. A document changed
/// meanwhile is left for the next pass.
pub async fn seal_plain_documents(
    conn: &mut Conn,
    cipher: &dyn DocCipher,
    limit: i64,
) -> StoreResult<u64> {
    /// A document stored in clear.
    #[derive(sqlx::FromRow)]
    struct Plain {
        id: String,
        #[sqlx(flatten)]
        scope: Scope,
        doc: String,
    }
    let rows = sqlx::query_as::<_, Plain>(
        "SELECT id, organization_id, environment, doc FROM customers WHERE erased_at IS NULL AND doc LIKE '{%' LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut sealed = 0;
    for Plain { id, scope, doc } in rows {
        let org = &scope.organization_id;
        let wrapped = wrapped_key_of(conn, cipher, KeyOwner::scoped(&scope, &id)).await?;
        let new_doc = cipher
            .seal_doc(org, &id, &wrapped, &doc)
            .map_err(StoreError::Corrupt)?;
        sealed += sqlx::query("UPDATE customers SET doc = $1 WHERE id = $2 AND doc = $3")
            .bind(new_doc)
            .bind(&id)
            .bind(&doc)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(sealed)
}

/// One stored wrapped key, a customer data key if there is one, else an
/// organization key, as (table, id, purpose or organization, wrapped) like
/// [`all_wrapped_keys`]: the server unwraps it at start to prove that its
/// master key is this database's.
pub async fn any_wrapped_key(
    conn: &mut Conn,
) -> StoreResult<Option<(String, String, String, String)>> {
    for (table, sql) in WRAPPED_KEY_TABLES {
        if let Some(r) = sqlx::query_as::<_, WrappedKeyRow>(&format!("{sql} LIMIT 1"))
            .fetch_optional(&mut *conn)
            .await?
        {
            return Ok(Some(r.labelled(table)));
        }
    }
    Ok(None)
}
