//! `kycd bench api`: N concurrent HTTP clients create customers against a
//! real server, then read them back (creates and reads in phases of their
//! own); in the same run the same customers are written directly through
//! the service and store (no HTTP), one transaction per customer at the
//! same concurrency, and the ratios API/direct are printed.
//! Two more figures frame it: the raw limit (the rows a create writes —
//! customer, data key, secret, blind indexes, event, usage, audit — inserted
//! through the driver with no service logic, one transaction each, same
//! concurrency, same database), of which the API rate is shown as a share;
//! and the bulk rate, customers/s through `POST /v1/customers/batch`.

use anyhow::Context;
use kycd_server::{Application, Config};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct ApiBenchArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// A PostgreSQL server URL: a fresh database is created in it. Default: a temporary SQLite file.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Customers per request in the `POST /v1/customers/batch` phase.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// Concurrent clients in the batch phase.
    #[arg(long, default_value_t = 2)]
    pub batch_clients: usize,
    /// Group commit of concurrent creates, as the server's `--group-commit`.
    #[arg(long, value_enum, default_value = "auto")]
    pub group_commit: kycd_server::config::GroupCommitMode,
    /// PostgreSQL connections, as the server's `--db-pool-size`.
    #[arg(long, default_value_t = kycd_store::DEFAULT_POOL_SIZE)]
    pub db_pool_size: u32,
}

fn customer_body(n: usize) -> Value {
    json!({
        "type": "individual",
        "external_id": format!("bench-{n}-{}", ulid_like()),
        "individual": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-01-31",
                       "nationality": "BR", "email": format!("ada{n}@example.com"), "phone": "+5511999990000"},
        "addresses": [{"line1": "Rua A, 1", "city": "São Paulo", "country": "BR"}],
        "identifiers": [{"type": "cpf", "value": "529.982.247-25"}]
    })
}

fn ulid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    )
}

struct Lat(Vec<Duration>);

impl Lat {
    fn pct(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.sort();
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i].as_secs_f64() * 1000.0
    }
}

/// `clients` tasks, each calling `op(client, n)` for n = 0, 1, … until
/// `seconds` have passed. Returns every call's latency and what it returned.
async fn closed_loop<T, F, Fut>(
    clients: usize,
    seconds: u64,
    op: F,
) -> anyhow::Result<(Lat, Vec<T>)>
where
    T: Send + 'static,
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = vec![];
    for client in 0..clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut results) = (vec![], vec![]);
            let mut n = 0;
            while Instant::now() < deadline {
                let start = Instant::now();
                results.push(op(client, n).await?);
                latencies.push(start.elapsed());
                n += 1;
            }
            anyhow::Ok((latencies, results))
        }));
    }
    let (mut latencies, mut results) = (Lat(vec![]), vec![]);
    for t in tasks {
        let (l, r) = t.await??;
        latencies.0.extend(l);
        results.extend(r);
    }
    Ok((latencies, results))
}

/// The customer a reading client asks for on its `n`th call: the clients
/// spread over every id created in the phase before.
fn pick(ids: &[String], client: usize, n: usize) -> anyhow::Result<&str> {
    anyhow::ensure!(!ids.is_empty(), "the create phase created no customer");
    Ok(&ids[(client * 7919 + n * 104_729) % ids.len()])
}

