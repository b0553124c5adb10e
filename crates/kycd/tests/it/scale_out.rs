//! Scale-out: three `kycd serve` processes on one PostgreSQL database, load
//! sent to all three in turn, one of them killed with SIGKILL while it holds
//! webhook attempts. Every webhook attempt is made once (a killed node's
//! attempts come back to the others when their lease ends), every event is
//! delivered, each re-screening hold and each expiry happens once.

use crate::common::{
    Server, add_endpoint, claimed_in, fresh_postgres_url, post_ok as call, temp_dir, webhook_env,
};
use crate::receiver::Receiver;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 90;
/// Customers whose names a list update adds (re-screening puts them on hold).
const LISTED: [(&str, &str); 6] = [
    ("Zebulon", "Quarrington"),
    ("Isolde", "Vanterpool"),
    ("Thaddeus", "Okonkwo-Reyes"),
    ("Marisol", "Przybylski"),
    ("Evander", "Castellanos-Whit"),
    ("Octavia", "Lindqvist-Moreau"),
];

fn person(i: usize) -> Value {
    let (first, last) = LISTED.get(i).copied().unwrap_or(("Ada", "Lovelace"));
    json!({
        "type": "individual",
        "external_id": format!("scale-{i}"),
        "individual": {
            "first_name": first, "last_name": last, "date_of_birth": "1990-01-31",
            "nationality": "BR", "email": format!("p{i}@example.com"), "email_verified": true,
            "phone": "+5511999990000", "phone_verified": true
        },
        "addresses": [{"line1": "Rua A, 1", "city": "São Paulo", "region": "SP", "postal_code": "01000-000", "country": "BR", "primary": true}]
    })
}

fn list_csv(with_listed: bool) -> String {
    let mut s = "id,name,type\nX0,Placeholder Holdings Anstalt,organization\n".to_string();
    if with_listed {
        for (i, (first, last)) in LISTED.iter().enumerate() {
            s.push_str(&format!("L{i},{first} {last},person\n"));
        }
    }
    s
}

async fn scalar(conn: &mut sqlx::AnyConnection, sql: &str) -> i64 {
    let row = sqlx::query(sql).fetch_one(conn).await.expect(sql);
    sqlx::Row::get::<i64, _>(&row, 0)
}

