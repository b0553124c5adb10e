//! The verification journeys through HTTP on both backends, and a randomized
//! command-sequence test that checks every status change against the table.

use crate::common::*;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn events_of(app: &TestApp, id: &str) -> Vec<String> {
    let (_, ev) = app
        .get(&format!("/v1/events?customer_id={id}&limit=100"))
        .await;
    let mut types: Vec<String> = ev["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    types.reverse();
    types
}

async fn upload(app: &TestApp, id: &str, doc_type: &str) -> (StatusCode, Value) {
    let content = base64::engine::general_purpose::STANDARD.encode(tiny_jpeg("doc"));
    app.add_document(id, json!({"type": doc_type, "side": "front", "content_type": "image/jpeg", "content_base64": content})).await
}

both_backends!(
    minimal_create_gets_a_link_then_forced_approval,
    |app| async move {
        let c = app
            .create_customer(json!({"type": "individual", "verification": {"start": true}}))
            .await;
        assert_eq!(c["status"], "pending");
        let url = c["verification"]["url"].as_str().unwrap();
        assert!(url.contains("/hosted/v/"), "{c}");
        assert!(c["verification"]["url_expires_at"].is_string());
        assert!(
            !c["verification"]["requirements"]["missing"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // The link opens the hosted flow (a session, then a redirect), and a
        // new one replaces it.
        let no_redirect = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        assert_eq!(
            no_redirect.get(url).send().await.unwrap().status(),
            StatusCode::SEE_OTHER
        );
        let id = id_of(&c);
        let (_, again) = app.start_verification(&id).await;
        let url2 = again["verification"]["url"].as_str().unwrap();
        assert_ne!(url, url2);
        assert_eq!(
            app.client.get(url).send().await.unwrap().status(),
            StatusCode::GONE,
            "old link is dead"
        );
        let (_, got) = app.customer(&id).await;
        assert_eq!(got["verification"]["url"], url2, "GET shows the live link");

        let (st, done) = app
            .force_verification(&id, json!({"status": "approved"}))
            .await;
        assert_status(st, &done, StatusCode::OK, "active");
        assert!(done["verification"]["approved_at"].is_string());
        assert!(done["verification"]["expires_at"].is_string());
        assert!(done["verification"]["url"].is_null());
        let ev = events_of(&app, &id).await;
        assert!(
            ev.contains(&"customer.verification.approved".to_string()),
            "{ev:?}"
        );
        let (_, evs) = app
            .get(&format!(
                "/v1/events?customer_id={id}&type=customer.status_changed"
            ))
            .await;
        let last = &evs["data"][0]["data"];
        assert_eq!(
            (last["previous_status"].as_str(), last["status"].as_str()),
            (Some("pending"), Some("active"))
        );
        assert_eq!(last["customer_id"], json!(id));
    }
);

both_backends!(
    reliance_with_full_data_is_active_at_once,
    |app| async move {
        let mut body = complete_individual("rel-1");
        body["attestation"] = json!({"provider": "sumsub", "reference": "ref-123456", "verified_at": "2026-01-01T00:00:00Z", "liveness": true});
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (st, d) = upload(&app, &id, "passport").await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        let (st, v) = app
            .verify(&id, json!({"mode": "reliance", "level": "full"}))
            .await;
        assert_status(st, &v, StatusCode::OK, "active");
        assert_eq!(v["attestation"]["reference_last4"], "3456");
        assert!(!v.to_string().contains("ref-123456"));
    }
);

both_backends!(
    reliance_with_missing_items_is_refused_with_one_reason_each,
    |app| async move {
        let mut body = complete_individual("rel-2");
        body["addresses"] = json!([]);
        body["individual"]["phone_verified"] = json!(false);
        body["attestation"] = json!({"provider": "sumsub", "reference": "r-1", "verified_at": "2026-01-01T00:00:00Z", "liveness": true});
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (st, e) = app.verify(&id, json!({"mode": "reliance"})).await;
        assert_error(st, &e, StatusCode::FORBIDDEN, "requirements_not_met");
        let mut codes = reason_codes(&e);
        codes.sort();
        assert_eq!(
            codes,
            vec!["phone_verified", "primary_address"],
            "basic reliance asks for no identity document"
        );
        let (_, after) = app.customer(&id).await;
        assert_eq!(after["status"], "not_started", "status unchanged");
        assert_eq!(after["updated_at"], c["updated_at"]);
        // Create-and-start in reliance with missing data creates nothing.
        let mut body = complete_individual("rel-3");
        body["verification"] = json!({"mode": "reliance", "start": true});
        let (st, _) = app.post("/v1/customers", body).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, list) = app.get("/v1/customers?external_id=rel-3").await;
        assert_eq!(list["data"], json!([]));
        // Raw documents in reliance mode need liveness: true.
        let mut body = complete_individual("rel-4");
        body["attestation"] = json!({"provider": "sumsub", "reference": "r-2", "verified_at": "2026-01-01T00:00:00Z", "liveness": false});
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        upload(&app, &id, "passport").await;
        let (_, e) = app.verify(&id, json!({"mode": "reliance"})).await;
        let codes = reason_codes(&e);
        assert_eq!(codes, vec!["liveness_attestation"], "{e}");
    }
);

both_backends!(
    reliance_basic_rests_on_the_identifier_and_full_on_the_document,
    |app| async move {
        let attestation = json!({"provider": "sumsub", "reference": "ref-778899", "verified_at": "2026-01-01T00:00:00Z"});
        // basic (seed 003's PARTIAL): identifier, address, verified contacts,
        // attestation; no document, no liveness.
        let mut body = complete_individual("rel-basic");
        body["attestation"] = attestation.clone();
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (st, v) = app
            .verify(&id, json!({"mode": "reliance", "level": "PARTIAL"}))
            .await;
        assert_status(st, &v, StatusCode::OK, "active");
        // full without a document or liveness: both are named.
        let mut body = complete_individual("rel-full");
        body["attestation"] = attestation.clone();
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (st, e) = app
            .verify(&id, json!({"mode": "reliance", "level": "full"}))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
        let codes = reason_codes(&e);
        assert_eq!(
            codes,
            vec!["identity_document", "liveness_attestation"],
            "{e}"
        );
        // full with the document named in the attestation (no upload) passes.
        let mut body = complete_individual("rel-full-attested");
        let mut attested = attestation.clone();
        attested["liveness"] = json!(true);
        attested["document_type"] = json!("passport");
        body["attestation"] = attested;
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (st, v) = app
            .verify(&id, json!({"mode": "reliance", "level": "full"}))
            .await;
        assert_eq!(
            (
                st,
                v["status"].as_str(),
                v["attestation"]["document_type"].as_str()
            ),
            (StatusCode::OK, Some("active"), Some("passport")),
            "{v}"
        );
        // An attested document of an unknown type is refused, naming the field.
        let mut body = complete_individual("rel-bad-doc");
        let mut bad = attestation.clone();
        bad["document_type"] = json!("library_card");
        body["attestation"] = bad;
        let (st, e) = app.post("/v1/customers", body).await;
        assert_answer(
            st,
            &e,
            "/error/param",
            (StatusCode::BAD_REQUEST, "attestation.document_type"),
        );
    }
);

both_backends!(needs_information_then_patch_resubmits, |app| async move {
    let c = app
        .create_customer(json!({"type": "individual", "individual": {"first_name": "Ada"}}))
        .await;
    let id = id_of(&c);
    let (_, p) = app.start_verification(&id).await;
    assert_eq!(p["status"], "pending");
    let (st, n) = app
        .force_verification(&id, json!({"status": "needs_information"}))
        .await;
    assert_status(st, &n, StatusCode::OK, "needs_information");
    let missing = n["verification"]["requirements"]["missing"]
        .as_array()
        .unwrap()
        .clone();
    assert!(missing.contains(&json!("date_of_birth")), "{n}");
    assert!(
        n["verification"]["url"].is_string(),
        "a hosted link comes with needs_information"
    );
    // A partial update keeps it blocked, listing what is still missing.
    let (_, still) = app
        .update_customer(&id, json!({"individual": {"last_name": "Lovelace"}}))
        .await;
    assert_eq!(still["status"], "needs_information", "{still}");
    let mut rest = complete_individual("ni-1");
    rest.as_object_mut().unwrap().remove("type");
    let (st, r) = app.update_customer(&id, rest).await;
    assert_status(st, &r, StatusCode::OK, "pending");
    let (_, a) = app
        .force_verification(&id, json!({"status": "approved"}))
        .await;
    assert_eq!(a["status"], "active");
    let ev = events_of(&app, &id).await;
    assert!(ev.contains(&"customer.verification.needs_information".to_string()));
});

both_backends!(resubmittable_and_final_rejections, |app| async move {
    let c = app.create_customer(complete_individual("rj-1")).await;
    let id = id_of(&c);
    app.start_verification(&id).await;
    let (_, r) = app
        .force_verification(
            &id,
            json!({"status": "rejected", "rejection_reason": "document_unreadable"}),
        )
        .await;
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["verification"]["rejection_reason"], "document_unreadable");
    assert_eq!(r["verification"]["resubmittable"], true);
    let (st, again) = app.start_verification(&id).await;
    assert_status(st, &again, StatusCode::OK, "pending");

    let c = app.create_customer(complete_individual("rj-2")).await;
    let id = id_of(&c);
    app.start_verification(&id).await;
    let (_, r) = app
        .force_verification(
            &id,
            json!({"status": "rejected", "rejection_reason": "sanctions_match"}),
        )
        .await;
    assert_eq!(r["verification"]["resubmittable"], false);
    let (st, e) = app.start_verification(&id).await;
    assert_error(st, &e, StatusCode::CONFLICT, "invalid_transition");
    let (_, still) = app.customer(&id).await;
    assert_eq!(still["status"], "rejected");
    let ev = events_of(&app, &id).await;
    assert!(ev.contains(&"customer.verification.rejected".to_string()));
    let (_, reasons) = app.get("/v1/rejection_reasons").await;
    let sm = reasons["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "sanctions_match")
        .unwrap()
        .clone();
    assert_eq!(sm["resubmittable"], false);
    assert!(sm["messages"]["pt-BR"].is_string());
});

both_backends!(
    approval_expires_after_validity_with_a_notice,
    |app| async move {
        let c = app.create_customer(complete_individual("ex-1")).await;
        let id = id_of(&c);
        app.start_and_approve(&id).await;
        let (st, clock) = app
            .post("/v1/test_helpers/clock/advance", json!({"days": 358}))
            .await;
        assert_eq!(st, StatusCode::OK, "{clock}");
        let ev = events_of(&app, &id).await;
        assert!(
            ev.contains(&"customer.verification.expiring".to_string()),
            "{ev:?}"
        );
        let (_, c1) = app.customer(&id).await;
        assert_eq!(c1["status"], "active");
        app.post("/v1/test_helpers/clock/advance", json!({"days": 7}))
            .await;
        let (_, c2) = app.customer(&id).await;
        assert_eq!(c2["status"], "expired", "{c2}");
        let ev = events_of(&app, &id).await;
        assert_eq!(
            ev.iter()
                .filter(|e| *e == "customer.verification.expiring")
                .count(),
            1,
            "one notice"
        );
        assert_eq!(
            ev.iter()
                .filter(|e| *e == "customer.verification.expired")
                .count(),
            1,
            "expires once"
        );
        let (st, e) = app
            .post(
                "/v1/capability_checks",
                json!({"customer_id": id, "capability": "transact"}),
            )
            .await;
        assert_error(st, &e, StatusCode::FORBIDDEN, "missing_capability");
        assert_message(&e, "expired");
        let (_, re) = app.start_verification(&id).await;
        assert_eq!(re["status"], "pending");
        let (_, ok) = app
            .force_verification(&id, json!({"status": "approved"}))
            .await;
        assert_eq!(ok["status"], "active");
    }
);

both_backends!(manual_activation_goes_through_verified, |app| async move {
    let (st, s) = app
        .patch("/v1/settings", json!({"activation": "manual"}))
        .await;
    assert_answer(st, &s, "/activation", (StatusCode::OK, "manual"));
    let c = app.create_customer(complete_individual("ma-1")).await;
    let id = id_of(&c);
    app.start_verification(&id).await;
    let (_, v) = app
        .force_verification(&id, json!({"status": "approved"}))
        .await;
    assert_eq!(v["status"], "verified");
    let (st, e) = app
        .post(&format!("/v1/customers/{id}/reactivate"), json!({}))
        .await;
    assert_error(st, &e, StatusCode::CONFLICT, "invalid_transition");
    let (_, a) = app
        .post(&format!("/v1/customers/{id}/activate"), json!({}))
        .await;
    assert_eq!(a["status"], "active");
    let (st, e) = app
        .post(&format!("/v1/customers/{id}/activate"), json!({}))
        .await;
    assert_error(st, &e, StatusCode::CONFLICT, "invalid_transition");
    let (_, d) = app.deactivate(&id, json!({"reason": "fraud review"})).await;
    assert_eq!(d["status"], "deactivated");
    let (st, e) = app
        .update_customer(&id, json!({"metadata": {"a": "b"}}))
        .await;
    assert_error(st, &e, StatusCode::CONFLICT, "customer_locked");
    let (_, r) = app
        .post(&format!("/v1/customers/{id}/reactivate"), json!({}))
        .await;
    assert_eq!(r["status"], "active");
    let (_, x) = app.get(&format!("/v1/customers/{id}/explanation")).await;
    assert!(x["summary"].as_str().unwrap().contains("active"), "{x}");
    assert!(x["history"].as_array().unwrap().len() >= 5);
});

#[tokio::test]
async fn live_keys_see_no_test_helpers() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    for path in [
        "/v1/test_helpers/clock/advance",
        "/v1/test_helpers/customers/cus_x/verification",
        "/v1/test_helpers/product_access/pa_x",
    ] {
        let (st, e) = app
            .call(&app.live_key, Method::POST, path, Some(json!({"days": 1})))
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("resource_not_found")),
            "{path}"
        );
    }
}

