//! The OpenAPI document and the interactive docs: the document is pinned by a
//! snapshot, served at /openapi.json without a key, covers every operation of
//! API.md, describes what the server really answers (real responses are
//! validated against it strictly), and /docs loads with no internet.

mod resources;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(kycd_server::openapi::document_json()).expect("the document is JSON")
}

#[test]
fn snapshot() {
    insta::assert_json_snapshot!("openapi", document());
}

/// A validator nobody here wrote: the Python `openapi-spec-validator`
/// (`ignored` when python3 cannot import it, see the build script; CI
/// installs it).
#[test]
#[cfg_attr(
    not(kycd_python_openapi_spec_validator),
    ignore = "needs python3 with openapi-spec-validator (pip install openapi-spec-validator)"
)]
fn document_passes_an_independent_validator() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, kycd_server::openapi::document_json()).unwrap();
    let script = "import sys\n\
        from openapi_spec_validator import validate\n\
        from openapi_spec_validator.readers import read_from_filename\n\
        d, _ = read_from_filename(sys.argv[1])\nvalidate(d)\nprint('valid', d['openapi'])\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses the document:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "valid 3.1.0");
}

/// Every operation of API.md (copied from it), as (method, path).
const API_MD: &[(&str, &str)] = &[
    ("post", "/v1/customers"),
    ("get", "/v1/customers"),
    ("get", "/v1/customers/{id}"),
    ("patch", "/v1/customers/{id}"),
    ("delete", "/v1/customers/{id}"),
    ("post", "/v1/customers/{id}/verification"),
    ("get", "/v1/customers/{id}/verification"),
    ("post", "/v1/customers/{id}/activate"),
    ("post", "/v1/customers/{id}/deactivate"),
    ("post", "/v1/customers/{id}/reactivate"),
    ("post", "/v1/customers/{id}/documents"),
    ("get", "/v1/customers/{id}/documents"),
    ("post", "/v1/customers/{id}/product_access"),
    ("get", "/v1/customers/{id}/product_access"),
    ("get", "/v1/customers/{id}/capabilities"),
    ("post", "/v1/capability_checks"),
    ("get", "/v1/settings"),
    ("patch", "/v1/settings"),
    ("get", "/v1/requirements"),
    ("get", "/v1/customers/{id}/explanation"),
    ("get", "/v1/rejection_reasons"),
    ("get", "/v1/usage"),
    ("post", "/v1/webhook_endpoints"),
    ("get", "/v1/webhook_endpoints"),
    ("get", "/v1/webhook_endpoints/{id}"),
    ("delete", "/v1/webhook_endpoints/{id}"),
    ("post", "/v1/webhook_endpoints/{id}/rotate_secret"),
    ("get", "/v1/events"),
    ("get", "/v1/events/{id}"),
    ("get", "/v1/events/{id}/deliveries"),
    ("post", "/v1/events/{id}/redeliver"),
    ("post", "/v1/test_helpers/customers/{id}/verification"),
    ("post", "/v1/test_helpers/product_access/{id}"),
    ("post", "/v1/test_helpers/clock/advance"),
    ("post", "/v1/screening/search"),
    ("get", "/v1/screening/lists"),
];

/// Query parameters API.md names, per (method, path).
const API_MD_QUERY: &[(&str, &str, &[&str])] = &[
    (
        "get",
        "/v1/customers",
        &["status", "external_id", "limit", "starting_after"],
    ),
    (
        "get",
        "/v1/events",
        &["type", "customer_id", "limit", "starting_after"],
    ),
    ("get", "/v1/requirements", &["type", "level", "product"]),
    ("get", "/v1/usage", &["month"]),
];

