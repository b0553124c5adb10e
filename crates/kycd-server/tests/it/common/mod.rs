//! Test harness: starts the real server on port 0 with a fresh database
//! (a temporary SQLite file, or a new PostgreSQL database when
//! KYCD_TEST_POSTGRES_URL is set) and talks HTTP to it.
#![allow(dead_code)]

#[macro_use]
pub mod browser;

use kycd_server::{Application, Config};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    pub sandbox_key: String,
    pub live_key: String,
    pub org_id: String,
    pub state: kycd_server::state::AppState,
    pub database_url: String,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A fresh PostgreSQL database URL. Tests that need one are `ignored` unless
/// KYCD_TEST_POSTGRES_URL was set at build time (build.rs, `both_backends!`),
/// so a variable missing at run time is an error, never a silent pass.
pub async fn fresh_postgres_url() -> String {
    let base = std::env::var("KYCD_TEST_POSTGRES_URL")
        .expect("KYCD_TEST_POSTGRES_URL was set when the tests were built: set it to run them");
    kycd_store::create_scratch_database(&base, "kycd_test")
        .await
        .expect("create a test database on KYCD_TEST_POSTGRES_URL")
}

pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("tempdir");
    let database_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("kycd.db").display()),
        Backend::Postgres => fresh_postgres_url().await,
    };
    let mut config = Config {
        database_url: Some(database_url.clone().into()),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        master_key: Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into()),
        webhook_allow_private: true,
        tick_millis: 200,
        ..Config::default()
    };
    tweak(&mut config);
    let app = Application::build(config).await.expect("build app");
    let boot = app
        .bootstrap
        .clone()
        .expect("fresh database bootstraps the default org");
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    Some(TestApp {
        backend,
        base,
        client: reqwest::Client::new(),
        sandbox_key: boot.sandbox_api_key,
        live_key: boot.live_api_key,
        org_id: boot.id,
        state,
        database_url,
        dir,
        shutdown: Some(tx),
    })
}

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |_| {}).await
}

/// Runs `f` against a fresh server on `backend`.
pub async fn run_on<F, Fut>(backend: Backend, f: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f(spawn(backend).await.expect("a test server")).await;
}

/// Like `both_backends!`, for a test that sets its server up itself: `$f`
/// takes the `Backend`.
#[macro_export]
macro_rules! per_backend {
    ($name:ident, $f:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($f)($crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
            async fn postgres() {
                ($f)($crate::common::Backend::Postgres).await;
            }
        }
    };
}

/// Declares one test per backend, `NAME::sqlite` and `NAME::postgres`, each
/// against a fresh server. The PostgreSQL one is `ignored` (shown as skipped,
/// never as passed) unless KYCD_TEST_POSTGRES_URL was set at build time.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $f:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run_on($crate::common::Backend::Sqlite, $f).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
            async fn postgres() {
                $crate::common::run_on($crate::common::Backend::Postgres, $f).await;
            }
        }
    };
}

impl TestApp {
    pub async fn call(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        assert!(
            res.headers().contains_key("x-request-id"),
            "every response carries X-Request-Id"
        );
        let text = res.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }
    /// `POST /v1/customers/{id}/verification` with no body options.
    pub async fn start_verification(&self, id: &str) -> (StatusCode, Value) {
        self.post(&format!("/v1/customers/{id}/verification"), json!({}))
            .await
    }

    /// `POST /v1/customers/{id}/verification` with `body` (mode, level, start).
    pub async fn verify(&self, id: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/customers/{id}/verification"), body)
            .await
    }

    /// `GET /v1/customers/{id}`.
    pub async fn customer(&self, id: &str) -> (StatusCode, Value) {
        self.get(&format!("/v1/customers/{id}")).await
    }

    /// `POST /v1/customers/{id}/documents` with `body`.
    pub async fn add_document(&self, id: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/customers/{id}/documents"), body)
            .await
    }

    /// Uploads a [`jpeg_document`] of this type for the customer.
    pub async fn upload_jpeg(&self, id: &str, doc_type: &str) -> (StatusCode, Value) {
        self.add_document(id, jpeg_document(doc_type)).await
    }

