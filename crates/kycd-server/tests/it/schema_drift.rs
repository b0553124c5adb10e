//! What schemathesis found where the server and its OpenAPI document
//! disagreed (each a server fix): requests the document calls invalid are
//! refused with `400 invalid_field` naming the field, requests it calls valid
//! are accepted, and every answer is one the document lists.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(kycd_server::openapi::document_json()).expect("the document is JSON")
}

/// Calls the API with the sandbox key and checks the answer against the document.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, v) = app.call(&app.sandbox_key, method.clone(), path, body).await;
    let template = path.split('?').next().unwrap_or(path);
    assert_documented(&document(), method.as_str(), template, status.as_u16(), &v);
    (status, v)
}

fn param(v: &Value) -> &str {
    v["error"]["param"].as_str().unwrap_or("")
}

both_backends!(an_unknown_event_type_filter_is_refused, |app| async move {
    let (st, v) = call(&app, Method::GET, "/v1/events?type=AAA", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(
        (v["error"]["code"].as_str(), param(&v)),
        (Some("invalid_field"), "type")
    );
    let (st, v) = call(&app, Method::GET, "/v1/events?type=customer.created", None).await;
    assert_eq!(st, StatusCode::OK, "a known type still filters: {v}");
});

both_backends!(
    a_body_object_sent_as_an_array_is_refused,
    |app| async move {
        // serde reads a struct from an array: this was taken as `{}` (201 / 200).
        let (st, v) = call(
            &app,
            Method::POST,
            "/v1/customers",
            Some(json!({"type": "individual", "verification": [null, null]})),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(param(&v), "verification[0]");
        let c = app.create_customer(json!({"type": "individual"})).await;
        let id = c["id"].as_str().unwrap();
        let path = format!("/v1/customers/{id}/verification");
        let (st, v) = call(&app, Method::POST, &path, Some(json!([null, null]))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        let (st, v) = call(&app, Method::POST, &path, Some(json!(["basic", true]))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "mixed kinds: {v}");
        let (_, after) = app.customer(id).await;
        assert_eq!(after["status"], "not_started", "nothing started");
    }
);

both_backends!(
    integral_floats_are_integers_as_json_schema_says,
    |app| async move {
        let (st, v) = call(
            &app,
            Method::POST,
            "/v1/screening/search",
            Some(json!({"name": "Ivan Sidorov", "limit": 49.0})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v) = call(
            &app,
            Method::POST,
            "/v1/test_helpers/clock/advance",
            Some(json!({"days": 2.0, "seconds": 0.0})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["offset_seconds"], 2 * 86_400);
        // A fraction is still not an integer.
        let (st, v) = call(
            &app,
            Method::POST,
            "/v1/test_helpers/clock/advance",
            Some(json!({"days": 1.5})),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(param(&v), "days");
    }
);

both_backends!(
    advance_limits_are_per_field_as_documented,
    |app| async move {
        let path = "/v1/test_helpers/clock/advance";
        for (body, field) in [
            (json!({}), "days"),
            (json!({"days": 0, "seconds": 0}), "days"),
            (json!({"days": 3661}), "days"),
            (json!({"seconds": 316_224_001_i64}), "seconds"),
            (json!({"days": -1}), "days"),
        ] {
            let (st, v) = call(&app, Method::POST, path, Some(body.clone())).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
            assert_eq!(param(&v), field, "{body}");
        }
        let (st, v) = call(&app, Method::POST, path, Some(json!({"days": 3660}))).await;
        assert_eq!(st, StatusCode::OK, "the documented maximum: {v}");
    }
);

both_backends!(
    unknown_keys_inside_settings_products_are_refused,
    |app| async move {
        let (_, before) = app.get("/v1/settings").await;
        for body in [
            json!({"products": {"cards": {"approval": "manual"}, "x-unknown": 42}}),
            json!({"products": {"cards": {"approval": "manual", "x-unknown": 1}}}),
        ] {
            let (st, v) = call(&app, Method::PATCH, "/v1/settings", Some(body.clone())).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        }
        let (_, after) = app.get("/v1/settings").await;
        assert_eq!(before, after, "nothing changed");
        let (st, v) = call(
            &app,
            Method::PATCH,
            "/v1/settings",
            Some(json!({"products": {"cards": {"approval": "manual"}}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["products"]["cards"]["approval"], "manual");
    }
);

both_backends!(
    a_webhook_host_that_is_no_dns_name_is_refused,
    |app| async move {
        for url in [
            "https://d2.info*",
            "https://exa_mple.com/hook",
            "https://-a.com/",
        ] {
            let (st, v) = call(
                &app,
                Method::POST,
                "/v1/webhook_endpoints",
                Some(json!({"url": url})),
            )
            .await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{url}: {v}");
            assert_eq!(param(&v), "url", "{url}");
        }
        let (_, list) = app.get("/v1/webhook_endpoints").await;
        assert_eq!(list["data"], json!([]), "nothing was created");
    }
);

both_backends!(
    a_capability_check_of_an_unknown_customer_is_a_documented_404,
    |app| async move {
        let (st, v) = call(
            &app,
            Method::POST,
            "/v1/capability_checks",
            Some(json!({"customer_id": "cus_01j9z8k3m4n5p6q7r8s9t0v1w2", "capability": "cards"})),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    }
);
