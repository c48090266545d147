//! Connection and timeout settings of a store, shared by both databases so
//! the CLI fills one struct whatever `DATABASE_URL` names.

use std::time::Duration;

use super::error::StoreError;

/// Pool and timeout settings. Defaults suit a 2-core machine.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// PostgreSQL: pool size (default 10). SQLite: read-only connections
    /// used in the calling thread (default: CPU count + 1); writes always go
    /// through one connection.
    pub max_connections: Option<u32>,
    /// How long a request waits for a connection (or to connect) before the
    /// database counts as unavailable (default 3 s).
    pub connect_timeout: Duration,
    /// PostgreSQL `statement_timeout`; SQLite busy timeout of the writer
    /// (default 5 s). Every store call also has a client-side deadline of
    /// `statement_timeout + connect_timeout`, after which it fails as
    /// [`StoreError::Unavailable`] instead of waiting on.
    pub statement_timeout: Duration,
    /// SQLite `synchronous`: `FULL` (default: a committed write survives power
    /// loss), `NORMAL` (survives a crash of the process only) or `EXTRA`.
    pub sqlite_synchronous: String,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            sqlite_synchronous: "FULL".into(),
        }
    }
}

impl StoreOptions {
    /// The client-side deadline of one store call.
    pub(super) fn deadline(&self) -> Duration {
        self.statement_timeout + self.connect_timeout
    }

    /// `sqlite_synchronous`, validated: [`StoreError::Other`] for an unknown mode.
    pub(super) fn synchronous(&self) -> Result<&'static str, StoreError> {
        match self.sqlite_synchronous.to_ascii_uppercase().as_str() {
            "FULL" => Ok("FULL"),
            "NORMAL" => Ok("NORMAL"),
            "EXTRA" => Ok("EXTRA"),
            other => Err(StoreError::Other(format!(
                "unknown SQLite synchronous mode {other:?}"
            ))),
        }
    }
}
