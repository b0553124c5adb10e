//! Working the queue as a team (issue 15 item 4): an operator claims a case
//! and releases it (an admin may reassign it or release anyone's), tags it;
//! the queue shows the holder, the tags and each case's age against the
//! target time of its queue (`--queue-target-hours`), filters on "mine",
//! "unassigned", a tag, a reason and "over target", and exports the
//! filtered rows as CSV.
//! The case view carries the team panel (holder, tags, internal notes, age)
//! and the keyboard shortcuts' script. Every change and every export is in
//! the audit log; none of it is ever sent to the platform.

use super::operators::Role;
use super::{
    Fields, QueueItem, Signed, allowed, case_context, fail, field, message, queue_items,
    signed_form, signed_in,
};
use crate::service::{self, OperationContext};
use crate::state::AppState;
use crate::web::{or_page, security_headers, see_other};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use kycd_core::customer::Customer;
use kycd_store::Scope;
use kycd_store::case_claims as db;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// The reasons a case waits for a person, as the queue's filter and the
/// target times name them.
pub const REASONS: [&str; 5] = [
    "on_hold",
    "awaiting_review",
    "documents_in_review",
    "product_access",
    "four_eyes",
];

/// The longest a tag may be (characters).
const TAG_MAX: usize = 40;

/// Target hours per queue reason (`--queue-target-hours`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub on_hold: i64,
    pub awaiting_review: i64,
    pub documents_in_review: i64,
    pub product_access: i64,
    pub four_eyes: i64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            on_hold: 24,
            awaiting_review: 48,
            documents_in_review: 24,
            product_access: 72,
            four_eyes: 24,
        }
    }
}

impl Targets {
    /// The target of one reason, in hours.
    pub fn hours(&self, reason: &str) -> Option<i64> {
        Some(match reason {
            "on_hold" => self.on_hold,
            "awaiting_review" => self.awaiting_review,
            "documents_in_review" => self.documents_in_review,
            "product_access" => self.product_access,
            "four_eyes" => self.four_eyes,
            _ => return None,
        })
    }

    fn slot(&mut self, reason: &str) -> Option<&mut i64> {
        Some(match reason {
            "on_hold" => &mut self.on_hold,
            "awaiting_review" => &mut self.awaiting_review,
            "documents_in_review" => &mut self.documents_in_review,
            "product_access" => &mut self.product_access,
            "four_eyes" => &mut self.four_eyes,
            _ => return None,
        })
    }
}

/// Parses `reason=hours,…` over the defaults (an empty text keeps them all).
pub fn parse_targets(s: &str) -> Result<Targets, String> {
    let mut t = Targets::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (reason, hours) = part
            .split_once('=')
            .ok_or_else(|| format!("expected reason=hours, got {part:?}"))?;
        let reason = reason.trim();
        let hours: i64 = hours
            .trim()
            .parse()
            .ok()
            .filter(|h| (1..=8760).contains(h))
            .ok_or_else(|| format!("{reason}: hours must be a whole number from 1 to 8760"))?;
        let slot = t.slot(reason).ok_or_else(|| {
            format!(
                "unknown queue reason {reason:?} (one of {})",
                REASONS.join(", ")
            )
        })?;
        *slot = hours;
    }
    Ok(t)
}

/// The reasons a customer waits for a person (`waiting_reason` in words).
pub(super) fn reason_codes(c: &Customer, pending_access: i64) -> Vec<&'static str> {
    use kycd_core::status::CustomerStatus;
    let mut codes = vec![];
    if c.status == CustomerStatus::OnHold {
        codes.push("on_hold");
    }
    if c.status == CustomerStatus::Pending {
        for i in &c.verification.requirements.issues {
            match i.code.as_str() {
                "documents_in_review" if !codes.contains(&"documents_in_review") => {
                    codes.push("documents_in_review")
                }
                "awaiting_review" if !codes.contains(&"awaiting_review") => {
                    codes.push("awaiting_review")
                }
                _ => {}
            }
        }
    }
    if pending_access > 0 {
        codes.push("product_access");
    }
    codes
}

