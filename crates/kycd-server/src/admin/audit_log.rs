//! The audit log for admins (issue 15): `/admin/audit` lists entries newest
//! first, filtered by actor, customer, action and date range, 50 a page;
//! `/admin/audit/export.jsonl` streams the same selection as JSON Lines for
//! a SIEM. Both are audited themselves (who looked, with which filters).

use super::{Role, Signed, fail, message, signed_in};
use crate::state::AppState;
use crate::web::{or_page, page, random_token, security_headers};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use kycd_store::Scope;
use kycd_store::audit::{Entry, Filter};
use serde::Deserialize;
use serde_json::{Value, json};

/// Entries per page.
const PAGE_SIZE: i64 = 50;
/// Entries read per round trip while exporting.
const EXPORT_BATCH: i64 = 500;

/// The filters, as the page's form and links send them.
#[derive(Debug, Default, Deserialize, Clone)]
pub(super) struct AuditQuery {
    pub actor: Option<String>,
    pub customer: Option<String>,
    pub action: Option<String>,
    /// First day included (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Last day included (`YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    /// Entries older than this id (the next page).
    pub before: Option<String>,
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(200).collect())
}

fn day(name: &str, v: &Option<String>, next: bool) -> Result<Option<i64>, String> {
    let Some(s) = text(v) else { return Ok(None) };
    let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|_| format!("{name}: expected a date as YYYY-MM-DD, got {s:?}"))?;
    let d = if next { d.succ_opt().unwrap_or(d) } else { d };
    Ok(d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros()))
}

impl AuditQuery {
    /// The store's filter for this operator (bound to its organization, if any).
    fn filter(&self, who: &Signed) -> Result<Filter, String> {
        Ok(Filter {
            organization_id: who.op.organization_id.clone(),
            actor: text(&self.actor),
            resource_id: text(&self.customer),
            action: text(&self.action),
            from: day("from", &self.from, false)?,
            to: day("to", &self.to, true)?,
            before_id: text(&self.before),
        })
    }

    /// The filters as the audit entry of a view or export records them.
    fn recorded(&self) -> Value {
        json!({
            "actor": text(&self.actor),
            "customer": text(&self.customer),
            "action": text(&self.action),
            "from": text(&self.from),
            "to": text(&self.to),
        })
    }

    /// The query string of these filters (for links), with `before`.
    pub fn link(&self, before: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = vec![];
        for (k, v) in [
            ("actor", &self.actor),
            ("customer", &self.customer),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = text(v) {
                pairs.push((k, v));
            }
        }
        if let Some(b) = before {
            pairs.push(("before", b.to_string()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

/// Only admins read the audit log.
fn admin_only(who: &Signed) -> Option<Response> {
    (who.role != Role::Admin).then(|| {
        message(
            StatusCode::FORBIDDEN,
            Some(who),
            "Not allowed",
            &format!(
                "Only admins read the audit log; your role ({}) cannot.",
                who.role.as_str()
            ),
        )
    })
}

/// Records who looked at the audit log (scope: the operator's organization,
/// or `*` for an operator of all of them).
async fn record(
    state: &AppState,
    who: &Signed,
    action: &str,
    q: &AuditQuery,
) -> Result<(), Response> {
    let org = who.op.organization_id.clone().unwrap_or_else(|| "*".into());
    let mut conn = state.store.writer().await.map_err(fail)?;
    kycd_store::customers::insert_audit(
        &mut conn,
        &*state.vault,
        &Scope::new(org, "*"),
        &who.actor(),
        action,
        None,
        &json!({"filters": q.recorded()}),
        Utc::now(),
    )
    .await
    .map_err(fail)
}

/// What browsing and exporting share: an admin signed in, valid filters, and
/// the look itself recorded in the audit log (`action`) before any entry is read.
async fn admitted(
    state: &AppState,
    headers: &HeaderMap,
    q: &AuditQuery,
    action: &str,
) -> Result<(Signed, Filter), Response> {
    let who = signed_in(state, headers).await?;
    if let Some(r) = admin_only(&who) {
        return Err(r);
    }
    let filter = q
        .filter(&who)
        .map_err(|e| message(StatusCode::BAD_REQUEST, Some(&who), "Bad filter", &e))?;
    record(state, &who, action, q).await?;
    Ok((who, filter))
}

/// `GET /admin/audit`.
pub(super) async fn browse(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    let (who, filter) = or_page!(admitted(&state, &headers, &q, "admin.audit_viewed").await);
    let mut conn = match state.store.reader().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let mut entries = match kycd_store::audit::browse(&mut conn, &filter, PAGE_SIZE + 1).await {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    drop(conn);
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    let next = more
        .then(|| entries.last().map(|e| q.link(Some(&e.id))))
        .flatten();
    let nonce = random_token();
    page(
        StatusCode::OK,
        &nonce,
        super::pages::audit(&super::pages::AuditPage {
            nonce: &nonce,
            who: &who,
            entries: &entries,
            query: &q,
            next: next.as_deref(),
            export: &q.link(None),
        }),
    )
}

/// One exported line: the entry with its place in the chain (`seq`,
/// `prev_hash`, `hash`: the newest line's `seq:hash` is a head for
/// `kycd audit verify --head`) and its MAC, `details` as JSON.
fn line(e: &Entry) -> String {
    let details: Value = serde_json::from_str(&e.details).unwrap_or(json!(e.details));
    let at = kycd_store::from_micros(e.at);
    let mut s = json!({
        "id": e.id,
        "seq": e.seq,
        "organization_id": e.organization_id,
        "environment": e.environment,
        "actor": e.actor,
        "action": e.action,
        "resource_id": e.resource_id,
        "details": details,
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "mac": e.mac,
    })
    .to_string();
    s.push('\n');
    s
}

/// `GET /admin/audit/export.jsonl`: every matching entry, newest first, read
/// in batches while the response streams.
pub(super) async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    let (_, filter) = or_page!(admitted(&state, &headers, &q, "admin.audit_exported").await);
    let store = state.store.clone();
    let stream = futures::stream::unfold(Some(filter), move |next| {
        let store = store.clone();
        async move {
            let mut filter = next?;
            let read = async {
                let mut conn = store.reader().await?;
                kycd_store::audit::browse(&mut conn, &filter, EXPORT_BATCH).await
            }
            .await;
            let rows = match read {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed");
                    return Some((Err(std::io::Error::other("audit export failed")), None));
                }
            };
            let last = rows.last().map(|e| e.id.clone())?;
            let chunk: String = rows.iter().map(line).collect();
            let more = rows.len() as i64 == EXPORT_BATCH;
            filter.before_id = Some(last);
            Some((Ok(Bytes::from(chunk)), more.then_some(filter)))
        }
    });
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    security_headers(h, &random_token());
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jsonl"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"kycd-audit.jsonl\""),
    );
    res
}
