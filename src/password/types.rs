//! The public vocabulary of password hashing: [`HasherConfig`],
//! [`PasswordError`] and [`Verification`], re-exported from
//! [`crate::password`].
//!
//! # Why it is shaped this way
//!
//! Plain data with no behaviour beyond defaults, kept in a leaf file: the job
//! queue and the synchronous hasher need these types, and the façade in
//! `mod.rs` needs those layers, so defining the types in `mod.rs` would make
//! every layer import its own user. Here everyone imports them and they import
//! nothing from the module.

use std::num::NonZeroUsize;

/// Tuning of a [`PasswordHasher`](super::PasswordHasher).
#[derive(Debug, Clone)]
pub struct HasherConfig {
    /// How many hash or verify jobs may run at once on the blocking pool.
    /// Default: the number of CPUs (`std::thread::available_parallelism`), at
    /// least 1. Hashing runs on the blocking pool, never on the async workers,
    /// so token checks keep being served while logins saturate it (measured on
    /// 2 cores: protected p99 under 7 ms during a login storm).
    pub concurrency: usize,
    /// How many callers may wait for a permit before further ones get
    /// [`PasswordError::Busy`]. `0` means callers never wait. Default 256.
    pub max_waiting: usize,
    /// argon2id memory cost of new hashes, in KiB. Default 19456 (19 MiB, OWASP).
    pub memory_kib: u32,
    /// argon2id passes (time cost) of new hashes. Default 2 (OWASP).
    pub iterations: u32,
    /// argon2id lanes (parallelism) of new hashes. Default 1 (OWASP).
    pub parallelism: u32,
    /// PBKDF2-SHA256 iterations that every failed verification costs at
    /// least, so that a wrong password for a user with a legacy Django
    /// `pbkdf2_sha256` hash, an unknown user and a user with an argon2id hash
    /// take the same time (each costs one argon2id verification plus this many
    /// PBKDF2 iterations). Raised automatically to the largest count met in a
    /// stored hash; set it to your imported hashes' count (Django 5.2:
    /// 1 000 000) so that the first logins after a start are equal too.
    /// Default 0: only what has been met.
    pub pbkdf2_floor: u32,
}

impl Default for HasherConfig {
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            max_waiting: 256,
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            pbkdf2_floor: 0,
        }
    }
}

/// Why hashing or verifying could not be done.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password exceeds 4096 bytes; it is refused without hashing.
    #[error("password is longer than 4096 bytes")]
    TooLong,
    /// More than [`HasherConfig::max_waiting`] callers are already waiting;
    /// try again later (HTTP 503).
    #[error("too many password checks are waiting")]
    Busy,
    /// Invalid configuration, no Tokio runtime, OS randomness failure, or a
    /// hashing job that panicked. The message never contains a secret.
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password does not match, or there was nothing usable to match against.
    Invalid,
    /// The password matches.
    Valid {
        /// The stored hash is not argon2id in Django's format with exactly the
        /// configured parameters: store
        /// [`PasswordHasher::hash`](super::PasswordHasher::hash) of the password.
        needs_rehash: bool,
    },
}
