//! `/v1/webhook_endpoints` (validation, secrets shown once and stored sealed,
//! pagination, scoping, deletion) and inbound provider webhooks.

use super::add_endpoint;
use crate::common::*;
use hmac::{Hmac, Mac};
use serde_json::json;
use std::time::Duration;

both_backends!(
    endpoints_are_validated_listed_scoped_and_deleted,
    |app| async move {
        let (st, v) = app
            .post(
                "/v1/webhook_endpoints",
                json!({"url": "http://127.0.0.1:9/h", "description": "ops"}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
        let id = id_of(&v);
        let secret = v["secret"].as_str().unwrap().to_string();
        assert!(id.starts_with("we_"));
        assert!(secret.starts_with("whsec_"));
        assert_eq!(v["object"], "webhook_endpoint");
        assert_eq!(v["enabled_events"], json!(["*"]));
        assert_eq!(v["status"], "enabled");
        assert_eq!(v["description"], "ops");

        // The secret is stored sealed, never in clear, and never shown again.
        let stored: String = {
            let mut conn = app.state.store.reader().await.unwrap();
            sqlx::Row::get(
                &sqlx::query("SELECT secrets FROM webhook_endpoints WHERE id = $1")
                    .bind(&id)
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap(),
                0,
            )
        };
        let b64 = secret.strip_prefix("whsec_").unwrap();
        assert!(!stored.contains(b64) && !stored.contains("whsec_"));
        let (st, got) = app.get(&format!("/v1/webhook_endpoints/{id}")).await;
        assert_eq!(st, 200);
        assert!(got.get("secret").is_none());
        assert_eq!(got["url"], "http://127.0.0.1:9/h");

        for (body, param) in [
            (
                json!({"url": "http://127.0.0.1:9/h", "enabled_events": ["customer.nope"]}),
                "enabled_events",
            ),
            (
                json!({"url": "http://127.0.0.1:9/h", "enabled_events": []}),
                "enabled_events",
            ),
            (
                json!({"url": "http://127.0.0.1:9/h", "enabled_events": ["*", "customer.created"]}),
                "enabled_events",
            ),
            (json!({"url": "ftp://example.com/h"}), "url"),
            (json!({"url": "not a url"}), "url"),
            (json!({"url": "https://user:pw@example.com/h"}), "url"),
            (
                json!({"url": "http://127.0.0.1:9/h", "description": "x".repeat(501)}),
                "description",
            ),
        ] {
            let (st, v) = app.post("/v1/webhook_endpoints", body.clone()).await;
            assert_eq!(st, 400, "{body} → {v}");
            assert_eq!(v["error"]["code"], "invalid_field", "{v}");
            assert_eq!(v["error"]["param"], param, "{v}");
        }
        let (st, v) = app.post("/v1/webhook_endpoints", json!({})).await;
        assert_eq!(st, 400, "{v}");

        // Pagination, newest first.
        let (a, _) = add_endpoint(&app, "http://127.0.0.1:9/a", json!(["customer.created"])).await;
        let (b, _) = add_endpoint(
            &app,
            "http://127.0.0.1:9/b",
            json!(["customer.created", "product_access.granted"]),
        )
        .await;
        let (st, page) = app.get("/v1/webhook_endpoints?limit=2").await;
        assert_eq!(st, 200);
        assert_eq!(page["object"], "list");
        assert_eq!(page["has_more"], true);
        let ids: Vec<&str> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [b.as_str(), a.as_str()]);
        assert!(page["data"][0].get("secret").is_none());
        let (_, rest) = app
            .get(&format!("/v1/webhook_endpoints?limit=2&starting_after={a}"))
            .await;
        assert_eq!(rest["data"][0]["id"], id.as_str());
        assert_eq!(rest["has_more"], false);
        let (st, _) = app.get("/v1/webhook_endpoints?limit=0").await;
        assert_eq!(st, 400);

        // Another environment does not see it.
        let live = app.live_key.clone();
        let (st, _) = app
            .call(
                &live,
                reqwest::Method::GET,
                &format!("/v1/webhook_endpoints/{id}"),
                None,
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = app
            .call(
                &live,
                reqwest::Method::DELETE,
                &format!("/v1/webhook_endpoints/{id}"),
                None,
            )
            .await;
        assert_eq!(st, 404);
        let (_, l) = app
            .call(&live, reqwest::Method::GET, "/v1/webhook_endpoints", None)
            .await;
        assert_eq!(l["data"], json!([]));

        // Update.
        let (st, v) = app
            .patch(
                &format!("/v1/webhook_endpoints/{a}"),
                json!({"enabled_events": ["*"], "description": "all"}),
            )
            .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["enabled_events"], json!(["*"]));
        assert_eq!(v["description"], "all");
        let (st, v) = app
            .patch(
                &format!("/v1/webhook_endpoints/{a}"),
                json!({"enabled_events": ["x"]}),
            )
            .await;
        assert_eq!(
            (st.as_u16(), v["error"]["param"].as_str()),
            (400, Some("enabled_events"))
        );

        // Delete.
        let (st, v) = app.delete(&format!("/v1/webhook_endpoints/{id}")).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["deleted"], true);
        let (st, _) = app.get(&format!("/v1/webhook_endpoints/{id}")).await;
        assert_eq!(st, 404);
        let (st, _) = app.delete(&format!("/v1/webhook_endpoints/{id}")).await;
        assert_eq!(st, 404);
        let (st, _) = app
            .post(
                &format!("/v1/webhook_endpoints/{id}/rotate_secret"),
                json!({}),
            )
            .await;
        assert_eq!(st, 404);
        let (_, l) = app.get("/v1/webhook_endpoints").await;
        assert_eq!(l["data"].as_array().unwrap().len(), 2);
    }
);

