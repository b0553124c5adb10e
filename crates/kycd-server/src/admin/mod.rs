//! The operations back office (API.md, "Operators, back office, audit"):
//! operators sign in with a server-side session (only the hash of its id is
//! stored, idle sessions end), every form carries the session's CSRF token,
//! failed sign-ins lock the account and the address for a while. The pages
//! show the dashboard, the queue of cases waiting for a person, search and
//! the case; each case action goes through the same domain operation as the
//! API and the sandbox helpers, with `operator:<id>` as its actor, so
//! decisions in `live` happen here. Some actions need a second admin
//! (`four_eyes`); admins browse and export the audit log (`audit_log`).
//! Operators may add a TOTP second factor (`totp`); the case shows its
//! documents inline through one-time links (`documents`); the dashboard and
//! the case show webhook and screening-list health (`health`).

pub mod audit;
mod audit_log;
mod documents;
mod four_eyes;
mod health;
pub mod operators;
mod pages;
pub mod team;
pub mod totp;

use crate::error::ApiError;
use crate::service::lifecycle::ReviewerDecision;
use crate::service::{self, OperationContext};
use crate::state::AppState;
use crate::web::{
    SameSite, cookie, or_page, page, random_token, see_other, set_cookie, sha256_hex,
};
use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use kycd_core::customer::Customer;
use kycd_core::reasons::RejectionReason;
use kycd_store::Scope;
use kycd_store::operators::{self as db, Operator};
use operators::Role;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

/// The session cookie (a random id; only its hash is stored).
const SESSION_COOKIE: &str = "kycd_admin";
/// The sign-in form's CSRF cookie (double submit, before any session exists).
const LOGIN_CSRF_COOKIE: &str = "kycd_admin_login";
/// A session ends after this long without a request.
const IDLE_MINUTES: i64 = 30;
/// Failed sign-ins counted over this window…
const LOCKOUT_MINUTES: i64 = 15;
/// …lock the account after this many,
const ACCOUNT_FAILURES: i64 = 5;
/// …and the address after this many (several people may share one).
const ADDRESS_FAILURES: i64 = 20;
/// Queue rows per page.
const PAGE_SIZE: usize = 50;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/login/totp", post(totp::login_code))
        .route("/admin/totp", get(totp::enrol).post(totp::confirm))
        .route("/admin/logout", post(logout))
        .route("/admin/queue", get(queue))
        .route("/admin/customers", get(search))
        .route("/admin/customers/{id}", get(case))
        .route("/admin/documents/{id}", get(documents::show))
        .route("/admin/customers/{id}/actions/{action}", post(action))
        .route("/admin/requests/{id}/approve", post(four_eyes::approve))
        .route("/admin/requests/{id}/decline", post(four_eyes::decline))
        .route(
            "/admin/requests/{id}/reveal",
            post(four_eyes::reveal_approved),
        )
        .route("/admin/audit", get(audit_log::browse))
        .route("/admin/audit/export.jsonl", get(audit_log::export))
        .merge(team::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::ratelimit::per_address,
        ))
}

// ---- sessions ------------------------------------------------------------

/// The signed-in operator of a request.
pub(crate) struct Signed {
    pub op: Operator,
    pub role: Role,
    pub csrf: String,
}

impl Signed {
    /// Whether this operator may see an organization's data.
    fn sees(&self, org: &str) -> bool {
        self.op.organization_id.as_deref().is_none_or(|o| o == org)
    }
    fn actor(&self) -> String {
        format!("operator:{}", self.op.id)
    }
}

fn fail(e: impl Into<service::ServiceError>) -> Response {
    let api = ApiError::from(e.into());
    tracing::warn!(code = api.code, "back office page failed");
    let status = if api.status.is_server_error() {
        api.status
    } else {
        StatusCode::BAD_REQUEST
    };
    message(status, None, "Something went wrong", &api.message)
}

fn message(status: StatusCode, who: Option<&Signed>, title: &str, body: &str) -> Response {
    let nonce = random_token();
    page(status, &nonce, pages::message(&nonce, who, title, body))
}

