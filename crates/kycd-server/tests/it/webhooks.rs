//! Webhooks through the real server: signed deliveries to a local receiver
//! (verified here, by an independent HMAC, and by the PyPI `standardwebhooks`
//! package), secret rotation, retries through hours of downtime on the
//! sandbox clock, 410 and 5-day disabling, redelivery and the attempt log.

mod endpoints;
mod guard;
mod receiver;

use crate::common::*;
use base64::Engine;
use hmac::{Hmac, Mac};
use receiver::{Hit, Receiver};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Registers an endpoint; returns (id, secret).
pub async fn add_endpoint(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let (st, v) = app
        .post(
            "/v1/webhook_endpoints",
            json!({"url": url, "enabled_events": events}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    (id_of(&v), v["secret"].as_str().unwrap().to_string())
}

pub fn verify(secret: &str, h: &Hit) -> Result<(), kycd_webhooks::VerifyError> {
    kycd_webhooks::verify(
        secret,
        &h.id,
        &h.timestamp,
        &h.signature,
        &h.body,
        chrono::Utc::now().timestamp(),
        300,
    )
}

/// Event ids of a type, oldest first.
pub async fn event_ids(app: &TestApp, event_type: &str) -> Vec<String> {
    let (st, v) = app
        .get(&format!("/v1/events?type={event_type}&limit=100"))
        .await;
    assert_eq!(st, 200, "{v}");
    let mut ids: Vec<String> = v["data"].as_array().unwrap().iter().map(id_of).collect();
    ids.reverse();
    ids
}

pub async fn attempts(app: &TestApp, event_id: &str) -> Vec<Value> {
    let (st, v) = app
        .get(&format!("/v1/events/{event_id}/deliveries?limit=100"))
        .await;
    assert_eq!(st, 200, "{v}");
    v["data"].as_array().unwrap().clone()
}

/// The delivery rows made for an event (to `endpoint_id`, or to any endpoint),
/// read once the dispatcher has fanned the event out: after that no row is
/// ever added for it, so a zero here means "never", not "not yet".
pub async fn deliveries_made(app: &TestApp, event_id: &str, endpoint_id: Option<&str>) -> i64 {
    let fanned_out = eventually("the event fanned out", WAIT, || async {
        let mut conn = app.state.store.reader().await.unwrap();
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events e WHERE e.id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM event_outbox o WHERE o.event_id = e.id)",
        )
        .bind(event_id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        (n == 1).then_some(())
    });
    fanned_out.await;
    let mut conn = app.state.store.reader().await.unwrap();
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE event_id = $1 AND ($2 = '' OR endpoint_id = $2)",
    )
    .bind(event_id)
    .bind(endpoint_id.unwrap_or(""))
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

/// Polls `f` until it returns Some, for up to `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, f: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn advance(app: &TestApp, seconds: i64) {
    let (st, v) = app
        .post(
            "/v1/test_helpers/clock/advance",
            json!({"seconds": seconds}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
}

both_backends!(
    deliveries_are_signed_exactly_per_the_standard_webhooks_spec,
    |app| async move {
        let rx = Receiver::start().await;
        let (endpoint_id, secret) = add_endpoint(&app, &rx.url, json!(["*"])).await;
        let customer = app
            .create_customer(json!({"type": "individual", "external_id": "sig-1"}))
            .await;
        let hits = rx
            .wait("the customer.created delivery", WAIT, |h| !h.is_empty())
            .await;
        let h = &hits[0];
        verify(&secret, h).expect("signature verifies");
        // An independent computation: v1,base64(HMAC-SHA256(key, id.ts.body)).
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.", h.id, h.timestamp).as_bytes());
        mac.update(&h.body);
        let expected = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        );
        assert_eq!(h.signature, expected);
        let ts: i64 = h.timestamp.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
        assert_eq!(h.content_type, "application/json");
        let body = h.json();
        assert_eq!(body["id"], h.id.as_str(), "webhook-id is the event id");
        assert!(h.id.starts_with("evt_"));
        assert_eq!(body["type"], "customer.created");
        assert_eq!(body["data"]["customer_id"], customer["id"]);
        assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
        // A tampered body does not verify.
        let mut bad = h.clone();
        bad.body.push(b' ');
        assert!(verify(&secret, &bad).is_err());
        // The attempt log.
        let log = eventually("the attempt log", WAIT, || async {
            let a = attempts(&app, &h.id).await;
            (a.len() == 1 && a[0]["status"] == "succeeded").then_some(a)
        })
        .await;
        assert_eq!(log[0]["status_code"], 200);
        assert_eq!(log[0]["endpoint_id"], endpoint_id.as_str());
        assert_eq!(log[0]["attempt"], 1);
        assert_eq!(log[0]["delivery_status"], "succeeded");
        assert!(log[0]["duration_ms"].as_i64().unwrap() >= 0);
        assert!(log[0]["error"].is_null());
        // Live events never reach a sandbox endpoint.
        let (st, _) = app
            .call(
                &app.live_key.clone(),
                reqwest::Method::POST,
                "/v1/customers",
                Some(json!({"type": "individual"})),
            )
            .await;
        assert_eq!(st, 201);
        let (_, live_events) = app
            .call(
                &app.live_key.clone(),
                reqwest::Method::GET,
                "/v1/events?type=customer.created",
                None,
            )
            .await;
        let live_event = live_events["data"][0]["id"].as_str().unwrap();
        assert_eq!(
            deliveries_made(&app, live_event, None).await,
            0,
            "a live event was queued for a sandbox endpoint"
        );
        // Positive control: the same query counts the sandbox event's delivery.
        assert_eq!(deliveries_made(&app, &h.id, Some(&endpoint_id)).await, 1);
        assert_eq!(
            rx.hits().len(),
            1,
            "a live event reached a sandbox endpoint"
        );
        // Another environment cannot read the attempt log.
        let (st, _) = app
            .call(
                &app.live_key.clone(),
                reqwest::Method::GET,
                &format!("/v1/events/{}/deliveries", h.id),
                None,
            )
            .await;
        assert_eq!(st, 404);
    }
);

#[tokio::test]
#[cfg_attr(
    not(kycd_python_standardwebhooks),
    ignore = "needs python3 with the standardwebhooks package (pip install standardwebhooks)"
)]
async fn real_deliveries_verify_with_the_pypi_standardwebhooks_package() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let rx = Receiver::start().await;
    let (id, secret) = add_endpoint(&app, &rx.url, json!(["*"])).await;
    for i in 0..3 {
        app.create_customer(json!({"type": "individual", "external_id": format!("py-{i}")}))
            .await;
    }
    rx.wait("3 deliveries", WAIT, |h| h.len() >= 3).await;
    // After a rotation both secrets must verify with the reference library.
    let (st, v) = app
        .post(
            &format!("/v1/webhook_endpoints/{id}/rotate_secret"),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let new_secret = v["secret"].as_str().unwrap().to_string();
    app.create_customer(json!({"type": "individual"})).await;
    let hits = rx.wait("4 deliveries", WAIT, |h| h.len() >= 4).await;
    let cases: Vec<Value> = hits
        .iter()
        .enumerate()
        .flat_map(|(i, h)| {
            let mut secrets = vec![&secret];
            if i == 3 {
                secrets.push(&new_secret);
            }
            secrets.into_iter().map(move |s| {
                json!({
                    "secret": s,
                    "headers": {"webhook-id": h.id, "webhook-timestamp": h.timestamp, "webhook-signature": h.signature},
                    "body": String::from_utf8(h.body.clone()).unwrap(),
                })
            })
        })
        .collect();
    let file = app.dir.path().join("cases.json");
    std::fs::write(&file, serde_json::to_vec(&cases).unwrap()).unwrap();
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
cases = json.load(open(sys.argv[1]))
for c in cases:
    payload = Webhook(c["secret"]).verify(c["body"], c["headers"])
    assert payload["id"] == c["headers"]["webhook-id"], payload
    try:
        Webhook(c["secret"]).verify(c["body"] + " ", c["headers"])
        raise SystemExit("a tampered body verified")
    except WebhookVerificationError:
        pass
print("verified", len(cases))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, file.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python verification failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "verified 5");
}

