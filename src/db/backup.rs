//! `parley backup` and `parley restore`: a consistent copy of the whole data directory (database,
//! attachments, key file), taken while the server runs.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{DB_FILE, check_existing_file};
use crate::crypto::KEY_FILE;

pub(crate) const UPLOADS_DIR: &str = "uploads";

#[derive(Debug, thiserror::Error)]
pub(crate) enum BackupError {
    #[error("{0} does not hold a Parley database ({DB_FILE})")]
    NoDatabase(PathBuf),
    #[error("{0} exists and is not empty; choose a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("{0}")]
    Open(#[from] super::OpenError),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the backup's database failed its integrity check: {0}")]
    Corrupt(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CopyReport {
    pub database_bytes: u64,
    pub files: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies the data directory `data_dir` into the new directory `dest`. The database copy is one
/// read transaction (`VACUUM INTO`), so it is consistent even while the server writes. Attachment
/// files are written before the row that names them commits and are never changed afterwards, so
/// copying them after the database snapshot finds every file the snapshot refers to.
pub(crate) fn backup(data_dir: &Path, dest: &Path) -> Result<CopyReport, BackupError> {
    let db = data_dir.join(DB_FILE);
    if !db.is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    ensure_empty(dest)?;
    check_existing_file(&db)?;
    fs::create_dir_all(dest).map_err(io(dest))?;

    let conn = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = dest.join(DB_FILE);
    conn.execute("VACUUM INTO ?1", [target.to_string_lossy()])?;
    drop(conn);

    let mut report = CopyReport {
        database_bytes: fs::metadata(&target).map_err(io(&target))?.len(),
        files: 0,
    };
    copy_key(data_dir, dest)?;
    report.files = copy_tree(&data_dir.join(UPLOADS_DIR), &dest.join(UPLOADS_DIR))?;
    Ok(report)
}

/// Fills the empty (or missing) data directory `data_dir` from the backup `src`.
pub(crate) fn restore(src: &Path, data_dir: &Path) -> Result<CopyReport, BackupError> {
    let db = src.join(DB_FILE);
    if !db.is_file() {
        return Err(BackupError::NoDatabase(src.to_path_buf()));
    }
    ensure_empty(data_dir)?;
    check_existing_file(&db)?;
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    drop(conn);
    if verdict != "ok" {
        return Err(BackupError::Corrupt(verdict));
    }

    fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    // Copy under a temporary name and rename, so a half-copied file is never taken for a database.
    let partial = data_dir.join(format!("{DB_FILE}.partial"));
    let database_bytes = fs::copy(&db, &partial).map_err(io(&partial))?;
    fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io(&partial))?;
    let target = data_dir.join(DB_FILE);
    fs::rename(&partial, &target).map_err(io(&target))?;
    copy_key(src, data_dir)?;
    let files = copy_tree(&src.join(UPLOADS_DIR), &data_dir.join(UPLOADS_DIR))?;
    Ok(CopyReport {
        database_bytes,
        files,
    })
}

fn ensure_empty(dir: &Path) -> Result<(), BackupError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(BackupError::NotEmpty(dir.to_path_buf())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(dir)(e)),
    }
}

fn copy_key(from: &Path, to: &Path) -> Result<(), BackupError> {
    let src = from.join(KEY_FILE);
    if src.is_file() {
        let bytes = fs::read(&src).map_err(io(&src))?;
        crate::crypto::write_private_file(&to.join(KEY_FILE), &bytes).map_err(io(&src))?;
    }
    Ok(())
}

/// Copies a directory tree of regular files; returns how many files were copied.
fn copy_tree(from: &Path, to: &Path) -> Result<u64, BackupError> {
    if !from.is_dir() {
        return Ok(0);
    }
    fs::create_dir_all(to).map_err(io(to))?;
    let mut copied = 0;
    for entry in fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let kind = entry.file_type().map_err(io(from))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copied += copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target).map_err(io(&target))?;
            copied += 1;
        }
    }
    Ok(copied)
}