/// The 404 page of something this operator may not see or that is not there.
fn not_found(who: &Signed, what: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        Some(who),
        "Not found",
        &format!("No such {what}."),
    )
}

/// The operator behind the session cookie, or the response to send instead
/// (to the sign-in page when there is none or it expired).
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Signed, Response> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Err(see_other("/admin/login"));
    };
    let hash = sha256_hex(&id);
    let now = Utc::now();
    let mut conn = state.store.writer().await.map_err(fail)?;
    let Some(s) = db::session(&mut conn, &hash).await.map_err(fail)? else {
        return Err(see_other("/admin/login"));
    };
    if s.last_seen_at + chrono::Duration::minutes(IDLE_MINUTES) <= now {
        db::end_session(&mut conn, &hash).await.map_err(fail)?;
        return Err(see_other("/admin/login?expired=1"));
    }
    let op = db::by_id(&mut conn, &s.operator_id).await.map_err(fail)?;
    let Some(op) = op.filter(|o| o.disabled_at.is_none()) else {
        db::end_session(&mut conn, &hash).await.map_err(fail)?;
        return Err(see_other("/admin/login"));
    };
    let Some(role) = Role::parse(&op.role) else {
        return Err(fail(kycd_store::StoreError::Corrupt(
            "operator role".into(),
        )));
    };
    db::touch_session(&mut conn, &hash, now)
        .await
        .map_err(fail)?;
    Ok(Signed {
        op,
        role,
        csrf: s.csrf_token,
    })
}

/// [`signed_in`] for a posted form, whose CSRF token must also be the session's.
async fn signed_form(
    state: &AppState,
    headers: &HeaderMap,
    f: &Fields,
) -> Result<Signed, Response> {
    let who = signed_in(state, headers).await?;
    if !same(field(f, "csrf").unwrap_or(""), &who.csrf) {
        return Err(csrf_refused(&who));
    }
    Ok(who)
}

fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A form's fields (a name may repeat: `missing`).
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

// ---- sign-in -------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    expired: Option<String>,
}

async fn login_page(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let note = q
        .expired
        .as_ref()
        .map(|_| "Your session ended after a period without activity: sign in again.");
    login_form(&state, StatusCode::OK, note, None)
}

fn login_form(
    state: &AppState,
    status: StatusCode,
    note: Option<&str>,
    error: Option<&str>,
) -> Response {
    let csrf = random_token();
    let nonce = random_token();
    let mut res = page(status, &nonce, pages::login(&nonce, &csrf, note, error));
    set_login_csrf(&mut res, state, &csrf);
    res
}

/// Gives the browser the sign-in forms' CSRF token (password and code steps).
pub(super) fn set_login_csrf(res: &mut Response, state: &AppState, csrf: &str) {
    set_cookie(res, state, LOGIN_CSRF_COOKIE, csrf, true, SameSite::Strict);
}

/// The lockout after repeated failed sign-ins (password or code), per account
/// and per address since `since`: the 429 sign-in page when either is over
/// its limit (or the 5xx page when the counts cannot be read).
pub(super) async fn lockout(
    state: &AppState,
    conn: &mut kycd_store::Conn,
    account: &str,
    address: &str,
    since: chrono::DateTime<Utc>,
) -> Option<Response> {
    let counts = async {
        Ok::<_, kycd_store::StoreError>((
            db::failures_since(conn, account, since).await?,
            db::failures_since(conn, address, since).await?,
        ))
    }
    .await;
    let (by_account, by_address) = match counts {
        Ok(c) => c,
        Err(e) => return Some(fail(e)),
    };
    if by_account < ACCOUNT_FAILURES && by_address < ADDRESS_FAILURES {
        return None;
    }
    let whom = if by_account >= ACCOUNT_FAILURES {
        "this account"
    } else {
        "this address"
    };
    Some(login_form(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        None,
        Some(&format!(
            "Too many failed sign-ins for {whom}: sign-in is locked for {LOCKOUT_MINUTES} minutes. An admin can reset the password with `kycd operator reset-password`."
        )),
    ))
}

