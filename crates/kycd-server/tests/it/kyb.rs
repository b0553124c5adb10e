//! KYB with shares and roles (issue 12, item 7), through HTTP on both
//! backends: structured beneficial owners, the share-threshold policy, a
//! business following its owners out of `active`, and the explanation.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A business complete for basic verification but for its owners.
fn business(external_id: &str, owners: Value) -> Value {
    json!({
        "type": "business", "external_id": external_id,
        "business": {"legal_name": "Acme Pagamentos Ltda", "registration_number": external_id,
                     "country": "BR", "beneficial_owners": owners},
        "addresses": [{"line1": "Av. Paulista, 1000", "city": "São Paulo", "country": "BR"}]
    })
}

/// An individual customer, approved (`active`) when `verified`.
async fn owner(app: &TestApp, external_id: &str, verified: bool) -> String {
    let o = app.create_customer(complete_individual(external_id)).await;
    let id = id_of(&o);
    if verified {
        // Started, then approved by the sandbox helper unless the
        // organization's auto-approval already did.
        let (_, v) = app.start_verification(&id).await;
        if v["status"] != "active" {
            app.start_and_approve(&id).await;
        }
    }
    id
}

/// Businesses whose checks pass are approved at once (data-only), so the
/// owners alone decide between `active` and `pending` with items missing.
async fn auto_approve(app: &TestApp) {
    let (st, s) = app
        .patch("/v1/settings", json!({"auto_approve_hosted": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
}

/// Creates the business and starts its verification; returns the answer.
async fn started(app: &TestApp, external_id: &str, owners: Value) -> Value {
    let b = app.create_customer(business(external_id, owners)).await;
    let (st, v) = app.start_verification(&id_of(&b)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

fn missing(v: &Value) -> Vec<String> {
    v["verification"]["requirements"]["missing"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

async fn event_types(app: &TestApp, id: &str) -> Vec<(String, Value)> {
    let (_, ev) = app
        .get(&format!("/v1/events?customer_id={id}&limit=100"))
        .await;
    let mut out: Vec<(String, Value)> = ev["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_string(), e["data"].clone()))
        .collect();
    out.reverse();
    out
}

both_backends!(
    structured_owners_are_accepted_and_echoed,
    |app| async move {
        let a = owner(&app, "own-a", false).await;
        let b = owner(&app, "own-b", false).await;
        let owners = json!([
            {"customer_id": a, "ownership_percent": 60, "roles": ["owner", "director"]},
            {"customer_id": b, "ownership_percent": 12.5, "roles": ["signatory"]}
        ]);
        let c = app.create_customer(business("biz-s", owners.clone())).await;
        assert_eq!(c["business"]["beneficial_owners"], owners, "{c}");
        let (_, got) = app.get(&format!("/v1/customers/{}", id_of(&c))).await;
        assert_eq!(got["business"]["beneficial_owners"], owners, "{got}");
        // Roles default to owner; the share may be left out.
        let (st, p) = app
            .patch(
                &format!("/v1/customers/{}", id_of(&c)),
                json!({"business": {"beneficial_owners": [{"customer_id": b}]}}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{p}");
        assert_eq!(
            p["business"]["beneficial_owners"],
            json!([{"customer_id": b, "ownership_percent": null, "roles": ["owner"]}])
        );
    }
);

both_backends!(a_bare_id_is_still_an_owner, |app| async move {
    let a = owner(&app, "own-a", false).await;
    let c = app.create_customer(business("biz-b", json!([a]))).await;
    assert_eq!(
        c["business"]["beneficial_owners"],
        json!([{"customer_id": a, "ownership_percent": null, "roles": ["owner"]}]),
        "{c}"
    );
    // The stored structured form survives a PATCH of another field.
    let (st, p) = app
        .patch(
            &format!("/v1/customers/{}", id_of(&c)),
            json!({"business": {"trade_name": "Acme"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(
        p["business"]["beneficial_owners"],
        c["business"]["beneficial_owners"]
    );
});

both_backends!(
    bad_owner_lists_are_refused_and_store_nothing,
    |app| async move {
        let a = owner(&app, "own-a", false).await;
        let b = owner(&app, "own-b", false).await;
        let cases = [
            (
                json!([{"customer_id": a, "ownership_percent": 60}, {"customer_id": b, "ownership_percent": 50}]),
                "business.beneficial_owners",
            ),
            (
                json!([{"customer_id": a, "roles": ["owner", "chairman"]}]),
                "business.beneficial_owners[0].roles",
            ),
            (
                json!([{"customer_id": a, "roles": []}]),
                "business.beneficial_owners[0].roles",
            ),
            (
                json!([{"customer_id": a, "ownership_percent": 101}]),
                "business.beneficial_owners[0].ownership_percent",
            ),
            (
                json!([{"customer_id": a, "ownership_percent": -1}]),
                "business.beneficial_owners[0].ownership_percent",
            ),
            (
                json!([{"customer_id": a, "ownership_percent": 10.125}]),
                "business.beneficial_owners[0].ownership_percent",
            ),
            (
                json!([{"customer_id": a}, {"customer_id": a}]),
                "business.beneficial_owners[1]",
            ),
            (json!([a, a]), "business.beneficial_owners[1]"),
            (
                json!([{"customer_id": a, "share": 10}]),
                "business.beneficial_owners[0].share",
            ),
            (
                json!([{"ownership_percent": 10}]),
                "business.beneficial_owners[0].customer_id",
            ),
        ];
        for (owners, param) in cases {
            let (st, e) = app
                .post("/v1/customers", business("biz-x", owners.clone()))
                .await;
            assert_eq!(
                (
                    st,
                    e["error"]["code"].as_str(),
                    e["error"]["param"].as_str()
                ),
                (StatusCode::BAD_REQUEST, Some("invalid_field"), Some(param)),
                "{owners}: {e}"
            );
        }
        let (_, list) = app.get("/v1/customers?external_id=biz-x").await;
        assert_eq!(list["data"], json!([]), "nothing stored: {list}");
        // The same on PATCH: refused, the business unchanged.
        let ok = app
            .create_customer(business(
                "biz-ok",
                json!([{"customer_id": a, "ownership_percent": 60}]),
            ))
            .await;
        let (st, e) = app
            .patch(
                &format!("/v1/customers/{}", id_of(&ok)),
                json!({"business": {"beneficial_owners": [
                {"customer_id": a, "ownership_percent": 60},
                {"customer_id": b, "ownership_percent": 40.01}]}}),
            )
            .await;
        assert_answer(
            st,
            &e,
            "/error/param",
            (StatusCode::BAD_REQUEST, "business.beneficial_owners"),
        );
        let (_, got) = app.get(&format!("/v1/customers/{}", id_of(&ok))).await;
        assert_eq!(
            got["business"]["beneficial_owners"],
            ok["business"]["beneficial_owners"]
        );
        // Exactly 100 is fine.
        let (st, p) = app
            .patch(
                &format!("/v1/customers/{}", id_of(&ok)),
                json!({"business": {"beneficial_owners": [
                {"customer_id": a, "ownership_percent": 66.67},
                {"customer_id": b, "ownership_percent": 33.33}]}}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{p}");
    }
);

both_backends!(
    the_share_threshold_decides_who_must_be_verified,
    |app| async move {
        auto_approve(&app).await;
        let (_, s) = app.get("/v1/settings").await;
        assert_eq!(s["beneficial_owner_threshold_percent"], 25, "{s}");
        let v = owner(&app, "own-v", true).await;
        let u = owner(&app, "own-u", false).await;
        // An unverified 30% owner blocks.
        let b1 = started(
            &app,
            "biz-30",
            json!([{"customer_id": v, "ownership_percent": 60},
               {"customer_id": u, "ownership_percent": 30}]),
        )
        .await;
        assert_eq!(b1["status"], "pending", "{b1}");
        assert_eq!(missing(&b1), vec!["beneficial_owner"], "{b1}");
        // An unverified 10% owner does not, beside a verified 60% one.
        let b2 = started(
            &app,
            "biz-10",
            json!([{"customer_id": v, "ownership_percent": 60},
               {"customer_id": u, "ownership_percent": 10}]),
        )
        .await;
        assert_eq!(b2["status"], "active", "{b2}");
        // The threshold is the organization's: at 10%, the same owners block.
        let (st, s) = app
            .patch(
                "/v1/settings",
                json!({"beneficial_owner_threshold_percent": 10}),
            )
            .await;
        assert_eq!(
            (st, &s["beneficial_owner_threshold_percent"]),
            (StatusCode::OK, &json!(10))
        );
        let b3 = started(
            &app,
            "biz-10b",
            json!([{"customer_id": v, "ownership_percent": 60},
               {"customer_id": u, "ownership_percent": 10}]),
        )
        .await;
        assert_eq!(missing(&b3), vec!["beneficial_owner"], "{b3}");
        let (st, e) = app
            .patch(
                "/v1/settings",
                json!({"beneficial_owner_threshold_percent": 101}),
            )
            .await;
        assert_eq!(
            (st, e["error"]["param"].as_str()),
            (
                StatusCode::BAD_REQUEST,
                Some("beneficial_owner_threshold_percent")
            ),
            "{e}"
        );
        // Nobody at the threshold and no controller: one verified owner is enough,
        // none is not.
        let b4 = started(
            &app,
            "biz-small",
            json!([{"customer_id": u, "ownership_percent": 5}]),
        )
        .await;
        assert_eq!(missing(&b4), vec!["beneficial_owner"], "{b4}");
    }
);

both_backends!(an_unverified_controller_blocks, |app| async move {
    auto_approve(&app).await;
    let v = owner(&app, "own-v", true).await;
    let u = owner(&app, "own-u", false).await;
    let b = started(
        &app,
        "biz-ctl",
        json!([{"customer_id": v, "ownership_percent": 100},
               {"customer_id": u, "roles": ["controller"]}]),
    )
    .await;
    assert_eq!(b["status"], "pending", "{b}");
    assert_eq!(missing(&b), vec!["beneficial_owner"], "{b}");
    // Once the controller is verified, the business waiting for it runs its
    // checks again by itself.
    let (_, uv) = app.start_verification(&u).await;
    assert_eq!(uv["status"], "active", "{uv}");
    let (_, again) = app.get(&format!("/v1/customers/{}", id_of(&b))).await;
    assert_eq!(again["status"], "active", "{again}");
});

/// An active business whose 60% owner is `v`.
async fn active_business(app: &TestApp, v: &str) -> String {
    let b = started(
        app,
        // Not the owner's whole id: the erasure test looks for it.
        &format!("biz-of-{}", &v[v.len() - 8..]),
        json!([{"customer_id": v, "ownership_percent": 60, "roles": ["owner", "director"]}]),
    )
    .await;
    assert_eq!(b["status"], "active", "{b}");
    id_of(&b)
}

async fn assert_needs_owner(app: &TestApp, bid: &str, from: &str) {
    let (_, b) = app.customer(bid).await;
    assert_eq!(b["status"], "needs_information", "{b}");
    assert_eq!(missing(&b), vec!["beneficial_owner"], "{b}");
    let events = event_types(app, bid).await;
    assert!(
        events.iter().any(|(t, d)| t == "customer.status_changed"
            && d["previous_status"] == from
            && d["status"] == "needs_information"),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(t, d)| t == "customer.verification.needs_information"
                && d["missing"] == json!(["beneficial_owner"])),
        "{events:?}"
    );
}

both_backends!(
    an_owner_leaving_active_takes_its_business_along,
    |app| async move {
        // An owner in re-verification (before businesses are approved at once,
        // which would approve it too).
        let (x, _) = app.update_requested("own-x").await;
        auto_approve(&app).await;
        // Deactivated, then reactivated: the business re-submits itself.
        let v = owner(&app, "own-v", true).await;
        let bid = active_business(&app, &v).await;
        let (st, d) = app.deactivate(&v, json!({"reason": "fraud review"})).await;
        assert_eq!((st, &d["status"]), (StatusCode::OK, &json!("deactivated")));
        assert_needs_owner(&app, &bid, "active").await;
        let (_, r) = app
            .post(&format!("/v1/customers/{v}/reactivate"), json!({}))
            .await;
        assert_eq!(r["status"], "active", "{r}");
        let (_, b) = app.customer(&bid).await;
        assert_eq!(b["status"], "active", "re-submitted and approved: {b}");

        // Expired.
        let w = owner(&app, "own-w", true).await;
        let bid = active_business(&app, &w).await;
        let (st, e) = app
            .force_verification(&w, json!({"status": "expired"}))
            .await;
        assert_eq!(
            (st, &e["status"]),
            (StatusCode::OK, &json!("expired")),
            "{e}"
        );
        assert_needs_owner(&app, &bid, "active").await;

        // Rejected after a re-verification (an approval under re-verification counts).
        let bid = active_business(&app, &x).await;
        let (st, e) = app
            .force_verification(
                &x,
                json!({"status": "rejected", "rejection_reason": "document_expired"}),
            )
            .await;
        assert_eq!(
            (st, &e["status"]),
            (StatusCode::OK, &json!("rejected")),
            "{e}"
        );
        assert_needs_owner(&app, &bid, "active").await;

        // A 10% owner under the threshold leaving changes nothing.
        let big = owner(&app, "own-big", true).await;
        let small = owner(&app, "own-small", true).await;
        let b = started(
            &app,
            "biz-keep",
            json!([{"customer_id": big, "ownership_percent": 60},
               {"customer_id": small, "ownership_percent": 10}]),
        )
        .await;
        assert_eq!(b["status"], "active", "{b}");
        app.deactivate(&small, json!({"reason": "left"})).await;
        let (_, b) = app.get(&format!("/v1/customers/{}", id_of(&b))).await;
        assert_eq!(b["status"], "active", "{b}");
    }
);

both_backends!(
    an_erased_owner_leaves_no_trace_in_the_business,
    |app| async move {
        auto_approve(&app).await;
        let v = owner(&app, "own-v", true).await;
        let bid = active_business(&app, &v).await;
        let (st, _) = app.delete(&format!("/v1/customers/{v}")).await;
        assert_eq!(st, StatusCode::OK);
        assert_needs_owner(&app, &bid, "active").await;
        let (_, b) = app.customer(&bid).await;
        assert_eq!(b["business"]["beneficial_owners"], json!([]), "{b}");
        assert!(
            !b.to_string().contains(&v),
            "no trace of the erased owner: {b}"
        );
        // The business can be corrected without hearing about the erased owner.
        let (st, p) = app
            .update_customer(&bid, json!({"business": {"trade_name": "Acme"}}))
            .await;
        assert_eq!(st, StatusCode::OK, "{p}");
        let w = owner(&app, "own-w", true).await;
        let (st, p) = app.update_customer(&bid, json!({"business": {"beneficial_owners": [{"customer_id": w, "ownership_percent": 100}]}})).await;
        assert_eq!(st, StatusCode::OK, "{p}");
        assert_eq!(
            p["status"], "active",
            "re-submitted with a verified owner: {p}"
        );
    }
);

both_backends!(the_explanation_lists_the_owners, |app| async move {
    let v = owner(&app, "own-v", true).await;
    let u = owner(&app, "own-u", false).await;
    let s = owner(&app, "own-s", false).await;
    let b = app
        .create_customer(business(
            "biz-x",
            json!([{"customer_id": v, "ownership_percent": 60, "roles": ["owner"]},
                   {"customer_id": u, "ownership_percent": 30, "roles": ["owner", "director"]},
                   {"customer_id": s, "ownership_percent": 10, "roles": ["signatory"]}]),
        ))
        .await;
    let (st, x) = app
        .get(&format!("/v1/customers/{}/explanation", id_of(&b)))
        .await;
    assert_eq!(st, StatusCode::OK, "{x}");
    assert_eq!(
        x["beneficial_owners"],
        json!([
            {"customer_id": v, "ownership_percent": 60, "roles": ["owner"],
             "status": "active", "verified": true, "required": true},
            {"customer_id": u, "ownership_percent": 30, "roles": ["owner", "director"],
             "status": "not_started", "verified": false, "required": true},
            {"customer_id": s, "ownership_percent": 10, "roles": ["signatory"],
             "status": "not_started", "verified": false, "required": false}
        ]),
        "{x}"
    );
    // An individual has no owners to list.
    let (_, x) = app.get(&format!("/v1/customers/{v}/explanation")).await;
    assert!(x.get("beneficial_owners").is_none(), "{x}");
});