/// What the team sees of a queue row besides the case itself.
#[derive(Debug, Default, Clone)]
pub struct Row {
    /// Why it waits (`REASONS`).
    pub codes: Vec<&'static str>,
    /// The holder's operator id and email.
    pub holder: Option<(String, String)>,
    pub tags: Vec<String>,
    /// How long it has waited, on its scope's clock.
    pub age: Option<chrono::Duration>,
    /// The strictest target of its reasons, in hours.
    pub target_hours: Option<i64>,
}

impl Row {
    pub fn new(codes: Vec<&'static str>) -> Row {
        Row {
            codes,
            ..Row::default()
        }
    }

    pub fn overdue(&self) -> bool {
        matches!((self.age, self.target_hours), (Some(a), Some(t)) if a > chrono::Duration::hours(t))
    }

    /// Whether it waited longer than the target of `reason` (one of its
    /// codes; another reason: no), or with no reason ("") than its strictest.
    pub fn over(&self, targets: &Targets, reason: &str) -> bool {
        if reason.is_empty() {
            return self.overdue();
        }
        let target = self
            .codes
            .contains(&reason)
            .then(|| targets.hours(reason))
            .flatten();
        matches!((self.age, target), (Some(a), Some(t)) if a > chrono::Duration::hours(t))
    }

    fn age_hours(&self) -> Option<i64> {
        self.age.map(|a| a.num_hours().max(0))
    }
}

/// "3 h of 24 h" (minutes under an hour).
pub fn age_text(age: chrono::Duration, target_hours: i64) -> String {
    let shown = if age.num_hours() >= 1 {
        format!("{} h", age.num_hours())
    } else {
        format!("{} min", age.num_minutes().max(0))
    };
    format!("{shown} of {target_hours} h")
}

/// The age cell of a queue row: "3 h of 24 h", marked when over.
pub fn age_cell(r: &Row) -> Markup {
    html! {
        @match (r.age, r.target_hours) {
            (Some(a), Some(t)) => {
                @if r.overdue() {
                    td.overdue data-overdue="true" { (age_text(a, t)) " · over" }
                } @else {
                    td data-overdue="false" { (age_text(a, t)) }
                }
            }
            _ => { td { "—" } }
        }
    }
}

/// The holder and tag cells of a queue row.
pub fn team_cells(r: &Row) -> Markup {
    html! {
        td.holder { @if let Some((_, e)) = &r.holder { (e) } @else { span.muted { "unassigned" } } }
        td { @for t in &r.tags { span.tag { (t) } " " } }
    }
}

/// The age of a four-eyes request against its target.
pub fn four_eyes_age(targets: &Targets, created: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let age = now - created;
    let over = age > chrono::Duration::hours(targets.four_eyes);
    html! {
        span class=[over.then_some("overdue")] data-overdue=(over) { (age_text(age, targets.four_eyes)) @if over { " · over" } }
    }
}

/// Adds holders, tags and ages (on each scope's clock) to queue rows.
async fn annotate(state: &AppState, who: &Signed, items: &mut [QueueItem]) -> Result<(), Response> {
    let targets = state.config.queue_target_hours;
    let mut conn = state.store.reader().await.map_err(fail)?;
    let claims = db::all_claims(&mut conn).await.map_err(fail)?;
    let mut tags = db::all_tags(&mut conn).await.map_err(fail)?;
    let emails = super::operator_emails(&mut conn).await.map_err(fail)?;
    drop(conn);
    let mut clocks: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    for i in items.iter_mut() {
        let key = (i.organization_id.clone(), i.environment.clone());
        if !clocks.contains_key(&key) {
            let scope = Scope::new(&i.organization_id, &i.environment);
            let cx = service::context_for(state, &scope, who.actor())
                .await
                .map_err(fail)?;
            clocks.insert(key.clone(), cx.now);
        }
        let now = clocks[&key];
        i.team.holder = claims.get(&i.id).map(|c| {
            let email = emails
                .get(&c.operator_id)
                .cloned()
                .unwrap_or_else(|| c.operator_id.clone());
            (c.operator_id.clone(), email)
        });
        i.team.tags = tags.remove(&i.id).unwrap_or_default();
        i.team.age = Some(now - i.since);
        i.team.target_hours = i.team.codes.iter().filter_map(|c| targets.hours(c)).min();
    }
    Ok(())
}