both_backends!(
    rotation_signs_with_both_secrets_for_24_hours,
    |app| async move {
        let rx = Receiver::start().await;
        let (id, old) = add_endpoint(&app, &rx.url, json!(["customer.created"])).await;
        let (st, v) = app
            .post(
                &format!("/v1/webhook_endpoints/{id}/rotate_secret"),
                json!({}),
            )
            .await;
        assert_eq!(st, 200, "{v}");
        let new = v["secret"].as_str().unwrap().to_string();
        assert!(new.starts_with("whsec_") && new != old);
        assert!(v["previous_secret_expires_at"].is_string());
        let (_, got) = app.get(&format!("/v1/webhook_endpoints/{id}")).await;
        assert!(got.get("secret").is_none(), "GET never shows the secret");

        app.create_customer(json!({"type": "individual"})).await;
        let hits = rx.wait("a delivery", WAIT, |h| h.len() == 1).await;
        assert_eq!(
            hits[0].signature.split(' ').count(),
            2,
            "{}",
            hits[0].signature
        );
        verify(&old, &hits[0]).expect("the old secret still verifies");
        verify(&new, &hits[0]).expect("the new secret verifies");

        advance(&app, 25 * 3600).await;
        app.create_customer(json!({"type": "individual"})).await;
        let hits = rx.wait("a second delivery", WAIT, |h| h.len() == 2).await;
        assert_eq!(hits[1].signature.split(' ').count(), 1);
        verify(&new, &hits[1]).expect("the new secret verifies");
        assert!(
            verify(&old, &hits[1]).is_err(),
            "the old secret expired after 24 h"
        );
    }
);

