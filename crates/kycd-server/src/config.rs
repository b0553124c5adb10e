//! Server configuration: defaults in code, overridden by flags and `KYCD_` env.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `Debug` is written by hand: it shows whether a secret is set, never its value.
#[derive(Clone)]
pub struct Config {
    /// `postgres://…` or a SQLite path; `None`: `kycd.db` in the data dir.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Base URL used in hosted links and printed docs URLs.
    pub public_url: Option<String>,
    /// Base64 master key; `None`: the key file (`master_key_file`).
    pub master_key: Option<String>,
    /// The master key file; `None`: `master.key` in the data dir.
    pub master_key_file: Option<PathBuf>,
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
            master_key_file: None,
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

/// The shortest shared secret accepted (bytes): shorter ones are guessable.
pub const MIN_SECRET_BYTES: usize = 16;

fn redacted(secret: &Option<String>) -> &'static str {
    match secret {
        Some(_) => "Some(<redacted>)",
        None => "None",
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Config {
            database_url,
            listen,
            data_dir,
            public_url,
            master_key,
            master_key_file,
            webhook_allow_private,
            screening_sources,
            screening_refresh_secs,
            max_body_bytes,
            max_document_bytes,
            workers,
            tick_millis,
            sumsub_webhook_secret,
            db_acquire_timeout,
            header_read_timeout,
            idle_timeout,
            request_timeout,
            body_read_timeout,
            max_connections,
            rate_limit_per_second,
            address_rate_limit_per_second,
        } = self;
        f.debug_struct("Config")
            .field(
                "database_url",
                &database_url.as_deref().map(redact_url_password),
            )
            .field("listen", listen)
            .field("data_dir", data_dir)
            .field("public_url", public_url)
            .field("master_key", &format_args!("{}", redacted(master_key)))
            .field("master_key_file", master_key_file)
            .field("webhook_allow_private", webhook_allow_private)
            .field("screening_sources", screening_sources)
            .field("screening_refresh_secs", screening_refresh_secs)
            .field("max_body_bytes", max_body_bytes)
            .field("max_document_bytes", max_document_bytes)
            .field("workers", workers)
            .field("tick_millis", tick_millis)
            .field(
                "sumsub_webhook_secret",
                &format_args!("{}", redacted(sumsub_webhook_secret)),
            )
            .field("db_acquire_timeout", db_acquire_timeout)
            .field("header_read_timeout", header_read_timeout)
            .field("idle_timeout", idle_timeout)
            .field("request_timeout", request_timeout)
            .field("body_read_timeout", body_read_timeout)
            .field("max_connections", max_connections)
            .field("rate_limit_per_second", rate_limit_per_second)
            .field(
                "address_rate_limit_per_second",
                address_rate_limit_per_second,
            )
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:<redacted>@host/db`.
fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("<redacted>"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Refuses settings that would run insecurely: an empty, blank or short
    /// shared secret (an empty HMAC key authenticates anyone who knows that).
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(secret) = &self.sumsub_webhook_secret {
            if secret.trim().is_empty() {
                anyhow::bail!(
                    "KYCD_SUMSUB_WEBHOOK_SECRET (--sumsub-webhook-secret) is set but empty: set the secret configured in Sumsub, or unset the variable to refuse Sumsub webhooks"
                );
            }
            if secret.len() < MIN_SECRET_BYTES {
                anyhow::bail!(
                    "KYCD_SUMSUB_WEBHOOK_SECRET (--sumsub-webhook-secret) is shorter than {MIN_SECRET_BYTES} bytes: use a long random secret (e.g. `openssl rand -hex 32`) in Sumsub and here"
                );
            }
        }
        Ok(())
    }

    /// Where the master key file is (when `master_key` is not set).
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_no_secret() {
        let config = Config {
            master_key: Some("c2VjcmV0LW1hc3Rlci1rZXktYnl0ZXMtMzItbG9uZyE=".into()),
            sumsub_webhook_secret: Some("sumsub-shared-secret-value".into()),
            database_url: Some("postgres://kycd:db-password-value@db:5432/kycd".into()),
            ..Config::default()
        };
        let shown = format!("{config:?} {config:#?}");
        for secret in [
            "c2VjcmV0LW1hc3Rlci1rZXktYnl0ZXMtMzItbG9uZyE=",
            "sumsub-shared-secret-value",
            "db-password-value",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(shown.contains("db:5432"), "non-secret fields stay: {shown}");
    }

    #[test]
    fn empty_blank_or_short_secrets_are_refused() {
        for bad in ["", "   ", "\t\n", "short-secret"] {
            let config = Config {
                sumsub_webhook_secret: Some(bad.into()),
                ..Config::default()
            };
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("KYCD_SUMSUB_WEBHOOK_SECRET"), "{err}");
        }
        for good in [None, Some("0123456789abcdef".to_string())] {
            let config = Config {
                sumsub_webhook_secret: good,
                ..Config::default()
            };
            config.validate().unwrap();
        }
    }
}