/// The queue's team filters, as its form and links send them.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    /// `mine` or `unassigned`.
    pub claim: String,
    pub tag: String,
    /// One of `REASONS` (four_eyes excepted: those have their own list).
    pub reason: String,
    /// Only the cases over their target (the reason's, if one is chosen).
    pub overdue: bool,
}

impl Filters {
    pub fn new(
        claim: Option<&str>,
        tag: Option<&str>,
        reason: Option<&str>,
        overdue: Option<&str>,
    ) -> Filters {
        Filters {
            overdue: matches!(overdue, Some("1" | "true" | "on")),
            claim: claim
                .filter(|c| *c == "mine" || *c == "unassigned")
                .unwrap_or("")
                .into(),
            tag: tag.map(normal_tag).unwrap_or_default(),
            reason: reason.filter(|r| REASONS.contains(r)).unwrap_or("").into(),
        }
    }

    fn keeps(&self, who: &Signed, targets: &Targets, i: &QueueItem) -> bool {
        let claim_ok = match self.claim.as_str() {
            "mine" => i.team.holder.as_ref().is_some_and(|h| h.0 == who.op.id),
            "unassigned" => i.team.holder.is_none(),
            _ => true,
        };
        claim_ok
            && (self.tag.is_empty() || i.team.tags.contains(&self.tag))
            && (self.reason.is_empty() || i.team.codes.contains(&self.reason.as_str()))
            && (!self.overdue || i.team.over(targets, &self.reason))
    }

