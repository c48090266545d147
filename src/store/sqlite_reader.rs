//! Synchronous user lookups for SQLite: the hot path of every authenticated
//! request, without a hop to another thread.
//!
//! sqlx runs each SQLite connection on its own worker thread; a query is a
//! round trip through channels and two thread wake-ups, which on a small
//! machine costs more than the query itself (profiled: a third of the CPU of
//! the protected endpoint went to task switches). SQLite is an in-process
//! library, so a primary-key read on an already-prepared statement takes a
//! few microseconds when run right where it is needed. This module does just
//! that for the user lookups and the blacklist check, through read-only connections to the same
//! file (WAL mode: readers never wait for the writer, and always see the
//! latest commit — so a deactivation or password change made by any process
//! is seen by the next request). Everything else, and every write, stays on
//! sqlx. Any failure here falls back to the sqlx path.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{user_from_columns, User, UserColumns};

/// A few read-only connections, each behind its own lock (never held across an await).
pub(super) struct SqliteReader {
    path: PathBuf,
    connections: Vec<Mutex<Option<Connection>>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The file a `sqlite:` URL names, when it is a plain file.
pub(super) fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.contains(":memory:") || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

impl SqliteReader {
    pub(super) fn new(path: PathBuf, connections: usize) -> Self {
        Self {
            path,
            connections: (0..connections.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A reader in WAL mode only waits during recovery; never stall a worker long.
        conn.busy_timeout(Duration::from_millis(50))?;
        conn.set_prepared_statement_cache_capacity(8);
        Ok(conn)
    }

    /// Runs `f` on a free connection (or waits briefly for one).
    fn with_connection<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let n = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut guard = (0..n)
            .find_map(|i| self.connections[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                self.connections[start % n]
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
            });
        if guard.is_none() {
            *guard = Some(self.open()?);
        }
        let conn = guard.as_ref().expect("opened above");
        let result = f(conn);
        if result.is_err() {
            // Start from a fresh connection next time (e.g. the file was replaced).
            *guard = None;
        }
        result
    }

    fn query_user(&self, sql: &str, param: &dyn rusqlite::ToSql) -> rusqlite::Result<Option<User>> {
        self.with_connection(|conn| {
            conn.prepare_cached(sql)?
                .query_row([param], |row| {
                    let columns: UserColumns = (
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                        row.get(8)?,
                        row.get(9)?,
                        row.get(10)?,
                    );
                    Ok(user_from_columns(columns))
                })
                .optional()
        })
    }

    /// Whether a one-parameter query returns a row.
    pub(super) fn exists(&self, sql: &str, param: &str) -> rusqlite::Result<bool> {
        self.with_connection(|conn| conn.prepare_cached(sql)?.exists([param]))
    }

    pub(super) fn user_by_id(&self, sql: &str, id: i64) -> rusqlite::Result<Option<User>> {
        self.query_user(sql, &id)
    }

    pub(super) fn user_by_username(
        &self,
        sql: &str,
        username: &str,
    ) -> rusqlite::Result<Option<User>> {
        self.query_user(sql, &username)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_files_get_a_reader() {
        assert_eq!(
            file_of("sqlite://db.sqlite3?mode=rwc"),
            Some(PathBuf::from("db.sqlite3"))
        );
        assert_eq!(
            file_of("sqlite:///tmp/x/db.sqlite3"),
            Some(PathBuf::from("/tmp/x/db.sqlite3"))
        );
        assert_eq!(
            file_of("sqlite:db.sqlite3"),
            Some(PathBuf::from("db.sqlite3"))
        );
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("sqlite://file.db?mode=memory"), None);
        assert_eq!(file_of("postgres://x/y"), None);
    }
}
