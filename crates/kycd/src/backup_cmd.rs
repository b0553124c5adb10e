//! `kycd backup PATH`: an online, consistent copy of the SQLite database
//! (SQLite's backup API; servers may keep writing). PostgreSQL is backed up
//! with `pg_dump`. The master key and the document blobs are not in the
//! copy: the command says where they are, to be backed up separately.

use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The new file to write (refused when it exists).
    path: PathBuf,
    #[command(flatten)]
    config: Box<kycd_server::Config>,
}

pub async fn run(args: BackupArgs) -> ! {
    let code = match execute(args).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("kycd backup: error: {e:#}");
            2
        }
    };
    std::process::exit(code)
}

async fn execute(args: BackupArgs) -> anyhow::Result<()> {
    let config = &args.config;
    let Some(source) = kycd_store::backup::sqlite_path(&config.database_url()) else {
        anyhow::bail!(
            "KYCD_DATABASE_URL is a PostgreSQL database: `kycd backup` copies SQLite databases only. \
             Back PostgreSQL up with `pg_dump --format=custom` (restore with `pg_restore`) or your \
             provider's snapshots: see \"Backups, key rotation and upgrades\" in the operations docs \
             (docs/src/operations/backups-and-upgrades.md)"
        );
    };
    let dest = args.path.clone();
    let report = {
        let (source, dest) = (source.clone(), dest.clone());
        tokio::task::spawn_blocking(move || kycd_store::backup::sqlite_backup(&source, &dest))
            .await??
    };
    if report.integrity != "ok" {
        anyhow::bail!(
            "the copy at {} fails `PRAGMA integrity_check`: {} (keep the source; retry the backup)",
            dest.display(),
            report.integrity
        );
    }
    println!(
        "backed up {} to {}: {} pages, {} bytes, integrity_check ok",
        source.display(),
        dest.display(),
        report.pages,
        report.bytes
    );
    let key = if config.master_key.is_some() {
        "the KYCD_MASTER_KEY secret (--master-key)".to_string()
    } else {
        format!("the key file {}", config.master_key_path().display())
    };
    let blobs = config
        .blob_url()
        .map(str::to_string)
        .unwrap_or_else(|| config.data_dir.join("blobs").display().to_string());
    println!(
        "NOT in this backup, back them up separately:\n  \
         - the master key: {key}; keep it apart from the database backups \
         (without it this copy cannot be read)\n  \
         - the document blobs: {blobs}"
    );
    Ok(())
}