    /// These filters as query pairs (`&`-joined, for links), leading `&`.
    pub fn query(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("claim", self.claim.as_str()),
            ("tag", self.tag.as_str()),
            ("reason", self.reason.as_str()),
            ("overdue", if self.overdue { "1" } else { "" }),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        if pairs.is_empty() {
            return String::new();
        }
        format!(
            "&{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }

    fn recorded(&self) -> serde_json::Value {
        let o = |s: &str| (!s.is_empty()).then(|| s.to_string());
        json!({"claim": o(&self.claim), "tag": o(&self.tag), "reason": o(&self.reason), "overdue": self.overdue})
    }
}

/// The queue's team filter fields (inside its form).
pub fn filter_inputs(f: &Filters) -> Markup {
    html! {
        select name="claim" aria-label="Held by" {
            option value="" selected[f.claim.is_empty()] { "Anyone's" }
            option value="mine" selected[f.claim == "mine"] { "Mine" }
            option value="unassigned" selected[f.claim == "unassigned"] { "Unassigned" }
        }
        select name="reason" aria-label="Waiting for" {
            option value="" selected[f.reason.is_empty()] { "Any reason" }
            @for r in &REASONS[..4] { option value=(r) selected[f.reason == *r] { (r.replace('_', " ")) } }
        }
        input name="tag" aria-label="Tag" placeholder="tag" value=(f.tag);
        label.check { input type="checkbox" name="overdue" value="1" checked[f.overdue]; " over target" }
    }
}

/// The queue after `queue_items`, annotated and filtered.
pub(super) async fn filtered_queue(
    state: &AppState,
    who: &Signed,
    org: Option<&str>,
    env: Option<&str>,
    f: &Filters,
) -> Result<Vec<QueueItem>, Response> {
    let mut items = queue_items(state, who, org, env).await?;
    annotate(state, who, &mut items).await?;
    let targets = state.config.queue_target_hours;
    Ok(items
        .into_iter()
        .filter(|i| f.keeps(who, &targets, i))
        .collect())
}

fn normal_tag(t: &str) -> String {
    t.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(TAG_MAX)
        .collect::<String>()
        .to_lowercase()
}

// ---- routes --------------------------------------------------------------------

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/queue/export.csv", get(export))
        .route("/admin/queue/next", get(next_case))
        .route("/admin/customers/{id}/claim", post(claim))
        .route("/admin/customers/{id}/claim/release", post(release))
        .route("/admin/customers/{id}/claim/assign", post(assign))
        .route("/admin/customers/{id}/tags", post(add_tag))
        .route("/admin/customers/{id}/tags/remove", post(remove_tag))
        .route("/admin/assets/admin.js", get(script))
}

/// The case view's keyboard shortcuts.
const SCRIPT: &str = include_str!("assets/admin.js");

async fn script() -> Response {
    let mut res = (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response();
    security_headers(res.headers_mut(), "-");
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// A team form's preamble: signed in, its CSRF token, the case visible,
/// the role; then the case's context.
async fn admitted(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    f: &Fields,
    need: Role,
    what: &str,
) -> Result<(Signed, OperationContext), Response> {
    let who = signed_form(state, headers, f).await?;
    let cx = case_context(state, &who, id).await?;
    if !allowed(who.role, need) {
        return Err(message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Not allowed",
            &format!("Your role ({}) cannot {what}.", who.role.as_str()),
        ));
    }
    Ok((who, cx))
}

/// Records a case action in the audit log as `admin.<action>`, then sends
/// the operator back to the case with `?done=<action>`.
async fn audited_done(
    state: &AppState,
    who: &Signed,
    scope: &Scope,
    action: &str,
    id: &str,
    details: serde_json::Value,
) -> Response {
    let name = format!("admin.{action}");
    match audit(state, who, scope, &name, Some(id), details).await {
        Ok(()) => see_other(&format!("/admin/customers/{id}?done={action}")),
        Err(r) => r,
    }
}

async fn audit(
    state: &AppState,
    who: &Signed,
    scope: &Scope,
    action: &str,
    id: Option<&str>,
    details: serde_json::Value,
) -> Result<(), Response> {
    let mut conn = state.store.writer().await.map_err(fail)?;
    kycd_store::customers::insert_audit(
        &mut conn,
        &*state.vault,
        scope,
        &who.actor(),
        action,
        id,
        &details,
        Utc::now(),
    )
    .await
    .map_err(fail)
}

async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let (who, cx) =
        or_page!(admitted(&state, &headers, &id, &f, Role::Reviewer, "claim a case").await);
    let r = async {
        let mut conn = state.store.writer().await?;
        if db::claim(&mut conn, &cx.scope, &id, &who.op.id, Utc::now()).await? {
            return Ok(None);
        }
        db::claim_of(&mut conn, &id).await.map(Some)
    }
    .await;
    match r {
        Ok(None) => {}
        Ok(Some(Some(c))) if c.operator_id == who.op.id => {
            return see_other(&format!("/admin/customers/{id}?done=claim"));
        }
        Ok(Some(held)) => {
            let by = match held {
                Some(c) => holder_email(&state, &c.operator_id).await,
                None => "someone".into(),
            };
            return message(
                StatusCode::CONFLICT,
                Some(&who),
                "Already claimed",
                &format!(
                    "{by} holds this case: ask them to release it, or an admin to reassign it."
                ),
            );
        }
        Err(e) => return fail(e),
    }
    audited_done(&state, &who, &cx.scope, "claim", &id, json!({})).await
}

async fn holder_email(state: &AppState, op: &str) -> String {
    let Ok(mut conn) = state.store.reader().await else {
        return op.to_string();
    };
    match kycd_store::operators::by_id(&mut conn, op).await {
        Ok(Some(o)) => o.email,
        _ => op.to_string(),
    }
}

async fn release(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let (who, cx) =
        or_page!(admitted(&state, &headers, &id, &f, Role::Reviewer, "release a case").await);
    let held = async {
        let mut conn = state.store.reader().await?;
        db::claim_of(&mut conn, &id).await
    }
    .await;
    let held = match held {
        Ok(Some(c)) => c,
        Ok(None) => return see_other(&format!("/admin/customers/{id}")),
        Err(e) => return fail(e),
    };
    if held.operator_id != who.op.id && who.role != Role::Admin {
        return message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Not allowed",
            "Another operator holds this case: only they or an admin release it.",
        );
    }
    let r = async {
        let mut conn = state.store.writer().await?;
        db::release(&mut conn, &id, Some(&held.operator_id)).await
    }
    .await;
    match r {
        Ok(true) => {}
        Ok(false) => return see_other(&format!("/admin/customers/{id}")),
        Err(e) => return fail(e),
    }
    let details = json!({"holder": held.operator_id});
    audited_done(&state, &who, &cx.scope, "release_claim", &id, details).await
}