/// A sign-in form (password or code) must carry the CSRF token this browser
/// was given with the sign-in page; else a 403 page.
pub(super) fn login_form_refused(headers: &HeaderMap, f: &Fields) -> Option<Response> {
    let sent = field(f, "csrf").unwrap_or("");
    let expected = cookie(headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    (!same(sent, &expected)).then(|| {
        message(
            StatusCode::FORBIDDEN,
            None,
            "Form expired",
            "This form was not issued to this browser, or it expired. Open the sign-in page again.",
        )
    })
}

async fn login(
    State(state): State<AppState>,
    ext: Extensions,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    if let Some(refused) = login_form_refused(&headers, &f) {
        return refused;
    }
    let email = field(&f, "email").unwrap_or("").to_lowercase();
    let password = f
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let address = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let account = format!("account:{email}");
    let address = format!("address:{address}");
    let now = Utc::now();
    let since = now - chrono::Duration::minutes(LOCKOUT_MINUTES);
    let mut conn = match state.store.writer().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if let Some(locked) = lockout(&state, &mut conn, &account, &address, since).await {
        return locked;
    }
    let op = match db::by_email(&mut conn, &email).await {
        Ok(op) => op,
        Err(e) => return fail(e),
    };
    drop(conn);
    // Verify against a real hash even for an unknown email (same timing).
    let hash = op
        .as_ref()
        .map(|o| o.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = tokio::task::spawn_blocking(move || operators::verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let mut conn = match state.store.writer().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let op = match op {
        Some(op) if ok && op.disabled_at.is_none() => op,
        _ => {
            if let Err(e) = db::record_failure(&mut conn, &[&account, &address], now).await {
                return fail(e);
            }
            return login_form(
                &state,
                StatusCode::UNAUTHORIZED,
                None,
                Some("Wrong email or password (or the account is disabled)."),
            );
        }
    };
    // With a second factor, the code comes before any session.
    match totp::after_password(&state, &mut conn, &op, now).await {
        Ok(Some(res)) => return res,
        Ok(None) => {}
        Err(e) => return fail(e),
    }
    open_session(&state, &mut conn, &op.id, &account, now).await
}

/// Opens a session for the operator (the account's failed sign-ins
/// forgotten) and sends the browser to the dashboard with its cookie.
async fn open_session(
    state: &AppState,
    conn: &mut kycd_store::Conn,
    op_id: &str,
    account: &str,
    now: chrono::DateTime<Utc>,
) -> Response {
    let id = random_token();
    let csrf = random_token();
    let r = async {
        db::clear_failures(conn, account).await?;
        db::insert_session(conn, &sha256_hex(&id), op_id, &csrf, now).await
    }
    .await;
    if let Err(e) = r {
        return fail(e);
    }
    let mut res = see_other("/admin");
    set_cookie(&mut res, state, SESSION_COOKIE, &id, true, SameSite::Strict);
    res
}

static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| operators::hash_password(&random_token()).unwrap_or_default());

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    or_page!(signed_form(&state, &headers, &f).await);
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let Ok(mut conn) = state.store.writer().await
    {
        let _ = db::end_session(&mut conn, &sha256_hex(&id)).await;
    }
    let mut res = see_other("/admin/login");
    set_cookie(&mut res, &state, SESSION_COOKIE, "", true, SameSite::Strict);
    res
}

fn csrf_refused(who: &Signed) -> Response {
    message(
        StatusCode::FORBIDDEN,
        Some(who),
        "Form expired",
        "This form does not carry this session's token. Reload the page and try again.",
    )
}

// ---- dashboard, queue, search -----------------------------------------------

async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    let mut conn = match state.store.reader().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let counts = match db::status_counts(&mut conn).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let health = match health::dashboard(&state, &mut conn, &who).await {
        Ok(h) => h,
        Err(e) => return fail(e),
    };
    drop(conn);
    let counts: Vec<_> = counts.into_iter().filter(|c| who.sees(&c.0)).collect();
    let all = team::Filters::default();
    let queue = or_page!(team::filtered_queue(&state, &who, None, None, &all).await);
    let requests = or_page!(open_requests(&state, &who, None, None).await);
    let nonce = random_token();
    page(
        StatusCode::OK,
        &nonce,
        pages::dashboard(&pages::Dashboard {
            nonce: &nonce,
            who: &who,
            counts: &counts,
            queue: &queue,
            requests: &requests,
            targets: &state.config.queue_target_hours,
            health,
        }),
    )
}

