//! What the server-rendered front doors (the hosted flow, the back office)
//! share: random tokens and their hashes, cookies, and the security headers
//! of an HTML page (strict CSP with a per-response nonce, no framing, no
//! referrer, no caching).

use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `?` for the page handlers, which answer a `Response` either way: the
/// value of an `Ok`, or return at once with the page of an `Err`.
macro_rules! or_page {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(page) => return page,
        }
    };
}
pub(crate) use or_page;

/// 32 random bytes, URL-safe base64 (session ids, CSRF tokens, nonces).
pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw)
}

/// Hex SHA-256: how tokens are stored.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// An HTML page with the security headers; `nonce` allows its style block.
pub fn page(status: StatusCode, nonce: &str, markup: Markup) -> Response {
    let mut res = (status, axum::response::Html(markup.into_string())).into_response();
    security_headers(res.headers_mut(), nonce);
    res
}

pub fn security_headers(h: &mut HeaderMap, nonce: &str) {
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' blob: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The camera for this site only (the hosted flow's capture); nothing else.
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), payment=()"),
    );
}

/// `303 See Other` to a path of this site (after a form POST too).
pub fn see_other(to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    security_headers(res.headers_mut(), "-");
    res
}

/// A cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// How far a cookie travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on top-level navigations from elsewhere (the hosted link in an email).
    Lax,
    /// Never sent from another site (the back office).
    Strict,
}

/// Sets a cookie on the whole site; `Secure` when kycd is served over https.
pub fn set_cookie(
    res: &mut Response,
    state: &AppState,
    name: &str,
    value: &str,
    http_only: bool,
    same_site: SameSite,
) {
    let secure = if state.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let same_site = match same_site {
        SameSite::Lax => "Lax",
        SameSite::Strict => "Strict",
    };
    let c = format!("{name}={value}; Path=/; SameSite={same_site}{http_only}{secure}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}
