//! Group commit against real `kycd serve` processes, on SQLite and
//! PostgreSQL: a create acknowledged is durable with its event even when the
//! process is killed (SIGKILL) in the middle of concurrent creates; a create
//! failing inside a group (a duplicate external_id: a unique violation in the
//! shared transaction) is undone alone while its neighbours of the same
//! group commit; two requests with one Idempotency-Key create one customer;
//! a group retried after a failing create (its first attempt, without
//! savepoints, rolled back) keeps its neighbours' Idempotency-Key records.

use crate::common::{MASTER_KEY, Server, fresh_postgres_url, temp_dir};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Rate limits off: many clients share one key on purpose.
const ENV: [(&str, &str); 2] = [("KYCD_MASTER_KEY", MASTER_KEY), ("KYCD_RATE_LIMIT", "0")];

/// `--database-url` for PostgreSQL; SQLite is the data dir's default file.
fn database_args(url: &Option<String>) -> Vec<String> {
    match url {
        Some(u) => vec!["--database-url".into(), u.clone()],
        None => vec![],
    }
}

fn individual(tag: &str) -> Value {
    json!({"type": "individual", "external_id": tag,
           "individual": {"first_name": "Group", "last_name": "Commit", "email": format!("{tag}@example.com")},
           "identifiers": [{"type": "cpf", "value": "529.982.247-25"}]})
}

async fn post_create(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
    body: &Value,
    idempotency_key: Option<&str>,
) -> reqwest::Result<(u16, Value, bool)> {
    let mut req = client
        .post(format!("{base}/v1/customers"))
        .bearer_auth(api_key)
        .json(body);
    if let Some(k) = idempotency_key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    Ok((status, res.json().await.unwrap_or_default(), replayed))
}

/// The database of a stopped server, opened directly.
async fn open_store(dir: &std::path::Path, url: &Option<String>) -> kycd_store::Store {
    let url = match url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", dir.join("data").join("kycd.db").display()),
    };
    kycd_store::Store::connect(&url).await.unwrap()
}

