//! `kycd bench capabilities`: the capability check on the hot path of payments.
//! Starts the real server in-process (port 0, a temporary SQLite database or a
//! fresh database on the `--database-url` PostgreSQL server), creates
//! customers in every situation (active with products, active without, not
//! started), then drives an open-loop fixed rate
//! of `POST /v1/capability_checks` from concurrent HTTP clients and prints the
//! achieved rate and latency percentiles. Baselines in the same run: the same
//! check called in-process (no HTTP), and `GET /healthz` at the same rate (the
//! HTTP floor).

use anyhow::{Context, bail};
use futures::StreamExt;
use kycd_core::capabilities::Capability;
use kycd_server::Application;
use kycd_store::Scope;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct CapabilitiesBenchArgs {
    /// Checks per second (open loop: sent on schedule whatever the answers).
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Customers to create (a quarter each: active with cards and virtual
    /// accounts, active with cards, active without products, not started).
    #[arg(long, default_value_t = 200)]
    pub customers: usize,
    /// HTTP clients (each with its own connection pool); requests are spread over them.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// A PostgreSQL server (`postgres://user@host:5432/postgres`): the bench
    /// creates a fresh database there and drops it afterwards. Default: a
    /// temporary SQLite file.
    #[arg(long)]
    pub database_url: Option<String>,
}

/// One planned check: customer, capability, whether it must be allowed.
#[derive(Clone)]
struct Probe {
    customer: String,
    capability: Capability,
    allowed: bool,
}

struct Stats {
    /// Latencies in microseconds, sorted.
    micros: Vec<u64>,
}

impl Stats {
    fn new(mut micros: Vec<u64>) -> Stats {
        micros.sort_unstable();
        Stats { micros }
    }
    fn pct(&self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.micros.len() as f64).ceil() as usize;
        self.micros[rank.clamp(1, self.micros.len()) - 1] as f64 / 1000.0
    }
    fn line(&self) -> String {
        format!(
            "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms",
            self.pct(50.0),
            self.pct(90.0),
            self.pct(99.0),
            self.pct(99.9),
            self.micros.last().copied().unwrap_or(0) as f64 / 1000.0
        )
    }
}

struct Api {
    base: String,
    key: String,
    client: reqwest::Client,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let res = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path} answered {status}: {v}");
        }
        Ok(v)
    }
}

/// Creates customer `n` in its situation and returns the checks it must pass and fail.
async fn setup_customer(api: &Api, n: usize) -> anyhow::Result<Vec<Probe>> {
    use Capability::*;
    let kind = n % 4;
    let mut body = json!({
        "type": "individual",
        "external_id": format!("bench-cap-{n}"),
        "individual": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-01-31",
                       "nationality": "BR", "email": format!("ada{n}@example.com"), "email_verified": true,
                       "phone": "+5511999990000", "phone_verified": true},
        "addresses": [{"line1": "Rua A, 1", "city": "São Paulo", "country": "BR", "primary": true}],
        "identifiers": [{"type": "cpf", "value": "529.982.247-25"}]
    });
    if kind != 3 {
        body["verification"] = json!({"start": true});
    }
    let post = reqwest::Method::POST;
    let c = api.send(post.clone(), "/v1/customers", body).await?;
    let id = c["id"].as_str().context("customer id")?.to_string();
    if kind != 3 && c["status"] != "active" {
        let path = format!("/v1/test_helpers/customers/{id}/verification");
        api.send(post.clone(), &path, json!({"status": "approved"}))
            .await?;
    }
    let products: &[&str] = match kind {
        0 => &["cards", "virtual_accounts"],
        1 => &["cards"],
        _ => &[],
    };
    for p in products {
        let path = format!("/v1/customers/{id}/product_access");
        let pa = api.send(post.clone(), &path, json!({"product": p})).await?;
        if pa["status"] != "granted" {
            bail!("bench set-up: {p} was not granted: {pa}");
        }
    }
    let active = kind != 3;
    Ok(vec![
        Probe {
            customer: id.clone(),
            capability: Transact,
            allowed: active,
        },
        Probe {
            customer: id.clone(),
            capability: Cards,
            allowed: kind <= 1,
        },
        Probe {
            customer: id,
            capability: VirtualAccounts,
            allowed: kind == 0,
        },
    ])
}