both_backends!(underage_is_rejected_by_the_checks, |app| async move {
    let mut body = complete_individual("u-1");
    body["individual"]["date_of_birth"] = json!("2015-05-05");
    let c = app.create_customer(body).await;
    let id = id_of(&c);
    let (_, v) = app.start_verification(&id).await;
    assert_eq!(v["status"], "rejected", "{v}");
    assert_eq!(v["verification"]["rejection_reason"], "underage");
});

/// Random HTTP command sequences: every status change recorded in the history
/// is in the transition table, consecutive rows chain, the last row is the
/// current status, and each change has its status_changed event.
#[tokio::test]
async fn random_command_sequences_respect_the_table() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..12 {
        let c = app
            .create_customer(complete_individual(&format!("prop-{round}")))
            .await;
        let id = id_of(&c);
        for _ in 0..14 {
            let (method, path, body) = match next(9) {
                0 => (
                    Method::POST,
                    format!("/v1/customers/{id}/verification"),
                    json!({}),
                ),
                1 => (
                    Method::POST,
                    format!("/v1/test_helpers/customers/{id}/verification"),
                    json!({"status": "approved"}),
                ),
                2 => (
                    Method::POST,
                    format!("/v1/test_helpers/customers/{id}/verification"),
                    {
                        let reason = ["document_unreadable", "fraud_suspected"][next(2) as usize];
                        json!({"status": "rejected", "rejection_reason": reason})
                    },
                ),
                3 => {
                    let status = ["needs_information", "on_hold", "expired"][next(3) as usize];
                    (
                        Method::POST,
                        format!("/v1/test_helpers/customers/{id}/verification"),
                        json!({"status": status}),
                    )
                }
                4 => (
                    Method::POST,
                    format!("/v1/customers/{id}/activate"),
                    json!({}),
                ),
                5 => (
                    Method::POST,
                    format!("/v1/customers/{id}/deactivate"),
                    json!({}),
                ),
                6 => (
                    Method::POST,
                    format!("/v1/customers/{id}/reactivate"),
                    json!({}),
                ),
                7 => (
                    Method::PATCH,
                    format!("/v1/customers/{id}"),
                    json!({"addresses": [{"line1": format!("R {}", next(1000)), "city": "X", "country": "BR"}]}),
                ),
                _ => (
                    Method::POST,
                    "/v1/test_helpers/clock/advance".into(),
                    json!({"days": 200}),
                ),
            };
            let (st, _) = app.call(&app.sandbox_key, method, &path, Some(body)).await;
            assert!(
                st.is_success() || st == StatusCode::CONFLICT,
                "{path}: {st}"
            );
        }
        let (_, x) = app.get(&format!("/v1/customers/{id}/explanation")).await;
        let hist = x["history"].as_array().unwrap();
        let mut status = "not_started".to_string();
        for h in hist {
            let from = h["from_status"].as_str().unwrap();
            let to = h["to_status"].as_str().unwrap();
            assert_eq!(from, status, "history rows chain: {x}");
            let f = kycd_core::status::CustomerStatus::parse(from).unwrap();
            let t = kycd_core::status::CustomerStatus::parse(to).unwrap();
            assert!(
                kycd_core::status::can_transition(f, t),
                "{from} → {to} is not in the table"
            );
            status = to.to_string();
        }
        assert_eq!(
            x["status"].as_str().unwrap(),
            status,
            "no status change without a history row"
        );
        let (_, ev) = app
            .get(&format!(
                "/v1/events?customer_id={id}&type=customer.status_changed&limit=100"
            ))
            .await;
        assert_eq!(ev["data"].as_array().unwrap().len(), hist.len());
    }
}

