//! `kycd key create|revoke` against a running server's database (SQLite,
//! then PostgreSQL when KYCD_TEST_POSTGRES_URL is set): a created key works
//! next to the existing ones, a revoked key gets `401 invalid_api_key` on the
//! very next request (no node keeps it cached), the other keys keep working,
//! and unknown or already revoked prefixes fail with a clear message.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

async fn settings_status(base: &str, key: &str) -> (u16, Value) {
    answer(
        reqwest::Client::new()
            .get(format!("{base}/v1/settings"))
            .bearer_auth(key),
    )
    .await
}

fn org_id(stdout_file: &Path) -> String {
    let out = std::fs::read_to_string(stdout_file).unwrap();
    let line = out
        .lines()
        .find(|l| l.starts_with("Created organization `default` ("))
        .unwrap_or_else(|| panic!("{out}"));
    line.split('(')
        .nth(1)
        .unwrap()
        .trim_end_matches(").")
        .to_string()
}

fn live_key(stdout_file: &Path) -> String {
    let out = std::fs::read_to_string(stdout_file).unwrap();
    out.lines()
        .find_map(|l| {
            l.split_once("Live API key (shown once, store it now):")
                .map(|(_, k)| k.trim().to_string())
        })
        .unwrap_or_else(|| panic!("{out}"))
}

async fn create_use_and_revoke(dir: &Path, db_url: Option<&str>) {
    let data = dir.join("data").to_str().unwrap().to_string();
    let (db, env) = database_flags(&data, db_url);
    let s = Server::start(dir, "serve", &[], &env);
    // The keys come last, after the listening line: wait for them.
    s.sandbox_key().expect("the first start prints the keys");
    let org = org_id(&s.stdout);
    let old_live = live_key(&s.stdout);
    let sandbox = s.sandbox_key().unwrap();

    let (ok, out, err) = cli(
        &[
            "key",
            "create",
            "--organization",
            &org,
            "--environment",
            "live",
        ],
        &db,
    );
    assert!(ok, "{out}\n{err}");
    let created: Value = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{out}"));
    let api_key = created["api_key"].as_str().unwrap().to_string();
    assert!(api_key.starts_with("sk_live_"), "{created}");
    assert_eq!(created["organization_id"], org.as_str());
    assert_eq!(created["environment"], "live");
    assert_eq!(created["prefix"], &api_key[..12]);
    assert!(created["id"].as_str().unwrap().starts_with("key_"));

    // Both live keys work side by side (a rotation), and are the same scope.
    for k in [&api_key, &old_live] {
        for _ in 0..3 {
            let (st, v) = settings_status(&s.base, k).await;
            assert_eq!(st, 200, "{v}");
            assert_eq!(v["environment"], "live");
        }
    }

    let prefix = created["prefix"].as_str().unwrap().to_string();
    let (ok, out, err) = cli(&["key", "revoke", &prefix], &db);
    assert!(ok, "{out}\n{err}");
    let revoked: Value = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{out}"));
    assert_eq!(revoked["id"], created["id"]);
    // The very next request, on the server that used the key a moment ago.
    let (st, v) = settings_status(&s.base, &api_key).await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"]["code"], "invalid_api_key");
    // The other keys are untouched.
    assert_eq!(settings_status(&s.base, &old_live).await.0, 200);
    assert_eq!(settings_status(&s.base, &sandbox).await.0, 200);

    // The old live key, revoked by its id: effective at once too.
    let old_id = {
        let (ok, out, err) = cli(
            &[
                "key",
                "create",
                "--organization",
                &org,
                "--environment",
                "sandbox",
            ],
            &db,
        );
        assert!(ok, "{err}");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert!(v["api_key"].as_str().unwrap().starts_with("sk_test_"));
        assert_eq!(
            settings_status(&s.base, v["api_key"].as_str().unwrap())
                .await
                .0,
            200
        );
        v["id"].as_str().unwrap().to_string()
    };
    let (ok, _, err) = cli(&["key", "revoke", &old_id], &db);
    assert!(ok, "{err}");

    // Errors: clear messages, non-zero exit, nothing changed.
    let (ok, _, err) = cli(&["key", "revoke", &prefix], &db);
    assert!(!ok);
    assert!(err.contains("revoked already"), "{err}");
    let (ok, _, err) = cli(&["key", "revoke", "sk_live_Zz9q"], &db);
    assert!(!ok);
    assert!(
        err.contains("no API key with prefix or id sk_live_Zz9q"),
        "{err}"
    );
    let (ok, _, err) = cli(&["key", "revoke", &old_live], &db);
    assert!(!ok, "a whole key is not a prefix");
    assert!(err.contains("not the whole key"), "{err}");
    assert!(!err.contains(&old_live), "the key is not echoed: {err}");
    let (ok, _, err) = cli(
        &[
            "key",
            "create",
            "--organization",
            "org_doesnotexist",
            "--environment",
            "live",
        ],
        &db,
    );
    assert!(!ok);
    assert!(err.contains("no organization org_doesnotexist"), "{err}");
    let (ok, _, _) = cli(
        &[
            "key",
            "create",
            "--organization",
            &org,
            "--environment",
            "production",
        ],
        &db,
    );
    assert!(!ok, "live or sandbox only");
    assert_eq!(settings_status(&s.base, &old_live).await.0, 200);
    assert_eq!(settings_status(&s.base, &api_key).await.0, 401);
    s.stop();
}

#[tokio::test]
async fn keys_are_created_and_revoked_at_once_on_sqlite() {
    in_fresh_dir("apikeys-sqlite", false, create_use_and_revoke).await;
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn keys_are_created_and_revoked_at_once_on_postgres() {
    in_fresh_dir("apikeys-pg", true, create_use_and_revoke).await;
}

/// The first start's keys come last, framed, and are kept in
/// `<data dir>/first-start.txt`, readable by the owner only.
#[test]
fn first_start_keys_are_printed_last_and_kept_in_a_private_file() {
    let dir = temp_dir("first-start");
    let s = Server::start(&dir, "serve", &[], &[]);
    let key = s.sandbox_key().expect("the first start prints the keys");
    let out = std::fs::read_to_string(&s.stdout).unwrap();
    let listening = out.find("kycd listening on").unwrap();
    assert!(
        out.find(&key).unwrap() > listening,
        "keys after the banner: {out}"
    );
    let file = dir.join("data").join("first-start.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&key), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    s.stop();
}
