//! Snapshots (insta) of every error body the API answers and of each
//! resource's shape, with ids, times, secrets and URLs redacted so the
//! snapshot changes only when a field, a code or a message changes. Each case
//! also asserts its status here. Both backends compare against the same
//! snapshot, so they must answer alike. Review changes with `cargo insta review`.

use crate::common::*;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

/// Replaces what differs from run to run: ids (`cus_01J…`), request ids,
/// RFC 3339 times, API keys and webhook secrets, URLs (they carry ports and
/// tokens). Dates of birth and other plain data are kept.
fn redact(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), redact(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        Value::String(s) => Value::String(redact_str(s)),
        other => other.clone(),
    }
}

fn redact_str(s: &str) -> String {
    // A month (`2026-11`): usage is counted per calendar month.
    if s.len() == 7
        && s.as_bytes()[4] == b'-'
        && s.bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit())
    {
        return "[month]".into();
    }
    if s.starts_with("sk_test_") || s.starts_with("sk_live_") || s.starts_with("whsec_") {
        return "[secret]".into();
    }
    if s.starts_with("http://") || s.starts_with("https://") {
        return "[url]".into();
    }
    if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
        return "[time]".into();
    }
    // An id inside a longer value (`api_key:key_01J…`).
    if s.contains(':') && !s.contains(' ') {
        return s.split(':').map(redact_str).collect::<Vec<_>>().join(":");
    }
    // A kycd id: a short lowercase prefix, `_`, then a ULID (26 base32 characters).
    if let Some((prefix, rest)) = s.split_once('_')
        && !prefix.is_empty()
        && prefix.len() <= 5
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && rest.len() == 26
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return format!("[{prefix}_id]");
    }
    s.to_string()
}

#[test]
fn redaction_keeps_data_and_hides_what_varies() {
    assert_eq!(
        redact(&json!({
            "id": "cus_01JABCDEFGHJKMNPQRSTVWXYZ0",
            "request_id": "req_01JABCDEFGHJKMNPQRSTVWXYZ0",
            "created_at": "2026-11-28T10:00:00.123Z",
            "date_of_birth": "1990-01-31",
            "url": "http://127.0.0.1:4321/hosted/v/tok",
            "secret": "whsec_abc",
            "status": "not_started",
            "external_id": "user_1",
            "last4": "4725",
            "actor": "api_key:key_01JABCDEFGHJKMNPQRSTVWXYZ0",
            "month": "2026-11"
        })),
        json!({
            "id": "[cus_id]", "request_id": "[req_id]", "created_at": "[time]",
            "date_of_birth": "1990-01-31", "url": "[url]", "secret": "[secret]",
            "status": "not_started", "external_id": "user_1", "last4": "4725",
            "actor": "api_key:[key_id]", "month": "[month]"
        })
    );
}

/// Raw request: `(status, body)` for bodies and headers `TestApp::call` cannot send.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Records one case: asserts the status, keeps the redacted body for the snapshot.
fn case(
    all: &mut Map<String, Value>,
    name: &str,
    want: StatusCode,
    (status, body): (StatusCode, Value),
) {
    assert_eq!(status, want, "{name}: {body}");
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{name}: an error body: {body}"
    );
    all.insert(
        name.to_string(),
        json!({"status": status.as_u16(), "body": redact(&body)}),
    );
}

