//! Prometheus metrics: request count and latency histogram per route.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → latency series.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// (provider, outcome) → latency series of identity provider requests.
    providers: Mutex<BTreeMap<(String, String), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.series.lock().expect("metrics lock");
        let s = map
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// One request to an identity provider: `ok`, `refused` (4xx),
    /// `retryable` (5xx/429), `timeout` or `unreachable`.
    pub fn provider_request(&self, provider: &str, outcome: &str, elapsed: std::time::Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut map = self.providers.lock().expect("metrics lock");
        let s = map
            .entry((provider.to_string(), outcome.to_string()))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i] += 1;
            }
        }
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
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "kycd_provider_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "kycd_provider_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "kycd_provider_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "kycd_provider_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
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
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "kycd_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "kycd_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "kycd_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "kycd_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        drop(map);
        self.render_providers(&mut out);
        out
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
