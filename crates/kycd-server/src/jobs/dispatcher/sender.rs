//! Sending one signed delivery: the HTTP client (15 s timeout, no redirects,
//! no proxy) whose DNS resolver refuses private addresses unless allowed, so
//! the connection goes only to addresses the SSRF guard checked.

use super::secrets::SecretSet;
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use kycd_store::webhooks::deliveries::Claimed;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Per-attempt timeout, connection and response included.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Response bytes read (and dropped) so the connection can be reused.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Resolves host names and refuses the lot if any address is forbidden.
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            kycd_webhooks::check_resolved_addrs(addrs.iter().map(|a| a.ip()))?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// One attempt to make.
pub struct Job {
    pub claimed: Claimed,
    pub url: String,
    pub secrets: Arc<SecretSet>,
    /// The payload, shared by every endpoint of the event.
    pub body: Bytes,
    /// The scope's clock (which previous secrets still sign).
    pub scope_now: DateTime<Utc>,
    /// How far the scope's (sandbox) clock is ahead of real time, seconds.
    pub clock_offset: i64,
    /// The endpoint had failed before this attempt.
    pub was_failing: bool,
}

/// Whether an attempt reached the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sent, or refused by the SSRF guard: it counts against the endpoint.
    Sent,
    /// Not sent: the endpoint was disabled or deleted meanwhile.
    Canceled,
    /// Not sent for an internal reason (e.g. the secret could not be opened): retried.
    Internal,
}

/// What one attempt gave.
pub struct Outcome {
    pub kind: Kind,
    pub job: Job,
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// The webhook HTTP client: no redirects, no proxies, and (unless private
    /// targets are allowed) the SSRF-guarded resolver. An error if it cannot
    /// be built: there is no fallback to a client without those guards.
    pub fn new(allow_private: bool) -> anyhow::Result<Sender> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .user_agent(concat!("kycd-webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            b = b.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = b
            .build()
            .map_err(|e| anyhow::anyhow!("could not build the webhook HTTP client: {e}"))?;
        Ok(Sender {
            client,
            allow_private,
        })
    }

    /// Makes the attempt: signs with every current secret and POSTs.
    pub async fn send(&self, job: Job) -> Outcome {
        let fail = |job, error: String| Outcome {
            kind: Kind::Sent,
            job,
            status_code: None,
            duration_ms: 0,
            error: Some(error),
        };
        if !self.allow_private
            && let Err(e) = kycd_webhooks::check_url(&job.url)
        {
            return fail(job, format!("refused by the SSRF guard: {e}"));
        }
        let ts = Utc::now().timestamp();
        let msg_id = job.claimed.event_id.as_str();
        let signature = match kycd_webhooks::signature_header(
            &job.secrets.signing(job.scope_now),
            msg_id,
            ts,
            &job.body,
        ) {
            Ok(s) => s,
            Err(e) => return fail(job, format!("signing failed: {e}")),
        };
        let start = Instant::now();
        let res = self
            .client
            .post(&job.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(kycd_webhooks::HEADER_ID, msg_id)
            .header(kycd_webhooks::HEADER_TIMESTAMP, ts.to_string())
            .header(kycd_webhooks::HEADER_SIGNATURE, signature)
            .body(job.body.clone())
            .send()
            .await;
        let result = match res {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let mut read = 0;
                // Drain some of the body so the connection can be reused; its content is not kept.
                while read < MAX_RESPONSE_BYTES {
                    match r.chunk().await {
                        Ok(Some(c)) => read += c.len(),
                        _ => break,
                    }
                }
                let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
                (Some(status), error)
            }
            Err(e) => (None, Some(describe(&e))),
        };
        Outcome {
            kind: Kind::Sent,
            job,
            status_code: result.0,
            duration_ms: i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX),
            error: result.1,
        }
    }
}

/// A short, URL-free description of a transport error.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("timed out after {} s", TIMEOUT.as_secs());
    }
    let what = if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // The innermost cause says what happened (refused, reset, SSRF guard…);
    // reqwest's own message would carry the URL.
    let mut root: Option<&dyn std::error::Error> = None;
    let mut cur = std::error::Error::source(e);
    while let Some(s) = cur {
        root = Some(s);
        cur = s.source();
    }
    let mut msg = match root {
        Some(r) => format!("{what}: {r}"),
        None => what.to_string(),
    };
    if msg.len() > 300 {
        let mut cut = 300;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
    }
    msg
}
