//! `kycd migrate [--check] [--json]`: with `--check`, lists the applied and
//! pending schema migrations and applies nothing (exit 0 up to date, 1 some
//! pending, 2 on error or a database this binary refuses); without it,
//! applies the pending ones (what `kycd serve` does at start unless
//! `KYCD_SKIP_MIGRATIONS` is set).

use kycd_store::Store;
use kycd_store::schema::{SchemaStatus, embedded};

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// Report applied and pending migrations; apply nothing (exit 1 when
    /// some are pending).
    #[arg(long)]
    check: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    config: Box<kycd_server::Config>,
}

/// Runs the command and exits with its code (errors exit 2, not anyhow's 1,
/// which `--check` reserves for "some pending").
pub async fn run(args: MigrateArgs) -> ! {
    let code = match execute(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kycd migrate: error: {e:#}");
            2
        }
    };
    std::process::exit(code)
}

async fn execute(args: &MigrateArgs) -> anyhow::Result<i32> {
    let config = &args.config;
    if args.check
        && let Some(path) = kycd_store::backup::sqlite_path(&config.database_url())
        && !path.exists()
    {
        // Connecting would create the file: report instead.
        let status = SchemaStatus {
            applied: vec![],
            pending: embedded(kycd_store::Dialect::Sqlite),
            unknown: vec![],
            modified: vec![],
            dirty: None,
            latest_known: embedded(kycd_store::Dialect::Sqlite)
                .last()
                .map_or(0, |m| m.version),
        };
        report(
            &status,
            args.json,
            Some(&format!("no database at {} yet", path.display())),
        )?;
        return Ok(1);
    }
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let store = Store::connect_with(&config.database_url(), &config.store_options()).await?;
    let before = store.schema_status().await?;
    if args.check {
        report(&before, args.json, None)?;
        store.close().await;
        return Ok(if !before.is_usable() {
            2
        } else if before.pending.is_empty() {
            0
        } else {
            1
        });
    }
    if let Some(refusal) = before.refusal() {
        anyhow::bail!(refusal);
    }
    store.migrate().await?;
    let after = store.schema_status().await?;
    store.close().await;
    let applied: Vec<_> = before
        .pending
        .iter()
        .filter(|m| !after.pending.contains(m))
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "applied_now": applied,
                "database_version": after.database_version(),
                "latest_known": after.latest_known,
                "up_to_date": after.up_to_date(),
            })
        );
    } else if applied.is_empty() {
        println!(
            "up to date: nothing to apply (migration {})",
            after.database_version()
        );
    } else {
        for m in &applied {
            println!("applied  {:04}  {}", m.version, m.description);
        }
        println!(
            "{} migration(s) applied; the database is at migration {}",
            applied.len(),
            after.database_version()
        );
    }
    Ok(0)
}

fn report(status: &SchemaStatus, json: bool, note: Option<&str>) -> anyhow::Result<()> {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "database_version": status.database_version(),
                "latest_known": status.latest_known,
                "up_to_date": status.up_to_date(),
                "applied": status.applied,
                "pending": status.pending,
                "unknown": status.unknown,
                "modified": status.modified,
                "dirty": status.dirty,
                "note": note,
            })
        );
        return Ok(());
    }
    if let Some(note) = note {
        println!("{note}");
    }
    for m in &status.applied {
        let flag = if status.modified.contains(&m.version) {
            "  (MODIFIED since it was applied)"
        } else {
            ""
        };
        println!("applied  {:04}  {}{flag}", m.version, m.description);
    }
    for m in &status.unknown {
        println!(
            "applied  {:04}  {}  (UNKNOWN to this kycd: applied by a newer version)",
            m.version, m.description
        );
    }
    for m in &status.pending {
        println!("pending  {:04}  {}", m.version, m.description);
    }
    if let Some(refusal) = status.refusal() {
        println!("error: {refusal}");
    } else if status.pending.is_empty() {
        println!(
            "up to date: migration {} (this kycd knows up to {})",
            status.database_version(),
            status.latest_known
        );
    } else {
        println!(
            "{} migration(s) pending (the database is at {}, this kycd knows up to {}): \
             `kycd migrate` or `kycd serve` applies them",
            status.pending.len(),
            status.database_version(),
            status.latest_known
        );
    }
    Ok(())
}
