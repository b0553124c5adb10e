//! Documents over HTTP against the real server (SQLite, then PostgreSQL):
//! upload as JSON and multipart, list/read/download (audited), review and
//! its effect on the verification, status gating, erasure of blobs, bad
//! input that stores nothing (rows and blob files counted before/after),
//! and the S3 blob backend against a local fake S3.

use crate::common::*;
use base64::Engine;
use kycd_store::Scope;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A valid CPF (check digits computed) from a seed.
fn cpf(seed: u64) -> String {
    let mut d: Vec<u32> = format!("{:09}", 100_000_000 + seed % 800_000_000)
        .chars()
        .map(|c| c.to_digit(10).unwrap())
        .collect();
    for len in [9u32, 10] {
        let s: u32 = d
            .iter()
            .take(len as usize)
            .enumerate()
            .map(|(i, x)| x * (len + 1 - i as u32))
            .sum();
        let r = (s * 10) % 11;
        d.push(if r == 10 { 0 } else { r });
    }
    d.iter().map(|x| x.to_string()).collect()
}

/// A complete individual with its own CPF, email and phone (no duplicate signals).
fn unique_individual(ext: &str, n: u64) -> Value {
    let mut v = complete_individual(ext);
    v["identifiers"] = json!([{"type": "cpf", "value": cpf(n * 7919 + 13)}]);
    v["individual"]["email"] = json!(format!("{ext}@example.com"));
    v["individual"]["phone"] = json!(format!("+55119{:08}", n));
    v
}

fn tiny_png(marker: &str) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(marker.as_bytes());
    v
}

fn tiny_pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {marker}\n%%EOF\n").into_bytes()
}

async fn upload(
    app: &TestApp,
    cid: &str,
    t: &str,
    side: Value,
    ct: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    app.add_document(
        cid,
        json!({"type": t, "side": side, "content_type": ct, "content_base64": b64(bytes)}),
    )
    .await
}

/// A multipart/form-data body: (name, Some(content type) for a file part, bytes).
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "kycd-test-boundary-7MA4YWxkTrZu0gW".to_string();
    let mut body = vec![];
    for (name, ct, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match ct {
            Some(ct) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"f.bin\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_multipart(
    app: &TestApp,
    cid: &str,
    parts: &[(&str, Option<&str>, &[u8])],
) -> (StatusCode, Value) {
    let (ct, body) = multipart(parts);
    app.post_raw(
        &format!("/v1/customers/{cid}/documents"),
        body,
        &[("content-type", ct.as_str())],
    )
    .await
}

async fn count_rows(app: &TestApp, table: &str) -> i64 {
    let mut conn = app.state.store.reader().await.unwrap();
    sqlx::Row::get(
        &sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap(),
        0,
    )
}

fn blob_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    let mut out = vec![];
    walk(&app.dir.path().join("blobs"), &mut out);
    out
}

async fn sandbox_cx(app: &TestApp) -> kycd_server::service::OperationContext {
    kycd_server::service::context_for(
        &app.state,
        &Scope::new(&app.org_id, "sandbox"),
        "reviewer:test".into(),
    )
    .await
    .unwrap()
}

