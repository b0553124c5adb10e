//! Rate limits: one API key over its limit gets `429 rate_limited` with
//! `Retry-After` and the draft `RateLimit-Policy`/`RateLimit` fields while
//! another key is unaffected, and recovers after the wait; organizations may
//! set their own limit (validated); floods of failed authentication and of
//! hosted pages from one address are limited.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Sends `GET path` with `key` until a 429 comes back (at most `max` tries).
async fn until_limited(app: &TestApp, key: &str, path: &str, max: usize) -> reqwest::Response {
    for _ in 0..max {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            return res;
        }
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers().contains_key("ratelimit"),
            "allowed responses carry RateLimit"
        );
    }
    panic!("no 429 after {max} requests");
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn one_key_over_its_limit_is_429_and_others_are_not() {
    let app = spawn_with(Backend::Sqlite, |c| c.rate_limit_per_second = Some(5))
        .await
        .unwrap();
    // First request: the policy and a full bucket less one.
    let res = app.get_response("/v1/customers").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["ratelimit-policy"], "\"api-key\";q=10;w=2");
    let current = res.headers()["ratelimit"].to_str().unwrap().to_string();
    assert!(current.starts_with("\"api-key\";r="), "{current}");

    let limited = until_limited(&app, &app.sandbox_key, "/v1/customers", 200).await;
    let wait = retry_after(&limited);
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        limited.headers()["ratelimit-policy"],
        "\"api-key\";q=10;w=2"
    );
    let current = limited.headers()["ratelimit"].to_str().unwrap().to_string();
    assert!(current.starts_with("\"api-key\";r=0;t="), "{current}");
    assert!(limited.headers().contains_key("x-request-id"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    // Limited POSTs create nothing: only the 201s are there afterwards.
    let (mut created, mut refused) = (0, 0);
    while refused < 3 && created + refused < 40 {
        let (st, e) = app
            .post("/v1/customers", json!({"type": "individual"}))
            .await;
        match st {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(e["error"]["code"], "rate_limited");
                refused += 1;
            }
            other => panic!("{other}: {e}"),
        }
    }
    assert_eq!(refused, 3, "POSTs were not limited");
    // The other key has its own bucket.
    let (st, _) = app
        .call(&app.live_key.clone(), Method::GET, "/v1/customers", None)
        .await;
    assert_eq!(st, StatusCode::OK);

    // After the wait the key works again.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
    let (st, v) = app.get("/v1/customers?limit=100").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), created, "{v}");
}

#[tokio::test]
async fn organizations_set_their_own_limit() {
    let app = spawn_with(Backend::Sqlite, |c| c.rate_limit_per_second = Some(1000))
        .await
        .unwrap();
    let live = app.live_key.clone();
    for bad in [
        json!(0),
        json!(-1),
        json!(100_001),
        json!(2.5),
        json!("10"),
        json!(true),
    ] {
        let (st, e) = app
            .call(
                &live,
                Method::PATCH,
                "/v1/settings",
                Some(json!({"rate_limit_per_second": bad})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {e}");
        assert_eq!(e["error"]["code"], "invalid_field", "{bad}: {e}");
        assert_eq!(e["error"]["param"], "rate_limit_per_second", "{bad}: {e}");
    }
    let (st, s) = app
        .call(
            &live,
            Method::PATCH,
            "/v1/settings",
            Some(json!({"rate_limit_per_second": 2})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    assert_eq!(s["rate_limit_per_second"], 2);
    let limited = until_limited(&app, &live, "/v1/customers", 100).await;
    assert_eq!(limited.headers()["ratelimit-policy"], "\"api-key\";q=4;w=2");
    // Sandbox keeps the server's limit.
    let res = app.get_response("/v1/customers").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["ratelimit-policy"], "\"api-key\";q=2000;w=2");
    // null puts the server's limit back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (st, s) = app
        .call(
            &live,
            Method::PATCH,
            "/v1/settings",
            Some(json!({"rate_limit_per_second": null})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    assert!(
        s.get("rate_limit_per_second").is_none_or(Value::is_null),
        "{s}"
    );
}

#[tokio::test]
async fn failed_authentication_floods_are_limited_per_address() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.address_rate_limit_per_second = Some(5)
    })
    .await
    .unwrap();
    let mut statuses = vec![];
    for i in 0..60 {
        let res = app
            .client
            .get(format!("{}/v1/customers", app.base))
            .bearer_auth(format!("sk_test_{i:040}"))
            .send()
            .await
            .unwrap();
        let status = res.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            assert_eq!(res.headers()["ratelimit-policy"], "\"address\";q=10;w=2");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        statuses.push(status);
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(refused > 0, "no failed authentication was limited");
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    // Once the address has tokens again, a valid key works.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (st, _) = app.get("/v1/customers").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn hosted_page_floods_are_limited_per_address() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.address_rate_limit_per_second = Some(5)
    })
    .await
    .unwrap();
    let mut limited = None;
    for _ in 0..60 {
        let res = app.public_get("/hosted/v/some-token").await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(res);
            break;
        }
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let limited = limited.expect("hosted pages are limited per address");
    assert!(limited.headers().contains_key("retry-after"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Inbound webhooks share the address's bucket: limited at once or after
    // the few tokens that came back meanwhile.
    let mut inbound = vec![];
    for _ in 0..20 {
        let res = app
            .client
            .post(format!("{}/webhooks/inbound/sumsub", app.base))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        inbound.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(
        inbound.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{inbound:?}"
    );
    // Authenticated API traffic from the same address is not affected.
    let (st, _) = app.get("/v1/customers").await;
    assert_eq!(st, StatusCode::OK);
}
