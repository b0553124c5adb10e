//! Rate limits (token buckets, `governor`): per API key on authenticated `/v1`
//! requests, and per client address on unauthenticated paths (hosted pages,
//! inbound webhooks) and failed authentication. Over the limit: `429
//! rate_limited` with `Retry-After`; every limited response carries the
//! `RateLimit-Policy` and `RateLimit` fields of the IETF draft "RateLimit
//! header fields for HTTP". Buckets live in the node's memory: with several
//! nodes each enforces the limit on its own share of the traffic.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Highest rate a setting may ask for (requests per second).
pub const MAX_RATE: u32 = 100_000;
/// Distinct addresses tracked before idle buckets are dropped.
const PRUNE_ABOVE: usize = 10_000;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Token buckets of one rate (burst twice the rate), one per key.
struct Buckets<K: Hash + Eq + Clone> {
    name: &'static str,
    rate: u32,
    limiter: Keyed<K>,
}

/// The outcome of one check, rendered as headers.
#[derive(Debug, Clone)]
pub struct Decision {
    policy: &'static str,
    rate: u32,
    remaining: u32,
    /// `None` when allowed; otherwise how long until a token is back.
    wait: Option<Duration>,
}

impl Decision {
    fn burst(&self) -> u32 {
        self.rate.saturating_mul(2)
    }

    /// Seconds until the bucket is full again (`t` of the `RateLimit` field).
    fn reset_seconds(&self) -> u64 {
        let missing = self.burst().saturating_sub(self.remaining) as f64;
        (missing / self.rate as f64).ceil() as u64
    }