both_backends!(
    retries_outlast_failures_and_hours_of_downtime_and_lose_nothing,
    |app| async move {
        let rx = Receiver::start().await;
        rx.set_status(500);
        add_endpoint(&app, &rx.url, json!(["customer.created"])).await;
        for i in 0..3 {
            app.create_customer(json!({"type": "individual", "external_id": format!("r-{i}")}))
                .await;
        }
        let events = event_ids(&app, "customer.created").await;
        assert_eq!(events.len(), 3);
        rx.wait("3 failed first attempts", WAIT, |h| h.len() >= 3)
            .await;
        // Then the receiver is down for hours: each retry meets a dropped connection.
        rx.set_down(true);
        for (made, wait_secs) in [(2, 6), (3, 6 * 60), (4, 35 * 60), (5, 2 * 3600 + 15 * 60)] {
            advance(&app, wait_secs).await;
            for e in &events {
                let a = eventually("the retry", WAIT, || async {
                    let a = attempts(&app, e).await;
                    (a.len() == made && !a[0]["error"].is_null()).then_some(a)
                })
                .await;
                assert_eq!(a[0]["status"], "failed");
                assert!(a[0]["status_code"].is_null(), "{}", a[0]);
                assert_eq!(a[0]["delivery_status"], "pending");
                assert!(a[0]["next_attempt_at"].is_string());
            }
        }
        assert_eq!(rx.hits().len(), 3, "nothing reached a host that was down");
        // Back up: the next retry (about 5 h later) delivers every event, once.
        rx.set_down(false);
        rx.set_status(200);
        advance(&app, 5 * 3600 + 35 * 60).await;
        rx.wait("every event delivered", WAIT, |h| {
            h.iter().filter(|h| h.ok()).count() >= 3
        })
        .await;
        // Each delivery is recorded as succeeded at its 6th attempt; attempts
        // are logged before they are sent and a succeeded delivery is never
        // claimed again, so the receiver's count is final.
        for e in &events {
            let a = eventually("the success recorded", WAIT, || async {
                let a = attempts(&app, e).await;
                (a[0]["delivery_status"] == "succeeded").then_some(a)
            })
            .await;
            assert_eq!(a.len(), 6);
            assert_eq!(a[0]["status_code"], 200);
            assert_eq!(a[0]["attempt"], 6);
        }
        let delivered = rx.delivered();
        for e in &events {
            assert_eq!(delivered.get(e), Some(&1), "event {e} delivered once");
        }
    }
);