async fn count(store: &kycd_store::Store, sql: &str) -> i64 {
    use sqlx::Row;
    let mut conn = store.reader().await.unwrap();
    sqlx::query(sql)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn kill_9_during_creates(database_url: Option<String>) {
    const CLIENTS: usize = 16;
    let dir = temp_dir("group-kill");
    // Group commit asked for explicitly, whatever the default.
    let mut args = database_args(&database_url);
    args.extend(["--group-commit".into(), "on".into()]);
    let extra: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&dir, "first", &extra, &ENV);
    let api_key = server
        .sandbox_key()
        .expect("the first start prints the key");
    let base = server.base.clone();
    let client = reqwest::Client::new();

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
            let mut done: Vec<String> = vec![];
            for n in 0.. {
                match post_create(
                    &client,
                    &base,
                    &api_key,
                    &individual(&format!("k-{c}-{n}")),
                    None,
                )
                .await
                {
                    Ok((201, v, _)) => {
                        done.push(v["id"].as_str().unwrap().to_string());
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok((status, v, _)) => panic!("{c}-{n}: {status} {v}"),
                    // The process died under it.
                    Err(_) => break,
                }
            }
            done
        }));
    }
    let start = Instant::now();
    while acknowledged.load(Ordering::SeqCst) < 200 {
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop(); // SIGKILL, creates in flight
    let mut done = vec![];
    for t in tasks {
        done.extend(t.await.unwrap());
    }

    // Every create acknowledged before the kill is there, with its event.
    let server = Server::start(&dir, "second", &extra, &ENV);
    for id in &done {
        let res = client
            .get(format!("{}/v1/customers/{id}", server.base))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{id} acknowledged, then lost");
        let events: Value = client
            .get(format!(
                "{}/v1/events?type=customer.created&customer_id={id}",
                server.base
            ))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            events["data"].as_array().map(Vec::len),
            Some(1),
            "{id}: {events}"
        );
    }
    server.stop();
    // Nothing half-written: no customer without its event, its audit row or
    // its usage record, no event without its customer.
    let store = open_store(&dir, &database_url).await;
    let customers = count(&store, "SELECT COUNT(*) FROM customers").await;
    assert!(
        customers as usize >= done.len(),
        "{customers} < {}",
        done.len()
    );
    for (what, sql) in [
        (
            "customer without event",
            "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS \
             (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.type = 'customer.created')",
        ),
        (
            "event without customer",
            "SELECT COUNT(*) FROM events e WHERE e.type = 'customer.created' AND NOT EXISTS \
             (SELECT 1 FROM customers c WHERE c.id = e.customer_id)",
        ),
        (
            "customer without audit row",
            "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS \
             (SELECT 1 FROM audit_log a WHERE a.resource_id = c.id AND a.action = 'customer.create')",
        ),
        (
            "customer without usage record",
            "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS \
             (SELECT 1 FROM usage_records u WHERE u.resource_id = c.id)",
        ),
        (
            "customer without data key",
            "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS \
             (SELECT 1 FROM customer_keys k WHERE k.customer_id = c.id)",
        ),
    ] {
        assert_eq!(count(&store, sql).await, 0, "{what}");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_group_commits_sqlite() {
    let _heavy = crate::common::heavy().await;
    kill_9_during_creates(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn kill_9_during_group_commits_postgres() {
    let _heavy = crate::common::heavy().await;
    kill_9_during_creates(Some(fresh_postgres_url().await)).await;
}

/// The group commits so far: (transactions, creates in them), from `/metrics`.
async fn group_commits(client: &reqwest::Client, base: &str) -> (u64, u64) {
    (
        counter(client, base, "kycd_group_commit_size_count").await,
        counter(client, base, "kycd_group_commit_size_sum").await,
    )
}

/// A server whose groups wait (up to `linger_ms`) until `size` creates are queued.
fn grouping_server(
    dir: &std::path::Path,
    database_url: &Option<String>,
    size: usize,
    linger_ms: u64,
) -> Server {
    let mut args = database_args(database_url);
    args.extend([
        "--group-commit".into(),
        "on".into(),
        "--group-commit-max".into(),
        size.to_string(),
        "--group-commit-linger-ms".into(),
        linger_ms.to_string(),
    ]);
    let extra: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(dir, "grouping", &extra, &ENV)
}

async fn failing_create_spares_its_group(database_url: Option<String>) {
    const GROUP: usize = 8;
    let dir = temp_dir("group-neighbours");
    let server = grouping_server(&dir, &database_url, GROUP, 10_000);
    let api_key = server.sandbox_key().unwrap();
    let client = reqwest::Client::new();
    // The external_id to collide with, taken through the batch endpoint (its
    // own transaction, not a group commit).
    crate::common::post_ok(
        &client,
        &server.base,
        &api_key,
        "/v1/customers/batch",
        json!({"customers": [individual("taken")]}),
    )
    .await;
    assert_eq!(group_commits(&client, &server.base).await, (0, 0));

    // One group: seven new customers and one duplicate external_id.
    let mut tasks = vec![];
    for n in 0..GROUP {
        let tag = if n == GROUP / 2 {
            "taken".to_string()
        } else {
            format!("fresh-{n}")
        };
        let (client, base, api_key) = (client.clone(), server.base.clone(), api_key.clone());
        tasks.push(tokio::spawn(async move {
            let (status, v, _) = post_create(&client, &base, &api_key, &individual(&tag), None)
                .await
                .unwrap();
            (tag, status, v)
        }));
    }
    let mut created = vec![];
    for t in tasks {
        let (tag, status, v) = t.await.unwrap();
        if tag == "taken" {
            assert_eq!(status, 409, "the duplicate fails alone: {v}");
            assert_eq!(v["error"]["param"], "external_id", "{v}");
        } else {
            assert_eq!(status, 201, "{tag}: a neighbour of the failing create: {v}");
            created.push(v["id"].as_str().unwrap().to_string());
        }
    }
    // They shared one transaction: one group commit of all eight.
    assert_eq!(
        group_commits(&client, &server.base).await,
        (1, GROUP as u64),
        "one group of {GROUP}"
    );
    for id in &created {
        let res = client
            .get(format!("{}/v1/customers/{id}", server.base))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{id}");
    }
    let taken = crate::common::list_all(
        &client,
        &server.base,
        &api_key,
        "/v1/customers?external_id=taken",
    )
    .await;
    assert_eq!(taken.len(), 1, "the first 'taken' stays alone");
    server.stop();
    let store = open_store(&dir, &database_url).await;
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM customers").await,
        GROUP as i64,
        "seven from the group and the first 'taken'"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM events WHERE type = 'customer.created'"
        )
        .await,
        GROUP as i64,
        "the failed create left no event"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_create_spares_its_group_sqlite() {
    failing_create_spares_its_group(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn failing_create_spares_its_group_postgres() {
    failing_create_spares_its_group(Some(fresh_postgres_url().await)).await;
}

async fn one_key_twice_at_once(database_url: Option<String>) {
    const SAME_KEY: usize = 2;
    let dir = temp_dir("group-idem");
    // Groups wait (up to a second) for two creates: both requests would
    // share one if both got as far as the committer.
    let server = grouping_server(&dir, &database_url, SAME_KEY, 1_000);
    let api_key = server.sandbox_key().unwrap();
    let client = reqwest::Client::new();
    let body = individual("same-key");
    let mut tasks = vec![];
    for _ in 0..SAME_KEY {
        let (client, base, api_key, body) = (
            client.clone(),
            server.base.clone(),
            api_key.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            post_create(&client, &base, &api_key, &body, Some("one-key"))
                .await
                .unwrap()
        }));
    }
    let mut fresh = vec![];
    let mut answers = vec![];
    for t in tasks {
        let (status, v, replayed) = t.await.unwrap();
        match (status, replayed) {
            (201, false) => fresh.push(v["id"].as_str().unwrap().to_string()),
            (201, true) => answers.push(v["id"].as_str().unwrap().to_string()),
            (409, _) => assert_eq!(v["error"]["code"], "idempotency_key_in_use", "{v}"),
            other => panic!("{other:?}: {v}"),
        }
    }
    assert_eq!(fresh.len(), 1, "one request creates");
    assert!(
        answers.iter().all(|id| *id == fresh[0]),
        "a replay is of it"
    );
    // Afterwards the key replays it.
    let (status, v, replayed) =
        post_create(&client, &server.base, &api_key, &body, Some("one-key"))
            .await
            .unwrap();
    assert_eq!(
        (status, v["id"].as_str(), replayed),
        (201, Some(fresh[0].as_str()), true)
    );
    let same = crate::common::list_all(
        &client,
        &server.base,
        &api_key,
        "/v1/customers?external_id=same-key",
    )
    .await;
    assert_eq!(same.len(), 1, "one customer");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_twice_at_once_sqlite() {
    one_key_twice_at_once(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn one_idempotency_key_twice_at_once_postgres() {
    one_key_twice_at_once(Some(fresh_postgres_url().await)).await;
}

/// A counter of `/metrics` (0 when absent).
async fn counter(client: &reqwest::Client, base: &str, name: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.trim().parse::<f64>().unwrap() as u64)
        .unwrap_or(0)
}

/// Sends `bodies` at once (each with its Idempotency-Key, if any), so that
/// they make one group, the last one `last_after` later (queued after the
/// others); their answers in order.
async fn one_group(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
    bodies: Vec<(Value, Option<String>)>,
    last_after: Duration,
) -> Vec<(u16, Value, bool)> {
    let mut tasks = vec![];
    let n = bodies.len();
    for (i, (body, key)) in bodies.into_iter().enumerate() {
        if i + 1 == n {
            tokio::time::sleep(last_after).await;
        }
        let (client, base, api_key) = (client.clone(), base.to_string(), api_key.to_string());
        tasks.push(tokio::spawn(async move {
            post_create(&client, &base, &api_key, &body, key.as_deref())
                .await
                .unwrap()
        }));
    }
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

/// A group is first written without savepoints; when one create fails, that
/// attempt rolls back and the group is written again with savepoints. The
/// rolled-back attempt must leave each request's Idempotency-Key claim as it
/// was: a neighbour sent with a key is recorded by the second attempt and
/// replays its response afterwards, and the failing create's key replays its
/// error. A group where nothing fails commits at the first attempt.
async fn retried_group_keeps_idempotency(database_url: Option<String>) {
    const GROUP: usize = 4;
    const RETRIES: &str = "kycd_group_commit_retries_total";
    let dir = temp_dir("group-retry");
    let server = grouping_server(&dir, &database_url, GROUP, 10_000);
    let api_key = server.sandbox_key().unwrap();
    let client = reqwest::Client::new();
    let base = server.base.clone();
    crate::common::post_ok(
        &client,
        &base,
        &api_key,
        "/v1/customers/batch",
        json!({"customers": [individual("taken")]}),
    )
    .await;

    // A group where every create succeeds: one attempt, no retry.
    let clean: Vec<(Value, Option<String>)> = (0..GROUP)
        .map(|n| {
            (
                individual(&format!("clean-{n}")),
                Some(format!("clean-key-{n}")),
            )
        })
        .collect();
    for (status, v, replayed) in
        one_group(&client, &base, &api_key, clean.clone(), Duration::ZERO).await
    {
        assert_eq!((status, replayed), (201, false), "{v}");
    }
    assert_eq!(group_commits(&client, &base).await, (1, GROUP as u64));
    assert_eq!(counter(&client, &base, RETRIES).await, 0, "nothing failed");

    // A group where one create fails: rolled back, written again. The
    // failing create is sent last, so that the neighbours ahead of it in the
    // group (their order is their arrival) wrote their Idempotency-Key
    // records in the rolled-back attempt before it failed.
    let bodies = vec![
        (
            individual("neighbour-keyed"),
            Some("neighbour-key".to_string()),
        ),
        (individual("neighbour-plain"), None),
        (
            individual("neighbour-keyed-2"),
            Some("neighbour-key-2".to_string()),
        ),
        (individual("taken"), Some("failing-key".to_string())),
    ];
    let answers = one_group(
        &client,
        &base,
        &api_key,
        bodies.clone(),
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(group_commits(&client, &base).await, (2, 2 * GROUP as u64));
    assert_eq!(
        counter(&client, &base, RETRIES).await,
        1,
        "one group retried"
    );
    let mut ids = vec![];
    for ((body, _), (status, v, replayed)) in bodies.iter().zip(&answers) {
        if body["external_id"] == "taken" {
            assert_eq!((*status, *replayed), (409, false), "{v}");
            assert_eq!(v["error"]["param"], "external_id", "{v}");
        } else {
            assert_eq!((*status, *replayed), (201, false), "{body}: {v}");
            ids.push(v["id"].as_str().unwrap().to_string());
        }
    }

    // Each key replays what its request was answered, the second attempt's
    // customer (the first attempt's ids were rolled back with it).
    for ((body, key), (status, v, _)) in bodies.iter().zip(&answers) {
        let Some(key) = key else { continue };
        let (again, replay, replayed) = post_create(&client, &base, &api_key, body, Some(key))
            .await
            .unwrap();
        assert_eq!((again, replayed), (*status, true), "{key}: {replay}");
        match status {
            201 => assert_eq!(&replay, v, "{key}: the same customer"),
            _ => assert_eq!(
                replay["error"]["code"], v["error"]["code"],
                "{key}: {replay}"
            ),
        }
    }
    for (n, (body, key)) in clean.iter().enumerate() {
        let (again, _, replayed) = post_create(&client, &base, &api_key, body, key.as_deref())
            .await
            .unwrap();
        assert_eq!((again, replayed), (201, true), "clean-key-{n}");
    }
    // The replays created nothing: one customer per external_id.
    for tag in [
        "neighbour-keyed",
        "neighbour-plain",
        "neighbour-keyed-2",
        "taken",
    ] {
        let found = crate::common::list_all(
            &client,
            &base,
            &api_key,
            &format!("/v1/customers?external_id={tag}"),
        )
        .await;
        assert_eq!(found.len(), 1, "{tag}");
    }
    for id in &ids {
        let res = client
            .get(format!("{base}/v1/customers/{id}"))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{id}");
    }
    server.stop();
    // Nothing of the rolled-back attempt stayed: one event, audit row and
    // usage record per customer.
    let store = open_store(&dir, &database_url).await;
    let customers = count(&store, "SELECT COUNT(*) FROM customers").await;
    assert_eq!(
        customers,
        1 + GROUP as i64 + 3,
        "taken, the clean group, three neighbours"
    );
    for sql in [
        "SELECT COUNT(*) FROM events WHERE type = 'customer.created'",
        "SELECT COUNT(*) FROM audit_log WHERE action = 'customer.create'",
        "SELECT COUNT(*) FROM usage_records WHERE metric = 'customers_created'",
    ] {
        assert_eq!(count(&store, sql).await, customers, "{sql}");
    }
    // Each neighbour's record was written by the second attempt, in its
    // create's transaction: it is about its customer (sealed under its data
    // key), not stored after the response under the organization's key as
    // the answer of a request without effect would be.
    for ((_, key), (status, v, _)) in bodies.iter().zip(&answers) {
        let (Some(key), 201) = (key, status) else {
            continue;
        };
        use sqlx::Row;
        let mut conn = store.reader().await.unwrap();
        let subject: Option<String> = sqlx::query(&format!(
            "SELECT subject_id FROM idempotency_keys WHERE key = '{key}'"
        ))
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(subject.as_deref(), v["id"].as_str(), "{key}");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retried_group_keeps_idempotency_sqlite() {
    retried_group_keeps_idempotency(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn retried_group_keeps_idempotency_postgres() {
    retried_group_keeps_idempotency(Some(fresh_postgres_url().await)).await;
}
