//! The optional second factor of the back office (RFC 6238 TOTP, `totp-rs`):
//! an operator enrols at `/admin/totp` (the otpauth URI as text and as a QR
//! code) and confirms with a first code; from then on the sign-in asks for a
//! code after the password, held server-side as a pending sign-in, and a
//! wrong code counts toward the same lockout as a wrong password. The secret
//! is sealed by the vault; a code's time step is accepted once (no replay);
//! `kycd operator reset-totp` removes it. Enrolment and reset are audited.

use super::{Fields, LOCKOUT_MINUTES, Signed, fail, field, signed_form, signed_in};
use crate::service::ServiceResult;
use crate::state::AppState;
use crate::web::{
    SameSite, cookie, or_page, page, random_token, see_other, set_cookie, sha256_hex,
};
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use kycd_store::KeyOwner;
use kycd_store::db::Conn;
use kycd_store::operator_factors as db;
use kycd_store::operators::{self as ops, Operator};
use kycd_store::{Scope, Store};
use maud::{Markup, html};
use serde_json::json;
use std::net::SocketAddr;
use totp_rs::{Secret, Totp};

/// The pending sign-in's cookie (a random id; only its hash is stored).
const PENDING_COOKIE: &str = "kycd_admin_2fa";
/// A pending sign-in must be completed within this many minutes.
const PENDING_MINUTES: i64 = 5;
/// The vault's owner slot for operators' secrets (not an organization).
const VAULT_ORG: &str = "back_office";
const VAULT_FIELD: &str = "totp_secret";
const ISSUER: &str = "kycd";

fn totp_of(secret_b32: &str, email: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(email)
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

async fn seal(
    state: &AppState,
    conn: &mut Conn,
    op: &Operator,
    b32: &str,
) -> ServiceResult<String> {
    let key = state
        .vault
        .customer_key(conn, KeyOwner::organization_wide(VAULT_ORG, &op.id))
        .await?;
    state
        .vault
        .seal_str(&key, VAULT_ORG, &op.id, VAULT_FIELD, b32)
}

async fn open(
    state: &AppState,
    conn: &mut Conn,
    op: &Operator,
    sealed: &str,
) -> ServiceResult<String> {
    let key = state
        .vault
        .customer_key(conn, KeyOwner::organization_wide(VAULT_ORG, &op.id))
        .await?;
    state
        .vault
        .open_str(&key, VAULT_ORG, &op.id, VAULT_FIELD, sealed)
}

/// Accepts a code of the operator's secret once (its time step is recorded).
async fn accept(
    state: &AppState,
    conn: &mut Conn,
    op: &Operator,
    t: &db::Totp,
    code: &str,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let b32 = open(state, conn, op, &t.secret_sealed).await?;
    let Some(totp) = totp_of(&b32, &op.email) else {
        return Ok(false);
    };
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = totp.check(&code, now.timestamp().max(0) as u64) else {
        return Ok(false);
    };
    Ok(db::accept_step(conn, &op.id, step as i64, now).await?)
}

/// Records an operator's second-factor change in the audit log.
async fn audit(
    conn: &mut Conn,
    keys: &dyn kycd_store::audit::EntryMac,
    op: &Operator,
    actor: &str,
    action: &str,
) -> ServiceResult<()> {
    let org = op.organization_id.clone().unwrap_or_else(|| "*".into());
    kycd_store::customers::insert_audit(
        conn,
        keys,
        &Scope::new(org, "*"),
        actor,
        action,
        Some(&op.id),
        &json!({"operator": op.id, "email": op.email}),
        Utc::now(),
    )
    .await?;
    Ok(())
}

// ---- sign-in ------------------------------------------------------------------

/// After a right password: when the operator has a confirmed second factor,
/// the code form (and the pending sign-in behind it) instead of a session.
pub(super) async fn after_password(
    state: &AppState,
    conn: &mut Conn,
    op: &Operator,
    now: DateTime<Utc>,
) -> ServiceResult<Option<Response>> {
    let enrolled = db::totp(conn, &op.id)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some());
    if !enrolled {
        return Ok(None);
    }
    let id = random_token();
    db::insert_pending(
        conn,
        &sha256_hex(&id),
        &op.id,
        now,
        now - chrono::Duration::minutes(PENDING_MINUTES),
    )
    .await?;
    let mut res = code_form(state, StatusCode::OK, None);
    set_cookie(&mut res, state, PENDING_COOKIE, &id, true, SameSite::Strict);
    Ok(Some(res))
}

