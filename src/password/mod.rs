//! Password hashing and verification for the auth server.
//!
//! [`PasswordHasher`] hashes new passwords with argon2id in Django's format and
//! verifies passwords against whatever a shared users table may hold; the
//! async methods run on a bounded blocking pool, the `_blocking` ones on the
//! calling thread. [`PasswordHasher::stats`] reports its work (queue depth,
//! running jobs, buffers, dummy verifications) for monitoring.
//!
//! # Why it is shaped this way
//!
//! Each concern lives in its own file, with the reasons for its design in that
//! file's documentation:
//!
//! * `formats/`: **Django-compatible storage** and **upgrade on login**: which
//!   stored formats are accepted (argon2 behind Django's `argon2` name, plain
//!   PHC argon2, `pbkdf2_sha256`, `pbkdf2_sha1`; never unusable `!…` or
//!   unknown strings), the format new hashes are written in, when a match
//!   needs a rehash, and the bounds that stop **a poisoned row** from taking the
//!   server down. One file per format, behind a dispatcher.
//! * `hasher.rs`: what one job does on whatever thread runs it, including
//!   **no user enumeration by timing** (the dummy verification) and the
//!   4096-byte password cap.
//! * `queue.rs`: **hashing stays off the async workers, and is bounded**: the
//!   permits, the waiting limit and [`PasswordError::Busy`].
//! * `memory.rs`: **hashing memory is reused, so RSS stays bounded**: the
//!   argon2 buffer pool and when it keeps or frees a buffer.
//! * `stats.rs`: the [`HasherStats`] counters and gauges, relaxed atomics
//!   cheap enough to stay on in production.
//! * `types.rs`: the public configuration, error and result types.
//! * `validation.rs`: Django's default password validators, for the CLI's
//!   `createuser` / `changepassword` (never on a request path).
//!
//! This file is only the façade: it validates the configuration through the
//! layers that own each rule, and sends each call either through the queue
//! (async) or straight to the hasher (`_blocking`). Imports go one way:
//!
//! ```text
//! mod.rs     -> queue.rs, hasher.rs
//! hasher.rs  -> formats/, memory.rs
//! formats/   -> memory.rs   (inside: mod.rs -> each format's file -> outcome.rs)
//! every file -> stats.rs, types.rs (the leaves)
//! ```
//!
//! Only the test modules, and the test-only `testing.rs`, come back up, to
//! drive [`PasswordHasher`] as a caller would.
//!
//! Secrets are never logged: log lines name the kind of problem and, for
//! refused parameters, the offending numbers, never a password or a hash.

mod formats;
mod hasher;
mod memory;
mod queue;
mod stats;
#[cfg(test)]
mod testing;
mod types;
pub mod validation;

use std::fmt;
use std::sync::Arc;

use self::hasher::Hasher;
use self::queue::JobQueue;

pub use self::stats::HasherStats;
pub use self::types::{HasherConfig, PasswordError, Verification};

/// The longest password accepted, in bytes (Django's cap since
/// CVE-2013-1443; longer ones are never hashed).
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// Why a new password cannot be set, or `None` when it can: the one rule
/// for every way a password is set (`createuser`, `changepassword`, the
/// password change endpoint). A password must be non-empty, at most
/// [`MAX_PASSWORD_BYTES`], and without surrounding whitespace — logins trim
/// it away (as simplejwt's serializer does), so such a password could
/// never be used.
pub fn new_password_problem(password: &str) -> Option<&'static str> {
    if password.is_empty() {
        Some("The password is empty.")
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some("The password is longer than 4096 bytes.")
    } else if password.trim() != password {
        Some("The password starts or ends with whitespace, which logins trim away.")
    } else {
        None
    }
}

