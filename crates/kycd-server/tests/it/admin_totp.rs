//! The back office's TOTP second factor over plain HTTP (both backends): an
//! operator enrols (the secret and otpauth URI shown once, a QR code), a
//! wrong first code is refused, the right one turns it on (audited); from
//! then on the password alone gives no session, the code does; a replayed or
//! wrong code counts toward the lockout; the secret is sealed at rest; the
//! reset `kycd operator reset-totp` runs removes it (audited).

use crate::admin::{operator, try_login};
use crate::common::*;
use crate::hosted::FormClient;
use reqwest::StatusCode;

/// The code of a base32 secret at a Unix time.
fn code_at(secret: &str, t: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("base32"))
        .with_account_name("test")
        .build()
        .expect("totp");
    totp.generate(t as u64).to_string()
}

/// A code that is not the right one now (nor within the skew).
fn wrong_code(secret: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let right: Vec<String> = (-1..=1).map(|k| code_at(secret, now + 30 * k)).collect();
    (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| !right.contains(c))
        .unwrap()
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let at = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let rest = &body[at..];
    &rest[..rest.find(end).unwrap()]
}

/// Signs in with the password, enrols, confirms with a first code; the secret.
async fn enrolled(app: &TestApp, email: &str) -> (String, String) {
    let (email, password) = operator(app, email, "reviewer", None).await;
    let mut client = FormClient::new(app);
    let p = try_login(&mut client, &email, &password).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = client.get("/admin/totp").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let secret = between(&page.body, "id=\"totp-secret\">", "<").to_string();
    let uri = between(&page.body, "id=\"totp-uri\">", "<").replace("&amp;", "&");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        page.body.contains("src=\"data:image/png;base64,"),
        "a QR code"
    );
    let csrf = page.csrf();
    let p = client
        .post_form(
            "/admin/totp",
            &[("csrf", &csrf), ("code", &wrong_code(&secret))],
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
    assert!(p.body.contains(&secret), "the same secret to retry");
    let code = code_at(&secret, chrono::Utc::now().timestamp());
    let p = client
        .post_form("/admin/totp", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains("id=\"totp-on\""), "{}", p.body);
    (email, password)
}

async fn operator_id(app: &TestApp, email: &str) -> String {
    let mut conn = app.state.store.reader().await.unwrap();
    kycd_store::operators::by_email(&mut conn, email)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn audit_actions(app: &TestApp, op_id: &str) -> Vec<String> {
    let mut conn = app.state.store.reader().await.unwrap();
    kycd_store::operators::audit_of(&mut conn, op_id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, action, _, _)| action)
        .collect()
}

both_backends!(totp_enrol_sign_in_and_reset, |app: TestApp| async move {
    let email = "totp@ops.test";
    let (email, password) = enrolled(&app, email).await;
    let op_id = operator_id(&app, &email).await;
    assert_eq!(audit_actions(&app, &op_id).await, ["operator.totp_enabled"]);

    // Sealed at rest: the stored value is not the base32 secret.
    {
        let mut conn = app.state.store.reader().await.unwrap();
        let t = kycd_store::operator_factors::totp(&mut conn, &op_id)
            .await
            .unwrap()
            .unwrap();
        assert!(t.confirmed_at.is_some());
        assert!(
            !t.secret_sealed
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
    }
    let secret = {
        // The secret as the operator's app knows it: from a fresh enrolment
        // page it cannot be read again, so recompute from the vault.
        let mut conn = app.state.store.writer().await.unwrap();
        let t = kycd_store::operator_factors::totp(&mut conn, &op_id)
            .await
            .unwrap()
            .unwrap();
        let key = app
            .state
            .vault
            .customer_key(
                &mut conn,
                kycd_store::KeyOwner::organization_wide("back_office", &op_id),
            )
            .await
            .unwrap();
        app.state
            .vault
            .open_str(&key, "back_office", &op_id, "totp_secret", &t.secret_sealed)
            .unwrap()
    };

    // The password alone: the code form, no session.
    let mut client = FormClient::new(&app);
    let p = try_login(&mut client, &email, &password).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(
        p.body.contains("action=\"/admin/login/totp\""),
        "{}",
        p.body
    );
    let p = client.get("/admin").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/admin/login");
    let form = try_login(&mut client, &email, &password).await;

    // The enrolment's code again (a replay) and a wrong code: refused.
    let now = chrono::Utc::now().timestamp();
    let replay = code_at(&secret, now - 30);
    let replay_now = code_at(&secret, now);
    let mut csrf = form.csrf();
    for code in [replay.as_str(), replay_now.as_str(), &wrong_code(&secret)] {
        let p = client
            .post_form("/admin/login/totp", &[("csrf", &csrf), ("code", code)])
            .await;
        // The code of the step the enrolment used may be the current one.
        if p.status == StatusCode::SEE_OTHER {
            assert_ne!(code, replay, "a replayed code signed in");
            break;
        }
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{}", p.body);
        assert!(p.body.contains("Wrong or already used code"), "{}", p.body);
        csrf = p.csrf();
    }
    // A code of the next step (inside the skew) signs in.
    let mut client = FormClient::new(&app);
    let form = try_login(&mut client, &email, &password).await;
    let code = code_at(&secret, chrono::Utc::now().timestamp() + 30);
    let p = client
        .post_form(
            "/admin/login/totp",
            &[("csrf", &form.csrf()), ("code", &code)],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), "/admin");
    assert_eq!(client.get("/admin").await.status, StatusCode::OK);
    // The same code again: refused (accepted once).
    let mut again = FormClient::new(&app);
    let form = try_login(&mut again, &email, &password).await;
    let p = again
        .post_form(
            "/admin/login/totp",
            &[("csrf", &form.csrf()), ("code", &code)],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{}", p.body);

    // The reset `kycd operator reset-totp --email` runs: password alone again.
    let (shown, removed) =
        kycd_server::admin::operators::reset_totp(&app.state.store, &*app.state.vault, &email)
            .await
            .unwrap();
    assert!(removed);
    assert_eq!(shown.email, email);
    let (_, removed) =
        kycd_server::admin::operators::reset_totp(&app.state.store, &*app.state.vault, &email)
            .await
            .unwrap();
    assert!(!removed, "nothing left to remove");
    assert_eq!(
        audit_actions(&app, &op_id).await,
        ["operator.totp_enabled", "operator.totp_reset"]
    );
    let mut client = FormClient::new(&app);
    let p = try_login(&mut client, &email, &password).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), "/admin");
});

both_backends!(
    totp_wrong_codes_lock_the_account,
    |app: TestApp| async move {
        let (email, password) = enrolled(&app, "totp-lock@ops.test").await;
        let mut client = FormClient::new(&app);
        let form = try_login(&mut client, &email, &password).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let mut csrf = form.csrf();
        for _ in 0..5 {
            let p = client
                .post_form("/admin/login/totp", &[("csrf", &csrf), ("code", "000000x")])
                .await;
            assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{}", p.body);
            csrf = p.csrf();
        }
        // Locked: even the password is refused now, with the lockout message.
        let p = try_login(&mut client, &email, &password).await;
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.body);
        assert!(p.body.contains("Too many failed sign-ins"), "{}", p.body);
        // A form without its token is refused before anything else.
        let p = client
            .post_form("/admin/login/totp", &[("csrf", "nope"), ("code", "123456")])
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    }
);
