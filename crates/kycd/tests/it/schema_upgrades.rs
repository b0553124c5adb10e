//! Upgrades with the real binary, on SQLite and PostgreSQL: `kycd migrate
//! --check` lists applied and pending migrations and changes nothing (exit 1
//! while some are pending, 0 once applied), `kycd migrate` applies them,
//! `KYCD_SKIP_MIGRATIONS` makes `serve` refuse a database with pending
//! migrations, a database migrated by a newer kycd is refused with both
//! versions named, and a database left at every earlier migration, filled,
//! is migrated by `serve` with its data read back through the API.
//!
//! The data at an earlier schema are the rows a current server wrote (in a
//! scratch SQLite database), restricted to the tables and columns that
//! schema has: every migration so far only adds tables and nullable or
//! defaulted columns, so these rows are what an older kycd stored, sealed
//! the same way.

use crate::common::*;
use base64::Engine;
use kycd_store::Store;
use serde_json::{Value, json};
use sqlx::Row;
use std::path::Path;

const KEY: &str = "S2V5T25lS2V5T25lS2V5T25lS2V5T25lS2V5T25lMDE=";

/// A database to test against: a SQLite file in `dir`, or a fresh
/// PostgreSQL database; with the flags and variables `kycd` needs to use it.
struct Db {
    url: String,
    env: Vec<(String, String)>,
    data: String,
}

