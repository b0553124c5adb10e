//! Sumsub as an identity provider, end to end against a fake Sumsub (an
//! axum app on a local port) that refuses any request whose
//! `X-App-Access-Sig` is wrong, issues applicants and WebSDK links, and can
//! fail on purpose; webhooks are signed here as Sumsub signs them.

use crate::common::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode as AxStatus, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const APP_TOKEN: &str = "sbx:fake-app-token";
const SECRET_KEY: &str = "fake-secret-key-0123456789";
const WEBHOOK_SECRET: &str = "fake-webhook-secret-abcdef";

#[derive(Default)]
struct Fake {
    /// externalUserId → (applicant id, level name)
    applicants: Mutex<HashMap<String, (String, String)>>,
    /// Answer 500 to this many next requests.
    fail_next: AtomicUsize,
    /// Requests seen (signed correctly or not).
    requests: AtomicUsize,
    /// Requests refused for a bad signature.
    bad_signatures: AtomicUsize,
    /// What `GET /resources/applicants/{id}/status` answers.
    review: Mutex<Value>,
}

fn hmac_hex<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

async fn fake_handler(
    fake: Arc<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    let h = |n: &str| header_text(&headers, n);
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let expected = hmac_hex::<Hmac<sha2::Sha256>>(
        SECRET_KEY.as_bytes(),
        &[
            h("x-app-access-ts").as_bytes(),
            method.as_str().as_bytes(),
            path_and_query.as_bytes(),
            &body,
        ],
    );
    if h("x-app-token") != APP_TOKEN || h("x-app-access-sig") != expected {
        fake.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return (
            AxStatus::UNAUTHORIZED,
            axum::Json(json!({"description": "Request signature mismatch", "code": 401, "errorCode": 4003, "errorName": "app-token-signature mismatch"})),
        )
            .into_response();
    }
    if fake
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (AxStatus::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path();
    if method == Method::POST && path == "/resources/applicants" {
        let level = uri
            .query()
            .and_then(|q| q.strip_prefix("levelName="))
            .unwrap_or("")
            .to_string();
        let user = json_body["externalUserId"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut map = fake.applicants.lock().unwrap();
        if map.contains_key(&user) {
            return (
                AxStatus::CONFLICT,
                axum::Json(json!({"description": "Applicant with external user id already exists", "code": 409})),
            )
                .into_response();
        }
        let id = format!("65{:022x}", map.len() + 1);
        map.insert(user.clone(), (id.clone(), level));
        return (
            AxStatus::CREATED,
            axum::Json(json!({"id": id, "externalUserId": user})),
        )
            .into_response();
    }
    if method == Method::GET
        && let Some(user) = path
            .strip_prefix("/resources/applicants/-;externalUserId=")
            .and_then(|r| r.strip_suffix("/one"))
    {
        let map = fake.applicants.lock().unwrap();
        return match map.get(user) {
            Some((id, _)) => axum::Json(json!({"id": id})).into_response(),
            None => AxStatus::NOT_FOUND.into_response(),
        };
    }
    if method == Method::GET
        && path.starts_with("/resources/applicants/")
        && path.ends_with("/status")
    {
        return axum::Json(fake.review.lock().unwrap().clone()).into_response();
    }
    if method == Method::POST && path == "/resources/sdkIntegrations/levels/-/websdkLink" {
        let user = json_body["userId"].as_str().unwrap_or("");
        let ttl = json_body["ttlInSecs"].as_i64().unwrap_or(0);
        assert!(ttl > 0, "ttlInSecs is sent: {json_body}");
        assert!(json_body["levelName"].as_str().is_some(), "{json_body}");
        return axum::Json(json!({"url": format!("https://websdk.fake.test/l/{user}")}))
            .into_response();
    }
    AxStatus::NOT_FOUND.into_response()
}

/// Starts the fake on 127.0.0.1:0; returns its state and base URL.
async fn fake_sumsub() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let f = fake.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            fake_handler(f.clone(), method, uri, headers, body)
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (fake, format!("http://{addr}"))
}

async fn configure(app: &TestApp, base_url: &str) -> (StatusCode, Value) {
    app.call(
        &app.sandbox_key.clone(),
        reqwest::Method::PUT,
        "/v1/providers/sumsub",
        Some(json!({
            "app_token": APP_TOKEN,
            "secret_key": SECRET_KEY,
            "level_name": "basic-kyc-level",
            "levels": {"full": "full-kyc-level"},
            "webhook_secret": WEBHOOK_SECRET,
            "base_url": base_url,
        })),
    )
    .await
}

/// A customer started with Sumsub; returns (customer id, applicant id, start answer).
async fn started(app: &TestApp, fake: &Fake, external_id: &str) -> (String, String, Value) {
    let c = app.create_customer(complete_individual(external_id)).await;
    let id = id_of(&c);
    let (st, v) = app.start_verification(&id).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let applicant = fake.applicants.lock().unwrap()[&id].0.clone();
    (id, applicant, v)
}

/// Sends a webhook signed as Sumsub does; runs the inbox worker.
async fn send(app: &TestApp, payload: &Value, alg: &str, secret: &str) -> (StatusCode, Value) {
    let body = payload.to_string().into_bytes();
    let digest = match alg {
        "HMAC_SHA1_HEX" => hmac_hex::<Hmac<sha1::Sha1>>(secret.as_bytes(), &[&body]),
        "HMAC_SHA512_HEX" => hmac_hex::<Hmac<sha2::Sha512>>(secret.as_bytes(), &[&body]),
        _ => hmac_hex::<Hmac<sha2::Sha256>>(secret.as_bytes(), &[&body]),
    };
    let res = app
        .client
        .post(format!(
            "{}/webhooks/inbound/sumsub/{}",
            app.base, app.org_id
        ))
        .header("content-type", "application/json")
        .header("x-payload-digest", digest)
        .header("x-payload-digest-alg", alg)
        .body(body)
        .send()
        .await
        .unwrap();
    let st = res.status();
    let v = res.json().await.unwrap_or(Value::Null);
    // The handler wakes the worker; wait until the inbox is drained.
    for _ in 0..100 {
        kycd_server::jobs::inbound::process_pending(&app.state)
            .await
            .expect("inbox processed");
        let mut conn = app.state.store.reader().await.unwrap();
        let (stored, processed) = kycd_store::webhooks::inbound::counts(&mut conn, "sumsub")
            .await
            .unwrap();
        drop(conn);
        if stored == processed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (st, v)
}

fn reviewed(applicant: &str, customer: &str, result: Value, at: &str) -> Value {
    json!({
        "applicantId": applicant,
        "inspectionId": "insp-1",
        "correlationId": format!("corr-{at}"),
        "externalUserId": customer,
        "levelName": "basic-kyc-level",
        "type": "applicantReviewed",
        "reviewResult": result,
        "reviewStatus": "completed",
        "sandboxMode": true,
        "createdAtMs": at,
    })
}

fn event(kind: &str, applicant: &str, customer: &str, at: &str) -> Value {
    json!({
        "applicantId": applicant,
        "externalUserId": customer,
        "levelName": "basic-kyc-level",
        "type": kind,
        "reviewStatus": "pending",
        "createdAtMs": at,
    })
}

async fn status(app: &TestApp, id: &str) -> Value {
    let (_, c) = app.customer(id).await;
    c
}

both_backends!(
    configuration_is_per_environment_and_never_shows_secrets,
    |app: TestApp| async move {
        let (st, v) = configure(&app, "https://api.sumsub.com").await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["provider"], "sumsub");
        assert_eq!(v["level_name"], "basic-kyc-level");
        assert_eq!(v["levels"]["full"], "full-kyc-level");
        assert_eq!(v["base_url"], "https://api.sumsub.com");
        assert!(v["configured_at"].is_string(), "{v}");
        for (path, _) in [("/v1/providers", 0), ("/v1/providers/sumsub", 1)] {
            let (st, body) = app.get(path).await;
            assert_eq!(st, StatusCode::OK, "{body}");
            let text = body.to_string();
            for secret in [APP_TOKEN, SECRET_KEY, WEBHOOK_SECRET] {
                assert!(!text.contains(secret), "{path} shows a secret: {text}");
            }
        }
        let (_, list) = app.get("/v1/providers").await;
        assert_eq!(list["data"][0]["provider"], "sumsub", "{list}");
        // The live environment has none.
        let (_, live) = app
            .call(
                &app.live_key.clone(),
                reqwest::Method::GET,
                "/v1/providers",
                None,
            )
            .await;
        assert_eq!(live["data"], json!([]), "{live}");
        // Bad input is a 400 naming the field.
        let (st, e) = app
        .call(
            &app.sandbox_key.clone(),
            reqwest::Method::PUT,
            "/v1/providers/sumsub",
            Some(json!({"app_token": "a", "secret_key": "b", "level_name": "l", "webhook_secret": "w", "base_url": "ftp://x"})),
        )
        .await;
        assert_answer(
            st,
            &e,
            "/error/param",
            (StatusCode::BAD_REQUEST, "base_url"),
        );
        let (st, e) = app
            .call(
                &app.sandbox_key.clone(),
                reqwest::Method::PUT,
                "/v1/providers/sumsub",
                Some(json!({"app_token": "a", "level_name": "l", "webhook_secret": "w"})),
            )
            .await;
        assert_answer(
            st,
            &e,
            "/error/param",
            (StatusCode::BAD_REQUEST, "secret_key"),
        );
        let (st, _) = app.get("/v1/providers/onfido").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // The secrets are sealed at rest.
        let mut conn = app.state.store.reader().await.unwrap();
        let scope = kycd_store::Scope::new(app.org_id.clone(), "sandbox");
        let row = kycd_store::providers::get(&mut conn, &scope, "sumsub")
            .await
            .unwrap()
            .unwrap();
        assert!(!row.secrets.contains(SECRET_KEY) && !row.config.contains(SECRET_KEY));
        drop(conn);
        let (st, d) = app.delete("/v1/providers/sumsub").await;
        assert_eq!(
            (st, d["deleted"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{d}"
        );
        let (st, _) = app.get("/v1/providers/sumsub").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.delete("/v1/providers/sumsub").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
);

both_backends!(
    green_from_sumsub_activates_once_with_the_provider_as_actor,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let (id, applicant, v) = started(&app, &fake, "ss-green").await;
        assert_eq!(v["status"], "pending", "{v}");
        assert_eq!(v["verification"]["provider"], "sumsub", "{v}");
        assert_eq!(
            v["verification"]["url"].as_str(),
            Some(format!("https://websdk.fake.test/l/{id}").as_str()),
            "{v}"
        );
        assert!(v["verification"]["url_expires_at"].is_string(), "{v}");
        assert_eq!(fake.applicants.lock().unwrap()[&id].1, "basic-kyc-level");
        assert_eq!(fake.bad_signatures.load(Ordering::SeqCst), 0);
        // GET shows the link again.
        let c = status(&app, &id).await;
        assert_eq!(c["verification"]["url"], v["verification"]["url"], "{c}");
        // A second start reuses the applicant.
        let (st, again) = app.start_verification(&id).await;
        assert_eq!(st, StatusCode::OK, "{again}");
        assert_eq!(fake.applicants.lock().unwrap().len(), 1);

        let green = reviewed(
            &applicant,
            &id,
            json!({"reviewAnswer": "GREEN"}),
            "2030-01-01 10:00:00.000",
        );
        let (st, r) = send(&app, &green, "HMAC_SHA256_HEX", WEBHOOK_SECRET).await;
        assert_eq!(
            (st, r["duplicate"].as_bool()),
            (StatusCode::OK, Some(false)),
            "{r}"
        );
        let c = status(&app, &id).await;
        assert_eq!(c["status"], "active", "{c}");
        assert_eq!(c["verification"]["url"], Value::Null, "{c}");
        // The same webhook again: stored once, applied once.
        let (st, r) = send(&app, &green, "HMAC_SHA256_HEX", WEBHOOK_SECRET).await;
        assert_eq!(
            (st, r["duplicate"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{r}"
        );
        let (_, x) = app.get(&format!("/v1/customers/{id}/explanation")).await;
        let history = x["history"].as_array().unwrap();
        let approvals: Vec<&Value> = history
            .iter()
            .filter(|h| h["to_status"] == "active")
            .collect();
        assert_eq!(approvals.len(), 1, "{x}");
        assert_eq!(
            approvals[0]["actor"],
            json!({"type": "provider", "id": "sumsub"}),
            "{x}"
        );
    }
);

both_backends!(
    red_retry_and_red_final_map_reasons_and_resubmission,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let (retry, a1, _) = started(&app, &fake, "ss-retry").await;
        let (fin, a2, _) = started(&app, &fake, "ss-final").await;
        let red = |labels: Value, kind: &str| json!({"reviewAnswer": "RED", "rejectLabels": labels, "reviewRejectType": kind, "moderationComment": "x"});
        let (st, _) = send(
            &app,
            &reviewed(
                &a1,
                &retry,
                red(json!(["SELFIE_MISMATCH"]), "RETRY"),
                "2030-01-01 10:00:00.000",
            ),
            "HMAC_SHA256_HEX",
            WEBHOOK_SECRET,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let c = status(&app, &retry).await;
        assert_eq!(c["status"], "rejected", "{c}");
        assert_eq!(
            c["verification"]["rejection_reason"], "liveness_failed",
            "{c}"
        );
        assert_eq!(c["verification"]["resubmittable"], true, "{c}");

        let (st, _) = send(
            &app,
            &reviewed(
                &a2,
                &fin,
                red(json!(["SOME_NEW_LABEL"]), "FINAL"),
                "2030-01-01 10:00:00.000",
            ),
            "HMAC_SHA256_HEX",
            WEBHOOK_SECRET,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let c = status(&app, &fin).await;
        assert_eq!(c["status"], "rejected", "{c}");
        assert_eq!(
            c["verification"]["rejection_reason"], "data_mismatch",
            "{c}"
        );
        assert_eq!(c["verification"]["resubmittable"], false, "{c}");
        // The unknown label is kept verbatim in the history.
        let (_, x) = app.get(&format!("/v1/customers/{fin}/explanation")).await;
        let last = x["history"].as_array().unwrap().last().unwrap().clone();
        assert!(
            last["reason"].as_str().unwrap().contains("SOME_NEW_LABEL"),
            "{last}"
        );
        assert_eq!(
            last["actor"],
            json!({"type": "provider", "id": "sumsub"}),
            "{last}"
        );
    }
);

both_backends!(
    on_hold_and_an_older_event_never_overrides_a_newer_one,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let (id, applicant, _) = started(&app, &fake, "ss-hold").await;
        let (st, _) = send(
            &app,
            &event(
                "applicantOnHold",
                &applicant,
                &id,
                "2030-01-01 10:00:02.000",
            ),
            "HMAC_SHA256_HEX",
            WEBHOOK_SECRET,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(status(&app, &id).await["status"], "on_hold");
        // An older rejection arriving late is ignored.
        let old = reviewed(
            &applicant,
            &id,
            json!({"reviewAnswer": "RED", "rejectLabels": ["FORGERY"], "reviewRejectType": "FINAL"}),
            "2030-01-01 10:00:01.000",
        );
        let (st, _) = send(&app, &old, "HMAC_SHA256_HEX", WEBHOOK_SECRET).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(status(&app, &id).await["status"], "on_hold");
        // A newer approval applies.
        let green = reviewed(
            &applicant,
            &id,
            json!({"reviewAnswer": "GREEN"}),
            "2030-01-01 10:00:03.000",
        );
        send(&app, &green, "HMAC_SHA256_HEX", WEBHOOK_SECRET).await;
        assert_eq!(status(&app, &id).await["status"], "active");
    }
);

both_backends!(
    webhooks_are_checked_with_every_digest_algorithm,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let (id, applicant, _) = started(&app, &fake, "ss-digest").await;
        // Forged (wrong secret) and missing digest: 401, nothing stored or changed.
        let green = reviewed(
            &applicant,
            &id,
            json!({"reviewAnswer": "GREEN"}),
            "2030-01-01 10:00:00.000",
        );
        let (st, _) = send(&app, &green, "HMAC_SHA256_HEX", "not-the-secret").await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let res = app
            .client
            .post(format!(
                "{}/webhooks/inbound/sumsub/{}",
                app.base, app.org_id
            ))
            .body(green.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let mut conn = app.state.store.reader().await.unwrap();
        let (stored, _) = kycd_store::webhooks::inbound::counts(&mut conn, "sumsub")
            .await
            .unwrap();
        drop(conn);
        assert_eq!(stored, 0);
        assert_eq!(status(&app, &id).await["status"], "pending");
        // Each algorithm is accepted.
        for (i, alg) in ["HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"]
            .into_iter()
            .enumerate()
        {
            let p = event(
                "applicantPending",
                &applicant,
                &id,
                &format!("2030-01-01 09:00:0{i}.000"),
            );
            let (st, r) = send(&app, &p, alg, WEBHOOK_SECRET).await;
            assert_eq!(
                (st, r["received"].as_bool()),
                (StatusCode::OK, Some(true)),
                "{alg}: {r}"
            );
        }
        send(&app, &green, "HMAC_SHA512_HEX", WEBHOOK_SECRET).await;
        assert_eq!(status(&app, &id).await["status"], "active");
    }
);

both_backends!(
    sumsub_errors_are_retried_and_an_outage_changes_nothing,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        // 500 then 200: retried, succeeds.
        fake.fail_next.store(1, Ordering::SeqCst);
        let (id, _, v) = started(&app, &fake, "ss-retry-500").await;
        assert_eq!(v["verification"]["provider"], "sumsub", "{v}");
        assert!(
            fake.requests.load(Ordering::SeqCst) >= 3,
            "create (500, 201) + link"
        );

        // Sumsub down (a closed port): 502 provider_unavailable, customer unchanged.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        configure(&app, &format!("http://{closed}")).await;
        let c = app.create_customer(complete_individual("ss-down")).await;
        let down = c["id"].as_str().unwrap();
        let (st, e) = app.start_verification(down).await;
        assert_error(st, &e, StatusCode::BAD_GATEWAY, "provider_unavailable");
        let after = status(&app, down).await;
        assert_eq!(after["status"], "not_started", "{after}");
        assert_eq!(after["verification"]["url"], Value::Null, "{after}");
        assert!(
            app.metrics_text().await.contains(
                "kycd_provider_requests_total{provider=\"sumsub\",outcome=\"unreachable\"}"
            )
        );

        // kycd's own flow stays available on request.
        let (st, k) = app.verify(down, json!({"provider": "kycd"})).await;
        assert_eq!(st, StatusCode::OK, "{k}");
        assert_eq!(k["verification"]["provider"], "kycd", "{k}");
        assert!(
            !k["verification"]["url"].to_string().contains("websdk"),
            "{k}"
        );
        // A customer with data to collect gets kycd's hosted link.
        let bare = app.create_customer(json!({"type": "individual"})).await;
        let (_, k) = app
            .post(
                &format!(
                    "/v1/customers/{}/verification",
                    bare["id"].as_str().unwrap()
                ),
                json!({"provider": "kycd"}),
            )
            .await;
        assert!(
            k["verification"]["url"]
                .as_str()
                .unwrap()
                .contains("/hosted/v/"),
            "{k}"
        );
        let _ = id;
    }
);

both_backends!(
    a_wrong_secret_key_is_refused_by_sumsub_and_answers_502,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        let (st, _) = app
        .call(
            &app.sandbox_key.clone(),
            reqwest::Method::PUT,
            "/v1/providers/sumsub",
            Some(json!({"app_token": APP_TOKEN, "secret_key": "wrong", "level_name": "l", "webhook_secret": WEBHOOK_SECRET, "base_url": base})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let c = app.create_customer(complete_individual("ss-badsig")).await;
        let (st, e) = app.start_verification(c["id"].as_str().unwrap()).await;
        assert_error(st, &e, StatusCode::BAD_GATEWAY, "provider_unavailable");
        assert_eq!(fake.bad_signatures.load(Ordering::SeqCst), 1);
        assert_eq!(
            status(&app, c["id"].as_str().unwrap()).await["status"],
            "not_started"
        );
    }
);

per_backend!(
    a_green_on_a_sanctions_match_stays_on_hold,
    |backend: crate::common::Backend| async move {
        let (app, _list) = spawn_screening(backend, "inhouse.csv", SANCTIONS_CSV)
            .await
            .expect("a test server");
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let body = sanctioned_individual("ss-sanctioned");
        let c = app.create_customer(body).await;
        let id = id_of(&c);
        let (st, v) = app.start_verification(&id).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "on_hold", "{v}");
        let applicant = fake.applicants.lock().unwrap()[&id].0.clone();
        let green = reviewed(
            &applicant,
            &id,
            json!({"reviewAnswer": "GREEN"}),
            "2030-01-01 10:00:00.000",
        );
        let (st, _) = send(&app, &green, "HMAC_SHA256_HEX", WEBHOOK_SECRET).await;
        assert_eq!(st, StatusCode::OK);
        let c = status(&app, &id).await;
        assert_eq!(
            c["status"], "on_hold",
            "kycd's own screening still holds: {c}"
        );
        assert_eq!(
            c["verification"]["screening_matches"][0]["entry_id"], "S-1",
            "{c}"
        );
    }
);

both_backends!(
    reconciliation_applies_a_lost_verdict,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let (id, _, _) = started(&app, &fake, "ss-reconcile").await;
        *fake.review.lock().unwrap() = json!({"reviewStatus": "pending"});
        let after = std::time::Duration::ZERO;
        let n = kycd_server::providers::sumsub::reconcile(&app.state, after)
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(status(&app, &id).await["status"], "pending");
        // The webhook was lost; Sumsub's status says RED/RETRY.
        *fake.review.lock().unwrap() = json!({
            "reviewStatus": "completed",
            "reviewResult": {"reviewAnswer": "RED", "rejectLabels": ["UNSATISFACTORY_PHOTOS"], "reviewRejectType": "RETRY"}
        });
        let n = kycd_server::providers::sumsub::reconcile(&app.state, after)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let c = status(&app, &id).await;
        assert_eq!(c["status"], "rejected", "{c}");
        assert_eq!(
            c["verification"]["rejection_reason"], "document_unreadable",
            "{c}"
        );
        assert_eq!(c["verification"]["resubmittable"], true, "{c}");
        // Nothing waits any more.
        let n = kycd_server::providers::sumsub::reconcile(&app.state, after)
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(fake.bad_signatures.load(Ordering::SeqCst), 0);
    }
);

both_backends!(
    asking_for_an_unconfigured_provider_is_a_conflict,
    |app| async move {
        let c = app.create_customer(json!({"type": "individual"})).await;
        let id = c["id"].as_str().unwrap();
        let (st, e) = app
            .verify(id, json!({"mode": "hosted", "provider": "sumsub"}))
            .await;
        assert_error(st, &e, StatusCode::CONFLICT, "provider_not_configured");
        let (_, after) = app.customer(id).await;
        assert_eq!(after["status"], "not_started", "nothing changed");
    }
);

both_backends!(
    create_with_start_uses_the_configured_provider,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let mut body = complete_individual("ss-create-start");
        body["verification"] = json!({"start": true});
        let (st, c) = app.post("/v1/customers", body).await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        let id = c["id"].as_str().unwrap();
        assert_eq!(c["status"], "pending", "{c}");
        assert_eq!(c["verification"]["provider"], "sumsub", "{c}");
        assert_eq!(
            c["verification"]["url"].as_str(),
            Some(format!("https://websdk.fake.test/l/{id}").as_str()),
            "{c}"
        );
        assert!(fake.applicants.lock().unwrap().contains_key(id));
        assert_eq!(fake.bad_signatures.load(Ordering::SeqCst), 0);

        // Asking for kycd's own flow on create is honoured.
        let mut body = complete_individual("ss-create-kycd");
        body["verification"] = json!({"start": true, "provider": "kycd"});
        let (st, k) = app.post("/v1/customers", body).await;
        assert_eq!(st, StatusCode::CREATED, "{k}");
        assert_eq!(k["verification"]["provider"], "kycd", "{k}");
        assert!(
            !fake
                .applicants
                .lock()
                .unwrap()
                .contains_key(k["id"].as_str().unwrap())
        );

        // Sumsub down: 502 and no customer was created.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        configure(&app, &format!("http://{closed}")).await;
        let mut body = complete_individual("ss-create-down");
        body["verification"] = json!({"start": true});
        let (st, e) = app.post("/v1/customers", body).await;
        assert_error(st, &e, StatusCode::BAD_GATEWAY, "provider_unavailable");
        let (_, list) = app.get("/v1/customers?external_id=ss-create-down").await;
        assert_eq!(list["data"], json!([]), "{list}");
    }
);

both_backends!(
    create_with_sumsub_but_none_configured_is_a_conflict_and_creates_nothing,
    |app: TestApp| async move {
        let mut body = complete_individual("ss-create-unconfigured");
        body["verification"] = json!({"start": true, "provider": "sumsub"});
        let (st, e) = app.post("/v1/customers", body).await;
        assert_error(st, &e, StatusCode::CONFLICT, "provider_not_configured");
        let (_, list) = app
            .get("/v1/customers?external_id=ss-create-unconfigured")
            .await;
        assert_eq!(list["data"], json!([]), "{list}");
    }
);

both_backends!(
    a_resubmission_at_sumsub_after_retry_resumes_and_a_final_rejection_stays,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let (retry, a1, _) = started(&app, &fake, "ss-resubmit").await;
        let (fin, a2, _) = started(&app, &fake, "ss-resubmit-final").await;
        let red = |kind: &str| json!({"reviewAnswer": "RED", "rejectLabels": ["UNSATISFACTORY_PHOTOS"], "reviewRejectType": kind});
        for (id, applicant, kind) in [(&retry, &a1, "RETRY"), (&fin, &a2, "FINAL")] {
            let (st, _) = send(
                &app,
                &reviewed(applicant, id, red(kind), "2030-01-01 10:00:00.000"),
                "HMAC_SHA256_HEX",
                WEBHOOK_SECRET,
            )
            .await;
            assert_eq!(st, StatusCode::OK);
            assert_eq!(status(&app, id).await["status"], "rejected");
        }
        // The user sent new photos in the WebSDK: Sumsub reports pending.
        for (id, applicant) in [(&retry, &a1), (&fin, &a2)] {
            let (st, _) = send(
                &app,
                &event("applicantPending", applicant, id, "2030-01-01 11:00:00.000"),
                "HMAC_SHA256_HEX",
                WEBHOOK_SECRET,
            )
            .await;
            assert_eq!(st, StatusCode::OK);
        }
        let c = status(&app, &retry).await;
        assert_eq!(c["status"], "pending", "{c}");
        assert_eq!(c["verification"]["rejection_reason"], Value::Null, "{c}");
        assert_eq!(c["verification"]["provider"], "sumsub", "{c}");
        let (_, x) = app.get(&format!("/v1/customers/{retry}/explanation")).await;
        let last = x["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (last["from_status"].as_str(), last["to_status"].as_str()),
            (Some("rejected"), Some("pending")),
            "{last}"
        );
        assert_eq!(last["actor"], json!({"type": "provider", "id": "sumsub"}));
        // The final rejection stays final.
        assert_eq!(status(&app, &fin).await["status"], "rejected");
        // The second review approves the resubmission.
        let (st, _) = send(
            &app,
            &reviewed(
                &a1,
                &retry,
                json!({"reviewAnswer": "GREEN"}),
                "2030-01-01 12:00:00.000",
            ),
            "HMAC_SHA256_HEX",
            WEBHOOK_SECRET,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(status(&app, &retry).await["status"], "active");
    }
);

both_backends!(
    a_payload_that_fails_part_way_leaves_nothing_of_its_own,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let (gone, a1, _) = started(&app, &fake, "ss-erased").await;
        let (kept, a2, _) = started(&app, &fake, "ss-neighbour").await;
        let last_event = |applicant: String| {
            let state = app.state.clone();
            async move {
                let mut conn = state.store.reader().await.unwrap();
                kycd_store::providers::applicant(&mut conn, "sumsub", &applicant)
                    .await
                    .unwrap()
                    .unwrap()
                    .last_event_ms
            }
        };
        let before = last_event(a1.clone()).await;
        // The customer is erased; a late verdict for it fails after the
        // applicant's event clock was advanced in the same transaction.
        let (st, _) = app.delete(&format!("/v1/customers/{gone}")).await;
        assert_eq!(st, StatusCode::OK);
        let green = |a: &str, c: &str| {
            reviewed(
                a,
                c,
                json!({"reviewAnswer": "GREEN"}),
                "2030-01-01 10:00:00.000",
            )
        };
        let (st, _) = send(&app, &green(&a1, &gone), "HMAC_SHA256_HEX", WEBHOOK_SECRET).await;
        assert_eq!(st, StatusCode::OK, "stored for processing");
        let (st, _) = send(&app, &green(&a2, &kept), "HMAC_SHA256_HEX", WEBHOOK_SECRET).await;
        assert_eq!(st, StatusCode::OK);
        // The failed payload's partial write (the event clock) was undone…
        assert_eq!(
            last_event(a1).await,
            before,
            "the failed payload advanced nothing"
        );
        // …and its neighbour in the inbox was applied.
        assert_eq!(status(&app, &kept).await["status"], "active");
        assert!(last_event(a2).await > before);
    }
);

both_backends!(
    a_batch_item_that_starts_uses_the_configured_provider,
    |app: TestApp| async move {
        let (fake, base) = fake_sumsub().await;
        configure(&app, &base).await;
        let mut first = complete_individual("ss-batch-1");
        first["verification"] = json!({"start": true});
        let mut second = complete_individual("ss-batch-2");
        second["verification"] = json!({"start": true, "provider": "kycd"});
        let (st, v) = app
            .post("/v1/customers/batch", json!({"customers": [first, second]}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let a = &v["data"][0]["customer"];
        let b = &v["data"][1]["customer"];
        assert_eq!(a["verification"]["provider"], "sumsub", "{v}");
        assert_eq!(
            a["verification"]["url"].as_str(),
            Some(format!("https://websdk.fake.test/l/{}", a["id"].as_str().unwrap()).as_str()),
            "{v}"
        );
        assert_eq!(b["verification"]["provider"], "kycd", "{v}");
        assert_eq!(fake.applicants.lock().unwrap().len(), 1);
    }
);
