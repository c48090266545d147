//! What the SQLite reader and writer share: opening a rusqlite connection
//! the way each needs it, binding the shared SQL's `$n` parameters, reading
//! a user row, and the one classification of SQLite errors into
//! [`StoreError`] classes.
//!
//! A leaf module: the reader, the writer and the driver depend on it, so
//! none of them depends on another.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{ffi, Connection, OpenFlags, Statement};

use super::super::error::StoreError;
use super::super::model::{
    identity_from_columns, session_from_columns, user_from_columns, Identity, SessionRecord, User,
};
use super::super::sql::Param;
use super::super::token_writes::{Cell, Col};
use super::super::url::{create_private, Access};

/// How to open the database file (from the URL and the store options).
#[derive(Debug, Clone)]
pub(super) struct FileConfig {
    /// The database file.
    pub path: PathBuf,
    /// The URL's access mode.
    pub access: Access,
    /// `PRAGMA synchronous` of the writer.
    pub synchronous: &'static str,
    /// `PRAGMA busy_timeout` of the writer (the statement timeout).
    pub busy_timeout: Duration,
}

/// How long a reader waits for a lock: in WAL mode only during recovery, so
/// a worker thread is never stalled for long.
const READER_BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// WAL pages after which a commit checkpoints (see [`open_writer`]).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// Opens the read-write connection of the writer thread: WAL, the
/// configured `synchronous`, the busy timeout, foreign keys on. A missing
/// file is created private first (when the URL allows creating it).
pub(super) fn open_writer(config: &FileConfig) -> rusqlite::Result<Connection> {
    let flags = match config.access {
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
        Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        Access::Create => {
            create_private(&config.path);
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        }
    };
    // No SQLITE_OPEN_URI: the path is a path (url.rs refuses `file:` names).
    let conn = Connection::open_with_flags(&config.path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(config.busy_timeout)?;
    if config.access != Access::ReadOnly {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "SQLite did not switch to WAL; readers may wait for writers");
        }
    }
    conn.pragma_update(None, "synchronous", config.synchronous)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Statement and savepoint journals stay in memory: in a large batch they
    // would otherwise spill to a temporary file (measured: 3.5 ms → 1 ms a commit).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Checkpoints run in the writer's commits: a larger WAL (~40 MiB at 4 KiB
    // pages; SQLite's default is 1000 pages) copies a page modified by many
    // commits back into the database once instead of many times.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Opens a read-only connection for in-thread reads.
pub(super) fn open_reader(config: &FileConfig) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        &config.path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(READER_BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(8);
    Ok(conn)
}

/// Binds `params` to `stmt` by their `$n` numbers (SQLite numbers
/// parameters in order of first appearance, not by the digits).
pub(super) fn bind(stmt: &mut Statement<'_>, params: &[Param<'_>]) -> rusqlite::Result<()> {
    for index in 1..=stmt.parameter_count() {
        let name = stmt.parameter_name(index);
        let number = name
            .and_then(|n| n.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=params.len()).contains(n))
            .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.unwrap_or("?").to_owned()))?;
        match params[number - 1] {
            Param::Int(v) => stmt.raw_bind_parameter(index, v)?,
            Param::OptInt(v) => stmt.raw_bind_parameter(index, v)?,
            Param::Text(v) => stmt.raw_bind_parameter(index, v)?,
            Param::OptText(v) => stmt.raw_bind_parameter(index, v)?,
        }
    }
    Ok(())
}

/// Runs one statement that returns no rows; rows affected.
pub(super) fn execute(conn: &Connection, sql: &str, params: &[Param<'_>]) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    Ok(stmt.raw_execute()? as u64)
}

/// Runs a query and reads its first row with `read`, if there is one.
pub(super) fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: &[Param<'_>],
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    match rows.next()? {
        Some(row) => read(row).map(Some),
        None => Ok(None),
    }
}

/// Runs a query (or a `DELETE … RETURNING`) to its end and reads every
/// row with `read`.
pub(super) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: &[Param<'_>],
    read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read(row)?);
    }
    Ok(out)
}

/// Runs a query (or an `INSERT … RETURNING`) to its end and reads the
/// columns of its first row, each as `cols` says, if there is a row.
pub(super) fn fetch_cells(
    conn: &Connection,
    sql: &str,
    params: &[Param<'_>],
    cols: &[Col],
) -> rusqlite::Result<Option<Vec<Cell>>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    let mut first = None;
    while let Some(row) = rows.next()? {
        if first.is_none() {
            let mut cells = Vec::with_capacity(cols.len());
            for (i, col) in cols.iter().enumerate() {
                cells.push(match col {
                    Col::Int => Cell::Int(row.get(i)?),
                    Col::Text => Cell::Text(row.get(i)?),
                });
            }
            first = Some(cells);
        }
    }
    Ok(first)
}

