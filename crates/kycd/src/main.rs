//! The kycd binary: `serve`, `import`, `org create`, `key create|revoke`, `keys rotate`,
//! `operator create|list|disable|reset-password|reset-totp`, `audit verify`,
//! `migrate [--check]`, `backup PATH`, `config reference`; with the `bench` feature `screening eval|bench`, `bench …`.

#[cfg(feature = "bench")]
mod bench_api;
#[cfg(feature = "bench")]
mod bench_capabilities;
#[cfg(feature = "bench")]
mod bench_support;
#[cfg(feature = "bench")]
mod bench_webhooks;
#[cfg(feature = "bench")]
mod screening_cmd;

mod audit_cmd;
mod backup_cmd;
mod import_cmd;
mod key_cmd;
mod keys_cmd;
mod migrate_cmd;
mod operator_cmd;

use clap::{Parser, Subcommand};
use kycd_server::{Application, Config};

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

/// `kycd serve`: every setting of [`Config`] plus the development switch.
#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Development conveniences, refused unless listening on loopback:
    /// webhook endpoints may point at this machine (a receiver on
    /// localhost), as KYCD_WEBHOOK_ALLOW_PRIVATE=true does.
    #[arg(long)]
    dev: bool,
    #[command(flatten)]
    config: Config,
}

/// Applies `--dev`: only on a loopback listen address, so a development
/// convenience can never be reached from another machine.
fn dev_mode(config: &mut Config) -> anyhow::Result<()> {
    if !config.listen.ip().is_loopback() {
        anyhow::bail!(
            "--dev only listens on loopback (127.0.0.1 or ::1), not {}: drop --dev to serve other machines",
            config.listen
        );
    }
    config.webhook_allow_private = true;
    Ok(())
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
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
    /// Benchmarks (figures in the README; built with `--features bench`).
    #[cfg(feature = "bench")]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Sanctions and PEP screening: evaluation and benchmark over real lists
    /// (built with `--features bench`).
    #[cfg(feature = "bench")]
    Screening {
        #[command(subcommand)]
        command: screening_cmd::ScreeningCommand,
    },
    /// Configuration: `config reference` prints every setting as Markdown.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The audit log: `audit verify` checks its hash chain.
    Audit {
        #[command(subcommand)]
        command: audit_cmd::AuditCommand,
    },
    /// Back-office operators: `operator create|list|disable|reset-password|reset-totp`.
    Operator {
        #[command(subcommand)]
        command: operator_cmd::OperatorCommand,
    },
    /// Schema migrations: `migrate --check` reports the applied and pending
    /// ones and applies nothing (exit 1 when some are pending); `migrate`
    /// applies them.
    Migrate(migrate_cmd::MigrateArgs),
    /// An online, consistent copy of the SQLite database to a new file (not
    /// the master key nor the document blobs; PostgreSQL: use pg_dump).
    Backup(backup_cmd::BackupArgs),
    /// Create customers in bulk from a JSON Lines file (one `POST
    /// /v1/customers` body per line): resumable, with progress.
    Import(import_cmd::ImportArgs),
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
}

#[cfg(feature = "bench")]
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
enum ConfigCommand {
    /// Every flag and variable, its default and meaning (Markdown).
    Reference,
}

#[derive(Subcommand, Debug)]
enum OrgCommand {
    /// Create an organization and print its keys as JSON.
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        config: Box<Config>,
    },
}

/// Writes the first start's keys to `<data dir>/first-start.txt` (mode 0600)
/// and returns where; the keys are printed whatever happens here.
fn first_start_file(data_dir: &std::path::Path, text: &str) -> String {
    use std::io::Write;
    let path = data_dir.join("first-start.txt");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
    {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("nowhere: {} could not be written: {e}", path.display()),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let ServeArgs { dev, mut config } = *args;
            if dev {
                dev_mode(&mut config)?;
            }
            kycd_server::logging::init(&config);
            let app = Application::build(config).await?;
            let base = app.state.public_url.clone();
            println!("kycd listening on {base}");
            if dev {
                println!(
                    "  Dev mode:     loopback only; webhook endpoints may point at this machine"
                );
            }
            println!("  API docs:     {base}/docs");
            println!("  OpenAPI:      {base}/openapi.json");
            println!("  Back office:  {base}/admin (create an operator: kycd operator create)");
            if let Some(b) = &app.bootstrap {
                // Last, framed, and kept in a file only this user can read:
                // easy to miss after a build's output otherwise.
                let text = format!(
                    "Created organization `default` ({}).\n\
                     Sandbox API key (shown once, store it now): {}\n\
                     Live API key (shown once, store it now):    {}\n",
                    b.id, b.sandbox_api_key, b.live_api_key
                );
                let file = first_start_file(&app.state.config.data_dir, &text);
                let rule = "=".repeat(78);
                println!("\n{rule}\n{text}(also written to {file}; delete it once stored)\n{rule}");
            }
            app.run_until(shutdown_signal()).await
        }
        Command::Key { command } => key_cmd::run(command).await,
        Command::Keys { command } => keys_cmd::run(command).await,
        Command::Operator { command } => operator_cmd::run(command).await,
        Command::Audit { command } => audit_cmd::run(command).await,
        Command::Migrate(args) => migrate_cmd::run(args).await,
        Command::Backup(args) => backup_cmd::run(args).await,
        Command::Import(args) => import_cmd::run(args).await,
        #[cfg(feature = "bench")]
        Command::Screening { command } => screening_cmd::run(command),
        #[cfg(feature = "bench")]
        Command::Bench { command } => match command {
            BenchCommand::Api(args) => bench_api::run(args).await,
            BenchCommand::Webhooks(args) => bench_webhooks::run(args).await,
            BenchCommand::Capabilities(args) => bench_capabilities::run(args).await,
        },
        Command::Config {
            command: ConfigCommand::Reference,
        } => {
            print!("{}", kycd_server::config::reference_markdown());
            Ok(())
        }
        Command::Org {
            command: OrgCommand::Create { name, config },
        } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.len() > 200 {
                anyhow::bail!("--name must be 1 to 200 characters");
            }
            let store = kycd_server::app::open_store(&config).await?;
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
