//! Proof at rest: customers with known CPF, SSN, passport number and
//! attestation reference, and a document carrying a unique marker, then the
//! raw storage is read byte by byte — the SQLite file, its -wal, every blob
//! file; on PostgreSQL every table as text — and none of the values appears
//! (digits-only nor punctuated). Positive controls (values that are stored in
//! clear, like the external id) prove the reading sees the data. Also: the
//! API shows `last4` only, and the vault keeps working across a master-key
//! rotation (`vault::rotate`) with and without `KYCD_MASTER_KEY_PREVIOUS`.

use crate::common::*;
use base64::Engine;
use kycd_store::KeyOwner;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CPF: &str = "529.982.247-25";
const CPF2: &str = "111.444.777-35";
const SSN: &str = "536-22-8457";
const PASSPORT: &str = "XK7734129";
const ATTESTATION: &str = "sumsub-applicant-8c1f0e55aa";
const MARKER: &str = "DOCUMENT-MARKER-91c3e2f0b7";
const CONTROL: &str = "at-rest-external-id-4417";
// Personal data of the customer document: sealed whole under the customer's key.
const FIRST_NAME: &str = "Zephyrine";
const LAST_NAME: &str = "Quillfeatherstone";
const EMAIL: &str = "zq.at-rest.7731@example.org";
const PHONE: &str = "+5511987651234";
const BIRTH_DATE: &str = "1987-03-14";
const STREET: &str = "Rua Xilofonista 4471";
const METADATA: &str = "metadata-marker-5c2e9a";

/// The secret values, each in punctuated and digits-only form.
fn secrets() -> Vec<String> {
    let mut v = vec![];
    for s in [CPF, CPF2, SSN, PASSPORT, ATTESTATION, MARKER] {
        v.push(s.to_string());
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if s.chars().all(|c| c.is_ascii_digit() || ".-".contains(c)) {
            v.push(digits);
        }
    }
    v
}

