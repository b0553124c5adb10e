//! `kycd operator create|list|disable|reset-password|reset-totp`: the back office's
//! accounts (API.md, "Operators, back office, audit"). A new or reset
//! password is random and printed once; only its argon2id hash is stored.

#[derive(clap::Subcommand, Debug)]
pub enum OperatorCommand {
    /// Create an operator; prints `{"id", "email", "role", "organization_id", "password"}`.
    Create {
        #[arg(long)]
        email: String,
        /// `admin`, `reviewer` or `viewer`.
        #[arg(long)]
        role: String,
        /// Limit the operator to one organization (default: all).
        #[arg(long)]
        organization: Option<String>,
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
    /// List the operators as JSON lines.
    List {
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
    /// Disable an operator (by id or email): it can no longer sign in.
    Disable {
        operator: String,
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
    /// Set a new random password (printed once) and end the operator's sessions.
    ResetPassword {
        operator: String,
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
    /// Remove an operator's TOTP second factor (a lost device); prints
    /// `{"id", "email", …, "totp_removed"}`. Audited.
    ResetTotp {
        /// The operator's email.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        config: Box<kycd_server::Config>,
    },
}

pub async fn run(cmd: OperatorCommand) -> anyhow::Result<()> {
    use kycd_server::admin::operators as ops;
    match cmd {
        OperatorCommand::Create {
            email,
            role,
            organization,
            config,
        } => {
            let store = kycd_server::app::open_store(&config).await?;
            let op = ops::create(&store, &email, &role, organization.as_deref()).await?;
            println!("{}", serde_json::to_string(&op)?);
        }
        OperatorCommand::List { config } => {
            let store = kycd_server::app::open_store(&config).await?;
            for op in ops::list(&store).await? {
                println!("{}", serde_json::to_string(&op)?);
            }
        }
        OperatorCommand::Disable { operator, config } => {
            let store = kycd_server::app::open_store(&config).await?;
            println!(
                "{}",
                serde_json::to_string(&ops::disable(&store, &operator).await?)?
            );
        }
        OperatorCommand::ResetPassword { operator, config } => {
            let store = kycd_server::app::open_store(&config).await?;
            let op = ops::reset_password(&store, &operator).await?;
            println!("{}", serde_json::to_string(&op)?);
        }
        OperatorCommand::ResetTotp { email, config } => {
            let store = kycd_server::app::open_store(&config).await?;
            // The reset's audit entry is MAC'd: the master key derives the key.
            let vault = kycd_server::app::master_key(&config, &store).await?;
            let (op, removed) = ops::reset_totp(&store, &vault, &email).await?;
            let mut v = serde_json::to_value(&op)?;
            v["totp_removed"] = removed.into();
            println!("{v}");
        }
    }
    Ok(())
}