/// Sends `total` requests at `rate`/s on schedule (one task each), returns
/// latencies from the scheduled send time and the answers' outcomes.
async fn open_loop<F, Fut>(rate: u64, total: usize, f: F) -> (Vec<u64>, Vec<bool>, Duration)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let at = start + interval * i as u32;
        tokio::time::sleep_until(at).await;
        let fut = f(i);
        tasks.push(tokio::spawn(async move {
            let ok = fut.await;
            (at.elapsed().as_micros() as u64, ok)
        }));
    }
    let mut micros = Vec::with_capacity(total);
    let mut oks = Vec::with_capacity(total);
    for t in tasks {
        let (us, ok) = t.await.unwrap_or((u64::MAX / 2, false));
        micros.push(us);
        oks.push(ok);
    }
    (micros, oks, start.elapsed())
}

/// `total` capability checks at `rate`/s over the clients, each answer checked.
async fn checks(
    clients: &[Arc<Api>],
    probes: &Arc<Vec<Probe>>,
    rate: u64,
    total: usize,
) -> (Vec<u64>, Vec<bool>, Duration) {
    let cl = clients.to_vec();
    let pr = probes.clone();
    open_loop(rate, total, move |i| {
        let api = cl[i % cl.len()].clone();
        let p = pr[i % pr.len()].clone();
        async move {
            let res = api
                .client
                .post(format!("{}/v1/capability_checks", api.base))
                .bearer_auth(&api.key)
                .json(&json!({"customer_id": p.customer, "capability": p.capability.as_str()}))
                .send()
                .await;
            match res {
                Ok(r) => {
                    let code = r.status().as_u16();
                    let body_ok = r.bytes().await.is_ok();
                    body_ok && ((p.allowed && code == 200) || (!p.allowed && code == 403))
                }
                Err(_) => false,
            }
        }
    })
    .await
}

