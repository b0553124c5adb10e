//! Writes a domain change in the caller's transaction: the customer row (with
//! its version), status-history rows, an audit row and the outbox events.

use super::OperationContext;
use crate::service::ServiceResult;
use kycd_core::customer::Customer;
use kycd_core::events::NewEvent;
use kycd_core::lifecycle::Change;
use kycd_store::events::Event;
use kycd_store::{Conn, Scope, customers as db, events, ids};

/// The stored form of a customer: the hosted URL (a credential) is kept sealed
/// in the vault, never in the document.
pub fn storable(c: &Customer) -> Customer {
    let mut c = c.clone();
    c.verification.url = None;
    c
}

pub async fn write_events(
    conn: &mut Conn,
    scope: &Scope,
    list: &[NewEvent],
    cx: &OperationContext,
) -> ServiceResult<()> {
    for e in list {
        let event = Event {
            id: ids::new("evt"),
            event_type: e.event_type.to_string(),
            customer_id: e.customer_id.clone(),
            data: e.data.clone(),
            created_at: cx.now,
        };
        events::insert(conn, scope, &event).await?;
    }
    Ok(())
}

/// Commits `change` over the customer read at `version`; returns the new version.
pub async fn commit(
    conn: &mut Conn,
    cx: &OperationContext,
    change: &Change,
    version: i64,
    action: &str,
) -> ServiceResult<i64> {
    let new_version = db::update(
        conn,
        &*cx.vault,
        &cx.scope,
        &storable(&change.customer),
        version,
    )
    .await?;
    for h in &change.history {
        db::insert_history(conn, &cx.scope, &change.customer.id, h).await?;
    }
    write_events(conn, &cx.scope, &change.events, cx).await?;
    if change
        .history
        .iter()
        .any(|h| h.reason == "verification_approved")
        && let Some(expires) = change.customer.verification.expires_at
    {
        let notice = expires - chrono::Duration::days(cx.settings.expiring_notice_days as i64);
        db::schedule_expiry(conn, &change.customer.id, notice).await?;
    }
    let transitions: Vec<String> = change
        .history
        .iter()
        .map(|h| format!("{}→{}", h.from, h.to))
        .collect();
    db::insert_audit(
        conn,
        &*cx.vault,
        &cx.scope,
        &change.actor,
        action,
        Some(&change.customer.id),
        &serde_json::json!({"transitions": transitions}),
        cx.now,
    )
    .await?;
    Ok(new_version)
}