/// The secret values plus the personal data of the customer document: none
/// of it may be found at rest (the API shows the personal data, not the secrets).
fn at_rest() -> Vec<String> {
    let mut v = secrets();
    v.extend(
        [
            FIRST_NAME, LAST_NAME, EMAIL, PHONE, BIRTH_DATE, STREET, METADATA,
        ]
        .map(String::from),
    );
    v.push(PHONE.trim_start_matches('+').to_string());
    v
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Creates the customers and the document; returns the customer ids.
async fn populate(app: &TestApp) -> Vec<String> {
    let mut br = complete_individual(CONTROL);
    br["identifiers"] = json!([{"type": "cpf", "value": CPF}, {"type": "passport", "value": PASSPORT, "country": "BR"}]);
    br["verification"] = json!({"level": "full", "mode": "hosted", "start": true});
    br["individual"]["first_name"] = json!(FIRST_NAME);
    br["individual"]["last_name"] = json!(LAST_NAME);
    br["individual"]["email"] = json!(EMAIL);
    br["individual"]["phone"] = json!(PHONE);
    br["individual"]["date_of_birth"] = json!(BIRTH_DATE);
    br["addresses"][0]["line1"] = json!(STREET);
    br["metadata"] = json!({"note": METADATA});
    // With an Idempotency-Key: the stored response (which holds all of it) is sealed too.
    let res = app
        .client
        .post(format!("{}/v1/customers", app.base))
        .bearer_auth(&app.sandbox_key)
        .header("Idempotency-Key", "at-rest-create")
        .json(&br)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let a: Value = res.json().await.unwrap();
    assert_eq!(
        a["individual"]["last_name"], LAST_NAME,
        "the API shows it in clear"
    );
    // Search by email goes through the blind index.
    let (st, found) = app
        .get(&format!("/v1/customers?email={}", EMAIL.to_uppercase()))
        .await;
    assert_eq!(st, StatusCode::OK, "{found}");
    assert_eq!(found["data"][0]["id"], a["id"]);
    let us = app
        .create_customer(json!({
            "type": "individual", "external_id": "at-rest-us",
            "individual": {"first_name": "Grace", "last_name": "Hopper", "date_of_birth": "1980-12-09", "nationality": "US"},
            "identifiers": [{"type": "ssn", "value": SSN}],
            "attestation": {"provider": "sumsub", "reference": ATTESTATION, "verified_at": "2025-01-01T00:00:00Z", "liveness": true}
        }))
        .await;
    let aid = a["id"].as_str().unwrap().to_string();
    // A PATCH replaces the identifiers (the old value must be gone too).
    let (st, p) = app
        .patch(
            &format!("/v1/customers/{}", us["id"].as_str().unwrap()),
            json!({"identifiers": [{"type": "ssn", "value": SSN}, {"type": "cpf", "value": CPF2}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let mut jpeg = tiny_jpeg(MARKER);
    jpeg.extend_from_slice(MARKER.as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    let (st, d) = app
        .post(
            &format!("/v1/customers/{aid}/documents"),
            json!({"type": "passport", "content_type": "image/jpeg", "content_base64": b64}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    // The document reads back whole through the API (so the marker really was uploaded).
    let res = app
        .client
        .get(format!(
            "{}/v1/customers/{aid}/documents/{}/content",
            app.base,
            d["id"].as_str().unwrap()
        ))
        .bearer_auth(&app.sandbox_key)
        .send()
        .await
        .unwrap();
    assert!(contains(&res.bytes().await.unwrap(), MARKER));
    vec![aid, us["id"].as_str().unwrap().to_string()]
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn sqlite_files_and_blobs_hold_no_identifier_or_document_byte() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    populate(&app).await;
    let db = app.dir.path().join("kycd.db");
    let wal = app.dir.path().join("kycd.db-wal");
    let mut all = std::fs::read(&db).unwrap();
    let wal_bytes = std::fs::read(&wal).unwrap_or_default();
    all.extend_from_slice(&wal_bytes);
    assert!(
        contains(&all, CONTROL),
        "positive control: the clear external id is found in the database files"
    );
    // API keys are stored only as hashes: the public prefix is there (positive
    // control), the key and its secret part are not.
    for key in [&app.sandbox_key, &app.live_key] {
        assert!(key.starts_with("sk_test_") || key.starts_with("sk_live_"));
        assert!(
            contains(&all, &key[..12]),
            "positive control: the prefix of {}… is stored",
            &key[..12]
        );
        assert!(!contains(&all, key), "an API key in clear in the database");
        assert!(
            !contains(&all, &key[8..]),
            "the secret part of an API key in the database"
        );
    }
    for s in at_rest() {
        assert!(
            !contains(&std::fs::read(&db).unwrap(), &s),
            "{s} found in kycd.db"
        );
        assert!(!contains(&wal_bytes, &s), "{s} found in kycd.db-wal");
    }
    let blobs = files_under(&app.dir.path().join("blobs"));
    assert_eq!(blobs.len(), 1);
    for f in &blobs {
        let raw = std::fs::read(f).unwrap();
        assert!(raw.len() > MARKER.len() * 2);
        for s in at_rest() {
            assert!(!contains(&raw, &s), "{s} found in blob {}", f.display());
        }
    }
    // Every other file of the data dir too (the key file holds no PII either).
    for f in files_under(app.dir.path()) {
        let raw = std::fs::read(&f).unwrap();
        for s in at_rest() {
            assert!(!contains(&raw, &s), "{s} found in {}", f.display());
        }
    }
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn postgres_tables_hold_no_identifier_or_document_byte() {
    let app = spawn(Backend::Postgres)
        .await
        .expect("a PostgreSQL test server");
    populate(&app).await;
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let tables: Vec<String> =
        sqlx::query("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| sqlx::Row::get(r, 0))
            .collect();
    assert!(
        tables.iter().any(|t| t == "customers") && tables.iter().any(|t| t == "documents"),
        "{tables:?}"
    );
    let mut dump = String::new();
    for t in &tables {
        for r in sqlx::query(&format!("SELECT t::text FROM \"{t}\" t"))
            .fetch_all(&mut conn)
            .await
            .unwrap()
        {
            dump.push_str(&sqlx::Row::get::<String, _>(&r, 0));
            dump.push('\n');
        }
    }
    assert!(
        dump.contains(CONTROL),
        "positive control: the clear external id is found"
    );
    for key in [&app.sandbox_key, &app.live_key] {
        assert!(
            dump.contains(&key[..12]),
            "positive control: the key prefix is stored"
        );
        assert!(
            !dump.contains(key.as_str()),
            "an API key in clear in PostgreSQL"
        );
        assert!(
            !dump.contains(&key[8..]),
            "the secret part of an API key in PostgreSQL"
        );
    }
    for s in at_rest() {
        assert!(!dump.contains(&s), "{s} found in a PostgreSQL table");
    }
    for f in files_under(&app.dir.path().join("blobs")) {
        let raw = std::fs::read(&f).unwrap();
        for s in at_rest() {
            assert!(!contains(&raw, &s), "{s} found in blob {}", f.display());
        }
    }
}

both_backends!(the_api_shows_last4_only, |app| async move {
    let ids = populate(&app).await;
    let mut bodies = vec![];
    for id in &ids {
        let (_, c) = app.get(&format!("/v1/customers/{id}")).await;
        for i in c["identifiers"].as_array().unwrap() {
            assert_eq!(
                i.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| *k == "value")
                    .count(),
                0,
                "{i}"
            );
            assert_eq!(i["last4"].as_str().map(str::len), Some(4), "{i}");
        }
        bodies.push(c.to_string());
    }
    bodies.push(app.get("/v1/customers").await.1.to_string());
    bodies.push(app.get("/v1/events?limit=100").await.1.to_string());
    bodies.push(
        app.get(&format!("/v1/customers/{}/documents", ids[0]))
            .await
            .1
            .to_string(),
    );
    let all = bodies.join("\n");
    assert!(all.contains("\"last4\":\"4725\""), "{all}");
    assert!(all.contains("\"last4\":\"8457\""));
    for s in secrets() {
        assert!(!all.contains(&s), "{s} in an API response");
    }
    let (_, c): (_, Value) = app.get(&format!("/v1/customers/{}", ids[1])).await;
    assert!(
        c["attestation"].get("reference").is_none_or(Value::is_null),
        "{c}"
    );
});

both_backends!(
    rotation_rewraps_keys_and_data_stays_readable,
    |app| async move {
        let ids = populate(&app).await;
        let scope = kycd_store::Scope::new(&app.org_id, "sandbox");
        let old =
            kycd_vault::MasterKey::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
                .unwrap();
        let new = kycd_vault::MasterKey::generate();
        let n = kycd_server::vault::rotate(&app.state.store, &old, &new)
            .await
            .unwrap();
        assert!(n >= 3, "two customer keys and the blind-index key: {n}");
        // Idempotent: a second run checks and keeps them.
        assert_eq!(
            kycd_server::vault::rotate(&app.state.store, &old, &new)
                .await
                .unwrap(),
            n
        );
        let mut conn = app.state.store.reader().await.unwrap();
        for (_, _, _, w) in kycd_store::customers::all_wrapped_keys(&mut conn)
            .await
            .unwrap()
        {
            assert_eq!(
                w.parse::<kycd_vault::WrappedKey>().unwrap().master_key_id,
                new.key_id()
            );
        }
        // The running server has only the old key: it can no longer unwrap.
        let v_old = kycd_server::vault::Vault::new(
            kycd_vault::MasterKey::from_base64(&old.to_base64()).unwrap(),
        );
        assert!(
            v_old
                .existing_customer_key(&mut conn, KeyOwner::scoped(&scope, &ids[0]))
                .await
                .is_err()
        );
        // New key, or new key with the old one as previous: the sealed data reads.
        for previous in [None, Some(old)] {
            let v = kycd_server::vault::Vault::new(
                kycd_vault::MasterKey::from_base64(&new.to_base64()).unwrap(),
            )
            .with_previous(previous);
            let key = v
                .existing_customer_key(&mut conn, KeyOwner::scoped(&scope, &ids[0]))
                .await
                .unwrap()
                .unwrap();
            let sealed = kycd_store::customers::get_secret(
                &mut conn,
                &kycd_store::Scope::new(&app.org_id, "sandbox"),
                &ids[0],
                "identifier:cpf:BR",
            )
            .await
            .unwrap()
            .unwrap();
            assert_eq!(
                v.open_str(&key, &app.org_id, &ids[0], "identifier:cpf:BR", &sealed)
                    .unwrap(),
                "52998224725"
            );
            // The blind-index key is the one the indexes were computed with
            // (a new key would be created silently if it could not be unwrapped).
            let stored: String = sqlx::query_scalar(
                "SELECT hash FROM blind_indexes WHERE customer_id = $1 AND kind = 'identifier:cpf:BR'",
            )
            .bind(&ids[0])
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            let blind = v.blind_key(&mut conn, &scope).await.unwrap();
            assert_eq!(blind.compute("cpf:BR", "52998224725"), stored);
        }
        // A server given the new key and the old one as previous reads keys of both.
        let both = kycd_server::vault::Vault::new(
            kycd_vault::MasterKey::from_base64(&new.to_base64()).unwrap(),
        )
        .with_previous(Some(
            kycd_vault::MasterKey::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
                .unwrap(),
        ));
        let back = kycd_server::vault::rotate(
            &app.state.store,
            &new,
            &kycd_vault::MasterKey::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(back, n);
        assert!(
            both.existing_customer_key(&mut conn, KeyOwner::scoped(&scope, &ids[1]))
                .await
                .unwrap()
                .is_some()
        );
    }
);

// Two identifiers of one kind from two countries are kept apart (sealed
// field and blind index both name the country), and sandbox and live use
// different blind-index keys: the same CPF in both environments leaves no
// matching index in the database.
both_backends!(
    identifiers_keep_their_country_and_environments_do_not_link,
    |app| async move {
        let c = app
            .create_customer(json!({
                "type": "individual",
                "identifiers": [
                    {"type": "passport", "value": "P1111111", "country": "BR"},
                    {"type": "passport", "value": "P2222222", "country": "PT"}
                ]
            }))
            .await;
        let id = c["id"].as_str().unwrap();
        let mut conn = app.state.store.reader().await.unwrap();
        let fields: Vec<String> = sqlx::query_scalar(
            "SELECT field FROM customer_secrets WHERE customer_id = $1 ORDER BY field",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        assert_eq!(
            fields,
            ["identifier:passport:BR", "identifier:passport:PT"],
            "both passports sealed"
        );
        drop(conn);

        let body = json!({"type": "individual", "identifiers": [{"type": "cpf", "value": CPF}]});
        let sandbox = app.create_customer(body.clone()).await;
        let (st, live) = app
            .call(
                &app.live_key,
                reqwest::Method::POST,
                "/v1/customers",
                Some(body),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{live}");
        let mut conn = app.state.store.reader().await.unwrap();
        let hash = |cid: String| {
            sqlx::query_scalar::<_, String>(
                "SELECT hash FROM blind_indexes WHERE customer_id = $1 AND kind LIKE 'identifier:%'",
            )
            .bind(cid)
        };
        let a = hash(sandbox["id"].as_str().unwrap().into())
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let b = hash(live["id"].as_str().unwrap().into())
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_ne!(a, b, "one CPF, two environments, two unrelated indexes");
    }
);

// README: erasure destroys the customer's data key, so ciphertext copied
// before the erasure (a backup, a replica) can no longer be read.
both_backends!(
    erasure_destroys_the_data_key_and_old_ciphertext_stays_sealed,
    |app| async move {
        let c = app
            .create_customer(json!({"type": "individual",
                "identifiers": [{"type": "cpf", "value": CPF}]}))
            .await;
        let id = c["id"].as_str().unwrap().to_string();
        let scope = kycd_store::Scope::new(&app.org_id, "sandbox");
        let mut conn = app.state.store.reader().await.unwrap();
        let field = "identifier:cpf:BR";
        let sealed = kycd_store::customers::get_secret(&mut conn, &scope, &id, field)
            .await
            .unwrap()
            .expect("the identifier is sealed");
        let wrapped =
            kycd_store::customers::get_customer_key(&mut conn, KeyOwner::scoped(&scope, &id))
                .await
                .unwrap()
                .expect("the customer has a wrapped data key");
        // Positive control: before the erasure the copy opens.
        let key = app
            .state
            .vault
            .existing_customer_key(&mut conn, KeyOwner::scoped(&scope, &id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.state
                .vault
                .open_str(&key, &app.org_id, &id, field, &sealed)
                .unwrap(),
            "52998224725"
        );
        drop(conn);

        let (st, v) = app.delete(&format!("/v1/customers/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let mut conn = app.state.store.reader().await.unwrap();
        assert_eq!(
            kycd_store::customers::get_customer_key(&mut conn, KeyOwner::scoped(&scope, &id))
                .await
                .unwrap(),
            None,
            "the wrapped data key is deleted"
        );
        assert!(
            app.state
                .vault
                .existing_customer_key(&mut conn, KeyOwner::scoped(&scope, &id))
                .await
                .unwrap()
                .is_none(),
            "no key to open the old ciphertext with"
        );
        assert!(
            kycd_store::customers::get_secret(&mut conn, &scope, &id, field)
                .await
                .unwrap()
                .is_none(),
            "the sealed field is deleted"
        );
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM customer_keys WHERE customer_id = $1")
                .bind(&id)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        assert_eq!(n, 0);
        // The wrapped key no longer exists anywhere to be unwrapped; a data key
        // made now for the same id is a different one, which cannot open the copy.
        let fresh = kycd_vault::DataKey::generate();
        assert!(
            app.state
                .vault
                .open_str(&fresh, &app.org_id, &id, field, &sealed)
                .is_err()
        );
        assert!(!wrapped.is_empty());
    }
);
