//! Real responses of documents, product access, capabilities, webhooks,
//! deliveries and screening, checked against the document (strictly: a field
//! added to a response without documenting it fails).

use super::{call, document};
use crate::common::*;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const LIST_CSV: &str = "id,name,type,aliases,date_of_birth,country,programs,pep\n\
    x-1,Ivan Petrovich Sidorov,person,Ivan Sidorov,1961-04-12,RU,SDGT;UKRAINE-EO13660,false\n\
    x-2,Acme Shell Holdings Ltd,organization,,,CY,SDGT,false\n";

/// A multipart body with text fields and one file part named `content`.
fn multipart(fields: &[(&str, &str)], file: &[u8], file_type: &str) -> (Vec<u8>, String) {
    let boundary = "kycd-openapi-test-boundary";
    let mut body = vec![];
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"f\"\r\nContent-Type: {file_type}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

async fn wait_for<F: Fn(&Value) -> bool>(app: &TestApp, path: &str, ready: F) -> Value {
    for _ in 0..100 {
        let (_, v) = app.get(path).await;
        if ready(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.get(path).await.1
}

per_backend!(
    other_resources_match_the_document,
    |backend: Backend| async move {
        let lists = tempfile::tempdir().unwrap();
        let list_path = lists.path().join("inhouse.csv");
        std::fs::write(&list_path, LIST_CSV).unwrap();
        let source = format!("csv:{}", list_path.display());
        {
            let Some(app) =
                spawn_with(backend, |c| c.screening_sources = vec![source.clone()]).await
            else {
                panic!("a test server");
            };
            let doc = document();
            let d = &doc;
            let (_, c) = call(
                &app,
                d,
                Method::POST,
                "/v1/customers",
                Some(complete_individual("oa-res")),
            )
            .await;
            let id = id_of(&c);

            // Documents: JSON and multipart uploads, list, read, content, review.
            let jpeg = tiny_jpeg("openapi");
            let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
            let (st, d1) = call(&app, d, Method::POST, &format!("/v1/customers/{id}/documents"),
            Some(json!({"type": "national_id", "side": "front", "content_type": "image/jpeg", "content_base64": b64}))).await;
            assert_eq!(st, StatusCode::CREATED, "{d1}");
            let (body, ct) = multipart(&[("type", "selfie")], &jpeg, "image/jpeg");
            let (st, d2) = app
                .post_raw(
                    &format!("/v1/customers/{id}/documents"),
                    body,
                    &[("content-type", &ct)],
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{d2}");
            assert_documented(
                d,
                "POST",
                &format!("/v1/customers/{id}/documents"),
                201,
                &d2,
            );
            call(
                &app,
                d,
                Method::GET,
                &format!("/v1/customers/{id}/documents?limit=1"),
                None,
            )
            .await;
            let doc_id = d1["id"].as_str().unwrap();
            call(
                &app,
                d,
                Method::GET,
                &format!("/v1/customers/{id}/documents/{doc_id}"),
                None,
            )
            .await;
            let res = app
                .get_response(&format!("/v1/customers/{id}/documents/{doc_id}/content"))
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            let ct = res.headers()["content-type"].to_str().unwrap().to_string();
            let op = &d["paths"]["/v1/customers/{id}/documents/{doc_id}/content"]["get"]["responses"]
                ["200"]["content"];
            assert!(
                op.get(ct.as_str()).is_some(),
                "the content type {ct} is documented"
            );
            assert_eq!(res.bytes().await.unwrap().to_vec(), jpeg);
            call(
                &app,
                d,
                Method::POST,
                &format!("/v1/test_helpers/documents/{doc_id}"),
                Some(json!({"status": "accepted"})),
            )
            .await;

            // Product access and capabilities on an active customer.
            call(
                &app,
                d,
                Method::POST,
                &format!("/v1/customers/{id}/verification"),
                None,
            )
            .await;
            call(
                &app,
                d,
                Method::POST,
                &format!("/v1/test_helpers/customers/{id}/verification"),
                Some(json!({"status": "approved"})),
            )
            .await;
            let (st, pa) = call(
                &app,
                d,
                Method::POST,
                &format!("/v1/customers/{id}/product_access"),
                Some(json!({"product": "cards"})),
            )
            .await;
            assert!(st.is_success(), "{pa}");
            let pa_id = pa["id"].as_str().unwrap();
            call(
                &app,
                d,
                Method::POST,
                &format!("/v1/customers/{id}/product_access"),
                Some(json!({"product": "cards"})),
            )
            .await;
            call(
                &app,
                d,
                Method::GET,
                &format!("/v1/customers/{id}/product_access"),
                None,
            )
            .await;
            call(
                &app,
                d,
                Method::GET,
                &format!("/v1/customers/{id}/product_access/{pa_id}"),
                None,
            )
            .await;
            call(
                &app,
                d,
                Method::POST,
                &format!("/v1/test_helpers/product_access/{pa_id}"),
                Some(json!({"status": "rejected"})),
            )
            .await;
            call(
                &app,
                d,
                Method::GET,
                &format!("/v1/customers/{id}/capabilities"),
                None,
            )
            .await;
            let (st, v) = call(
                &app,
                d,
                Method::POST,
                "/v1/capability_checks",
                Some(json!({"customer_id": id, "capability": "transact"})),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let (st, v) = call(
                &app,
                d,
                Method::POST,
                "/v1/capability_checks",
                Some(json!({"customer_id": id, "capability": "virtual_accounts"})),
            )
            .await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

            // Webhook endpoints, deliveries and redelivery.
            let (st, we) = call(&app, d, Method::POST, "/v1/webhook_endpoints",
            Some(json!({"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"], "description": "test"}))).await;
            assert_eq!(st, StatusCode::CREATED, "{we}");
            let we_id = we["id"].as_str().unwrap();
            call(&app, d, Method::GET, "/v1/webhook_endpoints", None).await;
            call(
                &app,
                d,
                Method::GET,
                &format!("/v1/webhook_endpoints/{we_id}"),
                None,
            )
            .await;
            call(
                &app,
                d,
                Method::PATCH,
                &format!("/v1/webhook_endpoints/{we_id}"),
                Some(json!({"description": "renamed"})),
            )
            .await;
            call(
                &app,
                d,
                Method::POST,
                &format!("/v1/webhook_endpoints/{we_id}/rotate_secret"),
                None,
            )
            .await;
            let (_, c2) = call(
                &app,
                d,
                Method::POST,
                "/v1/customers",
                Some(json!({"type": "individual"})),
            )
            .await;
            let (_, events) = call(
                &app,
                d,
                Method::GET,
                &format!("/v1/events?customer_id={}", c2["id"].as_str().unwrap()),
                None,
            )
            .await;
            let evt = events["data"][0]["id"]
                .as_str()
                .expect("an event")
                .to_string();
            let path = format!("/v1/events/{evt}/deliveries");
            let attempts = wait_for(&app, &path, |v| {
                v["data"].as_array().is_some_and(|a| !a.is_empty())
            })
            .await;
            assert!(
                attempts["data"][0]["attempt"].is_u64(),
                "an attempt was logged: {attempts}"
            );
            assert_documented(d, "GET", &path, 200, &attempts);
            let (st, v) = call(
                &app,
                d,
                Method::POST,
                &format!("/v1/events/{evt}/redeliver"),
                Some(json!({"endpoint_id": we_id})),
            )
            .await;
            assert_eq!(st, StatusCode::ACCEPTED, "{v}");
            call(
                &app,
                d,
                Method::DELETE,
                &format!("/v1/webhook_endpoints/{we_id}"),
                None,
            )
            .await;

            // Screening: the list loads in the background.
            let loaded = wait_for(&app, "/v1/screening/lists", |v| {
                v["data"].as_array().is_some_and(|a| !a.is_empty())
            })
            .await;
            assert_documented(d, "GET", "/v1/screening/lists", 200, &loaded);
            let (st, v) = call(&app, d, Method::POST, "/v1/screening/search",
            Some(json!({"name": "Ivan Sidorov", "type": "person", "date_of_birth": "1961", "country": "RU", "threshold": 0.5, "limit": 5}))).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            assert_eq!(v["matches"][0]["entry_id"], "x-1", "{v}");
            let (st, _) = call(
                &app,
                d,
                Method::POST,
                &format!("/v1/test_helpers/customers/{id}/screening"),
                Some(json!({"decision": "dismiss"})),
            )
            .await;
            assert_eq!(
                st,
                StatusCode::CONFLICT,
                "only a customer on hold has matches to decide"
            );
        }
    }
);