/// The format of a stored password hash, by Django's algorithm name (the
/// text before the first `$`: `pbkdf2_sha256`, `argon2`, `bcrypt_sha256`,
/// `md5`, …; `"unusable"` for Django's `!…` unusable passwords, `"unknown"`
/// for anything else), and whether this crate verifies it. Used to tell,
/// before a move from Django, which accounts could not log in here.
///
/// ```
/// use simplejwt::password::stored_format;
/// assert_eq!(stored_format("pbkdf2_sha256$1000000$salt$hash"), ("pbkdf2_sha256", true));
/// assert_eq!(stored_format("bcrypt_sha256$$2b$12$abc"), ("bcrypt_sha256", false));
/// assert_eq!(stored_format("!unusable"), ("unusable", false));
/// ```
pub fn stored_format(stored: &str) -> (&str, bool) {
    formats::stored_format(stored)
}

/// Hashes and verifies passwords; cheap to clone (an `Arc` inside).
///
/// Construct it once at startup with [`PasswordHasher::new`] (cheap: it runs
/// no argon2 hash) and share clones. The async methods must be called from
/// within a Tokio runtime (either flavour); the `_blocking` ones run on the
/// calling thread.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    config: HasherConfig,
    /// Permits and waiting callers of the async API.
    queue: JobQueue,
    /// Parameters, dummy hash, buffer pool: the work itself.
    hasher: Hasher,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("config", &self.inner.config)
            .field("available_permits", &self.inner.queue.available_permits())
            .field("waiting", &self.inner.queue.depth())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Validates `config` and builds the dummy hash used to equalise timing.
    ///
    /// Fails with [`PasswordError::Internal`] if `concurrency` is 0 (or beyond
    /// what a Tokio semaphore holds), if the argon2 parameters are invalid
    /// (e.g. `memory_kib < 8 * parallelism`) or beyond the bounds enforced on
    /// stored hashes (1 GiB, 20 passes, 16 lanes), or if OS randomness fails.
    /// Cheap: runs no argon2 hash (the dummy is random, not a real hash).
    pub fn new(config: HasherConfig) -> Result<Self, PasswordError> {
        let queue = JobQueue::new(config.concurrency, config.max_waiting)?;
        let hasher = Hasher::new(&config, Arc::clone(&queue.waiting))?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                queue,
                hasher,
            }),
        })
    }

    /// The configuration this hasher was built with.
    pub fn config(&self) -> &HasherConfig {
        &self.inner.config
    }

    /// What this hasher (and every clone of it) is doing and has done; see
    /// [`HasherStats`] for each value and its suggested metric name. Lock-free
    /// and cheap enough to call on every metrics scrape.
    pub fn stats(&self) -> HasherStats {
        let Inner { queue, hasher, .. } = &*self.inner;
        HasherStats {
            dummy_verifications: hasher.dummy_verifications(),
            buffers_allocated: hasher.memory.allocated(),
            buffers_pooled: hasher.memory.pooled(),
            jobs_running: hasher.jobs_running(),
            queue_depth: queue.depth(),
        }
    }

    /// Hashes `password` (argon2id, Django format) on the blocking pool.
    ///
    /// Errors: [`PasswordError::TooLong`] over 4096 bytes (checked before
    /// queueing), [`PasswordError::Busy`] when the wait queue is full,
    /// [`PasswordError::Internal`] otherwise.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        if hasher::too_long(password.as_bytes()) {
            return Err(PasswordError::TooLong);
        }
        let secret = Secret(password.as_bytes().to_vec());
        self.run(move |hasher| hasher.hash(&secret.0)).await?
    }

    /// Checks `password` against `stored` on the blocking pool.
    ///
    /// `stored == None` means "no such user": a dummy verification is run and
    /// the answer is [`Verification::Invalid`]. A password over 4096 bytes is
    /// `Invalid` at once. Errors only with [`PasswordError::Busy`] or
    /// [`PasswordError::Internal`]; a bad stored hash is `Invalid`, not an error.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verification, PasswordError> {
        if hasher::too_long(password.as_bytes()) {
            return Ok(Verification::Invalid);
        }
        let secret = Secret(password.as_bytes().to_vec());
        let stored = stored.map(str::to_owned);
        self.run(move |hasher| hasher.verify(&secret.0, stored.as_deref()))
            .await
    }

    /// Like [`PasswordHasher::hash`] but on the calling thread, without the
    /// semaphore: for the CLI or code already inside `spawn_blocking`.
    pub fn hash_blocking(&self, password: &str) -> Result<String, PasswordError> {
        self.inner.hasher.hash(password.as_bytes())
    }

    /// Like [`PasswordHasher::verify`] but on the calling thread, without the
    /// semaphore: for the CLI or code already inside `spawn_blocking`.
    pub fn verify_blocking(&self, password: &str, stored: Option<&str>) -> Verification {
        self.inner.hasher.verify(password.as_bytes(), stored)
    }

    /// Runs `job` through the queue, on the blocking pool, with this hasher.
    async fn run<T, F>(&self, job: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&Hasher) -> T + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        self.inner.queue.run(move || job(&inner.hasher)).await
    }
}

