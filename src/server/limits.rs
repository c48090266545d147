//! The bounds of the serving loop — timeouts, the connection cap, the
//! shutdown grace — and fitting the cap to the process's descriptor limit.
//!
//! Each bound closes one way a few clients could hold the server: see the
//! README's "Limits and timeouts" section. The values come from the server
//! options (`src/settings/server.rs`); [`Limits::default`] has the same ones.

use std::time::Duration;

/// Descriptors kept out of the connection cap: the listener, the database
/// connections, the log, the key file and the SQLite WAL and shared memory.
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// The serving loop's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a complete request head (HTTP/1.1), from the accept
    /// and again after each answer on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// A connection with no request in progress is closed after this long.
    pub idle_timeout: Duration,
    /// Longest one request may take, body included (then 408).
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long in-flight requests may take to finish after a stop signal.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        crate::settings::ServerOptions::default().limits()
    }
}

impl Limits {
    /// The cap lowered, if need be, so that every connection it allows has a
    /// descriptor: `soft_nofile` less [`RESERVED_DESCRIPTORS`] (at least 1).
    pub fn fitted_to(&self, soft_nofile: u64) -> usize {
        let room = soft_nofile.saturating_sub(RESERVED_DESCRIPTORS).max(1);
        self.max_connections
            .min(usize::try_from(room).unwrap_or(usize::MAX))
    }
}

/// Raises the soft limit of open descriptors to the hard limit (Unix), so
/// the connection cap rather than `EMFILE` decides who is served. Returns
/// the soft limit in force afterwards; `None` where it cannot be read.
pub fn raise_descriptor_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => Some(soft),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-descriptor limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_reserved_descriptors() {
        let limits = Limits {
            max_connections: 10_000,
            ..Limits::default()
        };
        assert_eq!(limits.fitted_to(1_048_576), 10_000);
        assert_eq!(limits.fitted_to(1024), 1024 - 64);
        assert_eq!(limits.fitted_to(10), 1);
    }

    #[test]
    fn the_descriptor_limit_is_at_least_what_it_was() {
        let (before, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        let after = raise_descriptor_limit().unwrap();
        assert!(after >= before, "{after} < {before}");
    }
}
