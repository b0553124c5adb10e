//! The back office's operators (staff accounts with a role and an optional
//! organization), their browser sessions (stored by the hash of the session
//! id) and the failed sign-ins behind the lockout; plus the cross-scope
//! reads the back office needs (where a customer lives, the queue's
//! candidates, counts by status).
//!
//! Global by nature, no `Scope`: operators are staff of the installation, not
//! of one organization's environment, and these reads serve the back office,
//! which looks across organizations (the server limits an organization's
//! operator to its own).

use crate::db::{Conn, Scope, StoreError, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use sqlx::FromRow;

/// An operator as stored (the password hash is an argon2id PHC string).
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub id: String,
    pub email: String,
    pub role: String,
    pub organization_id: Option<String>,
    pub password_hash: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, role, organization_id, password_hash, disabled_at, created_at";

/// An `operators` row as selected by `COLUMNS` (times in microseconds).
#[derive(sqlx::FromRow)]
struct OperatorRow {
    id: String,
    email: String,
    role: String,
    organization_id: Option<String>,
    password_hash: String,
    disabled_at: Option<i64>,
    created_at: i64,
}

fn operator(r: &sqlx::any::AnyRow) -> StoreResult<Operator> {
    let r = OperatorRow::from_row(r)?;
    Ok(Operator {
        id: r.id,
        email: r.email,
        role: r.role,
        organization_id: r.organization_id,
        password_hash: r.password_hash,
        disabled_at: r.disabled_at.map(from_micros),
        created_at: from_micros(r.created_at),
    })
}

/// Inserts an operator; an email already taken is `Conflict("operators_email")`.
pub async fn insert(conn: &mut Conn, op: &Operator) -> StoreResult<()> {
    let r = sqlx::query(&format!(
        "INSERT INTO operators ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(&op.id)
    .bind(&op.email)
    .bind(&op.role)
    .bind(&op.organization_id)
    .bind(&op.password_hash)
    .bind(op.disabled_at.as_ref().map(micros))
    .bind(micros(&op.created_at))
    .execute(conn)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if crate::db::violated_unique(&e).is_some() => {
            Err(StoreError::Conflict("operators_email".into()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn by_email(conn: &mut Conn, email: &str) -> StoreResult<Option<Operator>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM operators WHERE email = $1"))
        .bind(email)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(operator).transpose()
}

pub async fn by_id(conn: &mut Conn, id: &str) -> StoreResult<Option<Operator>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM operators WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(operator).transpose()
}

/// Every operator, oldest first.
pub async fn list(conn: &mut Conn) -> StoreResult<Vec<Operator>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM operators ORDER BY id"))
        .fetch_all(conn)
        .await?;
    rows.iter().map(operator).collect()
}

/// Disables an operator and ends its sessions; `false` when there is none.
pub async fn disable(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let n = sqlx::query("UPDATE operators SET disabled_at = $1 WHERE id = $2")
        .bind(micros(&now))
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    end_all_sessions(conn, id).await?;
    Ok(n == 1)
}

/// Replaces the password hash and ends every session; `false` when there is none.
pub async fn set_password(conn: &mut Conn, id: &str, hash: &str) -> StoreResult<bool> {
    let n = sqlx::query("UPDATE operators SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    end_all_sessions(conn, id).await?;
    Ok(n == 1)
}

// ---- sessions -------------------------------------------------------------

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub operator_id: String,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
}

pub async fn insert_session(
    conn: &mut Conn,
    id_hash: &str,
    operator_id: &str,
    csrf_token: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(id_hash)
    .bind(operator_id)
    .bind(csrf_token)
    .bind(micros(&now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn session(conn: &mut Conn, id_hash: &str) -> StoreResult<Option<Session>> {
    /// An `operator_sessions` row (`last_seen_at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct SessionRow {
        operator_id: String,
        csrf_token: String,
        last_seen_at: i64,
    }
    let row = sqlx::query_as::<_, SessionRow>(
        "SELECT operator_id, csrf_token, last_seen_at FROM operator_sessions WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Session {
        operator_id: r.operator_id,
        csrf_token: r.csrf_token,
        last_seen_at: from_micros(r.last_seen_at),
    }))
}

pub async fn touch_session(conn: &mut Conn, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE operator_sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(micros(&now))
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn end_session(conn: &mut Conn, id_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM operator_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

async fn end_all_sessions(conn: &mut Conn, operator_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM operator_sessions WHERE operator_id = $1")
        .bind(operator_id)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- failed sign-ins ---------------------------------------------------------

/// Records a failed sign-in for each subject (`account:<email>`, `address:<ip>`).
pub async fn record_failure(
    conn: &mut Conn,
    subjects: &[&str],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for s in subjects {
        sqlx::query("INSERT INTO operator_login_failures (subject, at) VALUES ($1, $2)")
            .bind(*s)
            .bind(micros(&now))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Failed sign-ins of a subject since `since`.
pub async fn failures_since(
    conn: &mut Conn,
    subject: &str,
    since: DateTime<Utc>,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM operator_login_failures WHERE subject = $1 AND at >= $2",
    )
    .bind(subject)
    .bind(micros(&since))
    .fetch_one(conn)
    .await?)
}

/// Forgets a subject's failures (a successful sign-in, a password reset).
pub async fn clear_failures(conn: &mut Conn, subject: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM operator_login_failures WHERE subject = $1")
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- cross-scope reads of the back office -------------------------------------

/// Where a customer lives: (organization, environment), unless erased or unknown.
pub async fn locate_customer(conn: &mut Conn, id: &str) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query_as::<_, Scope>(
        "SELECT organization_id, environment FROM customers WHERE id = $1 AND erased_at IS NULL",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.organization_id, r.environment)))
}

/// Customers with this external id, in any scope: (id, organization, environment).
pub async fn by_external_id(
    conn: &mut Conn,
    external_id: &str,
) -> StoreResult<Vec<(String, String, String)>> {
    #[derive(sqlx::FromRow)]
    struct Located {
        id: String,
        organization_id: String,
        environment: String,
    }
    let rows = sqlx::query_as::<_, Located>(
        "SELECT id, organization_id, environment FROM customers \
         WHERE external_id = $1 AND erased_at IS NULL ORDER BY id LIMIT 50",
    )
    .bind(external_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.organization_id, r.environment))
        .collect())
}

/// Every (organization, environment) holding customers.
pub async fn customer_scopes(conn: &mut Conn) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query_as::<_, Scope>(
        "SELECT DISTINCT organization_id, environment FROM customers ORDER BY organization_id, environment",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.organization_id, r.environment))
        .collect())
}

