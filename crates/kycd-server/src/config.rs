//! Server configuration: one `Config`, read from flags and `KYCD_` variables
//! by clap, each default stated once (in its `#[arg]`). Tests and benchmarks
//! start from `Config::default()` (the same defaults, no environment) and set
//! fields. Secrets are `SecretString`s: `Debug` never shows them.

use clap::{Args, CommandFactory, FromArgMatches, Parser, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Every setting of a kycd process.
#[derive(Args, Clone, Debug)]
pub struct Config {
    // --- Storage ---
    /// Database: `postgres://…` or `sqlite://path` (default: `kycd.db` in the data dir).
    #[arg(
        long,
        env = "KYCD_DATABASE_URL",
        hide_env_values = true,
        help_heading = "Storage"
    )]
    pub database_url: Option<DatabaseUrl>,
    /// SQLite file, document blobs and a generated master key live here.
    #[arg(
        long,
        env = "KYCD_DATA_DIR",
        default_value = "./kycd-data",
        help_heading = "Storage"
    )]
    pub data_dir: PathBuf,
    /// PostgreSQL connections per process (more than the cores only adds
    /// context switches on small machines).
    #[arg(long, env = "KYCD_DB_POOL_SIZE", default_value_t = kycd_store::DEFAULT_POOL_SIZE,
          value_parser = clap::value_parser!(u32).range(1..=1000), help_heading = "Storage")]
    pub db_pool_size: u32,
    /// Milliseconds a request waits for a PostgreSQL connection before `503`.
    #[arg(long = "db-acquire-timeout-ms", value_name = "MS", env = "KYCD_DB_ACQUIRE_TIMEOUT_MS",
          default_value = "1000", value_parser = millis, help_heading = "Storage")]
    pub db_acquire_timeout: Duration,
    /// Document blobs: `s3://bucket/prefix` (settings from the usual `AWS_*`
    /// variables) or `file:///dir`; default: `blobs/` in the data dir.
    #[arg(long, env = "KYCD_BLOB_URL", help_heading = "Storage")]
    pub blob_url: Option<String>,
    /// Do not apply pending migrations at start: refuse to start while some
    /// are pending (apply them with `kycd migrate`).
    #[arg(long, env = "KYCD_SKIP_MIGRATIONS", help_heading = "Storage")]
    pub skip_migrations: bool,
    /// Group commit: concurrent `POST /v1/customers` share one transaction
    /// and one fsync, each acknowledged once its group committed (`auto`: on
    /// for both backends, measured faster on each at the same p99; `on`,
    /// `off`: on either).
    #[arg(
        long,
        env = "KYCD_GROUP_COMMIT",
        value_enum,
        default_value = "auto",
        help_heading = "Storage"
    )]
    pub group_commit: GroupCommitMode,
    /// The most creates one group commit holds.
    #[arg(long, env = "KYCD_GROUP_COMMIT_MAX", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=1000), help_heading = "Storage")]
    pub group_commit_max: u32,
    /// Milliseconds a group commit waits for more creates after its first
    /// (`0`: it takes those queued while the previous group committed).
    #[arg(long = "group-commit-linger-ms", value_name = "MS", env = "KYCD_GROUP_COMMIT_LINGER_MS",
          default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=10_000),
          help_heading = "Storage")]
    pub group_commit_linger_ms: u64,

    // --- Keys ---
    /// Base64 master key (32 bytes); default: the master key file.
    #[arg(
        long,
        env = "KYCD_MASTER_KEY",
        hide_env_values = true,
        help_heading = "Keys"
    )]
    pub master_key: Option<SecretString>,
    /// The master key file (default: `master.key` in the data dir); keep it
    /// outside the data dir, e.g. on another volume or a secrets mount.
    #[arg(long, env = "KYCD_MASTER_KEY_FILE", help_heading = "Keys")]
    pub master_key_file: Option<PathBuf>,
    /// The master key being rotated out (base64): stored keys still wrapped
    /// by it are accepted while `kycd keys rotate` runs on another node.
    #[arg(
        long,
        env = "KYCD_MASTER_KEY_PREVIOUS",
        hide_env_values = true,
        help_heading = "Keys"
    )]
    pub master_key_previous: Option<SecretString>,

    // --- HTTP ---
    /// Address to listen on.
    #[arg(
        long,
        env = "KYCD_LISTEN",
        default_value = "127.0.0.1:8080",
        help_heading = "HTTP"
    )]
    pub listen: SocketAddr,
    /// Public base URL, used in hosted links (default: `http://<listen>`).
    #[arg(long, env = "KYCD_PUBLIC_URL", help_heading = "HTTP")]
    pub public_url: Option<String>,
    /// Largest JSON request body, in bytes (`413` above);
    /// `POST /v1/customers/batch` takes ten times this.
    #[arg(long, env = "KYCD_MAX_BODY_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=64 * 1024 * 1024),
          help_heading = "HTTP")]
    pub max_body_bytes: usize,
    /// Largest document upload, in bytes (`413` above).
    #[arg(long, env = "KYCD_MAX_DOCUMENT_BYTES", default_value_t = 10 * 1024 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=1024 * 1024 * 1024),
          help_heading = "HTTP")]
    pub max_document_bytes: usize,
    /// Seconds a client has to send a request's headers (from connecting, or
    /// from the end of the previous response on a kept-alive connection).
    #[arg(long = "header-read-timeout-secs", value_name = "SECS", env = "KYCD_HEADER_READ_TIMEOUT_SECS",
          default_value = "10", value_parser = seconds, help_heading = "HTTP")]
    pub header_read_timeout: Duration,
    /// Seconds without a byte moving either way before a connection is closed
    /// (a client that stops reading its response, a stalled upload).
    #[arg(long = "idle-timeout-secs", value_name = "SECS", env = "KYCD_IDLE_TIMEOUT_SECS",
          default_value = "60", value_parser = seconds, help_heading = "HTTP")]
    pub idle_timeout: Duration,
    /// Seconds a request may take from its headers to its response (`503` after).
    #[arg(long = "request-timeout-secs", value_name = "SECS", env = "KYCD_REQUEST_TIMEOUT_SECS",
          default_value = "30", value_parser = seconds, help_heading = "HTTP")]
    pub request_timeout: Duration,
    /// Seconds a declared request body may pause between two chunks (`408` after).
    #[arg(long = "body-read-timeout-secs", value_name = "SECS", env = "KYCD_BODY_READ_TIMEOUT_SECS",
          default_value = "10", value_parser = seconds, help_heading = "HTTP")]
    pub body_read_timeout: Duration,
    /// Concurrent connections; more are answered `503` and closed.
    #[arg(long, env = "KYCD_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000),
          help_heading = "HTTP")]
    pub max_connections: usize,
    /// Requests per second per API key (burst twice that); `0` turns the
    /// limit off. Organizations may set their own (`rate_limit_per_second`).
    #[arg(long = "rate-limit", value_name = "PER_SECOND", env = "KYCD_RATE_LIMIT", default_value = "100",
          value_parser = per_second, help_heading = "HTTP")]
    pub rate_limit_per_second: std::option::Option<u32>,
    /// Requests per second per client address on hosted pages, inbound
    /// webhooks and failed authentication (burst twice that); `0`: no limit.
    #[arg(long = "address-rate-limit", value_name = "PER_SECOND", env = "KYCD_ADDRESS_RATE_LIMIT", default_value = "20",
          value_parser = per_second, help_heading = "HTTP")]
    pub address_rate_limit_per_second: std::option::Option<u32>,

    // --- Webhooks and providers ---
    /// Let webhook endpoints point at loopback and private addresses.
    #[arg(
        long,
        env = "KYCD_WEBHOOK_ALLOW_PRIVATE",
        help_heading = "Webhooks and providers"
    )]
    pub webhook_allow_private: bool,
    /// Deprecated (kept one release): global secret of Sumsub's inbound
    /// webhooks, the fallback when no organization's `webhook_secret` (`PUT
    /// /v1/providers/sumsub`) matches; logs a warning on every use.
    #[arg(
        long,
        env = "KYCD_SUMSUB_WEBHOOK_SECRET",
        hide_env_values = true,
        help_heading = "Webhooks and providers"
    )]
    pub sumsub_webhook_secret: Option<SecretString>,
    /// Seconds a customer may wait on Sumsub (pending or on hold) before the
    /// reconciliation job fetches its applicant's review status (a lost webhook).
    #[arg(long = "sumsub-reconcile-after-secs", value_name = "SECS", env = "KYCD_SUMSUB_RECONCILE_AFTER_SECS",
          default_value = "3600", value_parser = seconds, help_heading = "Webhooks and providers")]
    pub sumsub_reconcile_after: Duration,

    // --- Screening ---
    /// Comma-separated `format:path-or-url` sanctions and PEP list sources.
    #[arg(
        long,
        env = "KYCD_SCREENING_SOURCES",
        value_delimiter = ',',
        help_heading = "Screening"
    )]
    pub screening_sources: Vec<String>,
    /// Seconds between screening list refreshes.
    #[arg(long = "screening-refresh-secs", value_name = "SECS", env = "KYCD_SCREENING_REFRESH_SECS",
          default_value = "3600", value_parser = seconds, help_heading = "Screening")]
    pub screening_refresh: Duration,

    // --- Background work ---
    /// Run the background workers (webhook dispatcher, expiry scheduler,
    /// inbound webhooks, list refresh) in this process.
    #[arg(long, env = "KYCD_WORKERS", default_value_t = true,
          action = clap::ArgAction::Set, help_heading = "Background work")]
    pub workers: bool,
    /// Milliseconds between two passes of the scheduler and the inbound worker
    /// (the dispatcher is also woken by every commit).
    #[arg(long = "tick-ms", value_name = "MS", env = "KYCD_TICK_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60_000), help_heading = "Background work")]
    pub tick_millis: u64,

    // --- Back office ---
    /// Target hours per back-office queue reason: a case waiting longer is
    /// marked in the queue; reasons left out keep their default.
    #[arg(long, env = "KYCD_QUEUE_TARGET_HOURS", value_name = "REASON=HOURS,…",
          default_value = "on_hold=24,awaiting_review=48,documents_in_review=24,product_access=72,four_eyes=24",
          value_parser = crate::admin::team::parse_targets, help_heading = "Back office")]
    pub queue_target_hours: crate::admin::team::Targets,

    // --- Logging ---
    /// Log filter (`tracing` directives), e.g. `info,kycd_server=debug`.
    #[arg(
        long,
        env = "KYCD_LOG",
        default_value = "info,sqlx=warn",
        help_heading = "Logging"
    )]
    pub log: String,
    /// `text` for people, `json` for log collectors.
    #[arg(
        long,
        env = "KYCD_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        ignore_case = true,
        help_heading = "Logging"
    )]
    pub log_format: LogFormat,
}

