//! `kycd backup`: an online, consistent copy of a SQLite database through
//! SQLite's backup API while servers keep writing to it. The copy is taken
//! in one step under one read transaction (WAL: writers are not blocked, and
//! the copy is the database as of one commit), then `PRAGMA integrity_check`
//! runs on the copy.

use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a backup wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupReport {
    pub pages: i64,
    pub bytes: u64,
    /// `PRAGMA integrity_check` of the copy: `ok`, or what it found.
    pub integrity: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: refusing to overwrite it (choose a new path)")]
    Exists(PathBuf),
    #[error("there is no SQLite database at {0}")]
    NoSource(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("SQLite: {0}")]
    Sqlite(String),
}

/// The file of a `sqlite://path` (or `sqlite:path`, or bare path) URL, as
/// `Store::connect` reads it; `None` for PostgreSQL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

/// An open SQLite connection, closed on drop.
struct Db(*mut ffi::sqlite3);

impl Db {
    fn open(path: &Path, flags: i32) -> Result<Db, BackupError> {
        let c = CString::new(path.to_string_lossy().as_bytes())
            .map_err(|_| BackupError::Sqlite(format!("{} contains a NUL byte", path.display())))?;
        let mut db = std::ptr::null_mut();
        // SAFETY: `c` is a valid NUL-terminated string and `db` a valid out
        // pointer; the handle is closed by `Drop` even when opening failed.
        let rc = unsafe { ffi::sqlite3_open_v2(c.as_ptr(), &mut db, flags, std::ptr::null()) };
        let db = Db(db);
        if rc != ffi::SQLITE_OK {
            return Err(BackupError::Sqlite(format!(
                "cannot open {}: {}",
                path.display(),
                db.message()
            )));
        }
        // SAFETY: an open handle.
        unsafe { ffi::sqlite3_busy_timeout(db.0, 10_000) };
        Ok(db)
    }

    fn message(&self) -> String {
        if self.0.is_null() {
            return "out of memory".into();
        }
        // SAFETY: an open handle; sqlite3_errmsg returns a NUL-terminated
        // string owned by SQLite, copied at once.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0)) }
            .to_string_lossy()
            .into_owned()
    }

    /// The first column of every row of `sql`, as text.
    fn texts(&self, sql: &str) -> Result<Vec<String>, BackupError> {
        let c = CString::new(sql).map_err(|_| BackupError::Sqlite("NUL in SQL".into()))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: an open handle, a NUL-terminated statement, a valid out pointer.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(self.0, c.as_ptr(), -1, &mut stmt, std::ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            return Err(BackupError::Sqlite(self.message()));
        }
        let mut out = vec![];
        let result = loop {
            // SAFETY: a prepared statement, finalized below.
            match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_ROW => {
                    // SAFETY: the statement has a current row; the text is
                    // copied before the next step.
                    let text = unsafe { ffi::sqlite3_column_text(stmt, 0) };
                    if !text.is_null() {
                        out.push(
                            unsafe { CStr::from_ptr(text.cast()) }
                                .to_string_lossy()
                                .into_owned(),
                        );
                    }
                }
                ffi::SQLITE_DONE => break Ok(out),
                _ => break Err(BackupError::Sqlite(self.message())),
            }
        };
        // SAFETY: finalized once.
        unsafe { ffi::sqlite3_finalize(stmt) };
        result
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the handle is open and closed once; every statement
            // and backup on it was finalized.
            unsafe { ffi::sqlite3_close(self.0) };
        }
    }
}

/// Copies the SQLite database at `source` to the new file `dest` (refused
/// when it exists) with the backup API, while other processes may be
/// writing to `source`, then checks the copy's integrity. Blocking: run it
/// on a blocking thread. A failed backup removes its partial file.
pub fn sqlite_backup(source: &Path, dest: &Path) -> Result<BackupReport, BackupError> {
    if !source.is_file() {
        return Err(BackupError::NoSource(source.to_path_buf()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(dest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(dest.to_path_buf()));
        }
        Err(e) => return Err(BackupError::Io(dest.to_path_buf(), e)),
    }
    let result = copy(source, dest);
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut side = dest.as_os_str().to_owned();
            side.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(side));
        }
    }
    result
}

fn copy(source: &Path, dest: &Path) -> Result<BackupReport, BackupError> {
    let pages = {
        // Read-write without create: a missing file is an error, not a new
        // empty database; nothing is written to the source.
        let src = Db::open(source, ffi::SQLITE_OPEN_READWRITE)?;
        let dst = Db::open(dest, ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE)?;
        // SAFETY: two open handles and NUL-terminated schema names.
        let backup =
            unsafe { ffi::sqlite3_backup_init(dst.0, c"main".as_ptr(), src.0, c"main".as_ptr()) };
        if backup.is_null() {
            return Err(BackupError::Sqlite(dst.message()));
        }
        let started = Instant::now();
        let outcome = loop {
            // All pages in one step: one read transaction on the source, so
            // the copy is one commit's state, and concurrent writers (WAL)
            // are not restarted or blocked by it.
            // SAFETY: a live backup object, finished below.
            match unsafe { ffi::sqlite3_backup_step(backup, -1) } {
                ffi::SQLITE_DONE => break Ok(()),
                ffi::SQLITE_OK => continue,
                ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED
                    if started.elapsed() < Duration::from_secs(60) =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                rc => break Err(rc),
            }
        };
        // SAFETY: the backup object is live; it is finished once.
        let pages = i64::from(unsafe { ffi::sqlite3_backup_pagecount(backup) });
        let finish = unsafe { ffi::sqlite3_backup_finish(backup) };
        if let Err(rc) = outcome {
            // SAFETY: sqlite3_errstr returns a static string.
            let what = unsafe { CStr::from_ptr(ffi::sqlite3_errstr(rc)) };
            return Err(BackupError::Sqlite(format!(
                "the backup failed: {} ({})",
                what.to_string_lossy(),
                src.message()
            )));
        }
        if finish != ffi::SQLITE_OK {
            return Err(BackupError::Sqlite(dst.message()));
        }
        pages
    };
    let integrity = {
        let copy = Db::open(dest, ffi::SQLITE_OPEN_READWRITE)?;
        copy.texts("PRAGMA integrity_check")?.join("; ")
    };
    let bytes = std::fs::metadata(dest)
        .map_err(|e| BackupError::Io(dest.to_path_buf(), e))?
        .len();
    Ok(BackupReport {
        pages,
        bytes,
        integrity,
    })
}
