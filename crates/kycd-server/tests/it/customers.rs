//! Customers through HTTP on both backends: create, read, list, PATCH rules,
//! validation, scoping, idempotency, errors.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_backends!(create_read_list_and_patch, |app| async move {
    let c = app.create_customer(json!({"type": "individual"})).await;
    assert_eq!(c["object"], "customer");
    assert_eq!(c["status"], "not_started");
    assert!(c["id"].as_str().unwrap().starts_with("cus_"));
    let id = id_of(&c);

    let (st, got) = app.customer(&id).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got["id"], c["id"]);

    let full = app.create_customer(complete_individual("ext-1")).await;
    assert_eq!(
        full["identifiers"],
        json!([{"type": "cpf", "country": "BR", "last4": "4725"}])
    );
    assert!(!full.to_string().contains("52998224725"));

    let (st, dup) = app
        .post("/v1/customers", complete_individual("ext-1"))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{dup}");

    let (_, list) = app.get("/v1/customers?external_id=ext-1").await;
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let (st, patched) = app
        .update_customer(
            &id,
            json!({"individual": {"first_name": "Ada"}, "metadata": {"k": "v"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{patched}");
    assert_eq!(patched["individual"]["first_name"], "Ada");
    let (_, patched) = app
        .update_customer(&id, json!({"individual": {"last_name": "L"}}))
        .await;
    assert_eq!(
        patched["individual"]["first_name"], "Ada",
        "nested objects merge field by field"
    );
    assert_eq!(patched["metadata"]["k"], "v");
});

// PATCH tells an absent field (keep) from `null` (clear) from a value (set).
both_backends!(patch_external_id_absent_null_or_value, |app| async move {
    let c = app
        .create_customer(json!({"type": "individual", "external_id": "ext-tri"}))
        .await;
    let path = format!("/v1/customers/{}", c["id"].as_str().unwrap());

    let (st, kept) = app.patch(&path, json!({"metadata": {"k": "v"}})).await;
    assert_eq!(st, StatusCode::OK, "{kept}");
    assert_eq!(kept["external_id"], "ext-tri", "absent: kept");

    let (st, cleared) = app.patch(&path, json!({"external_id": null})).await;
    assert_eq!(st, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["external_id"], Value::Null, "null: cleared");
    assert_eq!(app.get(&path).await.1["external_id"], Value::Null);
    let (_, found) = app.get("/v1/customers?external_id=ext-tri").await;
    assert_eq!(found["data"], json!([]), "the column is cleared too");
    // The cleared id is free again.
    app.create_customer(json!({"type": "individual", "external_id": "ext-tri"}))
        .await;

    let (st, set) = app.patch(&path, json!({"external_id": "ext-new"})).await;
    assert_eq!(st, StatusCode::OK, "{set}");
    assert_eq!(set["external_id"], "ext-new", "value: set");
    let (_, found) = app.get("/v1/customers?external_id=ext-new").await;
    assert_eq!(found["data"][0]["id"], c["id"]);
    let (st, taken) = app.patch(&path, json!({"external_id": "ext-tri"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{taken}");
    assert_eq!(taken["error"]["code"], "external_id_taken");
});

// A malformed id in the path is answered as a missing one: the same 404 body.
both_backends!(
    malformed_path_ids_are_404_like_missing_ones,
    |app| async move {
        let c = app.create_customer(json!({"type": "individual"})).await;
        let cid = c["id"].as_str().unwrap();
        let missing_cus = "cus_01aaaaaaaaaaaaaaaaaaaaaaaa";
        let cases = [
            (
                "/v1/customers/BAD".to_string(),
                format!("/v1/customers/{missing_cus}"),
                "no such customer",
            ),
            (
                "/v1/customers/doc_1".to_string(),
                format!("/v1/customers/{missing_cus}"),
                "no such customer",
            ),
            (
                "/v1/customers/cus_%2E%2E/explanation".to_string(),
                format!("/v1/customers/{missing_cus}/explanation"),
                "no such customer",
            ),
            (
                format!("/v1/customers/{cid}/documents/cus_1"),
                format!("/v1/customers/{cid}/documents/doc_01aaaaaaaaaaaaaaaaaaaaaaaa"),
                "no such document",
            ),
            (
                format!("/v1/customers/{cid}/product_access/x"),
                format!("/v1/customers/{cid}/product_access/pa_01aaaaaaaaaaaaaaaaaaaaaaaa"),
                "no such product_access",
            ),
            (
                "/v1/events/evt_".to_string(),
                "/v1/events/evt_01aaaaaaaaaaaaaaaaaaaaaaaa".to_string(),
                "no such event",
            ),
            (
                "/v1/webhook_endpoints/we-1".to_string(),
                "/v1/webhook_endpoints/we_01aaaaaaaaaaaaaaaaaaaaaaaa".to_string(),
                "no such webhook endpoint",
            ),
        ];
        for (bad, missing, message) in cases {
            let (st, got) = app.get(&bad).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{bad}: {got}");
            let (st2, want) = app.get(&missing).await;
            assert_eq!(st2, StatusCode::NOT_FOUND, "{missing}: {want}");
            for k in ["type", "code", "message"] {
                assert_eq!(got["error"][k], want["error"][k], "{bad} vs {missing}: {k}");
            }
            assert_eq!(got["error"]["message"], message, "{bad}");
        }
    }
);

both_backends!(pagination_walks_every_customer_once, |app| async move {
    let mut created = vec![];
    for i in 0..7 {
        created.push(
            app.create_customer(json!({"type": "individual", "external_id": format!("p{i}")}))
                .await["id"]
                .clone(),
        );
    }
    let mut seen = vec![];
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/customers?limit=3&starting_after={a}"),
            None => "/v1/customers?limit=3".into(),
        };
        let (st, page) = app.get(&path).await;
        assert_eq!(st, StatusCode::OK);
        let data = page["data"].as_array().unwrap();
        seen.extend(data.iter().map(|c| c["id"].clone()));
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = Some(data.last().unwrap()["id"].as_str().unwrap().to_string());
    }
    assert_eq!(seen.len(), 7);
    created.reverse();
    assert_eq!(seen, created, "newest first, each once");
    let (st, e) = app.get("/v1/customers?limit=0").await;
    assert_error(st, &e, StatusCode::BAD_REQUEST, "invalid_field");
});

both_backends!(
    scoping_hides_customers_across_environments_and_organizations,
    |app| async move {
        let c = app.create_customer(json!({"type": "individual"})).await;
        let path = format!("/v1/customers/{}", c["id"].as_str().unwrap());
        let (st, e) = app.call(&app.live_key, Method::GET, &path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_eq!(e["error"]["code"], "resource_not_found");
        let other = kycd_server::create_org(&app.state.store, "other")
            .await
            .unwrap();
        let (st, _) = app
            .call(&other.sandbox_api_key, Method::GET, &path, None)
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (_, list) = app
            .call(&other.sandbox_api_key, Method::GET, "/v1/customers", None)
            .await;
        assert_eq!(list["data"], json!([]));
        let (st, e) = app.call("sk_test_nope", Method::GET, &path, None).await;
        assert_error(st, &e, StatusCode::UNAUTHORIZED, "invalid_api_key");
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
);

both_backends!(validation_errors_name_the_field, |app| async move {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"type": "individual", "identifiers": [{"type": "cpf", "value": "529.982.247-26"}]}),
            "identifiers[0].value",
        ),
        (
            json!({"type": "individual", "identifiers": [{"type": "ssn", "value": "666-12-3456"}]}),
            "identifiers[0].value",
        ),
        (
            json!({"type": "individual", "identifiers": [{"type": "itin", "value": "912-40-1234"}]}),
            "identifiers[0].value",
        ),
        (
            json!({"type": "business", "identifiers": [{"type": "cnpj", "value": "11.222.333/0001-82"}]}),
            "identifiers[0].value",
        ),
        (
            json!({"type": "individual", "individual": {"email": "not-an-email"}}),
            "individual.email",
        ),
        (
            json!({"type": "individual", "individual": {"phone": "11999990000"}}),
            "individual.phone",
        ),
        (
            json!({"type": "individual", "individual": {"nationality": "XX"}}),
            "individual.nationality",
        ),
        (
            json!({"type": "individual", "individual": {"date_of_birth": "2999-01-01"}}),
            "individual.date_of_birth",
        ),
        (
            json!({"type": "individual", "individual": {"first_name": 5}}),
            "individual.first_name",
        ),
        (json!({"type": "individual", "bogus": 1}), "bogus"),
        (json!({"type": "robot"}), "type"),
    ];
    for (body, param) in cases {
        let (st, e) = app.post("/v1/customers", body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body} → {e}");
        assert_eq!(e["error"]["code"], "invalid_field", "{body} → {e}");
        assert!(
            e["error"]["param"].as_str().unwrap_or("").contains(param),
            "{body} → {e}"
        );
        assert!(
            e["error"]["request_id"]
                .as_str()
                .unwrap()
                .starts_with("req_")
        );
    }
    let (st, e) = app
        .post_raw(
            "/v1/customers",
            b"{not json".to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST, "invalid_request");
    let big = vec![b' '; 2 * 1024 * 1024];
    let res = app
        .client
        .post(format!("{}/v1/customers", app.base))
        .bearer_auth(&app.sandbox_key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..]),
        "the unread rest of the body ends the connection, and the response says so"
    );
    let e: Value = res.json().await.expect("json error");
    assert_eq!(e["error"]["code"], "payload_too_large");
    let (_, list) = app.get("/v1/customers").await;
    assert_eq!(
        list["data"],
        json!([]),
        "nothing was created by bad requests"
    );
});

