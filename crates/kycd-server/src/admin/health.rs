//! Health on the back office's pages: on the dashboard, webhook endpoints
//! failing or disabled, deliveries failed in the last 24 hours per
//! organization and environment, and each screening list's freshness (stale
//! when not read for more than twice the refresh interval); on the case, the
//! customer's latest events and webhook deliveries.

use super::Signed;
use super::pages::{duration as age, when};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use kycd_store::back_office_health as db;
use kycd_store::db::Conn;
use maud::{Markup, html};

/// Events and deliveries shown on a case.
const CASE_ROWS: i64 = 20;

/// The dashboard's webhook and screening cards.
pub(super) async fn dashboard(
    state: &AppState,
    conn: &mut Conn,
    who: &Signed,
) -> kycd_store::StoreResult<Markup> {
    let now = Utc::now();
    let endpoints: Vec<_> = db::unhealthy_endpoints(conn)
        .await?
        .into_iter()
        .filter(|e| who.sees(&e.organization_id))
        .collect();
    let failed: Vec<_> = db::failed_deliveries(conn, now - chrono::Duration::hours(24))
        .await?
        .into_iter()
        .filter(|f| who.sees(&f.0))
        .collect();
    let refresh = chrono::Duration::from_std(state.config.screening_refresh)
        .unwrap_or(chrono::Duration::hours(1));
    let lists: Vec<(String, DateTime<Utc>, DateTime<Utc>, usize)> = state
        .screening
        .loaded
        .lock()
        .await
        .iter()
        .map(|l| {
            (
                l.source.name.clone(),
                l.loaded_at,
                l.checked_at,
                l.list.entries.len(),
            )
        })
        .collect();
    Ok(html! {
        h2 { "Webhooks" }
        div.grid {
            div.card #webhook-endpoints {
                h3 { "Endpoints failing or disabled" }
                @if endpoints.is_empty() { p.muted { "None: every endpoint delivers." } }
                @else { div.wrap { table {
                    thead { tr { th { "Endpoint" } th { "Organization" } th { "Env" } th { "State" } } }
                    tbody { @for e in &endpoints { tr {
                        td { code { (e.id) } br; span.muted { (e.url) } }
                        td { (e.organization_id) } td { (e.environment) }
                        td {
                            @if e.status == "disabled" {
                                span.badge.s-rejected { "disabled" }
                                @if let Some(r) = &e.disabled_reason { " " (r) }
                            } @else if let Some(f) = e.failing_since {
                                span.badge.s-on_hold { "failing" } " for " (age(now - f))
                            }
                        }
                    } } }
                } } }
            }
            div.card #failed-deliveries {
                h3 { "Deliveries failed in the last 24 hours" }
                @if failed.is_empty() { p.muted { "None." } }
                @else { div.wrap { table {
                    thead { tr { th { "Organization" } th { "Env" } th { "Failed" } } }
                    tbody { @for (org, env, n) in &failed { tr { td { (org) } td { (env) } td { strong { (n) } } } } }
                } } }
            }
        }
        h2 { "Screening lists" }
        div.card #screening-lists {
            @if lists.is_empty() { p.muted { "No screening list is loaded (KYCD_SCREENING_SOURCES)." } }
            @else { div.wrap { table {
                thead { tr { th { "List" } th { "Entries" } th { "Changed" } th { "Last read" } th { "Freshness" } } }
                tbody { @for (name, loaded, checked, n) in &lists { tr {
                    td { (name) } td { (n) } td { (when(loaded)) }
                    td { (when(checked)) " (" (age(now - *checked)) " ago)" }
                    td { @if now - *checked > refresh * 2 {
                        span.badge.s-rejected { "stale" } " not read for more than twice the refresh interval (" (age(refresh)) ")"
                    } @else { span.badge.s-active { "fresh" } } }
                } } }
            } } }
        }
    })
}

/// The case's latest events and webhook deliveries.
pub(super) async fn case(conn: &mut Conn, customer_id: &str) -> kycd_store::StoreResult<Markup> {
    let events = db::events_of(conn, customer_id, CASE_ROWS).await?;
    let deliveries = db::deliveries_of(conn, customer_id, CASE_ROWS).await?;
    Ok(html! {
        div.grid {
            div #case-events {
                h2 { "Events" }
                div.wrap { table {
                    thead { tr { th { "When" } th { "Event" } th { "Type" } } }
                    tbody {
                        @for e in &events { tr { td { (when(&e.created_at)) } td { code { (e.id) } } td { (e.event_type) } } }
                        @if events.is_empty() { tr { td colspan="3" .muted { "No events." } } }
                    }
                } }
            }
            div #case-deliveries {
                h2 { "Webhook deliveries" }
                div.wrap { table {
                    thead { tr { th { "Updated" } th { "Event type" } th { "Endpoint" } th { "Status" } th { "Attempts" } } }
                    tbody {
                        @for d in &deliveries { tr {
                            td { (when(&d.updated_at)) } td { (d.event_type) } td { code { (d.endpoint_id) } }
                            td { span class={"badge d-" (d.status)} { (d.status) } } td { (d.attempts) }
                        } }
                        @if deliveries.is_empty() { tr { td colspan="5" .muted { "No deliveries." } } }
                    }
                } }
            }
        }
    })
}
