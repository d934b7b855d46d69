//! Opening the database file: refuse files that are not ours to touch, apply the embedded
//! migrations, and set the connection pragmas.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::Checkpoints;

mod embedded {
    refinery::embed_migrations!("migrations");
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path} is not a SQLite database ({why}); it was left untouched")]
    NotADatabase { path: PathBuf, why: String },
    #[error(
        "{path} was written by a newer Parley (schema version {found}, this binary knows up to {known}); \
         it was left untouched: run the newer binary, or restore a backup"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("sqlite error on {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
}

/// The newest schema version this binary carries.
pub(crate) fn latest_schema_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// Checks an existing database file without writing to it: the SQLite header must be sound, the
/// file no shorter than the header says, and the schema no newer than this binary's.
pub(crate) fn check_existing_file(path: &Path) -> Result<(), OpenError> {
    let not_db = |why: &str| OpenError::NotADatabase {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    let io = |source| OpenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut header = [0u8; 100];
    let mut file = fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Err(not_db("the file is empty"));
    }
    if len < 100 || file.read_exact(&mut header).is_err() {
        return Err(not_db("the file is shorter than a SQLite header"));
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err(not_db("no SQLite header"));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536u64,
        n if n >= 512 && n.is_power_of_two() => u64::from(n),
        _ => return Err(not_db("invalid page size in the header")),
    };
    let page_count = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    let counter_valid = header[24..28] == header[92..96];
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    // Pages may live only in a leftover WAL after a crash; SQLite recovers them on open, so the
    // length check only applies without one. Never delete that WAL.
    if counter_valid && !wal.exists() && len < page_count * page_size {
        return Err(not_db("the file is truncated"));
    }

    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| not_db(&e.to_string()))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| not_db(&e.to_string()))?;
    let has_history: bool = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
            [],
            |_| Ok(true),
        )
        .optional()
        .map_err(|e| not_db(&e.to_string()))?
        .unwrap_or(false);
    if has_history {
        let found: Option<i64> = conn
            .query_row(
                "SELECT max(version) FROM refinery_schema_history",
                [],
                |r| r.get(0),
            )
            .map_err(|e| not_db(&e.to_string()))?;
        let known = latest_schema_version();
        if let Some(found) = found.filter(|v| *v > known) {
            return Err(OpenError::NewerSchema {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
    }
    Ok(())
}

/// Opens the writer connection, creating the file and directory if needed, and applies every
/// embedded migration that is not applied yet.
pub fn open_and_migrate(path: &Path) -> Result<Connection, OpenError> {
    open_and_migrate_with(path, Checkpoints::Parley)
}

/// [`open_and_migrate`], with external checkpoints set before the migrations write.
pub(super) fn open_and_migrate_with(
    path: &Path,
    checkpoints: Checkpoints,
) -> Result<Connection, OpenError> {
    if path.exists() {
        check_existing_file(path)?;
    } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(path).map_err(sqlite)?;
    // WAL lets readers run beside the writer. synchronous=NORMAL in WAL mode keeps every committed
    // transaction across a crash of the process; only an OS crash or power cut can lose the last
    // few commits (documented in the README).
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite)?;
    set_common_pragmas(&conn).map_err(sqlite)?;
    if checkpoints == Checkpoints::External {
        leave_checkpoints_to_others(&conn).map_err(sqlite)?;
    }
    embedded::migrations::runner().run(&mut conn)?;
    Ok(conn)
}

/// Page cache sizes in KiB. Pages beyond the cache are read from the OS page cache with a system
/// call each, so the connections that serve most requests (the HTTP workers' own) get the most;
/// together they bound what the database can hold in memory. The writer's and the pool's were
/// 16 and 2 MiB: at a million messages, 8 and 1 MiB lower the peak over the benchmark's scenarios
/// from 86 to 71–73 MB with no change in the sends', the mixed load's or search's rates beyond
/// the spread between runs of one binary (two alternating runs each).
pub(super) const WORKER_READER_CACHE_KIB: i64 = 12 * 1024;
pub(super) const POOLED_READER_CACHE_KIB: i64 = 1024;
pub(super) const WRITER_CACHE_KIB: i64 = 8 * 1024;

/// A connection for the checkpointer thread: it copies committed pages from the WAL into the
/// database file, off the writer's path.
pub(super) fn open_checkpointer(path: &Path) -> Result<Connection, OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(sqlite)?;
    set_common_pragmas(&conn).map_err(sqlite)?;
    Ok(conn)
}

/// For a connection of a database whose checkpoints another tool owns: it never checkpoints,
/// neither when the WAL grows nor when it is the last to close.
pub(super) fn leave_checkpoints_to_others(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    Ok(())
}

pub(super) fn open_reader(path: &Path, cache_kib: i64) -> Result<Connection, OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(sqlite)?;
    set_common_pragmas(&conn).map_err(sqlite)?;
    conn.pragma_update(None, "cache_size", -cache_kib)
        .map_err(sqlite)?;
    Ok(conn)
}

fn set_common_pragmas(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Savepoints (one per write in a group commit) journal the pages they change: in memory, not
    // in a temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Plans stay the ones the query shapes give (and the EXPLAIN QUERY PLAN test checks): without
    // this, SQLite re-prepares a statement whenever a newly bound value might change its plan.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Every query text the server runs stays prepared (the default keeps 16).
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

#[cfg(test)]
mod tests;
