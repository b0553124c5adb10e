//! `kycd operator create|list|disable|reset-password|reset-totp` against a running
//! server's database (SQLite, then PostgreSQL): the printed password signs in
//! at `/admin/login`, a disabled operator cannot, a reset password replaces
//! the old one, and bad input fails with a clear message; `kycd audit
//! verify` checks the audit chain of the same database.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

/// Signs in through the form (its CSRF cookie first); the status of the POST.
async fn sign_in(base: &str, email: &str, password: &str) -> u16 {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap();
    let cookie = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = cookie.split_once('=').unwrap().1.to_string();
    client
        .post(format!("{base}/admin/login"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn operators(dir: &Path, db_url: Option<&str>) {
    let data = dir.join("data").to_str().unwrap().to_string();
    let (db, env) = database_flags(&data, db_url);
    let s = Server::start(dir, "serve", &[], &env);

    let (ok, out, err) = cli(
        &[
            "operator",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "reviewer",
        ],
        &db,
    );
    assert!(ok, "{out}\n{err}");
    let op: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(op["id"].as_str().unwrap().starts_with("op_"), "{op}");
    assert_eq!(op["email"], "ops@example.com");
    assert_eq!(op["role"], "reviewer");
    assert_eq!(op["organization_id"], Value::Null);
    let password = op["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 20);
    assert_eq!(sign_in(&s.base, "ops@example.com", &password).await, 303);
    assert_eq!(sign_in(&s.base, "ops@example.com", "wrong").await, 401);

    // The same email twice, an unknown role or organization: refused.
    let (ok, _, err) = cli(
        &[
            "operator",
            "create",
            "--email",
            "ops@example.com",
            "--role",
            "viewer",
        ],
        &db,
    );
    assert!(!ok && err.contains("exists"), "{err}");
    let (ok, _, err) = cli(
        &[
            "operator",
            "create",
            "--email",
            "b@example.com",
            "--role",
            "boss",
        ],
        &db,
    );
    assert!(!ok && err.contains("--role"), "{err}");
    let (ok, _, err) = cli(
        &[
            "operator",
            "create",
            "--email",
            "b@example.com",
            "--role",
            "viewer",
            "--organization",
            "org_nope",
        ],
        &db,
    );
    assert!(!ok && err.contains("--organization"), "{err}");

    // The list never shows a password or a hash.
    let (ok, out, err) = cli(&["operator", "list"], &db);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        !out.contains("password") && !out.contains("argon2"),
        "{out}"
    );

    // A reset replaces the password; disabling stops sign-in.
    let (ok, out, err) = cli(&["operator", "reset-password", "ops@example.com"], &db);
    assert!(ok, "{err}");
    let reset: Value = serde_json::from_str(out.trim()).unwrap();
    let new_password = reset["password"].as_str().unwrap();
    assert_ne!(new_password, password);
    assert_eq!(sign_in(&s.base, "ops@example.com", &password).await, 401);
    assert_eq!(sign_in(&s.base, "ops@example.com", new_password).await, 303);
    // `reset-totp --email`: nothing to remove here (the enrolment and its
    // removal are in kycd-server's tests/it/admin_totp.rs); an unknown email fails.
    let (ok, out, err) = cli(
        &["operator", "reset-totp", "--email", "ops@example.com"],
        &db,
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["totp_removed"], false, "{v}");
    assert_eq!(v["email"], "ops@example.com", "{v}");
    let (ok, _, err) = cli(
        &["operator", "reset-totp", "--email", "nobody@example.com"],
        &db,
    );
    assert!(!ok && err.contains("no operator"), "{err}");
    let (ok, out, err) = cli(&["operator", "disable", op["id"].as_str().unwrap()], &db);
    assert!(ok && out.contains("\"disabled\":true"), "{out}\n{err}");
    assert_eq!(sign_in(&s.base, "ops@example.com", new_password).await, 401);

    // The audit chain of this database holds.
    let (ok, out, err) = cli(&["audit", "verify"], &db);
    assert!(ok, "{out}\n{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["entries"].as_u64().is_some(), "{v}");
    s.stop();
}

#[tokio::test]
async fn operators_are_managed_from_the_cli_on_sqlite() {
    in_fresh_dir("operators-sqlite", false, operators).await;
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn operators_are_managed_from_the_cli_on_postgres() {
    in_fresh_dir("operators-pg", true, operators).await;
}