fn code_form(state: &AppState, status: StatusCode, error: Option<&str>) -> Response {
    let csrf = random_token();
    let nonce = random_token();
    let body = html! {
        div.login {
            h1 { "Second factor" }
            @if let Some(e) = error { p.error role="alert" id="login-error" { (e) } }
            form method="post" action="/admin/login/totp" {
                input type="hidden" name="csrf" value=(csrf);
                label for="code" { "Code from your authenticator app" }
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" required autofocus;
                p { button type="submit" { "Verify" } }
            }
            p.muted { "Lost the device? An admin removes the second factor with " code { "kycd operator reset-totp" } "." }
        }
    };
    let mut res = page(
        status,
        &nonce,
        super::pages::frame(&nonce, "Second factor", None, body),
    );
    super::set_login_csrf(&mut res, state, &csrf);
    res
}

/// `POST /admin/login/totp`: the code of a pending sign-in.
pub(super) async fn login_code(
    State(state): State<AppState>,
    ext: Extensions,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    if let Some(refused) = super::login_form_refused(&headers, &f) {
        return refused;
    }
    let now = Utc::now();
    let restart = || see_other("/admin/login?expired=1");
    let Some(pending_id) = cookie(&headers, PENDING_COOKIE).filter(|c| !c.is_empty()) else {
        return restart();
    };
    let pending_hash = sha256_hex(&pending_id);
    let mut conn = match state.store.writer().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let op = async {
        let Some((op_id, at)) = db::pending(&mut conn, &pending_hash).await? else {
            return Ok(None);
        };
        if at + chrono::Duration::minutes(PENDING_MINUTES) <= now {
            db::end_pending(&mut conn, &pending_hash).await?;
            return Ok(None);
        }
        ops::by_id(&mut conn, &op_id).await
    }
    .await;
    let op = match op {
        Ok(Some(op)) if op.disabled_at.is_none() => op,
        Ok(_) => return restart(),
        Err(e) => return fail(e),
    };
    let address = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let account = format!("account:{}", op.email);
    let address = format!("address:{address}");
    let since = now - chrono::Duration::minutes(LOCKOUT_MINUTES);
    if let Some(locked) = super::lockout(&state, &mut conn, &account, &address, since).await {
        let _ = db::end_pending(&mut conn, &pending_hash).await;
        return locked;
    }
    let code = field(&f, "code").unwrap_or("");
    let ok = async {
        let Some(t) = db::totp(&mut conn, &op.id).await? else {
            return Ok(false);
        };
        accept(&state, &mut conn, &op, &t, code, now).await
    }
    .await;
    match ok {
        Ok(true) => {}
        Ok(false) => {
            if let Err(e) = ops::record_failure(&mut conn, &[&account, &address], now).await {
                return fail(e);
            }
            return code_form(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("Wrong or already used code."),
            );
        }
        Err(e) => return fail(e),
    }
    if let Err(e) = db::end_pending(&mut conn, &pending_hash).await {
        return fail(e);
    }
    let mut res = super::open_session(&state, &mut conn, &op.id, &account, now).await;
    set_cookie(&mut res, &state, PENDING_COOKIE, "", true, SameSite::Strict);
    res
}

// ---- enrolment ---------------------------------------------------------------------