#[tokio::test]
async fn served_document_is_openapi_3_1_with_every_operation_of_the_contract() {
    let app = spawn(Backend::Sqlite).await.expect("sqlite app");
    // No API key: the document is public.
    let res = app.public_get("/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(res.headers().contains_key("x-request-id"));
    let doc: Value = res.json().await.expect("the served document parses");
    assert_eq!(
        doc,
        document(),
        "the server serves the document built in code"
    );
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "kycd");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"][0]["url"], "/", "servers are relative");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    for (method, path) in API_MD {
        let op = &doc["paths"][*path][*method];
        assert!(
            op.is_object(),
            "{method} {path} of API.md is in the document"
        );
        assert!(
            op["operationId"].is_string(),
            "{method} {path} has an operationId"
        );
        assert!(
            op["summary"].is_string() && op["tags"][0].is_string(),
            "{method} {path}"
        );
        assert!(
            op["responses"]["401"].is_object(),
            "{method} {path} documents 401"
        );
        let is_post = *method == "post";
        let idem = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
        assert_eq!(
            idem, is_post,
            "{method} {path}: Idempotency-Key on POSTs only"
        );
        if is_post {
            assert!(
                op["responses"]["422"].is_object() && op["responses"]["409"].is_object(),
                "{method} {path}"
            );
        }
        let (status, _) = op["responses"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(s, _)| s.starts_with('2'))
            .expect("a success response");
        let schema = openapi_response_schema(&doc, method, path, status.parse().unwrap());
        let file = op["responses"][status]["content"]
            .get("application/pdf")
            .is_some();
        assert!(schema.is_ok() || file, "{method} {path}: {schema:?}");
    }
    for (method, path, names) in API_MD_QUERY {
        let params = doc["paths"][*path][*method]["parameters"]
            .as_array()
            .expect("parameters");
        for name in *names {
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == *name && p["in"] == "query"),
                "{method} {path} documents ?{name}"
            );
        }
    }
    // The upload takes JSON and multipart.
    let upload = &doc["paths"]["/v1/customers/{id}/documents"]["post"]["requestBody"]["content"];
    assert!(upload["application/json"].is_object() && upload["multipart/form-data"].is_object());
    // The error envelope of API.md.
    let err = &doc["components"]["schemas"]["ErrorBody"]["properties"];
    for field in ["type", "code", "message", "param", "reasons", "request_id"] {
        assert!(err[field].is_object(), "the error envelope has {field}");
    }
}

/// The attributes `src=` and `href=` of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut out = vec![];
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').expect("closing quote");
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

const CDNS: &[&str] = &[
    "unpkg.com",
    "jsdelivr.net",
    "cdnjs.cloudflare.com",
    "googleapis.com",
    "gstatic.com",
    "bootstrapcdn.com",
    "validator.swagger.io/validator/debug",
    "petstore.swagger.io",
];

