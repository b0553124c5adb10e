//! The master key file: load it, or create it atomically (mode 0600) on first
//! start; swap it for a new key in one atomic rename; tell when its mode lets
//! other users read it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::master::MasterKey;
use crate::{Result, VaultError};

/// Upper bound on what we read from a key file; a real one is 45 bytes.
const MAX_KEY_FILE_LEN: u64 = 4096;

/// Load the master key from `path` (base64 text, as [`MasterKey::from_base64`]),
/// or, when no file exists there, generate a key and create the file.
///
/// Returns `(key, created)`; when `created` is true the caller should tell the
/// operator to back the file up: without it, every encrypted value is lost.
///
/// Creation is atomic and never overwrites: the key is written to a temporary
/// file (mode 0600 on unix) in the same directory, synced, then hard-linked
/// into place; if another process created the file first, that file is loaded
/// instead. A present but empty or invalid file is an error, never replaced.
/// Missing parent directories are created.
pub fn load_or_create_key_file(path: impl AsRef<Path>) -> Result<(MasterKey, bool)> {
    let path = path.as_ref();
    match read_key_file(path) {
        Ok(key) => return Ok((key, false)),
        Err(ReadError::NotFound) => {}
        Err(ReadError::Vault(e)) => return Err(e),
    }
    let key = MasterKey::generate();
    match create_key_file(path, &key) {
        Ok(()) => Ok((key, true)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Lost a race with another process: use its key.
            read_key_file(path)
                .map(|k| (k, false))
                .map_err(|e| match e {
                    ReadError::Vault(e) => e,
                    ReadError::NotFound => io_err(path, io::ErrorKind::NotFound.into()),
                })
        }
        Err(e) => Err(io_err(path, e)),
    }
}

/// Load the master key from `path`, or `None` when no file exists there (an
/// empty or invalid file is an error). Never creates anything.
pub fn load_key_file(path: impl AsRef<Path>) -> Result<Option<MasterKey>> {
    match read_key_file(path.as_ref()) {
        Ok(key) => Ok(Some(key)),
        Err(ReadError::NotFound) => Ok(None),
        Err(ReadError::Vault(e)) => Err(e),
    }
}

/// The permission bits of the key file when group or others have any access
/// to it (`None` when only the owner has, or off unix).
pub fn key_file_too_open(path: impl AsRef<Path>) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path.as_ref()).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Install `new_file` as `key_file`, keeping the old key as `backup`.
///
/// The old file is first hard-linked to `backup` (never overwriting one),
/// then `new_file` is renamed over `key_file` in one atomic step: at every
/// instant `key_file` names either the old key or the new one, so a server
/// starting meanwhile never finds the path empty (and never generates a key).
/// On file systems without hard links the backup is a synced copy instead.
pub fn replace_key_file(
    key_file: impl AsRef<Path>,
    new_file: impl AsRef<Path>,
    backup: impl AsRef<Path>,
) -> io::Result<()> {
    let (key_file, new_file, backup) = (key_file.as_ref(), new_file.as_ref(), backup.as_ref());
    match fs::hard_link(key_file, backup) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
        Err(_) => copy_new(key_file, backup)?,
    }
    fs::rename(new_file, key_file)?;
    if let Some(dir) = key_file.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(dir);
    }
    Ok(())
}

/// Copies `from` to a new file `to` (mode 0600), synced; fails if `to` exists.
fn copy_new(from: &Path, to: &Path) -> io::Result<()> {
    let bytes = Zeroizing::new(fs::read(from)?);
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(to)?;
    f.write_all(&bytes)?;
    f.sync_all()
}

enum ReadError {
    NotFound,
    Vault(VaultError),
}

fn io_err(path: &Path, error: io::Error) -> VaultError {
    VaultError::KeyFileIo {
        path: path.to_path_buf(),
        error,
    }
}

fn read_key_file(path: &Path) -> std::result::Result<MasterKey, ReadError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(ReadError::NotFound),
        Err(e) => return Err(ReadError::Vault(io_err(path, e))),
    };
    let mut buf = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ReadError::Vault(io_err(path, e)))?;
    let invalid = |reason: String| {
        ReadError::Vault(VaultError::InvalidKeyFile {
            path: path.to_path_buf(),
            reason,
        })
    };
    if buf.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(invalid("file is too large to be a key file".to_owned()));
    }
    let text = std::str::from_utf8(&buf).map_err(|_| invalid("file is not text".to_owned()))?;
    if text.trim().is_empty() {
        return Err(invalid(
            "file is empty; restore it from backup (it is never regenerated over an existing file)"
                .to_owned(),
        ));
    }
    MasterKey::from_base64(text).map_err(|e| match e {
        VaultError::InvalidMasterKey(reason) => invalid(reason),
        other => ReadError::Vault(other),
    })
}