/// Customers counted by (organization, environment, status).
pub async fn status_counts(conn: &mut Conn) -> StoreResult<Vec<(String, String, String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Counted {
        organization_id: String,
        environment: String,
        status: String,
        customers: i64,
    }
    let rows = sqlx::query_as::<_, Counted>(
        "SELECT organization_id, environment, status, COUNT(*) AS customers FROM customers \
         WHERE erased_at IS NULL GROUP BY organization_id, environment, status \
         ORDER BY organization_id, environment, status",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.organization_id, r.environment, r.status, r.customers))
        .collect())
}

/// A customer that may wait for a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub organization_id: String,
    pub environment: String,
    pub status: String,
    pub updated_at: DateTime<Utc>,
    /// Product-access requests waiting for a decision.
    pub pending_access: i64,
}

/// The queue's candidates, oldest change first (at most `limit`): customers
/// `on_hold` or `pending`, and customers with a pending product-access request.
pub async fn queue_candidates(
    conn: &mut Conn,
    organization_id: Option<&str>,
    environment: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Candidate>> {
    /// A candidate as selected (`updated_at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct CandidateRow {
        id: String,
        organization_id: String,
        environment: String,
        status: String,
        updated_at: i64,
        pending_access: i64,
    }
    let rows = sqlx::query_as::<_, CandidateRow>(
        "SELECT c.id AS id, c.organization_id AS organization_id, c.environment AS environment, \
         c.status AS status, c.updated_at AS updated_at, \
         (SELECT COUNT(*) FROM product_access p WHERE p.customer_id = c.id AND p.status = 'pending') AS pending_access \
         FROM customers c WHERE c.erased_at IS NULL \
         AND ($1 = '' OR c.organization_id = $1) AND ($2 = '' OR c.environment = $2) \
         AND (c.status IN ('on_hold', 'pending') OR EXISTS \
         (SELECT 1 FROM product_access p WHERE p.customer_id = c.id AND p.status = 'pending')) \
         ORDER BY c.updated_at, c.id LIMIT $3",
    )
    .bind(organization_id.unwrap_or(""))
    .bind(environment.unwrap_or(""))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            id: r.id,
            organization_id: r.organization_id,
            environment: r.environment,
            status: r.status,
            updated_at: from_micros(r.updated_at),
            pending_access: r.pending_access,
        })
        .collect())
}

/// A customer's audit entries, oldest first (the case view's trail).
pub async fn audit_of(
    conn: &mut Conn,
    resource_id: &str,
) -> StoreResult<Vec<(String, String, String, DateTime<Utc>)>> {
    /// An `audit_log` entry as selected (`at` in microseconds).
    #[derive(sqlx::FromRow)]
    struct Entry {
        actor: String,
        action: String,
        details: String,
        at: i64,
    }
    let rows = sqlx::query_as::<_, Entry>(
        "SELECT actor, action, details, at FROM audit_log WHERE resource_id = $1 ORDER BY at, id",
    )
    .bind(resource_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.actor, r.action, r.details, from_micros(r.at)))
        .collect())
}