both_backends!(
    business_needs_a_verified_beneficial_owner,
    |app| async move {
        let owner = app.create_customer(complete_individual("owner-1")).await;
        let owner_id = id_of(&owner);
        let biz = json!({
            "type": "business", "external_id": "biz-1",
            "business": {"legal_name": "Acme Pagamentos Ltda", "registration_number": "11.222.333/0001-81",
                         "country": "BR", "beneficial_owners": [owner_id]},
            "addresses": [{"line1": "Av. Paulista, 1000", "city": "São Paulo", "country": "BR"}],
            "identifiers": [{"type": "cnpj", "value": "11.222.333/0001-81"}]
        });
        let b = app.create_customer(biz).await;
        let bid = id_of(&b);
        let (_, v) = app.start_verification(&bid).await;
        assert_eq!(v["status"], "pending");
        assert_eq!(
            v["verification"]["requirements"]["missing"],
            json!(["beneficial_owner"]),
            "{v}"
        );
        app.start_and_approve(&owner_id).await;
        let (_, v) = app.start_verification(&bid).await;
        assert_eq!(
            v["verification"]["requirements"]["missing"],
            json!([]),
            "{v}"
        );
        let (st, e) = app
            .post("/v1/customers", json!({"type": "business", "business": {"beneficial_owners": ["cus_doesnotexist"]}}))
            .await;
        assert_eq!(
            (st, e["error"]["param"].as_str()),
            (
                StatusCode::BAD_REQUEST,
                Some("business.beneficial_owners[0]")
            )
        );
    }
);