    /// `RateLimit-Policy: "api-key";q=200;w=2` and `RateLimit: "api-key";r=57;t=2`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let window = (self.burst() as f64 / self.rate as f64).ceil() as u64;
        let policy = format!("\"{}\";q={};w={window}", self.policy, self.burst());
        let current = format!(
            "\"{}\";r={};t={}",
            self.policy,
            self.remaining,
            self.reset_seconds()
        );
        if let Ok(v) = HeaderValue::from_str(&policy) {
            headers.insert("ratelimit-policy", v);
        }
        if let Ok(v) = HeaderValue::from_str(&current) {
            headers.insert("ratelimit", v);
        }
    }

    /// The `429` response, or `None` when the request may proceed.
    pub fn refusal(&self) -> Option<Response> {
        let wait = self.wait?;
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut res = ApiError::rate_limited(seconds).into_response();
        self.apply(res.headers_mut());
        Some(res)
    }
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(name: &'static str, rate: u32) -> Self {
        let per_second = NonZeroU32::new(rate.clamp(1, MAX_RATE)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(per_second.get().saturating_mul(2)).unwrap_or(per_second);
        Buckets {
            name,
            rate: per_second.get(),
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
                .with_middleware::<StateInformationMiddleware>(),
        }
    }

    fn check(&self, key: &K) -> Decision {
        if self.limiter.len() > PRUNE_ABOVE {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        match self.limiter.check_key(key) {
            Ok(snapshot) => Decision {
                policy: self.name,
                rate: self.rate,
                remaining: snapshot.remaining_burst_capacity(),
                wait: None,
            },
            Err(not_until) => Decision {
                policy: self.name,
                rate: self.rate,
                remaining: 0,
                wait: Some(not_until.wait_time_from(DefaultClock::default().now())),
            },
        }
    }
}

/// The node's rate-limit state.
#[derive(Default)]
pub struct RateLimits {
    /// Per API key, one set of buckets per rate in use (organizations may override the rate).
    per_key: Mutex<HashMap<u32, Arc<Buckets<String>>>>,
    per_address: Mutex<Option<Arc<Buckets<IpAddr>>>>,
    /// Addresses whose failed authentications ran out of tokens, until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl RateLimits {
    /// Checks (and takes) one token of `key` at `rate` requests per second.
    pub fn check_key(&self, key: &str, rate: u32) -> Decision {
        let buckets = self
            .per_key
            .lock()
            .expect("rate limit lock")
            .entry(rate)
            .or_insert_with(|| Arc::new(Buckets::new("api-key", rate)))
            .clone();
        buckets.check(&key.to_string())
    }

    /// Checks (and takes) one token of `address` at `rate` requests per second.
    pub fn check_address(&self, address: IpAddr, rate: u32) -> Decision {
        let buckets = {
            let mut slot = self.per_address.lock().expect("rate limit lock");
            match &*slot {
                Some(b) if b.rate == rate => b.clone(),
                _ => {
                    let b = Arc::new(Buckets::new("address", rate));
                    *slot = Some(b.clone());
                    b
                }
            }
        };
        buckets.check(&address)
    }

    fn blocked_for(&self, address: IpAddr) -> Option<Duration> {
        let mut blocked = self.blocked.lock().expect("rate limit lock");
        let now = Instant::now();
        match blocked.get(&address) {
            Some(until) if *until > now => Some(*until - now),
            Some(_) => {
                blocked.remove(&address);
                None
            }
            None => None,
        }
    }

    fn block(&self, address: IpAddr, for_: Duration) {
        let mut blocked = self.blocked.lock().expect("rate limit lock");
        let now = Instant::now();
        if blocked.len() > PRUNE_ABOVE {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(address, now + for_);
    }
}

/// The client's address (the TCP peer; kycd does not trust forwarding headers).
fn client_address(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Per-address limit on unauthenticated routes (hosted pages, inbound webhooks).
pub async fn per_address(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(rate), Some(address)) = (
        state.config.address_rate_limit_per_second,
        client_address(&req),
    ) else {
        return next.run(req).await;
    };
    let decision = state.rate_limits.check_address(address, rate);
    if let Some(refusal) = decision.refusal() {
        return refusal;
    }
    let mut res = next.run(req).await;
    decision.apply(res.headers_mut());
    res
}

/// Failed authentication spends the address's tokens; once they are gone,
/// the address is answered `429` at once (no key lookup) until one is back.
pub async fn failed_auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(rate), Some(address)) = (
        state.config.address_rate_limit_per_second,
        client_address(&req),
    ) else {
        return next.run(req).await;
    };
    if let Some(wait) = state.rate_limits.blocked_for(address) {
        let decision = Decision {
            policy: "address",
            rate,
            remaining: 0,
            wait: Some(wait),
        };
        if let Some(refusal) = decision.refusal() {
            return refusal;
        }
    }
    let res = next.run(req).await;
    if res.status() == StatusCode::UNAUTHORIZED {
        let decision = state.rate_limits.check_address(address, rate);
        if let Some(wait) = decision.wait {
            state.rate_limits.block(address, wait);
            if let Some(refusal) = decision.refusal() {
                return refusal;
            }
        }
    }
    res
}

/// Per-API-key limit on authenticated `/v1` requests (after authentication):
/// the organization's `rate_limit_per_second` setting, else `KYCD_RATE_LIMIT`.
pub async fn per_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    let configured = crate::service::settings::load(&state, &caller.scope)
        .await
        .ok()
        .and_then(|(settings, _)| settings.rate_limit_per_second);
    let Some(rate) = configured.or(state.config.rate_limit_per_second) else {
        return next.run(req).await;
    };
    let decision = state.rate_limits.check_key(&caller.key_id, rate);
    if let Some(refusal) = decision.refusal() {
        return refusal;
    }
    let mut res = next.run(req).await;
    decision.apply(res.headers_mut());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_twice_the_rate_then_refused() {
        let limits = RateLimits::default();
        for i in 0..10 {
            let d = limits.check_key("k1", 5);
            assert!(d.wait.is_none(), "request {i} of the burst");
        }
        let d = limits.check_key("k1", 5);
        assert!(d.wait.is_some());
        assert!(d.refusal().is_some());
        assert!(limits.check_key("k2", 5).wait.is_none(), "another key");
    }

    #[test]
    fn headers_follow_the_draft_syntax() {
        let limits = RateLimits::default();
        let d = limits.check_key("k", 100);
        let mut h = HeaderMap::new();
        d.apply(&mut h);
        assert_eq!(h["ratelimit-policy"], "\"api-key\";q=200;w=2");
        assert_eq!(h["ratelimit"], "\"api-key\";r=199;t=1");
    }
}
