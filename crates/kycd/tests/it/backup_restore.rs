//! Backups restored with the real binary. SQLite: `kycd backup` while a
//! writer loop creates customers through a running server; the copy, with
//! the master key file and the blobs beside it, starts a new server that
//! reads back every customer the copy has, whole and decrypted, and the
//! document; an existing path is never overwritten. PostgreSQL: `kycd
//! backup` points to `pg_dump`, and a `pg_dump` / `pg_restore` round trip
//! of a kycd database is read back by a server.

use crate::common::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Creates an individual named `first last`; returns its id.
async fn create(base: &str, key: &str, first: &str, last: &str) -> String {
    create_customer(
        base,
        key,
        json!({"type": "individual",
               "individual": {"first_name": first, "last_name": last},
               "identifiers": [{"type": "cpf", "value": "529.982.247-25"}]}),
    )
    .await
}

async fn customer(base: &str, key: &str, id: &str) -> Value {
    let (status, c) = answer(
        reqwest::Client::new()
            .get(format!("{base}/v1/customers/{id}"))
            .bearer_auth(key),
    )
    .await;
    assert_eq!(status, 200, "{id}");
    c
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_sqlite_backup_taken_under_load_restores() {
    let _heavy = heavy().await;
    let dir = temp_dir("backup");
    let data = dir.join("data");
    let s = Server::start(&dir, "live", &[], &[]);
    let key = s.sandbox_key().unwrap();
    let base = s.base.clone();
    let http = reqwest::Client::new();
    let first = create(&base, &key, "Ada", "Lovelace").await;
    let doc_bytes = jpeg("backup-document");
    let doc = add_passport(&base, &key, &first, &doc_bytes).await;

    // The writer loop: customers named after their number, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, count, base, key) = (stop.clone(), count.clone(), base.clone(), key.clone());
        tokio::spawn(async move {
            let mut names = HashMap::new();
            while !stop.load(Ordering::SeqCst) {
                let n = names.len();
                let id = create(&base, &key, &format!("Writer{n}"), "Loop").await;
                names.insert(id, n);
                count.store(names.len(), Ordering::SeqCst);
            }
            names
        })
    };
    while count.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let backup = dir.join("kycd-backup.db");
    let before = count.load(Ordering::SeqCst);
    let out = {
        let (data, backup) = (data.clone(), backup.clone());
        tokio::task::spawn_blocking(move || {
            run(
                &[
                    "backup",
                    backup.to_str().unwrap(),
                    "--data-dir",
                    data.to_str().unwrap(),
                ],
                &[],
            )
        })
        .await
        .unwrap()
    };
    let during = count.load(Ordering::SeqCst);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("integrity_check ok"), "{stdout}");
    // The reminder names the key file and the blobs, which the copy lacks.
    assert!(
        stdout.contains("NOT in this backup")
            && stdout.contains(&data.join("master.key").display().to_string())
            && stdout.contains(&data.join("blobs").display().to_string()),
        "{stdout}"
    );
    // The writer keeps going after the backup.
    while count.load(Ordering::SeqCst) < during + 20 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let names = writer.await.unwrap();

    // Never overwritten: a second backup to the same path fails, the copy unchanged.
    let saved = std::fs::read(&backup).unwrap();
    let again = run(
        &[
            "backup",
            backup.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(&backup).unwrap(), saved);
    s.stop();

    // Restore: the copy as kycd.db, with the key file and the blobs.
    let restored = temp_dir("backup-restored");
    let rdata = restored.join("data");
    std::fs::create_dir_all(&rdata).unwrap();
    std::fs::copy(&backup, rdata.join("kycd.db")).unwrap();
    std::fs::copy(data.join("master.key"), rdata.join("master.key")).unwrap();
    copy_dir(&data.join("blobs"), &rdata.join("blobs"));
    {
        let store =
            kycd_store::Store::connect(&format!("sqlite://{}", rdata.join("kycd.db").display()))
                .await
                .unwrap();
        let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut *store.reader().await.unwrap())
            .await
            .unwrap();
        assert_eq!(check, vec!["ok".to_string()]);
        store.close().await;
    }
    let r = Server::start(&restored, "restored", &[], &[]);
    let listed = list_all(&http, &r.base, &key, "/v1/customers").await;
    let in_copy = listed.len() - 1; // less Ada
    // One writer with one request in flight: a customer committed before
    // the copy's snapshot may not be counted yet when the backup returns.
    assert!(
        in_copy >= before && in_copy <= during + 1,
        "the copy has {in_copy} writer customers: at least the {before} created before the backup \
         started, at most the {during} (+1 in flight) created when it ended ({} in all)",
        names.len()
    );
    assert!(names.len() > during, "writes went on after the backup");
    println!(
        "backup under load: {before} writer customers before it, {during} after, {in_copy} in the copy, {} in all",
        names.len()
    );
    // Every customer the copy has is whole: it reads back, decrypted.
    for c in &listed {
        let id = c["id"].as_str().unwrap();
        let full = customer(&r.base, &key, id).await;
        if id == first {
            assert_eq!(full["individual"]["first_name"], "Ada");
            continue;
        }
        let n = names
            .get(id)
            .unwrap_or_else(|| panic!("{id} was not created by the writer"));
        assert_eq!(full["individual"]["first_name"], format!("Writer{n}"));
        assert_eq!(full["individual"]["last_name"], "Loop");
        assert_eq!(full["identifiers"][0]["last4"], "4725");
    }
    // The copy is a prefix of the writer's sequence: one point in time.
    let mut numbers: Vec<usize> = listed
        .iter()
        .filter_map(|c| names.get(c["id"].as_str().unwrap()).copied())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..in_copy).collect::<Vec<_>>());
    assert_eq!(
        document_content(&r.base, &key, &first, &doc).await,
        (200, doc_bytes)
    );
    r.stop();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&restored);
}

