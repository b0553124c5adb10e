//! The audit log's hash chain. Entries are written unsealed with the
//! operation that caused them (`customers::insert_audit`, no contention on
//! the write path), each with a MAC of its content under a key only the
//! master key's holder has ([`EntryMac`]); `seal` then chains them in id
//! order: each gets the next `seq` (unique, so two sealers cannot fork the
//! chain: one fails and the next pass retries), the previous entry's hash
//! and the SHA-256 of its own content with that hash. `verify` recomputes
//! the chain and every MAC and names the first entry that was altered
//! (before or after it was sealed), removed or inserted out of place, or,
//! given a head recorded outside the database, cut from the chain's end.
//!
//! Entries written before MACs existed (migration 0022) have none: they are
//! accepted only at the start of the chain, before its first MAC'd entry.

use crate::db::{Conn, StoreError, StoreResult, Tx};
use sha2::{Digest, Sha256};

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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
    /// HMAC of [`Entry::content`] written with the entry (hex; none on
    /// entries older than migration 0022).
    pub mac: Option<String>,
}

/// Computes and checks entries' MACs: the vault's audit key (derived from
/// the master key), kept out of this crate.
pub trait EntryMac: Send + Sync {
    /// The MAC (hex) of `content`, under the current key.
    fn mac(&self, content: &[u8]) -> String;
    /// Whether `mac` is the MAC of `content` under a key still accepted
    /// (the current one; during a master-key rotation, the previous one too).
    fn check(&self, content: &[u8], mac: &str) -> bool;
}

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Entry {
    /// The entry's content as MAC'd: every field written with it, none of
    /// its place in the chain.
    pub fn content(&self) -> Vec<u8> {
        serde_json::json!([
            self.id,
            self.organization_id,
            self.environment,
            self.actor,
            self.action,
            self.resource_id,
            self.details,
            self.at
        ])
        .to_string()
        .into_bytes()
    }

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

    /// What is wrong with the entry's MAC, if anything; `macs_began`: an
    /// entry before it in the chain carries a MAC (then one without is
    /// stripped, not old).
    pub fn mac_problem(&self, keys: &dyn EntryMac, macs_began: bool) -> Option<&'static str> {
        match &self.mac {
            Some(m) if keys.check(&self.content(), m) => None,
            Some(_) => {
                Some("its content was altered: it does not match the MAC it was written with")
            }
            None if macs_began => {
                Some("it has no MAC, but entries before it have one: its MAC was removed")
            }
            None => None,
        }
    }
}

const COLUMNS: &str = "id, organization_id, environment, actor, action, resource_id, details, at, seq, prev_hash, hash, mac";

/// Writes an entry (unsealed) with its MAC.
pub async fn insert(conn: &mut Conn, keys: &dyn EntryMac, e: &Entry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, organization_id, environment, actor, action, resource_id, details, at, mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.id)
    .bind(&e.organization_id)
    .bind(&e.environment)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.resource_id)
    .bind(&e.details)
    .bind(e.at)
    .bind(keys.mac(&e.content()))
    .execute(conn)
    .await?;
    Ok(())
}

/// The rows of many entries, each with its MAC, for
/// [`crate::rows::insert_all`]: the rows [`insert`] writes one at a time.
pub fn rows(keys: &dyn EntryMac, entries: &[Entry]) -> crate::rows::Insert {
    crate::rows::Insert {
        table: "audit_log",
        columns: &[
            "id",
            "organization_id",
            "environment",
            "actor",
            "action",
            "resource_id",
            "details",
            "at",
            "mac",
        ],
        tail: "",
        rows: entries
            .iter()
            .map(|e| {
                vec![
                    e.id.as_str().into(),
                    e.organization_id.as_str().into(),
                    e.environment.as_str().into(),
                    e.actor.as_str().into(),
                    e.action.as_str().into(),
                    e.resource_id.clone().into(),
                    e.details.as_str().into(),
                    e.at.into(),
                    keys.mac(&e.content()).into(),
                ]
            })
            .collect(),
    }
}