    /// `PATCH /v1/customers/{id}` with `body`.
    pub async fn update_customer(&self, id: &str, body: Value) -> (StatusCode, Value) {
        self.patch(&format!("/v1/customers/{id}"), body).await
    }

    /// `POST /v1/customers/{id}/deactivate` with `body`.
    pub async fn deactivate(&self, id: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/customers/{id}/deactivate"), body)
            .await
    }

    /// `GET path` without an API key (the public pages), as it came.
    pub async fn public_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// The sandbox helper that decides a screening match:
    /// `POST /v1/test_helpers/customers/{id}/screening`.
    pub async fn decide_screening(&self, id: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/test_helpers/customers/{id}/screening"), body)
            .await
    }

    /// The OpenAPI document as the server serves it (public, `200`).
    pub async fn openapi_document(&self) -> Value {
        let res = self.public_get("/openapi.json").await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("the served document")
    }

    /// The sandbox helper that sets a document's review:
    /// `POST /v1/test_helpers/documents/{document}`.
    pub async fn set_document(&self, document: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/test_helpers/documents/{document}"), body)
            .await
    }

    /// `POST path` with the sandbox key and an `Idempotency-Key`: the
    /// status, the answer, and whether it was a replay (`Idempotent-Replayed`).
    pub async fn post_idempotent(
        &self,
        path: &str,
        key: &str,
        body: Value,
    ) -> (StatusCode, Value, bool) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.sandbox_key)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let st = res.status();
        let replayed = res.headers().contains_key("idempotent-replayed");
        (st, res.json().await.expect("a JSON answer"), replayed)
    }

    /// The sandbox helper that decides a verification:
    /// `POST /v1/test_helpers/customers/{id}/verification`.
    pub async fn force_verification(&self, id: &str, body: Value) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/test_helpers/customers/{id}/verification"),
            body,
        )
        .await
    }

    /// An active customer (complete data, approved) whose phone then
    /// changes: it is `update_requested`. Returns its id and that answer.
    pub async fn update_requested(&self, external_id: &str) -> (String, Value) {
        let id = id_of(&self.create_customer(complete_individual(external_id)).await);
        self.start_and_approve(&id).await;
        let phone = json!({"individual": {"phone": "+5511988887777"}});
        let (st, u) = self.update_customer(&id, phone).await;
        assert_status(st, &u, StatusCode::OK, "update_requested");
        (id, u)
    }

    /// Starts the customer's verification and approves it through the
    /// sandbox helper; asserts it ends `active`.
    pub async fn start_and_approve(&self, id: &str) -> Value {
        self.start_verification(id).await;
        let (_, approved) = self
            .force_verification(id, json!({"status": "approved"}))
            .await;
        assert_eq!(approved["status"], "active", "{approved}");
        approved
    }

    /// `GET path` with the sandbox key, the response as it came (headers, status).
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.sandbox_key)
            .send()
            .await
            .expect("request")
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(&self.sandbox_key.clone(), Method::GET, path, None)
            .await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(&self.sandbox_key.clone(), Method::POST, path, Some(body))
            .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(&self.sandbox_key.clone(), Method::PATCH, path, Some(body))
            .await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(&self.sandbox_key.clone(), Method::DELETE, path, None)
            .await
    }
    /// POST with raw bytes and optional extra headers.
    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.sandbox_key)
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates a customer and asserts 201.
    pub async fn create_customer(&self, body: Value) -> Value {
        let (st, v) = self.post("/v1/customers", body).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v
    }
}

/// The `id` of an API object.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// Asserts an answer's HTTP status and one string field of its body (a JSON
/// pointer such as `/status` or `/error/code`), showing the body when either differs.
#[track_caller]
pub fn assert_answer(st: StatusCode, body: &Value, pointer: &str, want: (StatusCode, &str)) {
    assert_eq!(
        (st, body.pointer(pointer).and_then(Value::as_str)),
        (want.0, Some(want.1)),
        "{body}"
    );
}

