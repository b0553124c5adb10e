//! `POST /v1/customers/batch` on both backends: every good item created and
//! readable with its event, usage and audit; bad items answered alone with
//! nothing of them stored; external_id conflicts inside the batch and with an
//! existing customer; the envelope's limits; the verification start per item;
//! a body above the 1 MiB default limit; and the whole batch replayed under
//! one Idempotency-Key.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every customer of the sandbox, over every page.
async fn all_customers(app: &TestApp) -> Vec<Value> {
    list_all(app, "/v1/customers").await
}

async fn list_all(app: &TestApp, path: &str) -> Vec<Value> {
    let mut out: Vec<Value> = vec![];
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &after {
            Some(a) => format!("{path}{sep}limit=100&starting_after={a}"),
            None => format!("{path}{sep}limit=100"),
        };
        let (st, page) = app.get(&url).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let data = page["data"].as_array().unwrap().clone();
        after = data.last().map(id_of);
        out.extend(data);
        if page["has_more"] != true {
            return out;
        }
    }
}

async fn batch(app: &TestApp, customers: Vec<Value>) -> (StatusCode, Value) {
    app.post("/v1/customers/batch", json!({ "customers": customers }))
        .await
}

fn statuses(v: &Value) -> Vec<u64> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect()
}

fn external_ids(list: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = list
        .iter()
        .filter_map(|c| c["external_id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

both_backends!(good_items_are_all_created_and_readable, |app| async move {
    let items = vec![
        complete_individual("b-1"),
        json!({"type": "individual", "external_id": "b-2"}),
        json!({"type": "business", "external_id": "b-3", "business": {"legal_name": "Acme Ltda"}}),
    ];
    let (st, v) = batch(&app, items).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(statuses(&v), vec![201, 201, 201]);
    for (i, ext) in ["b-1", "b-2", "b-3"].iter().enumerate() {
        let c = &v["data"][i]["customer"];
        assert_eq!(c["external_id"], *ext);
        assert!(v["data"][i].get("error").is_none());
        let id = c["id"].as_str().unwrap();
        let (st, got) = app.customer(id).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(&got, c, "what the batch answered is what is stored");
        // Everything a single create writes: the event and the blind indexes.
        let (_, events) = app.get(&format!("/v1/events?customer_id={id}")).await;
        let types: Vec<&str> = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, vec!["customer.created"], "{events}");
    }
    assert_eq!(
        v["data"][0]["customer"]["identifiers"],
        json!([{"type": "cpf", "country": "BR", "last4": "4725"}])
    );
    assert!(!v.to_string().contains("52998224725"));
    let (_, by_email) = app.get("/v1/customers?email=ada@example.com").await;
    assert_eq!(by_email["data"].as_array().unwrap().len(), 1, "{by_email}");
    // Usage counts each customer; the audit log has one row per create.
    let (_, usage) = app.get("/v1/usage").await;
    assert_eq!(usage["customers_created"], 3, "{usage}");
    let mut conn = app.state.store.reader().await.unwrap();
    for r in v["data"].as_array().unwrap() {
        let id = r["customer"]["id"].as_str().unwrap();
        let n = kycd_store::customers::count_audit(&mut conn, id, "customer.create")
            .await
            .unwrap();
        assert_eq!(n, 1, "{id}");
    }
});

both_backends!(bad_items_fail_alone_and_store_nothing, |app| async move {
    let mut bad_email = complete_individual("bad-1");
    bad_email["individual"]["email"] = json!("not-an-email");
    let items = vec![
        json!({"type": "individual", "external_id": "ok-1"}),
        bad_email,
        json!({"type": "individual", "external_id": "ok-2"}),
        json!({"type": 5, "external_id": "bad-2"}),
        json!({"external_id": "bad-3"}),
        json!({"type": "individual", "external_id": "bad-4", "unknown": true}),
        json!({"type": "individual", "external_id": "ok-3"}),
    ];
    let (st, v) = batch(&app, items).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(statuses(&v), vec![201, 400, 201, 400, 400, 400, 201]);
    let err = &v["data"][1]["error"];
    assert_eq!(err["code"], "invalid_field", "{err}");
    assert_eq!(err["param"], "individual.email", "{err}");
    assert_eq!(err["type"], "invalid_request_error");
    assert!(err["request_id"].as_str().unwrap().starts_with("req_"));
    assert!(v["data"][1].get("customer").is_none());
    assert_eq!(v["data"][4]["error"]["param"], "type");
    // Each error is the one a single create of that item answers.
    for i in [1usize, 3, 4, 5] {
        let item = &v["data"][i];
        let body = match i {
            1 => {
                let mut b = complete_individual("bad-1");
                b["individual"]["email"] = json!("not-an-email");
                b
            }
            3 => json!({"type": 5, "external_id": "bad-2"}),
            4 => json!({"external_id": "bad-3"}),
            _ => json!({"type": "individual", "external_id": "bad-4", "unknown": true}),
        };
        let (st, single) = app.post("/v1/customers", body).await;
        assert_eq!(st.as_u16() as u64, item["status"].as_u64().unwrap());
        for k in ["type", "code", "param", "message"] {
            assert_eq!(single["error"][k], item["error"][k], "item {i}: {k}");
        }
    }
    let all = all_customers(&app).await;
    assert_eq!(external_ids(&all), vec!["ok-1", "ok-2", "ok-3"]);
    let (_, events) = app.get("/v1/events?type=customer.created").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 3, "{events}");
    let (_, usage) = app.get("/v1/usage").await;
    assert_eq!(usage["customers_created"], 3, "{usage}");
});

both_backends!(external_id_conflicts_inside_and_outside, |app| async move {
    app.create_customer(json!({"type": "individual", "external_id": "dup-1"}))
        .await;
    let items = vec![
        json!({"type": "individual", "external_id": "dup-1"}),
        json!({"type": "individual", "external_id": "new-1"}),
        json!({"type": "individual", "external_id": "new-1"}),
        complete_individual("new-2"),
    ];
    let (st, v) = batch(&app, items).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(statuses(&v), vec![409, 201, 409, 201]);
    for i in [0, 2] {
        assert_eq!(v["data"][i]["error"]["code"], "external_id_taken");
        assert_eq!(v["data"][i]["error"]["param"], "external_id");
    }
    let all = all_customers(&app).await;
    assert_eq!(external_ids(&all), vec!["dup-1", "new-1", "new-2"]);
    // The item after a failed insert kept its secrets and indexes.
    let (_, found) = app.get("/v1/customers?email=ada@example.com").await;
    assert_eq!(found["data"][0]["external_id"], "new-2", "{found}");
});

both_backends!(the_envelope_is_checked_as_a_whole, |app| async move {
    let one = json!({"type": "individual"});
    let cases = [
        (json!({"customers": vec![one.clone(); 1001]}), "customers"),
        (json!({"customers": []}), "customers"),
        (json!({}), "customers"),
        (json!({"customers": [one.clone(), 5]}), "customers[1]"),
        (json!({"customers": [one.clone(), null]}), "customers[1]"),
        (json!({"customers": [one.clone()], "other": 1}), ""),
        (json!({"customers": {"type": "individual"}}), "customers"),
    ];
    for (body, param) in cases {
        let (st, e) = app.post("/v1/customers/batch", body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {e}");
        if !param.is_empty() {
            assert_eq!(e["error"]["code"], "invalid_field", "{e}");
            assert_eq!(e["error"]["param"], param, "{e}");
        }
    }
    let (st, e) = app
        .post_raw("/v1/customers/batch", b"{\"customers\": [".to_vec(), &[])
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    // 1,000 is the limit, not above it.
    let (st, v) = batch(&app, vec![one.clone(); 1000]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"].as_array().unwrap().len(), 1000);
    assert_eq!(all_customers(&app).await.len(), 1000, "only the good batch");
});

both_backends!(verification_starts_per_item, |app| async move {
    let mut start = complete_individual("vs-1");
    start["verification"] = json!({"start": true});
    let mut reliance = complete_individual("vs-2");
    reliance["addresses"] = json!([]);
    reliance["verification"] = json!({"mode": "reliance", "start": true});
    let (st, v) = batch(
        &app,
        vec![
            start,
            reliance,
            json!({"type": "individual", "external_id": "vs-3"}),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(statuses(&v), vec![201, 403, 201]);
    let c = &v["data"][0]["customer"];
    assert_eq!(c["status"], "pending", "{c}");
    // As a single create-and-start of the same data answers.
    let mut single = complete_individual("vs-single");
    single["verification"] = json!({"start": true});
    let one = app.create_customer(single).await;
    // (The single one also finds the batch's customer: the same CPF.)
    let codes = |v: &Value| -> Vec<String> {
        v["verification"]["requirements"]["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .filter(|c| c != "duplicate_identifier")
            .collect()
    };
    assert_eq!(codes(c), codes(&one));
    assert_eq!(c["status"], one["status"]);
    assert_eq!(
        c["verification"]["url"].is_null(),
        one["verification"]["url"].is_null()
    );
    let id = c["id"].as_str().unwrap();
    let (_, events) = app.get(&format!("/v1/events?customer_id={id}")).await;
    assert_eq!(
        events["data"].as_array().unwrap().len(),
        app.get(&format!(
            "/v1/events?customer_id={}",
            one["id"].as_str().unwrap()
        ))
        .await
        .1["data"]
            .as_array()
            .unwrap()
            .len(),
        "the same events as a single create-and-start: {events}"
    );
    assert_eq!(v["data"][1]["error"]["code"], "requirements_not_met");
    assert!(
        !v["data"][1]["error"]["reasons"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let all = all_customers(&app).await;
    assert_eq!(external_ids(&all), vec!["vs-1", "vs-3", "vs-single"]);
});

both_backends!(
    a_batch_may_exceed_the_default_body_limit,
    |app| async move {
        // ~1.4 KiB per customer: 1.4 MiB in all, over the 1 MiB of other bodies.
        let filler = "x".repeat(450);
        let items: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"type": "individual", "external_id": format!("big-{i}"),
                        "metadata": {"a": filler, "b": filler, "c": filler}})
            })
            .collect();
        let body = serde_json::to_vec(&json!({ "customers": items })).unwrap();
        assert!(body.len() > 1024 * 1024);
        let (st, v) = app
            .post_raw(
                "/v1/customers/batch",
                body,
                &[("content-type", "application/json")],
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert!(statuses(&v).iter().all(|s| *s == 201));
        // A single create keeps the 1 MiB limit.
        let big = json!({"type": "individual", "metadata": {"a": "y".repeat(2 * 1024 * 1024)}});
        let (st, _) = app.post("/v1/customers", big).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    }
);

both_backends!(a_batch_is_idempotent_as_a_whole, |app| async move {
    let send =
        |key: &'static str, body: Value| app.post_idempotent("/v1/customers/batch", key, body);
    // No external_id on the first item: only the key prevents a duplicate.
    let body = json!({"customers": [
        {"type": "individual", "metadata": {"n": 1}},
        {"type": "individual", "external_id": "idem-2"},
        {"type": "nobody"}
    ]});
    let (s1, b1, r1) = send("batch-k1", body.clone()).await;
    assert_eq!((s1, r1), (StatusCode::OK, false), "{b1}");
    assert_eq!(statuses(&b1), vec![201, 201, 400]);
    let (s2, b2, r2) = send("batch-k1", body.clone()).await;
    assert_eq!((s2, r2), (StatusCode::OK, true));
    assert_eq!(b1, b2, "the same body, error items included");
    assert_eq!(all_customers(&app).await.len(), 2, "nothing created twice");
    let (s3, e3, _) = send("batch-k1", json!({"customers": [{"type": "individual"}]})).await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY, "{e3}");
    assert_eq!(e3["error"]["code"], "idempotency_key_reused");
    assert_eq!(all_customers(&app).await.len(), 2);
});

/// `kycd_batch_retries_total` of `/metrics`.
async fn batch_retries(app: &TestApp) -> u64 {
    let text = app.metrics_text().await;
    text.lines()
        .find_map(|l| l.strip_prefix("kycd_batch_retries_total "))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or_else(|| panic!("no kycd_batch_retries_total in {text}"))
}

both_backends!(a_failing_item_writes_the_batch_again, |app| async move {
    // Items refused before the database cost no second attempt.
    let (st, v) = batch(
        &app,
        vec![
            json!({"type": "individual", "external_id": "r-1"}),
            json!({"type": "nobody"}),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(statuses(&v), vec![201, 400]);
    assert_eq!(batch_retries(&app).await, 0, "written at the first attempt");

    // An item failing in the database after two written ones: the first
    // attempt (no savepoints) rolls back, the second writes each item under
    // its savepoint; one Idempotency-Key stores the second attempt's answer.
    let body = json!({"customers": [
        complete_individual("r-2"),
        {"type": "individual", "external_id": "r-3"},
        {"type": "individual", "external_id": "r-1"},
        {"type": "individual", "external_id": "r-4"}
    ]});
    let send = || {
        app.client
            .post(format!("{}/v1/customers/batch", app.base))
            .bearer_auth(&app.sandbox_key)
            .header("Idempotency-Key", "retried-batch")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(statuses(&first), vec![201, 201, 409, 201], "{first}");
    assert_eq!(first["data"][2]["error"]["code"], "external_id_taken");
    assert_eq!(batch_retries(&app).await, 1, "written again once");
    let again = send().await.unwrap();
    assert!(again.headers().contains_key("idempotent-replayed"));
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "replayed whole"
    );

    // Nothing of the rolled-back attempt stayed, nothing twice.
    let all = all_customers(&app).await;
    assert_eq!(external_ids(&all), vec!["r-1", "r-2", "r-3", "r-4"]);
    for i in [0, 1, 3] {
        let id = first["data"][i]["customer"]["id"].as_str().unwrap();
        let (st, _) = app.get(&format!("/v1/customers/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{id}");
    }
    let (_, events) = app.get("/v1/events?type=customer.created").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 4, "{events}");
    let (_, usage) = app.get("/v1/usage").await;
    assert_eq!(usage["customers_created"], 4, "{usage}");
    // The item written after the failing one kept its blind indexes.
    let (_, found) = app.get("/v1/customers?email=ada@example.com").await;
    assert_eq!(found["data"][0]["external_id"], "r-2", "{found}");
});

/// Text rows of `sql` (every column cast to text by the query), one `$1` bind.
async fn text_rows(app: &TestApp, sql: &str, id: &str) -> Vec<Vec<String>> {
    use sqlx::Row;
    let mut conn = app.state.store.reader().await.unwrap();
    sqlx::query(sql)
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .unwrap()
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

/// What is stored of a customer, ids and times left out: its row, key,
/// blind indexes, sealed values, events, usage and audit rows.
async fn stored_shape(app: &TestApp, id: &str) -> Vec<Vec<Vec<String>>> {
    let mut shape = vec![];
    for sql in [
        "SELECT organization_id, environment, status, CAST(version AS TEXT), \
         CAST(created_at = updated_at AS TEXT), CAST(expires_at IS NULL AS TEXT) FROM customers WHERE id = $1",
        "SELECT organization_id, environment FROM customer_keys WHERE customer_id = $1",
        "SELECT organization_id, environment, kind FROM blind_indexes WHERE customer_id = $1 ORDER BY kind",
        "SELECT field FROM customer_secrets WHERE customer_id = $1 ORDER BY field",
        "SELECT organization_id, environment, type FROM events WHERE customer_id = $1",
        "SELECT organization_id, environment, month, metric FROM usage_records WHERE resource_id = $1",
        "SELECT organization_id, environment, actor, action, details FROM audit_log WHERE resource_id = $1",
    ] {
        shape.push(text_rows(app, sql, id).await);
    }
    shape
}

both_backends!(
    rows_written_together_are_those_written_one_by_one,
    |app| async move {
        // Written together: one statement (PostgreSQL) or one per table (SQLite).
        let retries = batch_retries(&app).await;
        let (st, together) = batch(&app, vec![complete_individual("w-1")]).await;
        assert_eq!((st, statuses(&together)), (StatusCode::OK, vec![201]));
        assert_eq!(batch_retries(&app).await, retries, "no second attempt");
        // Written one by one: the duplicate sends the batch to savepoints.
        let (st, alone) = batch(
            &app,
            vec![complete_individual("w-2"), complete_individual("w-2")],
        )
        .await;
        assert_eq!((st, statuses(&alone)), (StatusCode::OK, vec![201, 409]));
        assert_eq!(batch_retries(&app).await, retries + 1);
        let (a, b) = (
            id_of(&together["data"][0]["customer"]),
            id_of(&alone["data"][0]["customer"]),
        );
        let (shape_a, shape_b) = (stored_shape(&app, &a).await, stored_shape(&app, &b).await);
        assert_eq!(shape_a, shape_b);
        // Nothing missing from either: one of each row, the indexes and the sealed identifier.
        let counts: Vec<usize> = shape_a.iter().map(Vec::len).collect();
        assert_eq!(counts, vec![1, 1, 3, 1, 1, 1, 1], "{shape_a:?}");
        // The event payload and the audit MAC of the rows written together.
        let (_, events) = app.get(&format!("/v1/events?customer_id={a}")).await;
        assert_eq!(
            events["data"][0]["data"],
            json!({"customer_id": a, "external_id": "w-1", "type": "individual", "status": "not_started"}),
            "{events}"
        );
        let mut conn = app.state.store.reader().await.unwrap();
        let filter = kycd_store::audit::Filter {
            resource_id: Some(a.clone()),
            ..Default::default()
        };
        let entries = kycd_store::audit::browse(&mut conn, &filter, 10)
            .await
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].mac_problem(&*app.state.vault, true), None);
    }
);
