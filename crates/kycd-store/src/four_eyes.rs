//! Four-eyes requests of the back office: an action one operator asked for
//! that a second admin approves or declines (who, what, the form's fields,
//! the note, the deadline, the decision). Deciding is one conditional update
//! (`outcome IS NULL`), so two admins cannot both decide one request; an
//! approved identifier reveal is consumed once the same way.

use crate::db::{Conn, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};

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
    /// `approved` or `declined` (`failed` on requests of versions whose
    /// approval and action were two transactions: approved, then refused).
    pub outcome: Option<String>,
    pub revealed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, organization_id, environment, customer_id, action, parameters, note, \
     requested_by, created_at, expires_at, decided_by, decided_at, outcome, revealed_at";

/// A request's row as selected by `COLUMNS` (times in microseconds).
#[derive(sqlx::FromRow)]
struct RequestRow {
    id: String,
    organization_id: String,
    environment: String,
    customer_id: String,
    action: String,
    parameters: String,
    note: Option<String>,
    requested_by: String,
    created_at: i64,
    expires_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    outcome: Option<String>,
    revealed_at: Option<i64>,
}

impl From<RequestRow> for Request {
    fn from(r: RequestRow) -> Request {
        Request {
            id: r.id,
            organization_id: r.organization_id,
            environment: r.environment,
            customer_id: r.customer_id,
            action: r.action,
            parameters: r.parameters,
            note: r.note,
            requested_by: r.requested_by,
            created_at: from_micros(r.created_at),
            expires_at: from_micros(r.expires_at),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(from_micros),
            outcome: r.outcome,
            revealed_at: r.revealed_at.map(from_micros),
        }
    }
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
    let row: Option<RequestRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM four_eyes_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Request::from))
}

/// A customer's requests, newest first.
pub async fn of_customer(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<Request>> {
    let rows: Vec<RequestRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM four_eyes_requests WHERE customer_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT 100"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Request::from).collect())
}

/// Undecided requests (expired ones too: the page says so), oldest first,
/// of one organization or all.
pub async fn undecided(
    conn: &mut Conn,
    organization_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Request>> {
    let rows: Vec<RequestRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM four_eyes_requests WHERE outcome IS NULL \
         AND ($1 = '' OR organization_id = $1) ORDER BY created_at, id LIMIT $2"
    ))
    .bind(organization_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Request::from).collect())
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