/// The chain's last entry: its place and hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;
    /// `SEQ:HASH`, as the sealer logs it.
    fn from_str(s: &str) -> Result<Head, String> {
        let (seq, hash) = s
            .trim()
            .split_once(':')
            .ok_or("expected SEQ:HASH (as the audit sealer logs it)")?;
        let seq = seq
            .parse::<i64>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or("SEQ must be a positive number")?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("HASH must be 64 hex digits".into());
        }
        Ok(Head {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// What one `seal` pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sealed {
    /// Entries chained.
    pub count: usize,
    /// The chain's head after the pass (none while the chain is empty).
    pub head: Option<Head>,
    /// Entries chained whose MAC failed (altered before sealing): chained
    /// all the same, so the chain stays whole and `verify` names them.
    pub mac_failed: Vec<String>,
}

/// The oldest unsealed entries, up to `limit`, in id order (the sealer reads
/// them before it takes the writer: their content never changes).
pub async fn unsealed_batch(conn: &mut Conn, limit: i64) -> StoreResult<Vec<Entry>> {
    Ok(sqlx::query_as(&unsealed_batch_sql())
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// The statement of [`unsealed_batch`] (its plan is tested): one parameter,
/// the limit.
pub fn unsealed_batch_sql() -> String {
    format!("SELECT {COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT $1")
}

/// Chains `entries` (from [`unsealed_batch`], in id order) after the last
/// sealed one, in the caller's transaction, checking each one's MAC first.
/// An entry another sealer chained meanwhile makes it fail with `Conflict`
/// (the caller rolls back: nothing written; the next pass reads again).
pub async fn seal(tx: &mut Tx, keys: &dyn EntryMac, entries: &[Entry]) -> StoreResult<Sealed> {
    #[derive(sqlx::FromRow)]
    struct Tail {
        seq: i64,
        hash: Option<String>,
    }
    let tail: Option<Tail> = sqlx::query_as(
        "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let (mut seq, mut prev) = match tail {
        Some(t) => (t.seq, t.hash.unwrap_or_default()),
        None => (0, GENESIS.to_string()),
    };
    let mut macs_began =
        sqlx::query("SELECT id FROM audit_log WHERE seq IS NOT NULL AND mac IS NOT NULL LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
    let mut out = Sealed::default();
    let mut links: Vec<Link> = Vec::with_capacity(entries.len());
    for e in entries {
        if e.mac_problem(keys, macs_began).is_some() {
            out.mac_failed.push(e.id.clone());
        }
        macs_began |= e.mac.is_some();
        seq += 1;
        let hash = e.compute_hash(seq, &prev);
        links.push(Link {
            id: &e.id,
            seq,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    for chunk in links.chunks(LINKS_PER_STATEMENT) {
        write_links(tx, chunk).await?;
    }
    out.count = links.len();
    out.head = (seq > 0).then_some(Head { seq, hash: prev });
    Ok(out)
}

/// An entry's place in the chain, as `seal` writes it.
struct Link<'a> {
    id: &'a str,
    seq: i64,
    prev_hash: String,
    hash: String,
}

/// Entries chained by one statement (four parameters each): a pass holds
/// the writer for a few statements, not one round trip per entry.
const LINKS_PER_STATEMENT: usize = 100;

/// The statement of [`write_links`] for `rows` entries (its plan is
/// tested): per entry, its `seq`, `prev_hash`, `hash` and `id`.
pub fn write_links_sql(rows: usize) -> String {
    let values = (0..rows)
        .map(|i| {
            let b = i * 4;
            format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4)
        })
        .collect::<Vec<_>>()
        .join(", ");
    // VALUES names its columns column1…column4 on both backends. The unary
    // `+` keeps SQLite from looking entries up by `seq IS NULL` (through any
    // index of unsealed entries) and then scanning the VALUES rows for each:
    // without it, SQLite 3.46 did, and a pass grew with the backlog (15 to
    // 70 ms for 500 entries under load) instead of finding each entry by id.
    format!(
        "UPDATE audit_log SET seq = v.column1, prev_hash = v.column2, hash = v.column3 \
         FROM (VALUES {values}) AS v WHERE audit_log.id = v.column4 AND +audit_log.seq IS NULL"
    )
}

/// Writes entries' places in the chain in one statement; an entry another
/// sealer chained first (or a `seq` it took) is a conflict: the caller rolls
/// back and looks again.
async fn write_links(tx: &mut Tx, links: &[Link<'_>]) -> StoreResult<()> {
    let sql = write_links_sql(links.len());
    let mut q = sqlx::query(&sql);
    for l in links {
        q = q.bind(l.seq).bind(&l.prev_hash).bind(&l.hash).bind(l.id);
    }
    match q.execute(&mut **tx).await {
        Ok(d) if d.rows_affected() == links.len() as u64 => Ok(()),
        Ok(_) => Err(StoreError::Conflict("audit_log_seq".into())),
        Err(e) if crate::db::violated_unique(&e).is_some() => {
            Err(StoreError::Conflict("audit_log_seq".into()))
        }
        Err(e) => Err(e.into()),
    }
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

/// Recomputes the chain over every sealed entry, in order, and the MAC of
/// every entry (sealed or not); `head` (recorded outside the database: the
/// sealer's log, an export) must still be in the chain, with its hash.
pub async fn verify(
    conn: &mut Conn,
    keys: &dyn EntryMac,
    head: Option<&Head>,
) -> StoreResult<Verdict> {
    let entries: Vec<Entry> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq IS NOT NULL ORDER BY seq"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut prev = GENESIS.to_string();
    let mut count = 0i64;
    let mut macs_began = false;
    let bad = |count: i64, problem: String, id: Option<String>, seq: i64| Verdict {
        entries: count,
        ok: false,
        first_bad: Some(Broken { seq, id, problem }),
    };
    for e in entries {
        let expected = count + 1;
        let seq = e.seq.unwrap_or_default();
        if seq != expected {
            return Ok(bad(
                count,
                format!("entry {expected} is missing (the next one is {seq})"),
                None,
                expected,
            ));
        }
        if e.prev_hash.as_deref() != Some(prev.as_str()) {
            return Ok(bad(
                count,
                "its previous hash does not match the entry before it".into(),
                Some(e.id),
                seq,
            ));
        }
        if e.hash.as_deref() != Some(e.compute_hash(seq, &prev).as_str()) {
            return Ok(bad(
                count,
                "its content was altered".into(),
                Some(e.id),
                seq,
            ));
        }
        if let Some(problem) = e.mac_problem(keys, macs_began) {
            return Ok(bad(count, problem.into(), Some(e.id), seq));
        }
        macs_began |= e.mac.is_some();
        prev = e.hash.clone().unwrap_or_default();
        count += 1;
    }
    if let Some(h) = head {
        if h.seq > count {
            return Ok(bad(
                count,
                format!(
                    "the chain ends at entry {count}, before the recorded head {h}: entries were removed from its end"
                ),
                None,
                h.seq,
            ));
        }
        #[derive(sqlx::FromRow)]
        struct Anchored {
            id: String,
            hash: Option<String>,
        }
        let at: Option<Anchored> = sqlx::query_as("SELECT id, hash FROM audit_log WHERE seq = $1")
            .bind(h.seq)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(a) = at.filter(|a| a.hash.as_deref() != Some(h.hash.as_str())) {
            return Ok(bad(
                count,
                format!(
                    "its hash is not the recorded head's ({h}): the chain was rewritten from here or before"
                ),
                Some(a.id),
                h.seq,
            ));
        }
    }
    // Entries not chained yet carry their MAC too.
    let waiting: Vec<Entry> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    for e in waiting {
        if let Some(problem) = e.mac_problem(keys, macs_began) {
            return Ok(bad(
                count,
                format!("{problem} (not sealed yet)"),
                Some(e.id),
                0,
            ));
        }
        macs_began |= e.mac.is_some();
    }
    Ok(Verdict {
        entries: count,
        ok: true,
        first_bad: None,
    })
}

/// Every MAC'd entry whose MAC `old` accepts, MAC'd again by `new` (a
/// master-key rotation: the MAC key is derived from it). An entry `old`
/// refuses keeps its MAC, so `verify` still names it. Returns how many.
pub async fn remac(conn: &mut Conn, old: &dyn EntryMac, new: &dyn EntryMac) -> StoreResult<usize> {
    let entries: Vec<Entry> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE mac IS NOT NULL"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for e in entries {
        let content = e.content();
        if e.mac.as_deref().is_some_and(|m| old.check(&content, m)) {
            sqlx::query("UPDATE audit_log SET mac = $1 WHERE id = $2")
                .bind(new.mac(&content))
                .bind(&e.id)
                .execute(&mut *conn)
                .await?;
            n += 1;
        }
    }
    Ok(n)
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
    let mut q = sqlx::query_as::<_, Entry>(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    if let Some(f) = filter.from {
        q = q.bind(f);
    }
    if let Some(t) = filter.to {
        q = q.bind(t);
    }
    Ok(q.bind(limit).fetch_all(conn).await?)
}
