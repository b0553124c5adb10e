//! The events table (the source of `GET /v1/events`) and its transactional
//! outbox, `event_outbox`: the events the webhook fan-out has not yet taken.

use crate::db::{Conn, Scope, StoreError, StoreResult, from_micros, micros};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub customer_id: Option<String>,
    pub data: Value,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// The payload delivered to webhooks and shown by the API.
    pub fn payload(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "object": "event",
            "type": self.event_type,
            "created_at": kycd_core::time::format(&self.created_at),
            "data": self.data,
        })
    }
}

/// Writes one event and queues it for fan-out (in the caller's transaction).
pub async fn insert(conn: &mut Conn, scope: &Scope, e: &Event) -> StoreResult<()> {
    crate::rows::insert_all(conn, &rows(&[(scope, e.clone())])).await
}

/// The rows of many events (of any scopes) and of their outbox entries, for
/// [`crate::rows::insert_all`]: an event is queued for the webhook fan-out
/// in the transaction that writes it, so it is fanned out exactly when it
/// is committed.
pub fn rows(list: &[(&Scope, Event)]) -> [crate::rows::Insert; 2] {
    let events = crate::rows::Insert {
        table: "events",
        columns: &[
            "id",
            "organization_id",
            "environment",
            "type",
            "customer_id",
            "data",
            "created_at",
        ],
        tail: "",
        rows: list
            .iter()
            .map(|(scope, e)| {
                vec![
                    e.id.as_str().into(),
                    scope.organization_id.as_str().into(),
                    scope.environment.as_str().into(),
                    e.event_type.as_str().into(),
                    e.customer_id.clone().into(),
                    e.data.to_string().into(),
                    micros(&e.created_at).into(),
                ]
            })
            .collect(),
    };
    let outbox = crate::rows::Insert {
        table: "event_outbox",
        columns: &["event_id"],
        tail: "",
        rows: list
            .iter()
            .map(|(_, e)| vec![e.id.as_str().into()])
            .collect(),
    };
    [events, outbox]
}

/// An `events` row as selected by `COLUMNS` (`data` as JSON text,
/// `created_at` in microseconds).
#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    #[sqlx(rename = "type")]
    event_type: String,
    customer_id: Option<String>,
    data: String,
    created_at: i64,
}

/// The columns of an event, read by [`event`].
pub(crate) const COLUMNS: &str = "id, type, customer_id, data, created_at";

/// Reads an event from a row holding [`COLUMNS`].
pub(crate) fn event(r: &sqlx::any::AnyRow) -> StoreResult<Event> {
    let r = EventRow::from_row(r)?;
    Ok(Event {
        id: r.id,
        event_type: r.event_type,
        customer_id: r.customer_id,
        data: serde_json::from_str(&r.data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: from_micros(r.created_at),
    })
}

pub async fn get(conn: &mut Conn, scope: &Scope, id: &str) -> StoreResult<Event> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM events WHERE id = $1 AND organization_id = $2 AND environment = $3"
    ))
    .bind(id)
    .bind(&scope.organization_id)
    .bind(&scope.environment)
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(event)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub customer_id: Option<String>,
    pub starting_after: Option<String>,
    pub limit: i64,
}

/// Newest first.
pub async fn list(
    conn: &mut Conn,
    scope: &Scope,
    f: &EventFilter,
) -> StoreResult<(Vec<Event>, bool)> {
    let mut filters = vec![];
    if let Some(t) = &f.event_type {
        filters.push(("type", t.as_str()));
    }
    if let Some(c) = &f.customer_id {
        filters.push(("customer_id", c.as_str()));
    }
    let list = crate::db::Listing {
        table: "events",
        columns: COLUMNS,
        condition: "",
    };
    list.page(
        conn,
        scope,
        &filters,
        f.starting_after.as_deref(),
        f.limit,
        event,
    )
    .await
}
