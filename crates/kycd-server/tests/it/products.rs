//! Product access, capabilities and usage metering through HTTP on both
//! backends: grants, manual review, rejection with missing items, suspension
//! on expiry and restoration after re-verification, the capability check for
//! every customer status, usage counts under concurrency and retries.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn status_of(app: &TestApp, cus: &str) -> String {
    let (_, c) = app.customer(cus).await;
    c["status"].as_str().unwrap().to_string()
}

/// Forces a verification outcome through the sandbox helper and asserts 200.
async fn force(app: &TestApp, cus: &str, body: Value) -> Value {
    let (st, v) = app
        .post(
            &format!("/v1/test_helpers/customers/{cus}/verification"),
            body,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// Uploads a document and has the sandbox reviewer accept it (or leaves it in review).
async fn document(app: &TestApp, cus: &str, doc_type: &str, accept: bool) -> String {
    let (st, d) = app.upload_jpeg(cus, doc_type).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let doc = id(&d);
    if accept {
        let (st, r) = app.set_document(&doc, json!({"status": "accepted"})).await;
        assert_eq!(st, StatusCode::OK, "{r}");
    }
    doc
}

/// Starts verification (level as given) and approves it when a reviewer is awaited.
async fn verify(app: &TestApp, cus: &str, level: &str) {
    let (st, c) = app.verify(cus, json!({"level": level})).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    if c["status"] != "active" {
        force(app, cus, json!({"status": "approved"})).await;
    }
    assert_eq!(status_of(app, cus).await, "active");
}

/// An active customer verified at level basic.
async fn active_basic(app: &TestApp, ext: &str) -> String {
    let cus = id(&app.create_customer(complete_individual(ext)).await);
    verify(app, &cus, "basic").await;
    cus
}

/// An active customer verified at level full (identity document and selfie accepted).
async fn active_full(app: &TestApp, ext: &str) -> String {
    let cus = id(&app.create_customer(complete_individual(ext)).await);
    document(app, &cus, "passport", true).await;
    document(app, &cus, "selfie", true).await;
    verify(app, &cus, "full").await;
    cus
}

async fn request(app: &TestApp, cus: &str, product: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/v1/customers/{cus}/product_access"),
        json!({"product": product}),
    )
    .await
}

/// POST /v1/capability_checks: (allowed, error code, message).
async fn check(app: &TestApp, cus: &str, capability: &str) -> (bool, String, String) {
    let (st, v) = app
        .post(
            "/v1/capability_checks",
            json!({"customer_id": cus, "capability": capability}),
        )
        .await;
    match st {
        StatusCode::OK => {
            assert_eq!(v["allowed"], true, "{v}");
            (true, String::new(), String::new())
        }
        StatusCode::FORBIDDEN => (
            false,
            v["error"]["code"].as_str().unwrap().to_string(),
            v["error"]["message"].as_str().unwrap().to_string(),
        ),
        other => panic!("capability check answered {other}: {v}"),
    }
}

async fn event_types(app: &TestApp, cus: &str) -> Vec<String> {
    let (st, v) = app
        .get(&format!("/v1/events?customer_id={cus}&limit=100"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str().map(str::to_string))
        .collect()
}

async fn usage(app: &TestApp, key: &str) -> Value {
    let (st, v) = app.call(key, Method::GET, "/v1/usage", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// POST with a key and an optional Idempotency-Key.
async fn post_key(
    app: &TestApp,
    key: &str,
    path: &str,
    body: Value,
    idem: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .json(&body);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.expect("request");
    let st = res.status();
    (st, res.json().await.unwrap_or(Value::Null))
}

both_backends!(a_full_customer_is_granted_cards_at_once, |app| async move {
    let cus = active_full(&app, "full-1").await;
    let (st, pa) = request(&app, &cus, "cards").await;
    assert_eq!(st, StatusCode::CREATED, "{pa}");
    assert!(pa["id"].as_str().unwrap().starts_with("pa_"));
    assert_eq!(pa["object"], "product_access");
    assert_eq!(
        (pa["customer_id"].as_str(), pa["product"].as_str()),
        (Some(cus.as_str()), Some("cards"))
    );
    assert_eq!(pa["status"], "granted");
    assert_eq!(pa["requirements"]["missing"], json!([]));
    assert_eq!(pa["rejection_reason"], Value::Null);
    assert!(pa["created_at"].is_string() && pa["updated_at"].is_string());

    // A second request returns the open one (200), not a new request.
    let (st, again) = request(&app, &cus, "cards").await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["id"], pa["id"]);
    let (_, list) = app
        .get(&format!("/v1/customers/{cus}/product_access"))
        .await;
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (st, one) = app
        .get(&format!("/v1/customers/{cus}/product_access/{}", id(&pa)))
        .await;
    assert_eq!((st, one["id"].clone()), (StatusCode::OK, pa["id"].clone()));

    assert!(check(&app, &cus, "cards").await.0);
    assert!(check(&app, &cus, "transact").await.0);
    let (allowed, code, msg) = check(&app, &cus, "virtual_accounts").await;
    assert!(!allowed);
    assert_eq!(code, "missing_capability");
    assert_has(&msg, "request access to virtual_accounts");

    let (_, caps) = app.get(&format!("/v1/customers/{cus}/capabilities")).await;
    assert_eq!(caps["object"], "capabilities");
    assert_eq!(caps["transact"]["status"], "enabled");
    assert_eq!(caps["transact"]["reason"], Value::Null);
    assert_eq!(caps["cards"]["status"], "enabled");
    assert_eq!(caps["cards"]["product_access_id"], pa["id"]);
    assert_eq!(caps["virtual_accounts"]["status"], "disabled");
    assert_eq!(
        caps["virtual_accounts"]["reason"],
        "product_access_not_requested"
    );

    assert!(
        event_types(&app, &cus)
            .await
            .contains(&"product_access.granted".to_string())
    );
    assert_eq!(
        usage(&app, &app.sandbox_key).await["product_access_requests"],
        1
    );
});

both_backends!(
    unmet_requirements_reject_with_the_missing_items,
    |app| async move {
        // Verified at basic: cards need level full and its documents.
        let basic = active_basic(&app, "basic-1").await;
        let (st, pa) = request(&app, &basic, "cards").await;
        assert_eq!(st, StatusCode::CREATED, "{pa}");
        assert_eq!(pa["status"], "rejected");
        assert_eq!(pa["rejection_reason"], "requirements_not_met");
        assert_eq!(
            pa["requirements"]["missing"],
            json!(["level_full", "identity_document", "selfie"])
        );
        let (allowed, _, msg) = check(&app, &basic, "cards").await;
        assert!(!allowed);
        assert!(
            msg.contains("rejected") && msg.contains("level_full"),
            "{msg}"
        );
        assert!(
            event_types(&app, &basic)
                .await
                .contains(&"product_access.rejected".to_string())
        );
        // A rejected request is history: a new request is a new (billable) request.
        let (st, again) = request(&app, &basic, "cards").await;
        assert_eq!(st, StatusCode::CREATED);
        assert_ne!(again["id"], pa["id"]);

        // Verified at full without a proof of address: virtual accounts are refused…
        let full = active_full(&app, "full-2").await;
        let (_, va) = request(&app, &full, "virtual_accounts").await;
        assert_eq!(va["status"], "rejected");
        assert_eq!(va["requirements"]["missing"], json!(["proof_of_address"]));
        // …a proof of address still in review makes the next request wait for a reviewer…
        let doc = document(&app, &full, "proof_of_address", false).await;
        let (st, va) = request(&app, &full, "virtual_accounts").await;
        assert_eq!(st, StatusCode::CREATED, "{va}");
        assert_eq!(va["status"], "pending");
        assert_eq!(va["requirements"]["missing"], json!([]));
        assert_eq!(
            va["requirements"]["pending_verification"],
            json!(["proof_of_address"])
        );
        let (_, _, msg) = check(&app, &full, "virtual_accounts").await;
        assert_has(&msg, "access to virtual_accounts is pending review");
        // …who accepts the document and grants access.
        let (st, _) = app.set_document(&doc, json!({"status": "accepted"})).await;
        assert_eq!(st, StatusCode::OK);
        let (st, va) = app
            .post(
                &format!("/v1/test_helpers/product_access/{}", id(&va)),
                json!({"status": "granted"}),
            )
            .await;
        assert_status(st, &va, StatusCode::OK, "granted");
        assert!(check(&app, &full, "virtual_accounts").await.0);
        assert_eq!(
            usage(&app, &app.sandbox_key).await["product_access_requests"],
            4
        );
    }
);

both_backends!(manual_approval_waits_for_the_reviewer, |app| async move {
    let (st, s) = app
        .patch(
            "/v1/settings",
            json!({"products": {"cards": {"approval": "manual"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    let cus = active_full(&app, "manual-1").await;
    let (st, pa) = request(&app, &cus, "cards").await;
    assert_status(st, &pa, StatusCode::CREATED, "pending");
    assert!(
        event_types(&app, &cus)
            .await
            .contains(&"product_access.pending".to_string())
    );
    let (allowed, _, msg) = check(&app, &cus, "cards").await;
    assert!(
        !allowed && msg.contains("access to cards is pending review"),
        "{msg}"
    );
    let (st, again) = request(&app, &cus, "cards").await;
    assert_eq!(
        (st, again["id"].clone()),
        (StatusCode::OK, pa["id"].clone()),
        "pending is open"
    );

    let helper = format!("/v1/test_helpers/product_access/{}", id(&pa));
    let (st, e) = app.post(&helper, json!({"status": "approved"})).await;
    assert_answer(st, &e, "/error/param", (StatusCode::BAD_REQUEST, "status"));
    let (st, _) = app
        .call(
            &app.live_key.clone(),
            Method::POST,
            &helper,
            Some(json!({"status": "granted"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "test helpers are sandbox-only");
    let (st, granted) = app.post(&helper, json!({"status": "granted"})).await;
    assert_status(st, &granted, StatusCode::OK, "granted");
    assert!(check(&app, &cus, "cards").await.0);
    assert!(
        event_types(&app, &cus)
            .await
            .contains(&"product_access.granted".to_string())
    );
    let (st, e) = app.post(&helper, json!({"status": "rejected"})).await;
    assert_error(st, &e, StatusCode::CONFLICT, "invalid_transition");

    let other = active_full(&app, "manual-2").await;
    let (_, pa2) = request(&app, &other, "cards").await;
    let (st, rejected) = app
        .post(
            &format!("/v1/test_helpers/product_access/{}", id(&pa2)),
            json!({"status": "rejected", "rejection_reason": "risk_appetite"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{rejected}");
    assert_eq!(
        (
            rejected["status"].as_str(),
            rejected["rejection_reason"].as_str()
        ),
        (Some("rejected"), Some("risk_appetite"))
    );
    let (_, _, msg) = check(&app, &other, "cards").await;
    assert_has(&msg, "access to cards was rejected (risk_appetite)");
    let (st, _) = app
        .post(
            "/v1/test_helpers/product_access/pa_unknown",
            json!({"status": "granted"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
});

both_backends!(
    requests_need_an_active_customer_and_valid_input,
    |app| async move {
        let cus = id(&app.create_customer(complete_individual("na-1")).await);
        let (st, e) = request(&app, &cus, "cards").await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
        assert_eq!(e["error"]["code"], "requirements_not_met");
        assert_eq!(e["error"]["reasons"][0]["code"], "customer_not_active");
        assert_message(&e, "complete identity verification");
        let (st, e) = request(&app, &cus, "loans").await;
        assert_invalid_field(st, &e, "product");
        let (st, e) = app
            .post(&format!("/v1/customers/{cus}/product_access"), json!({}))
            .await;
        assert_answer(st, &e, "/error/param", (StatusCode::BAD_REQUEST, "product"));
        let (st, e) = app
            .post(
                &format!("/v1/customers/{cus}/product_access"),
                json!({"product": "cards", "x": 1}),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        let (st, _) = request(&app, "cus_doesnotexist", "cards").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app
            .get("/v1/customers/cus_doesnotexist/product_access")
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (_, list) = app
            .get(&format!("/v1/customers/{cus}/product_access"))
            .await;
        assert_eq!(list["data"], json!([]), "nothing was created");
        assert_eq!(
            usage(&app, &app.sandbox_key).await["product_access_requests"],
            0
        );

        // The capability check validates its input and hides other environments.
        for (body, param) in [
            (
                json!({"customer_id": cus, "capability": "payments"}),
                "capability",
            ),
            (json!({"capability": "transact"}), "customer_id"),
        ] {
            let (st, e) = app.post("/v1/capability_checks", body).await;
            assert_eq!(
                (
                    st,
                    e["error"]["code"].as_str(),
                    e["error"]["param"].as_str()
                ),
                (StatusCode::BAD_REQUEST, Some("invalid_field"), Some(param))
            );
        }
        let (st, _) = app
            .post(
                "/v1/capability_checks",
                json!({"customer_id": "cus_nope", "capability": "transact"}),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app
            .call(
                &app.live_key.clone(),
                Method::POST,
                "/v1/capability_checks",
                Some(json!({"customer_id": cus, "capability": "transact"})),
            )
            .await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "a sandbox customer is invisible to the live key"
        );
        let (st, _) = app
            .call(
                &app.live_key.clone(),
                Method::GET,
                &format!("/v1/customers/{cus}/capabilities"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
);

both_backends!(
    access_is_suspended_on_expiry_and_restored_after_reverification,
    |app| async move {
        let cus = active_full(&app, "exp-1").await;
        let (_, pa) = request(&app, &cus, "cards").await;
        assert_eq!(pa["status"], "granted");
        let (st, clock) = app
            .post("/v1/test_helpers/clock/advance", json!({"days": 366}))
            .await;
        assert_eq!(st, StatusCode::OK, "{clock}");
        assert_eq!(status_of(&app, &cus).await, "expired");

        let (_, got) = app
            .get(&format!("/v1/customers/{cus}/product_access/{}", id(&pa)))
            .await;
        assert_eq!(
            (got["status"].as_str(), got["suspended"].as_bool()),
            (Some("granted"), Some(true)),
            "{got}"
        );
        assert_eq!(got["suspension_reason"], "customer_expired");
        assert!(
            event_types(&app, &cus)
                .await
                .contains(&"product_access.suspended".to_string())
        );
        for cap in ["transact", "cards"] {
            let (allowed, code, msg) = check(&app, &cus, cap).await;
            assert!(!allowed);
            assert_eq!(code, "missing_capability");
            assert!(
                msg.contains("verification expired on") && msg.contains("start a new verification"),
                "{msg}"
            );
        }
        let (_, caps) = app.get(&format!("/v1/customers/{cus}/capabilities")).await;
        assert_eq!(caps["cards"]["reason"], "verification_expired");
        let (st, e) = request(&app, &cus, "cards").await;
        assert_error(st, &e, StatusCode::FORBIDDEN, "requirements_not_met");

        verify(&app, &cus, "full").await;
        let (_, got) = app
            .get(&format!("/v1/customers/{cus}/product_access/{}", id(&pa)))
            .await;
        assert_eq!(
            (got["status"].as_str(), got["suspended"].as_bool()),
            (Some("granted"), Some(false)),
            "{got}"
        );
        assert!(
            event_types(&app, &cus)
                .await
                .contains(&"product_access.restored".to_string())
        );
        assert!(check(&app, &cus, "cards").await.0);

        // Deactivation suspends too; reactivation restores.
        let (st, _) = app
            .deactivate(&cus, json!({"reason": "fraud review"}))
            .await;
        assert_eq!(st, StatusCode::OK);
        let (_, _, msg) = check(&app, &cus, "cards").await;
        assert_has(&msg, "customer is deactivated");
        let (st, _) = app
            .post(&format!("/v1/customers/{cus}/reactivate"), json!({}))
            .await;
        assert_eq!(st, StatusCode::OK);
        assert!(check(&app, &cus, "cards").await.0);
    }
);

/// An active full customer granted cards whose phone then changes (no longer
/// verified): it is re-verified. Returns its id, the access as granted and
/// the access as it is now.
async fn cards_then_phone_changed(app: &TestApp, ext: &str) -> (String, Value, Value) {
    let cus = active_full(app, ext).await;
    let (_, pa) = request(app, &cus, "cards").await;
    assert_eq!(pa["status"], "granted");
    let (st, c) = app
        .update_customer(&cus, json!({"individual": {"phone": "+5511988887777"}}))
        .await;
    assert_status(st, &c, StatusCode::OK, "update_requested");
    let (_, now) = app
        .get(&format!("/v1/customers/{cus}/product_access/{}", id(&pa)))
        .await;
    (cus, pa, now)
}

both_backends!(
    access_is_not_restored_when_the_policy_is_no_longer_met,
    |app| async move {
        let (st, _) = app
            .patch("/v1/settings", json!({"update_access": "suspend"}))
            .await;
        assert_eq!(st, StatusCode::OK);
        let (cus, pa, got) = cards_then_phone_changed(&app, "lost-1").await;
        assert_eq!(got["suspended"], true, "{got}");
        let (_, _, msg) = check(&app, &cus, "cards").await;
        assert_has(&msg, "re-verification");

        force(&app, &cus, json!({"status": "approved"})).await;
        let (_, got) = app
            .get(&format!("/v1/customers/{cus}/product_access/{}", id(&pa)))
            .await;
        assert_eq!(got["status"], "rejected", "{got}");
        assert_eq!(got["rejection_reason"], "requirements_not_met");
        assert_eq!(got["requirements"]["missing"], json!(["phone_verified"]));
        let (allowed, _, msg) = check(&app, &cus, "cards").await;
        assert!(!allowed && msg.contains("phone_verified"), "{msg}");
        assert!(check(&app, &cus, "transact").await.0);
    }
);

both_backends!(
    the_capability_check_names_the_step_for_every_status,
    |app| async move {
        // Every status but active blocks when updates suspend access (the
        // default `keep` is tested in lifecycle).
        let (st, _) = app
            .patch("/v1/settings", json!({"update_access": "suspend"}))
            .await;
        assert_eq!(st, StatusCode::OK);
        let mut cases: Vec<(String, &str, &str)> = vec![];
        let n = id(&app.create_customer(complete_individual("st-ns")).await);
        cases.push((n, "not_started", "complete identity verification"));

        let pending = |ext: &'static str| {
            let app = &app;
            async move {
                let c = id(&app.create_customer(complete_individual(ext)).await);
                let (st, v) = app.start_verification(&c).await;
                assert_eq!(st, StatusCode::OK, "{v}");
                c
            }
        };
        let p = pending("st-p").await;
        assert_eq!(status_of(&app, &p).await, "pending");
        cases.push((p, "pending", "complete identity verification"));
        let ni = pending("st-ni").await;
        force(
            &app,
            &ni,
            json!({"status": "needs_information", "missing": ["identity_document"]}),
        )
        .await;
        cases.push((
            ni,
            "needs_information",
            "complete identity verification: provide the missing items (identity_document)",
        ));
        let oh = pending("st-oh").await;
        force(&app, &oh, json!({"status": "on_hold"})).await;
        cases.push((oh, "on_hold", "on hold"));
        let a = active_basic(&app, "st-a").await;
        cases.push((a, "active", ""));
        let ur = active_basic(&app, "st-ur").await;
        let (st, v) = app
            .update_customer(&ur, json!({"individual": {"first_name": "Augusta"}}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        cases.push((ur, "update_requested", "complete the re-verification"));
        let r = pending("st-r").await;
        force(
            &app,
            &r,
            json!({"status": "rejected", "rejection_reason": "document_unreadable"}),
        )
        .await;
        cases.push((
            r,
            "rejected",
            "verification was rejected (document_unreadable): start a new verification",
        ));
        let rf = pending("st-rf").await;
        force(
            &app,
            &rf,
            json!({"status": "rejected", "rejection_reason": "sanctions_match"}),
        )
        .await;
        cases.push((rf, "rejected", "cannot be resubmitted"));
        let e = active_basic(&app, "st-e").await;
        force(&app, &e, json!({"status": "expired"})).await;
        cases.push((e, "expired", "start a new verification"));
        let d = active_basic(&app, "st-d").await;
        let (st, _) = app.deactivate(&d, json!({})).await;
        assert_eq!(st, StatusCode::OK);
        cases.push((d, "deactivated", "customer is deactivated"));
        let (st, _) = app
            .patch("/v1/settings", json!({"activation": "manual"}))
            .await;
        assert_eq!(st, StatusCode::OK);
        let v = pending("st-v").await;
        force(&app, &v, json!({"status": "approved"})).await;
        cases.push((v, "verified", "activate the customer"));

        let mut seen = std::collections::BTreeSet::new();
        for (cus, status, words) in &cases {
            assert_eq!(status_of(&app, cus).await, *status);
            seen.insert(status.to_string());
            let (allowed, code, msg) = check(&app, cus, "transact").await;
            assert_eq!(allowed, *status == "active", "{status}: {msg}");
            let (_, caps) = app.get(&format!("/v1/customers/{cus}/capabilities")).await;
            assert_eq!(caps["customer_status"], *status);
            assert_eq!(
                caps["transact"]["status"],
                if *status == "active" {
                    "enabled"
                } else {
                    "disabled"
                }
            );
            if *status != "active" {
                assert_eq!(code, "missing_capability");
                assert!(msg.contains(words), "{status}: {msg}");
                assert_eq!(
                    caps["transact"]["message"], caps["cards"]["message"],
                    "{status}: the customer's step comes first"
                );
            }
            let (allowed, _, msg) = check(&app, cus, "cards").await;
            assert!(!allowed, "no product was requested");
            if *status == "active" {
                assert_has(&msg, "request access to cards");
            }
        }
        assert_eq!(seen.len(), 10, "every status was reached: {seen:?}");
    }
);

both_backends!(
    usage_is_exact_under_concurrency_and_idempotent_retries,
    |app| async move {
        let key = app.sandbox_key.clone();
        let creates = (0..20).map(|i| {
            let (app, key) = (&app, &key);
            async move {
                post_key(
                    app,
                    key,
                    "/v1/customers",
                    json!({"type": "individual", "external_id": format!("u-{i}")}),
                    None,
                )
                .await
            }
        });
        for (st, v) in futures::future::join_all(creates).await {
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
        assert_eq!(usage(&app, &key).await["customers_created"], 20);

        // The same Idempotency-Key, sequential and concurrent: one customer, counted once.
        let body = json!({"type": "individual", "external_id": "idem-1"});
        let (st, first) = post_key(&app, &key, "/v1/customers", body.clone(), Some("k-1")).await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, replay) = post_key(&app, &key, "/v1/customers", body.clone(), Some("k-1")).await;
        assert_eq!(
            (st, replay["id"].clone()),
            (StatusCode::CREATED, first["id"].clone())
        );
        let racing = (0..8).map(|_| {
            post_key(
                &app,
                &key,
                "/v1/customers",
                json!({"type": "individual", "external_id": "idem-2"}),
                Some("k-2"),
            )
        });
        let results = futures::future::join_all(racing).await;
        let ids: std::collections::BTreeSet<String> = results
            .iter()
            .filter(|(st, _)| *st == StatusCode::CREATED)
            .map(|(_, v)| id(v))
            .collect();
        assert_eq!(ids.len(), 1, "{results:?}");
        assert!(
            results
                .iter()
                .all(|(st, _)| *st == StatusCode::CREATED || *st == StatusCode::CONFLICT),
            "{results:?}"
        );
        let u = usage(&app, &key).await;
        assert_eq!(u["customers_created"], 22, "{u}");

        // Product-access requests: a replay and concurrent requests for the same product count once.
        let cus = active_full(&app, "usage-1").await;
        let path = format!("/v1/customers/{cus}/product_access");
        let (st, pa) = post_key(&app, &key, &path, json!({"product": "cards"}), Some("pa-1")).await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, again) =
            post_key(&app, &key, &path, json!({"product": "cards"}), Some("pa-1")).await;
        assert_eq!(
            (st, again["id"].clone()),
            (StatusCode::CREATED, pa["id"].clone()),
            "the replay is the first response"
        );
        let other = active_full(&app, "usage-2").await;
        let path2 = format!("/v1/customers/{other}/product_access");
        let racing =
            (0..10).map(|_| post_key(&app, &key, &path2, json!({"product": "cards"}), None));
        let results = futures::future::join_all(racing).await;
        let created = results
            .iter()
            .filter(|(st, _)| *st == StatusCode::CREATED)
            .count();
        let ids: std::collections::BTreeSet<String> = results.iter().map(|(_, v)| id(v)).collect();
        assert_eq!((created, ids.len()), (1, 1), "{results:?}");
        let u = usage(&app, &key).await;
        assert_eq!(u["product_access_requests"], 2, "{u}");
        assert_eq!(u["customers_created"], 24, "{u}");
        assert_eq!(u["verifications_started"], 2, "{u}");
        assert_eq!(u["environment"], "sandbox");

        // Live is counted apart.
        let live = app.live_key.clone();
        for i in 0..3 {
            let (st, v) = post_key(
                &app,
                &live,
                "/v1/customers",
                json!({"type": "individual", "external_id": format!("live-{i}")}),
                Some(&format!("live-{i}")),
            )
            .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
        let (st, _) = post_key(
            &app,
            &live,
            "/v1/customers",
            json!({"type": "individual", "external_id": "live-0"}),
            Some("live-0"),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "replayed");
        let lu = usage(&app, &live).await;
        assert_eq!(
            (
                lu["environment"].as_str(),
                lu["customers_created"].as_i64(),
                lu["product_access_requests"].as_i64()
            ),
            (Some("live"), Some(3), Some(0)),
            "{lu}"
        );
        assert_eq!(
            usage(&app, &key).await["customers_created"],
            24,
            "sandbox unchanged"
        );
    }
);

both_backends!(
    settings_patch_with_an_unknown_product_is_refused,
    |app| async move {
        let (_, before) = app.get("/v1/settings").await;
        for (body, param) in [
            (
                json!({"products": {"crypto": {"level": "full"}}}),
                "products.crypto",
            ),
            (
                json!({"products": {"cards": {"level": "full", "colour": "red"}}}),
                "products.cards.colour",
            ),
        ] {
            let (st, e) = app.patch("/v1/settings", body.clone()).await;
            assert_eq!(
                (st, e["error"]["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some("invalid_field")),
                "{body}: {e}"
            );
            assert_eq!(e["error"]["param"], param, "{body}: {e}");
        }
        let (_, after) = app.get("/v1/settings").await;
        assert_eq!(before, after, "nothing changed");
    }
);

both_backends!(
    access_kept_through_a_reverification_is_checked_when_it_ends,
    |app| async move {
        // Default `update_access: keep`.
        let (cus, pa, got) = cards_then_phone_changed(&app, "kept-1").await;
        assert_eq!(got["suspended"], false, "kept while re-verifying: {got}");
        assert!(check(&app, &cus, "cards").await.0, "cards stays usable");
        // Approved, but the new phone is not verified: the kept access ends.
        force(&app, &cus, json!({"status": "approved"})).await;
        let (_, got) = app
            .get(&format!("/v1/customers/{cus}/product_access/{}", id(&pa)))
            .await;
        assert_eq!(got["status"], "rejected", "{got}");
        assert_eq!(
            got["requirements"]["missing"],
            json!(["phone_verified"]),
            "{got}"
        );
        assert!(!check(&app, &cus, "cards").await.0);
    }
);
