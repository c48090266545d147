//! The one error type of the storage layer, split by what the caller should
//! do about a failure rather than by which driver reported it.
//!
//! Each driver classifies its own errors into these variants (SQLite in
//! `sqlite/conn.rs`, PostgreSQL in `postgres.rs`), so nothing of sqlx or
//! rusqlite leaks into the public API: no `From<driver::Error>` here. The
//! enum is `#[non_exhaustive]` so a class can be added without breaking
//! callers that match on it.

/// Storage failures, split by what the caller should do about them.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached, is overloaded, locked, full, read-only
    /// or out of memory: retry later (HTTP 503). The text says why.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the write (e.g. the username is taken).
    #[error("already exists")]
    Conflict,
    /// The schema is newer than this program or otherwise unusable.
    #[error("database schema: {0}")]
    Schema(String),
    /// Anything else: a bug, a corrupt database or an invalid URL (HTTP 500, logged).
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    /// What went wrong, without the class prefix of `Display`.
    pub fn cause(&self) -> String {
        match self {
            StoreError::Unavailable(cause)
            | StoreError::Schema(cause)
            | StoreError::Other(cause) => cause.clone(),
            StoreError::Conflict => "already exists".into(),
        }
    }

    /// The deadline of one store call passed without an answer.
    pub(super) fn deadline(deadline: std::time::Duration) -> Self {
        StoreError::Unavailable(format!("no answer from the database within {deadline:?}"))
    }

    /// The store was closed (or its writer stopped) before the call.
    pub(super) fn closed() -> Self {
        StoreError::Unavailable("the store is closed".into())
    }
}