async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let (who, cx) =
        or_page!(admitted(&state, &headers, &id, &f, Role::Admin, "reassign a case").await);
    let to = field(&f, "operator_id").unwrap_or("").to_string();
    let r = async {
        let mut conn = state.store.writer().await?;
        let target = kycd_store::operators::by_id(&mut conn, &to).await?;
        let fit = target.filter(|o| {
            o.disabled_at.is_none()
                && Role::parse(&o.role).is_some_and(|r| r != Role::Viewer)
                && o.organization_id
                    .as_deref()
                    .is_none_or(|org| org == cx.scope.organization_id)
        });
        if fit.is_none() {
            return Ok(None);
        }
        let before = db::claim_of(&mut conn, &id).await?.map(|c| c.operator_id);
        db::assign(&mut conn, &cx.scope, &id, &to, Utc::now()).await?;
        Ok::<_, kycd_store::StoreError>(Some(before))
    }
    .await;
    let before = match r {
        Ok(Some(b)) => b,
        Ok(None) => {
            return message(
                StatusCode::BAD_REQUEST,
                Some(&who),
                "Cannot reassign",
                "operator_id: choose an active reviewer or admin who sees this organization.",
            );
        }
        Err(e) => return fail(e),
    };
    let details = json!({"from": before, "to": to});
    audited_done(&state, &who, &cx.scope, "reassign", &id, details).await
}

async fn add_tag(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    tag_change(state, headers, id, f, true).await
}

async fn remove_tag(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    tag_change(state, headers, id, f, false).await
}

async fn tag_change(
    state: AppState,
    headers: HeaderMap,
    id: String,
    f: Fields,
    add: bool,
) -> Response {
    let (who, cx) =
        or_page!(admitted(&state, &headers, &id, &f, Role::Reviewer, "tag a case").await);
    let tag = normal_tag(field(&f, "tag").unwrap_or(""));
    if tag.is_empty() {
        return message(
            StatusCode::BAD_REQUEST,
            Some(&who),
            "Action refused",
            "tag: required",
        );
    }
    let r = async {
        let mut conn = state.store.writer().await?;
        if add {
            db::add_tag(&mut conn, &cx.scope, &id, &tag, &who.op.id, Utc::now()).await
        } else {
            db::remove_tag(&mut conn, &id, &tag).await
        }
    }
    .await;
    let action = if add { "tag_add" } else { "tag_remove" };
    match r {
        Ok(true) => audited_done(&state, &who, &cx.scope, action, &id, json!({"tag": tag})).await,
        Ok(false) => see_other(&format!("/admin/customers/{id}?done={action}")),
        Err(e) => fail(e),
    }
}

/// The queue's query (the page's and the export's).
#[derive(Debug, Default, Deserialize)]
pub(super) struct TeamQuery {
    organization: Option<String>,
    environment: Option<String>,
    claim: Option<String>,
    tag: Option<String>,
    reason: Option<String>,
    overdue: Option<String>,
    /// `next`: the case to skip.
    after: Option<String>,
}

impl TeamQuery {
    fn org(&self) -> Option<&str> {
        self.organization.as_deref().filter(|s| !s.is_empty())
    }
    fn env(&self) -> Option<&str> {
        self.environment
            .as_deref()
            .filter(|s| *s == "live" || *s == "sandbox")
    }
    fn filters(&self) -> Filters {
        Filters::new(
            self.claim.as_deref(),
            self.tag.as_deref(),
            self.reason.as_deref(),
            self.overdue.as_deref(),
        )
    }
}

/// `GET /admin/queue/next?after=cus_…`: the oldest case after this one that
/// is unassigned or mine (else the queue).
async fn next_case(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TeamQuery>,
) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    let items = or_page!(filtered_queue(&state, &who, q.org(), q.env(), &q.filters()).await);
    let after = q.after.as_deref().unwrap_or("");
    let next = items
        .iter()
        .find(|i| i.id != after && i.team.holder.as_ref().is_none_or(|h| h.0 == who.op.id));
    match next {
        Some(i) => see_other(&format!("/admin/customers/{}", i.id)),
        None => see_other("/admin/queue"),
    }
}

/// A CSV cell: a formula's first character (`= + - @`, tab, CR) is quoted
/// away with `'`, then the cell is quoted when it needs it.
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

const CSV_HEADER: [&str; 11] = [
    "customer_id",
    "name",
    "status",
    "waiting_for",
    "age_hours",
    "target_hours",
    "overdue",
    "held_by",
    "tags",
    "organization_id",
    "environment",
];