/// A header's value as text (`""` when absent or not text).
pub fn header_text(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Asserts an error answer: its HTTP status and `error.code`.
#[track_caller]
pub fn assert_error(st: StatusCode, body: &Value, status: StatusCode, code: &str) {
    assert_answer(st, body, "/error/code", (status, code));
}

/// Asserts that an error answer's `error.message` contains `part`.
#[track_caller]
pub fn assert_message(body: &Value, part: &str) {
    let message = body["error"]["message"].as_str();
    assert_has(
        message.unwrap_or_else(|| panic!("no message in {body}")),
        part,
    );
}

/// Asserts a `400 invalid_field` answer naming this `param`.
#[track_caller]
pub fn assert_invalid_field(st: StatusCode, body: &Value, param: &str) {
    assert_error(st, body, StatusCode::BAD_REQUEST, "invalid_field");
    assert_eq!(body["error"]["param"], param, "{body}");
}

/// Asserts an answer's HTTP status and the customer's (or request's) `status`.
#[track_caller]
pub fn assert_status(st: StatusCode, body: &Value, status: StatusCode, want: &str) {
    assert_answer(st, body, "/status", (status, want));
}

/// Asserts that `text` contains `part`, showing the text when it does not.
#[track_caller]
pub fn assert_has(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} is missing from: {text}");
}

/// The `code` of each reason of an error answer (`error.reasons`), in order.
pub fn reason_codes(e: &Value) -> Vec<&str> {
    e["error"]["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("reasons in {e}"))
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

/// A one-entry sanctions list (S-1, Viktor Petrovich Baranov, SDGT) in the
/// CSV format of `KYCD_SCREENING_SOURCES`.
pub const SANCTIONS_CSV: &str = "id,name,type,aliases,date_of_birth,country,programs,pep\n\
S-1,Viktor Petrovich Baranov,person,Viktor Baranov,1961-03-04,RU,SDGT,false\n";

/// A test server that screens against the CSV list `csv`, written as `file`
/// (its name names the list) into the returned folder, which the caller keeps.
pub async fn spawn_screening(
    backend: Backend,
    file: &str,
    csv: &str,
) -> Option<(TestApp, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    std::fs::write(&path, csv).unwrap();
    let source = format!("csv:{}", path.display());
    let app = spawn_with(backend, |c| c.screening_sources = vec![source]).await?;
    Some((app, dir))
}

/// A complete individual who is S-1 of [`SANCTIONS_CSV`] (a possible match).
pub fn sanctioned_individual(external_id: &str) -> Value {
    let mut body = complete_individual(external_id);
    body["individual"]["first_name"] = json!("Viktor");
    body["individual"]["last_name"] = json!("Baranov");
    body["individual"]["date_of_birth"] = json!("1961-03-04");
    body["individual"]["nationality"] = json!("RU");
    body
}

/// A complete individual who passes basic verification (Brazil resident, valid CPF).
pub fn complete_individual(external_id: &str) -> Value {
    json!({
        "type": "individual",
        "external_id": external_id,
        "individual": {
            "first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-01-31",
            "nationality": "BR", "email": "ada@example.com", "email_verified": true,
            "phone": "+5511999990000", "phone_verified": true
        },
        "addresses": [{"line1": "Rua A, 1", "city": "São Paulo", "region": "SP", "postal_code": "01000-000", "country": "BR", "primary": true}],
        "identifiers": [{"type": "cpf", "value": "529.982.247-25"}]
    })
}

/// The body of a JPEG document upload of this type ([`tiny_jpeg`] with the
/// type as its marker).
pub fn jpeg_document(doc_type: &str) -> Value {
    use base64::Engine as _;
    let content = base64::engine::general_purpose::STANDARD.encode(tiny_jpeg(doc_type));
    json!({"type": doc_type, "content_type": "image/jpeg", "content_base64": content})
}

/// A minimal valid JPEG (magic bytes and end marker) with a marker inside.
pub fn tiny_jpeg(marker: &str) -> Vec<u8> {
    let mut v = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    v.extend_from_slice(marker.as_bytes());
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

// ---- OpenAPI conformance helpers (tests/openapi.rs, tests/contract_paths.rs) ----

/// The OpenAPI path template of `doc` that matches a concrete path
/// (`/v1/customers/cus_1` → `/v1/customers/{id}`), preferring literal segments.
pub fn openapi_template(doc: &Value, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segs: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, String)> = None;
    for template in doc["paths"].as_object()?.keys() {
        let t: Vec<&str> = template.split('/').collect();
        if t.len() != segs.len() {
            continue;
        }
        let mut literal = 0;
        let ok = t.iter().zip(&segs).all(|(t, s)| {
            if t.starts_with('{') {
                !s.is_empty()
            } else {
                literal += 1;
                t == s
            }
        });
        if ok && best.as_ref().is_none_or(|(n, _)| literal > *n) {
            best = Some((literal, template.clone()));
        }
    }
    best.map(|(_, t)| t)
}

/// The JSON schema `doc` documents for a response, or an explanation of why there is none.
pub fn openapi_response_schema<'a>(
    doc: &'a Value,
    method: &str,
    path: &str,
    status: u16,
) -> Result<&'a Value, String> {
    let template =
        openapi_template(doc, path).ok_or_else(|| format!("{path} is not in the document"))?;
    let op = &doc["paths"][&template][method.to_ascii_lowercase()];
    if !op.is_object() {
        return Err(format!("{method} {template} is not in the document"));
    }
    let mut res = &op["responses"][status.to_string()];
    if !res.is_object() {
        return Err(format!(
            "{method} {template} does not document status {status}"
        ));
    }
    if let Some(r) = res["$ref"].as_str() {
        res = doc
            .pointer(r.trim_start_matches('#'))
            .ok_or_else(|| format!("dangling {r}"))?;
    }
    res["content"]["application/json"]["schema"]
        .as_object()
        .map(|_| &res["content"]["application/json"]["schema"])
        .ok_or_else(|| format!("{method} {template} {status} has no JSON schema"))
}

