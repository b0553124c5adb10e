//! No live API key decides (issue 15 item 7, API.md "Decisions in live"):
//! every operation of the served OpenAPI document is called with the live
//! key on a pending live customer (a pending document, the real ids in the
//! path) with an empty body and with decision-shaped bodies; after each call
//! the customer is still undecided (not `active`, `verified` or `rejected`,
//! no history row into those), its document still `pending`, and no
//! operation answered 2xx on a test helper (they are 404 in live).

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A live customer waiting for a reviewer, with one pending document.
async fn pending_customer(app: &TestApp, n: usize) -> (String, String) {
    let key = &app.live_key;
    let (st, c) = app
        .call(
            key,
            Method::POST,
            "/v1/customers",
            Some(complete_individual(&format!("live-walk-{n}"))),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let id = id_of(&c);
    let (st, d) = app
        .call(
            key,
            Method::POST,
            &format!("/v1/customers/{id}/documents"),
            Some(jpeg_document("passport")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let (st, v) = app
        .call(
            key,
            Method::POST,
            &format!("/v1/customers/{id}/verification"),
            Some(json!({"level": "full"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "pending", "{v}");
    (id, id_of(&d))
}

/// The bodies tried on an operation that takes one: empty, and shaped like
/// every decision the API knows.
fn bodies() -> Vec<Value> {
    vec![
        json!({}),
        json!({"status": "approved"}),
        json!({"status": "active"}),
        json!({"status": "rejected", "rejection_reason": "fraud_suspected"}),
        json!({"status": "accepted"}),
        json!({"status": "granted"}),
        json!({"decision": "confirm"}),
        json!({"decision": "dismiss"}),
        json!({"product": "cards"}),
    ]
}

per_backend!(
    no_live_key_operation_decides,
    |backend: Backend| async move {
        // About 1,500 calls with one key in a few seconds: no rate limit.
        let app = spawn_with(backend, |c| c.rate_limit_per_second = None)
            .await
            .expect("a test server");
        let key = app.live_key.clone();
        let doc = app.openapi_document().await;
        let mut n = 0;
        let (mut id, mut doc_id) = pending_customer(&app, n).await;
        let mut ops = 0;
        let mut calls = 0;
        for (template, item) in doc["paths"].as_object().unwrap() {
            for (method, _) in item.as_object().unwrap() {
                let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
                ops += 1;
                let tries: Vec<Option<Value>> =
                    if matches!(m, Method::POST | Method::PATCH | Method::PUT) {
                        bodies().into_iter().map(Some).collect()
                    } else {
                        vec![None]
                    };
                for body in tries {
                    // The real ids: the customer's own for every `{id}` but the
                    // webhook endpoints' and events' (the customer's last event).
                    let (_, events) = app
                        .call(
                            &key,
                            Method::GET,
                            &format!("/v1/events?customer_id={id}&limit=1"),
                            None,
                        )
                        .await;
                    let event = events["data"][0]["id"]
                        .as_str()
                        .unwrap_or("evt_0")
                        .to_string();
                    let path = template
                        .replace("{doc_id}", &doc_id)
                        .replace("{pa_id}", "pa_00000000000000000000000000")
                        .replace("{provider}", "sumsub");
                    let path = if template.starts_with("/v1/events/") {
                        path.replace("{id}", &event)
                    } else if template.starts_with("/v1/webhook_endpoints/") {
                        path.replace("{id}", "we_00000000000000000000000000")
                    } else {
                        path.replace("{id}", &id)
                    };
                    let (st, v) = app.call(&key, m.clone(), &path, body.clone()).await;
                    calls += 1;
                    let what = format!("{method} {path} {body:?} → {st}: {v}");
                    assert!(!st.is_server_error(), "{what}");
                    if template.starts_with("/v1/test_helpers/") {
                        assert_eq!(st, StatusCode::NOT_FOUND, "a test helper in live: {what}");
                    }
                    let (st, c) = app
                        .call(&key, Method::GET, &format!("/v1/customers/{id}"), None)
                        .await;
                    if st == StatusCode::NOT_FOUND && m == Method::DELETE {
                        // Erased (not a decision): go on with a new one.
                        n += 1;
                        (id, doc_id) = pending_customer(&app, n).await;
                        continue;
                    }
                    assert_eq!(st, StatusCode::OK, "{what}: {c}");
                    let status = c["status"].as_str().unwrap();
                    assert!(
                        !matches!(status, "active" | "verified" | "rejected"),
                        "{what} decided the customer: {c}"
                    );
                    let (_, d) = app
                        .call(
                            &key,
                            Method::GET,
                            &format!("/v1/customers/{id}/documents/{doc_id}"),
                            None,
                        )
                        .await;
                    assert_eq!(d["status"], "pending", "{what} decided the document: {d}");
                    let (_, pa) = app
                        .call(
                            &key,
                            Method::GET,
                            &format!("/v1/customers/{id}/product_access"),
                            None,
                        )
                        .await;
                    for p in pa["data"].as_array().unwrap() {
                        assert!(
                            p["status"] != "granted",
                            "{what} granted product access: {p}"
                        );
                    }
                }
            }
        }
        assert!(ops >= 45, "every operation of the document ({ops})");
        assert!(calls > ops, "bodies tried ({calls} calls)");
        // No status change of any live customer was made by an API key.
        let mut conn = app.state.store.reader().await.unwrap();
        use sqlx::Row;
        let decided: Vec<(String, String)> = sqlx::query(
            "SELECT to_status, actor FROM status_history WHERE environment = 'live' \
         AND to_status IN ('active', 'verified', 'rejected')",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        assert!(decided.is_empty(), "{decided:?}");
    }
);