/// `GET /admin/queue/export.csv`: the filtered queue as CSV (what the page
/// shows: no identifier, no contact data), audited. Reviewers and admins.
async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TeamQuery>,
) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    if !allowed(who.role, Role::Reviewer) {
        return message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Not allowed",
            &format!("Your role ({}) cannot export the queue.", who.role.as_str()),
        );
    }
    let filters = q.filters();
    let items = or_page!(filtered_queue(&state, &who, q.org(), q.env(), &filters).await);
    let org = who
        .op
        .organization_id
        .as_deref()
        .or(q.org())
        .unwrap_or("*")
        .to_string();
    let details = json!({
        "filters": {
            "organization": q.org(), "environment": q.env(),
            "claim": filters.recorded()["claim"], "tag": filters.recorded()["tag"],
            "reason": filters.recorded()["reason"],
        },
        "rows": items.len(),
    });
    let scope = Scope::new(org, q.env().unwrap_or("*"));
    if let Err(r) = audit(&state, &who, &scope, "admin.queue_export", None, details).await {
        return r;
    }
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for i in &items {
        let t = &i.team;
        let cells = [
            i.id.clone(),
            i.name.clone().unwrap_or_default(),
            i.status.clone(),
            t.codes.join(" "),
            t.age_hours().map(|h| h.to_string()).unwrap_or_default(),
            t.target_hours.map(|h| h.to_string()).unwrap_or_default(),
            t.overdue().to_string(),
            t.holder.as_ref().map(|h| h.1.clone()).unwrap_or_default(),
            t.tags.join(" "),
            i.organization_id.clone(),
            i.environment.clone(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let mut res = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kycd-queue.csv\"",
            ),
        ],
        out,
    )
        .into_response();
    security_headers(res.headers_mut(), "-");
    res
}

// ---- the case's team panel ---------------------------------------------------------

/// What the case view's team panel shows.
pub struct CaseTeam {
    pub claim: Option<db::Claim>,
    pub tags: Vec<String>,
    /// Operators an admin may give the case to: (id, email).
    pub assignable: Vec<(String, String)>,
    pub codes: Vec<&'static str>,
    pub age: chrono::Duration,
}

/// Loads the team panel's data of a case.
pub(super) async fn case_team(
    state: &AppState,
    cx: &OperationContext,
    c: &Customer,
    pending_access: i64,
) -> service::ServiceResult<CaseTeam> {
    let mut conn = state.store.reader().await?;
    let claim = db::claim_of(&mut conn, &c.id).await?;
    let tags = db::tags_of(&mut conn, &c.id).await?;
    let assignable = kycd_store::operators::list(&mut conn)
        .await?
        .into_iter()
        .filter(|o| {
            o.disabled_at.is_none()
                && Role::parse(&o.role).is_some_and(|r| r != Role::Viewer)
                && o.organization_id
                    .as_deref()
                    .is_none_or(|org| org == cx.scope.organization_id)
        })
        .map(|o| (o.id, o.email))
        .collect();
    Ok(CaseTeam {
        claim,
        tags,
        assignable,
        codes: reason_codes(c, pending_access),
        age: cx.now - c.updated_at,
    })
}

