//! Crash-safe idempotency across a real `kycd serve` killed with SIGKILL:
//! 32 clients create customers with Idempotency-Keys, the process is killed
//! mid-load, and after the restart every acknowledged create is there and
//! retrying every key (acknowledged or in flight) answers at once (no 409
//! from a claim held by the dead process) and creates nothing twice. Run on
//! SQLite and on PostgreSQL.

use crate::common::{MASTER_KEY, Server, fresh_postgres_url, temp_dir};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;

fn body(key: &str) -> Value {
    // No external_id: nothing but the Idempotency-Key prevents a duplicate.
    json!({"type": "individual", "individual": {"first_name": "Crash", "last_name": "Test"},
           "metadata": {"idempotency_key": key}})
}

async fn create(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
    key: &str,
) -> Result<(u16, Value, bool), reqwest::Error> {
    let res = client
        .post(format!("{base}/v1/customers"))
        .bearer_auth(api_key)
        .header("Idempotency-Key", key)
        .json(&body(key))
        .send()
        .await?;
    let status = res.status().as_u16();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    Ok((status, res.json().await?, replayed))
}

/// How many customers carry each key in their metadata, over every page.
async fn customers_per_key(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for c in crate::common::list_all(client, base, api_key, "/v1/customers").await {
        let k = c["metadata"]["idempotency_key"]
            .as_str()
            .unwrap()
            .to_string();
        *out.entry(k).or_insert(0) += 1;
    }
    out
}

async fn kill_mid_load_then_retry(database_url: Option<String>) {
    let dir = temp_dir("idem-crash");
    let mut extra = vec![];
    if let Some(u) = &database_url {
        extra = vec!["--database-url", u.as_str()];
    }
    // Rate limits off: 32 clients from one key on purpose.
    let env = [("KYCD_MASTER_KEY", MASTER_KEY), ("KYCD_RATE_LIMIT", "0")];
    let server = Server::start(&dir, "first", &extra, &env);
    let api_key = server
        .sandbox_key()
        .expect("first start prints the sandbox key");
    let base = server.base.clone();
    let client = reqwest::Client::new();

    // 32 clients create until the process dies; each remembers its keys.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut tasks = vec![];
    for c in 0..CLIENTS {
        let (client, base, api_key, acked) = (
            client.clone(),
            base.clone(),
            api_key.clone(),
            acknowledged.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut done: Vec<(String, String)> = vec![];
            let mut in_flight = None;
            for n in 0.. {
                let key = format!("crash-{c}-{n}");
                match create(&client, &base, &api_key, &key).await {
                    Ok((201, v, _)) => {
                        done.push((key, v["id"].as_str().unwrap().to_string()));
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok((status, v, _)) => panic!("{key}: {status} {v}"),
                    Err(_) => {
                        in_flight = Some(key);
                        break;
                    }
                }
            }
            (done, in_flight)
        }));
    }
    let start = Instant::now();
    while acknowledged.load(Ordering::SeqCst) < 300 {
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop(); // SIGKILL, with requests in flight
    let mut done = vec![];
    let mut in_flight = vec![];
    for t in tasks {
        let (d, f) = t.await.unwrap();
        done.extend(d);
        in_flight.extend(f);
    }
    assert_eq!(
        in_flight.len(),
        CLIENTS,
        "every client had a request in flight"
    );

    let server = Server::start(&dir, "second", &extra, &env);
    let base = server.base.clone();
    // Every acknowledged create survived, and its key replays it.
    for (key, id) in &done {
        let (status, v, replayed) = create(&client, &base, &api_key, key).await.unwrap();
        assert_eq!(
            (status, v["id"].as_str()),
            (201, Some(id.as_str())),
            "{key}: {v}"
        );
        assert!(replayed, "{key} replays");
    }
    // Every key in flight at the kill is retryable at once: its effect either
    // committed (replayed) or did not (created now), never 409.
    let mut retried = HashMap::new();
    for key in &in_flight {
        let (status, v, _) = create(&client, &base, &api_key, key).await.unwrap();
        assert_eq!(status, 201, "{key}: {v}");
        retried.insert(key.clone(), v["id"].as_str().unwrap().to_string());
    }
    // Again: now all replay the same customer.
    for (key, id) in &retried {
        let (status, v, replayed) = create(&client, &base, &api_key, key).await.unwrap();
        assert_eq!(
            (status, v["id"].as_str(), replayed),
            (201, Some(id.as_str()), true)
        );
    }
    // Nothing was created twice.
    let counts = customers_per_key(&client, &base, &api_key).await;
    for key in done.iter().map(|(k, _)| k).chain(in_flight.iter()) {
        assert_eq!(counts.get(key), Some(&1), "{key} created once");
    }
    assert_eq!(counts.len(), done.len() + in_flight.len());
    assert!(counts.values().all(|n| *n == 1));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_load_sqlite() {
    let _heavy = crate::common::heavy().await;
    kill_mid_load_then_retry(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn kill_9_mid_load_postgres() {
    let _heavy = crate::common::heavy().await;
    let url = fresh_postgres_url().await;
    kill_mid_load_then_retry(Some(url)).await;
}