both_backends!(every_error_body, |app| async move {
    let mut all = Map::new();
    let key = app.sandbox_key.clone();
    let json_ct = [("content-type", "application/json")];

    let r = raw(&app, Method::GET, "/v1/customers", None, &[], None).await;
    case(&mut all, "401 no API key", StatusCode::UNAUTHORIZED, r);
    let r = app
        .call("sk_test_nope", Method::GET, "/v1/customers", None)
        .await;
    case(&mut all, "401 unknown API key", StatusCode::UNAUTHORIZED, r);
    let r = app
        .get("/v1/customers/cus_00000000000000000000000000")
        .await;
    case(&mut all, "404 unknown customer", StatusCode::NOT_FOUND, r);
    let r = app.get("/v1/nothing_here").await;
    case(&mut all, "404 no such path", StatusCode::NOT_FOUND, r);
    let r = app.call(&key, Method::PUT, "/v1/settings", None).await;
    case(
        &mut all,
        "405 method not allowed",
        StatusCode::METHOD_NOT_ALLOWED,
        r,
    );
    let r = app.post("/v1/customers", json!({"type": "alien"})).await;
    case(&mut all, "400 invalid field", StatusCode::BAD_REQUEST, r);
    let r = app
        .post(
            "/v1/customers",
            json!({"type": "individual", "individual": {"email": "not-an-email"}}),
        )
        .await;
    case(
        &mut all,
        "400 invalid nested field",
        StatusCode::BAD_REQUEST,
        r,
    );
    let r = raw(
        &app,
        Method::POST,
        "/v1/customers",
        Some(&key),
        &json_ct,
        Some(b"{\"type\": ".to_vec()),
    )
    .await;
    case(&mut all, "400 malformed JSON", StatusCode::BAD_REQUEST, r);
    let r = raw(
        &app,
        Method::POST,
        "/v1/customers",
        Some(&key),
        &json_ct,
        Some(br#"{"type": "individual", "type": "business"}"#.to_vec()),
    )
    .await;
    case(&mut all, "400 repeated key", StatusCode::BAD_REQUEST, r);
    let r = app.patch("/v1/settings", json!({"min_age": null})).await;
    case(&mut all, "400 null setting", StatusCode::BAD_REQUEST, r);
    let r = raw(
        &app,
        Method::POST,
        "/v1/customers",
        Some(&key),
        &[("content-type", "text/plain")],
        Some(b"type=individual".to_vec()),
    )
    .await;
    case(
        &mut all,
        "415 unsupported media type",
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        r,
    );
    let r = raw(
        &app,
        Method::POST,
        "/v1/customers",
        Some(&key),
        &json_ct,
        Some(
            format!(
                "{{\"type\": \"individual\", \"external_id\": \"{}\"}}",
                "x".repeat(3 << 20)
            )
            .into_bytes(),
        ),
    )
    .await;
    case(
        &mut all,
        "413 payload too large",
        StatusCode::PAYLOAD_TOO_LARGE,
        r,
    );

    app.create_customer(json!({"type": "individual", "external_id": "taken"}))
        .await;
    let r = app
        .post(
            "/v1/customers",
            json!({"type": "individual", "external_id": "taken"}),
        )
        .await;
    case(&mut all, "409 external id taken", StatusCode::CONFLICT, r);
    let idem = [
        ("content-type", "application/json"),
        ("idempotency-key", "shape-1"),
    ];
    let first = raw(
        &app,
        Method::POST,
        "/v1/customers",
        Some(&key),
        &idem,
        Some(br#"{"type": "individual"}"#.to_vec()),
    )
    .await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    let r = raw(
        &app,
        Method::POST,
        "/v1/customers",
        Some(&key),
        &idem,
        Some(br#"{"type": "business"}"#.to_vec()),
    )
    .await;
    case(
        &mut all,
        "422 idempotency key reused with another body",
        StatusCode::UNPROCESSABLE_ENTITY,
        r,
    );

    let fresh = app.create_customer(json!({"type": "individual"})).await;
    let fresh_id = fresh["id"].as_str().unwrap();
    let r = app
        .post(&format!("/v1/customers/{fresh_id}/activate"), json!({}))
        .await;
    case(&mut all, "409 invalid transition", StatusCode::CONFLICT, r);
    let mut body = complete_individual("locked-1");
    body["verification"] = json!({"level": "full", "mode": "hosted", "start": true});
    let pending = app.create_customer(body).await;
    assert_eq!(pending["status"], "pending", "{pending}");
    let pending_id = pending["id"].as_str().unwrap();
    let r = app
        .update_customer(pending_id, json!({"external_id": "changed"}))
        .await;
    case(&mut all, "409 customer locked", StatusCode::CONFLICT, r);
    let r = app
        .post(
            &format!("/v1/customers/{pending_id}/product_access"),
            json!({"product": "cards"}),
        )
        .await;
    case(
        &mut all,
        "403 requirements not met (product access, customer not active)",
        StatusCode::FORBIDDEN,
        r,
    );
    let r = app
        .post(
            "/v1/capability_checks",
            json!({"customer_id": fresh_id, "capability": "transact"}),
        )
        .await;
    case(&mut all, "403 missing capability", StatusCode::FORBIDDEN, r);
    let r = app.add_document(fresh_id, json!({"type": "passport", "content_type": "image/jpeg",
                   "content_base64": base64::engine::general_purpose::STANDARD.encode(b"not a jpeg")})).await;
    case(
        &mut all,
        "400 document content does not match its type",
        StatusCode::BAD_REQUEST,
        r,
    );

    let (st, v) = app
        .patch("/v1/settings", json!({"rate_limit_per_second": 1}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut limited = None;
    for _ in 0..10 {
        let r = app.get("/v1/settings").await;
        if r.0 == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a 429 within 10 requests at 1/s (burst 2)");
    case(
        &mut all,
        "429 rate limited",
        StatusCode::TOO_MANY_REQUESTS,
        r,
    );

    insta::assert_json_snapshot!("error_bodies", Value::Object(all));
});

/// Reads a resource and returns its redacted shape, asserting the status.
async fn shape(what: &str, (status, body): (StatusCode, Value), want: StatusCode) -> Value {
    assert_eq!(status, want, "{what}: {body}");
    redact(&body)
}

both_backends!(every_resource_shape, |app| async move {
    let mut all = Map::new();
    let jpeg = tiny_jpeg("shape");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);

    let mut body = complete_individual("shape-1");
    body["verification"] = json!({"level": "full", "mode": "hosted", "start": true});
    let r = app.post("/v1/customers", body).await;
    let customer = r.1.clone();
    all.insert(
        "customer (created, verification started)".into(),
        shape("customer", r, StatusCode::CREATED).await,
    );
    let id = id_of(&customer);
    let r = app.get(&format!("/v1/customers/{id}/verification")).await;
    all.insert(
        "verification".into(),
        shape("verification", r, StatusCode::OK).await,
    );
    let r = app
        .add_document(
            &id,
            json!({"type": "passport", "content_type": "image/jpeg", "content_base64": b64}),
        )
        .await;
    all.insert(
        "document".into(),
        shape("document", r, StatusCode::CREATED).await,
    );
    let r = app.get(&format!("/v1/customers/{id}/documents")).await;
    all.insert(
        "document list".into(),
        shape("documents", r, StatusCode::OK).await,
    );
    let r = app.get(&format!("/v1/customers/{id}/capabilities")).await;
    all.insert(
        "capabilities".into(),
        shape("capabilities", r, StatusCode::OK).await,
    );
    let r = app.get(&format!("/v1/customers/{id}/explanation")).await;
    all.insert(
        "explanation".into(),
        shape("explanation", r, StatusCode::OK).await,
    );

    let owner = app
        .create_customer(complete_individual("shape-owner"))
        .await;
    let r = app
        .post(
            "/v1/customers",
            json!({"type": "business", "external_id": "shape-biz",
                   "business": {"legal_name": "Acme Ltda", "country": "BR",
                                "incorporation_date": "2001-02-03",
                                "beneficial_owners": [owner["id"]]},
                   "identifiers": [{"type": "cnpj", "value": "11.222.333/0001-81"}]}),
        )
        .await;
    all.insert(
        "business customer".into(),
        shape("business", r, StatusCode::CREATED).await,
    );

    let (st, v) = app
        .force_verification(&id, json!({"status": "approved"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    all.insert("customer (approved)".into(), redact(&v));
    let r = app
        .post(
            &format!("/v1/customers/{id}/product_access"),
            json!({"product": "cards"}),
        )
        .await;
    let st = r.0;
    assert!(st.is_success(), "product access: {}", r.1);
    all.insert(
        "product access".into(),
        shape("product access", r, st).await,
    );

    let r = app.get("/v1/settings").await;
    all.insert(
        "settings".into(),
        shape("settings", r, StatusCode::OK).await,
    );
    let r = app
        .post(
            "/v1/webhook_endpoints",
            json!({"url": "http://127.0.0.1:9/hooks", "enabled_events": ["customer.created"]}),
        )
        .await;
    all.insert(
        "webhook endpoint (created, with its secret)".into(),
        shape("endpoint", r, StatusCode::CREATED).await,
    );
    let (st, events) = app.get("/v1/events?type=customer.created&limit=1").await;
    assert_eq!(st, StatusCode::OK, "{events}");
    all.insert("event list".into(), redact(&events));
    let r = app.get("/v1/rejection_reasons").await;
    all.insert(
        "rejection reasons".into(),
        shape("reasons", r, StatusCode::OK).await,
    );
    let r = app.get("/v1/requirements").await;
    all.insert(
        "requirements".into(),
        shape("requirements", r, StatusCode::OK).await,
    );
    let r = app.get("/v1/usage").await;
    all.insert("usage".into(), shape("usage", r, StatusCode::OK).await);
    let r = app.get("/v1/screening/lists").await;
    all.insert(
        "screening lists".into(),
        shape("lists", r, StatusCode::OK).await,
    );

    insta::assert_json_snapshot!("resource_shapes", Value::Object(all));
});