both_backends!(duplicate_national_ids_follow_the_policy, |app| async move {
    let (st, _) = app
        .patch(
            "/v1/settings",
            json!({"duplicate_identifier": "reject", "auto_approve_hosted": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let a = app.create_customer(complete_individual("dup-1")).await;
    let (_, va) = app
        .post(
            &format!("/v1/customers/{}/verification", id_of(&a)),
            json!({}),
        )
        .await;
    assert_eq!(
        va["status"], "active",
        "auto_approve_hosted approves data-only verifications: {va}"
    );
    let b = app.create_customer(complete_individual("dup-2")).await;
    let (_, vb) = app
        .post(
            &format!("/v1/customers/{}/verification", id_of(&b)),
            json!({}),
        )
        .await;
    assert_eq!(vb["status"], "rejected", "{vb}");
    assert_eq!(vb["verification"]["rejection_reason"], "duplicate_customer");
    // The same CPF in the live environment is not a duplicate of a sandbox
    // customer: under the same policy there, the first live customer with it
    // is approved and only a second live one is rejected.
    let live = |method: Method, path: String, body: Value| {
        let app = &app;
        async move { app.call(&app.live_key, method, &path, Some(body)).await }
    };
    let (st, v) = live(
        Method::PATCH,
        "/v1/settings".into(),
        // Live screens against lists it does not have here: let that pass.
        json!({"duplicate_identifier": "reject", "auto_approve_hosted": true, "unscreened": "pass"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut outcomes = vec![];
    for external_id in ["dup-3", "dup-4"] {
        let (st, c) = live(
            Method::POST,
            "/v1/customers".into(),
            complete_individual(external_id),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        let (st, v) = live(
            Method::POST,
            format!("/v1/customers/{}/verification", id_of(&c)),
            json!({}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        outcomes.push(v["status"].clone());
    }
    assert_eq!(
        outcomes,
        vec![json!("active"), json!("rejected")],
        "the sandbox customers do not count as live duplicates; the second live one does"
    );
});

both_backends!(
    helper_with_an_unknown_missing_code_is_a_400,
    |app| async move {
        let c = app
            .create_customer(json!({"type": "individual", "verification": {"start": true}}))
            .await;
        let id = id_of(&c);
        let (st, e) = app.force_verification(&id, json!({"status": "needs_information", "missing": ["primary_address", "favourite_colour"]})).await;
        assert_invalid_field(st, &e, "missing[1]");
        let (_, after) = app.customer(&id).await;
        assert_eq!(after["status"], "pending", "nothing changed");
    }
);

both_backends!(
    every_event_names_the_external_id_and_rejection_says_why,
    |app| async move {
        let c = app.create_customer(complete_individual("ext-events")).await;
        let id = id_of(&c);
        let (st, doc) = upload(&app, &id, "passport").await;
        assert_eq!(st, StatusCode::CREATED, "{doc}");
        let (st, _) = app
            .post(
                &format!("/v1/test_helpers/documents/{}", doc["id"].as_str().unwrap()),
                json!({"status": "accepted"}),
            )
            .await;
        assert!(st.is_success(), "document review: {st}");
        let (st, _) = app.start_verification(&id).await;
        assert!(st.is_success());
        let (st, v) = app
            .force_verification(
                &id,
                json!({"status": "rejected", "rejection_reason": "document_expired"}),
            )
            .await;
        assert_status(st, &v, StatusCode::OK, "rejected");
        let (_, rejected) = app
            .get(&format!(
                "/v1/events?customer_id={id}&type=customer.verification.rejected"
            ))
            .await;
        let data = &rejected["data"][0]["data"];
        assert_eq!(data["rejection_reason"], "document_expired", "{data}");
        assert_eq!(data["resubmittable"], true, "{data}");
        assert!(
            data["rejected_at"]
                .as_str()
                .is_some_and(|t| t.contains('T')),
            "{data}"
        );
        assert!(
            data["message"]["en"]
                .as_str()
                .is_some_and(|m| m.contains("expired")),
            "{data}"
        );
        let (st, _) = app.delete(&format!("/v1/customers/{id}")).await;
        assert!(st.is_success());
        let (_, all) = app
            .get(&format!("/v1/events?customer_id={id}&limit=100"))
            .await;
        let all = all["data"].as_array().unwrap();
        let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
        for want in [
            "customer.created",
            "document.uploaded",
            "document.reviewed",
            "customer.verification.rejected",
            "customer.deleted",
        ] {
            assert!(types.contains(&want), "{want} in {types:?}");
        }
        for e in all {
            assert_eq!(e["data"]["external_id"], "ext-events", "{e}");
        }
    }
);

both_backends!(
    needs_information_and_update_requested_always_carry_a_link,
    |app| async move {
        // A reviewer's request for information with nothing in `missing`.
        let c = app.create_customer(complete_individual("rfi-empty")).await;
        let id = id_of(&c);
        let (_, p) = app.start_verification(&id).await;
        assert_eq!(p["status"], "pending", "{p}");
        let (st, n) = app
            .force_verification(&id, json!({"status": "needs_information"}))
            .await;
        assert_status(st, &n, StatusCode::OK, "needs_information");
        assert!(n["verification"]["url"].is_string(), "{n}");
        assert!(n["verification"]["url_expires_at"].is_string(), "{n}");
        // Any update of the customer's data then re-submits.
        let (_, r) = app
            .update_customer(&id, json!({"individual": {"last_name": "Byron"}}))
            .await;
        assert_eq!(r["status"], "pending", "{r}");

        // Polling the verification alone says whose it is and where it stands.
        let (st, poll) = app.get(&format!("/v1/customers/{id}/verification")).await;
        assert_eq!(st, StatusCode::OK, "{poll}");
        assert_eq!(poll["customer_id"], json!(id), "{poll}");
        assert_eq!(poll["status"], "pending", "{poll}");
        assert_eq!(poll["mode"], "hosted", "{poll}");

        // An active hosted customer who changes verified data.
        let (_, u) = app.update_requested("upd-link").await;
        assert!(u["verification"]["url"].is_string(), "{u}");
        assert!(u["verification"]["url_expires_at"].is_string(), "{u}");
    }
);

both_backends!(
    an_rfi_resubmits_when_the_requested_items_arrive,
    |app| async move {
        // Hosted, with the phone still to be collected by the hosted flow.
        let mut body = complete_individual("rfi-addr");
        body["individual"].as_object_mut().unwrap().remove("phone");
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (_, p) = app.start_verification(&id).await;
        assert_eq!(p["status"], "pending", "{p}");
        let (st, n) = app
            .force_verification(
                &id,
                json!({"status": "needs_information", "missing": ["proof_of_address"]}),
            )
            .await;
        assert_status(st, &n, StatusCode::OK, "needs_information");
        assert_eq!(
            n["verification"]["requirements"]["missing"],
            json!(["proof_of_address"]),
            "{n}"
        );
        // Other data arrives: still blocked on what was asked.
        let (_, still) = app
            .update_customer(&id, json!({"individual": {"last_name": "Byron"}}))
            .await;
        assert_eq!(still["status"], "needs_information", "{still}");
        // The requested item arrives: back to pending, the phone collected by
        // the hosted flow as at the first start.
        let (st, d) = upload(&app, &id, "proof_of_address").await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        let (_, after) = app.customer(&id).await;
        assert_eq!(after["status"], "pending", "{after}");
        assert_eq!(
            after["verification"]["requirements"]["missing"],
            json!(["phone"]),
            "{after}"
        );
        assert!(after["verification"]["url"].is_string(), "{after}");
    }
);

both_backends!(
    billing_counts_verifications_not_link_renewals,
    |app| async move {
        let before = app.get("/v1/usage").await.1["verifications_started"]
            .as_i64()
            .unwrap();
        let c = app.create_customer(json!({"type": "individual"})).await;
        let id = id_of(&c);
        // One start, then two renewals of the link (concurrently).
        let (st, _) = app.start_verification(&id).await;
        assert_eq!(st, StatusCode::OK);
        let path = format!("/v1/customers/{id}/verification");
        let (a, b) = tokio::join!(app.post(&path, json!({})), app.post(&path, json!({})));
        assert!(a.0.is_success() || a.0 == StatusCode::CONFLICT, "{:?}", a);
        assert!(b.0.is_success() || b.0 == StatusCode::CONFLICT, "{:?}", b);
        let (_, renewed) = app.post(&path, json!({})).await;
        assert_eq!(renewed["status"], "pending");
        let after = app.get("/v1/usage").await.1["verifications_started"]
            .as_i64()
            .unwrap();
        assert_eq!(
            after - before,
            1,
            "three renewals of one verification bill one"
        );
        // A new verification after a rejection is a second one.
        app.force_verification(
            &id,
            json!({"status": "rejected", "rejection_reason": "data_mismatch"}),
        )
        .await;
        app.post(&path, json!({})).await;
        let last = app.get("/v1/usage").await.1["verifications_started"]
            .as_i64()
            .unwrap();
        assert_eq!(last - before, 2);
    }
);

both_backends!(
    the_sandbox_clock_expires_hosted_links_everywhere,
    |app| async move {
        let c = app
            .create_customer(json!({"type": "individual", "verification": {"start": true}}))
            .await;
        let url = c["verification"]["url"]
            .as_str()
            .expect("a link")
            .to_string();
        // Valid after 29 sandbox minutes (the API still shows it).
        let (st, _) = app
            .post(
                "/v1/test_helpers/clock/advance",
                json!({"seconds": 29 * 60}),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (_, still) = app
            .get(&format!("/v1/customers/{}", c["id"].as_str().unwrap()))
            .await;
        assert_eq!(
            still["verification"]["url"],
            url.as_str(),
            "valid after 29 minutes"
        );
        let (st, _) = app
            .post("/v1/test_helpers/clock/advance", json!({"seconds": 2 * 60}))
            .await;
        assert_eq!(st, StatusCode::OK);
        let page = app.client.get(&url).send().await.unwrap();
        assert_eq!(
            page.status(),
            StatusCode::GONE,
            "31 sandbox minutes later the 30-minute link is expired on the page too"
        );
        let (_, got) = app
            .get(&format!("/v1/customers/{}", c["id"].as_str().unwrap()))
            .await;
        assert!(
            got["verification"]["url"].is_null(),
            "and in the API: {got}"
        );
    }
);

both_backends!(
    update_requested_keeps_or_suspends_access_and_can_restart,
    |app| async move {
        let transact = |caps: &Value| {
            caps["transact"]["status"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        // Default `keep`: the previous approval's capabilities stay on.
        let (id, _) = app.update_requested("upd-keep").await;
        let (_, caps) = app.get(&format!("/v1/customers/{id}/capabilities")).await;
        assert_eq!(transact(&caps), "enabled", "{caps}");
        // It can restart (a fresh link), which moves nothing.
        let (st, r) = app.start_verification(&id).await;
        assert_status(st, &r, StatusCode::OK, "update_requested");
        assert!(r["verification"]["url"].is_string(), "{r}");

        // `suspend`: capabilities are off until the re-verification ends.
        let (st, s) = app
            .patch("/v1/settings", json!({"update_access": "suspend"}))
            .await;
        assert_answer(st, &s, "/update_access", (StatusCode::OK, "suspend"));
        let c = app
            .create_customer(complete_individual("upd-suspend"))
            .await;
        let id = id_of(&c);
        app.start_and_approve(&id).await;
        app.update_customer(&id, json!({"individual": {"phone": "+5511977776666"}}))
            .await;
        let (_, caps) = app.get(&format!("/v1/customers/{id}/capabilities")).await;
        assert_eq!(transact(&caps), "disabled", "{caps}");
        assert_eq!(
            caps["transact"]["reason"], "verification_update_pending",
            "{caps}"
        );
        // The re-verification approved: on again.
        let (_, a) = app
            .force_verification(&id, json!({"status": "approved"}))
            .await;
        assert_eq!(a["status"], "active", "{a}");
        let (_, caps) = app.get(&format!("/v1/customers/{id}/capabilities")).await;
        assert_eq!(transact(&caps), "enabled", "{caps}");
    }
);

/// Every `METHOD /v1/…` an explanation's next steps name, in order.
fn recommended_calls(explanation: &Value) -> Vec<(String, String)> {
    let mut calls = vec![];
    for step in explanation["next_steps"].as_array().unwrap() {
        let words: Vec<&str> = step.as_str().unwrap().split_whitespace().collect();
        for pair in words.windows(2) {
            if matches!(pair[0], "POST" | "PATCH") && pair[1].starts_with("/v1/") {
                let path = pair[1].trim_end_matches(['.', ',', ')', ';']);
                calls.push((pair[0].to_string(), path.to_string()));
            }
        }
    }
    calls
}

both_backends!(
    the_explanation_never_recommends_a_refused_call,
    |app| async move {
        let mut customers: Vec<(String, &str)> = vec![];
        let n = id_of(&app.create_customer(complete_individual("ex-ns")).await);
        customers.push((n, "not_started"));
        let p = id_of(&app.create_customer(json!({"type": "individual"})).await);
        app.start_verification(&p).await;
        customers.push((p, "pending"));
        let ni = id_of(&app.create_customer(complete_individual("ex-ni")).await);
        app.start_verification(&ni).await;
        app.force_verification(&ni, json!({"status": "needs_information"}))
            .await;
        customers.push((ni, "needs_information"));
        let r = id_of(&app.create_customer(complete_individual("ex-r")).await);
        app.start_verification(&r).await;
        app.force_verification(
            &r,
            json!({"status": "rejected", "rejection_reason": "data_mismatch"}),
        )
        .await;
        customers.push((r, "rejected"));
        let e = id_of(&app.create_customer(complete_individual("ex-e")).await);
        app.start_and_approve(&e).await;
        app.force_verification(&e, json!({"status": "expired"}))
            .await;
        customers.push((e, "expired"));
        let d = id_of(&app.create_customer(complete_individual("ex-d")).await);
        app.start_and_approve(&d).await;
        app.deactivate(&d, json!({})).await;
        customers.push((d, "deactivated"));
        let (u, _) = app.update_requested("ex-u").await;
        customers.push((u, "update_requested"));
        let (st, _) = app
            .patch("/v1/settings", json!({"activation": "manual"}))
            .await;
        assert_eq!(st, StatusCode::OK);
        let v = id_of(&app.create_customer(complete_individual("ex-v")).await);
        app.start_verification(&v).await;
        app.force_verification(&v, json!({"status": "approved"}))
            .await;
        customers.push((v, "verified"));

        let mut tried = 0;
        for (id, status) in &customers {
            let (_, c) = app.customer(id).await;
            assert_eq!(c["status"], *status, "{c}");
            let (st, explanation) = app.get(&format!("/v1/customers/{id}/explanation")).await;
            assert_eq!(st, StatusCode::OK, "{explanation}");
            for (method, path) in recommended_calls(&explanation) {
                let (st, answer) = match method.as_str() {
                    "PATCH" => {
                        app.patch(&path, json!({"individual": {"last_name": "Corrected"}}))
                            .await
                    }
                    _ => app.post(&path, json!({})).await,
                };
                assert!(
                    st.is_success(),
                    "{status}: the explanation recommends {method} {path}, which answered {st}: {answer}"
                );
                tried += 1;
            }
        }
        assert!(tried >= 7, "the walk tried {tried} recommended calls");
    }
);
