//! The back office's HTML (maud: every value escaped by construction): a
//! dense frame for desktop that still reads at 375 px, the sign-in form, the
//! dashboard, the queue (with the four-eyes requests), search results, the
//! case with its action forms, a revealed identifier and the audit log.
//! The one style block is allowed by the response's CSP nonce; no script.

use super::audit_log::AuditQuery;
use super::{QueueItem, Signed};
use crate::service::documents::Document;
use chrono::{DateTime, Utc};
use kycd_core::capabilities::ProductAccess;
use kycd_core::customer::Customer;
use kycd_store::Scope;
use kycd_store::audit::Entry;
use kycd_store::customers::HistoryRow;
use kycd_store::four_eyes::Request;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::collections::{HashMap, HashSet};

const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f4f5f7}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.5rem 1rem;background:#1b1f24;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header form{margin:0}
header .who{margin-left:auto;font-size:12px;opacity:.85}
header input[type=search]{width:16rem;max-width:100%}
main{padding:1rem;max-width:1400px;margin:0 auto}
h1{font-size:20px;margin:.2rem 0 1rem}
h2{font-size:15px;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e5e8;vertical-align:top}
th{background:#eef0f3;font-weight:600}
.wrap{overflow-x:auto}
.card{background:#fff;border:1px solid #e3e5e8;border-radius:4px;padding:.75rem 1rem;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr));gap:1rem}
.card{min-width:0}
.card h2:first-child{margin-top:0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:0}
dt{color:#5b6470}dd{margin:0;min-width:0;overflow-wrap:anywhere}
td code{overflow-wrap:anywhere}
li,p{overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;background:#e3e5e8;font-size:12px}
.s-active,.d-succeeded{background:#d3f2dc}.d-failed{background:#f9d6d5}.d-pending{background:#fdf0c8}.s-rejected,.s-deactivated{background:#f9d6d5}.s-on_hold,.s-pending{background:#fdf0c8}
.flash{background:#d3f2dc;border:1px solid #9bd3ad;padding:.5rem .75rem;margin-bottom:1rem}
.error{background:#f9d6d5;border:1px solid #e4a09d;padding:.5rem .75rem;margin-bottom:1rem}
form.inline{display:inline}
.actions form{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.3rem 0}
.actions input,.actions select{max-width:100%;min-width:0}
input,select,button{font:inherit;padding:.3rem .5rem;border:1px solid #b8bec6;border-radius:3px;background:#fff}
button{cursor:pointer;background:#2d5bd3;color:#fff;border-color:#2d5bd3}
button.secondary{background:#fff;color:#1b1f24;border-color:#b8bec6}
button.danger{background:#b3261e;border-color:#b3261e}
label{display:block;margin:.5rem 0 .2rem}
.login{max-width:360px;margin:10vh auto;background:#fff;padding:1.5rem;border:1px solid #e3e5e8}
.login input{width:100%}
.muted{color:#5b6470}
.pager{margin:.75rem 0;display:flex;gap:1rem}
.revealed{font-size:18px;padding:.5rem;background:#fdf0c8;display:inline-block}
.filters{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end}
.filters label{margin:0;font-size:12px}
a{color:#2d5bd3}
.overdue{background:#f9d6d5;color:#8a1c15;font-weight:600}
.tag{display:inline-block;padding:0 .4rem;border-radius:8px;background:#dfe7fb;font-size:12px}
kbd{border:1px solid #b8bec6;border-radius:3px;padding:0 .25rem;font-size:12px;background:#fff}
button:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
img.doc{max-width:320px;max-height:240px;border:1px solid #e3e5e8;display:block}
@media (max-width:600px){main{padding:.5rem}header .who{margin-left:0}header input[type=search]{width:100%}header form[role=search]{flex:1 1 100%}}
"#;

pub(super) fn frame(nonce: &str, title: &str, who: Option<&Signed>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · kycd back office" }
                style nonce=(nonce) { (PreEscaped(CSS)) }
            }
            body {
                header {
                    a href="/admin" { "kycd back office" }
                    @if let Some(w) = who {
                        a href="/admin/queue" { "Queue" }
                        @if w.role == super::Role::Admin { a href="/admin/audit" { "Audit log" } }
                        a href="/admin/totp" { "Second factor" }
                        form method="get" action="/admin/customers" role="search" {
                            input type="search" name="q" aria-label="Search customers" placeholder="cus_…, external id, email";
                        }
                        span.who { (w.op.email) " · " (w.role.as_str())
                            @if let Some(o) = &w.op.organization_id { " · " (o) } }
                        form method="post" action="/admin/logout" {
                            input type="hidden" name="csrf" value=(w.csrf);
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// An enum's name as the API writes it (`individual`, `basic`…).
fn wire_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn badge(status: &str) -> Markup {
    html! { span class={"badge s-" (status)} { (status) } }
}

pub(super) fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn age(t: &DateTime<Utc>) -> String {
    duration(Utc::now() - *t)
}

/// "1d 2h", "3h 5m", "7m".
pub(super) fn duration(d: chrono::Duration) -> String {
    if d.num_days() > 0 {
        format!("{}d {}h", d.num_days(), d.num_hours() % 24)
    } else if d.num_hours() > 0 {
        format!("{}h {}m", d.num_hours(), d.num_minutes() % 60)
    } else {
        format!("{}m", d.num_minutes().max(0))
    }
}

pub fn message(nonce: &str, who: Option<&Signed>, title: &str, body: &str) -> Markup {
    frame(
        nonce,
        title,
        who,
        html! {
            h1 { (title) }
            div.card { p { (body) } p { a href="/admin" { "Back to the dashboard" } } }
        },
    )
}

pub fn login(nonce: &str, csrf: &str, note: Option<&str>, error: Option<&str>) -> Markup {
    frame(
        nonce,
        "Sign in",
        None,
        html! {
            div.login {
                h1 { "Sign in" }
                @if let Some(n) = note { p.flash role="status" { (n) } }
                @if let Some(e) = error { p.error role="alert" id="login-error" { (e) } }
                form method="post" action="/admin/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="email" { "Email" }
                    input id="email" name="email" type="email" autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    p { button type="submit" { "Sign in" } }
                }
            }
        },
    )
}

fn queue_table(items: &[QueueItem], with_reason: bool) -> Markup {
    html! {
        div.wrap { table {
            thead { tr {
                th { "Customer" } th { "Name" } th { "Status" }
                @if with_reason { th { "Waiting for" } th { "Age / target" } th { "Held by" } th { "Tags" } } @else { th { "Updated" } }
                th { "Organization" } th { "Env" }
            } }
            tbody {
                @for i in items {
                    tr {
                        td { a href={"/admin/customers/" (i.id)} { (i.id) } }
                        td { (i.name.as_deref().unwrap_or("—")) }
                        td { (badge(&i.status)) }
                        @if with_reason {
                            td { (i.reason) }
                            (super::team::age_cell(&i.team))
                            (super::team::team_cells(&i.team))
                        } @else {
                            td { (when(&i.since)) }
                        }
                        td { (i.organization_id) }
                        td { (i.environment) }
                    }
                }
                @if items.is_empty() { tr { td colspan="10" .muted { "Nothing here." } } }
            }
        } }
    }
}

/// What the dashboard shows.
pub struct Dashboard<'a> {
    pub nonce: &'a str,
    pub who: &'a Signed,
    /// Customers by (organization, environment, status).
    pub counts: &'a [(String, String, String, i64)],
    /// The queue, annotated with ages.
    pub queue: &'a [QueueItem],
    pub requests: &'a Requests,
    pub targets: &'a super::team::Targets,
    pub health: Markup,
}

/// Per queue reason: cases waiting, and how many are over the reason's
/// target, linked to the queue filtered to them.
fn overdue_table(d: &Dashboard<'_>) -> Markup {
    use super::team::REASONS;
    html! {
        table.overdue-by-reason {
            thead { tr { th { "Waiting for" } th { "Cases" } th { "Over target" } } }
            tbody {
                @for r in &REASONS[..4] {
                    @let waiting = d.queue.iter().filter(|i| i.team.codes.contains(r)).count();
                    @let over = d.queue.iter().filter(|i| i.team.over(d.targets, r)).count();
                    tr {
                        td { (r.replace('_', " ")) span.muted { " (" (d.targets.hours(r).unwrap_or_default()) " h)" } }
                        td { (waiting) }
                        td {
                            @if over > 0 {
                                a.overdue href={"/admin/queue?reason=" (r) "&overdue=1"} data-overdue-reason=(r) { (over) " over" }
                            } @else {
                                span.muted data-overdue-reason=(r) { "0" }
                            }
                        }
                    }
                }
                @let waiting = d.requests.list.iter().filter(|q| !d.requests.expired.contains(&q.id)).count();
                @let over = d.requests.overdue.len();
                tr {
                    td { "four eyes" span.muted { " (" (d.targets.four_eyes) " h)" } }
                    td { (waiting) }
                    td {
                        @if over > 0 {
                            a.overdue href="/admin/queue?show=four_eyes" data-overdue-reason="four_eyes" { (over) " over" }
                        } @else {
                            span.muted data-overdue-reason="four_eyes" { "0" }
                        }
                    }
                }
            }
        }
    }
}

pub fn dashboard(d: &Dashboard<'_>) -> Markup {
    let (queue, requests, counts) = (d.queue, d.requests, d.counts);
    // Ages on each case's scope clock (the sandbox's may run ahead).
    let oldest = queue.iter().filter_map(|q| q.team.age).max();
    let over = queue.iter().filter(|i| i.team.overdue()).count();
    frame(
        d.nonce,
        "Dashboard",
        Some(d.who),
        html! {
            h1 { "Dashboard" }
            div.grid {
                div.card {
                    h2 { "Queue" }
                    p { strong { (queue.len()) } " cases wait for a person"
                        @if let Some(o) = oldest { "; the oldest for " (duration(o)) } "." }
                    p { strong #overdue-count { (over) } " over their target time"
                        @if over > 0 { " (" a href="/admin/queue?overdue=1" { "show them" } ")" } "." }
                    (overdue_table(d))
                    p { a href="/admin/queue" { "Open the queue" } }
                }
                div.card {
                    h2 { "Four-eyes requests" }
                    p { strong #four-eyes-count { (requests.list.iter().filter(|r| !requests.expired.contains(&r.id)).count()) } " requests wait for a second admin." }
                    p { a href="/admin/queue?show=four_eyes" { "Open them" } }
                }
            }
            h2 { "Customers by status" }
            div.wrap { table {
                thead { tr { th { "Organization" } th { "Environment" } th { "Status" } th { "Customers" } } }
                tbody {
                    @for (o, e, s, n) in counts {
                        tr { td { (o) } td { (e) } td { (badge(s)) } td { (n) } }
                    }
                    @if counts.is_empty() { tr { td colspan="4" .muted { "No customers yet." } } }
                }
            } }
            (d.health)
        },
    )
}

pub struct QueuePage<'a> {
    pub nonce: &'a str,
    pub who: &'a Signed,
    pub items: &'a [QueueItem],
    pub total: usize,
    pub page: usize,
    pub has_more: bool,
    pub organization: &'a str,
    pub environment: &'a str,
    pub requests: &'a Requests,
    /// Only the four-eyes requests.
    pub four_eyes_only: bool,
    pub filters: &'a super::team::Filters,
    pub targets: &'a super::team::Targets,
}

/// Undecided four-eyes requests, with the operators' emails.
pub struct Requests {
    pub list: Vec<Request>,
    pub emails: HashMap<String, String>,
    /// The ids of those past their deadline (on their scope's clock).
    pub expired: HashSet<String>,
    /// The ids of those (not expired) past the four-eyes target time.
    pub overdue: HashSet<String>,
}

fn email<'a>(emails: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    emails.get(id).map(String::as_str).unwrap_or(id)
}

/// An action's name as a person reads it.
fn spoken(action: &str) -> String {
    action.replace('_', " ")
}

/// Where a request stands.
fn request_state(r: &Request, expired: bool) -> String {
    match &r.outcome {
        Some(o) => o.clone(),
        None if expired => "expired".into(),
        None => "waiting".into(),
    }
}

/// The approve / decline buttons of an undecided request (for an admin; the
/// requester only withdraws).
fn decide_forms(who: &Signed, r: &Request, expired: bool) -> Markup {
    html! {
        @if r.outcome.is_none() && who.role == super::Role::Admin {
            @if r.requested_by != who.op.id && !expired {
                form.inline method="post" action={"/admin/requests/" (r.id) "/approve"} {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button type="submit" data-request=(r.id) data-decision="approve" { "Approve" }
                }
                " "
            }
            form.inline method="post" action={"/admin/requests/" (r.id) "/decline"} {
                input type="hidden" name="csrf" value=(who.csrf);
                button.secondary type="submit" data-request=(r.id) data-decision="decline" {
                    @if r.requested_by == who.op.id { "Withdraw" } @else { "Decline" }
                }
            }
        }
    }
}

/// The four-eyes requests as a table (`with_customer`: in the queue).
fn requests_table(
    who: &Signed,
    list: &[Request],
    emails: &HashMap<String, String>,
    expired: &HashSet<String>,
    with_customer: bool,
    targets: Option<&super::team::Targets>,
) -> Markup {
    html! {
        div.wrap { table #four-eyes {
            thead { tr {
                th { "Request" }
                @if with_customer { th { "Customer" } th { "Env" } }
                th { "Action" } th { "Asked by" } th { "Note" } th { "Asked" } th { "Expires" } th { "State" } th {}
            } }
            tbody {
                @for r in list { @let gone = expired.contains(&r.id); tr {
                    td { code { (r.id) } }
                    @if with_customer {
                        td { a href={"/admin/customers/" (r.customer_id)} { (r.customer_id) } }
                        td { (r.environment) }
                    }
                    td { (spoken(&r.action)) }
                    td { (email(emails, &r.requested_by)) }
                    td { (r.note.as_deref().unwrap_or("—")) }
                    td title=(when(&r.created_at)) { (age(&r.created_at)) " ago"
                        @if let (Some(t), None) = (targets, &r.outcome) { br; (super::team::four_eyes_age(t, r.created_at, Utc::now())) } }
                    td { (when(&r.expires_at)) }
                    td { (badge(&request_state(r, gone)))
                        @if let Some(d) = &r.decided_by { " by " (email(emails, d)) } }
                    td.actions {
                        (decide_forms(who, r, gone))
                        @if r.action == "reveal_identifier" && r.outcome.as_deref() == Some("approved")
                            && r.revealed_at.is_none() && r.requested_by == who.op.id && !gone {
                            form.inline method="post" action={"/admin/requests/" (r.id) "/reveal"} {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button.danger type="submit" data-request=(r.id) data-decision="reveal" { "Show once" }
                            }
                        }
                    }
                } }
                @if list.is_empty() { tr { td colspan="11" .muted { "No four-eyes requests." } } }
            }
        } }
    }
}

pub fn queue(p: &QueuePage<'_>) -> Markup {
    let link = |page: usize| {
        format!(
            "/admin/queue?organization={}&environment={}&page={page}{}",
            p.organization,
            p.environment,
            p.filters.query()
        )
    };
    frame(
        p.nonce,
        "Queue",
        Some(p.who),
        html! {
            @if p.four_eyes_only {
                h1 #four-eyes-requests { "Four-eyes requests " span.muted { "(" (p.requests.list.len()) " undecided)" } }
                (requests_table(p.who, &p.requests.list, &p.requests.emails, &p.requests.expired, true, Some(p.targets)))
                p { a href="/admin/queue" { "The whole queue" } }
            } @else {
            h1 { "Queue " span.muted { "(" (p.total) ", oldest first)" } }
            form.actions method="get" action="/admin/queue" {
                div {
                    @if p.who.op.organization_id.is_none() {
                        input name="organization" aria-label="Organization" placeholder="org_…" value=(p.organization);
                    }
                    select name="environment" aria-label="Environment" {
                        option value="" selected[p.environment.is_empty()] { "All environments" }
                        option value="live" selected[p.environment == "live"] { "live" }
                        option value="sandbox" selected[p.environment == "sandbox"] { "sandbox" }
                    }
                    (super::team::filter_inputs(p.filters))
                    button.secondary type="submit" { "Filter" }
                    a #export-csv href={"/admin/queue/export.csv?organization=" (p.organization) "&environment=" (p.environment) (p.filters.query())} { "Export CSV" }
                }
            }
            (queue_table(p.items, true))
            div.pager {
                @if p.page > 1 { a href=(link(p.page - 1)) { "← Previous" } }
                span.muted { "Page " (p.page) }
                @if p.has_more { a href=(link(p.page + 1)) { "Next →" } }
            }
            h2 #four-eyes-requests { "Four-eyes requests " span.muted { "(" (p.requests.list.len()) " undecided) " } a href="/admin/queue?show=four_eyes" { "only these" } }
            (requests_table(p.who, &p.requests.list, &p.requests.emails, &p.requests.expired, true, Some(p.targets)))
            }
        },
    )
}

pub fn search(nonce: &str, who: &Signed, q: &str, found: &[QueueItem]) -> Markup {
    frame(
        nonce,
        "Search",
        Some(who),
        html! {
            h1 { "Search" }
            form.actions method="get" action="/admin/customers" {
                div {
                    input type="search" name="q" value=(q) aria-label="Search" placeholder="cus_…, external id, email";
                    button type="submit" { "Search" }
                }
            }
            @if !q.is_empty() { (queue_table(found, false)) }
        },
    )
}

/// Everything the case page shows.
pub struct CaseData {
    pub customer: Customer,
    pub documents: Vec<Document>,
    pub access: Vec<ProductAccess>,
    pub history: Vec<HistoryRow>,
    pub audit: Vec<(String, String, String, DateTime<Utc>)>,
    /// The case's four-eyes requests, newest first.
    pub requests: Vec<Request>,
    pub emails: HashMap<String, String>,
    /// Each document's one-time inline link (`admin/documents.rs`).
    pub doc_links: HashMap<String, String>,
    /// The latest events and webhook deliveries (`admin/health.rs`).
    pub activity: Markup,
    /// The scope's clock (requests expire on it).
    pub now: DateTime<Utc>,
    /// The team panel (holder, tags, age, notes, shortcut keys).
    pub team: Markup,
}

/// One action form: the CSRF token, hidden fields, optional extra inputs and a note.
fn action_form(
    who: &Signed,
    id: &str,
    action: &str,
    label: &str,
    class: &str,
    hidden: &[(&str, &str)],
    extra: Markup,
) -> Markup {
    html! {
        form method="post" action={"/admin/customers/" (id) "/actions/" (action)} {
            input type="hidden" name="csrf" value=(who.csrf);
            @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
            (extra)
            input name="note" aria-label={"Note for " (label)} placeholder="note (optional)";
            button class=(class) type="submit" data-action=(action) { (label) }
        }
    }
}

pub fn case(nonce: &str, who: &Signed, scope: &Scope, d: &CaseData, done: Option<&str>) -> Markup {
    let c = &d.customer;
    let id = c.id.as_str();
    let can_decide = who.role != super::Role::Viewer;
    let expired: HashSet<String> = d
        .requests
        .iter()
        .filter(|r| r.expires_at <= d.now)
        .map(|r| r.id.clone())
        .collect();
    let ind = c.individual.as_ref();
    let biz = c.business.as_ref();
    frame(
        nonce,
        id,
        Some(who),
        html! {
            @if let Some(a) = done { p.flash role="status" { "Done: " (a.replace('_', " ")) "." } }
            h1 { (c.display_name().unwrap_or_else(|| id.to_string())) " " (badge(c.status.as_str())) }
            div.grid {
                div.card {
                    h2 { "Customer" }
                    dl {
                        dt { "Id" } dd { code { (id) } }
                        dt { "External id" } dd { (c.external_id.as_deref().unwrap_or("—")) }
                        dt { "Type" } dd { (wire_name(&c.customer_type)) }
                        dt { "Organization" } dd { (scope.organization_id) " · " (scope.environment) }
                        @if let Some(i) = ind {
                            dt { "Date of birth" } dd { (i.date_of_birth.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) }
                            dt { "Nationality" } dd { (i.nationality.as_deref().unwrap_or("—")) }
                            dt { "Email" } dd { (i.email.as_deref().unwrap_or("—")) }
                        }
                        @if let Some(b) = biz {
                            dt { "Legal name" } dd { (b.legal_name.as_deref().unwrap_or("—")) }
                        }
                        @for (n, idf) in c.identifiers.iter().enumerate() {
                            dt { (idf.kind) } dd { "•••• " (idf.last4) @if let Some(k) = &idf.country { " (" (k) ")" }
                                @if can_decide {
                                    form.actions method="post" action={"/admin/customers/" (id) "/actions/reveal_identifier"} {
                                        input type="hidden" name="csrf" value=(who.csrf);
                                        input type="hidden" name="identifier" value=(n);
                                        input name="reason" aria-label={"Why reveal the " (idf.kind)} placeholder="reason (required, audited)" required;
                                        button.secondary type="submit" data-action="reveal_identifier" data-identifier=(n) {
                                            @if scope.is_live() { "Ask to reveal" } @else { "Reveal" }
                                        }
                                    }
                                }
                            }
                        }
                        @if let Some(a) = c.primary_address() {
                            dt { "Country" } dd { (a.country) }
                        }
                        dt { "Created" } dd { (when(&c.created_at)) }
                        dt { "Updated" } dd { (when(&c.updated_at)) }
                    }
                }
                div.card {
                    h2 { "Verification" }
                    dl {
                        dt { "Level" } dd { (wire_name(&c.verification.level)) }
                        @if let Some(r) = &c.verification.rejection_reason { dt { "Rejection" } dd { (r.as_str()) } }
                        dt { "Missing" } dd { @if c.verification.requirements.missing.is_empty() { "—" } @else { (c.verification.requirements.missing.join(", ")) } }
                        @if let Some(t) = &c.verification.approved_at { dt { "Approved" } dd { (when(t)) } }
                        @if let Some(t) = &c.verification.expires_at { dt { "Expires" } dd { (when(t)) } }
                    }
                    @if !c.verification.requirements.issues.is_empty() {
                        h2 { "Issues" }
                        ul { @for i in &c.verification.requirements.issues {
                            li { code { (i.code) } " " (i.message) @if let Some(p) = &i.param { " (" (p) ")" } }
                        } }
                    }
                }
            }
            (d.team)
            @if can_decide {
                div.card.actions {
                    h2 { "Decide" }
                    (action_form(who, id, "approve", "Approve", "", &[], html!{}))
                    (action_form(who, id, "reject", "Reject", "danger", &[], html!{
                        select name="rejection_reason" aria-label="Rejection reason" {
                            @for r in ["data_mismatch", "document_unreadable", "document_expired", "sanctions_match", "fraud_suspected", "underage", "duplicate", "unsupported_country"] {
                                option value=(r) { (r) }
                            }
                        }
                    }))
                    (action_form(who, id, "request_information", "Request information", "secondary", &[], html!{
                        input name="missing" aria-label="Missing requirement codes" placeholder="requirement codes, comma-separated" required;
                    }))
                    (action_form(who, id, "hold", "Hold", "secondary", &[], html!{}))
                    (action_form(who, id, "release", "Release hold", "secondary", &[], html!{}))
                    @if who.role == super::Role::Admin {
                        (action_form(who, id, "deactivate", "Deactivate", "danger", &[], html!{
                            select name="reason" aria-label="Deactivation reason" {
                                option value="deactivated" { "deactivated" }
                                option value=(crate::service::lifecycle::COMPLIANCE_REASON) { "compliance (reactivation needs a second admin)" }
                                option value="customer_request" { "customer request" }
                            }
                        }))
                        (action_form(who, id, "reactivate", "Reactivate", "secondary", &[], html!{}))
                        @if c.status == kycd_core::status::CustomerStatus::Rejected {
                            (action_form(who, id, "overturn_rejection", "Overturn rejection", "danger", &[], html!{}))
                        }
                    }
                    (action_form(who, id, "note", "Add note", "secondary", &[], html!{}))
                }
            }
            @if !c.verification.screening_matches.is_empty() {
                h2 { "Screening matches" }
                div.wrap { table {
                    thead { tr { th { "List" } th { "Entry" } th { "Listed name" } th { "Matched" } th { "Score" } th { "Programs" } th { "Subject" } th {} } }
                    tbody { @for h in &c.verification.screening_matches { tr {
                        td { (h.list) } td { (h.entry_id) } td { (h.name) } td { (h.matched_name) }
                        td { (format!("{:.2}", h.score)) }
                        td { (h.programs.join(", ")) @if h.pep { " PEP" } }
                        td { (h.subject) }
                        td.actions { @if can_decide {
                            (action_form(who, id, "dismiss_match", "Dismiss", "secondary", &[("match_id", &h.entry_id)], html!{}))
                            (action_form(who, id, "confirm_match", "Confirm", "danger", &[("match_id", &h.entry_id)], html!{}))
                        } }
                    } } }
                } }
            }
            h2 { "Documents" }
            div.wrap { table {
                thead { tr { th { "Document" } th { "Type" } th { "Side" } th { "Status" } th { "Uploaded" } th { "View" } th {} } }
                tbody {
                    @for doc in &d.documents { tr {
                        td { code { (doc.id) } } td { (doc.doc_type) } td { (doc.side.as_deref().unwrap_or("—")) }
                        td { (badge(&doc.status)) } td { (when(&doc.created_at)) }
                        td.doc-view { @if let Some(u) = d.doc_links.get(&doc.id) {
                            @if doc.content_type.starts_with("image/") {
                                img.doc src=(u) alt={"Document " (doc.id)};
                            } @else {
                                a href=(u) target="_blank" rel="noopener" { "Open the PDF" }
                            }
                        } }
                        td.actions { @if can_decide && doc.status == "pending" {
                            (action_form(who, id, "document_accept", "Accept", "", &[("document_id", &doc.id)], html!{}))
                            (action_form(who, id, "document_reject", "Reject", "danger", &[("document_id", &doc.id)], html!{}))
                        } }
                    } }
                    @if d.documents.is_empty() { tr { td colspan="7" .muted { "No documents." } } }
                }
            } }
            h2 { "Product access" }
            div.wrap { table {
                thead { tr { th { "Request" } th { "Product" } th { "Status" } th {} } }
                tbody {
                    @for pa in &d.access { tr {
                        td { code { (pa.id) } }
                        td { (wire_name(&pa.product)) }
                        td { (badge(pa.status.as_str())) @if pa.suspended { " suspended" } }
                        td.actions { @if can_decide && pa.status.as_str() == "pending" {
                            (action_form(who, id, "grant_product", "Grant", "", &[("product_access_id", &pa.id)], html!{}))
                            (action_form(who, id, "reject_product", "Reject", "danger", &[("product_access_id", &pa.id)], html!{}))
                        } }
                    } }
                    @if d.access.is_empty() { tr { td colspan="4" .muted { "No product access requests." } } }
                }
            } }
            h2 { "Four-eyes requests" }
            (requests_table(who, &d.requests, &d.emails, &expired, false, None))
            (d.activity)
            h2 { "Status history" }
            div.wrap { table {
                thead { tr { th { "When" } th { "From" } th { "To" } th { "Reason" } th { "Actor" } } }
                tbody { @for h in &d.history { tr {
                    td { (when(&h.at)) } td { (h.from_status.as_deref().unwrap_or("—")) } td { (badge(&h.to_status)) }
                    td { (h.reason) } td { code { (h.actor) } }
                } } }
            } }
            h2 { "Audit trail" }
            div.wrap { table {
                thead { tr { th { "When" } th { "Action" } th { "Actor" } th { "Details" } } }
                tbody {
                    @for (actor, action, details, at) in &d.audit { tr {
                        td { (when(at)) } td { (action) } td { code { (actor) } } td { code { (details) } }
                    } }
                    @if d.audit.is_empty() { tr { td colspan="4" .muted { "Nothing recorded." } } }
                }
            } }
        },
    )
}

/// The answer to an action that needs a second admin.
pub fn four_eyes_waiting(nonce: &str, who: &Signed, r: &Request, why: &str) -> Markup {
    frame(
        nonce,
        "Waiting for a second admin",
        Some(who),
        html! {
            h1 { "Waiting for a second admin" }
            div.card {
                p role="status" #four-eyes-waiting { "Four eyes: " (why) " needs a second admin. Your request "
                    code { (r.id) } " (" (spoken(&r.action)) " on " (r.customer_id) ") waits for another admin to approve it until "
                    (r.expires_at.format("%Y-%m-%d %H:%M UTC")) "." }
                p { "It shows in the " a href="/admin/queue?show=four_eyes" { "queue's four-eyes requests" } " and on the "
                    a href={"/admin/customers/" (r.customer_id)} { "case" } "." }
            }
        },
    )
}

/// One identifier in full, shown once.
pub fn revealed(
    nonce: &str,
    who: &Signed,
    c: &Customer,
    index: usize,
    value: &str,
    reason: &str,
) -> Markup {
    let i = &c.identifiers[index];
    frame(
        nonce,
        "Identifier",
        Some(who),
        html! {
            h1 { (i.kind) @if let Some(k) = &i.country { " (" (k) ")" } " of " (c.id) }
            div.card {
                p { code.revealed #revealed-value { (value) } }
                p.muted { "Shown once for: " (reason) ". This view is in the audit log; the page is not cached." }
                p { a href={"/admin/customers/" (c.id)} { "Back to the case" } }
            }
        },
    )
}

/// The audit log page.
pub struct AuditPage<'a> {
    pub nonce: &'a str,
    pub who: &'a Signed,
    pub entries: &'a [Entry],
    pub query: &'a AuditQuery,
    /// The next page's query string.
    pub next: Option<&'a str>,
    /// The export's query string (the same filters).
    pub export: &'a str,
}

pub fn audit(p: &AuditPage<'_>) -> Markup {
    let q = p.query;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    frame(
        p.nonce,
        "Audit log",
        Some(p.who),
        html! {
            h1 { "Audit log " span.muted { "(newest first)" } }
            form.filters method="get" action="/admin/audit" {
                div { label for="f-actor" { "Actor" } input #f-actor name="actor" placeholder="operator:op_…" value=(v(&q.actor)); }
                div { label for="f-customer" { "Customer" } input #f-customer name="customer" placeholder="cus_…" value=(v(&q.customer)); }
                div { label for="f-action" { "Action" } input #f-action name="action" placeholder="admin.approve" value=(v(&q.action)); }
                div { label for="f-from" { "From" } input #f-from name="from" type="date" value=(v(&q.from)); }
                div { label for="f-to" { "To" } input #f-to name="to" type="date" value=(v(&q.to)); }
                div { button.secondary type="submit" { "Filter" } }
                div { a href={"/admin/audit/export.jsonl?" (p.export)} { "Export JSON Lines" } }
            }
            div.wrap { table #audit {
                thead { tr { th { "When" } th { "Actor" } th { "Action" } th { "Customer" } th { "Scope" } th { "Details" } th { "Seq" } } }
                tbody {
                    @for e in p.entries { tr data-id=(e.id) {
                        td { (when(&kycd_store::from_micros(e.at))) }
                        td { code { (e.actor) } }
                        td { (e.action) }
                        td { @if let Some(r) = &e.resource_id {
                            @if r.starts_with("cus_") { a href={"/admin/customers/" (r)} { (r) } } @else { (r) }
                        } @else { "—" } }
                        td { (e.organization_id) " · " (e.environment) }
                        td { code { (e.details) } }
                        td { (e.seq.map(|s| s.to_string()).unwrap_or_else(|| "…".into())) }
                    } }
                    @if p.entries.is_empty() { tr { td colspan="7" .muted { "No entries match." } } }
                }
            } }
            div.pager {
                @if let Some(n) = p.next { a href={"/admin/audit?" (n)} { "Older →" } }
            }
        },
    )
}