fn create_key_file(path: &Path, key: &MasterKey) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut suffix = [0u8; 8];
    OsRng.fill_bytes(&mut suffix);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", crate::blind::to_hex(&suffix)));
    let tmp = dir.join(tmp_name);

    let result = write_then_link(&tmp, path, key);
    // The temporary name is only a staging area; it may already be gone.
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(&dir);
    Ok(())
}

fn write_then_link(tmp: &Path, path: &Path, key: &MasterKey) -> io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(tmp)?;
    let mut text = key.to_base64();
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    match fs::hard_link(tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        // File systems without hard links: fall back to a rename, after a
        // last check that we do not replace an existing key.
        Err(_) => {
            if path.exists() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            fs::rename(tmp, path)
        }
    }
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        // Best effort: makes the new directory entry durable.
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn temp(name: &str) -> PathBuf {
        let mut suffix = [0u8; 8];
        OsRng.fill_bytes(&mut suffix);
        let d = std::env::temp_dir().join(format!(
            "kycd-vault-{name}-{}",
            crate::blind::to_hex(&suffix)
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn write(path: &Path, key: &MasterKey) {
        fs::write(path, format!("{}\n", key.to_base64().as_str())).unwrap();
    }

    #[test]
    fn the_key_path_is_never_missing_during_swaps() {
        let dir = temp("swap");
        let key_file = dir.join("master.key");
        let first = MasterKey::generate();
        write(&key_file, &first);
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (stop, key_file) = (stop.clone(), key_file.clone());
            std::thread::spawn(move || {
                let (mut looks, mut missing) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    looks += 1;
                    match load_key_file(&key_file) {
                        Ok(Some(_)) => {}
                        _ => missing += 1,
                    }
                }
                (looks, missing)
            })
        };
        let mut previous = first.key_id().to_string();
        for i in 0..300 {
            let next = MasterKey::generate();
            let pending = dir.join("master.key.new");
            write(&pending, &next);
            let backup = dir.join(format!("master.key.{i}.bak"));
            replace_key_file(&key_file, &pending, &backup).unwrap();
            let installed = load_key_file(&key_file).unwrap().unwrap();
            assert_eq!(installed.key_id(), next.key_id());
            let kept = load_key_file(&backup).unwrap().unwrap();
            assert_eq!(kept.key_id(), previous);
            assert!(!pending.exists());
            previous = next.key_id().to_string();
        }
        stop.store(true, Ordering::Relaxed);
        let (looks, missing) = watcher.join().unwrap();
        assert!(looks > 0);
        assert_eq!(
            missing, 0,
            "the key path was missing or unreadable {missing} times out of {looks}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_swap_never_overwrites_a_backup_nor_touches_the_key_when_it_fails() {
        let dir = temp("swap-fail");
        let key_file = dir.join("master.key");
        let old = MasterKey::generate();
        write(&key_file, &old);
        let backup = dir.join("master.key.bak");
        let other = MasterKey::generate();
        write(&backup, &other);
        let pending = dir.join("master.key.new");
        write(&pending, &MasterKey::generate());
        let err = replace_key_file(&key_file, &pending, &backup).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            load_key_file(&key_file).unwrap().unwrap().key_id(),
            old.key_id()
        );
        assert_eq!(
            load_key_file(&backup).unwrap().unwrap().key_id(),
            other.key_id()
        );
        assert!(pending.exists(), "the new key stays for a rerun");
        // No key file at all: nothing is installed in its place.
        let missing = dir.join("absent.key");
        assert!(replace_key_file(&missing, &pending, dir.join("absent.bak")).is_err());
        assert!(!missing.exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp("mode");
        let path = dir.join("master.key");
        let (_, created) = load_or_create_key_file(&path).unwrap();
        assert!(created);
        assert_eq!(key_file_too_open(&path), None);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(key_file_too_open(&path), Some(0o644));
        assert!(load_key_file(dir.join("nothing")).unwrap().is_none());
        let _ = fs::remove_dir_all(&dir);
    }
}