/// Whether concurrent creates commit together.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupCommitMode {
    /// Each backend's measured choice.
    Auto,
    On,
    Off,
}

/// How log lines are written.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A database URL whose `Debug` hides the password
/// (`postgres://user:REDACTED@host/db`).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for DatabaseUrl {
    fn from(s: String) -> Self {
        DatabaseUrl(s)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(s: &str) -> Self {
        DatabaseUrl(s.to_string())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(DatabaseUrl(s.to_string()))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("REDACTED"));
                write!(f, "{:?}", u.as_str())
            }
            _ => write!(f, "{:?}", self.0),
        }
    }
}

fn whole_number(s: &str, unit: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a whole number of {unit} above 0")),
    }
}

fn millis(s: &str) -> Result<Duration, String> {
    whole_number(s, "milliseconds").map(Duration::from_millis)
}

fn seconds(s: &str) -> Result<Duration, String> {
    whole_number(s, "seconds").map(Duration::from_secs)
}

/// Requests per second, `0` for no limit.
fn per_second(s: &str) -> Result<Option<u32>, String> {
    match s.trim().parse::<u32>() {
        Ok(0) => Ok(None),
        Ok(n) if n <= 100_000 => Ok(Some(n)),
        _ => Err("expected requests per second from 0 (no limit) to 100000".into()),
    }
}