/// One case waiting for a person.
pub(crate) struct QueueItem {
    pub id: String,
    pub organization_id: String,
    pub environment: String,
    pub status: String,
    pub reason: String,
    pub name: Option<String>,
    pub since: DateTime<Utc>,
    /// Holder, tags, age against the target (the queue's; empty elsewhere).
    pub team: team::Row,
}

/// Why a customer waits for a person (None: it does not).
fn waiting_reason(c: &Customer, pending_access: i64) -> Option<String> {
    use kycd_core::status::CustomerStatus;
    let mut why = vec![];
    if c.status == CustomerStatus::OnHold {
        why.push("screening match on hold".to_string());
    }
    if c.status == CustomerStatus::Pending {
        for i in &c.verification.requirements.issues {
            if i.code == "documents_in_review" || i.code == "awaiting_review" {
                why.push(i.code.replace('_', " "));
            }
        }
    }
    if pending_access > 0 {
        why.push(format!("{pending_access} product access pending"));
    }
    (!why.is_empty()).then(|| why.join(", "))
}

async fn queue_items(
    state: &AppState,
    who: &Signed,
    org: Option<&str>,
    env: Option<&str>,
) -> Result<Vec<QueueItem>, Response> {
    let org = who.op.organization_id.as_deref().or(org);
    let mut conn = state.store.reader().await.map_err(fail)?;
    let candidates = db::queue_candidates(&mut conn, org, env, 5000)
        .await
        .map_err(fail)?;
    let mut items = vec![];
    for cand in candidates {
        let scope = Scope::new(&cand.organization_id, &cand.environment);
        let Ok(stored) =
            kycd_store::customers::get(&mut conn, &*state.vault, &scope, &cand.id).await
        else {
            continue;
        };
        if let Some(reason) = waiting_reason(&stored.customer, cand.pending_access) {
            items.push(QueueItem {
                name: stored.customer.display_name(),
                id: cand.id,
                organization_id: cand.organization_id,
                environment: cand.environment,
                status: cand.status,
                reason,
                since: cand.updated_at,
                team: team::Row::new(team::reason_codes(&stored.customer, cand.pending_access)),
            });
        }
    }
    Ok(items)
}

#[derive(Debug, Default, Deserialize)]
struct QueueQuery {
    organization: Option<String>,
    environment: Option<String>,
    page: Option<usize>,
    /// `four_eyes`: only the requests waiting for a second admin.
    show: Option<String>,
    /// `mine` or `unassigned` (team::Filters).
    claim: Option<String>,
    tag: Option<String>,
    reason: Option<String>,
    /// `1`: only the cases over their target time.
    overdue: Option<String>,
}

/// Every operator's email by id (the pages name requesters and deciders).
async fn operator_emails(
    conn: &mut kycd_store::Conn,
) -> kycd_store::StoreResult<std::collections::HashMap<String, String>> {
    Ok(db::list(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.email))
        .collect())
}