both_backends!(patch_follows_the_status_table, |app| async move {
    // pending: locked
    let c = app
        .create_customer(json!({"type": "individual", "verification": {"start": true}}))
        .await;
    assert_eq!(c["status"], "pending");
    let path = format!("/v1/customers/{}", c["id"].as_str().unwrap());
    let (st, e) = app.patch(&path, json!({"metadata": {"a": "b"}})).await;
    assert_error(st, &e, StatusCode::CONFLICT, "customer_locked");
    // active: allowed; a change of verified data → update_requested → re-verified
    let c = app.create_customer(complete_individual("a1")).await;
    let id = c["id"].as_str().unwrap();
    app.start_and_approve(id).await;
    let (st, p) = app
        .update_customer(id, json!({"metadata": {"x": "y"}}))
        .await;
    assert_eq!(
        (st, p["status"].as_str()),
        (StatusCode::OK, Some("active")),
        "metadata is not verified data"
    );
    let (st, p) = app
        .update_customer(
            id,
            json!({"addresses": [{"line1": "Rua B, 2", "city": "Rio", "country": "BR"}]}),
        )
        .await;
    assert_status(st, &p, StatusCode::OK, "update_requested");
    let (_, hist) = app.get(&format!("/v1/customers/{id}/explanation")).await;
    let to: Vec<&str> = hist["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to_status"].as_str().unwrap())
        .collect();
    assert!(to.contains(&"update_requested"), "{hist}");
});