/// Runs an `INSERT … RETURNING` of one integer column to its end: outside a
/// transaction the write commits — and may fail — only at the last step.
pub(super) fn insert_returning(
    conn: &Connection,
    sql: &str,
    params: &[Param<'_>],
) -> rusqlite::Result<i64> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    let mut returned = None;
    while let Some(row) = rows.next()? {
        returned = Some(row.get(0)?);
    }
    returned.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// A session from a row of the shared session columns.
pub(super) fn session_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(session_from_columns(row.try_into()?))
}

/// A user from a row of the shared user columns.
pub(super) fn user_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(user_from_columns(row.try_into()?))
}

/// An identity from a row of the shared identity columns.
pub(super) fn identity_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Identity> {
    Ok(identity_from_columns(row.try_into()?))
}

/// The extended result code of a SQLite failure, if it is one.
fn code_of(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(failure, _) => Some(failure.extended_code),
        _ => None,
    }
}

/// Classifies a rusqlite error (see [`classify_code`]).
pub(super) fn classify(e: rusqlite::Error) -> StoreError {
    match code_of(&e) {
        Some(code) => classify_code(code, e.to_string()),
        None => StoreError::Other(e.to_string()),
    }
}

/// Classifies a SQLite (extended) result code: busy, locked, full,
/// read-only, I/O error, cannot open and out of memory are
/// [`StoreError::Unavailable`] (HTTP 503: try again later); a unique or
/// primary key violation is [`StoreError::Conflict`]; anything else
/// [`StoreError::Other`].
pub(super) fn classify_code(extended: i32, message: String) -> StoreError {
    match extended & 0xff {
        ffi::SQLITE_BUSY
        | ffi::SQLITE_LOCKED
        | ffi::SQLITE_FULL
        | ffi::SQLITE_READONLY
        | ffi::SQLITE_IOERR
        | ffi::SQLITE_CANTOPEN
        | ffi::SQLITE_NOMEM => StoreError::Unavailable(message),
        ffi::SQLITE_CONSTRAINT
            if extended == ffi::SQLITE_CONSTRAINT_UNIQUE
                || extended == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict
        }
        _ => StoreError::Other(message),
    }
}

/// Whether an error leaves the connection unfit for more work (the writer
/// then opens a new one): I/O errors, corruption, a file that is not (or no
/// longer) a database, out of memory, misuse — and read-only: a connection
/// opened while the database or its `-wal` could not be written stays
/// read-only after they can be again (seen with an immutable `-wal`), so
/// only a new one writes.
pub(super) fn breaks_connection(e: &rusqlite::Error) -> bool {
    match code_of(e) {
        Some(code) => matches!(
            code & 0xff,
            ffi::SQLITE_IOERR
                | ffi::SQLITE_READONLY
                | ffi::SQLITE_CORRUPT
                | ffi::SQLITE_NOTADB
                | ffi::SQLITE_CANTOPEN
                | ffi::SQLITE_NOMEM
                | ffi::SQLITE_MISUSE
        ),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_sqlite_failures_are_unavailable() {
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_BUSY_SNAPSHOT,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_LOCKED_SHAREDCACHE,
            ffi::SQLITE_FULL,
            ffi::SQLITE_READONLY,
            ffi::SQLITE_READONLY_DBMOVED,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_IOERR_FSYNC,
            ffi::SQLITE_CANTOPEN,
            ffi::SQLITE_NOMEM,
        ] {
            assert!(
                matches!(
                    classify_code(code, String::new()),
                    StoreError::Unavailable(_)
                ),
                "code {code}"
            );
        }
    }

    #[test]
    fn unique_violations_conflict_and_the_rest_is_other() {
        assert!(matches!(
            classify_code(ffi::SQLITE_CONSTRAINT_UNIQUE, String::new()),
            StoreError::Conflict
        ));
        assert!(matches!(
            classify_code(ffi::SQLITE_CONSTRAINT_PRIMARYKEY, String::new()),
            StoreError::Conflict
        ));
        for code in [
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
            ffi::SQLITE_CONSTRAINT_NOTNULL,
            ffi::SQLITE_ERROR,
            ffi::SQLITE_CORRUPT,
            ffi::SQLITE_MISMATCH,
        ] {
            assert!(
                matches!(classify_code(code, String::new()), StoreError::Other(_)),
                "code {code}"
            );
        }
    }

    #[test]
    fn parameters_bind_by_number_in_any_order() {
        let conn = Connection::open_in_memory().unwrap();
        let got = query_opt(
            &conn,
            "SELECT $2 || '-' || $1 || '-' || $2",
            &[Param::Text("a"), Param::Int(7)],
            |row| row.get::<_, String>(0),
        )
        .unwrap();
        assert_eq!(got.as_deref(), Some("7-a-7"));
        let missing = query_opt(&conn, "SELECT $3", &[Param::Int(1)], |row| {
            row.get::<_, i64>(0)
        });
        assert!(
            missing.is_err(),
            "a placeholder without a parameter is refused"
        );
    }
}
