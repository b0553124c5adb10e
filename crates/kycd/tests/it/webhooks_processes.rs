//! Webhook delivery across real `kycd serve` processes: a process killed
//! with SIGKILL while 1,000 events are still to deliver loses none after a
//! restart; two processes on one PostgreSQL database deliver 1,000 events
//! without any attempt made twice.

use crate::common::{
    MASTER_KEY, Server, add_endpoint, claimed_in, fresh_postgres_url, post_ok as post, temp_dir,
    webhook_env,
};
use crate::receiver::Receiver;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const N: usize = 1000;

/// Creates `N` customers through the given servers in turn, 16 at a time.
async fn create_customers(client: &reqwest::Client, bases: &[String], key: &str) {
    futures::stream::iter(0..N)
        .map(|i| {
            let base = bases[i % bases.len()].clone();
            async move {
                post(
                    client,
                    &base,
                    key,
                    "/v1/customers",
                    json!({"type": "individual", "external_id": format!("wh-{i}")}),
                )
                .await;
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
}

/// Every customer.created event id, through the API.
async fn created_event_ids(client: &reqwest::Client, base: &str, key: &str) -> HashSet<String> {
    crate::common::list_all(client, base, key, "/v1/events?type=customer.created")
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

async fn wait_delivered(rx: &Receiver, want: &HashSet<String>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let got: HashSet<String> = rx.delivered().into_keys().collect();
        if want.is_subset(&got) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} events delivered",
            want.intersection(&got).count(),
            want.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_1000_events_to_deliver_then_restart_delivers_every_event() {
    let _heavy = crate::common::heavy().await;
    let dir = temp_dir("webhooks-kill");
    // 1,000 creates as fast as the server goes, from one key.
    let env = webhook_env("warn", &[]);
    let client = reqwest::Client::new();
    let rx = Receiver::start().await;
    // Down while the events are committed: every first attempt fails.
    rx.set_down(true);
    let first = Server::start(&dir, "first", &[], &env);
    let key = first
        .sandbox_key()
        .expect("first start prints the sandbox key");
    add_endpoint(&client, &first.base, &key, &rx.url, &["customer.created"]).await;
    create_customers(&client, std::slice::from_ref(&first.base), &key).await;
    let events = created_event_ids(&client, &first.base, &key).await;
    assert_eq!(events.len(), N);
    // Then up but hanging: the retries (5 s later) are in flight, under lease, when the process dies.
    rx.set_down(false);
    rx.set_delay(Duration::from_secs(600));
    let deadline = Instant::now() + Duration::from_secs(30);
    while rx.started() < 32 {
        assert!(Instant::now() < deadline, "retries did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = first.stop(); // SIGKILL
    assert!(
        rx.delivered().is_empty(),
        "all {N} events were still to deliver"
    );
    assert!(!log.contains("panicked"), "{log}");

    rx.set_delay(Duration::ZERO);
    let second = Server::start(&dir, "second", &[], &env);
    assert!(
        second.sandbox_key().is_none(),
        "the restart reuses the database"
    );
    // The attempts cut short by the kill come back when their lease expires (30 s).
    wait_delivered(&rx, &events, Duration::from_secs(120)).await;
    let delivered = rx.delivered();
    assert_eq!(delivered.len(), N, "exactly the committed events");
    second.stop();
}

/// SIGTERM while attempts are in flight: the process stops taking requests,
/// lets the receiver answer every attempt under way, records each, then
/// exits 0. A restart without workers (so nothing is retried) finds every
/// attempt the receiver saw recorded as succeeded, none left in progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_deliveries_records_every_attempt_before_exit() {
    const EVENTS: usize = 20;
    let dir = temp_dir("webhooks-sigterm");
    let env = webhook_env("info", &[]);
    let client = reqwest::Client::new();
    let rx = Receiver::start().await;
    rx.set_delay(Duration::from_secs(2));
    let server = Server::start(&dir, "sigterm", &[], &env);
    let key = server.sandbox_key().expect("first start prints the key");
    add_endpoint(&client, &server.base, &key, &rx.url, &["customer.created"]).await;
    for i in 0..EVENTS {
        post(
            &client,
            &server.base,
            &key,
            "/v1/customers",
            json!({"type": "individual", "external_id": format!("term-{i}")}),
        )
        .await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while rx.started() < EVENTS {
        assert!(Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rx.hits().is_empty(), "every attempt is still in flight");
    let (clean, log) = server.terminate(Duration::from_secs(30));
    assert!(clean, "SIGTERM ends the process with success: {log}");
    assert!(log.contains("background workers stopped"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    let answered: HashSet<String> = rx.delivered().into_keys().collect();
    assert_eq!(
        answered.len(),
        EVENTS,
        "the receiver answered every attempt"
    );

    let env_no_workers = [
        ("KYCD_MASTER_KEY", MASTER_KEY),
        ("KYCD_LOG", "warn"),
        ("KYCD_WORKERS", "false"),
        ("KYCD_RATE_LIMIT", "0"),
    ];
    let second = Server::start(&dir, "sigterm-after", &[], &env_no_workers);
    let events = created_event_ids(&client, &second.base, &key).await;
    assert_eq!(
        events, answered,
        "the receiver saw exactly the committed events"
    );
    for id in &events {
        let res = client
            .get(format!("{}/v1/events/{id}/deliveries", second.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("request");
        let attempts: Value = res.json().await.expect("json");
        let attempts = attempts["data"].as_array().expect("data").clone();
        assert_eq!(attempts.len(), 1, "{id}: {attempts:?}");
        assert_eq!(attempts[0]["status"], "succeeded", "{id}: {attempts:?}");
        assert_eq!(attempts[0]["status_code"], 200, "{id}: {attempts:?}");
    }
    second.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn two_processes_on_one_postgres_share_deliveries_and_never_attempt_twice() {
    let _heavy = crate::common::heavy().await;
    let db = fresh_postgres_url().await;
    let dir = temp_dir("webhooks-two");
    // 1,000 creates as fast as the servers go, from one key.
    let env = webhook_env(
        "warn,kycd::webhooks=debug",
        &[("KYCD_DATABASE_URL", &db), ("KYCD_LOG_FORMAT", "json")],
    );
    let client = reqwest::Client::new();
    let rx = Receiver::start().await;
    let a = Server::start(&dir, "a", &[], &env);
    let key = a.sandbox_key().expect("first start prints the sandbox key");
    let b = Server::start(&dir, "b", &[], &env);
    add_endpoint(&client, &a.base, &key, &rx.url, &["customer.created"]).await;
    create_customers(&client, &[a.base.clone(), b.base.clone()], &key).await;
    let events = created_event_ids(&client, &b.base, &key).await;
    assert_eq!(events.len(), N);
    wait_delivered(&rx, &events, Duration::from_secs(120)).await;
    // Not "nothing more arrived after a pause": the database says every
    // delivery succeeded (so none will be claimed again), and an attempt row
    // is written before its request is sent, so the attempt count covers
    // every request either process made or is still making.
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = sqlx::query("SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let succeeded = sqlx::Row::get::<i64, _>(&row, 0);
        if succeeded == N as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{succeeded} of {N} deliveries recorded as succeeded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = sqlx::query(
        "SELECT COUNT(*), COUNT(DISTINCT delivery_id), MAX(attempt) FROM delivery_attempts",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let (attempts, deliveries, max): (i64, i64, i64) = (
        sqlx::Row::get(&row, 0),
        sqlx::Row::get(&row, 1),
        sqlx::Row::get(&row, 2),
    );
    assert_eq!(
        (attempts, deliveries, max),
        (N as i64, N as i64, 1),
        "one attempt per delivery"
    );
    let delivered = rx.delivered();
    assert_eq!(delivered.len(), N);
    assert!(
        delivered.values().all(|n| *n == 1),
        "an event was delivered twice"
    );
    assert_eq!(rx.hits().len(), N, "no request beyond one per event");

    let (log_a, log_b) = (a.stop(), b.stop());
    let (by_a, by_b) = (claimed_in(&log_a), claimed_in(&log_b));
    eprintln!("attempts claimed: process a {by_a}, process b {by_b}");
    assert_eq!(by_a + by_b, N as u64, "{log_a}\n{log_b}");
    assert!(
        by_a > 0 && by_b > 0,
        "both processes delivered: a {by_a}, b {by_b}"
    );
}