/// The team panel: holder and claim buttons, tags, the age against its
/// target, the internal notes (every note operators wrote on this case, from
/// its audit trail), the shortcut keys and their script.
pub(super) fn case_panel(
    who: &Signed,
    id: &str,
    t: &CaseTeam,
    targets: &Targets,
    audit: &[(String, String, String, DateTime<Utc>)],
    emails: &HashMap<String, String>,
) -> Markup {
    let can = who.role != Role::Viewer;
    let admin = who.role == Role::Admin;
    let holder = t.claim.as_ref().map(|c| {
        emails
            .get(&c.operator_id)
            .cloned()
            .unwrap_or_else(|| c.operator_id.clone())
    });
    let mine = t.claim.as_ref().is_some_and(|c| c.operator_id == who.op.id);
    let target = t.codes.iter().filter_map(|c| targets.hours(c)).min();
    let notes: Vec<(String, String, String, DateTime<Utc>)> = audit
        .iter()
        .filter_map(|(actor, action, details, at)| {
            let v: serde_json::Value = serde_json::from_str(details).ok()?;
            let note = v.get("note")?.as_str()?.to_string();
            let who = actor
                .strip_prefix("operator:")
                .and_then(|o| emails.get(o))
                .cloned()
                .unwrap_or_else(|| actor.clone());
            Some((
                who,
                action.trim_start_matches("admin.").replace('_', " "),
                note,
                *at,
            ))
        })
        .collect();
    let form = |path: &str, label: &str, class: &str, hidden: &[(&str, &str)]| {
        html! {
            form.inline method="post" action={"/admin/customers/" (id) (path)} {
                input type="hidden" name="csrf" value=(who.csrf);
                @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
                button class=(class) type="submit" data-team=(label) { (label) }
            }
        }
    };
    html! {
        div.grid #team {
            div.card.actions {
                h2 { "Team" }
                dl {
                    dt { "Held by" }
                    dd #holder { @if let Some(h) = &holder { (h) } @else { span.muted { "unassigned" } } }
                    @if !t.codes.is_empty() {
                        dt { "Waiting for" }
                        dd { (t.codes.join(", ").replace('_', " "))
                            @if let Some(h) = target {
                                " · "
                                @let over = t.age > chrono::Duration::hours(h);
                                span #case-age class=[over.then_some("overdue")] data-overdue=(over) {
                                    (age_text(t.age, h)) @if over { " · over" }
                                }
                            }
                        }
                    }
                    dt { "Tags" }
                    dd #tags {
                        @for tag in &t.tags {
                            span.tag { (tag) }
                            @if can { " " (form("/tags/remove", "×", "secondary", &[("tag", tag)])) }
                            " "
                        }
                        @if t.tags.is_empty() { span.muted { "none" } }
                    }
                }
                @if can {
                    div {
                        @if holder.is_none() { (form("/claim", "Claim", "", &[])) }
                        @if mine || (admin && holder.is_some()) { (form("/claim/release", "Release claim", "secondary", &[])) }
                    }
                    form method="post" action={"/admin/customers/" (id) "/tags"} {
                        input type="hidden" name="csrf" value=(who.csrf);
                        input name="tag" aria-label="New tag" placeholder="tag" maxlength=(TAG_MAX) required;
                        button.secondary type="submit" data-team="tag" { "Add tag" }
                    }
                }
                @if admin {
                    form method="post" action={"/admin/customers/" (id) "/claim/assign"} {
                        input type="hidden" name="csrf" value=(who.csrf);
                        select name="operator_id" aria-label="Reassign to" {
                            @for (oid, e) in &t.assignable { option value=(oid) { (e) } }
                        }
                        button.secondary type="submit" data-team="reassign" { "Reassign" }
                    }
                }
                p.muted.keys {
                    "Keys: " kbd { "a" } " approve (Enter confirms) · " kbd { "r" } " rejection reason · "
                    kbd { "n" } " " a #next-case href={"/admin/queue/next?after=" (id)} { "next case" }
                }
            }
            div.card {
                h2 { "Internal notes " span.muted { "(never sent to the platform)" } }
                @if notes.is_empty() { p.muted { "No notes yet." } }
                ul #notes { @for (w, action, note, at) in &notes {
                    li { span.muted { (at.format("%Y-%m-%d %H:%M")) " · " (w) " · " (action) } br; (note) }
                } }
            }
        }
        script src="/admin/assets/admin.js" defer {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_over_the_defaults() {
        assert_eq!(parse_targets("").unwrap(), Targets::default());
        let t = parse_targets(" on_hold=12 , product_access=1").unwrap();
        assert_eq!(
            (t.on_hold, t.product_access, t.awaiting_review),
            (12, 1, 48)
        );
        for bad in [
            "on_hold",
            "on_hold=0",
            "on_hold=x",
            "nope=3",
            "four_eyes=8761",
        ] {
            assert!(parse_targets(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("=a,\"b\""), "\"'=a,\"\"b\"\"\"");
        assert_eq!(csv_cell("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(csv_cell("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn ages_read_against_their_target() {
        assert_eq!(
            age_text(chrono::Duration::minutes(59), 24),
            "59 min of 24 h"
        );
        assert_eq!(age_text(chrono::Duration::minutes(185), 24), "3 h of 24 h");
    }
}