both_backends!(upload_list_read_download, |app| async move {
    let c = app.create_customer(unique_individual("doc-1", 1)).await;
    let cid = c["id"].as_str().unwrap();
    let jpeg = tiny_jpeg("passport-front-marker");
    let (st, d) = upload(&app, cid, "passport", json!("front"), "image/jpeg", &jpeg).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert!(d["id"].as_str().unwrap().starts_with("doc_"));
    assert_eq!(d["object"], "document");
    assert_eq!(d["customer_id"], cid);
    assert_eq!(
        (d["type"].as_str(), d["side"].as_str(), d["status"].as_str()),
        (Some("passport"), Some("front"), Some("pending"))
    );
    assert_eq!(d["content_type"], "image/jpeg");
    assert_eq!(d["size"], jpeg.len());
    assert_eq!(d["sha256"], hex::encode(Sha256::digest(&jpeg)));
    assert!(d["created_at"].is_string());

    let png = tiny_png("selfie-marker");
    let (st, s) = upload_multipart(
        &app,
        cid,
        &[
            ("type", None, b"selfie"),
            ("content_type", None, b"image/png"),
            ("content", Some("image/png"), &png),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{s}");
    assert_eq!(
        (s["type"].as_str(), s["side"].clone()),
        (Some("selfie"), Value::Null)
    );
    assert_eq!(s["size"], png.len());
    // Multipart without a content_type field: the file part's type is used.
    let pdf = tiny_pdf("poa-marker");
    let (st, p) = upload_multipart(
        &app,
        cid,
        &[
            ("type", None, b"proof_of_address"),
            ("content", Some("application/pdf"), &pdf),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["content_type"], "application/pdf");

    let (st, list) = app.get(&format!("/v1/customers/{cid}/documents")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            p["id"].as_str().unwrap(),
            s["id"].as_str().unwrap(),
            d["id"].as_str().unwrap()
        ],
        "newest first"
    );
    assert_eq!(list["has_more"], false);
    let (_, page) = app
        .get(&format!("/v1/customers/{cid}/documents?limit=2"))
        .await;
    assert_eq!(
        (
            page["data"].as_array().unwrap().len(),
            page["has_more"].as_bool()
        ),
        (2, Some(true))
    );
    let (_, page2) = app
        .get(&format!(
            "/v1/customers/{cid}/documents?limit=2&starting_after={}",
            ids[1]
        ))
        .await;
    assert_eq!(page2["data"][0]["id"], ids[2]);
    assert_eq!(page2["has_more"], false);
    let (st, _) = app
        .get(&format!("/v1/customers/{cid}/documents?limit=0"))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let doc_id = d["id"].as_str().unwrap();
    let (st, one) = app
        .get(&format!("/v1/customers/{cid}/documents/{doc_id}"))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one, d);

    let res = app
        .get_response(&format!("/v1/customers/{cid}/documents/{doc_id}/content"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.bytes().await.unwrap().to_vec(), jpeg);
    let mut conn = app.state.store.reader().await.unwrap();
    assert_eq!(
        kycd_store::customers::count_audit(&mut conn, doc_id, "document.download")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        kycd_store::customers::count_audit(&mut conn, doc_id, "document.upload")
            .await
            .unwrap(),
        1
    );
    drop(conn);

    // Other customers, environments and unknown ids: 404.
    let other = app.create_customer(json!({"type": "individual"})).await;
    let oid = other["id"].as_str().unwrap();
    for path in [
        format!("/v1/customers/{oid}/documents/{doc_id}"),
        format!("/v1/customers/{oid}/documents/{doc_id}/content"),
        format!("/v1/customers/{cid}/documents/doc_01nothere"),
        "/v1/customers/cus_01nothere/documents".to_string(),
    ] {
        let (st, e) = app.get(&path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {e}");
        assert_eq!(e["error"]["code"], "resource_not_found");
    }
    let (st, _) = app
        .call(
            &app.live_key.clone(),
            reqwest::Method::GET,
            &format!("/v1/customers/{cid}/documents/{doc_id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // An Idempotency-Key replay returns the same document and stores nothing new.
    let body = serde_json::to_vec(&json!({"type": "national_id", "side": "back", "content_type": "image/jpeg", "content_base64": b64(&jpeg)})).unwrap();
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "doc-upload-1"),
    ];
    let (st1, first) = app
        .post_raw(
            &format!("/v1/customers/{cid}/documents"),
            body.clone(),
            &headers,
        )
        .await;
    let (st2, again) = app
        .post_raw(&format!("/v1/customers/{cid}/documents"), body, &headers)
        .await;
    assert_eq!((st1, st2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first["id"], again["id"]);
    assert_eq!(count_rows(&app, "documents").await, 4);
    let events = app
        .get(&format!(
            "/v1/events?customer_id={cid}&type=document.uploaded"
        ))
        .await
        .1;
    assert_eq!(events["data"].as_array().map(Vec::len), Some(4), "{events}");
});

/// Counts documents rows and blob files around a request that must fail.
async fn refused(
    app: &TestApp,
    what: &str,
    res: (StatusCode, Value),
    status: StatusCode,
    code: &str,
    param: Option<&str>,
) {
    let (st, e) = res;
    assert_eq!(st, status, "{what}: {e}");
    assert_eq!(e["error"]["code"], code, "{what}: {e}");
    if let Some(p) = param {
        assert_eq!(e["error"]["param"], p, "{what}: {e}");
    }
    assert_eq!(count_rows(app, "documents").await, 0, "{what}: no row");
    assert!(blob_files(app).is_empty(), "{what}: no blob file");
}

both_backends!(
    bad_input_is_a_clear_4xx_and_stores_nothing,
    |app| async move {
        let c = app.create_customer(unique_individual("bad-1", 2)).await;
        let cid = c["id"].as_str().unwrap();
        let path = format!("/v1/customers/{cid}/documents");
        let jpeg = tiny_jpeg("bad-input-marker");
        let good_b64 = b64(&jpeg);
        let bad = StatusCode::BAD_REQUEST;
        let truncated = &good_b64[..good_b64.len() - 3];
        refused(&app, "truncated base64", app.post(&path, json!({"type": "passport", "content_type": "image/jpeg", "content_base64": truncated})).await, bad, "invalid_field", Some("content_base64")).await;
        refused(&app, "not base64", app.post(&path, json!({"type": "passport", "content_type": "image/jpeg", "content_base64": "%%%not base64%%%"})).await, bad, "invalid_field", Some("content_base64")).await;
        refused(
            &app,
            "gif content type",
            upload(&app, cid, "passport", Value::Null, "image/gif", &jpeg).await,
            bad,
            "invalid_field",
            Some("content_type"),
        )
        .await;
        refused(
            &app,
            "declared png, bytes jpeg",
            upload(&app, cid, "passport", Value::Null, "image/png", &jpeg).await,
            bad,
            "invalid_field",
            Some("content_type"),
        )
        .await;
        refused(
            &app,
            "zero-byte file",
            upload(&app, cid, "passport", Value::Null, "image/jpeg", b"").await,
            bad,
            "invalid_field",
            Some("content_base64"),
        )
        .await;
        refused(
            &app,
            "text claiming to be a pdf",
            upload(
                &app,
                cid,
                "passport",
                Value::Null,
                "application/pdf",
                b"hello, I am not a PDF",
            )
            .await,
            bad,
            "invalid_field",
            Some("content_base64"),
        )
        .await;
        refused(
            &app,
            "gif bytes claiming jpeg",
            upload(
                &app,
                cid,
                "passport",
                Value::Null,
                "image/jpeg",
                b"GIF89a....",
            )
            .await,
            bad,
            "invalid_field",
            Some("content_base64"),
        )
        .await;
        refused(
            &app,
            "unknown type",
            upload(&app, cid, "visa", Value::Null, "image/jpeg", &jpeg).await,
            bad,
            "invalid_field",
            Some("type"),
        )
        .await;
        refused(
            &app,
            "bad side",
            upload(&app, cid, "national_id", json!("left"), "image/jpeg", &jpeg).await,
            bad,
            "invalid_field",
            Some("side"),
        )
        .await;
        refused(
            &app,
            "missing content",
            app.post(
                &path,
                json!({"type": "passport", "content_type": "image/jpeg"}),
            )
            .await,
            bad,
            "invalid_field",
            Some("content_base64"),
        )
        .await;
        refused(&app, "unknown field", app.post(&path, json!({"type": "passport", "content_type": "image/jpeg", "content_base64": good_b64, "number": "X1"})).await, bad, "invalid_request", None).await;
        refused(
            &app,
            "not json",
            app.post_raw(&path, b"{nope".to_vec(), &[]).await,
            bad,
            "invalid_request",
            None,
        )
        .await;
        refused(
            &app,
            "multipart zero-byte",
            upload_multipart(
                &app,
                cid,
                &[
                    ("type", None, b"selfie"),
                    ("content_type", None, b"image/png"),
                    ("content", Some("image/png"), b""),
                ],
            )
            .await,
            bad,
            "invalid_field",
            Some("content"),
        )
        .await;
        refused(
            &app,
            "multipart mismatch",
            upload_multipart(
                &app,
                cid,
                &[
                    ("type", None, b"selfie"),
                    ("content_type", None, b"application/pdf"),
                    ("content", Some("application/pdf"), &jpeg),
                ],
            )
            .await,
            bad,
            "invalid_field",
            Some("content_type"),
        )
        .await;
        refused(
            &app,
            "multipart unknown field",
            upload_multipart(
                &app,
                cid,
                &[
                    ("type", None, b"selfie"),
                    ("nope", None, b"x"),
                    ("content", Some("image/jpeg"), &jpeg),
                ],
            )
            .await,
            bad,
            "invalid_request",
            None,
        )
        .await;
        refused(
            &app,
            "wrong json type",
            app.post(
                &path,
                json!({"type": "passport", "content_type": "image/jpeg", "content_base64": 12345}),
            )
            .await,
            bad,
            "invalid_field",
            Some("content_base64"),
        )
        .await;
        refused(
            &app,
            "multipart broken",
            app.post_raw(
                &path,
                b"--x\r\nnot a part".to_vec(),
                &[("content-type", "multipart/form-data; boundary=x")],
            )
            .await,
            bad,
            "invalid_request",
            None,
        )
        .await;

        // Size: 10 MB + 1 byte is 413 (as JSON and as multipart); a 50 MB body is 413 without being kept.
        let max = app.state.config.max_document_bytes;
        let mut over = jpeg.clone();
        over.resize(max + 1, 0);
        refused(
            &app,
            "10 MB + 1 as json",
            upload(&app, cid, "passport", Value::Null, "image/jpeg", &over).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        refused(
            &app,
            "10 MB + 1 as multipart",
            upload_multipart(
                &app,
                cid,
                &[
                    ("type", None, b"passport"),
                    ("content", Some("image/jpeg"), &over),
                ],
            )
            .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        let mut huge =
            b"{\"type\":\"passport\",\"content_type\":\"image/jpeg\",\"content_base64\":\"/9j/"
                .to_vec();
        huge.resize(50 * 1024 * 1024, b'A');
        huge.extend_from_slice(b"\"}");
        refused(
            &app,
            "50 MB json",
            app.post_raw(&path, huge, &[("content-type", "application/json")])
                .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        let (ct, mut body) = multipart(&[
            ("type", None, b"passport"),
            ("content", Some("image/jpeg"), &jpeg),
        ]);
        body.resize(50 * 1024 * 1024, b'A');
        refused(
            &app,
            "50 MB multipart",
            app.post_raw(&path, body, &[("content-type", ct.as_str())])
                .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        // The server is still fine, and exactly 10 MB is accepted.
        over.truncate(max);
        let (st, d) = upload(&app, cid, "passport", Value::Null, "image/jpeg", &over).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        assert_eq!(d["size"], max);
        assert_eq!(count_rows(&app, "documents").await, 1);
        assert_eq!(blob_files(&app).len(), 1);
    }
);

#[tokio::test]
async fn stored_bytes_are_ciphertext_bound_to_their_document() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let c = app.create_customer(unique_individual("ct-1", 3)).await;
    let cid = c["id"].as_str().unwrap();
    let marker = "UNIQUE-MARKER-5d1c0d7e";
    let (_, a) = upload(
        &app,
        cid,
        "passport",
        Value::Null,
        "image/jpeg",
        &tiny_jpeg(marker),
    )
    .await;
    let (_, b) = upload(
        &app,
        cid,
        "selfie",
        Value::Null,
        "image/jpeg",
        &tiny_jpeg("other"),
    )
    .await;
    let files = blob_files(&app);
    assert_eq!(files.len(), 2);
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        assert!(
            !raw.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "plaintext in {}",
            f.display()
        );
        assert!(!raw.starts_with(&[0xFF, 0xD8, 0xFF]));
    }
    // Swapping two blobs is detected (AAD binds `document:<id>`): a 500, never the other file.
    let pa = files
        .iter()
        .find(|p| p.ends_with(a["id"].as_str().unwrap()))
        .unwrap();
    let pb = files
        .iter()
        .find(|p| p.ends_with(b["id"].as_str().unwrap()))
        .unwrap();
    std::fs::copy(pb, pa).unwrap();
    let (st, e) = app
        .get(&format!(
            "/v1/customers/{cid}/documents/{}/content",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(e["error"]["code"], "internal_error");
}

both_backends!(uploads_follow_the_customer_status, |app| async move {
    let jpeg = tiny_jpeg("status-marker");
    // on_hold: locked.
    let mut body = unique_individual("st-1", 4);
    body["verification"] = json!({"level": "full", "mode": "hosted", "start": true});
    let c = app.create_customer(body.clone()).await;
    let cid = id_of(&c);
    assert_eq!(c["status"], "pending");
    let (st, _) = app
        .force_verification(&cid, json!({"status": "on_hold"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = upload(&app, &cid, "passport", Value::Null, "image/jpeg", &jpeg).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "customer_locked");
    assert_eq!(count_rows(&app, "documents").await, 0);
    assert!(blob_files(&app).is_empty());

    // needs_information: an upload of what was asked re-submits; what the
    // policy still lacks (the selfie) is collected while pending, as at the start.
    let mut body = unique_individual("st-2", 5);
    body["verification"] = json!({"level": "full", "mode": "hosted", "start": true});
    let c = app.create_customer(body).await;
    let cid = id_of(&c);
    let (st, c) = app
        .force_verification(
            &cid,
            json!({"status": "needs_information", "missing": ["identity_document"]}),
        )
        .await;
    assert_status(st, &c, StatusCode::OK, "needs_information");
    let (st, _) = upload(&app, &cid, "passport", json!("front"), "image/jpeg", &jpeg).await;
    assert_eq!(st, StatusCode::CREATED);
    let c = app.customer(&cid).await.1;
    assert_eq!(
        c["status"], "pending",
        "the requested document arrived; the selfie is still to come: {c}"
    );
    assert_eq!(
        c["verification"]["requirements"]["missing"],
        json!(["selfie"])
    );
    let (st, selfie) = upload(&app, &cid, "selfie", Value::Null, "image/jpeg", &jpeg).await;
    assert_eq!(st, StatusCode::CREATED);
    let c = app.customer(&cid).await.1;
    assert_eq!(c["status"], "pending", "complete, documents in review: {c}");
    let issues = c["verification"]["requirements"]["issues"].to_string();
    assert!(issues.contains("documents_in_review"), "{c}");
    // Data-only approval once the documents are accepted (otherwise a reviewer decides).
    let (st, _) = app
        .patch("/v1/settings", json!({"auto_approve_hosted": true}))
        .await;
    assert_eq!(st, StatusCode::OK);

    // A reviewer's decisions complete it (sandbox helper; live keys get 404).
    let docs = app.get(&format!("/v1/customers/{cid}/documents")).await.1;
    let (st, _) = app
        .call(
            &app.live_key.clone(),
            reqwest::Method::POST,
            &format!(
                "/v1/test_helpers/documents/{}",
                selfie["id"].as_str().unwrap()
            ),
            Some(json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    for d in docs["data"].as_array().unwrap() {
        let (st, r) = app
            .post(
                &format!("/v1/test_helpers/documents/{}", d["id"].as_str().unwrap()),
                json!({"status": "accepted"}),
            )
            .await;
        assert_status(st, &r, StatusCode::OK, "accepted");
        assert!(r["reviewed_at"].is_string());
    }
    let c = app.customer(&cid).await.1;
    assert!(
        matches!(c["status"].as_str(), Some("active" | "verified")),
        "accepted documents complete the verification: {c}"
    );
    // Active: uploads still allowed (PATCH is), no status change.
    let (st, _) = upload(
        &app,
        &cid,
        "proof_of_address",
        Value::Null,
        "image/jpeg",
        &jpeg,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(app.customer(&cid).await.1["status"], c["status"]);
    // Deactivated: locked.
    let (st, _) = app.deactivate(&cid, json!({"reason": "test"})).await;
    assert_eq!(st, StatusCode::OK, "the customer is deactivated");
    let (st, e) = upload(&app, &cid, "passport", Value::Null, "image/jpeg", &jpeg).await;
    assert_error(st, &e, StatusCode::CONFLICT, "customer_locked");
});

both_backends!(review_accepts_or_rejects_once, |app| async move {
    let mut body = unique_individual("rv-1", 6);
    body["verification"] = json!({"level": "full", "mode": "hosted", "start": true});
    let c = app.create_customer(body).await;
    let cid = id_of(&c);
    let jpeg = tiny_jpeg("review-marker");
    let (_, p) = upload(&app, &cid, "passport", Value::Null, "image/jpeg", &jpeg).await;
    let (_, s) = upload(&app, &cid, "selfie", Value::Null, "image/jpeg", &jpeg).await;
    let (pid, sid) = (p["id"].as_str().unwrap(), s["id"].as_str().unwrap());
    let cx = sandbox_cx(&app).await;
    use kycd_server::error::ApiError;
    use kycd_server::service::documents::review;
    let e: ApiError = review(&app.state, &cx, &cid, pid, false, Some("not_a_reason"))
        .await
        .unwrap_err()
        .into();
    assert_eq!(
        (e.status.as_u16(), e.param.as_deref()),
        (400, Some("reason"))
    );
    let e: ApiError = review(&app.state, &cx, &cid, pid, true, Some("document_expired"))
        .await
        .unwrap_err()
        .into();
    assert_eq!(e.status.as_u16(), 400);
    let d = review(&app.state, &cx, &cid, pid, false, Some("document_expired"))
        .await
        .unwrap();
    assert_eq!(
        (d.status.as_str(), d.rejection_reason.as_deref()),
        ("rejected", Some("document_expired"))
    );
    let e: ApiError = review(&app.state, &cx, &cid, pid, true, None)
        .await
        .unwrap_err()
        .into();
    assert_eq!((e.status.as_u16(), e.code), (409, "invalid_transition"));
    // Another customer's id with this document: 404.
    let other = app.create_customer(json!({"type": "individual"})).await;
    let e: ApiError = review(
        &app.state,
        &cx,
        other["id"].as_str().unwrap(),
        sid,
        true,
        None,
    )
    .await
    .unwrap_err()
    .into();
    assert_eq!(e.status.as_u16(), 404);
    // The rejected passport no longer counts: the identity document is missing again.
    let c = app.customer(&cid).await.1;
    assert_eq!(c["status"], "pending");
    assert!(
        c["verification"]["requirements"]["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("identity_document")),
        "{c}"
    );
    let (st, r) = app.set_document(sid, json!({"status": "rejected"})).await;
    assert_answer(
        st,
        &r,
        "/rejection_reason",
        (StatusCode::OK, "document_unreadable"),
    );
    let (st, e) = app.set_document(sid, json!({"status": "maybe"})).await;
    assert_answer(st, &e, "/error/param", (StatusCode::BAD_REQUEST, "status"));
    let (st, _) = app
        .post(
            "/v1/test_helpers/documents/doc_01nothere",
            json!({"status": "accepted"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let events = app
        .get(&format!(
            "/v1/events?customer_id={cid}&type=document.reviewed"
        ))
        .await
        .1;
    assert_eq!(events["data"].as_array().map(Vec::len), Some(2), "{events}");
});

both_backends!(erasure_removes_rows_and_blobs, |app| async move {
    let a = app.create_customer(unique_individual("er-1", 7)).await;
    let b = app
        .create_customer(json!({"type": "individual", "external_id": "er-2"}))
        .await;
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    for cid in [aid, aid, bid] {
        let (st, _) = upload(
            &app,
            cid,
            "passport",
            Value::Null,
            "image/jpeg",
            &tiny_jpeg("erase-marker"),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    assert_eq!(blob_files(&app).len(), 3);
    let (st, _) = app.delete(&format!("/v1/customers/{aid}")).await;
    assert_eq!(st, StatusCode::OK);
    let left = blob_files(&app);
    assert_eq!(left.len(), 1, "only the other customer's blob stays");
    assert!(left[0].to_string_lossy().contains(bid));
    assert_eq!(count_rows(&app, "documents").await, 1);
    let (st, _) = app.get(&format!("/v1/customers/{aid}/documents")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
});

/// A minimal S3 (path-style PUT/GET/HEAD/DELETE and ListObjectsV2) on loopback.
mod fake_s3 {
    use axum::body::Bytes;
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};

    pub type Objects = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

    pub async fn start() -> (String, Objects) {
        let objects: Objects = Default::default();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(objects.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), objects)
    }

    async fn handle(
        State(objects): State<Objects>,
        method: Method,
        uri: Uri,
        Query(q): Query<HashMap<String, String>>,
        _h: HeaderMap,
        body: Bytes,
    ) -> Response {
        let path = percent_decode(uri.path().trim_start_matches('/'));
        let mut map = objects.lock().unwrap();
        let meta = |len: usize| {
            [
                ("etag", "\"fake-etag\"".to_string()),
                ("last-modified", "Tue, 15 Nov 1994 08:12:31 GMT".to_string()),
                ("content-length", len.to_string()),
            ]
        };
        if method == Method::GET && q.get("list-type").map(String::as_str) == Some("2") {
            let prefix = format!("{path}/{}", q.get("prefix").cloned().unwrap_or_default());
            let mut xml = String::from(
                r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated>"#,
            );
            for (k, v) in map.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                let key = &k[path.len() + 1..];
                xml.push_str(&format!("<Contents><Key>{key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>\"e\"</ETag><Size>{}</Size></Contents>", v.len()));
            }
            xml.push_str("</ListBucketResult>");
            return ([("content-type", "application/xml")], xml).into_response();
        }
        match method {
            Method::PUT => {
                map.insert(path, body.to_vec());
                (StatusCode::OK, [("etag", "\"fake-etag\"")]).into_response()
            }
            Method::GET | Method::HEAD => match map.get(&path) {
                Some(v) if method == Method::GET => (meta(v.len()), v.clone()).into_response(),
                Some(v) => (meta(v.len()), ()).into_response(),
                None => (
                    StatusCode::NOT_FOUND,
                    "<Error><Code>NoSuchKey</Code></Error>",
                )
                    .into_response(),
            },
            Method::DELETE => {
                map.remove(&path);
                StatusCode::NO_CONTENT.into_response()
            }
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    }

    fn percent_decode(s: &str) -> String {
        url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn s3_blob_backend_puts_reads_and_deletes() {
    let (endpoint, objects) = fake_s3::start().await;
    let opts = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
        ("aws_region", "us-east-1"),
        ("aws_virtual_hosted_style_request", "false"),
    ];
    let blobs = kycd_server::blobs::Blobs::open("s3://kycd-bucket/docs/v1", &opts).unwrap();
    assert_eq!(blobs.location, "s3://kycd-bucket/docs/v1");
    let scope = Scope::new("org_1", "sandbox");
    let (k1, k2) = (
        kycd_server::blobs::Blobs::key_for(&scope, "cus_1", "doc_1"),
        kycd_server::blobs::Blobs::key_for(&scope, "cus_1", "doc_2"),
    );
    let other = kycd_server::blobs::Blobs::key_for(&scope, "cus_2", "doc_3");
    for k in [&k1, &k2, &other] {
        blobs
            .put(k, format!("sealed:{k}").into_bytes())
            .await
            .unwrap();
    }
    assert!(
        objects
            .lock()
            .unwrap()
            .contains_key("kycd-bucket/docs/v1/org_1/sandbox/cus_1/doc_1")
    );
    assert_eq!(
        blobs.get(&k2).await.unwrap().unwrap().to_vec(),
        format!("sealed:{k2}").into_bytes()
    );
    assert_eq!(blobs.get("org_1/sandbox/cus_1/doc_9").await.unwrap(), None);
    let n = blobs
        .delete_prefix(&kycd_server::blobs::Blobs::customer_prefix(&scope, "cus_1"))
        .await
        .unwrap();
    assert_eq!(n, 2);
    let left: Vec<String> = objects.lock().unwrap().keys().cloned().collect();
    assert_eq!(
        left,
        vec!["kycd-bucket/docs/v1/org_1/sandbox/cus_2/doc_3".to_string()]
    );
    blobs.delete(&other).await.unwrap();
    blobs.delete(&other).await.unwrap();
    assert!(objects.lock().unwrap().is_empty());
    assert!(kycd_server::blobs::Blobs::open("ftp://x/y", &[]).is_err());
}

/// Makes the next `document.upload` audit row fail inside the upload's
/// transaction, after its document row and its outbox event were written.
async fn fail_upload_audit(app: &TestApp, on: bool) {
    let sql: &[&str] = match (app.backend, on) {
        (Backend::Sqlite, true) => &[
            "CREATE TRIGGER test_fail_upload BEFORE INSERT ON audit_log \
             WHEN NEW.action = 'document.upload' BEGIN SELECT RAISE(ABORT, 'test: fail the upload'); END",
        ],
        (Backend::Sqlite, false) => &["DROP TRIGGER test_fail_upload"],
        (Backend::Postgres, true) => &[
            "CREATE FUNCTION test_fail_upload() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'test: fail the upload'; END $$",
            "CREATE TRIGGER test_fail_upload BEFORE INSERT ON audit_log FOR EACH ROW \
             WHEN (NEW.action = 'document.upload') EXECUTE FUNCTION test_fail_upload()",
        ],
        (Backend::Postgres, false) => &["DROP TRIGGER test_fail_upload ON audit_log"],
    };
    let mut conn = app.state.store.writer().await.unwrap();
    for s in sql {
        sqlx::query(s).execute(&mut *conn).await.unwrap();
    }
}

async fn count_where(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.state.store.reader().await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut *conn).await.unwrap()
}

// README: a failed transaction leaves nothing behind: no document row, no
// blob file (written before the transaction, removed when it fails), and no
// event (written in the transaction, rolled back with it).
both_backends!(
    a_failed_upload_transaction_leaves_no_row_blob_or_event,
    |app| async move {
        let c = app.create_customer(unique_individual("tx-fail", 7)).await;
        let cid = id_of(&c);
        let jpeg = tiny_jpeg("tx-fail");
        let uploaded = "SELECT COUNT(*) FROM events WHERE type = 'document.uploaded'";
        fail_upload_audit(&app, true).await;
        let (st, e) = upload(&app, &cid, "passport", Value::Null, "image/jpeg", &jpeg).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{e}");
        assert_eq!(count_rows(&app, "documents").await, 0, "no document row");
        assert!(blob_files(&app).is_empty(), "the blob was removed");
        assert_eq!(count_where(&app, uploaded).await, 0, "no event");
        // Positive control: the same upload without the failure leaves all three.
        fail_upload_audit(&app, false).await;
        let (st, d) = upload(&app, &cid, "passport", Value::Null, "image/jpeg", &jpeg).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        assert_eq!(count_rows(&app, "documents").await, 1);
        assert_eq!(blob_files(&app).len(), 1);
        assert_eq!(count_where(&app, uploaded).await, 1);
    }
);
