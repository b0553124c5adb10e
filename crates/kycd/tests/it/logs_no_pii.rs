//! No response, log line, metric label or error message carries a full
//! identifier or document byte: runs the real `kycd serve` with
//! `KYCD_LOG_FORMAT=json KYCD_LOG=debug` (SQLite, then PostgreSQL when
//! KYCD_TEST_POSTGRES_URL is set), drives creates, patches, uploads and error
//! paths with known values over HTTP, then searches stdout+stderr, every
//! response body and `/metrics` for those values.

use crate::common::*;
use base64::Engine;
use serde_json::{Value, json};

const CPF: &str = "529.982.247-25";
const CPF_BAD: &str = "529.982.247-26";
const CPF_OTHER: &str = "111.444.777-35";
const SSN: &str = "536-22-8457";
const SSN_BAD: &str = "666-12-3456";
const PASSPORT: &str = "PZ4471902";
const MARKER: &str = "DOC-MARKER-3f9a1c77e0";
const REFERENCE: &str = "sumsub-ref-77ab12cd9e";

fn secrets(doc_b64: &str) -> Vec<String> {
    let mut v = vec![];
    for s in [
        CPF, CPF_BAD, CPF_OTHER, SSN, SSN_BAD, PASSPORT, MARKER, REFERENCE,
    ] {
        v.push(s.to_string());
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if s.chars().all(|c| c.is_ascii_digit() || ".-".contains(c)) {
            v.push(digits);
        }
    }
    // The document as base64, and a slice of it from the middle (a logged body would show it).
    v.push(doc_b64.to_string());
    v.push(doc_b64[8..40].to_string());
    v
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    bodies: Vec<String>,
}

impl Client {
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        self.bodies.push(text.clone());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn raw(&mut self, path: &str, body: Vec<u8>, ct: &str) -> u16 {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        self.bodies.push(res.text().await.unwrap());
        status
    }
}

fn individual(ext: &str, ids: Value) -> Value {
    json!({
        "type": "individual", "external_id": ext,
        "individual": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-01-31", "nationality": "BR",
                       "email": format!("{ext}@example.com"), "email_verified": true, "phone": "+5511999990000", "phone_verified": true},
        "addresses": [{"line1": "Rua A, 1", "city": "São Paulo", "region": "SP", "postal_code": "01000-000", "country": "BR", "primary": true}],
        "identifiers": ids
    })
}

