//! The master key is proved against the database at start, with the real
//! binary: a missing key file is not regenerated once wrapped keys exist (a
//! wrong data dir or an unmounted volume stops the server), a wrong
//! `KYCD_MASTER_KEY` stops it, `KYCD_MASTER_KEY_PREVIOUS` is accepted during
//! a rotation, the key file may live outside the data dir, a key file others
//! can read is warned about, and empty or short shared secrets are refused.

use crate::common::*;
use serde_json::json;
use std::path::Path;

/// Creates a customer with an identifier (a wrapped data key and a wrapped
/// blind-index key get stored); returns its id.
async fn customer(base: &str, key: &str, ext: &str) -> String {
    create_customer(
        base,
        key,
        json!({"type": "individual", "external_id": ext, "identifiers": [{"type": "cpf", "value": "529.982.247-25"}]}),
    )
    .await
}

async fn status_of(base: &str, key: &str, id: &str) -> u16 {
    get_bytes(base, key, &format!("/v1/customers/{id}")).await.0
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_missing_key_file_is_not_regenerated_once_data_exists() {
    let dir = temp_dir("mk-missing");
    let s = Server::start(&dir, "one", &[], &[]);
    let key = s.sandbox_key().unwrap();
    let id = customer(&s.base, &key, "mk-1").await;
    s.stop();
    let key_file = dir.join("data/master.key");
    let moved = dir.join("master.key.elsewhere");
    std::fs::rename(&key_file, &moved).unwrap();

    let r = serve_until_exit(&dir, "two", &[], &[]);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(
        r.output.contains("does not exist") && r.output.contains("refusing to generate a new key"),
        "{}",
        r.output
    );
    assert!(
        r.output.contains(&key_file.display().to_string()),
        "names the file: {}",
        r.output
    );
    assert!(!key_file.exists(), "no new key was generated");
    assert!(
        !files_in(&dir.join("data"))
            .iter()
            .any(|f| f.contains("master.key")),
        "{:?}",
        files_in(&dir.join("data"))
    );

    // The key file, back in place: everything reads again.
    std::fs::rename(&moved, &key_file).unwrap();
    let s = Server::start(&dir, "three", &[], &[]);
    assert_eq!(status_of(&s.base, &key, &id).await, 200);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn a_wrong_data_dir_on_a_shared_database_refuses_to_start() {
    let db = fresh_postgres_url().await;
    let env = [("KYCD_DATABASE_URL", db.as_str())];
    let first = temp_dir("mk-pg-first");
    let s = Server::start(&first, "one", &[], &env);
    let key = s.sandbox_key().unwrap();
    customer(&s.base, &key, "mk-pg").await;
    s.stop();
    // Same database, another (empty, e.g. unmounted) data dir.
    let other = temp_dir("mk-pg-other");
    let r = serve_until_exit(&other, "two", &[], &env);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(
        r.output.contains("refusing to generate a new key"),
        "{}",
        r.output
    );
    assert!(!other.join("data/master.key").exists(), "no second key");
    let _ = std::fs::remove_dir_all(&first);
    let _ = std::fs::remove_dir_all(&other);
}

#[tokio::test]
async fn a_wrong_master_key_refuses_to_start_and_the_previous_key_is_accepted() {
    let dir = temp_dir("mk-wrong");
    let s = Server::start(&dir, "k1", &[], &[("KYCD_MASTER_KEY", K1)]);
    let key = s.sandbox_key().unwrap();
    let id = customer(&s.base, &key, "mk-w").await;
    s.stop();

    let r = serve_until_exit(&dir, "k2", &[], &[("KYCD_MASTER_KEY", K2)]);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(
        r.output.contains("wrong master key from KYCD_MASTER_KEY")
            && r.output
                .contains("does not unwrap the keys stored in this database"),
        "{}",
        r.output
    );
    assert!(
        !r.output.contains(K1) && !r.output.contains(K2),
        "no key material"
    );
    // An unset KYCD_MASTER_KEY falls back to a key file: none may be generated.
    let r = serve_until_exit(&dir, "none", &[], &[]);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(!dir.join("data/master.key").exists());

    // During a rotation: the new key, with the old one as the previous key.
    let s = Server::start(
        &dir,
        "k2k1",
        &[],
        &[("KYCD_MASTER_KEY", K2), ("KYCD_MASTER_KEY_PREVIOUS", K1)],
    );
    assert_eq!(status_of(&s.base, &key, &id).await, 200);
    s.stop();
    let s = Server::start(&dir, "k1again", &[], &[("KYCD_MASTER_KEY", K1)]);
    assert_eq!(status_of(&s.base, &key, &id).await, 200);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_key_file_may_live_outside_the_data_dir() {
    let dir = temp_dir("mk-outside");
    let secrets = temp_dir("mk-outside-secrets");
    let key_file = secrets.join("kycd/master.key");
    let key_file_s = key_file.to_str().unwrap().to_string();
    let env = [("KYCD_MASTER_KEY_FILE", key_file_s.as_str())];
    let s = Server::start(&dir, "one", &[], &env);
    let key = s.sandbox_key().unwrap();
    let id = customer(&s.base, &key, "mk-o").await;
    let out = s.stop();
    assert!(key_file.exists(), "created where KYCD_MASTER_KEY_FILE says");
    assert!(!dir.join("data/master.key").exists(), "not in the data dir");
    assert!(!out.contains("readable by other users"), "{out}");
    #[cfg(unix)]
    assert_eq!(mode_of(&key_file), 0o600);
    // The flag works as the variable does.
    let s = Server::start(&dir, "two", &["--master-key-file", &key_file_s], &[]);
    assert_eq!(status_of(&s.base, &key, &id).await, 200);
    s.stop();
    // Without it, the data dir has no key: refused, nothing generated there.
    let r = serve_until_exit(&dir, "three", &[], &[]);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(!dir.join("data/master.key").exists());

    // A key file others can read: the server starts and warns.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = Server::start(&dir, "four", &[], &env);
        assert_eq!(status_of(&s.base, &key, &id).await, 200);
        let out = s.stop();
        let line = out
            .lines()
            .find(|l| l.contains("readable by other users"))
            .unwrap_or_else(|| panic!("a warning line: {out}"));
        assert!(line.contains("WARN") || line.contains("warn"), "{line}");
        assert!(line.contains("chmod 600") && line.contains("644"), "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&secrets);
}

#[test]
fn empty_blank_or_short_shared_secrets_refuse_to_start() {
    let dir = temp_dir("mk-secret");
    for (secret, says) in [
        ("", "is set but empty"),
        ("   ", "is set but empty"),
        ("only-15-bytes!!", "shorter than 16 bytes"),
    ] {
        let r = serve_until_exit(
            &dir,
            "secret",
            &[],
            &[("KYCD_SUMSUB_WEBHOOK_SECRET", secret)],
        );
        assert!(!r.started && !r.success, "{secret:?}: {}", r.output);
        assert!(
            r.output.contains("KYCD_SUMSUB_WEBHOOK_SECRET") && r.output.contains(says),
            "{secret:?}: {}",
            r.output
        );
    }
    let s = Server::start(
        &dir,
        "long",
        &[],
        &[("KYCD_SUMSUB_WEBHOOK_SECRET", "a-long-enough-shared-secret")],
    );
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

// README: an invalid master key stops `serve` before it opens anything: not
// base64, or base64 of anything but 32 bytes. The message does not echo it,
// and no key file is generated in its place.
#[test]
fn an_invalid_master_key_stops_serve() {
    for (tag, bad) in [
        ("notb64", "this is not base64 at all!"),
        ("short", "MDEyMzQ1Njc4OWFiY2RlZg=="), // 16 bytes
        ("long", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIz"), // 36 bytes
    ] {
        let dir = temp_dir(&format!("mk-invalid-{tag}"));
        let r = serve_until_exit(&dir, tag, &[], &[("KYCD_MASTER_KEY", bad)]);
        assert!(!r.started && !r.success, "{tag}: {}", r.output);
        assert!(
            r.output.to_lowercase().contains("master key"),
            "{tag}: the message names the master key: {}",
            r.output
        );
        assert!(!r.output.contains(bad), "{tag}: the value is not echoed");
        assert!(
            !dir.join("data/master.key").exists(),
            "{tag}: no key generated"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
