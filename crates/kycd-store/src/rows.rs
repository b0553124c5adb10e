//! Multi-row INSERTs: the rows of many writes to one table in a few
//! statements (one round trip each) instead of one statement per row. Used
//! where many creates share a transaction (group commit, batches, imports).
//!
//! Rows are cut into chunks of a power of two (64, 32, …, 1 rows), so a
//! connection prepares and caches at most seven statement texts per table
//! whatever the group sizes, and a group of n rows costs at most as many
//! statements as n has bits set.

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

/// The most rows in one statement.
const MAX_ROWS: usize = 64;
/// The most bound values in one statement (SQLite takes 32,766, PostgreSQL 65,535).
const MAX_BINDS: usize = 30_000;

/// Inserts `rows` (each of `columns.len()` values) into `table`, in chunks;
/// `tail` follows the VALUES list (e.g. `ON CONFLICT DO NOTHING`). A unique
/// violation is `StoreError::Conflict` with the constraint's name.
pub async fn insert(
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