async fn drive(c: &mut Client, doc: &[u8], doc_b64: &str) {
    // Creates: valid, then every kind of bad identifier.
    let (st, a) = c.post("/v1/customers", json!(individual("pii-a", json!([{"type": "cpf", "value": CPF}, {"type": "passport", "value": PASSPORT, "country": "BR"}])))).await;
    assert_eq!(st, 201, "{a}");
    let aid = a["id"].as_str().unwrap().to_string();
    for ids in [
        json!([{"type": "cpf", "value": CPF_BAD}]),
        json!([{"type": "ssn", "value": SSN_BAD}]),
        json!([{"type": "cpf", "value": CPF_BAD.replace(['.', '-'], "")}]),
        json!([{"type": "cpf", "value": CPF_BAD.replace(['.', '-'], "").parse::<u64>().unwrap()}]),
        json!([{"type": "nope", "value": CPF}]),
        json!([{"type": "cpf", "value": CPF, "extra": SSN}]),
    ] {
        let (st, e) = c
            .post("/v1/customers", individual("pii-bad", ids.clone()))
            .await;
        assert_eq!(st, 400, "{ids} → {e}");
    }
    // Duplicate external id (a database constraint on PostgreSQL), reliance attestation.
    let (st, _) = c
        .post(
            "/v1/customers",
            individual("pii-a", json!([{"type": "cpf", "value": CPF_OTHER}])),
        )
        .await;
    assert_eq!(st, 409);
    let mut b = individual("pii-b", json!([{"type": "ssn", "value": SSN}]));
    b["attestation"] = json!({"provider": "sumsub", "reference": REFERENCE, "verified_at": "2025-01-01T00:00:00Z", "liveness": true});
    let (st, bv) = c.post("/v1/customers", b).await;
    assert_eq!(st, 201, "{bv}");
    let bid = bv["id"].as_str().unwrap().to_string();
    // Patches: valid and invalid.
    let (st, _) = c.send(reqwest::Method::PATCH, &format!("/v1/customers/{bid}"), Some(json!({"identifiers": [{"type": "ssn", "value": SSN}, {"type": "cpf", "value": CPF_OTHER}]}))).await;
    assert_eq!(st, 200);
    let (st, _) = c
        .send(
            reqwest::Method::PATCH,
            &format!("/v1/customers/{bid}"),
            Some(json!({"identifiers": [{"type": "ssn", "value": SSN_BAD}]})),
        )
        .await;
    assert_eq!(st, 400);
    // Ids that are identifiers, in paths and queries.
    for path in [
        format!("/v1/customers/{CPF}"),
        format!("/v1/customers/{}", SSN.replace('-', "")),
        format!("/v1/nothing/{PASSPORT}"),
        format!("/v1/customers/{aid}/documents/{MARKER}"),
    ] {
        let (st, _) = c.send(reqwest::Method::GET, &path, None).await;
        assert_eq!(st, 404, "{path}");
    }
    // Documents: good (JSON and multipart), then bad ones that carry the marker.
    let docs = format!("/v1/customers/{aid}/documents");
    let (st, d) = c.post(&docs, json!({"type": "passport", "side": "front", "content_type": "image/jpeg", "content_base64": doc_b64})).await;
    assert_eq!(st, 201, "{d}");
    let mut mp = b"--BOUNDARYx\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nselfie\r\n--BOUNDARYx\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    mp.extend_from_slice(doc);
    mp.extend_from_slice(b"\r\n--BOUNDARYx--\r\n");
    assert_eq!(
        c.raw(&docs, mp, "multipart/form-data; boundary=BOUNDARYx")
            .await,
        201
    );
    let text =
        base64::engine::general_purpose::STANDARD.encode(format!("plain text {MARKER} {CPF}"));
    for bad in [
        json!({"type": "passport", "content_type": "image/png", "content_base64": doc_b64}),
        json!({"type": "passport", "content_type": "application/pdf", "content_base64": text}),
        json!({"type": "passport", "content_type": "image/jpeg", "content_base64": &doc_b64[..doc_b64.len() - 2]}),
        json!({"type": MARKER, "content_type": "image/jpeg", "content_base64": doc_b64}),
        json!({"type": "passport", "content_type": CPF, "content_base64": doc_b64}),
        json!({"type": "passport", "side": SSN, "content_type": "image/jpeg", "content_base64": doc_b64}),
        json!({"type": "passport", "content_type": "image/jpeg", "content_base64": doc_b64, CPF: MARKER}),
        json!({"type": "passport", "content_type": "image/jpeg", "content_base64": 52998224725u64}),
    ] {
        let (st, e) = c.post(&docs, bad.clone()).await;
        assert_eq!(st, 400, "{e}");
    }
    assert_eq!(
        c.raw(
            &docs,
            format!("{{\"type\": \"passport\", \"content_base64\": \"{MARKER}").into_bytes(),
            "application/json"
        )
        .await,
        400
    );
    // Reads, a download (its body is the document itself: not searched), a review, an erasure.
    let doc_id = d["id"].as_str().unwrap();
    let res = c
        .http
        .get(format!("{}{docs}/{doc_id}/content", c.base))
        .bearer_auth(&c.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().to_vec(), doc);
    for path in [
        format!("/v1/customers/{aid}"),
        format!("/v1/customers/{bid}"),
        "/v1/customers".into(),
        docs.clone(),
        "/v1/events?limit=100".into(),
    ] {
        let (st, _) = c.send(reqwest::Method::GET, &path, None).await;
        assert_eq!(st, 200, "{path}");
    }
    let (st, _) = c
        .post(
            &format!("/v1/test_helpers/documents/{doc_id}"),
            json!({"status": "rejected", "reason": MARKER}),
        )
        .await;
    assert_eq!(st, 400);
    let (st, _) = c
        .post(
            &format!("/v1/test_helpers/documents/{doc_id}"),
            json!({"status": "accepted"}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = c
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/customers/{aid}"),
            None,
        )
        .await;
    assert_eq!(st, 200);
}

async fn check(database_url: Option<String>) {
    let dir = temp_dir("logs");
    let mut env = vec![("KYCD_LOG_FORMAT", "json"), ("KYCD_LOG", "debug")];
    if let Some(u) = &database_url {
        env.push(("KYCD_DATABASE_URL", u.as_str()));
    }
    let server = Server::start(&dir, "serve", &[], &env);
    let key = server
        .sandbox_key()
        .expect("first start prints the sandbox key");
    let mut doc = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    doc.extend_from_slice(format!("JFIF {MARKER} {CPF} {SSN}").as_bytes());
    doc.extend_from_slice(&[0xFF, 0xD9]);
    let doc_b64 = base64::engine::general_purpose::STANDARD.encode(&doc);
    let mut c = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        key,
        bodies: vec![],
    };
    drive(&mut c, &doc, &doc_b64).await;
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("/v1/customers/{id}/documents"),
        "route templates label the metrics"
    );
    // Let the background workers run once more, then stop and read everything it wrote.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let logs = server.stop();
    assert!(
        logs.contains("\"route\":\"/v1/customers/{id}/documents\""),
        "positive control: JSON request logs are captured"
    );
    assert!(
        logs.contains("\"level\":\"DEBUG\""),
        "positive control: debug logging is on"
    );
    let responses = c.bodies.join("\n");
    assert!(
        responses.contains("\"last4\":\"4725\""),
        "positive control: responses are captured"
    );
    let mut leaks = vec![];
    for s in secrets(&doc_b64) {
        for (place, text) in [
            ("the server's output", &logs),
            ("an API response", &responses),
            ("/metrics", &metrics),
        ] {
            if let Some(at) = text.find(&s) {
                let line = text[..at].rsplit('\n').next().unwrap_or("").len();
                let start = at - line.min(at);
                let end = text[at..].find('\n').map_or(text.len(), |e| at + e);
                leaks.push(format!("{s} in {place}: {}", &text[start..end]));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leak(s):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn no_identifier_or_document_byte_in_logs_responses_or_metrics() {
    check(None).await;
}

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn no_identifier_or_document_byte_in_logs_responses_or_metrics_postgres() {
    check(Some(fresh_postgres_url().await)).await;
}
