//! `kycd audit verify`: seals the audit entries still waiting, then checks
//! the hash chain; prints `{"entries": N, "ok": true}` and exits 0, or names
//! the first altered or missing entry and exits 1.

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the audit log's hash chain.
    Verify {
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
}

pub async fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify { config } => {
            let store = kycd_server::app::open_store(&config).await?;
            let verdict = kycd_server::admin::audit::verify(&store).await?;
            println!("{}", serde_json::to_string(&verdict)?);
            if !verdict.ok {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
