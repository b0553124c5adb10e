//! Four-eyes requests of the back office: an action one operator asked for
//! that a second admin approves or declines (who, what, the form's fields,
//! the note, the deadline, the decision). Deciding is one conditional update
//! (`outcome IS NULL`), so two admins cannot both decide one request; an
//! approved identifier reveal is consumed once the same way.

use crate::db::{Conn, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: String,
    pub organization_id: String,
    pub environment: String,
    pub customer_id: String,
    pub action: String,
    /// The action's form fields (JSON object).
    pub parameters: String,
    pub note: Option<String>,
    /// The requester's operator id.
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// `approved`, `declined` or `failed` (approved, then refused by the domain).
    pub outcome: Option<String>,
    pub revealed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, organization_id, environment, customer_id, action, parameters, note, \
     requested_by, created_at, expires_at, decided_by, decided_at, outcome, revealed_at";

fn request(r: &sqlx::any::AnyRow) -> StoreResult<Request> {
    Ok(Request {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        environment: r.try_get(2)?,
        customer_id: r.try_get(3)?,
        action: r.try_get(4)?,
        parameters: r.try_get(5)?,
        note: r.try_get(6)?,
        requested_by: r.try_get(7)?,
        created_at: from_micros(r.try_get(8)?),
        expires_at: from_micros(r.try_get(9)?),
        decided_by: r.try_get(10)?,
        decided_at: r.try_get::<Option<i64>, _>(11)?.map(from_micros),
        outcome: r.try_get(12)?,
        revealed_at: r.try_get::<Option<i64>, _>(13)?.map(from_micros),
    })
}

pub async fn insert(conn: &mut Conn, r: &Request) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO four_eyes_requests ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL, NULL)"
    ))
    .bind(&r.id)
    .bind(&r.organization_id)
    .bind(&r.environment)
    .bind(&r.customer_id)
    .bind(&r.action)
    .bind(&r.parameters)
    .bind(&r.note)
    .bind(&r.requested_by)
    .bind(micros(&r.created_at))
    .bind(micros(&r.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> StoreResult<Option<Request>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM four_eyes_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(request).transpose()
}

/// A customer's requests, newest first.
pub async fn of_customer(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<Request>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM four_eyes_requests WHERE customer_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT 100"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(request).collect()
}

/// Undecided requests (expired ones too: the page says so), oldest first,
/// of one organization or all.
pub async fn undecided(
    conn: &mut Conn,
    organization_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Request>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM four_eyes_requests WHERE outcome IS NULL \
         AND ($1 = '' OR organization_id = $1) ORDER BY created_at, id LIMIT $2"
    ))
    .bind(organization_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(request).collect()
}

/// Records the decision unless one was recorded first (then `false`).
pub async fn decide(
    conn: &mut Conn,
    id: &str,
    decided_by: &str,
    outcome: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = sqlx::query(
        "UPDATE four_eyes_requests SET decided_by = $1, outcome = $2, decided_at = $3 \
         WHERE id = $4 AND outcome IS NULL",
    )
    .bind(decided_by)
    .bind(outcome)
    .bind(micros(&at))
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// An approved request whose action the domain then refused (the state
/// changed meanwhile): its outcome becomes `failed`.
pub async fn mark_failed(conn: &mut Conn, id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE four_eyes_requests SET outcome = 'failed' WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks an approved reveal as seen; `false` when it was seen already (or
/// is not an approved request).
pub async fn consume_reveal(conn: &mut Conn, id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
    let n = sqlx::query(
        "UPDATE four_eyes_requests SET revealed_at = $1 \
         WHERE id = $2 AND outcome = 'approved' AND revealed_at IS NULL",
    )
    .bind(micros(&at))
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}
