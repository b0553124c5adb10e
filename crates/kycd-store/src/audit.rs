//! The audit log's hash chain. Entries are written unsealed with the
//! operation that caused them (`customers::insert_audit`, no contention on
//! the write path); `seal` then chains them in id order: each gets the next
//! `seq` (unique, so two sealers cannot fork the chain: one fails and the
//! next pass retries), the previous entry's hash and the SHA-256 of its own
//! content with that hash. `verify` recomputes the chain and names the first
//! entry that was altered, removed or inserted out of place.

use crate::db::{Conn, StoreError, StoreResult, Tx};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// One entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub organization_id: String,
    pub environment: String,
    pub actor: String,
    pub action: String,
    pub resource_id: Option<String>,
    pub details: String,
    pub at: i64,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Entry {
    /// SHA-256 (hex) of the entry's content, its place and the previous hash.
    pub fn compute_hash(&self, seq: i64, prev_hash: &str) -> String {
        let content = serde_json::json!([
            seq,
            prev_hash,
            self.id,
            self.organization_id,
            self.environment,
            self.actor,
            self.action,
            self.resource_id,
            self.details,
            self.at
        ]);
        hex::encode(Sha256::digest(content.to_string().as_bytes()))
    }
}

const COLUMNS: &str = "id, organization_id, environment, actor, action, resource_id, details, at, seq, prev_hash, hash";

fn entry(r: &sqlx::any::AnyRow) -> StoreResult<Entry> {
    Ok(Entry {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        environment: r.try_get(2)?,
        actor: r.try_get(3)?,
        action: r.try_get(4)?,
        resource_id: r.try_get(5)?,
        details: r.try_get(6)?,
        at: r.try_get(7)?,
        seq: r.try_get(8)?,
        prev_hash: r.try_get(9)?,
        hash: r.try_get(10)?,
    })
}

/// Whether any entry waits to be sealed.
pub async fn unsealed(conn: &mut Conn) -> StoreResult<bool> {
    Ok(
        sqlx::query("SELECT id FROM audit_log WHERE seq IS NULL LIMIT 1")
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Chains up to `limit` unsealed entries after the last sealed one, in one
/// transaction; returns how many. A concurrent sealer makes it fail with
/// `Conflict` (nothing written; the next pass goes on).
pub async fn seal(tx: &mut Tx, limit: i64) -> StoreResult<usize> {
    let tail = sqlx::query(
        "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let (mut seq, mut prev) = match tail {
        Some(r) => (
            r.try_get::<i64, _>(0)?,
            r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
        ),
        None => (0, GENESIS.to_string()),
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    for r in &rows {
        let e = entry(r)?;
        seq += 1;
        let hash = e.compute_hash(seq, &prev);
        let done = sqlx::query(
            "UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4 AND seq IS NULL",
        )
        .bind(seq)
        .bind(&prev)
        .bind(&hash)
        .bind(&e.id)
        .execute(&mut **tx)
        .await;
        match done {
            Ok(d) if d.rows_affected() == 1 => {}
            Ok(_) => return Err(StoreError::Conflict("audit_log_seq".into())),
            Err(e) if crate::db::violated_unique(&e).is_some() => {
                return Err(StoreError::Conflict("audit_log_seq".into()));
            }
            Err(e) => return Err(e.into()),
        }
        prev = hash;
        n += 1;
    }
    Ok(n)
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    /// Sealed entries checked.
    pub entries: i64,
    pub ok: bool,
    /// The first entry that breaks the chain, with why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<Broken>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Broken {
    pub seq: i64,
    /// The entry at that place (none when it is missing).
    pub id: Option<String>,
    pub problem: String,
}

/// Recomputes the chain over every sealed entry, in order.
pub async fn verify(conn: &mut Conn) -> StoreResult<Verdict> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq IS NOT NULL ORDER BY seq"
    ))
    .fetch_all(conn)
    .await?;
    let mut prev = GENESIS.to_string();
    let mut count = 0i64;
    for r in &rows {
        let e = entry(r)?;
        let expected = count + 1;
        let seq = e.seq.unwrap_or_default();
        let bad = |problem: &str, id: Option<String>, seq: i64| Verdict {
            entries: count,
            ok: false,
            first_bad: Some(Broken {
                seq,
                id,
                problem: problem.into(),
            }),
        };
        if seq != expected {
            return Ok(bad(
                &format!("entry {expected} is missing (the next one is {seq})"),
                None,
                expected,
            ));
        }
        if e.prev_hash.as_deref() != Some(prev.as_str()) {
            return Ok(bad(
                "its previous hash does not match the entry before it",
                Some(e.id),
                seq,
            ));
        }
        if e.hash.as_deref() != Some(e.compute_hash(seq, &prev).as_str()) {
            return Ok(bad("its content was altered", Some(e.id), seq));
        }
        prev = e.hash.clone().unwrap_or_default();
        count += 1;
    }
    Ok(Verdict {
        entries: count,
        ok: true,
        first_bad: None,
    })
}

/// What the back office's audit page and export select (every field optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this organization's entries (an operator bound to one).
    pub organization_id: Option<String>,
    pub actor: Option<String>,
    /// The customer (or other resource) an entry is about.
    pub resource_id: Option<String>,
    pub action: Option<String>,
    /// `at >= from` (microseconds).
    pub from: Option<i64>,
    /// `at < to` (microseconds).
    pub to: Option<i64>,
    /// Entries older than this id (the next page, newest first).
    pub before_id: Option<String>,
}

/// Entries matching `filter`, newest first (by id: ids are time-ordered), at most `limit`.
pub async fn browse(conn: &mut Conn, filter: &Filter, limit: i64) -> StoreResult<Vec<Entry>> {
    let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
    let mut binds: Vec<String> = vec![];
    let mut text = |sql: &mut String, column: &str, op: &str, v: &Option<String>| {
        if let Some(v) = v {
            binds.push(v.clone());
            sql.push_str(&format!(" AND {column} {op} ${}", binds.len()));
        }
    };
    text(&mut sql, "organization_id", "=", &filter.organization_id);
    text(&mut sql, "actor", "=", &filter.actor);
    text(&mut sql, "resource_id", "=", &filter.resource_id);
    text(&mut sql, "action", "=", &filter.action);
    text(&mut sql, "id", "<", &filter.before_id);
    let mut n = binds.len();
    if filter.from.is_some() {
        n += 1;
        sql.push_str(&format!(" AND at >= ${n}"));
    }
    if filter.to.is_some() {
        n += 1;
        sql.push_str(&format!(" AND at < ${n}"));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    if let Some(f) = filter.from {
        q = q.bind(f);
    }
    if let Some(t) = filter.to {
        q = q.bind(t);
    }
    let rows = q.bind(limit).fetch_all(conn).await?;
    rows.iter().map(entry).collect()
}