/// Parses `Config` alone from an argument list (the defaults, and tests).
#[derive(Parser)]
#[command(name = "kycd")]
struct Standalone {
    #[command(flatten)]
    config: Config,
}

impl Default for Config {
    /// Every default as the `#[arg]`s state it, without reading the environment.
    fn default() -> Self {
        let command = Standalone::command().mut_args(|a| a.env(None));
        let matches = command
            .try_get_matches_from(["kycd"])
            .expect("the defaults parse");
        Standalone::from_arg_matches(&matches)
            .expect("the defaults parse")
            .config
    }
}

/// The configuration reference as a Markdown table, generated from the
/// `#[arg]`s (flag, variable, default, meaning), grouped by heading. The
/// README embeds it; a test fails when the embedded copy is stale.
pub fn reference_markdown() -> String {
    let command = Standalone::command();
    let mut out = String::new();
    let mut heading: Option<&str> = None;
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" {
            continue;
        }
        if arg.get_help_heading() != heading {
            heading = arg.get_help_heading();
            out.push_str(&format!(
                "\n**{}**\n\n| flag | environment | default | meaning |\n|---|---|---|---|\n",
                heading.unwrap_or("Other")
            ));
        }
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let default = if defaults.is_empty() {
            "—".to_string()
        } else {
            format!("`{}`", defaults.join(","))
        };
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string().replace('\n', " ").replace('|', "\\|"))
            .unwrap_or_default();
        out.push_str(&format!("| `--{long}` | {env} | {default} | {help} |\n"));
    }
    out.trim_start().to_string()
}

