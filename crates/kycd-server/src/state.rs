//! Shared application state handed to every handler and worker.

use crate::config::Config;
use crate::metrics::Metrics;
use crate::vault::Vault;
use kycd_store::Store;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub store: Store,
    pub config: Config,
    pub vault: Arc<Vault>,
    /// Encrypted document bytes (local files or S3-compatible storage).
    pub blobs: crate::blobs::Blobs,
    pub metrics: Metrics,
    /// Loaded sanctions/PEP lists; `None` until a list is loaded.
    pub screener: RwLock<Option<Arc<kycd_screening::Screener>>>,
    /// The loaded list files behind `screener` (for delta re-screening).
    pub screening: crate::screening::Lists,
    /// Wakes the webhook dispatcher when events were committed.
    pub outbox_notify: Notify,
    /// Base URL for hosted links (`http://host:port`).
    pub public_url: String,
    /// The guarded webhook HTTP client, built at start (a failure stops the start).
    pub webhook_sender: crate::jobs::dispatcher::sender::Sender,
    pub settings_cache: crate::service::settings::Cache,
    /// This node's identity (who holds an idempotency claim).
    pub node: crate::node::Node,
    pub rate_limits: crate::ratelimit::RateLimits,
    /// Commits concurrent creates together.
    pub group_commit: crate::service::group_commit::GroupCommit,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub fn screener(&self) -> Option<Arc<kycd_screening::Screener>> {
        self.screener.read().expect("screener lock").clone()
    }
}
