//! Stricter JSON input over HTTP, on both backends: `PATCH /v1/settings`
//! refuses `null` where a value is required, oversized lists and unknown
//! fields with `400 invalid_field` naming the field (never a position in an
//! internal document), and every JSON body with a repeated object key is
//! refused with `param` naming that key. Nothing is changed by a refusal.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: &str,
) -> (StatusCode, Value) {
    let res = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.sandbox_key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn assert_invalid_field(st: StatusCode, v: &Value, param: &str) {
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "invalid_field", "{v}");
    assert_eq!(v["error"]["param"], param, "{v}");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("line ") && !message.contains("column"),
        "no position in an internal document: {message}"
    );
}

both_backends!(
    settings_patch_refuses_nulls_oversized_lists_and_unknown_fields,
    |app| async move {
        let (_, before) = app.get("/v1/settings").await;
        let countries: Vec<String> = (0..301).map(|_| "BR".to_string()).collect();
        let requirements: Vec<String> = (0..33).map(|_| "phone_verified".to_string()).collect();
        for (patch, param) in [
            (json!({"min_age": null}), "min_age"),
            (json!({"activation": null}), "activation"),
            (json!({"screening_threshold": null}), "screening_threshold"),
            (json!({"products": null}), "products"),
            (json!({"products": {"cards": null}}), "products.cards"),
            (
                json!({"products": {"cards": {"requirements": null}}}),
                "products.cards.requirements",
            ),
            (json!({"allowed_countries": countries}), "allowed_countries"),
            (
                json!({"products": {"virtual_accounts": {"requirements": requirements}}}),
                "products.virtual_accounts.requirements",
            ),
            (json!({"min_age": "eighteen"}), "min_age"),
            (json!({"min_age": 18, "not_a_setting": 1}), ""),
            (
                json!({"products": {"cards": {"level": "platinum"}}}),
                "products.cards.level",
            ),
        ] {
            let (st, v) = app.patch("/v1/settings", patch.clone()).await;
            if param.is_empty() {
                // An unknown field: refused, with the field named in the message.
                assert_eq!(st, StatusCode::BAD_REQUEST, "{patch} → {v}");
                let m = v["error"]["message"].as_str().unwrap();
                assert_has(m, "not_a_setting");
                assert!(!m.contains("line ") && !m.contains("column"), "{m}");
            } else {
                assert_invalid_field(st, &v, param);
            }
        }
        let (_, after) = app.get("/v1/settings").await;
        assert_eq!(before, after, "nothing changed");

        // null where it means "no restriction" is accepted; a full list too.
        let (st, v) = app
            .patch("/v1/settings", json!({"allowed_countries": ["BR", "PT"]}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["allowed_countries"], json!(["BR", "PT"]));
        let (st, v) = app
            .patch("/v1/settings", json!({"allowed_countries": null}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["allowed_countries"], Value::Null);
    }
);

both_backends!(
    duplicate_json_keys_are_refused_on_every_body,
    |app| async move {
        let (_, before) = app.get("/v1/settings").await;
        for (body, param) in [
            (r#"{"min_age": 21, "min_age": 99}"#, "min_age"),
            (
                r#"{"products": {"cards": {"approval": "manual", "approval": "auto"}}}"#,
                "products.cards.approval",
            ),
        ] {
            let (st, v) = raw(&app, reqwest::Method::PATCH, "/v1/settings", body).await;
            assert_invalid_field(st, &v, param);
            assert_message(&v, "duplicate key");
        }
        let (_, after) = app.get("/v1/settings").await;
        assert_eq!(before, after, "nothing changed");

        // A create: the second value would silently win without the check.
        let (st, v) = raw(
            &app,
            reqwest::Method::POST,
            "/v1/customers",
            r#"{"type": "individual", "external_id": "dup-1", "external_id": "dup-2"}"#,
        )
        .await;
        assert_invalid_field(st, &v, "external_id");
        let (st, v) = raw(
            &app,
            reqwest::Method::POST,
            "/v1/customers",
            r#"{"type": "individual", "metadata": {"plan": "a", "plan": "b"}}"#,
        )
        .await;
        assert_invalid_field(st, &v, "metadata.plan");
        let (_, list) = app.get("/v1/customers").await;
        assert_eq!(list["data"], json!([]), "nothing was created");
        // The same keys in different objects are fine.
        let (st, v) = raw(
            &app,
            reqwest::Method::POST,
            "/v1/customers",
            r#"{"type": "individual", "external_id": "dup-3", "metadata": {"type": "x", "external_id": "y"}}"#,
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
);
