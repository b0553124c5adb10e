//! Every operation of the OpenAPI document exists on the running server:
//! called with a valid sandbox key, an unknown id and an empty JSON body, it
//! answers neither a 5xx, nor 405, nor the fallback's "no such path" 404, and
//! its answer (status and body) is one the document describes. Every
//! operation must be routed: there is no list of excused ones.

use crate::common::*;
use reqwest::Method;
use serde_json::Value;

/// A well-formed id that does not exist, for a path parameter.
fn unknown_id(path: &str, name: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let pos = segs
        .iter()
        .position(|s| *s == format!("{{{name}}}"))
        .unwrap_or(0);
    let prefix = match (name, segs.get(pos.wrapping_sub(1)).copied().unwrap_or("")) {
        ("doc_id", _) | (_, "documents") => "doc",
        ("pa_id", _) | (_, "product_access") => "pa",
        (_, "events") => "evt",
        (_, "webhook_endpoints") => "we",
        _ => "cus",
    };
    format!("{prefix}_00000000000000000000000000")
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => unknown_id(path, name),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

both_backends!(every_documented_operation_is_routed, |app| async move {
    // The document as the server serves it.
    let doc = app.openapi_document().await;
    let mut failures = vec![];
    let mut count = 0;
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().expect("operationId").to_string();
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let path = concrete(template);
            let body = matches!(m, Method::POST | Method::PATCH).then(|| serde_json::json!({}));
            let (status, v) = app.call(&app.sandbox_key, m.clone(), &path, body).await;
            count += 1;
            let what = format!("{} {path} ({id}) → {status}", m.as_str());
            if status.is_server_error() {
                failures.push(format!("{what}: a 5xx for a caller's mistake: {v}"));
                continue;
            }
            let missing = status == reqwest::StatusCode::METHOD_NOT_ALLOWED
                || (status == reqwest::StatusCode::NOT_FOUND
                    && v["error"]["message"] == "no such path");
            if missing {
                failures.push(format!("{what}: not routed (the fallback answered: {v})"));
                continue;
            }
            match openapi_response_schema(&doc, m.as_str(), &path, status.as_u16()) {
                Err(e) => failures.push(format!("{what}: {e}: {v}")),
                Ok(schema) => {
                    let errors = openapi_schema_errors(&doc, schema, &v);
                    if !errors.is_empty() {
                        failures.push(format!(
                            "{what}: the body is not what the document says: {}: {v}",
                            errors.join("; ")
                        ));
                    }
                }
            }
        }
    }
    assert!(
        count >= 40,
        "the document lists the API ({count} operations)"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} operations fail:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
});

#[tokio::test]
async fn test_helpers_are_hidden_from_live_keys() {
    let app = spawn(Backend::Sqlite).await.expect("sqlite app");
    let doc = serde_json::from_str::<Value>(kycd_server::openapi::document_json()).unwrap();
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/v1/test_helpers/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let (status, v) = app
                .call(
                    &app.live_key,
                    m,
                    &concrete(template),
                    Some(serde_json::json!({})),
                )
                .await;
            assert_eq!(
                status,
                reqwest::StatusCode::NOT_FOUND,
                "{template} with a live key: {v}"
            );
            assert_eq!(v["error"]["code"], "resource_not_found");
        }
    }
}
