//! `kycd key create|revoke`: API keys of an organization, managed by an
//! operator with access to the database. A created key is printed once as
//! JSON; a revoked key stops working at once on every server (each request
//! reads `revoked_at`).

use anyhow::bail;
use kycd_store::orgs;

#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Create an API key and print it once as JSON
    /// (`{"id","organization_id","environment","api_key","prefix"}`).
    /// The organization's other keys keep working.
    Create {
        /// The organization (`org_…`).
        #[arg(long)]
        organization: String,
        /// `live` or `sandbox`.
        #[arg(long, value_parser = ["live", "sandbox"])]
        environment: String,
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
    /// Revoke an API key by its prefix (the first 12 characters, e.g.
    /// `sk_live_AbCd`) or its id (`key_…`); requests with it get
    /// `401 invalid_api_key` from then on.
    Revoke {
        /// The key's prefix or id.
        prefix: String,
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
}

pub async fn run(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::Create {
            organization,
            environment,
            config,
        } => {
            let store = kycd_server::app::open_store(&config).await?;
            let key =
                kycd_server::app::create_api_key(&store, organization.trim(), &environment).await?;
            println!("{}", serde_json::to_string(&key)?);
            Ok(())
        }
        KeyCommand::Revoke { prefix, config } => {
            let prefix = prefix.trim();
            if prefix.starts_with("sk_") && prefix.len() > 12 {
                bail!(
                    "give the key's prefix (its first 12 characters, {}) or its id, not the whole key",
                    &prefix[..12]
                );
            }
            let store = kycd_server::app::open_store(&config).await?;
            let mut tx = store.begin().await?;
            let found = orgs::keys_matching(&mut tx, prefix).await?;
            let active: Vec<_> = found.iter().filter(|k| !k.revoked).collect();
            let key = match active.as_slice() {
                [] if found.is_empty() => bail!("no API key with prefix or id {prefix}"),
                [] => bail!("the API key {prefix} is revoked already"),
                [one] => *one,
                many => bail!(
                    "{} active API keys have the prefix {prefix}: revoke one by its id ({})",
                    many.len(),
                    many.iter()
                        .map(|k| k.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            orgs::revoke_key(&mut tx, &key.id, chrono::Utc::now()).await?;
            tx.commit().await?;
            println!(
                "{}",
                serde_json::json!({
                    "id": key.id,
                    "organization_id": key.scope.organization_id,
                    "environment": key.scope.environment,
                    "prefix": key.prefix,
                    "revoked": true,
                })
            );
            Ok(())
        }
    }
}