fn enrol_page(who: &Signed, b32: &str, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = random_token();
    let totp = totp_of(b32, &who.op.email);
    let uri = totp
        .as_ref()
        .and_then(|t| t.to_url().ok())
        .unwrap_or_default();
    let qr = totp.as_ref().and_then(|t| t.to_qr_base64().ok());
    let body: Markup = html! {
        h1 { "Second factor" }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        div.card {
            p { "Add this account to an authenticator app (RFC 6238: 6 digits, 30 seconds, SHA-1), then enter its first code. From then on, signing in asks for a code after the password." }
            @if let Some(q) = qr {
                p { img #totp-qr alt="QR code of the otpauth URI" width="200" height="200" src={"data:image/png;base64," (q)}; }
            }
            dl {
                dt { "Secret" } dd { code #totp-secret { (b32) } }
                dt { "otpauth URI" } dd { code #totp-uri { (uri) } }
            }
            form method="post" action="/admin/totp" {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="code" { "First code" }
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required;
                p { button type="submit" { "Turn on" } }
            }
        }
    };
    page(
        status,
        &nonce,
        super::pages::frame(&nonce, "Second factor", Some(who), body),
    )
}

fn enabled_page(who: &Signed, done: bool) -> Response {
    let nonce = random_token();
    let body = html! {
        h1 { "Second factor" }
        @if done { p.flash role="status" { "Done: the second factor is on." } }
        div.card {
            p #totp-on { "Signing in asks for a code from your authenticator app after the password." }
            p.muted { "To change the device, ask an admin to remove it (" code { "kycd operator reset-totp --email …" } "), then enrol again." }
        }
    };
    page(
        StatusCode::OK,
        &nonce,
        super::pages::frame(&nonce, "Second factor", Some(who), body),
    )
}

/// `GET /admin/totp`: a new secret to enrol (or the factor is on already).
pub(super) async fn enrol(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = or_page!(signed_in(&state, &headers).await);
    let mut conn = match state.store.writer().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let r = async {
        if db::totp(&mut conn, &who.op.id)
            .await?
            .is_some_and(|t| t.confirmed_at.is_some())
        {
            return Ok(None);
        }
        let mut raw = [0u8; 20];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
        let b32 = Secret::from(raw).to_base32();
        let sealed = seal(&state, &mut conn, &who.op, &b32).await?;
        db::start_totp(&mut conn, &who.op.id, &sealed, Utc::now()).await?;
        Ok::<_, crate::service::ServiceError>(Some(b32))
    }
    .await;
    match r {
        Ok(Some(b32)) => enrol_page(&who, &b32, StatusCode::OK, None),
        Ok(None) => enabled_page(&who, false),
        Err(e) => fail(e),
    }
}

/// `POST /admin/totp`: the first code confirms the enrolment.
pub(super) async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let who = or_page!(signed_form(&state, &headers, &f).await);
    let mut conn = match state.store.writer().await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let t = match db::totp(&mut conn, &who.op.id).await {
        Ok(Some(t)) => t,
        Ok(None) => return see_other("/admin/totp"),
        Err(e) => return fail(e),
    };
    if t.confirmed_at.is_some() {
        return enabled_page(&who, false);
    }
    let code = field(&f, "code").unwrap_or("");
    match accept(&state, &mut conn, &who.op, &t, code, Utc::now()).await {
        Ok(true) => {
            if let Err(e) = audit(
                &mut conn,
                &*state.vault,
                &who.op,
                &who.actor(),
                "operator.totp_enabled",
            )
            .await
            {
                return fail(e);
            }
            enabled_page(&who, true)
        }
        Ok(false) => match open(&state, &mut conn, &who.op, &t.secret_sealed).await {
            Ok(b32) => enrol_page(
                &who,
                &b32,
                StatusCode::BAD_REQUEST,
                Some("Wrong code: enter the code your app shows now."),
            ),
            Err(e) => fail(e),
        },
        Err(e) => fail(e),
    }
}

// ---- the CLI ----------------------------------------------------------------------------

/// Removes an operator's second factor (`kycd operator reset-totp`), ends
/// its pending sign-ins and records it; `false` when it had none.
pub async fn reset(
    store: &Store,
    keys: &dyn kycd_store::audit::EntryMac,
    op: &Operator,
) -> anyhow::Result<bool> {
    let mut conn = store.writer().await?;
    let removed = db::remove_totp(&mut conn, &op.id).await?;
    if removed {
        audit(&mut conn, keys, op, "cli", "operator.totp_reset")
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "recording the reset: {}",
                    crate::error::ApiError::from(e).message
                )
            })?;
    }
    Ok(removed)
}