#[tokio::test]
async fn docs_load_with_no_internet() {
    let app = spawn(Backend::Sqlite).await.expect("sqlite app");
    for entry in ["/docs", "/docs/"] {
        let res = app
            .client
            .get(format!("{}{entry}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{entry} needs no API key");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "img-src 'self' data:",
        ] {
            assert!(
                csp.contains(directive),
                "the browser may load nothing from elsewhere: {csp}"
            );
        }
        let html = res.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no absolute URL in the page"
        );
        let refs = references(&html);
        assert!(
            refs.iter().any(|r| r.ends_with(".js")) && refs.iter().any(|r| r.ends_with(".css")),
            "{refs:?}"
        );
        let mut scripts = vec![];
        for r in &refs {
            assert!(
                r.starts_with('/') && !r.starts_with("//"),
                "same-origin reference: {r}"
            );
            let res = app
                .client
                .get(format!("{}{r}", app.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{r}");
            let ct = res.headers()["content-type"].to_str().unwrap().to_string();
            let body = res.bytes().await.unwrap();
            assert!(!body.is_empty(), "{r} has content");
            if ct.contains("javascript") || ct.contains("css") {
                let text = String::from_utf8_lossy(&body).to_string();
                for cdn in CDNS {
                    assert!(!text.contains(cdn), "{r} references {cdn}");
                }
                assert!(!text.contains("@import"), "{r} imports nothing");
                if ct.contains("javascript") {
                    scripts.push((r.clone(), text));
                }
            }
        }
        // Our start script points Swagger UI at our document and turns the
        // validator badge (an outside call) off; what it fetches is ours too.
        let (_, start) = scripts
            .iter()
            .find(|(r, _)| r.ends_with("kycd-docs.js"))
            .expect("start script");
        assert!(
            !start.contains("http://") && !start.contains("https://"),
            "{start}"
        );
        assert_has(start, "validatorUrl: null");
        assert_has(start, "url: \"/openapi.json\"");
        let res = app.public_get("/openapi.json").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            scripts
                .iter()
                .any(|(r, t)| r.ends_with("swagger-ui-bundle.js") && t.contains("SwaggerUIBundle"))
        );
    }
    // Only the listed assets are served; nothing else of the distribution.
    for missing in [
        "/docs/swagger-initializer.js",
        "/docs/nope.js",
        "/docs/..%2f..%2fCargo.toml",
    ] {
        let res = app
            .client
            .get(format!("{}{missing}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

/// Calls the API and checks the answer against the document; returns it.
async fn call(
    app: &TestApp,
    doc: &Value,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, v) = app.call(&app.sandbox_key, method.clone(), path, body).await;
    assert_documented(doc, method.as_str(), path, status.as_u16(), &v);
    (status, v)
}

both_backends!(real_responses_match_the_document, |app| async move {
    let doc = document();
    let d = &doc;
    let (st, minimal) = call(
        &app,
        d,
        Method::POST,
        "/v1/customers",
        Some(json!({"type": "individual"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let mut full = complete_individual("oa-1");
    full["individual"]["middle_name"] = json!("Byron");
    full["addresses"][0]["line2"] = json!("apto 2");
    full["metadata"] = json!({"plan": "gold", "seats": 3, "vip": true});
    full["attestation"] = json!({"provider": "sumsub", "reference": "ref-12345678", "verified_at": "2024-01-01T00:00:00Z", "liveness": true});
    let (st, c) = call(&app, d, Method::POST, "/v1/customers", Some(full)).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let id = id_of(&c);
    let owner = id.clone();
    let (st, _) = call(&app, d, Method::POST, "/v1/customers", Some(json!({"type": "business", "business": {
            "legal_name": "Acme Ltda", "trade_name": "Acme", "registration_number": "11.222.333/0001-81",
            "country": "BR", "incorporation_date": "2001-02-03", "beneficial_owners": [owner]}}))).await;
    assert_eq!(st, StatusCode::CREATED);
    // A batch: created, invalid, taken, refused at start; then a bad envelope.
    let mut reliance = complete_individual("oa-batch-3");
    reliance["addresses"] = json!([]);
    reliance["verification"] = json!({"mode": "reliance", "start": true});
    let (st, v) = call(&app, d, Method::POST, "/v1/customers/batch", Some(json!({"customers": [
            complete_individual("oa-batch-1"), {"type": "individual", "individual": {"email": "no"}},
            {"type": "individual", "external_id": "oa-1"}, reliance]}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let statuses: Vec<u64> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 400, 409, 403]);
    let (st, _) = call(
        &app,
        d,
        Method::POST,
        "/v1/customers/batch",
        Some(json!({"customers": []})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    call(&app, d, Method::GET, &format!("/v1/customers/{id}"), None).await;
    call(
        &app,
        d,
        Method::GET,
        "/v1/customers?status=not_started&limit=2",
        None,
    )
    .await;
    call(&app, d, Method::GET, "/v1/customers?external_id=oa-1", None).await;
    call(
        &app,
        d,
        Method::PATCH,
        &format!("/v1/customers/{id}"),
        Some(json!({"metadata": {"vip": null}})),
    )
    .await;
    let (st, v) = call(
        &app,
        d,
        Method::POST,
        &format!("/v1/customers/{id}/verification"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    call(
        &app,
        d,
        Method::GET,
        &format!("/v1/customers/{id}/verification"),
        None,
    )
    .await;
    let (st, v) = call(
        &app,
        d,
        Method::POST,
        &format!("/v1/test_helpers/customers/{id}/verification"),
        Some(json!({"status": "approved"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    call(
        &app,
        d,
        Method::GET,
        &format!("/v1/customers/{id}/explanation"),
        None,
    )
    .await;
    let (st, _) = call(
        &app,
        d,
        Method::POST,
        &format!("/v1/customers/{id}/activate"),
        None,
    )
    .await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "activate is for verified customers"
    );
    call(
        &app,
        d,
        Method::POST,
        &format!("/v1/customers/{id}/deactivate"),
        Some(json!({"reason": "closed"})),
    )
    .await;
    call(
        &app,
        d,
        Method::POST,
        &format!("/v1/customers/{id}/reactivate"),
        None,
    )
    .await;

    // Reliance with data missing: 403 with reasons.
    let m = minimal["id"].as_str().unwrap();
    let (st, v) = call(
        &app,
        d,
        Method::POST,
        &format!("/v1/customers/{m}/verification"),
        Some(json!({"mode": "reliance"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    // A final rejection, then an erasure refused and one done.
    call(
        &app,
        d,
        Method::POST,
        &format!("/v1/customers/{m}/verification"),
        None,
    )
    .await;
    let (st, v) = call(
        &app,
        d,
        Method::POST,
        &format!("/v1/test_helpers/customers/{m}/verification"),
        Some(json!({"status": "rejected", "rejection_reason": "sanctions_match"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _) = call(&app, d, Method::DELETE, &format!("/v1/customers/{m}"), None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, other) = call(
        &app,
        d,
        Method::POST,
        "/v1/customers",
        Some(json!({"type": "individual"})),
    )
    .await;
    let (st, _) = call(
        &app,
        d,
        Method::DELETE,
        &format!("/v1/customers/{}", other["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    call(&app, d, Method::GET, "/v1/settings", None).await;
    call(&app, d, Method::PATCH, "/v1/settings", Some(json!({"min_age": 21, "allowed_countries": ["BR", "US"], "products": {"cards": {"approval": "manual"}}}))).await;
    call(
        &app,
        d,
        Method::GET,
        "/v1/requirements?type=business&level=full",
        None,
    )
    .await;
    call(
        &app,
        d,
        Method::GET,
        "/v1/requirements?product=virtual_accounts",
        None,
    )
    .await;
    call(&app, d, Method::GET, "/v1/rejection_reasons", None).await;
    call(&app, d, Method::GET, "/v1/usage", None).await;
    let (_, events) = call(&app, d, Method::GET, "/v1/events?limit=100", None).await;
    let evt = events["data"][0]["id"]
        .as_str()
        .expect("events were written")
        .to_string();
    call(&app, d, Method::GET, &format!("/v1/events/{evt}"), None).await;
    call(
        &app,
        d,
        Method::GET,
        &format!("/v1/events?customer_id={id}&type=customer.created"),
        None,
    )
    .await;
    call(
        &app,
        d,
        Method::POST,
        "/v1/test_helpers/clock/advance",
        Some(json!({"days": 1})),
    )
    .await;

    // Errors carry the documented envelope.
    call(
        &app,
        d,
        Method::GET,
        "/v1/customers/cus_0000000000000000000000000",
        None,
    )
    .await;
    call(&app, d, Method::GET, "/v1/usage?month=2024-13", None).await;
    call(&app, d, Method::POST, "/v1/customers", Some(json!({"type": "individual", "identifiers": [{"type": "cpf", "value": "111.111.111-11"}]}))).await;
    let (st, v) = app.call("", Method::GET, "/v1/settings", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_documented(d, "GET", "/v1/settings", 401, &v);
});

#[test]
fn the_checker_catches_drift() {
    // The strict validator the tests above rely on must reject what it should.
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/Customer"});
    let ok = json!({"id": "cus_1", "object": "customer", "type": "individual", "external_id": null, "status": "pending",
        "verification": {"level": "basic", "mode": "hosted", "url": null, "url_expires_at": null,
            "requirements": {"missing": [], "issues": []}, "rejection_reason": null, "resubmittable": null,
            "approved_at": null, "expires_at": null},
        "individual": null, "business": null, "addresses": [], "identifiers": [], "attestation": null,
        "metadata": {}, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"});
    assert_eq!(
        openapi_schema_errors(&doc, &schema, &ok),
        Vec::<String>::new()
    );
    let mut extra = ok.clone();
    extra["secret_field"] = json!(1);
    let mut missing = ok.clone();
    missing.as_object_mut().unwrap().remove("status");
    let mut bad_enum = ok.clone();
    bad_enum["status"] = json!("approved");
    let mut bad_time = ok.clone();
    bad_time["created_at"] = json!("yesterday");
    let mut bad_nested = ok.clone();
    bad_nested["verification"]["rejection_reason"] = json!("bad_luck");
    for (what, v) in [
        ("extra", extra),
        ("missing", missing),
        ("enum", bad_enum),
        ("time", bad_time),
        ("nested", bad_nested),
    ] {
        assert!(
            !openapi_schema_errors(&doc, &schema, &v).is_empty(),
            "{what} is caught"
        );
    }
}
