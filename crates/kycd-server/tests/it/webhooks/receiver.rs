//! A local webhook receiver for tests: an axum server on 127.0.0.1:0 that
//! records every request (headers, body, the status it answered) and can be
//! told to answer with given statuses, to be slow, or to be down (it then
//! drops every connection, as a crashed host would). Responses close the
//! connection, so "down" applies to the very next request.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub status: u16,
    pub at: Instant,
}

impl Hit {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[derive(Default)]
struct Shared {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<VecDeque<u16>>,
    status: AtomicU16,
    down: Arc<AtomicBool>,
    delay_ms: AtomicU64,
    started: AtomicUsize,
    changed: tokio::sync::Notify,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub url: String,
    shared: Arc<Shared>,
}

struct Gated {
    inner: TcpListener,
    down: Arc<AtomicBool>,
}

impl axum::serve::Listener for Gated {
    type Io = TcpStream;
    type Addr = SocketAddr;
    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            if let Ok((s, a)) = self.inner.accept().await {
                if self.down.load(Ordering::SeqCst) {
                    drop(s);
                    continue;
                }
                return (s, a);
            }
        }
    }
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

async fn hook(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    s.started.fetch_add(1, Ordering::SeqCst);
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = s
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| s.status.load(Ordering::SeqCst));
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    s.hits.lock().unwrap().push(Hit {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        content_type: h("content-type"),
        body: body.to_vec(),
        status,
        at: Instant::now(),
    });
    s.changed.notify_waiters();
    (
        StatusCode::from_u16(status).unwrap(),
        [("connection", "close")],
        "ok",
    )
}

impl Receiver {
    /// Starts a receiver answering 200.
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        shared.status.store(200, Ordering::SeqCst);
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = inner.local_addr().unwrap();
        let listener = Gated {
            inner,
            down: shared.down.clone(),
        };
        let app = Router::new()
            .fallback(axum::routing::post(hook))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            addr,
            url: format!("http://{addr}/hooks"),
            shared,
        }
    }

    /// The status answered from now on.
    pub fn set_status(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }
    /// Statuses for the next requests, in order, before the default one.
    pub fn script(&self, statuses: &[u16]) {
        self.shared.script.lock().unwrap().extend(statuses);
    }
    /// Down: every connection is dropped without an answer.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }
    pub fn set_delay(&self, d: Duration) {
        self.shared
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }
    /// Requests received, answered or not yet.
    pub fn started(&self) -> usize {
        self.shared.started.load(Ordering::SeqCst)
    }
    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }
    /// How many times each webhook-id was answered with a 2xx.
    pub fn delivered(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for h in self.shared.hits.lock().unwrap().iter().filter(|h| h.ok()) {
            *m.entry(h.id.clone()).or_insert(0) += 1;
        }
        m
    }

    /// Waits until `pred(hits)` holds; panics with `what` after `timeout`.
    pub async fn wait(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[Hit]) -> bool,
    ) -> Vec<Hit> {
        let deadline = Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            let hits = self.hits();
            if pred(&hits) {
                return hits;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; got {} requests",
                hits.len()
            );
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), changed).await;
        }
    }
}
