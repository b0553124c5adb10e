//! Screening through HTTP: an in-house list loaded from KYCD_SCREENING_SOURCES,
//! search and lists endpoints, the verification hook (possible match →
//! on_hold → confirm/dismiss), delta re-screening on refresh, and a broken
//! list that does not replace the loaded one.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::json;

const LIST_V1: &str = "id,name,type,aliases,date_of_birth,country,programs,pep\n\
S-1,Viktor Petrovich Baranov,person,Viktor Baranov,1961-03-04,RU,SDGT,false\n\
S-2,Oceanic Shipping Trading LLC,organization,,,,IRAN,false\n\
P-1,Maria das Dores Senadora,person,,1970-01-01,BR,,true\n";

const LIST_V2_EXTRA: &str = "S-3,Ada Lovelace King,person,Ada Lovelace,1990-01-31,BR,SDGT,false\n";

async fn screening_app(backend: Backend) -> Option<(TestApp, std::path::PathBuf)> {
    let (app, dir) = spawn_screening(backend, "inhouse.csv", LIST_V1).await?;
    Some((app, dir.keep().join("inhouse.csv")))
}

#[tokio::test]
async fn search_and_lists() {
    let (app, _) = screening_app(Backend::Sqlite).await.unwrap();
    let (st, lists) = app.get("/v1/screening/lists").await;
    assert_eq!(st, StatusCode::OK);
    let l = &lists["data"][0];
    assert_eq!(
        (l["format"].as_str(), l["entries"].as_u64()),
        (Some("csv"), Some(3)),
        "{lists}"
    );
    assert_eq!(l["checksum"].as_str().unwrap().len(), 64);
    assert!(l["loaded_at"].is_string());

    let (st, r) = app
        .post(
            "/v1/screening/search",
            json!({"name": "BARANOV, Viktor", "type": "person"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let m = &r["matches"][0];
    assert_eq!(m["entry_id"], "S-1", "{r}");
    assert!(m["score"].as_f64().unwrap() >= 0.8);
    assert_eq!(m["programs"], json!(["SDGT"]));

    let (_, r) = app
        .post(
            "/v1/screening/search",
            json!({"name": "Completely Unrelated Person"}),
        )
        .await;
    assert_eq!(r["matches"], json!([]));
    let (st, e) = app.post("/v1/screening/search", json!({"name": ""})).await;
    assert_answer(st, &e, "/error/param", (StatusCode::BAD_REQUEST, "name"));
    let (st, _) = app
        .post("/v1/screening/search", json!({"name": "x".repeat(10_000)}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = app
        .post("/v1/screening/search", json!({"name": "A", "threshold": 7}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn matches_and_compare_explain_why() {
    let (app, _) = screening_app(Backend::Sqlite).await.unwrap();
    let (st, r) = app
        .post(
            "/v1/screening/search",
            json!({"name": "BARANOV, Dr. Viktor", "type": "person", "date_of_birth": "1961-03-04"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let x = &r["matches"][0]["explanation"];
    assert_eq!(x["query_normalized"], "viktor baranov", "{r}");
    assert_eq!(x["aligned"].as_array().map(Vec::len), Some(2), "{r}");
    assert!(x["dob"].as_f64().unwrap() > 0.0, "{r}");
    assert!(
        x["summary"].as_str().unwrap().contains("date of birth"),
        "{r}"
    );

    let (st, c) = app
        .post(
            "/v1/screening/compare",
            json!({"a": "Oceanic Shipping Trading GmbH", "b": "Oceanic Shipping Trading AG", "type": "organization"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["object"], "screening_comparison");
    assert!(c["score"].as_f64().unwrap() < 0.8, "{c}");
    assert!(
        c["explanation"]["legal_form_penalty"].as_f64().unwrap() > 0.0,
        "{c}"
    );
    let (_, c) = app
        .post(
            "/v1/screening/compare",
            json!({"a": "Ig0r Sevrinov", "b": "SEVRINOV, Igor", "type": "person"}),
        )
        .await;
    assert!(c["score"].as_f64().unwrap() >= 0.9, "{c}");
    for (body, param) in [
        (json!({"a": "", "b": "x"}), "a"),
        (json!({"a": "x", "b": "y".repeat(400)}), "b"),
        (json!({"a": "x", "b": "y", "type": "ship"}), "type"),
    ] {
        let (st, e) = app.post("/v1/screening/compare", body).await;
        assert_eq!(
            (st, e["error"]["param"].as_str()),
            (StatusCode::BAD_REQUEST, Some(param)),
            "{e}"
        );
    }
}

per_backend!(
    a_possible_match_holds_the_customer_for_a_reviewer,
    |backend: Backend| async move {
        {
            let Some((app, _)) = screening_app(backend).await else {
                panic!("a test server");
            };
            let mut body = sanctioned_individual("sx-1");
            let c = app.create_customer(body.clone()).await;
            let id = id_of(&c);
            let (_, v) = app.start_verification(&id).await;
            assert_eq!(v["status"], "on_hold", "{v}");
            assert_eq!(v["verification"]["screening_matches"][0]["entry_id"], "S-1");
            let (_, r) = app
                .decide_screening(&id, json!({"decision": "confirm"}))
                .await;
            assert_eq!(r["status"], "rejected", "{r}");
            assert_eq!(r["verification"]["rejection_reason"], "sanctions_match");
            let (st, e) = app.delete(&format!("/v1/customers/{id}")).await;
            assert_error(st, &e, StatusCode::CONFLICT, "retention_required");

            // A dismissed match lets the verification continue (hosted: to review).
            body["external_id"] = json!("sx-2");
            let c = app.create_customer(body).await;
            let id = id_of(&c);
            app.start_verification(&id).await;
            let (_, r) = app
                .decide_screening(&id, json!({"decision": "dismiss"}))
                .await;
            assert_eq!(r["status"], "pending", "{r}");
            assert!(r["verification"]["screening_matches"].is_null());
        }
    }
);

#[tokio::test]
async fn a_refresh_rescreens_active_customers_against_the_delta() {
    let (app, path) = screening_app(Backend::Sqlite).await.unwrap();
    let c = app.create_customer(complete_individual("rs-1")).await;
    let id = id_of(&c);
    app.start_and_approve(&id).await;

    // A broken file does not replace the loaded list.
    std::fs::write(&path, "id,name\n\"unterminated\n").unwrap();
    kycd_server::jobs::screening::refresh(&app.state)
        .await
        .unwrap();
    let (_, lists) = app.get("/v1/screening/lists").await;
    assert_eq!(lists["data"][0]["entries"], 3);

    // The new version adds an entry naming our customer: she goes on hold.
    std::fs::write(&path, format!("{LIST_V1}{LIST_V2_EXTRA}")).unwrap();
    let held = kycd_server::jobs::screening::refresh(&app.state)
        .await
        .unwrap();
    assert_eq!(held, 1);
    let (_, got) = app.customer(&id).await;
    assert_eq!(got["status"], "on_hold", "{got}");
    assert_eq!(
        got["verification"]["screening_matches"][0]["entry_id"],
        "S-3"
    );
    let (_, ev) = app
        .get(&format!(
            "/v1/events?customer_id={id}&type=customer.verification.on_hold"
        ))
        .await;
    assert_eq!(ev["data"].as_array().unwrap().len(), 1);
    let (_, ev) = app
        .get(&format!(
            "/v1/events?customer_id={id}&type=screening.possible_match"
        ))
        .await;
    let matches = &ev["data"][0]["data"]["matches"];
    assert_eq!(matches[0]["entry_id"], "S-3", "{ev}");
    assert!(matches[0]["score"].as_f64().unwrap() > 0.0, "{ev}");
    assert!(
        matches[0].get("matched_name").is_none(),
        "the customer's own name is not repeated in the webhook: {ev}"
    );
    let (_, lists) = app.get("/v1/screening/lists").await;
    assert_eq!(lists["data"][0]["entries"], 4);
    // Nothing changed: a second refresh re-screens nobody.
    assert_eq!(
        kycd_server::jobs::screening::refresh(&app.state)
            .await
            .unwrap(),
        0
    );
}

// README: a PEP match is no rejection: `on_hold` for enhanced due diligence
// (the match says `pep`), then the reviewer confirms (→ `pep_match`, final).
per_backend!(
    a_pep_match_holds_for_due_diligence_and_confirming_it_is_final,
    |backend: Backend| async move {
        let (app, _) = screening_app(backend).await.expect("a test server");
        let mut body = complete_individual("pep-1");
        body["individual"]["first_name"] = json!("Maria das Dores");
        body["individual"]["last_name"] = json!("Senadora");
        body["individual"]["date_of_birth"] = json!("1970-01-01");
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (st, v) = app.start_verification(&id).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "on_hold", "{v}");
        let m = &v["verification"]["screening_matches"][0];
        assert_eq!(
            (m["entry_id"].as_str(), m["pep"].as_bool()),
            (Some("P-1"), Some(true)),
            "{v}"
        );
        let (_, r) = app
            .decide_screening(&id, json!({"decision": "confirm"}))
            .await;
        assert_eq!(r["status"], "rejected", "{r}");
        assert_eq!(r["verification"]["rejection_reason"], "pep_match", "{r}");
        assert_eq!(r["verification"]["resubmittable"], false, "{r}");
        let (st, e) = app.start_verification(&id).await;
        assert_error(st, &e, StatusCode::CONFLICT, "invalid_transition");
    }
);

// README: a business is screened together with its beneficial owners. The
// owner, a possible match dismissed for the owner alone and then verified,
// makes the business's own verification stop `on_hold` on that match.
per_backend!(
    a_beneficial_owner_on_a_list_holds_the_business,
    |backend: Backend| async move {
        let (app, _) = screening_app(backend).await.expect("a test server");
        let owner = sanctioned_individual("bo-1");
        let owner = app.create_customer(owner).await;
        let owner_id = id_of(&owner);
        let (_, v) = app.start_verification(&owner_id).await;
        assert_eq!(
            v["status"], "on_hold",
            "positive control: the owner matches: {v}"
        );
        let (_, r) = app
            .decide_screening(&owner_id, json!({"decision": "dismiss"}))
            .await;
        assert_eq!(r["status"], "pending", "{r}");
        let (_, r) = app
            .force_verification(&owner_id, json!({"status": "approved"}))
            .await;
        assert_eq!(r["status"], "active", "{r}");

        let (st, b) = app
            .post(
                "/v1/customers",
                json!({"type": "business", "external_id": "bo-biz",
                       "business": {"legal_name": "Harmless Trading Ltda", "country": "BR",
                                    "registration_number": "12345678",
                                    "incorporation_date": "2001-02-03",
                                    "email": "ops@harmless.example", "phone": "+5511999990000",
                                    "beneficial_owners": [owner_id]},
                       "addresses": [{"line1": "Rua A, 1", "city": "São Paulo", "region": "SP", "postal_code": "01000-000", "country": "BR", "primary": true}],
                       "identifiers": [{"type": "cnpj", "value": "11.222.333/0001-81"}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
        let id = id_of(&b);
        let (st, v) = app.start_verification(&id).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "on_hold", "{v}");
        let m = &v["verification"]["screening_matches"][0];
        assert_eq!(m["entry_id"], "S-1", "the owner's match is listed: {v}");
    }
);
