//! The kycd binary: `serve`, `org create`, `key create|revoke`, `keys rotate`,
//! `screening eval|bench`, `bench …`.

mod bench_api;
mod bench_capabilities;
mod bench_webhooks;
mod screening_cmd;

mod key_cmd;
mod keys_cmd;

use clap::{Parser, Subcommand};
use kycd_server::{Application, Config};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "kycd",
    version,
    about = "Self-hosted customer verification (KYC/KYB) server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug, Clone)]
struct DbArgs {
    /// `postgres://…` or a SQLite path (default: kycd.db in the data dir).
    #[arg(long, env = "KYCD_DATABASE_URL")]
    database_url: Option<String>,
    /// SQLite file, document blobs and generated keys live here.
    #[arg(long, env = "KYCD_DATA_DIR", default_value = "./kycd-data")]
    data_dir: PathBuf,
}

impl DbArgs {
    fn config(&self) -> Config {
        Config {
            database_url: self.database_url.clone(),
            data_dir: self.data_dir.clone(),
            ..Config::default()
        }
    }
}

/// Timeouts, connection cap and rate limits of `kycd serve`.
#[derive(clap::Args, Debug, Clone)]
struct LimitArgs {
    /// Milliseconds a request waits for a PostgreSQL connection before 503.
    #[arg(long, env = "KYCD_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    db_acquire_timeout_ms: u64,
    /// Seconds a client has to send a request's headers (also bounds idle keep-alive).
    #[arg(long, env = "KYCD_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout_secs: u64,
    /// Seconds without a byte either way before a connection is closed.
    #[arg(long, env = "KYCD_IDLE_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_secs: u64,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "KYCD_REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_secs: u64,
    /// Seconds a declared request body may pause before 408.
    #[arg(long, env = "KYCD_BODY_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    body_read_timeout_secs: u64,
    /// Concurrent connections; more are answered 503 and closed.
    #[arg(long, env = "KYCD_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Requests per second per API key (burst twice that); 0 turns the limit off.
    #[arg(long, env = "KYCD_RATE_LIMIT", default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    rate_limit: u32,
    /// Requests per second per client address on hosted pages, inbound webhooks
    /// and failed authentication (burst twice that); 0 turns the limit off.
    #[arg(long, env = "KYCD_ADDRESS_RATE_LIMIT", default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    address_rate_limit: u32,
}

impl LimitArgs {
    fn apply(&self, config: Config) -> Config {
        use std::time::Duration;
        Config {
            db_acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            max_connections: self.max_connections as usize,
            rate_limit_per_second: (self.rate_limit > 0).then_some(self.rate_limit),
            address_rate_limit_per_second: (self.address_rate_limit > 0)
                .then_some(self.address_rate_limit),
            ..config
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "KYCD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Public base URL for hosted links (default: http://<listen>).
        #[arg(long, env = "KYCD_PUBLIC_URL")]
        public_url: Option<String>,
        /// Base64 master key (32 bytes); default: the master key file.
        #[arg(long, env = "KYCD_MASTER_KEY", hide_env_values = true)]
        master_key: Option<String>,
        /// The master key file (default: `master.key` in the data dir); kept
        /// outside the data dir, e.g. on another volume or a secrets mount.
        #[arg(long, env = "KYCD_MASTER_KEY_FILE")]
        master_key_file: Option<PathBuf>,
        /// Let webhook endpoints point at loopback/private addresses.
        #[arg(long, env = "KYCD_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
        webhook_allow_private: bool,
        /// Comma-separated `format:path-or-url` screening sources.
        #[arg(long, env = "KYCD_SCREENING_SOURCES", value_delimiter = ',')]
        screening_sources: Vec<String>,
        /// Shared secret of Sumsub's inbound webhooks (X-Payload-Digest).
        #[arg(long, env = "KYCD_SUMSUB_WEBHOOK_SECRET", hide_env_values = true)]
        sumsub_webhook_secret: Option<String>,
        /// Seconds between screening list refreshes.
        #[arg(long, env = "KYCD_SCREENING_REFRESH_SECS", default_value_t = 3600)]
        screening_refresh_secs: u64,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// API keys: `key create`, `key revoke`.
    Key {
        #[command(subcommand)]
        command: key_cmd::KeyCommand,
    },
    /// Master-key operations (`keys rotate`).
    Keys {
        #[command(subcommand)]
        command: keys_cmd::KeysCommand,
    },
    /// Benchmarks (figures in the README).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Sanctions and PEP screening: evaluation and benchmark over real lists.
    Screening {
        #[command(subcommand)]
        command: screening_cmd::ScreeningCommand,
    },
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Concurrent HTTP clients creating and reading customers, against the direct store rate.
    Api(bench_api::ApiBenchArgs),
    /// Webhook deliveries per second and commit → delivery lag, against a local receiver.
    Webhooks(bench_webhooks::WebhookBenchArgs),
    /// Capability checks at a fixed rate over HTTP (p50/p99), against the in-process check.
    Capabilities(bench_capabilities::CapabilitiesBenchArgs),
}

#[derive(Subcommand, Debug)]
enum OrgCommand {
    /// Create an organization and print its keys as JSON.
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            db,
            listen,
            public_url,
            master_key,
            master_key_file,
            webhook_allow_private,
            sumsub_webhook_secret,
            screening_sources,
            screening_refresh_secs,
            limits,
        } => {
            kycd_server::logging::init();
            let config = Config {
                listen,
                public_url,
                master_key,
                master_key_file: master_key_file.filter(|p| !p.as_os_str().is_empty()),
                webhook_allow_private,
                sumsub_webhook_secret,
                screening_sources: screening_sources
                    .into_iter()
                    .filter(|s| !s.trim().is_empty())
                    .collect(),
                screening_refresh_secs,
                ..limits.apply(db.config())
            };
            let app = Application::build(config).await?;
            let base = app.state.public_url.clone();
            if let Some(b) = &app.bootstrap {
                println!("Created organization `default` ({}).", b.id);
                println!(
                    "Sandbox API key (shown once, store it now): {}",
                    b.sandbox_api_key
                );
                println!(
                    "Live API key (shown once, store it now):    {}",
                    b.live_api_key
                );
            }
            println!("kycd listening on {base}");
            println!("  API docs:     {base}/docs");
            println!("  OpenAPI:      {base}/openapi.json");
            println!("  Back office:  {base}/admin (arrives with the operations release)");
            app.run_until(shutdown_signal()).await
        }
        Command::Key { command } => key_cmd::run(command).await,
        Command::Keys { command } => keys_cmd::run(command).await,
        Command::Screening { command } => screening_cmd::run(command),
        Command::Bench { command } => match command {
            BenchCommand::Api(args) => bench_api::run(args).await,
            BenchCommand::Webhooks(args) => bench_webhooks::run(args).await,
            BenchCommand::Capabilities(args) => bench_capabilities::run(args).await,
        },
        Command::Org {
            command: OrgCommand::Create { name, db },
        } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.len() > 200 {
                anyhow::bail!("--name must be 1 to 200 characters");
            }
            let store = kycd_server::app::open_store(&db.config()).await?;
            let org = kycd_server::create_org(&store, &name).await?;
            println!("{}", serde_json::to_string(&org)?);
            Ok(())
        }
    }
}

/// Ctrl-C or SIGTERM (what container runtimes send): stop accepting, let
/// requests in flight finish, then exit.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
