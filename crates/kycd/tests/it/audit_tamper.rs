//! The audit log against tampering in the database, through the `kycd`
//! binary on SQLite and PostgreSQL: the server's sealer logs the chain's
//! head (`audit chain head`, the anchor a SIEM keeps); cutting the newest
//! entries is invisible to `kycd audit verify` alone but `--head SEQ:HASH`
//! with a logged head names it; an entry edited before it was sealed (here:
//! written by `kycd import`, which runs no sealer) is named by its MAC.

use crate::common::TestDb as Db;
use crate::common::*;
use serde_json::{Value, json};
use sqlx::Connection;
use std::time::{Duration, Instant};

impl Db {
    /// `kycd ARGS --data-dir … [--database-url …]`: (success, stdout, stderr).
    fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.args.iter().map(String::as_str));
        let out = run(&all, &[("KYCD_MASTER_KEY", MASTER_KEY)]);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// `kycd audit verify [EXTRA]`: its verdict and whether it exited 0.
    fn verify(&self, extra: &[&str]) -> (bool, Value) {
        let mut args = vec!["audit", "verify"];
        args.extend_from_slice(extra);
        let (ok, out, err) = self.cli(&args);
        let v = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{out}\n{err}"));
        (ok, v)
    }

    async fn sql(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&self.url).await.unwrap()
    }
}

/// The heads the sealer logged (JSON log lines), in order.
fn logged_heads(log: &str) -> Vec<(i64, String)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "audit chain head")
        .filter_map(|v| Some((v["seq"].as_i64()?, v["hash"].as_str()?.to_string())))
        .collect()
}

fn output(s: &Server) -> String {
    format!(
        "{}\n{}",
        std::fs::read_to_string(&s.stdout).unwrap_or_default(),
        std::fs::read_to_string(&s.stderr).unwrap_or_default()
    )
}

/// Waits until every audit entry is sealed and the sealer logged the head
/// of the whole chain; returns that head.
async fn sealed_head(s: &Server, db: &Db) -> (i64, String) {
    let start = Instant::now();
    loop {
        let mut conn = db.sql().await;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        if let Some(h) = logged_heads(&output(s)).last()
            && h.0 == total
        {
            return h.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no head logged for {total} entries: {}",
            output(s)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn tamper(postgres: bool) {
    let dir = temp_dir(if postgres { "audit-pg" } else { "audit-sqlite" });
    let db = Db::new(&dir, postgres).await;
    let mut env = vec![("KYCD_MASTER_KEY", MASTER_KEY), ("KYCD_LOG_FORMAT", "json")];
    if postgres {
        env.push(("KYCD_DATABASE_URL", db.url.as_str()));
    }
    let s = Server::start(&dir, "serve", &[], &env);
    let key = s
        .sandbox_key()
        .expect("the first start prints a sandbox key");
    let client = reqwest::Client::new();
    let create = |n: u32| {
        let (client, base, key) = (client.clone(), s.base.clone(), key.clone());
        async move {
            post_ok(
                &client,
                &base,
                &key,
                "/v1/customers",
                json!({"type": "individual", "external_id": format!("audit-{n}")}),
            )
            .await;
        }
    };
    for n in 0..3 {
        create(n).await;
    }
    let early = sealed_head(&s, &db).await;
    for n in 3..6 {
        create(n).await;
    }
    let head = sealed_head(&s, &db).await;
    assert!(head.0 >= early.0 + 3, "{early:?} then {head:?}");
    s.stop();
    let anchor = |h: &(i64, String)| format!("{}:{}", h.0, h.1);

    // As it was logged, the chain holds; the flag is optional.
    let (ok, v) = db.verify(&[]);
    assert!(ok, "{v}");
    assert_eq!(v, json!({"entries": head.0, "ok": true}));
    let (ok, v) = db.verify(&["--head", &anchor(&head)]);
    assert!(ok, "{v}");
    let (ok, _, err) = db.cli(&["audit", "verify", "--head", "3:nothex"]);
    assert!(!ok && err.contains("64 hex digits"), "{err}");

    // The newest two entries are deleted: the chain alone still verifies
    // (nothing in the database says it was longer); the logged head fails.
    let mut conn = db.sql().await;
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(head.0 - 2)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (ok, v) = db.verify(&[]);
    assert!(ok, "without an anchor a cut tail is not seen: {v}");
    let (ok, v) = db.verify(&["--head", &anchor(&head)]);
    assert!(!ok, "{v}");
    assert_eq!(v["first_bad"]["seq"], json!(head.0), "{v}");
    let problem = v["first_bad"]["problem"].as_str().unwrap();
    assert!(
        problem.contains("removed") && problem.contains(&anchor(&head)),
        "{problem}"
    );
    // An earlier head still in the chain holds.
    let (ok, v) = db.verify(&["--head", &anchor(&early)]);
    assert!(ok, "{v}");

    // `kycd import` writes entries with their MACs and seals nothing; one
    // is edited before any sealer reaches it.
    let file = dir.join("customers.jsonl");
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n",
            json!({"type": "individual", "external_id": "imp-1"}),
            json!({"type": "individual", "external_id": "imp-2"})
        ),
    )
    .unwrap();
    let (ok, out, err) = db.cli(&["import", file.to_str().unwrap()]);
    assert!(ok, "{out}\n{err}");
    let mut conn = db.sql().await;
    let unsealed: Vec<String> =
        sqlx::query_scalar("SELECT id FROM audit_log WHERE seq IS NULL ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(unsealed.len() >= 2, "{unsealed:?}");
    let edited = unsealed[0].clone();
    sqlx::query("UPDATE audit_log SET details = $1 WHERE id = $2")
        .bind(r#"{"note":"nothing to see"}"#)
        .bind(&edited)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    // Verify seals what waits (the edit gets chained, hash and all) and
    // names the entry by its MAC.
    let (ok, v) = db.verify(&[]);
    assert!(!ok, "{v}");
    assert_eq!(v["first_bad"]["id"], json!(edited), "{v}");
    let problem = v["first_bad"]["problem"].as_str().unwrap();
    assert!(problem.contains("MAC"), "{problem}");
    let mut conn = db.sql().await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "sealed all the same: the chain stays whole");
    conn.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn audit_tampering_is_named_on_sqlite() {
    tamper(false).await;
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn audit_tampering_is_named_on_postgres() {
    tamper(true).await;
}
