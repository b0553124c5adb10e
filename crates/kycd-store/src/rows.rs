//! Multi-row INSERTs: the rows of many writes in a few statements (one
//! round trip each) instead of one statement per row. Used where creates are
//! written together (group commit, batches, imports) and for a single create.
//!
//! On PostgreSQL every table's rows go in ONE statement: each table's rows
//! travel as one JSON parameter, unpacked by `json_populate_recordset` in a
//! data-modifying `WITH`, so the statement text depends only on the tables,
//! never on the number of rows — prepared once per connection, one round
//! trip for a whole group. On SQLite (in-process, no round trips) each table
//! gets multi-row `VALUES` statements, its rows cut into chunks of a power of
//! two (64, 32, …, 1), so a connection caches at most seven statement texts
//! per table whatever the group sizes.

use crate::db::{Conn, StoreError, StoreResult};

/// One bound value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    NullableText(Option<String>),
    Int(i64),
    NullableInt(Option<i64>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        Value::NullableText(s)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::NullableInt(v)
    }
}

impl Value {
    fn json(&self) -> serde_json::Value {
        match self {
            Value::Text(s) => s.as_str().into(),
            Value::NullableText(s) => s.as_deref().into(),
            Value::Int(v) => (*v).into(),
            Value::NullableInt(v) => (*v).into(),
        }
    }
}

/// The rows to insert into one table, for [`insert_all`].
#[derive(Debug, Clone)]
pub struct Insert {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    /// What follows the rows (e.g. `ON CONFLICT DO NOTHING`).
    pub tail: &'static str,
    /// Each of `columns.len()` values.
    pub rows: Vec<Vec<Value>>,
}

/// Inserts every table's rows, in the caller's transaction: on PostgreSQL in
/// one statement, on SQLite in a few per table (see the module's comment).
/// A unique violation is `StoreError::Conflict` with the constraint's name.
pub async fn insert_all(conn: &mut Conn, inserts: &[Insert]) -> StoreResult<()> {
    if conn.backend_name() != "PostgreSQL" {
        for i in inserts.iter().filter(|i| !i.rows.is_empty()) {
            insert_values(conn, i.table, i.columns, i.tail, &i.rows).await?;
        }
        return Ok(());
    }
    let sql = postgres_statement(inserts);
    let mut query = sqlx::query(&sql);
    for i in inserts {
        let rows: Vec<serde_json::Value> = i
            .rows
            .iter()
            .map(|row| {
                debug_assert_eq!(row.len(), i.columns.len(), "a row of {}", i.table);
                let object = i
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.to_string(), v.json()));
                serde_json::Value::Object(object.collect())
            })
            .collect();
        query = query.bind(serde_json::Value::Array(rows).to_string());
    }
    query
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from_insert)?;
    Ok(())
}

/// `WITH w1 AS (INSERT … SELECT … FROM json_populate_recordset(NULL::t1, $1::json) …), …
/// INSERT …`: every table's rows in one statement, one JSON parameter each.
fn postgres_statement(inserts: &[Insert]) -> String {
    let parts: Vec<String> = inserts
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let columns = i.columns.join(", ");
            let sql = format!(
                "INSERT INTO {t} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{t}, ${p}::json) {tail}",
                t = i.table,
                p = n + 1,
                tail = i.tail
            );
            sql.trim_end().to_string()
        })
        .collect();
    let Some((last, first)) = parts.split_last() else {
        return "SELECT 1".into();
    };
    if first.is_empty() {
        return last.clone();
    }
    let with: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(n, p)| format!("w{n} AS ({p})"))
        .collect();
    format!("WITH {} {last}", with.join(", "))
}

/// The most rows in one statement.
const MAX_ROWS: usize = 64;
/// The most bound values in one statement (SQLite takes 32,766, PostgreSQL 65,535).
const MAX_BINDS: usize = 30_000;

/// Inserts `rows` (each of `columns.len()` values) into `table` in
/// multi-row `VALUES` statements, in chunks; `tail` follows the list.
async fn insert_values(
    conn: &mut Conn,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows: &[Vec<Value>],
) -> StoreResult<()> {
    let width = columns.len();
    let cap = (MAX_BINDS / width.max(1)).clamp(1, MAX_ROWS);
    let mut rest = rows;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(chunk_len(rest.len(), cap));
        let sql = statement(table, columns, tail, chunk.len());
        let mut query = sqlx::query(&sql);
        for row in chunk {
            debug_assert_eq!(row.len(), width, "a row of {table}");
            for value in row {
                query = match value {
                    Value::Text(s) => query.bind(s.as_str()),
                    Value::NullableText(s) => query.bind(s.as_deref()),
                    Value::Int(v) => query.bind(*v),
                    Value::NullableInt(v) => query.bind(*v),
                };
            }
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_insert)?;
        rest = after;
    }
    Ok(())
}

/// The largest power of two that is at most `remaining` and `cap`.
fn chunk_len(remaining: usize, cap: usize) -> usize {
    let most = remaining.min(cap).max(1);
    1 << (usize::BITS - 1 - most.leading_zeros())
}

/// `INSERT INTO table (columns) VALUES ($1, …), (…) tail` for `rows` rows.
fn statement(table: &str, columns: &[&str], tail: &str, rows: usize) -> String {
    let width = columns.len();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * width + c + 1).to_string());
        }
        sql.push(')');
    }
    if !tail.is_empty() {
        sql.push(' ');
        sql.push_str(tail);
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_within_the_cap() {
        assert_eq!(chunk_len(1, 64), 1);
        assert_eq!(chunk_len(3, 64), 2);
        assert_eq!(chunk_len(64, 64), 64);
        assert_eq!(chunk_len(100, 64), 64);
        assert_eq!(chunk_len(100, 50), 32);
        // A group of 37 rows: 32 + 4 + 1, three statements.
        let mut left = 37;
        let mut sizes = vec![];
        while left > 0 {
            let n = chunk_len(left, MAX_ROWS);
            sizes.push(n);
            left -= n;
        }
        assert_eq!(sizes, [32, 4, 1]);
    }

    #[test]
    fn postgres_statement_depends_on_the_tables_only() {
        let table = |table, rows| Insert {
            table,
            columns: &["a", "b"],
            tail: "ON CONFLICT DO NOTHING",
            rows,
        };
        let one = vec![vec![Value::Int(1), Value::Text("x".into())]];
        let sql = postgres_statement(&[table("t", one.clone()), table("u", vec![])]);
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO t (a, b) SELECT a, b FROM json_populate_recordset(NULL::t, $1::json) \
             ON CONFLICT DO NOTHING) INSERT INTO u (a, b) SELECT a, b FROM json_populate_recordset(NULL::u, $2::json) \
             ON CONFLICT DO NOTHING"
        );
        let many = vec![one[0].clone(); 40];
        assert_eq!(
            sql,
            postgres_statement(&[table("t", many), table("u", one)])
        );
    }

    #[test]
    fn statement_numbers_every_value() {
        assert_eq!(
            statement("t", &["a", "b"], "ON CONFLICT DO NOTHING", 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            statement("t", &["a"], "", 1),
            "INSERT INTO t (a) VALUES ($1)"
        );
    }
}