/// Validates `value` against `schema` (the JSON Schema subset the kycd document uses:
/// `$ref`, `type` (string or list), `enum`, `oneOf`/`anyOf`/`allOf`, `properties`,
/// `required`, `additionalProperties`, `items`, `minimum`/`maximum`, `format`
/// date-time/date). Strict: an object whose schema declares `properties` may carry
/// only those (unless `additionalProperties` allows more), so a field added to a
/// response without documenting it is reported. Returns the problems.
pub fn openapi_schema_errors(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = vec![];
    check_schema(doc, schema, value, "$", &mut errors, 0);
    errors
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check_schema(
    doc: &Value,
    schema: &Value,
    v: &Value,
    at: &str,
    errors: &mut Vec<String>,
    depth: usize,
) {
    if depth > 64 {
        errors.push(format!("{at}: schema nesting too deep"));
        return;
    }
    if let Some(r) = schema["$ref"].as_str() {
        match doc.pointer(r.trim_start_matches('#')) {
            Some(target) => check_schema(doc, target, v, at, errors, depth + 1),
            None => errors.push(format!("{at}: dangling {r}")),
        }
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema[key].as_array() {
            let ok = alts
                .iter()
                .any(|s| openapi_schema_errors_at(doc, s, v, at, depth).is_empty());
            if !ok {
                let detail: Vec<String> = alts
                    .iter()
                    .flat_map(|s| openapi_schema_errors_at(doc, s, v, at, depth))
                    .collect();
                errors.push(format!(
                    "{at}: matches none of {key}: {}",
                    detail.join("; ")
                ));
            }
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        // Every branch must hold, and together they document the object: a
        // property of one branch is no undocumented extra in another.
        let branches: Vec<&Value> = all
            .iter()
            .map(|b| match b["$ref"].as_str() {
                Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(b),
                None => b,
            })
            .collect();
        let mut properties = serde_json::Map::new();
        for b in &branches {
            if let Some(p) = b["properties"].as_object() {
                properties.extend(p.clone());
            }
        }
        for b in branches {
            let mut whole = b.clone();
            if whole["properties"].is_object() {
                let mut props = properties.clone();
                props.extend(b["properties"].as_object().cloned().unwrap_or_default());
                whole["properties"] = Value::Object(props);
            }
            check_schema(doc, &whole, v, at, errors, depth + 1);
        }
    }
    let actual = json_type(v);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty()
        && !types
            .iter()
            .any(|t| *t == actual || (*t == "number" && actual == "integer"))
    {
        errors.push(format!(
            "{at}: {actual} where the document says {types:?} ({v})"
        ));
        return;
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(v)
    {
        errors.push(format!(
            "{at}: {v} is not one of the documented values {values:?}"
        ));
    }
    if let Some(n) = v.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|m| n < m) {
            errors.push(format!("{at}: {n} is below the documented minimum"));
        }
        if schema["maximum"].as_f64().is_some_and(|m| n > m) {
            errors.push(format!("{at}: {n} is above the documented maximum"));
        }
    }
    if let Some(s) = v.as_str() {
        match schema["format"].as_str() {
            Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
                errors.push(format!("{at}: {s:?} is not an RFC 3339 date-time"))
            }
            Some("date") if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() => {
                errors.push(format!("{at}: {s:?} is not a date"))
            }
            _ => {}
        }
    }
    if let Value::Array(items) = v
        && schema["items"].is_object()
    {
        for (i, item) in items.iter().enumerate() {
            check_schema(
                doc,
                &schema["items"],
                item,
                &format!("{at}[{i}]"),
                errors,
                depth + 1,
            );
        }
    }
    if let Value::Object(map) = v {
        let props = schema["properties"].as_object();
        for req in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(req) {
                errors.push(format!("{at}: required property {req:?} is missing"));
            }
        }
        for (k, val) in map {
            let here = format!("{at}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => check_schema(doc, s, val, &here, errors, depth + 1),
                None => match &schema["additionalProperties"] {
                    Value::Object(s) => check_schema(
                        doc,
                        &Value::Object(s.clone()),
                        val,
                        &here,
                        errors,
                        depth + 1,
                    ),
                    Value::Bool(false) => {
                        errors.push(format!("{here}: not allowed by the document"))
                    }
                    Value::Bool(true) => {}
                    _ if props.is_some() => errors.push(format!("{here}: undocumented property")),
                    _ => {}
                },
            }
        }
    }
}