both_backends!(http_410_disables_the_endpoint_at_once, |app| async move {
    let gone = Receiver::start().await;
    gone.set_status(410);
    let watcher = Receiver::start().await;
    let (gone_id, _) = add_endpoint(&app, &gone.url, json!(["customer.created"])).await;
    add_endpoint(&app, &watcher.url, json!(["webhook_endpoint.disabled"])).await;
    app.create_customer(json!({"type": "individual"})).await;
    let hits = watcher
        .wait("webhook_endpoint.disabled", WAIT, |h| !h.is_empty())
        .await;
    let body = hits[0].json();
    assert_eq!(body["type"], "webhook_endpoint.disabled");
    assert_eq!(body["data"]["endpoint_id"], gone_id.as_str());
    assert_eq!(body["data"]["reason"], "endpoint_gone");
    let (_, ep) = app.get(&format!("/v1/webhook_endpoints/{gone_id}")).await;
    assert_eq!(ep["status"], "disabled");
    assert_eq!(ep["disabled_reason"], "endpoint_gone");
    assert_eq!(gone.hits().len(), 1, "no retry after a 410");
    let created = event_ids(&app, "customer.created").await;
    let a = attempts(&app, &created[0]).await;
    assert_eq!(a[0]["status_code"], 410);
    assert_eq!(a[0]["delivery_status"], "failed");
    // New events skip the disabled endpoint; re-enabling brings it back.
    app.create_customer(json!({"type": "individual"})).await;
    let second = event_ids(&app, "customer.created").await.remove(1);
    assert_eq!(deliveries_made(&app, &second, Some(&gone_id)).await, 0);
    assert_eq!(gone.hits().len(), 1);
    gone.set_status(200);
    let (st, ep) = app
        .patch(
            &format!("/v1/webhook_endpoints/{gone_id}"),
            json!({"disabled": false}),
        )
        .await;
    assert_eq!(st, 200, "{ep}");
    assert_eq!(ep["status"], "enabled");
    assert!(ep["disabled_reason"].is_null());
    app.create_customer(json!({"type": "individual"})).await;
    gone.wait("a delivery after re-enabling", WAIT, |h| {
        h.iter().any(|h| h.ok())
    })
    .await;
});

#[tokio::test]
async fn five_days_of_continuous_failure_disable_the_endpoint() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let rx = Receiver::start().await;
    rx.set_status(503);
    let (id, _) = add_endpoint(&app, &rx.url, json!(["customer.created"])).await;
    for day in 0..6 {
        app.create_customer(json!({"type": "individual"})).await;
        rx.wait("a failed attempt", WAIT, |h| h.len() > day).await;
        let (_, ep) = app.get(&format!("/v1/webhook_endpoints/{id}")).await;
        if day < 5 {
            assert_eq!(ep["status"], "enabled", "day {day}: {ep}");
        }
        advance(&app, 86_400).await;
    }
    let ep = eventually("the endpoint disabled", WAIT, || async {
        let (_, ep) = app.get(&format!("/v1/webhook_endpoints/{id}")).await;
        (ep["status"] == "disabled").then_some(ep)
    })
    .await;
    assert_eq!(ep["disabled_reason"], "failing_for_5_days");
    let disabled = event_ids(&app, "webhook_endpoint.disabled").await;
    assert_eq!(disabled.len(), 1);
}

