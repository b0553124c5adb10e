//! The master key file: load it, or create it atomically (mode 0600) on first start.

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