pub async fn run(args: ApiBenchArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kycd-bench-{}", ulid_like()));
    std::fs::create_dir_all(&dir)?;
    let url = crate::bench_support::fresh_database(args.postgres.as_deref(), &dir, "bench").await?;
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    // The background workers are started after the raw phase (below).
    let config = Config {
        workers: false,
        group_commit: args.group_commit,
        db_pool_size: args.db_pool_size,
        ..crate::bench_support::server_config(url, &dir)?
    };
    let group_commit_on = config.group_commit().enabled();
    let app = Application::build(config).await?;
    let boot = app.bootstrap.clone().context("fresh database")?;
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stop_rx.await;
    }));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "kycd bench api — backend {backend}, {} clients, {} s per phase, {cores} cores, group commit {}, pool {}, background workers on after the raw phase",
        args.clients,
        args.seconds,
        if group_commit_on { "on" } else { "off" },
        args.db_pool_size,
    );

    // Phase 0: the raw limit — a create's rows through the driver, no service logic.
    let raw_rate = raw_inserts(&state, &boot.id, args.clients, args.seconds).await?;
    settle(&state).await?;
    // From here on the background workers run, as in `kycd serve`: the audit
    // sealer and the webhook dispatcher share the database (on SQLite, its
    // only writer) with the creates, and their cost is part of a create's.
    // The raw limit is the database's alone.
    let workers = kycd_server::jobs::spawn(state.clone());

    // Phase 1: direct — the same create (service + store, one transaction per
    // customer) at the same concurrency, no HTTP; then reads of what it
    // created through the store. Creates and reads run in phases of their
    // own, so a create's rate is measured under creates alone, as the raw
    // limit is (and as an outside load generator posting creates sees it).
    let scope = kycd_store::Scope::new(&boot.id, "sandbox");
    let (mut direct, created) = {
        let (state, scope) = (state.clone(), scope.clone());
        closed_loop(args.clients, args.seconds, move |worker, n| {
            let (state, scope) = (state.clone(), scope.clone());
            async move {
                let input: kycd_core::input::CustomerInput =
                    serde_json::from_value(customer_body(worker * 1_000_000 + n))?;
                let cx = kycd_server::service::context_for(&state, &scope, "bench".into()).await?;
                let c = kycd_server::service::customers::create(
                    &state,
                    &cx,
                    input,
                    &mut kycd_server::metrics::StageClock::start(),
                )
                .await?;
                anyhow::Ok(c.id)
            }
        })
        .await?
    };
    let direct_rate = direct.0.len() as f64 / args.seconds as f64;
    let ids = Arc::new(created);
    let (mut direct_reads, _) = {
        let (state, scope, ids) = (state.clone(), scope.clone(), ids.clone());
        closed_loop(args.clients, args.seconds, move |worker, n| {
            let (state, scope, ids) = (state.clone(), scope.clone(), ids.clone());
            async move {
                let id = pick(&ids, worker, n)?;
                let mut conn = state.store.reader().await?;
                kycd_store::customers::get(&mut conn, &*state.vault, &scope, id).await?;
                anyhow::Ok(true)
            }
        })
        .await?
    };
    let direct_read_rate = direct_reads.0.len() as f64 / args.seconds as f64;

    settle(&state).await?;

    // Phase 2: the API over HTTP — creates, then reads of what they created.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let key = Arc::new(boot.sandbox_api_key.clone());
    let before = scrape(&client, &base).await?;
    let (mut creates, created) = {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        closed_loop(args.clients, args.seconds, move |worker, n| {
            let (client, base, key) = (client.clone(), base.clone(), key.clone());
            async move {
                let res = client
                    .post(format!("{base}/v1/customers"))
                    .bearer_auth(key.as_str())
                    .json(&customer_body(500_000_000 + worker * 1_000_000 + n))
                    .send()
                    .await?;
                let ok = res.status().as_u16() == 201;
                let body: Value = res.json().await?;
                anyhow::Ok(ok.then(|| body["id"].as_str().unwrap_or_default().to_string()))
            }
        })
        .await?
    };
    let create_rate = creates.0.len() as f64 / args.seconds as f64;
    let after = scrape(&client, &base).await?;
    let mut errors = created.iter().filter(|id| id.is_none()).count();
    let ids: Arc<Vec<String>> = Arc::new(created.into_iter().flatten().collect());
    let (mut reads, read_ok) = {
        let (client, base, key, ids) = (client.clone(), base.clone(), key.clone(), ids.clone());
        closed_loop(args.clients, args.seconds, move |worker, n| {
            let (client, base, key, ids) = (client.clone(), base.clone(), key.clone(), ids.clone());
            async move {
                let id = pick(&ids, worker, n)?;
                let res = client
                    .get(format!("{base}/v1/customers/{id}"))
                    .bearer_auth(key.as_str())
                    .send()
                    .await?;
                let ok = res.status().as_u16() == 200;
                let _ = res.bytes().await?;
                anyhow::Ok(ok)
            }
        })
        .await?
    };
    errors += read_ok.iter().filter(|ok| !**ok).count();
    let read_rate = reads.0.len() as f64 / args.seconds as f64;
    settle(&state).await?;
    let (batch_rate, batch_errors) = batch_phase(&client, &base, &key, &args).await?;
    workers.shutdown().await;
    errors += batch_errors;

    println!();
    println!(
        "direct create (service + store):   {direct_rate:>8.0} creates/s   p50 {:>6.2} ms  p99 {:>6.2} ms",
        direct.pct(0.5),
        direct.pct(0.99)
    );
    println!(
        "direct read   (store):             {direct_read_rate:>8.0} reads/s     p50 {:>6.2} ms  p99 {:>6.2} ms",
        direct_reads.pct(0.5),
        direct_reads.pct(0.99)
    );
    println!(
        "API    POST /v1/customers:         {create_rate:>8.0} creates/s   p50 {:>6.2} ms  p99 {:>6.2} ms",
        creates.pct(0.5),
        creates.pct(0.99)
    );
    println!(
        "API    GET  /v1/customers/{{id}}:    {read_rate:>8.0} reads/s     p50 {:>6.2} ms  p99 {:>6.2} ms",
        reads.pct(0.5),
        reads.pct(0.99)
    );
    println!(
        "ratio  API / direct: creates {:.0}%, reads {:.0}%",
        100.0 * create_rate / direct_rate.max(1e-9),
        100.0 * read_rate / direct_read_rate.max(1e-9)
    );
    println!("raw    a create's inserts (driver, 1 tx each): {raw_rate:>8.0} creates/s");
    println!(
        "share  API create / raw limit: {:.0}%   direct create / raw limit: {:.0}%",
        100.0 * create_rate / raw_rate.max(1e-9),
        100.0 * direct_rate / raw_rate.max(1e-9)
    );
    println!(
        "bulk   POST /v1/customers/batch ({} per request, {} clients): {batch_rate:>8.0} customers/s ({:.1}x the API create rate)",
        args.batch_size,
        args.batch_clients,
        batch_rate / create_rate.max(1e-9)
    );
    println!("errors: {errors}");
    let client_mean =
        creates.0.iter().map(Duration::as_secs_f64).sum::<f64>() / creates.0.len().max(1) as f64;
    print_stages(&before, &after, client_mean);
    print_sealing_cost(&state, &direct, &direct_reads);
    let _ = stop_tx.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// What sealing the whole customer document costs, measured in this run:
/// one seal (wrap a fresh data key, encrypt the document) per create and one
/// open (unwrap the key, decrypt) per read, against the direct medians.
fn print_sealing_cost(state: &kycd_server::state::AppState, direct: &Lat, reads: &Lat) {
    use kycd_store::customers::DocCipher;
    let doc = serde_json::to_string(&customer_body(7)).unwrap_or_default();
    let (org, id) = ("org_bench", "cus_bench");
    let n = 20_000;
    let start = Instant::now();
    let mut sealed = String::new();
    for _ in 0..n {
        let key = kycd_vault::DataKey::generate();
        let wrapped = state.vault.wrap_customer_key(org, id, &key);
        sealed = state
            .vault
            .seal_doc_with(&key, org, id, &doc)
            .unwrap_or_default();
        std::hint::black_box(&wrapped);
    }
    let seal_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    let wrapped = state
        .vault
        .wrap_customer_key(org, id, &kycd_vault::DataKey::generate());
    let sealed_doc = state
        .vault
        .seal_doc(org, id, &wrapped, &doc)
        .unwrap_or(sealed);
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(state.vault.open_doc(org, id, &wrapped, &sealed_doc).ok());
    }
    let open_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    let median = |l: &Lat| {
        let mut v = l.0.clone();
        v.sort();
        v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    println!(
        "sealing the customer document ({} bytes): seal {seal_us:.1} µs per create ({:.2}% of the direct create median), open {open_us:.1} µs per read ({:.1}% of the direct read median), one core",
        doc.len(),
        100.0 * seal_us / median(direct).max(1e-9),
        100.0 * open_us / median(reads).max(1e-9),
    );
}

