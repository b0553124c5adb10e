//! Prometheus metrics: request count and latency histogram per route, the
//! stages of a customer create and the sizes of group commits.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The stages of a create take microseconds: finer buckets, from 10 µs.
pub const STAGE_BUCKETS: [f64; 17] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Creates per group commit (one transaction, one fsync).
const GROUP_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// A histogram: count, sum and cumulative counts per upper bound.
#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: Vec<u64>,
}

impl Series {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.buckets.len() != bounds.len() {
            self.buckets = vec![0; bounds.len()];
        }
        self.count += 1;
        self.sum += value;
        for (i, b) in bounds.iter().enumerate() {
            if value <= *b {
                self.buckets[i] += 1;
            }
        }
    }

    /// `{name}_bucket`, `{name}_sum` and `{name}_count` lines under `labels`.
    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in bounds.iter().enumerate() {
            let n = self.buckets.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braced = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braced} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braced} {}", self.count);
    }
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → latency series.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// (provider, outcome) → latency series of identity provider requests.
    providers: Mutex<BTreeMap<(String, String), Series>>,
    /// Stage of `POST /v1/customers` → its duration per create ([`StageClock`]).
    create_stages: Mutex<BTreeMap<&'static str, Series>>,
    /// Creates per group commit.
    group_commits: Mutex<Series>,
    /// Groups written a second time, each create under its savepoint,
    /// because one create failed in the first attempt.
    group_commit_retries: std::sync::atomic::AtomicU64,
    /// The same for `POST /v1/customers/batch` (and `kycd import`).
    batch_retries: std::sync::atomic::AtomicU64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.series.lock().expect("metrics lock");
        map.entry((method.to_string(), route.to_string(), status))
            .or_default()
            .observe(&BUCKETS, seconds);
    }

    /// One request to an identity provider: `ok`, `refused` (4xx),
    /// `retryable` (5xx/429), `timeout` or `unreachable`.
    pub fn provider_request(&self, provider: &str, outcome: &str, elapsed: std::time::Duration) {
        let mut map = self.providers.lock().expect("metrics lock");
        map.entry((provider.to_string(), outcome.to_string()))
            .or_default()
            .observe(&BUCKETS, elapsed.as_secs_f64());
    }

    /// The stages of one create (`kycd_create_stage_seconds`).
    pub fn create_stages(&self, stages: &[(&'static str, Duration)]) {
        let mut map = self.create_stages.lock().expect("metrics lock");
        for (stage, d) in stages {
            map.entry(stage)
                .or_default()
                .observe(&STAGE_BUCKETS, d.as_secs_f64());
        }
    }

    /// One group commit of `size` creates (`kycd_group_commit_size`).
    pub fn group_commit(&self, size: usize) {
        self.group_commits
            .lock()
            .expect("metrics lock")
            .observe(&GROUP_BUCKETS, size as f64);
    }

    /// One group whose first attempt (no savepoints) rolled back because a
    /// create failed: written again, each create under its savepoint
    /// (`kycd_group_commit_retries_total`).
    pub fn group_commit_retry(&self) {
        self.group_commit_retries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// One batch whose first attempt rolled back because an item failed in
    /// the database: written again, each item under its savepoint
    /// (`kycd_batch_retries_total`).
    pub fn batch_retry(&self) {
        self.batch_retries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn render_providers(&self, out: &mut String) {
        let map = self.providers.lock().expect("metrics lock");
        out.push_str(
            "# HELP kycd_provider_requests_total Identity provider requests by outcome.\n",
        );
        out.push_str("# TYPE kycd_provider_requests_total counter\n");
        for ((p, o), s) in map.iter() {
            let _ = writeln!(
                out,
                "kycd_provider_requests_total{{provider=\"{p}\",outcome=\"{o}\"}} {}",
                s.count
            );
        }
        out.push_str(
            "# HELP kycd_provider_request_duration_seconds Identity provider request latency.\n",
        );
        out.push_str("# TYPE kycd_provider_request_duration_seconds histogram\n");
        for ((p, o), s) in map.iter() {
            let labels = format!("provider=\"{p}\",outcome=\"{o}\"");
            s.render(
                out,
                "kycd_provider_request_duration_seconds",
                &labels,
                &BUCKETS,
            );
        }
    }

    fn render_write_path(&self, out: &mut String) {
        out.push_str(
            "# HELP kycd_create_stage_seconds Where the time of one POST /v1/customers goes, by stage.\n",
        );
        out.push_str("# TYPE kycd_create_stage_seconds histogram\n");
        for (stage, s) in self.create_stages.lock().expect("metrics lock").iter() {
            let labels = format!("stage=\"{stage}\"");
            s.render(out, "kycd_create_stage_seconds", &labels, &STAGE_BUCKETS);
        }
        out.push_str(
            "# HELP kycd_group_commit_size Creates committed together in one transaction.\n",
        );
        out.push_str("# TYPE kycd_group_commit_size histogram\n");
        self.group_commits.lock().expect("metrics lock").render(
            out,
            "kycd_group_commit_size",
            "",
            &GROUP_BUCKETS,
        );
        out.push_str(
            "# HELP kycd_group_commit_retries_total Groups written again, each create under its savepoint, after a create failed in the first attempt.\n",
        );
        out.push_str("# TYPE kycd_group_commit_retries_total counter\n");
        let _ = writeln!(
            out,
            "kycd_group_commit_retries_total {}",
            self.group_commit_retries
                .load(std::sync::atomic::Ordering::Relaxed)
        );
        out.push_str(
            "# HELP kycd_batch_retries_total Customer batches written again, each item under its savepoint, after an item failed in the first attempt.\n",
        );
        out.push_str("# TYPE kycd_batch_retries_total counter\n");
        let _ = writeln!(
            out,
            "kycd_batch_retries_total {}",
            self.batch_retries
                .load(std::sync::atomic::Ordering::Relaxed)
        );
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let map = self.series.lock().expect("metrics lock");
        let mut out = String::new();
        out.push_str("# HELP kycd_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE kycd_http_requests_total counter\n");
        for ((m, r, st), s) in map.iter() {
            let _ = writeln!(
                out,
                "kycd_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{st}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP kycd_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE kycd_http_request_duration_seconds histogram\n");
        for ((m, r, st), s) in map.iter() {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{st}\"");
            s.render(
                &mut out,
                "kycd_http_request_duration_seconds",
                &labels,
                &BUCKETS,
            );
        }
        drop(map);
        self.render_providers(&mut out);
        self.render_write_path(&mut out);
        out
    }
}

/// Times the stages of one create: each [`lap`](StageClock::lap) books the
/// time since the previous one under a stage name (the same name twice adds
/// up), [`add`](StageClock::add) books a duration measured apart (and keeps
/// it out of the next lap), and [`finish`](StageClock::finish) records them
/// all with `total`. The clock travels with its create (into the group
/// committer and back).
#[derive(Debug, Clone)]
pub struct StageClock {
    started: Instant,
    last: Instant,
    /// Booked with `add` since the last lap.
    added: Duration,
    laps: Vec<(&'static str, Duration)>,
}

impl Default for StageClock {
    fn default() -> Self {
        let now = Instant::now();
        StageClock {
            started: now,
            last: now,
            added: Duration::ZERO,
            laps: vec![],
        }
    }
}

impl StageClock {
    pub fn start() -> Self {
        Self::default()
    }

    /// Books the time since the previous lap (less what `add` booked) to `stage`.
    pub fn lap(&mut self, stage: &'static str) {
        self.lap_at(stage, Instant::now());
    }

    /// [`lap`](Self::lap) ending at `at` (a moment measured for a whole group).
    pub fn lap_at(&mut self, stage: &'static str, at: Instant) {
        let d = at
            .saturating_duration_since(self.last)
            .saturating_sub(self.added);
        self.add(stage, d);
        self.added = Duration::ZERO;
        self.last = at;
    }

    /// Books `d`, measured apart, to `stage` (and out of the next lap).
    pub fn add(&mut self, stage: &'static str, d: Duration) {
        self.added += d;
        match self.laps.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, total)) => *total += d,
            None => self.laps.push((stage, d)),
        }
    }

    /// Records every stage and the `total` since the clock started.
    pub fn finish(mut self, metrics: &Metrics) {
        self.added = Duration::ZERO;
        self.laps.push(("total", self.started.elapsed()));
        metrics.create_stages(&self.laps);
    }
}

/// Methods that get their own label; anything else is `other`.
const KNOWN_METHODS: [&str; 7] = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"];

/// The `method` label: a known method, else `other` (a client cannot add series).
pub fn method_label(method: &axum::http::Method) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("other")
}

/// Records every request under its route template (never the raw path, which
/// holds ids; unmatched paths are `other`), so labels come from a closed set.
pub async fn track(
    State(state): State<crate::state::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let method = method_label(req.method());
    let start = Instant::now();
    let res = next.run(req).await;
    let elapsed = start.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    state.metrics.observe(method, &route, status, elapsed);
    tracing::info!(target: "kycd::http", method, route = %route, status, latency_ms = elapsed * 1000.0, "request");
    res
}