fn openapi_schema_errors_at(
    doc: &Value,
    schema: &Value,
    v: &Value,
    at: &str,
    depth: usize,
) -> Vec<String> {
    let mut errors = vec![];
    check_schema(doc, schema, v, at, &mut errors, depth + 1);
    errors
}

/// Fails the test when a response (status and body) is not what `doc` documents.
pub fn assert_documented(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let schema = openapi_response_schema(doc, method, path, status)
        .unwrap_or_else(|e| panic!("{method} {path} → {status}: {e}\nbody: {body}"));
    let errors = openapi_schema_errors(doc, schema, body);
    assert!(
        errors.is_empty(),
        "{method} {path} → {status} does not match the document:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}

/// A second server on the same database as `app` (another kycd node).
pub async fn spawn_peer(app: &TestApp) -> TestApp {
    let url = app.database_url.clone();
    let mut peer = spawn_with_database(app.backend, url).await;
    peer.sandbox_key = app.sandbox_key.clone();
    peer.live_key = app.live_key.clone();
    peer.org_id = app.org_id.clone();
    peer
}

async fn spawn_with_database(backend: Backend, database_url: String) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        database_url: Some(database_url.clone().into()),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        master_key: Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into()),
        webhook_allow_private: true,
        tick_millis: 50,
        ..Config::default()
    };
    let app = Application::build(config).await.expect("build peer");
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        backend,
        base,
        client: reqwest::Client::new(),
        sandbox_key: String::new(),
        live_key: String::new(),
        org_id: String::new(),
        state,
        database_url,
        dir,
        shutdown: Some(tx),
    }
}