/// The four-eyes requests still undecided that this operator may see.
async fn open_requests(
    state: &AppState,
    who: &Signed,
    org: Option<&str>,
    env: Option<&str>,
) -> Result<pages::Requests, Response> {
    let org = who.op.organization_id.as_deref().or(org);
    let mut conn = state.store.reader().await.map_err(fail)?;
    let list = kycd_store::four_eyes::undecided(&mut conn, org, 500)
        .await
        .map_err(fail)?;
    let emails = operator_emails(&mut conn).await.map_err(fail)?;
    drop(conn);
    let list: Vec<_> = list
        .into_iter()
        .filter(|r| who.sees(&r.organization_id))
        .filter(|r| env.is_none_or(|e| r.environment == e))
        .collect();
    // Each request expires, and passes its target, on its scope's clock
    // (the sandbox's may run ahead).
    let target = chrono::Duration::hours(state.config.queue_target_hours.four_eyes);
    let mut clocks = std::collections::HashMap::new();
    let mut expired = std::collections::HashSet::new();
    let mut overdue = std::collections::HashSet::new();
    for r in &list {
        let key = (r.organization_id.clone(), r.environment.clone());
        if !clocks.contains_key(&key) {
            let scope = Scope::new(&r.organization_id, &r.environment);
            let cx = service::context_for(state, &scope, who.actor())
                .await
                .map_err(fail)?;
            clocks.insert(key.clone(), cx.now);
        }
        let now = clocks[&key];
        if r.expires_at <= now {
            expired.insert(r.id.clone());
        } else if now - r.created_at > target {
            overdue.insert(r.id.clone());
        }
    }
    Ok(pages::Requests {
        list,
        emails,
        expired,
        overdue,
    })
}