#[tokio::test]
async fn backup_refuses_a_missing_database() {
    let dir = temp_dir("backup-none");
    let out = run(
        &[
            "backup",
            dir.join("copy.db").to_str().unwrap(),
            "--data-dir",
            dir.join("data").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("there is no SQLite database at"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("copy.db").exists());
    assert!(!dir.join("data").exists(), "nothing created");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A command that must succeed; returns its stdout.
fn must(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (PostgreSQL client tools are needed): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn postgres_backup_is_pg_dump_and_restores() {
    let dir = temp_dir("backup-pg");
    let db = fresh_postgres_url().await;
    let env = [("KYCD_DATABASE_URL", db.as_str())];
    let data = dir.join("data");

    // `kycd backup` does not pretend: it points to pg_dump.
    let out = run(
        &[
            "backup",
            dir.join("copy.db").to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &env,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("pg_dump") && stderr.contains("backups-and-upgrades"),
        "{stderr}"
    );
    assert!(!stderr.contains(&db), "the URL is not echoed");
    assert!(!dir.join("copy.db").exists());

    let s = Server::start(&dir, "pg", &[], &env);
    let key = s.sandbox_key().unwrap();
    let mut ids = vec![];
    for n in 0..5 {
        ids.push(create(&s.base, &key, &format!("Pg{n}"), "Dump").await);
    }
    let doc_bytes = jpeg("pg-dump-document");
    let doc = add_passport(&s.base, &key, &ids[0], &doc_bytes).await;
    s.stop();

    let dump = dir.join("kycd.dump");
    must(
        "pg_dump",
        &[
            "--format=custom",
            "--file",
            dump.to_str().unwrap(),
            "--dbname",
            &db,
        ],
    );
    let (server, _) = db.rsplit_once('/').unwrap();
    let restored = kycd_store::create_postgres_database(
        &format!("{server}/postgres"),
        &format!("kycd_restored_{}", std::process::id()),
    )
    .await
    .unwrap();
    must(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            &restored,
            dump.to_str().unwrap(),
        ],
    );
    // The restored database, with the same data dir (master key, blobs).
    let r = Server::start(
        &dir,
        "pg-restored",
        &[],
        &[("KYCD_DATABASE_URL", &restored)],
    );
    for (n, id) in ids.iter().enumerate() {
        let c = customer(&r.base, &key, id).await;
        assert_eq!(c["individual"]["first_name"], format!("Pg{n}"));
    }
    assert_eq!(
        document_content(&r.base, &key, &ids[0], &doc).await,
        (200, doc_bytes)
    );
    r.stop();
    let out = run(
        &["migrate", "--check", "--data-dir", data.to_str().unwrap()],
        &[("KYCD_DATABASE_URL", &restored)],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the migrations table came along"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
