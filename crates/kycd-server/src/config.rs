//! Server configuration: defaults in code, overridden by flags and `KYCD_` env.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// `postgres://…` or a SQLite path; `None`: `kycd.db` in the data dir.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Base URL used in hosted links and printed docs URLs.
    pub public_url: Option<String>,
    /// Base64 master key; `None`: a key file in the data dir.
    pub master_key: Option<String>,
    pub webhook_allow_private: bool,
    /// `format:path-or-url` entries.
    pub screening_sources: Vec<String>,
    pub screening_refresh_secs: u64,
    /// Maximum JSON body size in bytes.
    pub max_body_bytes: usize,
    /// Maximum document size in bytes.
    pub max_document_bytes: usize,
    /// Run background workers (dispatcher, scheduler) in this process.
    pub workers: bool,
    /// How often the scheduler looks for due work.
    pub tick_millis: u64,
    /// Shared secret of Sumsub's inbound webhooks (`X-Payload-Digest`); `None` refuses them.
    pub sumsub_webhook_secret: Option<String>,
    /// How long a request waits for a PostgreSQL connection before `503`.
    pub db_acquire_timeout: Duration,
    /// A client must send a request's headers within this (from connecting,
    /// or from the end of the previous response on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// A connection with no bytes moving either way for this long is closed
    /// (a client that stops reading its response, a stalled upload).
    pub idle_timeout: Duration,
    /// The longest a request may take from its headers to its response (`503`).
    pub request_timeout: Duration,
    /// The longest a declared body may pause between two chunks (`408`).
    pub body_read_timeout: Duration,
    /// Concurrent connections; more are answered `503` and closed.
    pub max_connections: usize,
    /// Requests per second per API key (burst twice that); `None`: no limit.
    /// Organizations may set their own (`rate_limit_per_second` in settings).
    pub rate_limit_per_second: Option<u32>,
    /// Requests per second per client address on unauthenticated paths (hosted
    /// pages, inbound webhooks, failed authentication); burst twice that.
    pub address_rate_limit_per_second: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            listen: "127.0.0.1:8080".parse().expect("static address"),
            data_dir: PathBuf::from("./kycd-data"),
            public_url: None,
            master_key: None,
            webhook_allow_private: false,
            screening_sources: vec![],
            screening_refresh_secs: 3600,
            max_body_bytes: 1024 * 1024,
            max_document_bytes: 10 * 1024 * 1024,
            workers: true,
            tick_millis: 1000,
            sumsub_webhook_secret: None,
            db_acquire_timeout: Duration::from_secs(1),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            rate_limit_per_second: Some(100),
            address_rate_limit_per_second: Some(20),
        }
    }
}

impl Config {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("kycd.db").display()),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        !self.database_url().starts_with("postgres")
    }
}