async fn queue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    let org = q.organization.as_deref().filter(|s| !s.is_empty());
    let env = q
        .environment
        .as_deref()
        .filter(|s| *s == "live" || *s == "sandbox");
    let four_eyes_only = q.show.as_deref() == Some("four_eyes");
    let filters = team::Filters::new(
        q.claim.as_deref(),
        q.tag.as_deref(),
        q.reason.as_deref(),
        q.overdue.as_deref(),
    );
    let items = if four_eyes_only {
        vec![]
    } else {
        or_page!(team::filtered_queue(&state, &who, org, env, &filters).await)
    };
    let requests = or_page!(open_requests(&state, &who, org, env).await);
    let page_no = q.page.unwrap_or(1).max(1);
    let total = items.len();
    let shown: Vec<_> = items
        .into_iter()
        .skip((page_no - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    let has_more = page_no * PAGE_SIZE < total;
    let nonce = random_token();
    page(
        StatusCode::OK,
        &nonce,
        pages::queue(&pages::QueuePage {
            nonce: &nonce,
            who: &who,
            items: &shown,
            total,
            page: page_no,
            has_more,
            organization: org.unwrap_or(""),
            environment: env.unwrap_or(""),
            requests: &requests,
            four_eyes_only,
            filters: &filters,
            targets: &state.config.queue_target_hours,
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    let text = q.q.as_deref().unwrap_or("").trim().to_string();
    let found = if text.is_empty() {
        vec![]
    } else {
        or_page!(find_customers(&state, &who, &text).await)
    };
    if found.len() == 1 && text.starts_with("cus_") {
        return see_other(&format!("/admin/customers/{}", found[0].id));
    }
    let nonce = random_token();
    page(
        StatusCode::OK,
        &nonce,
        pages::search(&nonce, &who, &text, &found),
    )
}

/// Customers matching an id, an external id or an email (through the blind
/// index of each scope: no email is compared in clear).
async fn find_customers(
    state: &AppState,
    who: &Signed,
    text: &str,
) -> Result<Vec<QueueItem>, Response> {
    let mut conn = state.store.reader().await.map_err(fail)?;
    let mut hits: Vec<(String, String, String)> = vec![];
    if text.starts_with("cus_") {
        if let Some((o, e)) = db::locate_customer(&mut conn, text).await.map_err(fail)? {
            hits.push((text.to_string(), o, e));
        }
    } else if text.contains('@') {
        let scopes = db::customer_scopes(&mut conn).await.map_err(fail)?;
        for (o, e) in scopes.into_iter().filter(|(o, _)| who.sees(o)) {
            let scope = Scope::new(&o, &e);
            let cx = service::context_for(state, &scope, who.actor())
                .await
                .map_err(fail)?;
            let Ok(Some(index)) =
                service::customers::contact_index(state, &cx, Some(text), None).await
            else {
                continue;
            };
            let filter = kycd_store::customers::ListFilter {
                blind_index: Some(index),
                limit: 50,
                ..Default::default()
            };
            let (list, _) = service::customers::list(state, &cx, filter)
                .await
                .map_err(fail)?;
            hits.extend(list.into_iter().map(|c| (c.id, o.clone(), e.clone())));
        }
    } else {
        hits = db::by_external_id(&mut conn, text).await.map_err(fail)?;
    }
    let mut out = vec![];
    for (id, o, e) in hits.into_iter().filter(|h| who.sees(&h.1)) {
        let scope = Scope::new(&o, &e);
        if let Ok(s) = kycd_store::customers::get(&mut conn, &*state.vault, &scope, &id).await {
            out.push(QueueItem {
                name: s.customer.display_name(),
                status: s.customer.status.as_str().into(),
                reason: String::new(),
                since: s.customer.updated_at,
                team: team::Row::default(),
                id,
                organization_id: o,
                environment: e,
            });
        }
    }
    Ok(out)
}

// ---- the case ------------------------------------------------------------

/// The customer's scope as this operator may see it (else a 404 page).
async fn case_context(
    state: &AppState,
    who: &Signed,
    id: &str,
) -> Result<OperationContext, Response> {
    let not_found = || not_found(who, "customer");
    if !kycd_core::ids::is_prefixed("cus", id) {
        return Err(not_found());
    }
    let mut conn = state.store.reader().await.map_err(fail)?;
    let Some((org, env)) = db::locate_customer(&mut conn, id).await.map_err(fail)? else {
        return Err(not_found());
    };
    if !who.sees(&org) {
        return Err(not_found());
    }
    service::context_for(state, &Scope::new(org, env), who.actor())
        .await
        .map_err(fail)
}

#[derive(Debug, Default, Deserialize)]
struct CaseQuery {
    done: Option<String>,
}

async fn case(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    let cx = or_page!(case_context(&state, &who, &id).await);
    let data = async {
        let customer = service::customers::get(&state, &cx, &id).await?;
        let (documents, _) = service::documents::list(&state, &cx, &id, None, 100).await?;
        let (access, _) = service::products::list(&state, &cx.scope, &id, None, 100).await?;
        let mut conn = state.store.reader().await?;
        let history = kycd_store::customers::history(&mut conn, &cx.scope, &id).await?;
        let audit = db::audit_of(&mut conn, &id).await?;
        let requests = kycd_store::four_eyes::of_customer(&mut conn, &id).await?;
        let emails = operator_emails(&mut conn).await?;
        let activity = health::case(&mut conn, &id).await?;
        drop(conn);
        let mut conn = state.store.writer().await?;
        let doc_links = documents::links(&mut conn, &who, &id, &documents, Utc::now()).await?;
        drop(conn);
        let pending = access
            .iter()
            .filter(|a| a.status.as_str() == "pending")
            .count();
        let t = team::case_team(&state, &cx, &customer, pending as i64).await?;
        let team = team::case_panel(
            &who,
            &id,
            &t,
            &state.config.queue_target_hours,
            &audit,
            &emails,
        );
        Ok::<_, service::ServiceError>(pages::CaseData {
            team,
            customer,
            documents,
            access,
            history,
            audit,
            requests,
            emails,
            doc_links,
            activity,
            now: cx.now,
        })
    }
    .await;
    let data = match data {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let nonce = random_token();
    page(
        StatusCode::OK,
        &nonce,
        pages::case(&nonce, &who, &cx.scope, &data, q.done.as_deref()),
    )
}

/// The case actions (API.md), with the least role each needs.
fn needs(action: &str) -> Option<Role> {
    Some(match action {
        "approve"
        | "reject"
        | "request_information"
        | "hold"
        | "release"
        | "confirm_match"
        | "dismiss_match"
        | "document_accept"
        | "document_reject"
        | "grant_product"
        | "reject_product"
        | "reveal_identifier"
        | "note" => Role::Reviewer,
        "deactivate" | "reactivate" | "overturn_rejection" => Role::Admin,
        _ => return None,
    })
}

fn allowed(role: Role, need: Role) -> bool {
    match need {
        Role::Viewer => true,
        Role::Reviewer => matches!(role, Role::Reviewer | Role::Admin),
        Role::Admin => role == Role::Admin,
    }
}

async fn action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Response {
    let who = or_page!(signed_form(&state, &headers, &f).await);
    let Some(need) = needs(&action) else {
        return not_found(&who, "action");
    };
    let cx = or_page!(case_context(&state, &who, &id).await);
    if !allowed(who.role, need) {
        return message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Not allowed",
            &format!(
                "Your role ({}) cannot {}.",
                who.role.as_str(),
                action.replace('_', " ")
            ),
        );
    }
    if action == four_eyes::REVEAL {
        return four_eyes::reveal_action(&state, &who, &cx, &id, &f).await;
    }
    match four_eyes::needed(&state, &cx, &id, &action).await {
        Ok(Some(why)) => return four_eyes::request(&state, &who, &cx, &id, &action, &f, why).await,
        Ok(None) => {}
        Err(e) => return fail(e),
    }
    if let Err(res) = execute(&state, &who, &cx, &id, &action, &f, json!({})).await {
        return res;
    }
    see_other(&format!("/admin/customers/{id}?done={action}"))
}

/// Runs one case action and its audit entry in one transaction (`extra`
/// adds the four-eyes request when there is one); a refusal is the page that
/// says why, and nothing was written.
async fn execute(
    state: &AppState,
    who: &Signed,
    cx: &OperationContext,
    id: &str,
    action: &str,
    f: &Fields,
    extra: serde_json::Value,
) -> Result<(), Response> {
    let done = async {
        let mut tx = state.store.begin().await?;
        execute_in(state, &mut tx, cx, id, action, f, extra).await?;
        service::finish(state, tx).await
    }
    .await;
    done.map_err(|e| action_refused(who, action, e))
}

/// Runs one case action through its domain operation and writes the
/// operator's audit entry (action, note, fields), in the caller's
/// transaction: the four-eyes approval adds its own decision to it.
async fn execute_in(
    state: &AppState,
    tx: &mut kycd_store::Tx,
    cx: &OperationContext,
    id: &str,
    action: &str,
    f: &Fields,
    extra: serde_json::Value,
) -> service::ServiceResult<()> {
    let note = field(f, "note").map(|n| n.chars().take(2000).collect::<String>());
    let mut details = json!({"note": note});
    if let (Some(d), serde_json::Value::Object(x)) = (details.as_object_mut(), extra) {
        d.extend(x);
    }
    run_action(state, tx, cx, id, action, f, &mut details).await?;
    // The operator's action and note on the case's trail.
    kycd_store::customers::insert_audit(
        tx,
        &*state.vault,
        &cx.scope,
        &cx.actor,
        &format!("admin.{action}"),
        Some(id),
        &details,
        Utc::now(),
    )
    .await?;
    Ok(())
}

/// The page for an action that did not happen: the domain's answer (400 for
/// a bad field, 404, 409 for a transition the state forbids) or the store's.
fn action_refused(who: &Signed, action: &str, e: service::ServiceError) -> Response {
    let api = ApiError::from(e);
    let status = if api.status.is_client_error() || api.status.is_server_error() {
        api.status
    } else {
        StatusCode::CONFLICT
    };
    message(
        status,
        Some(who),
        "Action refused",
        &format!(
            "{} ({}): {}",
            action.replace('_', " "),
            api.code,
            api.message
        ),
    )
}

fn required(name: &str) -> service::ServiceError {
    service::Refusal::invalid_field(name, "required").into()
}

/// Applies one action through the domain operation the API uses.
async fn run_action(
    state: &AppState,
    tx: &mut kycd_store::Tx,
    cx: &OperationContext,
    id: &str,
    action: &str,
    f: &Fields,
    details: &mut serde_json::Value,
) -> service::ServiceResult<()> {
    use service::lifecycle::{deactivate_in, overturn_rejection_in, reactivate_in, review_in};
    let decision = match action {
        "approve" => Some(ReviewerDecision::Approve),
        "reject" => {
            let code = field(f, "rejection_reason").ok_or_else(|| required("rejection_reason"))?;
            let r = RejectionReason::parse(code).ok_or_else(|| {
                service::Refusal::invalid_field("rejection_reason", "unknown rejection reason")
            })?;
            details["rejection_reason"] = json!(code);
            Some(ReviewerDecision::Reject(r))
        }
        "request_information" => {
            let missing: Vec<String> = f
                .iter()
                .filter(|(k, v)| k == "missing" && !v.trim().is_empty())
                .flat_map(|(_, v)| {
                    v.split([',', ' '])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect();
            if missing.is_empty() {
                return Err(required("missing"));
            }
            if let Some(bad) = missing
                .iter()
                .find(|c| kycd_core::policy::requirement(c).is_none())
            {
                return Err(service::Refusal::invalid_field(
                    "missing",
                    format!("unknown requirement code {bad}"),
                )
                .into());
            }
            details["missing"] = json!(missing);
            Some(ReviewerDecision::RequestInformation(missing))
        }
        "hold" => Some(ReviewerDecision::Hold),
        "release" => Some(ReviewerDecision::ReleaseHold),
        "confirm_match" | "dismiss_match" => {
            // The domain decides on the customer's possible matches together;
            // the form names the match it was shown.
            let c = service::customers::get(state, cx, id).await?;
            let m = field(f, "match_id").ok_or_else(|| required("match_id"))?;
            if !c
                .verification
                .screening_matches
                .iter()
                .any(|h| h.entry_id == m)
            {
                return Err(service::Refusal::invalid_field(
                    "match_id",
                    "no such match on this customer",
                )
                .into());
            }
            details["match_id"] = json!(m);
            Some(if action == "confirm_match" {
                ReviewerDecision::ConfirmMatch
            } else {
                ReviewerDecision::DismissMatch
            })
        }
        _ => None,
    };
    if let Some(d) = decision {
        review_in(state, tx, cx, id, d).await?;
        return Ok(());
    }
    match action {
        "document_accept" | "document_reject" => {
            let doc = field(f, "document_id").ok_or_else(|| required("document_id"))?;
            let reason = field(f, "rejection_reason").filter(|_| action == "document_reject");
            details["document_id"] = json!(doc);
            let accept = action == "document_accept";
            let reason = service::documents::review_reason(accept, reason)?;
            service::documents::review_in(state, tx, cx, id, doc, accept, reason).await?;
        }
        "grant_product" | "reject_product" => {
            let pa = field(f, "product_access_id").ok_or_else(|| required("product_access_id"))?;
            // Only a request of this customer.
            service::products::get(state, &cx.scope, id, pa).await?;
            details["product_access_id"] = json!(pa);
            let reason = (action == "reject_product").then(|| "rejected_by_reviewer".to_string());
            service::products::decide_in(state, tx, cx, pa, action == "grant_product", reason)
                .await?;
        }
        "deactivate" => {
            let reason: String = field(f, "reason")
                .unwrap_or("deactivated")
                .chars()
                .take(500)
                .collect();
            details["reason"] = json!(reason);
            deactivate_in(state, tx, cx, id, &reason).await?;
        }
        "overturn_rejection" => {
            overturn_rejection_in(state, tx, cx, id).await?;
        }
        "reactivate" => {
            reactivate_in(state, tx, cx, id).await?;
        }
        "note" => {
            if field(f, "note").is_none() {
                return Err(required("note"));
            }
        }
        _ => return Err(service::Refusal::not_found("action").into()),
    }
    Ok(())
}