impl Db {
    async fn new(dir: &Path, postgres: bool) -> Db {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let (url, env) = if postgres {
            let url = fresh_postgres_url().await;
            (url.clone(), vec![("KYCD_DATABASE_URL".into(), url)])
        } else {
            (
                format!("sqlite://{}", data.join("kycd.db").display()),
                vec![],
            )
        };
        Db {
            url,
            env,
            data: data.display().to_string(),
        }
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// `kycd ARGS --data-dir DATA`: (exit code, stdout, stderr).
    fn kycd(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = args.to_vec();
        all.extend(["--data-dir", &self.data]);
        let out = run(&all, &self.env());
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn store(&self) -> Store {
        Store::connect(&self.url).await.unwrap()
    }
}

fn versions(dialect: kycd_store::Dialect) -> Vec<i64> {
    kycd_store::schema::embedded(dialect)
        .iter()
        .map(|m| m.version)
        .collect()
}

fn dialect(postgres: bool) -> kycd_store::Dialect {
    if postgres {
        kycd_store::Dialect::Postgres
    } else {
        kycd_store::Dialect::Sqlite
    }
}

async fn check_and_migrate(postgres: bool) {
    let dir = temp_dir("migrate-check");
    let db = Db::new(&dir, postgres).await;
    let all = versions(dialect(postgres));
    assert!(all.len() >= 3, "{all:?}");
    let middle = all[all.len() / 2];
    let store = db.store().await;
    store.migrate_up_to(middle).await.unwrap();
    let before = store.schema_status().await.unwrap();
    store.close().await;
    let pending: Vec<i64> = all.iter().copied().filter(|v| *v > middle).collect();

    let (code, out, err) = db.kycd(&["migrate", "--check"]);
    assert_eq!(code, 1, "{out}\n{err}");
    for v in &all {
        let word = if *v <= middle { "applied" } else { "pending" };
        assert!(out.contains(&format!("{word}  {v:04}  ")), "{v}: {out}");
    }
    assert!(
        out.contains(&format!("{} migration(s) pending", pending.len())),
        "{out}"
    );
    let (code, out, _) = db.kycd(&["migrate", "--check", "--json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["database_version"], middle);
    assert_eq!(report["latest_known"], *all.last().unwrap());
    assert_eq!(report["up_to_date"], false);
    let listed: Vec<i64> = report["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, pending);

    // Nothing was applied by the checks.
    let store = db.store().await;
    let after = store.schema_status().await.unwrap();
    store.close().await;
    assert_eq!(after.applied, before.applied);
    assert_eq!(after.pending.len(), pending.len());

    // A node told not to migrate refuses, naming the pending migrations.
    let mut env = db.env();
    env.push(("KYCD_SKIP_MIGRATIONS", "true"));
    env.push(("KYCD_MASTER_KEY", KEY));
    let r = serve_until_exit(&dir, "skip", &[], &env);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(
        r.output.contains("migration(s) pending")
            && r.output.contains(&format!("{} (", pending[0]))
            && r.output.contains("kycd migrate"),
        "{}",
        r.output
    );

    let (code, out, err) = db.kycd(&["migrate"]);
    assert_eq!(code, 0, "{out}\n{err}");
    for v in &pending {
        assert!(out.contains(&format!("applied  {v:04}  ")), "{v}: {out}");
    }
    let (code, out, err) = db.kycd(&["migrate", "--check"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("up to date"), "{out}");
    let (code, out, _) = db.kycd(&["migrate"]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to apply"), "{out}");

    // Migrated: the node that does not migrate starts.
    let s = Server::start(&dir, "skip-ok", &[], &env);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn migrate_check_reports_and_migrate_applies_sqlite() {
    check_and_migrate(false).await;
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn migrate_check_reports_and_migrate_applies_postgres() {
    check_and_migrate(true).await;
}

#[tokio::test]
async fn migrate_check_on_a_missing_sqlite_file_creates_nothing() {
    let dir = temp_dir("migrate-none");
    let data = dir.join("data");
    let out = run(
        &["migrate", "--check", "--data-dir", data.to_str().unwrap()],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("no database at") && stdout.contains("pending  0001"),
        "{stdout}"
    );
    assert!(!data.exists(), "nothing created");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn newer_schema_refused(postgres: bool) {
    let dir = temp_dir("schema-newer");
    let db = Db::new(&dir, postgres).await;
    let (code, out, err) = db.kycd(&["migrate"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let latest = *versions(dialect(postgres)).last().unwrap();
    let store = db.store().await;
    // What a newer kycd leaves: one more applied migration.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9001, 'from the future', TRUE, $1, 1)",
    )
    .bind(vec![1u8, 2, 3])
    .execute(&mut *store.writer().await.unwrap())
    .await
    .unwrap();
    store.close().await;

    let mut env = db.env();
    env.push(("KYCD_MASTER_KEY", KEY));
    let r = serve_until_exit(&dir, "old-binary", &[], &env);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(
        r.output
            .contains("the database schema is newer than this kycd knows")
            && r.output.contains("it has migration 9001")
            && r.output
                .contains(&format!("this binary's newest is {latest}"))
            && r.output.contains("9001 (from the future)")
            && r.output.contains("nothing was changed"),
        "{}",
        r.output
    );
    // The other commands that open the database refuse the same way.
    let (code, out, err) = db.kycd(&["migrate"]);
    assert_ne!(code, 0);
    assert!(err.contains("schema is newer"), "{out}\n{err}");
    let (code, out, err) = db.kycd(&["migrate", "--check"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("applied  9001  from the future  (UNKNOWN to this kycd"),
        "{out}"
    );
    let (code, _, err) = db.kycd(&["org", "create", "--name", "x"]);
    assert_ne!(code, 0);
    assert!(err.contains("schema is newer"), "{err}");
    // Nothing changed: no organization was bootstrapped, nothing removed.
    let store = db.store().await;
    let orgs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(&mut *store.reader().await.unwrap())
        .await
        .unwrap();
    assert_eq!(orgs, 0);
    let status = store.schema_status().await.unwrap();
    assert_eq!(status.unknown.len(), 1);
    assert!(status.pending.is_empty());
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_newer_schema_is_refused_sqlite() {
    newer_schema_refused(false).await;
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn a_newer_schema_is_refused_postgres() {
    newer_schema_refused(true).await;
}

/// What the scratch server created, to be read back after each upgrade.
struct Fixture {
    key: String,
    person: String,
    business: String,
    document: String,
    document_bytes: Vec<u8>,
}

async fn post(base: &str, key: &str, path: &str, body: Value) -> Value {
    post_ok(&reqwest::Client::new(), base, key, path, body).await
}

async fn get_json(base: &str, key: &str, path: &str) -> Value {
    let (status, body) = get_bytes(base, key, path).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{path}: {v}");
    v
}

/// Fills a current kycd's database: an individual with a name, an address
/// and a CPF, a document, a business owned by the individual, a webhook
/// endpoint; returns what to read back.
async fn fill(dir: &Path, env: &[(&str, &str)]) -> Fixture {
    let s = Server::start(dir, "scratch", &[], env);
    let key = s.sandbox_key().unwrap();
    let base = s.base.clone();
    let person = post(
        &base,
        &key,
        "/v1/customers",
        json!({"type": "individual", "external_id": "upgrade-ada",
               "individual": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-01-31",
                              "email": "ada@example.com"},
               "addresses": [{"line1": "Rua A 1", "city": "São Paulo", "postal_code": "01000-000", "country": "BR"}],
               "identifiers": [{"type": "cpf", "value": "529.982.247-25"}],
               "metadata": {"plan": "gold"}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let document_bytes = jpeg("upgrade-document");
    let document = post(
        &base,
        &key,
        &format!("/v1/customers/{person}/documents"),
        json!({"type": "passport", "content_type": "image/jpeg",
               "content_base64": base64::engine::general_purpose::STANDARD.encode(&document_bytes)}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let business = post(
        &base,
        &key,
        "/v1/customers",
        json!({"type": "business", "external_id": "upgrade-corp",
               "business": {"legal_name": "Analytical Engines Ltda", "country": "BR",
                            "beneficial_owners": [{"customer_id": person, "ownership_percent": 60, "roles": ["owner"]}]}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        &base,
        &key,
        "/v1/webhook_endpoints",
        json!({"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"]}),
    )
    .await;
    s.stop();
    Fixture {
        key,
        person,
        business,
        document,
        document_bytes,
    }
}

/// Copies every row of `from` (a current SQLite database) into the tables
/// and columns that `to` has (a database at an earlier migration); returns
/// those tables.
async fn copy_rows(from: &Store, to: &Store, postgres: bool) -> Vec<String> {
    let mut src = from.reader().await.unwrap();
    let mut dst = to.writer().await.unwrap();
    let tables_sql = if postgres {
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    };
    let tables: Vec<String> = sqlx::query_scalar(tables_sql)
        .fetch_all(&mut *dst)
        .await
        .unwrap();
    let mut copied = 0;
    for table in &tables {
        // Not copied: the bookkeeping, a dead node's leases, and the one-off
        // passes the current kycd ran (an older one had not run those tied
        // to later migrations, e.g. linking business owners, 0012).
        if ["_sqlx_migrations", "leases", "maintenance_done"].contains(&table.as_str()) {
            continue;
        }
        let columns: Vec<String> = if postgres {
            sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut *dst)
            .await
            .unwrap()
        } else {
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(&mut *dst)
                .await
                .unwrap()
        };
        // Every column is TEXT or BIGINT (the migrations tree test keeps it so).
        let types: Vec<(String, String)> =
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(&mut *src)
                .await
                .unwrap();
        // A column a later migration dropped keeps its default, as an older
        // kycd wrote it: `events.fanned_out` (0025) is 0, not yet fanned out.
        let dropped = [("events", "fanned_out")];
        let columns: Vec<String> = columns
            .into_iter()
            .filter(|c| !dropped.contains(&(table.as_str(), c.as_str())))
            .collect();
        let list = columns.join(", ");
        let rows = sqlx::query(&format!("SELECT {list} FROM {table}"))
            .fetch_all(&mut *src)
            .await
            .unwrap();
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", marks.join(", "));
        for row in rows {
            let mut q = sqlx::query(&insert);
            for (i, column) in columns.iter().enumerate() {
                let ty = types
                    .iter()
                    .find(|(n, _)| n == column)
                    .map(|(_, t)| t.to_uppercase())
                    .unwrap_or_else(|| panic!("{table}.{column} is not in the current schema"));
                q = if ty == "BIGINT" {
                    q.bind(row.get::<Option<i64>, _>(i))
                } else {
                    q.bind(row.get::<Option<String>, _>(i))
                };
            }
            q.execute(&mut *dst).await.unwrap();
            copied += 1;
        }
    }
    assert!(copied > 10, "copied {copied} rows");
    tables
}

/// Reads the fixture back through a server on the upgraded database (the
/// document and the webhook endpoint when the earlier schema had their tables).
async fn read_back(base: &str, f: &Fixture, at: i64, tables: &[String]) {
    let had = |t: &str| tables.iter().any(|x| x == t);
    let c = get_json(base, &f.key, &format!("/v1/customers/{}", f.person)).await;
    assert_eq!(c["individual"]["first_name"], "Ada", "from {at}: {c}");
    assert_eq!(c["individual"]["last_name"], "Lovelace", "from {at}: {c}");
    assert_eq!(c["individual"]["date_of_birth"], "1990-01-31", "from {at}");
    assert_eq!(c["addresses"][0]["city"], "São Paulo", "from {at}: {c}");
    assert_eq!(c["identifiers"][0]["last4"], "4725", "from {at}: {c}");
    assert_eq!(c["metadata"]["plan"], "gold", "from {at}: {c}");
    let found = get_json(base, &f.key, "/v1/customers?external_id=upgrade-ada").await;
    assert_eq!(
        found["data"][0]["id"],
        f.person.as_str(),
        "from {at}: {found}"
    );
    let b = get_json(base, &f.key, &format!("/v1/customers/{}", f.business)).await;
    assert_eq!(
        b["business"]["legal_name"], "Analytical Engines Ltda",
        "from {at}: {b}"
    );
    assert_eq!(
        b["business"]["beneficial_owners"][0]["customer_id"],
        f.person.as_str(),
        "from {at}: {b}"
    );
    if had("documents") {
        let docs = get_json(
            base,
            &f.key,
            &format!("/v1/customers/{}/documents", f.person),
        )
        .await;
        assert_eq!(
            docs["data"][0]["id"],
            f.document.as_str(),
            "from {at}: {docs}"
        );
        let (status, bytes) = get_bytes(
            base,
            &f.key,
            &format!(
                "/v1/customers/{}/documents/{}/content",
                f.person, f.document
            ),
        )
        .await;
        assert_eq!(
            (status, bytes),
            (200, f.document_bytes.clone()),
            "from {at}"
        );
    }
    if had("webhook_endpoints") {
        let hooks = get_json(base, &f.key, "/v1/webhook_endpoints").await;
        assert_eq!(
            hooks["data"][0]["url"], "http://127.0.0.1:9/hooks",
            "from {at}: {hooks}"
        );
    }
    // And it still writes.
    let patched = reqwest::Client::new()
        .patch(format!("{base}/v1/customers/{}", f.person))
        .bearer_auth(&f.key)
        .json(&json!({"metadata": {"plan": "platinum"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200, "from {at}");
}

async fn upgrade_from_every_schema(postgres: bool) {
    let root = temp_dir("upgrade-each");
    let blobs = root.join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let blob_url = format!("file://{}", blobs.display());
    let env = [
        ("KYCD_MASTER_KEY", KEY),
        ("KYCD_BLOB_URL", blob_url.as_str()),
        // The endpoint is a closed local port: nothing leaves the machine.
        ("KYCD_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    let scratch_dir = root.join("scratch");
    std::fs::create_dir_all(&scratch_dir).unwrap();
    let fixture = fill(&scratch_dir, &env).await;
    let scratch = Store::connect(&format!(
        "sqlite://{}",
        scratch_dir.join("data/kycd.db").display()
    ))
    .await
    .unwrap();

    let all = versions(dialect(postgres));
    let latest = *all.last().unwrap();
    for &at in &all[..all.len() - 1] {
        let dir = root.join(format!("at-{at}"));
        let db = Db::new(&dir, postgres).await;
        let store = db.store().await;
        store.migrate_up_to(at).await.unwrap();
        let tables = copy_rows(&scratch, &store, postgres).await;
        store.close().await;
        let mut with = db.env();
        with.extend(env);
        let out = run(&["migrate", "--check", "--data-dir", &db.data], &with);
        assert_eq!(out.status.code(), Some(1), "at {at}");

        let s = Server::start(&dir, "upgraded", &[], &with);
        read_back(&s.base, &fixture, at, &tables).await;
        s.stop();
        // Before migration 12 no table said who owns a business: the start
        // links the owners from the sealed business documents.
        let store = db.store().await;
        let links: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM business_owners WHERE business_id = $1 AND owner_id = $2",
        )
        .bind(&fixture.business)
        .bind(&fixture.person)
        .fetch_one(&mut *store.reader().await.unwrap())
        .await
        .unwrap();
        // Before migration 25 an event waiting for fan-out was a flag on its
        // row: the migration queues each in the outbox, so every event has
        // been fanned out to the endpoint (which takes every type) or waits.
        let lost: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_outbox o WHERE o.event_id = e.id) \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)",
        )
        .fetch_one(&mut *store.reader().await.unwrap())
        .await
        .unwrap();
        store.close().await;
        assert_eq!(links, 1, "from {at}");
        if at < 25 && tables.iter().any(|t| t == "webhook_endpoints") {
            assert_eq!(lost, 0, "from {at}: events neither fanned out nor queued");
        }
        let (code, out, err) = db.kycd(&["migrate", "--check"]);
        assert_eq!(code, 0, "from {at}: {out}\n{err}");
        assert!(
            out.contains(&format!("up to date: migration {latest}")),
            "{out}"
        );
        // The audit log written before the hash chain existed is chained now.
        let out = run(&["audit", "verify", "--data-dir", &db.data], &with);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "from {at}: {stdout}");
        assert!(stdout.contains("\"ok\":true"), "from {at}: {stdout}");
    }
    scratch.close().await;
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn every_earlier_schema_upgrades_with_its_data_sqlite() {
    upgrade_from_every_schema(false).await;
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn every_earlier_schema_upgrades_with_its_data_postgres() {
    upgrade_from_every_schema(true).await;
}
