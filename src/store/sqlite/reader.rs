//! In-thread SQLite reads: the user lookups and the blacklist check — the
//! hot path of every authenticated request and every refresh — run right in
//! the calling task, with no hop to another thread.
//!
//! A hop through a channel and two thread wake-ups costs more than the query
//! itself on a small machine (profiled: a third of the CPU of the protected
//! endpoint went to task switches when sqlx ran these reads). SQLite is an
//! in-process library, so a primary-key read on an already-prepared
//! statement takes a few microseconds where it is needed. The connections
//! are read-only and the file is in WAL mode: readers never wait for the
//! writer and always see the latest commit, so a deactivation or password
//! change made by any process is seen by the next request.
//!
//! One code path: on an error the connection is dropped, a fresh one opened
//! and the read retried once (the file may have been replaced, a schema
//! changed under a cached statement); a second failure is classified and
//! returned. Reads wait at most the reader busy timeout for a lock, so no
//! worker thread stalls for long.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use super::super::error::StoreError;
use super::super::faults::FaultLog;
use super::conn::{classify, open_reader, FileConfig};

/// A few read-only connections, each behind its own lock (never held across an await).
pub(super) struct Reader {
    config: FileConfig,
    connections: Vec<Mutex<Option<Connection>>>,
    next: AtomicUsize,
    closed: AtomicBool,
    faults: FaultLog,
}

impl Reader {
    /// `connections` lazily opened read-only connections to the file.
    pub(super) fn new(config: FileConfig, connections: usize) -> Self {
        Self {
            config,
            connections: (0..connections.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            faults: FaultLog::new("reads"),
        }
    }

    /// A free connection slot, or (all busy) the next one in turn.
    fn slot(&self) -> MutexGuard<'_, Option<Connection>> {
        let n = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .find_map(|i| self.connections[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                self.connections[start % n]
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
            })
    }

    /// Runs `read` on a reader connection, retrying once on a fresh
    /// connection after an error. [`StoreError::Unavailable`] once closed.
    pub(super) fn read<T>(
        &self,
        read: impl Fn(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.faults.observe(self.read_once_or_twice(read))
    }

    fn read_once_or_twice<T>(
        &self,
        read: impl Fn(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::closed());
        }
        let mut slot = self.slot();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match &*slot {
                Some(conn) => read(conn),
                None => open_reader(&self.config).and_then(|conn| read(slot.insert(conn))),
            };
            match result {
                Ok(value) => return Ok(value),
                Err(e) => {
                    // Start from a fresh connection (e.g. the file was replaced).
                    *slot = None;
                    if attempt == 2 {
                        return Err(classify(e));
                    }
                    tracing::debug!(error = %e, "SQLite read failed; retrying on a new connection");
                }
            }
        }
    }

    /// `(slots, open, idle)`: the connections there may be, those open, and
    /// those open and not in use (their lock is free) right now.
    pub(super) fn usage(&self) -> (u32, u32, u32) {
        let (mut open, mut idle) = (0u32, 0u32);
        for slot in &self.connections {
            match slot.try_lock() {
                Ok(conn) if conn.is_some() => {
                    open += 1;
                    idle += 1;
                }
                Ok(_) => {}
                // In use: a connection is open in it (or being opened).
                Err(_) => open += 1,
            }
        }
        let slots = u32::try_from(self.connections.len()).unwrap_or(u32::MAX);
        (slots, open, idle)
    }

    /// Closes every connection; later reads fail as unavailable.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for slot in &self.connections {
            *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        }
    }
}
