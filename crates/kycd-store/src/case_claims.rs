//! The queue worked as a team (issue 15 item 4): which operator holds a case
//! (`case_claims`: claiming is one insert that loses to an existing claim,
//! so two operators cannot both hold a case; an admin's reassignment
//! replaces the holder) and the tags on a case (`case_tags`).
//! Writes record the case's `Scope`; reads serve the back office, which
//! works across organizations (the server checks an operator's organization).

use crate::db::{Conn, Scope, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use std::collections::HashMap;

/// Who holds a case, since when.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub customer_id: String,
    pub operator_id: String,
    pub claimed_at: DateTime<Utc>,
}

/// A `case_claims` row (`claimed_at` in microseconds).
#[derive(sqlx::FromRow)]
struct ClaimRow {
    customer_id: String,
    operator_id: String,
    claimed_at: i64,
}

fn claim_row(r: &sqlx::any::AnyRow) -> StoreResult<Claim> {
    let r = ClaimRow::from_row(r)?;
    Ok(Claim {
        customer_id: r.customer_id,
        operator_id: r.operator_id,
        claimed_at: from_micros(r.claimed_at),
    })
}

/// The claim on a case, if any.
pub async fn claim_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Option<Claim>> {
    let row = sqlx::query(
        "SELECT customer_id, operator_id, claimed_at FROM case_claims WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(claim_row).transpose()
}

/// Every claim, by customer (the queue shows the holders).
pub async fn all_claims(conn: &mut Conn) -> StoreResult<HashMap<String, Claim>> {
    let rows = sqlx::query("SELECT customer_id, operator_id, claimed_at FROM case_claims")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| claim_row(r).map(|c| (c.customer_id.clone(), c)))
        .collect()
}

/// Claims an unclaimed case; `false` when someone holds it already.
pub async fn claim(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    operator_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = sqlx::query(
        "INSERT INTO case_claims (customer_id, organization_id, environment, operator_id, claimed_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(operator_id)
    .bind(micros(&at))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Gives the case to `operator_id`, whoever held it (an admin's reassignment).
pub async fn assign(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    operator_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO case_claims (customer_id, organization_id, environment, operator_id, claimed_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO UPDATE \
         SET operator_id = excluded.operator_id, claimed_at = excluded.claimed_at",
    )
    .bind(customer_id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(operator_id)
    .bind(micros(&at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases the claim held by `operator_id` (any holder's when `None`);
/// `false` when there was no such claim.
pub async fn release(
    conn: &mut Conn,
    customer_id: &str,
    operator_id: Option<&str>,
) -> StoreResult<bool> {
    let n = sqlx::query(
        "DELETE FROM case_claims WHERE customer_id = $1 AND ($2 = '' OR operator_id = $2)",
    )
    .bind(customer_id)
    .bind(operator_id.unwrap_or(""))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n >= 1)
}

/// Adds a tag (again: nothing changes); `false` when it was there.
pub async fn add_tag(
    conn: &mut Conn,
    scope: &Scope,
    customer_id: &str,
    tag: &str,
    operator_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = sqlx::query(
        "INSERT INTO case_tags (customer_id, tag, organization_id, environment, added_by, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id, tag) DO NOTHING",
    )
    .bind(customer_id)
    .bind(tag)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .bind(operator_id)
    .bind(micros(&at))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Removes a tag; `false` when it was not there.
pub async fn remove_tag(conn: &mut Conn, customer_id: &str, tag: &str) -> StoreResult<bool> {
    let n = sqlx::query("DELETE FROM case_tags WHERE customer_id = $1 AND tag = $2")
        .bind(customer_id)
        .bind(tag)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// A case's tags, sorted.
pub async fn tags_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT tag FROM case_tags WHERE customer_id = $1 ORDER BY tag")
            .bind(customer_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Every case's tags, by customer, each list sorted.
pub async fn all_tags(conn: &mut Conn) -> StoreResult<HashMap<String, Vec<String>>> {
    #[derive(sqlx::FromRow)]
    struct Tag {
        customer_id: String,
        tag: String,
    }
    let rows = sqlx::query_as::<_, Tag>(
        "SELECT customer_id, tag FROM case_tags ORDER BY customer_id, tag",
    )
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        out.entry(r.customer_id).or_default().push(r.tag);
    }
    Ok(out)
}
