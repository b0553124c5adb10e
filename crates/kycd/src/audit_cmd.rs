//! `kycd audit verify`: seals the audit entries still waiting, then checks
//! the hash chain and every entry's MAC (the master key derives the MAC
//! key); prints `{"entries": N, "ok": true}` and exits 0, or names the first
//! altered or missing entry and exits 1. `--head SEQ:HASH` (a head the
//! sealer logged) also fails when the chain no longer holds that entry with
//! that hash: entries cut from the chain's end.

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the audit log's hash chain and its entries' MACs.
    Verify {
        /// A head recorded outside the database (the sealer's "audit chain
        /// head" log line, or an export's last `seq` and `hash`) that the
        /// chain must still contain.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<kycd_store::audit::Head>,
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
}

pub async fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify { head, config } => {
            let store = kycd_server::app::open_store(&config).await?;
            let vault = kycd_server::app::master_key(&config, &store).await?;
            let verdict = kycd_server::admin::audit::verify(&store, &vault, head.as_ref()).await?;
            println!("{}", serde_json::to_string(&verdict)?);
            if !verdict.ok {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
