//! `kycd bench webhooks`: webhook delivery against a local receiver.
//! Baseline: the same signed POSTs sent straight from the dispatcher's HTTP
//! sender (64 at once, no database). Throughput: N events committed to the
//! outbox at once, time until the receiver has them all. Lag: events
//! committed one transaction each at a steady rate, commit → arrival.

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use kycd_server::jobs::dispatcher::secrets::SecretSet;
use kycd_server::jobs::dispatcher::sender::{Job, Sender};
use kycd_server::{Application, Config};
use kycd_store::webhooks::deliveries::Claimed;
use kycd_store::{Scope, events, ids};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct WebhookBenchArgs {
    /// Events committed at once for the throughput phase.
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Steady rate of the lag phase, events per second.
    #[arg(long, default_value_t = 200)]
    pub rate: u64,
    /// Length of the lag phase, seconds.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// A PostgreSQL server URL: a fresh database is created in it. Default: a temporary SQLite file.
    #[arg(long)]
    pub postgres: Option<String>,
}

/// First arrival of each webhook-id.
#[derive(Default)]
struct Arrivals {
    seen: Mutex<HashMap<String, Instant>>,
    changed: tokio::sync::Notify,
}

impl Arrivals {
    fn count(&self) -> usize {
        self.seen.lock().expect("arrivals").len()
    }
    fn clear(&self) {
        self.seen.lock().expect("arrivals").clear();
    }
    async fn wait_for(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while self.count() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            anyhow::ensure!(
                !left.is_zero(),
                "only {} of {n} deliveries arrived",
                self.count()
            );
            let _ =
                tokio::time::timeout(left.min(Duration::from_millis(50)), self.changed.notified())
                    .await;
        }
        Ok(())
    }
}

async fn receive(State(a): State<Arc<Arrivals>>, headers: HeaderMap, _body: Bytes) -> &'static str {
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        let mut seen = a.seen.lock().expect("arrivals");
        seen.entry(id.to_string()).or_insert_with(Instant::now);
        drop(seen);
        a.changed.notify_waiters();
    }
    "ok"
}

async fn start_receiver(arrivals: Arc<Arrivals>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(arrivals);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}/hook"))
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn event(n: usize) -> events::Event {
    events::Event {
        id: ids::new("evt"),
        event_type: "customer.created".into(),
        customer_id: Some(format!("cus_bench{n}")),
        data: json!({"customer_id": format!("cus_bench{n}"), "external_id": format!("bench-{n}"), "status": "not_started"}),
        created_at: Utc::now(),
    }
}

/// The sender alone: signed POSTs, 64 in flight, no database.
async fn baseline(url: &str, arrivals: &Arrivals, n: usize) -> anyhow::Result<f64> {
    let sender = Sender::new(true)?;
    let secrets = Arc::new(SecretSet::generate());
    let body = Bytes::from(serde_json::to_vec(
        &json!({"type": "customer.created", "data": {}}),
    )?);
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        while set.len() >= kycd_server::jobs::dispatcher::MAX_IN_FLIGHT {
            set.join_next().await;
        }
        let job = Job {
            claimed: Claimed {
                delivery_id: format!("dlv_{i}"),
                event_id: format!("evt_base{i}"),
                endpoint_id: "we_bench".into(),
                scope: Scope::new("org_bench", "sandbox"),
                attempt: 1,
                round_base: 0,
            },
            url: url.to_string(),
            secrets: secrets.clone(),
            body: body.clone(),
            scope_now: Utc::now(),
            clock_offset: 0,
            was_failing: false,
        };
        let s = sender.clone();
        set.spawn(async move { s.send(job).await });
    }
    while set.join_next().await.is_some() {}
    arrivals.wait_for(n, Duration::from_secs(60)).await?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub async fn run(args: WebhookBenchArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kycd-bench-webhooks-{}", ids::new("run")));
    std::fs::create_dir_all(&dir)?;
    let url =
        crate::bench_support::fresh_database(args.postgres.as_deref(), &dir, "bench_webhooks")
            .await?;
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let arrivals = Arc::new(Arrivals::default());
    let hook = start_receiver(arrivals.clone()).await?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("kycd bench webhooks — {backend}, {cores} cores, receiver {hook}");

    let base_n = args.events.min(20_000);
    let base_rate = baseline(&hook, &arrivals, base_n).await?;
    println!(
        "baseline   sender alone (no database), {base_n} signed POSTs: {base_rate:>8.0} deliveries/s"
    );
    arrivals.clear();

    let config = Config {
        webhook_allow_private: true,
        ..crate::bench_support::server_config(url, &dir)?
    };
    let app = Application::build(config).await?;
    let boot = app
        .bootstrap
        .clone()
        .context("a fresh database bootstraps an organization")?;
    let api = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let res = reqwest::Client::new()
        .post(format!("{api}/v1/webhook_endpoints"))
        .bearer_auth(&boot.sandbox_api_key)
        .json(&json!({"url": hook, "enabled_events": ["*"]}))
        .send()
        .await?;
    anyhow::ensure!(
        res.status().as_u16() == 201,
        "endpoint: {}",
        res.text().await?
    );
    let scope = Scope::new(&boot.id, "sandbox");

    // Throughput: a backlog committed at once.
    let n = args.events;
    let mut tx = state.store.begin().await?;
    for i in 0..n {
        events::insert(&mut tx, &scope, &event(i)).await?;
    }
    let start = Instant::now();
    tx.commit().await?;
    state.outbox_notify.notify_one();
    arrivals.wait_for(n, Duration::from_secs(300)).await?;
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "throughput {n} events committed at once, fan-out to 1 endpoint:       {rate:>8.0} deliveries/s"
    );
    arrivals.clear();

    // Lag at a steady rate: one transaction per event, like a state change.
    let total = (args.rate * args.seconds) as usize;
    let period = Duration::from_secs_f64(1.0 / args.rate.max(1) as f64);
    let mut committed: Vec<(String, Instant)> = Vec::with_capacity(total);
    let t0 = tokio::time::Instant::now();
    for i in 0..total {
        tokio::time::sleep_until(t0 + period * i as u32).await;
        let e = event(n + i);
        let mut tx = state.store.begin().await?;
        events::insert(&mut tx, &scope, &e).await?;
        tx.commit().await?;
        committed.push((e.id, Instant::now()));
        state.outbox_notify.notify_one();
    }
    let achieved = total as f64 / t0.elapsed().as_secs_f64();
    arrivals.wait_for(total, Duration::from_secs(60)).await?;
    let seen = arrivals.seen.lock().expect("arrivals").clone();
    let mut lags: Vec<Duration> = committed
        .iter()
        .filter_map(|(id, at)| seen.get(id).map(|a| a.saturating_duration_since(*at)))
        .collect();
    lags.sort();
    println!(
        "lag        {total} events at {achieved:.0}/s, commit → arrival: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&lags, 0.5),
        pct(&lags, 0.99),
        pct(&lags, 1.0)
    );
    println!(
        "{}",
        json!({"bench": "webhooks", "backend": backend, "cores": cores,
               "baseline_deliveries_per_s": base_rate.round(), "deliveries_per_s": rate.round(),
               "lag_rate_per_s": achieved.round(), "lag_p50_ms": pct(&lags, 0.5), "lag_p99_ms": pct(&lags, 0.99),
               "lag_max_ms": pct(&lags, 1.0)})
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
    state.store.close().await;
    drop(state);
    if let Some(base) = &args.postgres {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(base).await?;
        let name = format!("kycd_bench_webhooks_{}", std::process::id());
        sqlx::Executor::execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