fn digest<M: Mac + hmac::digest::KeyInit>(secret: &str, body: &[u8]) -> String {
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

const SECRET: &str = "sumsub-webhook-secret";

per_backend!(
    inbound_sumsub_webhooks_are_checked_stored_once_and_processed,
    |backend: Backend| async move {
        {
            let Some(app) =
                spawn_with(backend, |c| c.sumsub_webhook_secret = Some(SECRET.into())).await
            else {
                panic!("a test server");
            };
            let url = format!("{}/webhooks/inbound/sumsub", app.base);
            let send = |body: Vec<u8>, headers: Vec<(&'static str, String)>| {
                let mut req = app.client.post(&url).body(body);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                async move {
                    let res = req.send().await.unwrap();
                    let st = res.status().as_u16();
                    (
                        st,
                        res.json::<serde_json::Value>().await.unwrap_or_default(),
                    )
                }
            };
            let counts = || async {
                let mut conn = app.state.store.reader().await.unwrap();
                kycd_store::webhooks::inbound::counts(&mut conn, "sumsub")
                    .await
                    .unwrap()
            };
            let body = br#"{"applicantId":"5f1","type":"applicantReviewed","reviewResult":{"reviewAnswer":"GREEN"}}"#.to_vec();

            // A bad signature, a missing one, an unknown algorithm: 401 and nothing stored.
            for headers in [
                vec![
                    ("x-payload-digest", "00".repeat(32)),
                    ("x-payload-digest-alg", "HMAC_SHA256_HEX".into()),
                ],
                vec![
                    (
                        "x-payload-digest",
                        digest::<Hmac<sha2::Sha256>>("wrong", &body),
                    ),
                    ("x-payload-digest-alg", "HMAC_SHA256_HEX".into()),
                ],
                vec![],
                vec![
                    (
                        "x-payload-digest",
                        digest::<Hmac<sha2::Sha256>>(SECRET, &body),
                    ),
                    ("x-payload-digest-alg", "MD5".into()),
                ],
            ] {
                let (st, v) = send(body.clone(), headers).await;
                assert_eq!(st, 401, "{v}");
                assert_eq!(v["error"]["code"], "invalid_signature");
            }
            assert_eq!(counts().await, (0, 0));

            let sha256 = vec![
                (
                    "x-payload-digest",
                    digest::<Hmac<sha2::Sha256>>(SECRET, &body),
                ),
                ("x-payload-digest-alg", "HMAC_SHA256_HEX".into()),
            ];
            let (st, v) = send(body.clone(), sha256.clone()).await;
            assert_eq!(st, 200, "{v}");
            assert_eq!(v["duplicate"], false);
            // The provider retries: the same payload is stored once.
            let (st, v) = send(body.clone(), sha256).await;
            assert_eq!((st, v["duplicate"].as_bool()), (200, Some(true)));
            let b2 = br#"{"applicantId":"5f1","type":"applicantPending"}"#.to_vec();
            let (st, _) = send(
                b2.clone(),
                vec![
                    (
                        "x-payload-digest",
                        digest::<Hmac<sha1::Sha1>>(SECRET, &b2).to_uppercase(),
                    ),
                    ("x-payload-digest-alg", "HMAC_SHA1_HEX".into()),
                ],
            )
            .await;
            assert_eq!(st, 200);
            let b3 = br#"{"applicantId":"5f2","type":"applicantCreated"}"#.to_vec();
            let (st, _) = send(
                b3.clone(),
                vec![
                    (
                        "x-payload-digest",
                        digest::<Hmac<sha2::Sha512>>(SECRET, &b3),
                    ),
                    ("x-payload-digest-alg", "HMAC_SHA512_HEX".into()),
                ],
            )
            .await;
            assert_eq!(st, 200);
            // Signed but not JSON: refused, not stored.
            let junk = b"not json".to_vec();
            let (st, _) = send(
                junk.clone(),
                vec![
                    (
                        "x-payload-digest",
                        digest::<Hmac<sha2::Sha256>>(SECRET, &junk),
                    ),
                    ("x-payload-digest-alg", "HMAC_SHA256_HEX".into()),
                ],
            )
            .await;
            assert_eq!(st, 400);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let (stored, processed) = counts().await;
                assert_eq!(stored, 3);
                if processed == 3 {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "not processed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let (st, _) = send(body.clone(), vec![]).await;
            assert_eq!(st, 401);
            let res = app
                .client
                .post(format!("{}/webhooks/inbound/acme", app.base))
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 404);
        }
    }
);

#[tokio::test]
async fn without_a_configured_secret_nothing_is_accepted() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let body = b"{}".to_vec();
    let res = app
        .client
        .post(format!("{}/webhooks/inbound/sumsub", app.base))
        .header("x-payload-digest", digest::<Hmac<sha2::Sha256>>("", &body))
        .header("x-payload-digest-alg", "HMAC_SHA256_HEX")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}