/// A copy of a password handed to the blocking pool; overwritten on drop
/// (best effort: without a zeroize dependency the compiler is only asked,
/// through `black_box`, not to elide the writes).
struct Secret(Vec<u8>);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::formats::MAX_ARGON2_MEMORY_KIB;
    use super::testing::{small, small_config, VALID_CURRENT};
    use super::*;

    #[test]
    fn config_is_validated() {
        let bad =
            |c: HasherConfig| matches!(PasswordHasher::new(c), Err(PasswordError::Internal(_)));
        assert!(bad(HasherConfig {
            concurrency: 0,
            ..small_config()
        }));
        assert!(bad(HasherConfig {
            memory_kib: 8,
            parallelism: 2,
            ..small_config()
        }));
        assert!(bad(HasherConfig {
            iterations: 0,
            ..small_config()
        }));
        assert!(bad(HasherConfig {
            iterations: 21,
            ..small_config()
        }));
        assert!(bad(HasherConfig {
            parallelism: 17,
            memory_kib: 1024,
            ..small_config()
        }));
        assert!(bad(HasherConfig {
            memory_kib: MAX_ARGON2_MEMORY_KIB + 1,
            ..small_config()
        }));
        let d = HasherConfig::default();
        assert!(d.concurrency >= 1);
        assert_eq!(
            (d.max_waiting, d.memory_kib, d.iterations, d.parallelism),
            (256, 19_456, 2, 1)
        );
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let h = small();
        let shown = format!("{h:?}");
        assert!(shown.contains("PasswordHasher"));
        assert!(!shown.contains("argon2$"), "{shown}");
        let hash_part = h.inner.hasher.dummy.rsplit('$').next().unwrap();
        assert!(!shown.contains(hash_part));
        // Clones share state.
        let c = h.clone();
        assert!(Arc::ptr_eq(&h.inner, &c.inner));
    }

    /// Clones report one set of values, and a fresh hasher reports nothing done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stats_are_shared_by_clones() {
        let h = small();
        let fresh = h.stats();
        assert_eq!(
            (
                fresh.dummy_verifications,
                fresh.buffers_allocated,
                fresh.buffers_pooled,
                fresh.jobs_running,
                fresh.queue_depth
            ),
            (0, 0, 0, 0, 0)
        );
        let c = h.clone();
        let stored = c.hash("secret").await.unwrap();
        assert_eq!(
            c.verify("secret", Some(&stored)).await.unwrap(),
            VALID_CURRENT
        );
        assert_eq!(
            c.verify("secret", None).await.unwrap(),
            Verification::Invalid
        );
        let after = h.stats();
        assert_eq!(after, c.stats());
        assert_eq!(after.dummy_verifications, 1);
        // Jobs one after another, nothing queued: each made a buffer and freed it.
        assert_eq!((after.buffers_allocated, after.buffers_pooled), (3, 0));
        assert_eq!((after.jobs_running, after.queue_depth), (0, 0));
    }
}