pub async fn run(args: CapabilitiesBenchArgs) -> anyhow::Result<()> {
    if args.rate == 0 || args.seconds == 0 || args.customers < 4 || args.clients == 0 {
        bail!("--rate, --seconds and --clients must be positive and --customers at least 4");
    }
    let dir = std::env::temp_dir().join(format!(
        "kycd-bench-capabilities-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir)?;
    let (url, fresh) = match &args.database_url {
        Some(server) if server.starts_with("postgres") => {
            let name = format!(
                "kycd_bench_capabilities_{}_{}",
                std::process::id(),
                chrono::Utc::now().timestamp_micros()
            );
            let url = kycd_store::create_postgres_database(server, &name).await?;
            (url, Some((server.clone(), name)))
        }
        Some(_) => bail!("--database-url must be a postgres:// URL (SQLite is the default)"),
        None => (format!("sqlite://{}", dir.join("bench.db").display()), None),
    };
    let result = bench(&args, &dir, url).await;
    if let Some((server, name)) = fresh
        && let Err(e) = admin(
            &server,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await
    {
        eprintln!("could not drop the bench database {name}: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Runs one statement on the PostgreSQL server (database creation and removal).
async fn admin(server: &str, sql: &str) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(server).await?;
    sqlx::Executor::execute(&mut conn, sql).await?;
    sqlx::Connection::close(conn).await?;
    Ok(())
}

async fn bench(
    args: &CapabilitiesBenchArgs,
    dir: &std::path::Path,
    url: String,
) -> anyhow::Result<()> {
    let backend = if url.starts_with("postgres") {
        "PostgreSQL (fresh database)"
    } else {
        "SQLite (temporary file, WAL)"
    };
    let config = crate::bench_support::server_config(url, dir)?;
    let app = Application::build(config).await?;
    let state = app.state.clone();
    let base = format!("http://{}", app.addr);
    let org = kycd_server::create_org(
        &state.store,
        &format!(
            "bench-capabilities-{}",
            chrono::Utc::now().timestamp_micros()
        ),
    )
    .await?;
    let scope = Scope::new(&org.id, "sandbox");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let clients: Vec<Arc<Api>> = (0..args.clients)
        .map(|_| {
            Arc::new(Api {
                base: base.clone(),
                key: org.sandbox_api_key.clone(),
                client: reqwest::Client::new(),
            })
        })
        .collect();
    let api = &clients[0];
    // Products at level basic, so customers verified through the sandbox get them
    // without documents; the check path is the same whatever the policy.
    api.send(
        reqwest::Method::PATCH,
        "/v1/settings",
        json!({"products": {"cards": {"level": "basic", "requirements": []},
                            "virtual_accounts": {"level": "basic", "requirements": ["tax_id"]}}}),
    )
    .await?;
    let t = Instant::now();
    let probes: Vec<Probe> = futures::stream::iter(0..args.customers)
        .map(|n| setup_customer(api, n))
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let probes = Arc::new(probes);
    println!("kycd bench capabilities");
    println!("  backend:   {backend}");
    println!(
        "  cores:     {} (std::thread::available_parallelism; server and load generator share them)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "  load avg:  {} (1, 5, 15 min) before the run",
            load.join(" ")
        );
    }
    println!(
        "  set-up:    {} customers over HTTP in {:.1} s (¼ active with cards + virtual_accounts, ¼ active with cards, ¼ active, ¼ not started)",
        args.customers,
        t.elapsed().as_secs_f64()
    );

    // Baseline 1: the same check in-process, no HTTP (sequential calls).
    let calls = (args.rate * args.seconds).min(20_000) as usize;
    let mut micros = Vec::with_capacity(calls);
    let t = Instant::now();
    for i in 0..calls {
        let p = &probes[i % probes.len()];
        let s = Instant::now();
        let st = kycd_server::service::products::check(&state, &scope, &p.customer, p.capability)
            .await
            .map_err(|e| anyhow::anyhow!("in-process check failed: {e}"))?;
        micros.push(s.elapsed().as_micros() as u64);
        if st.is_enabled() != p.allowed {
            bail!(
                "in-process check of {} on {} gave the wrong answer",
                p.capability.as_str(),
                p.customer
            );
        }
    }
    let elapsed = t.elapsed().as_secs_f64();
    println!(
        "  baseline in-process (service::products::check, no HTTP, {calls} sequential calls, {:.0} calls/s): {}",
        calls as f64 / elapsed,
        Stats::new(micros).line()
    );

    // Baseline 2: the HTTP floor, GET /healthz at the same rate.
    let floor_total = (args.rate * args.seconds.min(3)) as usize;
    let cl = clients.clone();
    let (micros, oks, _) = open_loop(args.rate, floor_total, move |i| {
        let api = cl[i % cl.len()].clone();
        async move {
            match api.client.get(format!("{}/healthz", api.base)).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await;
    println!(
        "  baseline HTTP floor (GET /healthz, {} req/s open loop, {floor_total} requests, {} errors): {}",
        args.rate,
        oks.iter().filter(|ok| !**ok).count(),
        Stats::new(micros).line()
    );

    // Warm-up (not measured): the connection pools fill up as in a running
    // server; then the measurement.
    let warmup = (args.rate * 2) as usize;
    let (_, oks, _) = checks(&clients, &probes, args.rate, warmup).await;
    let mut wrong = oks.iter().filter(|ok| !**ok).count();
    let total = (args.rate * args.seconds) as usize;
    let (micros, oks, elapsed) = checks(&clients, &probes, args.rate, total).await;
    wrong += oks.iter().filter(|ok| !**ok).count();
    let allowed = probes.iter().filter(|p| p.allowed).count() as f64 / probes.len() as f64;
    let stats = Stats::new(micros);
    println!(
        "  load:      POST /v1/capability_checks at {} checks/s for {} s after a 2 s warm-up, open loop, {} HTTP clients; {:.0}% of checks allowed (200), the rest refused (403)",
        args.rate,
        args.seconds,
        args.clients,
        allowed * 100.0
    );
    println!(
        "  achieved:  {:.1} checks/s ({total} answered in {:.2} s; {wrong} errors or wrong answers, warm-up included)",
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  latency:   {} (from the scheduled send time)",
        stats.line()
    );
    let p99 = stats.pct(99.0);
    println!(
        "  target:    p99 < 5 ms at 1,000 checks/s: {}",
        if p99 < 5.0 && wrong == 0 {
            "met"
        } else {
            "NOT met"
        }
    );
    let _ = stop.send(());
    let _ = server.await;
    state.store.close().await;
    if wrong > 0 {
        bail!("{wrong} checks failed or gave the wrong answer");
    }
    Ok(())
}