/// The shortest shared secret accepted (bytes): shorter ones are guessable.
pub const MIN_SECRET_BYTES: usize = 16;

impl Config {
    /// Refuses settings that would run insecurely: an empty, blank or short
    /// shared secret (an empty HMAC key authenticates anyone who knows that).
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(secret) = &self.sumsub_webhook_secret {
            let secret = secret.expose_secret();
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
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.as_str().to_string(),
            None => format!("sqlite://{}", self.data_dir.join("kycd.db").display()),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        !self.database_url().starts_with("postgres")
    }

    /// The screening sources, blank entries left out (`KYCD_SCREENING_SOURCES=`).
    pub fn screening_sources(&self) -> Vec<String> {
        self.screening_sources
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The blob store URL, if one is set (a blank one is none).
    pub fn blob_url(&self) -> Option<&str> {
        self.blob_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }

    /// The group committer of creates, as configured: on SQLite one
    /// committer (one writer connection); on PostgreSQL one per four pooled
    /// connections (the rest serve reads, sign-ins and claims).
    pub fn group_commit(&self) -> crate::service::group_commit::GroupCommit {
        let enabled = match self.group_commit {
            GroupCommitMode::On => true,
            // Measured (docs/src/benchmarks.md): on SQLite 2.4 times the
            // creates of one transaction each; on PostgreSQL, where a group
            // is one statement, 1.5 times, at the same p99.
            GroupCommitMode::Auto => true,
            GroupCommitMode::Off => false,
        };
        let committers = match self.is_sqlite() {
            true => 1,
            false => (self.db_pool_size as usize / 4).max(1),
        };
        crate::service::group_commit::GroupCommit::new(
            enabled,
            self.group_commit_max as usize,
            Duration::from_millis(self.group_commit_linger_ms),
            committers,
        )
    }

    /// The store's connection settings.
    pub fn store_options(&self) -> kycd_store::StoreOptions {
        kycd_store::StoreOptions {
            acquire_timeout: self.db_acquire_timeout,
            pool_size: self.db_pool_size,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        let command = Standalone::command().mut_args(|a| a.env(None));
        let mut all = vec!["kycd"];
        all.extend_from_slice(args);
        let m = command.try_get_matches_from(all)?;
        Ok(Standalone::from_arg_matches(&m)?.config)
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./kycd-data"));
        assert_eq!(c.db_pool_size, 8);
        assert_eq!(c.db_acquire_timeout, Duration::from_secs(1));
        assert_eq!(c.max_body_bytes, 1024 * 1024);
        assert_eq!(c.max_document_bytes, 10 * 1024 * 1024);
        assert_eq!(c.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.body_read_timeout, Duration::from_secs(10));
        assert_eq!(c.max_connections, 1024);
        assert_eq!(c.rate_limit_per_second, Some(100));
        assert_eq!(c.address_rate_limit_per_second, Some(20));
        assert!(!c.webhook_allow_private);
        assert!(c.workers);
        assert_eq!(c.tick_millis, 1000);
        assert_eq!(c.screening_refresh, Duration::from_secs(3600));
        assert_eq!(c.log, "info,sqlx=warn");
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.database_url.is_none() && c.master_key.is_none() && c.blob_url.is_none());
    }

    #[test]
    fn flags_set_every_kind_of_value() {
        let c = parse(&[
            "--database-url",
            "postgres://kycd:pw@db/kycd",
            "--db-pool-size",
            "3",
            "--db-acquire-timeout-ms",
            "250",
            "--rate-limit",
            "0",
            "--address-rate-limit",
            "7",
            "--workers",
            "false",
            "--log-format",
            "JSON",
            "--screening-sources",
            "ofac:/a.xml,,un:/b.xml",
            "--master-key-previous",
            "c2VjcmV0",
        ])
        .unwrap();
        assert_eq!(c.database_url(), "postgres://kycd:pw@db/kycd");
        assert!(!c.is_sqlite());
        assert_eq!(c.db_pool_size, 3);
        assert_eq!(c.store_options().pool_size, 3);
        assert_eq!(c.db_acquire_timeout, Duration::from_millis(250));
        assert_eq!(c.rate_limit_per_second, None, "0 turns the limit off");
        assert_eq!(c.address_rate_limit_per_second, Some(7));
        assert!(!c.workers);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.screening_sources(), ["ofac:/a.xml", "un:/b.xml"]);
        assert_eq!(
            c.master_key_previous.as_ref().map(|s| s.expose_secret()),
            Some("c2VjcmV0")
        );
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_flag_named() {
        for (flag, value) in [
            ("--db-pool-size", "0"),
            ("--request-timeout-secs", "0"),
            ("--db-acquire-timeout-ms", "soon"),
            ("--rate-limit", "-1"),
            ("--max-connections", "0"),
            ("--log-format", "xml"),
            ("--tick-ms", "1"),
        ] {
            let err = parse(&[&format!("{flag}={value}")])
                .unwrap_err()
                .to_string();
            assert!(err.contains(flag), "{flag} {value}: {err}");
        }
    }

    #[test]
    fn the_docs_reference_is_the_generated_one() {
        let page = include_str!("../../../docs/src/reference/configuration.md");
        let (_, rest) = page
            .split_once("<!-- config-reference:start -->\n")
            .expect("the page marks the reference start");
        let (embedded, _) = rest
            .split_once("<!-- config-reference:end -->")
            .expect("the page marks the reference end");
        let generated = reference_markdown();
        assert!(
            embedded.trim() == generated.trim(),
            "docs/src/reference/configuration.md is stale: replace the table with the output \
             of `cargo run -p kycd -- config reference`\n\n{generated}"
        );
        for name in [
            "KYCD_DB_POOL_SIZE",
            "KYCD_BLOB_URL",
            "KYCD_MASTER_KEY_PREVIOUS",
            "KYCD_LOG_FORMAT",
        ] {
            assert!(generated.contains(name), "{name} is a setting of Config");
        }
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let config = Config {
            master_key: Some("c2VjcmV0LW1hc3Rlci1rZXktYnl0ZXMtMzItbG9uZyE=".into()),
            master_key_previous: Some("cHJldmlvdXMta2V5LWJ5dGVzLTMyLWxvbmctZW5vdWdo".into()),
            sumsub_webhook_secret: Some("sumsub-shared-secret-value".into()),
            database_url: Some("postgres://kycd:db-password-value@db:5432/kycd".into()),
            ..Config::default()
        };
        let shown = format!("{config:?} {config:#?}");
        for secret in [
            "c2VjcmV0LW1hc3Rlci1rZXktYnl0ZXMtMzItbG9uZyE=",
            "cHJldmlvdXMta2V5LWJ5dGVzLTMyLWxvbmctZW5vdWdo",
            "sumsub-shared-secret-value",
            "db-password-value",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("kycd:REDACTED@db"), "{shown}");
        assert!(shown.contains("SecretBox<str>([REDACTED])"), "{shown}");
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
        for good in [None, Some("0123456789abcdef".into())] {
            let config = Config {
                sumsub_webhook_secret: good,
                ..Config::default()
            };
            config.validate().unwrap();
        }
    }
}