both_backends!(redeliver_sends_the_same_event_again, |app| async move {
    let a = Receiver::start().await;
    let b = Receiver::start().await;
    let (ea, _) = add_endpoint(&app, &a.url, json!(["*"])).await;
    let (eb, _) = add_endpoint(&app, &b.url, json!(["customer.created"])).await;
    app.create_customer(json!({"type": "individual"})).await;
    let evt = event_ids(&app, "customer.created").await.remove(0);
    a.wait("first delivery", WAIT, |h| h.len() == 1).await;
    b.wait("first delivery", WAIT, |h| h.len() == 1).await;

    let (st, v) = app
        .post(&format!("/v1/events/{evt}/redeliver"), json!({}))
        .await;
    assert_eq!(st, 202, "{v}");
    assert_eq!(v["deliveries"].as_array().unwrap().len(), 2);
    a.wait("redelivery", WAIT, |h| h.len() == 2).await;
    b.wait("redelivery", WAIT, |h| h.len() == 2).await;
    assert_eq!(a.delivered().get(&evt), Some(&2), "same webhook-id again");

    let (st, v) = app
        .post(
            &format!("/v1/events/{evt}/redeliver"),
            json!({"endpoint_id": eb}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    let queued: Vec<&Value> = v["deliveries"].as_array().unwrap().iter().collect();
    assert_eq!(queued.len(), 1, "only the named endpoint: {v}");
    b.wait("targeted redelivery", WAIT, |h| h.len() == 3).await;
    let log = eventually("3 attempts to b", WAIT, || async {
        let all = attempts(&app, &evt).await;
        let to_b: Vec<Value> = all
            .into_iter()
            .filter(|x| x["endpoint_id"] == eb.as_str())
            .collect();
        (to_b.len() == 3 && to_b[0]["status"] == "succeeded").then_some(to_b)
    })
    .await;
    assert_eq!(log[0]["attempt"], 3);
    let to_a = attempts(&app, &evt)
        .await
        .into_iter()
        .filter(|x| x["endpoint_id"] == ea.as_str())
        .count();
    assert_eq!(to_a, 2, "the targeted redelivery made no attempt to a");
    assert_eq!(a.hits().len(), 2, "only the named endpoint");

    let (st, v) = app
        .post(
            &format!("/v1/events/{evt}/redeliver"),
            json!({"endpoint_id": "we_nope"}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["error"]["code"].as_str()),
        (404, Some("resource_not_found"))
    );
    let (st, _) = app
        .patch(
            &format!("/v1/webhook_endpoints/{ea}"),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, v) = app
        .post(
            &format!("/v1/events/{evt}/redeliver"),
            json!({"endpoint_id": ea}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["error"]["code"].as_str()),
        (409, Some("endpoint_disabled"))
    );
    let (st, _) = app.post("/v1/events/evt_nope/redeliver", json!({})).await;
    assert_eq!(st, 404);
    let (st, _) = app
        .call(
            &app.live_key.clone(),
            reqwest::Method::POST,
            &format!("/v1/events/{evt}/redeliver"),
            None,
        )
        .await;
    assert_eq!(st, 404, "another environment cannot redeliver");
});

both_backends!(
    a_redelivery_requested_while_an_attempt_is_in_flight_is_not_lost,
    |app| async move {
        let rx = Receiver::start().await;
        rx.set_delay(Duration::from_millis(1500));
        add_endpoint(&app, &rx.url, json!(["customer.created"])).await;
        app.create_customer(json!({"type": "individual"})).await;
        let evt = event_ids(&app, "customer.created").await.remove(0);
        eventually("the first attempt in flight", WAIT, || async {
            (rx.started() == 1).then_some(())
        })
        .await;
        let (st, v) = app
            .post(&format!("/v1/events/{evt}/redeliver"), json!({}))
            .await;
        assert_eq!(st, 202, "{v}");
        rx.set_delay(Duration::ZERO);
        rx.wait("the first attempt and the redelivery", WAIT, |h| {
            h.iter().filter(|h| h.ok()).count() == 2
        })
        .await;
        let log = eventually("both attempts recorded", WAIT, || async {
            let a = attempts(&app, &evt).await;
            (a.len() == 2 && a.iter().all(|x| x["status"] == "succeeded")).then_some(a)
        })
        .await;
        assert_eq!(log[0]["delivery_status"], "succeeded");
    }
);

// README: redirects are not followed (a public endpoint could otherwise
// send deliveries on to a private address). The endpoint answers 302 to a
// second receiver: the attempt records the 302, and the attempt is recorded
// only once its request is over, so the second receiver's silence is final.
both_backends!(webhook_redirects_are_not_followed, |app| async move {
    let target = Receiver::start().await;
    let redirect_to = target.url.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let to = redirect_to.clone();
            async move { (axum::http::StatusCode::FOUND, [("location", to)], "") }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    add_endpoint(
        &app,
        &format!("http://{addr}/hooks"),
        json!(["customer.created"]),
    )
    .await;
    app.create_customer(json!({"type": "individual"})).await;
    let evt = event_ids(&app, "customer.created").await.remove(0);
    let log = eventually("the first attempt recorded", WAIT, || async {
        let a = attempts(&app, &evt).await;
        (!a.is_empty() && (a[0]["status_code"].is_number() || !a[0]["error"].is_null()))
            .then_some(a)
    })
    .await;
    assert_eq!(log[0]["status_code"], 302, "{}", log[0]);
    assert_eq!(log[0]["status"], "failed", "{}", log[0]);
    assert!(target.hits().is_empty(), "the redirect was followed");
});