both_backends!(idempotency_replays_and_guards, |app| async move {
    let send = |key: &'static str, body: Value| app.post_idempotent("/v1/customers", key, body);
    let (s1, b1, _) = send("k1", json!({"type": "individual", "external_id": "i1"})).await;
    let (s2, b2, _) = send("k1", json!({"type": "individual", "external_id": "i1"})).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(b1, b2, "the first response is replayed");
    // Stored responses are sealed (they carry personal data, and secrets for webhook endpoints).
    let mut conn = app.state.store.reader().await.unwrap();
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT response_body FROM idempotency_keys WHERE response_body IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert!(!bodies.is_empty());
    assert!(
        bodies
            .iter()
            .all(|b| !b.contains("external_id") && !b.contains("cus_")),
        "{bodies:?}"
    );
    drop(conn);
    let (s3, b3, _) = send("k1", json!({"type": "individual", "external_id": "other"})).await;
    assert_eq!(
        (s3, b3["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        )
    );

    // 20 identical requests at once create exactly one customer.
    let futs: Vec<_> = (0..20)
        .map(|_| {
            send(
                "k-conc",
                json!({"type": "individual", "external_id": "conc"}),
            )
        })
        .collect();
    let results = futures::future::join_all(futs).await;
    for (st, b, _) in &results {
        assert!(
            *st == StatusCode::CREATED
                || (*st == StatusCode::CONFLICT && b["error"]["code"] == "idempotency_key_in_use"),
            "{st} {b}"
        );
    }
    let (_, list) = app.get("/v1/customers?external_id=conc").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
});

#[tokio::test]
async fn health_metrics_and_unknown_paths() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let res = app.public_get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.public_get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    app.get("/v1/customers").await;
    let text = app.metrics_text().await;
    assert_has(
        &text,
        "kycd_http_requests_total{method=\"GET\",route=\"/v1/customers\"",
    );
    assert!(text.contains("kycd_http_request_duration_seconds_bucket"));
    let (st, e) = app.get("/v1/nope").await;
    assert_error(st, &e, StatusCode::NOT_FOUND, "resource_not_found");
}

// Erasure reaches the idempotency cache: a stored response is sealed under
// the key of the resource it is about, so once the customer is erased (or
// the webhook endpoint deleted, whose create response holds its secret) a
// replay of the create answers 404 and shows nothing.
both_backends!(
    erasure_reaches_stored_idempotent_responses,
    |app| async move {
        let send = |path: &'static str, key: &'static str, body: Value| {
            app.post_idempotent(path, key, body)
        };
        let body = json!({"type": "individual", "individual": {"first_name": "Erasable", "last_name": "Person"}});
        let (st, c, _) = send("/v1/customers", "erase-me", body.clone()).await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, again, _) = send("/v1/customers", "erase-me", body.clone()).await;
        assert_eq!(
            (st, &again),
            (StatusCode::CREATED, &c),
            "replayed before erasure"
        );
        let id = c["id"].as_str().unwrap();
        let (st, _) = app.delete(&format!("/v1/customers/{id}")).await;
        assert_eq!(st, StatusCode::OK);
        let (st, e, _) = send("/v1/customers", "erase-me", body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
        assert_eq!(e["error"]["code"], "resource_not_found");
        assert!(!e.to_string().contains("Erasable"), "{e}");

        let wh = json!({"url": "https://example.com/hook"});
        let (st, w, _) = send("/v1/webhook_endpoints", "endpoint-1", wh.clone()).await;
        assert_eq!(st, StatusCode::CREATED, "{w}");
        let secret = w["secret"].as_str().unwrap().to_string();
        let (st, again, _) = send("/v1/webhook_endpoints", "endpoint-1", wh.clone()).await;
        assert_eq!(
            (st, again["secret"].as_str()),
            (StatusCode::CREATED, Some(secret.as_str()))
        );
        let (st, _) = app
            .delete(&format!(
                "/v1/webhook_endpoints/{}",
                w["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, e, _) = send("/v1/webhook_endpoints", "endpoint-1", wh).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
        assert!(!e.to_string().contains(&secret));
    }
);

both_backends!(status_filter_takes_seed_004_names_too, |app| async move {
    let fresh = app.create_customer(json!({"type": "individual"})).await;
    let started = app
        .create_customer(json!({"type": "individual", "verification": {"start": true}}))
        .await;
    assert_eq!(started["status"], "pending");
    for (filter, want) in [
        ("not_started", &fresh),
        ("CREATED", &fresh),
        ("pending", &started),
        ("UNDER_REVIEW", &started),
    ] {
        let (st, list) = app.get(&format!("/v1/customers?status={filter}")).await;
        assert_eq!(st, StatusCode::OK, "{filter}: {list}");
        let ids: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![want["id"].as_str().unwrap()], "{filter}");
    }
    for bad in ["created", "UNDER REVIEW", "Active"] {
        let (st, e) = app.get(&format!("/v1/customers?status={bad}")).await;
        assert_eq!(
            (st, e["error"]["param"].as_str()),
            (StatusCode::BAD_REQUEST, Some("status")),
            "{bad}: {e}"
        );
    }
});

both_backends!(
    a_resubmittable_rejection_can_be_corrected_then_restarted,
    |app| async move {
        let c = app.create_customer(complete_individual("rej-fix")).await;
        let id = id_of(&c);
        app.start_verification(&id).await;
        let (_, r) = app
            .force_verification(
                &id,
                json!({"status": "rejected", "rejection_reason": "data_mismatch"}),
            )
            .await;
        assert_eq!(
            (
                r["status"].as_str(),
                r["verification"]["resubmittable"].as_bool()
            ),
            (Some("rejected"), Some(true)),
            "{r}"
        );
        let (st, p) = app
            .update_customer(&id, json!({"individual": {"last_name": "Byron"}}))
            .await;
        assert_status(st, &p, StatusCode::OK, "rejected");
        assert_eq!(p["individual"]["last_name"], "Byron");
        let (st, again) = app.start_verification(&id).await;
        assert_status(st, &again, StatusCode::OK, "pending");

        // A final rejection stays locked.
        let c = app.create_customer(complete_individual("rej-final")).await;
        let id = id_of(&c);
        app.start_verification(&id).await;
        app.force_verification(
            &id,
            json!({"status": "rejected", "rejection_reason": "fraud_suspected"}),
        )
        .await;
        let (st, e) = app
            .update_customer(&id, json!({"individual": {"last_name": "Byron"}}))
            .await;
        assert_error(st, &e, StatusCode::CONFLICT, "customer_locked");
    }
);