/// Waits until `sql` (a count) reaches `want`.
async fn wait_count(conn: &mut sqlx::AnyConnection, sql: &str, want: i64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let n = scalar(conn, sql).await;
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {n}, want {want}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn three_processes_share_the_work_and_a_killed_one_loses_nothing() {
    let _heavy = crate::common::heavy().await;
    let db = fresh_postgres_url().await;
    let dir = temp_dir("scale-out");
    let list = dir.join("list.csv");
    std::fs::write(&list, list_csv(false)).unwrap();
    let sources = format!("csv:{}", list.display());
    let env = webhook_env(
        "warn,kycd::webhooks=debug",
        &[
            ("KYCD_DATABASE_URL", &db),
            ("KYCD_LOG_FORMAT", "json"),
            ("KYCD_TICK_MS", "200"),
            ("KYCD_SCREENING_SOURCES", &sources),
            ("KYCD_SCREENING_REFRESH_SECS", "1"),
        ],
    );
    let client = reqwest::Client::new();
    let rx = Receiver::start().await;
    let a = Server::start(&dir, "a", &[], &env);
    let key = a.sandbox_key().expect("first start prints the sandbox key");
    let b = Server::start(&dir, "b", &[], &env);
    let c = Server::start(&dir, "c", &[], &env);
    let bases = [a.base.clone(), b.base.clone(), c.base.clone()];
    add_endpoint(&client, &a.base, &key, &rx.url, &["*"]).await;
    // Slow answers: attempts stay in flight long enough for the kill to
    // catch some of them in process c.
    rx.set_delay(Duration::from_millis(300));

    // Create, start and approve every customer, each step through the next node.
    let ids: Vec<String> = futures::stream::iter(0..CUSTOMERS)
        .map(|i| {
            let client = &client;
            let (key, bases) = (&key, &bases);
            async move {
                let node = |k: usize| bases[(i + k) % bases.len()].clone();
                let c = call(client, &node(0), key, "/v1/customers", person(i)).await;
                let id = c["id"].as_str().unwrap().to_string();
                call(
                    client,
                    &node(1),
                    key,
                    &format!("/v1/customers/{id}/verification"),
                    json!({}),
                )
                .await;
                let path = format!("/v1/test_helpers/customers/{id}/verification");
                let v = call(client, &node(2), key, &path, json!({"status": "approved"})).await;
                assert_eq!(v["status"], "active", "{v}");
                id
            }
        })
        .buffer_unordered(12)
        .collect()
        .await;
    assert_eq!(ids.len(), CUSTOMERS);

    // SIGKILL process c while it holds attempts.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rx.started() < 10 {
        assert!(Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log_c = c.stop(); // SIGKILL: no shutdown, leases left held
    rx.set_delay(Duration::ZERO);

    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db)
        .await
        .unwrap();

    // Re-screening: the list gains the names of six customers; both live
    // nodes reload it, and each of the six goes on hold exactly once.
    std::fs::write(&list, list_csv(true)).unwrap();
    wait_count(
        &mut conn,
        "SELECT COUNT(*) FROM customers WHERE status = 'on_hold'",
        LISTED.len() as i64,
        Duration::from_secs(30),
    )
    .await;

    // Expiry: the sandbox clock jumps ten years; both schedulers race.
    call(
        &client,
        &a.base,
        &key,
        "/v1/test_helpers/clock/advance",
        json!({"days": 3650}),
    )
    .await;
    let active = (CUSTOMERS - LISTED.len()) as i64;
    wait_count(
        &mut conn,
        "SELECT COUNT(*) FROM customers WHERE status = 'expired'",
        active,
        Duration::from_secs(30),
    )
    .await;
    // Each hold and each expiry once: one history row per customer for each.
    for (to, want) in [("on_hold", LISTED.len() as i64), ("expired", active)] {
        let rows = scalar(
            &mut conn,
            &format!("SELECT COUNT(*) FROM status_history WHERE to_status = '{to}'"),
        )
        .await;
        assert_eq!(rows, want, "{to} rows");
        let twice = scalar(
            &mut conn,
            &format!("SELECT COUNT(*) FROM (SELECT customer_id FROM status_history WHERE to_status = '{to}' GROUP BY customer_id HAVING COUNT(*) > 1) t"),
        )
        .await;
        assert_eq!(twice, 0, "a customer went {to} twice");
    }

    // Every delivery succeeds: c's attempts come back to a and b once their
    // 30 s lease ends. An attempt row is written before its request, so
    // rows = requests made, and (delivery, attempt) is unique.
    let deliveries = scalar(&mut conn, "SELECT COUNT(*) FROM deliveries").await;
    let events = scalar(
        &mut conn,
        "SELECT COUNT(*) FROM events WHERE environment = 'sandbox'",
    )
    .await;
    assert_eq!(
        deliveries, events,
        "one delivery per event to the one endpoint"
    );
    wait_count(
        &mut conn,
        "SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'",
        deliveries,
        Duration::from_secs(120),
    )
    .await;
    let attempts = scalar(&mut conn, "SELECT COUNT(*) FROM delivery_attempts").await;
    let retried = scalar(
        &mut conn,
        "SELECT COUNT(*) FROM deliveries WHERE attempts > 1",
    )
    .await;
    let max_attempt = scalar(&mut conn, "SELECT MAX(attempt) FROM delivery_attempts").await;
    assert!(
        max_attempt <= 2,
        "an attempt beyond the one the kill cut short: {max_attempt}"
    );
    assert_eq!(
        attempts,
        deliveries + retried,
        "one attempt each, plus one per attempt the kill cut"
    );
    let delivered = rx.delivered();
    let event_ids: HashSet<String> = delivered.keys().cloned().collect();
    assert_eq!(
        event_ids.len() as i64,
        events,
        "every event reached the receiver"
    );
    assert!(
        rx.hits().len() as i64 <= attempts,
        "no request without its attempt row"
    );
    let twice = delivered.values().filter(|n| **n > 1).count() as i64;
    assert!(
        twice <= retried,
        "{twice} events delivered twice, {retried} retried"
    );

    let (log_a, log_b) = (a.stop(), b.stop());
    let by = [claimed_in(&log_a), claimed_in(&log_b), claimed_in(&log_c)];
    eprintln!(
        "{events} events, {attempts} attempts ({retried} after the kill); claimed by a/b/c: {by:?}"
    );
    assert!(by.iter().all(|n| *n > 0), "every process delivered: {by:?}");
}
