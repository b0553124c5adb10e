//! Documents shown inline in the case view: each render of a case issues,
//! per document, a one-time link (`/admin/documents/{id}?t=…`, the token's
//! hash stored, valid 5 minutes, bound to the operator who opened the case).
//! Following it needs that operator's session and sight of the case; the
//! bytes go out through the same audited download as the API
//! (`document.download`, actor `operator:<id>`), `inline`, `nosniff`,
//! `no-store`, under a CSP that allows nothing but images from this site.

use super::{Signed, case_context, fail, message, signed_in};
use crate::service;
use crate::state::AppState;
use crate::web::{or_page, random_token, sha256_hex};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kycd_store::db::Conn;
use kycd_store::operator_factors::{self as db, DocumentLink};
use serde::Deserialize;
use std::collections::HashMap;

/// A link works this long after the case page was rendered.
const LINK_MINUTES: i64 = 5;

/// One link per document of the case, for this operator: document id → URL.
pub(super) async fn links(
    conn: &mut Conn,
    who: &Signed,
    customer_id: &str,
    documents: &[service::documents::Document],
    now: DateTime<Utc>,
) -> kycd_store::StoreResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for d in documents {
        let token = random_token();
        let link = DocumentLink {
            document_id: d.id.clone(),
            customer_id: customer_id.to_string(),
            operator_id: who.op.id.clone(),
            expires_at: now + chrono::Duration::minutes(LINK_MINUTES),
            used_at: None,
        };
        db::insert_link(conn, &sha256_hex(&token), &link, now).await?;
        out.insert(d.id.clone(), format!("/admin/documents/{}?t={token}", d.id));
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LinkQuery {
    t: Option<String>,
}

/// `GET /admin/documents/{id}?t=…`: the document's bytes, once.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    let refuse =
        |status: StatusCode, title: &str, body: &str| message(status, Some(&who), title, body);
    let gone = || {
        refuse(
            StatusCode::NOT_FOUND,
            "Not found",
            "No such document link, or it was used already: reload the case.",
        )
    };
    let Some(token) = q.t.filter(|t| !t.is_empty() && t.len() <= 128) else {
        return gone();
    };
    let hash = sha256_hex(&token);
    let now = Utc::now();
    let mut conn = match state.store.writer().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let link = match db::link(&mut conn, &hash).await {
        Ok(Some(l)) if l.document_id == id => l,
        Ok(_) => return gone(),
        Err(e) => return fail(e),
    };
    if link.operator_id != who.op.id {
        return refuse(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "This document link was issued to another operator.",
        );
    }
    if link.used_at.is_some() {
        return gone();
    }
    if link.expires_at <= now {
        return refuse(
            StatusCode::GONE,
            "Link expired",
            "Document links work for 5 minutes: reload the case.",
        );
    }
    match db::use_link(&mut conn, &hash, now).await {
        Ok(true) => {}
        Ok(false) => return gone(),
        Err(e) => return fail(e),
    }
    drop(conn);
    // The operator must (still) see the case: another organization's is 404.
    let cx = or_page!(case_context(&state, &who, &link.customer_id).await);
    let (doc, bytes) = match service::documents::content(
        &state,
        &cx,
        &link.customer_id,
        &link.document_id,
    )
    .await
    {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let ext = match doc.content_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&doc.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{}.{ext}\"", doc.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}