/// Lets the background work of a phase finish before the next one starts
/// (each phase pays for its own): the audit entries written are sealed and
/// the events fanned out.
async fn settle(state: &kycd_server::state::AppState) -> anyhow::Result<()> {
    kycd_server::admin::audit::seal_all(&state.store, &*state.vault).await?;
    kycd_server::jobs::run_due_webhooks(state).await;
    Ok(())
}

/// The rows one create writes, inserted straight through the store's
/// statements (no validation, sealing, hashing or lifecycle: the document,
/// secret and indexes are computed once and reused), one transaction per
/// customer, `clients` at a time for `seconds`. Returns creates/s.
async fn raw_inserts(
    state: &kycd_server::state::AppState,
    org: &str,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    use kycd_store::{customers as db, events, usage};
    let scope = kycd_store::Scope::new(org, "sandbox");
    let input: kycd_core::input::CustomerInput = serde_json::from_value(customer_body(0))?;
    let now = chrono::Utc::now();
    let (customer_type, profile, _, _) = kycd_core::input::parse_create(&input, now)
        .map_err(|e| anyhow::anyhow!("the benchmark's customer: {e:?}"))?;
    let template = kycd_core::customer::Customer {
        id: String::new(),
        object: "customer".into(),
        customer_type,
        external_id: None,
        status: kycd_core::status::CustomerStatus::NotStarted,
        verification: Default::default(),
        individual: profile.individual,
        business: profile.business,
        addresses: profile.addresses,
        identifiers: vec![],
        attestation: None,
        metadata: profile.metadata,
        created_at: now,
        updated_at: now,
    };
    // One sealed document, key, secret and index set, reused for every row.
    let key = kycd_vault::DataKey::generate();
    let wrapped = state.vault.wrap_customer_key(org, "cus_raw", &key);
    let doc = state.vault.seal_doc_with(
        &key,
        org,
        "cus_raw",
        &serde_json::to_string(&customer_body(0))?,
    )?;
    let secret = state
        .vault
        .seal_str(&key, org, "cus_raw", "identifier:cpf:BR", "52998224725")?;
    let indexes = vec![("identifier:cpf:BR".to_string(), "f".repeat(64))];
    let contacts = vec![
        ("contact:email".to_string(), "e".repeat(64)),
        ("contact:phone".to_string(), "d".repeat(64)),
    ];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = vec![];
    for worker in 0..clients {
        let state = state.clone();
        let scope = scope.clone();
        let (template, wrapped, doc, secret, indexes, contacts) = (
            template.clone(),
            wrapped.clone(),
            doc.clone(),
            secret.clone(),
            indexes.clone(),
            contacts.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < deadline {
                let mut c = template.clone();
                c.id = kycd_store::ids::new("cus");
                c.external_id = Some(format!("raw-{worker}-{n}-{}", ulid_like()));
                let mut tx = state.store.begin().await?;
                db::insert(&mut tx, &scope, &c, &doc).await?;
                db::put_customer_key(
                    &mut tx,
                    kycd_store::KeyOwner::scoped(&scope, &c.id),
                    &wrapped,
                )
                .await?;
                db::replace_blind_indexes(&mut tx, &scope, &c.id, "identifier:", &indexes, true)
                    .await?;
                db::put_secret(&mut tx, &scope, &c.id, "identifier:cpf:BR", &secret).await?;
                db::replace_blind_indexes(&mut tx, &scope, &c.id, "contact:", &contacts, true)
                    .await?;
                let event = events::Event {
                    id: kycd_store::ids::new("evt"),
                    event_type: "customer.created".into(),
                    customer_id: Some(c.id.clone()),
                    data: json!({"customer_id": c.id}),
                    created_at: c.created_at,
                };
                events::insert(&mut tx, &scope, &event).await?;
                usage::record(
                    &mut tx,
                    &scope,
                    usage::CUSTOMERS_CREATED,
                    &c.id,
                    c.created_at,
                )
                .await?;
                db::insert_audit(
                    &mut tx,
                    &*state.vault,
                    &scope,
                    "system:bench",
                    "customer.create",
                    Some(&c.id),
                    &json!({}),
                    c.created_at,
                )
                .await?;
                tx.commit().await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / seconds as f64)
}

/// `batch_clients` clients sending `POST /v1/customers/batch` of
/// `batch_size` customers for `seconds`. Returns (customers/s, errors).
async fn batch_phase(
    client: &reqwest::Client,
    base: &str,
    key: &Arc<String>,
    args: &ApiBenchArgs,
) -> anyhow::Result<(f64, usize)> {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = vec![];
    for worker in 0..args.batch_clients {
        let (client, base, key) = (client.clone(), base.to_string(), key.clone());
        let size = args.batch_size;
        tasks.push(tokio::spawn(async move {
            let (mut created, mut errors, mut n) = (0usize, 0usize, 0usize);
            while Instant::now() < deadline {
                let customers: Vec<Value> = (0..size)
                    .map(|i| customer_body(900_000_000 + worker * 10_000_000 + n * size + i))
                    .collect();
                n += 1;
                let res = client
                    .post(format!("{base}/v1/customers/batch"))
                    .bearer_auth(key.as_str())
                    .json(&json!({"customers": customers}))
                    .send()
                    .await?;
                if res.status().as_u16() != 200 {
                    errors += 1;
                    let _ = res.bytes().await?;
                    continue;
                }
                let body: Value = res.json().await?;
                for r in body["data"].as_array().into_iter().flatten() {
                    if r["status"] == 201 {
                        created += 1;
                    } else {
                        errors += 1;
                    }
                }
            }
            anyhow::Ok((created, errors))
        }));
    }
    let (mut created, mut errors) = (0, 0);
    for t in tasks {
        let (c, e) = t.await??;
        created += c;
        errors += e;
    }
    // A batch under way at the deadline finishes: count the time it took.
    let secs = started.elapsed().as_secs_f64().max(args.seconds as f64);
    Ok((created as f64 / secs, errors))
}

/// The server's `/metrics` text.
async fn scrape(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    Ok(client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

/// One histogram read from the exposition text: (upper bound, cumulative
/// count) per bucket, the sum and the count.
#[derive(Default, Clone)]
struct Histogram {
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
}

impl Histogram {
    /// The histograms named `name`, by the value of `label` (`""` when unlabelled).
    fn parse(text: &str, name: &str, label: &str) -> std::collections::BTreeMap<String, Histogram> {
        let mut out: std::collections::BTreeMap<String, Histogram> = Default::default();
        for line in text.lines().filter(|l| l.starts_with(name)) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (metric, labels) = series.split_once('{').unwrap_or((series, ""));
            let get = |key: &str| {
                labels
                    .split(',')
                    .find_map(|kv| kv.strip_prefix(&format!("{key}=\"")))
                    .map(|v| v.trim_end_matches(['}', '"']).to_string())
            };
            let h = out.entry(get(label).unwrap_or_default()).or_default();
            match metric.strip_prefix(name) {
                Some("_bucket") => {
                    let le = get("le").unwrap_or_default();
                    h.buckets.push((le.parse().unwrap_or(f64::INFINITY), value));
                }
                Some("_sum") => h.sum = value,
                Some("_count") => h.count = value,
                _ => {}
            }
        }
        out
    }

    /// What was observed between two scrapes.
    fn since(&self, earlier: Option<&Histogram>) -> Histogram {
        let Some(e) = earlier else {
            return self.clone();
        };
        Histogram {
            buckets: self
                .buckets
                .iter()
                .map(|(le, n)| {
                    let before = e.buckets.iter().find(|(l, _)| l == le).map_or(0.0, |b| b.1);
                    (*le, n - before)
                })
                .collect(),
            sum: self.sum - e.sum,
            count: self.count - e.count,
        }
    }

    fn mean(&self) -> f64 {
        self.sum / self.count.max(1.0)
    }

    /// The quantile `q`, interpolated inside its bucket.
    fn quantile(&self, q: f64) -> f64 {
        let target = q * self.count;
        let mut lower = (0.0, 0.0);
        for &(le, n) in &self.buckets {
            if n >= target {
                if le.is_infinite() {
                    return lower.0;
                }
                let inside = (n - lower.1).max(1e-9);
                return lower.0 + (le - lower.0) * (target - lower.1) / inside;
            }
            lower = (le, n);
        }
        lower.0
    }
}

/// The stages of `POST /v1/customers` in the API phase (the server's
/// `kycd_create_stage_seconds`, read before and after), mean and p99 per
/// create and share of the total, against `client_mean` (seconds, as the
/// clients saw it); and the group commits of that phase.
fn print_stages(before: &str, after: &str, client_mean: f64) {
    const ORDER: [&str; 19] = [
        "parse",
        "context",
        "validate",
        "blind_index",
        "seal",
        "start_provider",
        "begin",
        "wait_for_group",
        "group_retry",
        "insert_customer",
        "insert_keys_secrets_indexes",
        "insert_event",
        "insert_usage",
        "insert_audit",
        "start_verification",
        "idempotency",
        "savepoints",
        "commit",
        "respond",
    ];
    let name = "kycd_create_stage_seconds";
    let earlier = Histogram::parse(before, name, "stage");
    let stages: Vec<(String, Histogram)> = Histogram::parse(after, name, "stage")
        .into_iter()
        .map(|(stage, h)| {
            let h = h.since(earlier.get(&stage));
            (stage, h)
        })
        .filter(|(_, h)| h.count > 0.0)
        .collect();
    let Some(total) = stages
        .iter()
        .find(|(s, _)| s == "total")
        .map(|(_, h)| h.clone())
    else {
        println!("stages: none recorded");
        return;
    };
    let rank = |s: &str| ORDER.iter().position(|o| *o == s).unwrap_or(ORDER.len());
    let mut rows: Vec<&(String, Histogram)> = stages.iter().filter(|(s, _)| s != "total").collect();
    rows.sort_by_key(|(s, _)| rank(s));
    println!();
    println!(
        "where the time of one POST /v1/customers goes (handler, {} creates; µs):",
        total.count
    );
    println!(
        "  {:<30} {:>9} {:>9} {:>7}",
        "stage", "mean", "p99", "share"
    );
    let per_create = |h: &Histogram| h.sum / total.count.max(1.0);
    let mut booked = 0.0;
    for (stage, h) in rows {
        booked += per_create(h);
        println!(
            "  {stage:<30} {:>9.1} {:>9.1} {:>6.1}%",
            per_create(h) * 1e6,
            h.quantile(0.99) * 1e6,
            100.0 * per_create(h) / total.mean().max(1e-12)
        );
    }
    println!(
        "  {:<30} {:>9.1} {:>9} {:>6.1}%",
        "(not booked)",
        (total.mean() - booked) * 1e6,
        "",
        100.0 * (total.mean() - booked) / total.mean().max(1e-12)
    );
    println!(
        "  {:<30} {:>9.1} {:>9.1} {:>6.1}%",
        "total (in the handler)",
        total.mean() * 1e6,
        total.quantile(0.99) * 1e6,
        100.0
    );
    println!(
        "  outside the handler (HTTP, sign-in, body, client): {:.1} µs mean per create",
        (client_mean - total.mean()) * 1e6
    );
    let name = "kycd_group_commit_size";
    let earlier = Histogram::parse(before, name, "");
    if let Some(groups) = Histogram::parse(after, name, "").get("") {
        let groups = groups.since(earlier.get(""));
        if groups.count > 0.0 {
            println!(
                "group commits: {} transactions for {} creates, mean {:.1} per commit, p99 {:.0}",
                groups.count,
                groups.sum,
                groups.mean(),
                groups.quantile(0.99)
            );
        }
    }
    let retries = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("kycd_group_commit_retries_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let retried = retries(after) - retries(before);
    if retried > 0.0 {
        println!("group commits written again after a failing create: {retried}");
    }
}
