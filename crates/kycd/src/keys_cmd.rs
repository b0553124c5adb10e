//! `kycd keys rotate`: re-wraps every customer data key and organization
//! blind-index key under a new master key (`kycd_server::vault::rotate`, one
//! transaction; sealed fields and document blobs are not re-encrypted), then
//! installs the new key file when the old key came from the key file, keeping
//! the old one as a backup. Never prints key material.

use anyhow::{Context, bail};
use kycd_vault::MasterKey;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum KeysCommand {
    /// Re-wrap all data keys under a new master key (no data is re-encrypted).
    Rotate(RotateArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("new").required(true).args(["new_master_key", "generate"])))]
pub struct RotateArgs {
    /// The database and the current master key (`--master-key`, or the
    /// master key file).
    #[command(flatten)]
    config: Box<kycd_server::Config>,
    /// The new master key (base64 of 32 random bytes, e.g. `openssl rand -base64 32`).
    #[arg(long)]
    new_master_key: Option<String>,
    /// Generate the new master key.
    #[arg(long)]
    generate: bool,
}

pub async fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Rotate(args) => rotate(args).await,
    }
}

/// Writes `key` to a new file (mode 0600), synced; fails if the file exists.
fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(key.to_base64().as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = zeroize_string(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    MasterKey::from_base64(&text).with_context(|| format!("{} holds no valid key", path.display()))
}

fn zeroize_string(s: String) -> kycd_vault::Zeroizing<String> {
    kycd_vault::Zeroizing::new(s)
}

/// The id of the master key that wrapped a stored key.
fn wrapped_by(text: &str) -> Option<String> {
    text.parse::<kycd_vault::WrappedKey>()
        .ok()
        .map(|w| w.master_key_id)
}

/// `path` with `suffix` appended to its file name (`master.key` → `master.key.new`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

async fn rotate(args: RotateArgs) -> anyhow::Result<()> {
    let config = &args.config;
    let key_file = config.master_key_path();
    let key_dir = match key_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let pending: PathBuf = with_suffix(&key_file, ".new");
    let from_file = config.master_key.is_none();
    let old = match &config.master_key {
        Some(k) => MasterKey::from_base64(secrecy::ExposeSecret::expose_secret(k))
            .context("KYCD_MASTER_KEY / --master-key")?,
        None if key_file.exists() => read_key_file(&key_file)?,
        None => bail!(
            "no current master key: set KYCD_MASTER_KEY (or --master-key), or point --data-dir at the directory holding master.key (or KYCD_MASTER_KEY_FILE / --master-key-file at the key file)"
        ),
    };
    let new = match &args.new_master_key {
        Some(k) => MasterKey::from_base64(k).context("--new-master-key")?,
        None => MasterKey::generate(),
    };
    if new.key_id() == old.key_id() {
        bail!("the new master key is the current one");
    }
    // Every stored key must be under the current (or already the new) master key.
    let store = kycd_server::app::open_store(config).await?;
    let mut conn = store.writer().await?;
    let before = kycd_store::customers::all_wrapped_keys(&mut conn).await?;
    drop(conn);
    let foreign = before
        .iter()
        .filter(|k| !matches!(wrapped_by(&k.3).as_deref(), Some(id) if id == old.key_id() || id == new.key_id()))
        .count();
    if foreign > 0 {
        bail!(
            "{foreign} stored keys are wrapped by neither master key {} nor {}: is this the right current key? Nothing was changed.",
            old.key_id(),
            new.key_id()
        );
    }
    // The new key is on disk before any wrapped key depends on it.
    let write_new = from_file || args.generate;
    if write_new {
        if pending.exists() {
            let left = read_key_file(&pending)?;
            if left.key_id() != new.key_id() {
                bail!(
                    "{} exists (key {}) from an unfinished rotation: rerun with --new-master-key \"$(cat {})\" to finish it, or remove the file if that rotation never ran",
                    pending.display(),
                    left.key_id(),
                    pending.display()
                );
            }
        } else {
            std::fs::create_dir_all(&key_dir)?;
            write_key_file(&pending, &new)?;
            sync_dir(&key_dir);
        }
    }
    let n = kycd_server::vault::rotate(&store, &old, &new).await.with_context(|| {
        format!(
            "rotation failed (the database keeps the old wrapping unless the commit itself was interrupted; the new key stays in {} until a rerun succeeds)",
            pending.display()
        )
    })?;
    let mut conn = store.writer().await?;
    let keys = kycd_store::customers::all_wrapped_keys(&mut conn).await?;
    drop(conn);
    let customer_keys = keys.iter().filter(|k| k.0 == "customer_keys").count();
    let stale = keys
        .iter()
        .filter(|k| wrapped_by(&k.3).as_deref() != Some(new.key_id()))
        .count();
    println!(
        "Re-wrapped {n} keys ({customer_keys} customer data keys, {} organization keys) from master key {} to {}.",
        keys.len() - customer_keys,
        old.key_id(),
        new.key_id()
    );
    println!(
        "Sealed fields and document blobs were not re-encrypted (their data keys did not change)."
    );
    if stale > 0 {
        println!(
            "WARNING: {stale} keys are still wrapped by another master key (created meanwhile by a server still using the old key?): run the command again once every server uses the new key."
        );
    }
    if from_file {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let backup = with_suffix(&key_file, &format!(".{stamp}.bak"));
        // The old key is linked to the backup name first, then one atomic
        // rename puts the new key in place: the key path is never missing, so
        // a server starting meanwhile loads one key or the other.
        kycd_vault::replace_key_file(&key_file, &pending, &backup).with_context(|| {
            format!(
                "installing {} (the old key is kept in {})",
                key_file.display(),
                backup.display()
            )
        })?;
        println!("Installed the new key in {}.", key_file.display());
        println!(
            "The old key is kept in {}: it still decrypts database backups taken before now. Store it offline, then delete it.",
            backup.display()
        );
    } else if args.generate {
        println!(
            "The new key is in {} (mode 0600): set KYCD_MASTER_KEY to its content, then delete the file.",
            pending.display()
        );
    }
    println!(
        "Restart every kycd server with the new key (KYCD_MASTER_KEY_PREVIOUS=<old key> lets servers read keys of both during a rolling switch)."
    );
    Ok(())
}
