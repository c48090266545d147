//! Password hashing and verification for the auth server.
//!
//! # Why it is shaped this way
//!
//! * **Django-compatible storage.** The users table may be shared with a Django
//!   application, so new hashes are written in Django's `Argon2PasswordHasher`
//!   format (`"argon2"` followed by a PHC string,
//!   `argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), which Django can
//!   verify, and the formats Django writes are accepted here:
//!   `argon2$argon2id$…` / `argon2$argon2i$…`, `pbkdf2_sha256$…` and
//!   `pbkdf2_sha1$…`. Our own older plain PHC format (`$argon2id$…`) is accepted
//!   too. Anything else (unusable `!…` passwords, unknown or malformed strings)
//!   never verifies.
//! * **Upgrade on login.** New hashes use argon2id with the OWASP parameters
//!   (19 MiB, 2 passes, 1 lane) unless configured otherwise. A successful
//!   verification reports [`Verification::Valid`] with `needs_rehash: true`
//!   whenever the stored hash is not exactly what [`PasswordHasher::hash`] would
//!   write now, so the caller can store a fresh hash while it still has the
//!   plaintext.
//! * **No user enumeration by timing.** An unknown user (`stored == None`), an
//!   unusable password and an unreadable stored hash all cost one argon2id
//!   verification against a dummy hash made at construction with the current
//!   parameters, so they take as long as a wrong password for a user with a
//!   current hash.
//! * **A poisoned row cannot take the server down.** Stored parameters are
//!   bounded before any work is done (PBKDF2 iterations ≤ 10 000 000; argon2
//!   memory ≤ 1 GiB, passes ≤ 20, lanes ≤ 16); a hash outside those bounds is
//!   treated as not verifying. Passwords longer than 4096 bytes (Django's cap)
//!   are refused without hashing.
//! * **Hashing stays off the async workers, and is bounded.** A hash costs tens
//!   of milliseconds of CPU. The async API runs each job on Tokio's blocking pool
//!   behind a semaphore of [`HasherConfig::concurrency`] permits, so a burst of
//!   logins cannot starve the workers that serve token requests; at most
//!   [`HasherConfig::max_waiting`] callers queue for a permit and the next one
//!   gets [`PasswordError::Busy`] at once (the HTTP layer answers 503). The
//!   permit moves into the blocking job, so it is held until the CPU work really
//!   ends, even if the caller's future is dropped.
//! * **Hashing memory is reused, so RSS stays bounded.** argon2's working
//!   memory (`memory_kib`, 19 MiB by default) is not allocated and freed per
//!   job: glibc, once a large block has been freed, raises its mmap threshold
//!   and then keeps such buffers cached in per-thread arenas, so a login storm
//!   left hundreds of MiB resident. Instead each job borrows a buffer from a
//!   pool that holds at most [`HasherConfig::concurrency`] of them (allocated
//!   on first need) and gives it back when done; stored hashes needing no more
//!   memory than the configured parameters (including the dummy) use it too.
//!   Retained hashing memory is therefore at most `concurrency × memory_kib`.
//!   A returned buffer stays pooled only while hashing demand continues
//!   (another job holds a buffer, one did when it was borrowed, or callers are
//!   queued for a permit) and the pool has room; the job that ends a burst
//!   frees its buffer, so an idle server does not keep `concurrency ×
//!   memory_kib`. Only stored hashes asking for MORE memory (e.g. Django's own
//!   m=102400 defaults, rehashed on their first login) allocate a temporary
//!   buffer, freed at once; on the async path that still happens inside a
//!   permit. The `_blocking` methods, which run outside the semaphore, borrow a
//!   pooled buffer when one is free and otherwise allocate one, kept by the
//!   same rule as any other.
//! * **Observable in production at negligible cost.** [`PasswordHasher::stats`]
//!   reports dummy verifications and buffer allocations (counters) and pooled
//!   buffers, running jobs and waiting callers, the hashing queue depth
//!   (gauges), named for export as Prometheus metrics. Each is one atomic
//!   updated with `Relaxed` ordering: no lock, no fence. That is also enough
//!   where a gauge drives a decision (the waiting limit, the pool's release
//!   rule): no other data is published through these values, and each decision
//!   is a single read-modify-write or load of one atomic. The tests read the
//!   same values; there are no test-only fields.
//!
//! Secrets are never logged: log lines name the kind of problem and, for
//! refused parameters, the offending numbers, never a password or a hash.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// Longest password accepted, in bytes (Django's `MAXIMUM_PASSWORD_LENGTH`).
const MAX_PASSWORD_BYTES: usize = 4096;
/// Largest PBKDF2 iteration count a stored hash may ask for.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Largest argon2 memory cost (KiB) a stored hash may ask for: 1 GiB.
const MAX_ARGON2_MEMORY_KIB: u32 = 1024 * 1024;
/// Largest argon2 pass count a stored hash may ask for.
const MAX_ARGON2_ITERATIONS: u32 = 20;
/// Largest argon2 lane count a stored hash may ask for.
const MAX_ARGON2_PARALLELISM: u32 = 16;
/// Bytes of random salt in a new hash.
const SALT_BYTES: usize = 16;
/// Bytes of argon2 output in a new hash.
const OUTPUT_BYTES: usize = 32;
/// Django's algorithm name for `Argon2PasswordHasher`; the PHC string follows.
const DJANGO_ARGON2: &str = "argon2";
/// Django marks unusable passwords with this prefix.
const UNUSABLE_PREFIX: char = '!';
/// Longest salt and output a PHC string can carry (password-hash's limits).
const PHC_MAX_BYTES: usize = 64;

/// Tuning of a [`PasswordHasher`].
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
}

impl Default for HasherConfig {
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            max_waiting: 256,
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
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
        /// configured parameters: store [`PasswordHasher::hash`] of the password.
        needs_rehash: bool,
    },
}

/// A point-in-time view of a [`PasswordHasher`]'s work, from
/// [`PasswordHasher::stats`].
///
/// Each field is read on its own (relaxed atomics, no lock), so the fields are
/// not a consistent snapshot of one instant; each is exact when the hasher is
/// idle. Counters (`*_total` when exported) only grow over the hasher's
/// lifetime; gauges go up and down. Clones of a hasher share one set of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HasherStats {
    /// Counter: timing-equalising dummy argon2 verifications run, one for each
    /// check against an unknown user (`stored == None`), an unusable (`!…`)
    /// password, or a stored hash that is unknown, malformed or beyond the
    /// parameter bounds. A rising rate means logins for unknown accounts or
    /// damaged rows. Suggested metric: `password_dummy_verifications_total`.
    pub dummy_verifications: u64,
    /// Counter: pool-sized argon2 working buffers allocated (`memory_kib` each).
    /// Temporary buffers for stored hashes asking for more memory than the
    /// configured parameters are not counted. Steady growth under steady load
    /// means the pool keeps freeing and re-making buffers. Suggested metric:
    /// `password_buffers_allocated_total`.
    pub buffers_allocated: u64,
    /// Gauge: argon2 working buffers kept in the pool right now, not lent to a
    /// job; at most [`HasherConfig::concurrency`]. Retained idle hashing memory
    /// is this times `memory_kib`. Suggested metric: `password_buffers_pooled`.
    pub buffers_pooled: usize,
    /// Gauge: hash or verify jobs computing right now, on Tokio's blocking pool
    /// or on a caller's thread (the `_blocking` methods, which bypass the
    /// concurrency limit, so this can exceed [`HasherConfig::concurrency`]).
    /// Suggested metric: `password_jobs_running`.
    pub jobs_running: usize,
    /// Gauge: callers of the async API waiting for a hashing permit right now,
    /// the hashing queue depth; at most [`HasherConfig::max_waiting`], beyond
    /// which callers get [`PasswordError::Busy`]. Suggested metric:
    /// `password_queue_depth`.
    pub queue_depth: usize,
}

/// A monotonic count (a Prometheus counter).
#[derive(Debug, Default)]
struct Counter(AtomicU64);

impl Counter {
    fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A level that goes up and down (a Prometheus gauge).
#[derive(Debug, Default)]
struct Gauge(AtomicUsize);

impl Gauge {
    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Adds one and returns the level before.
    fn increment(&self) -> usize {
        self.0.fetch_add(1, Ordering::Relaxed)
    }

    /// Subtracts one and returns the level before.
    fn decrement(&self) -> usize {
        self.0.fetch_sub(1, Ordering::Relaxed)
    }

    /// Adds one until the returned guard is dropped, however the holder
    /// leaves (return, error, panic, or a dropped future); also returns the
    /// level before.
    fn enter(&self) -> (usize, GaugeGuard<'_>) {
        (self.increment(), GaugeGuard(self))
    }
}

/// Takes back the one a [`Gauge::enter`] added.
#[must_use = "the gauge goes back down when this is dropped"]
struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.decrement();
    }
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
    params: Params,
    /// A Django-format hash of a random password with the current parameters.
    dummy: String,
    permits: Arc<Semaphore>,
    /// Callers waiting for a permit right now.
    waiting: Gauge,
    /// argon2 working memory for `params`, at most `concurrency` buffers.
    memory: BlockPool,
    dummy_verifications: Counter,
    /// Hash or verify jobs computing right now.
    running: Gauge,
}

/// Reusable argon2 working memory: buffers of `buffer_blocks` blocks (the
/// configured parameters' [`Params::block_count`]), made on first need and
/// kept, at most `capacity` of them.
struct BlockPool {
    buffer_blocks: usize,
    capacity: usize,
    free: Mutex<Vec<Vec<Block>>>,
    /// Buffers lent out right now.
    in_use: Gauge,
    /// Pool-sized buffers ever allocated.
    allocated: Counter,
    /// `free.len()`, kept beside the list so it can be read without the lock.
    pooled: Gauge,
}

/// Outcome of checking one stored string.
enum Check {
    Match {
        needs_rehash: bool,
    },
    Mismatch,
    /// Unusable, unknown, malformed or refused: no real verification happened.
    Unverifiable,
}

#[derive(Clone, Copy)]
enum Pbkdf2Digest {
    Sha256,
    Sha1,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("config", &self.inner.config)
            .field("available_permits", &self.inner.permits.available_permits())
            .field("waiting", &self.inner.waiting.get())
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
        if config.concurrency == 0 || config.concurrency > Semaphore::MAX_PERMITS {
            return Err(PasswordError::Internal(format!(
                "invalid hasher config: concurrency must be between 1 and {}",
                Semaphore::MAX_PERMITS
            )));
        }
        if config.memory_kib > MAX_ARGON2_MEMORY_KIB
            || config.iterations > MAX_ARGON2_ITERATIONS
            || config.parallelism > MAX_ARGON2_PARALLELISM
        {
            return Err(PasswordError::Internal(format!(
                "invalid hasher config: argon2 parameters must be at most \
                 m={MAX_ARGON2_MEMORY_KIB} KiB, t={MAX_ARGON2_ITERATIONS}, \
                 p={MAX_ARGON2_PARALLELISM}"
            )));
        }
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            Some(OUTPUT_BYTES),
        )
        .map_err(|e| {
            PasswordError::Internal(format!("invalid hasher config: argon2 parameters: {e}"))
        })?;

        let mut inner = Inner {
            permits: Arc::new(Semaphore::new(config.concurrency)),
            memory: BlockPool::new(params.block_count(), config.concurrency),
            config,
            params,
            dummy: String::new(),
            waiting: Gauge::default(),
            dummy_verifications: Counter::default(),
            running: Gauge::default(),
        };
        inner.dummy = inner.dummy_hash()?;
        Ok(Self {
            inner: Arc::new(inner),
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
        let inner = &*self.inner;
        HasherStats {
            dummy_verifications: inner.dummy_verifications.get(),
            buffers_allocated: inner.memory.allocated.get(),
            buffers_pooled: inner.memory.pooled.get(),
            jobs_running: inner.running.get(),
            queue_depth: inner.waiting.get(),
        }
    }

    /// Hashes `password` (argon2id, Django format) on the blocking pool.
    ///
    /// Errors: [`PasswordError::TooLong`] over 4096 bytes (checked before
    /// queueing), [`PasswordError::Busy`] when the wait queue is full,
    /// [`PasswordError::Internal`] otherwise.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        let secret = Secret(password.as_bytes().to_vec());
        self.run(move |inner| inner.hash(&secret.0)).await?
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
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(Verification::Invalid);
        }
        let secret = Secret(password.as_bytes().to_vec());
        let stored = stored.map(str::to_owned);
        self.run(move |inner| inner.verify(&secret.0, stored.as_deref()))
            .await
    }

    /// Like [`PasswordHasher::hash`] but on the calling thread, without the
    /// semaphore: for the CLI or code already inside `spawn_blocking`.
    pub fn hash_blocking(&self, password: &str) -> Result<String, PasswordError> {
        self.inner.hash(password.as_bytes())
    }

    /// Like [`PasswordHasher::verify`] but on the calling thread, without the
    /// semaphore: for the CLI or code already inside `spawn_blocking`.
    pub fn verify_blocking(&self, password: &str, stored: Option<&str>) -> Verification {
        self.inner.verify(password.as_bytes(), stored)
    }

    /// Runs `job` on the blocking pool once a permit is held; the permit is
    /// released when the job ends, even if this future was dropped meanwhile.
    async fn run<T, F>(&self, job: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> T + Send + 'static,
    {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| PasswordError::Internal("not called within a Tokio runtime".into()))?;
        let permit = self.acquire().await?;
        let inner = Arc::clone(&self.inner);
        runtime
            .spawn_blocking(move || {
                let _permit = permit;
                job(&inner)
            })
            .await
            .map_err(|e| {
                let what = if e.is_panic() {
                    "panicked"
                } else {
                    "was cancelled"
                };
                PasswordError::Internal(format!("hashing task {what}"))
            })
    }

    /// Takes a permit at once if one is free; otherwise queues as a waiter
    /// unless `max_waiting` callers already are.
    async fn acquire(&self) -> Result<OwnedSemaphorePermit, PasswordError> {
        let inner = &*self.inner;
        match Arc::clone(&inner.permits).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::NoPermits) => {}
            Err(TryAcquireError::Closed) => {
                return Err(PasswordError::Internal("semaphore closed".into()))
            }
        }
        // Goes back down on every exit: return, error, or the future being dropped.
        let (already_waiting, _waiter) = inner.waiting.enter();
        if already_waiting >= inner.config.max_waiting {
            tracing::debug!(
                max_waiting = inner.config.max_waiting,
                "password hashing queue full"
            );
            return Err(PasswordError::Busy);
        }
        Arc::clone(&inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| PasswordError::Internal("semaphore closed".into()))
    }
}

impl Inner {
    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A well-formed hash with the current parameters that no password
    /// matches: a random salt and a random output. Verifying against it costs
    /// exactly a real verification; building it costs nothing (no argon2 run,
    /// no hashing memory held from start-up).
    fn dummy_hash(&self) -> Result<String, PasswordError> {
        let mut salt = [0u8; SALT_BYTES];
        fill_random(&mut salt)?;
        let mut out = [0u8; OUTPUT_BYTES];
        fill_random(&mut out)?;
        Ok(self.format(&salt, &out))
    }

    fn format(&self, salt: &[u8], out: &[u8]) -> String {
        format!(
            "{DJANGO_ARGON2}$argon2id$v=19$m={},t={},p={}${}${}",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out),
        )
    }

    fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        let (_, _running) = self.running.enter();
        let mut salt = [0u8; SALT_BYTES];
        fill_random(&mut salt)?;
        let mut out = [0u8; OUTPUT_BYTES];
        let argon2 = self.argon2();
        self.memory
            .with_blocks(self.params.block_count(), &self.waiting, |memory| {
                argon2.hash_password_into_with_memory(password, &salt, &mut out, memory)
            })
            .map_err(|e| PasswordError::Internal(format!("argon2: {e}")))?;
        Ok(self.format(&salt, &out))
    }

    fn verify(&self, password: &[u8], stored: Option<&str>) -> Verification {
        if password.len() > MAX_PASSWORD_BYTES {
            return Verification::Invalid;
        }
        let (_, _running) = self.running.enter();
        let Some(stored) = stored else {
            self.run_dummy(password);
            return Verification::Invalid;
        };
        match self.check(password, stored) {
            Check::Match { needs_rehash } => Verification::Valid { needs_rehash },
            Check::Mismatch => Verification::Invalid,
            Check::Unverifiable => {
                self.run_dummy(password);
                Verification::Invalid
            }
        }
    }

    /// One argon2id verification with the current parameters, result discarded.
    fn run_dummy(&self, password: &[u8]) {
        self.dummy_verifications.increment();
        let dummy = &self.dummy[DJANGO_ARGON2.len()..];
        std::hint::black_box(matches!(
            self.check_argon2(password, dummy, true),
            Check::Match { .. }
        ));
    }

    fn check(&self, password: &[u8], stored: &str) -> Check {
        if stored.starts_with(UNUSABLE_PREFIX) {
            return Check::Unverifiable;
        }
        let Some((algorithm, rest)) = stored.split_once('$') else {
            tracing::debug!("stored password hash has an unknown format");
            return Check::Unverifiable;
        };
        match algorithm {
            DJANGO_ARGON2 => self.check_argon2(password, &stored[DJANGO_ARGON2.len()..], true),
            "" if rest.starts_with("argon2") => self.check_argon2(password, stored, false),
            "pbkdf2_sha256" => check_pbkdf2(Pbkdf2Digest::Sha256, password, rest),
            "pbkdf2_sha1" => check_pbkdf2(Pbkdf2Digest::Sha1, password, rest),
            _ => {
                tracing::debug!("stored password hash has an unknown format");
                Check::Unverifiable
            }
        }
    }

    /// `phc` is a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`);
    /// `django` tells whether it was stored behind Django's `argon2` prefix.
    fn check_argon2(&self, password: &[u8], phc: &str, django: bool) -> Check {
        let malformed = || {
            tracing::warn!("stored argon2 password hash is malformed");
            Check::Unverifiable
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            return malformed();
        };
        let algorithm = match parsed.algorithm.as_str() {
            "argon2id" => Algorithm::Argon2id,
            "argon2i" => Algorithm::Argon2i,
            _ => return malformed(),
        };
        // As in the reference implementation, a missing `v=` means version 0x10.
        let version = match parsed.version {
            None | Some(0x10) => Version::V0x10,
            Some(0x13) => Version::V0x13,
            Some(_) => return malformed(),
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return malformed();
        };
        if !argon2_params_acceptable(&params) {
            tracing::warn!(
                m = params.m_cost(),
                t = params.t_cost(),
                p = params.p_cost(),
                "stored argon2 password hash asks for too much work; refusing to verify"
            );
            return Check::Unverifiable;
        }
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return malformed();
        };
        let mut salt_buf = [0u8; PHC_MAX_BYTES];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return malformed();
        };
        let expected = expected.as_bytes();
        let mut actual_buf = [0u8; PHC_MAX_BYTES];
        let Some(actual) = actual_buf.get_mut(..expected.len()) else {
            return malformed();
        };
        let needs_rehash = !(django
            && algorithm == Algorithm::Argon2id
            && version == Version::V0x13
            && params.m_cost() == self.params.m_cost()
            && params.t_cost() == self.params.t_cost()
            && params.p_cost() == self.params.p_cost()
            && params.keyid().is_empty()
            && params.data().is_empty()
            && expected.len() == OUTPUT_BYTES);
        let needed = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let computed = self.memory.with_blocks(needed, &self.waiting, |memory| {
            argon2.hash_password_into_with_memory(password, salt, &mut *actual, memory)
        });
        if computed.is_err() {
            return malformed();
        }
        if bool::from(actual.ct_eq(expected)) {
            Check::Match { needs_rehash }
        } else {
            Check::Mismatch
        }
    }
}

impl BlockPool {
    fn new(buffer_blocks: usize, capacity: usize) -> Self {
        Self {
            buffer_blocks,
            capacity,
            free: Mutex::new(Vec::with_capacity(capacity)),
            in_use: Gauge::default(),
            allocated: Counter::default(),
            pooled: Gauge::default(),
        }
    }

    /// Runs `f` on `needed` blocks of scratch memory (contents unspecified:
    /// argon2's first pass overwrites every block before reading it).
    ///
    /// Up to the pool's buffer size, a pooled buffer is borrowed (or, if none is
    /// free, one is allocated) and afterwards returned while logins keep
    /// coming (`waiting` callers queued, or other hashes running) and the pool
    /// is not full; once the burst is over it is freed, so an idle server does
    /// not keep `concurrency` × hash memory. Larger requests get a temporary
    /// buffer, freed at once.
    fn with_blocks<R>(
        &self,
        needed: usize,
        waiting: &Gauge,
        f: impl FnOnce(&mut [Block]) -> R,
    ) -> R {
        if needed > self.buffer_blocks {
            let mut temporary = vec![Block::new(); needed];
            return f(&mut temporary);
        }
        // Allocate (if need be) only after the lock is released.
        let pooled = self.take();
        let others = self.in_use.increment();
        let mut buffer = pooled.unwrap_or_else(|| {
            self.allocated.increment();
            vec![Block::new(); self.buffer_blocks]
        });
        let result = f(&mut buffer[..needed]);
        let still_busy = self.in_use.decrement() > 1 || others > 0 || waiting.get() > 0;
        let mut free = self.lock();
        if still_busy && free.len() < self.capacity {
            free.push(buffer);
            self.pooled.increment();
            drop(free);
        } else {
            // Free the surplus buffer outside the lock.
            drop(free);
            drop(buffer);
        }
        result
    }

    /// A pooled buffer, if one is free.
    fn take(&self) -> Option<Vec<Block>> {
        let mut free = self.lock();
        let buffer = free.pop()?;
        self.pooled.decrement();
        Some(buffer)
    }

    /// The lock is never held while hashing, so a panic cannot poison it in a
    /// way that matters; recover the list regardless.
    fn lock(&self) -> MutexGuard<'_, Vec<Vec<Block>>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether stored argon2 parameters are within what we are willing to compute.
fn argon2_params_acceptable(params: &Params) -> bool {
    params.m_cost() <= MAX_ARGON2_MEMORY_KIB
        && params.t_cost() <= MAX_ARGON2_ITERATIONS
        && params.p_cost() <= MAX_ARGON2_PARALLELISM
}

/// `rest` is what follows `pbkdf2_sha256$`: `<iterations>$<salt>$<base64 hash>`.
/// Like Django, re-encodes with the stored salt and iterations and compares the
/// base64 text in constant time.
fn check_pbkdf2(digest: Pbkdf2Digest, password: &[u8], rest: &str) -> Check {
    let malformed = || {
        tracing::warn!("stored pbkdf2 password hash is malformed");
        Check::Unverifiable
    };
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
    else {
        return malformed();
    };
    // Django writes the count with `%d`: plain digits, no sign, no leading zero.
    if iterations.is_empty()
        || iterations.starts_with('0')
        || !iterations.bytes().all(|b| b.is_ascii_digit())
    {
        return malformed();
    }
    let iterations = match iterations.parse::<u32>() {
        Ok(n) if n <= MAX_PBKDF2_ITERATIONS => n,
        _ => {
            tracing::warn!(
                max = MAX_PBKDF2_ITERATIONS,
                "stored pbkdf2 password hash asks for too many iterations; refusing to verify"
            );
            return Check::Unverifiable;
        }
    };
    // Django uses the digest's own length: 32 bytes for SHA-256, 20 for SHA-1.
    let mut buf = [0u8; 32];
    let salt = salt.as_bytes();
    let derived = match digest {
        Pbkdf2Digest::Sha256 => {
            let out = &mut buf[..32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out);
            out
        }
        Pbkdf2Digest::Sha1 => {
            let out = &mut buf[..20];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, out);
            out
        }
    };
    let encoded = STANDARD.encode(derived);
    if bool::from(encoded.as_bytes().ct_eq(expected.as_bytes())) {
        Check::Match { needs_rehash: true }
    } else {
        Check::Mismatch
    }
}

fn fill_random(buf: &mut [u8]) -> Result<(), PasswordError> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| PasswordError::Internal(format!("OS random number generator: {e}")))
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
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicBool;
    use std::task::Poll;
    use std::time::{Duration, Instant};

    const DJANGO_PBKDF2_SHA256: [&str; 3] = [
        "pbkdf2_sha256$720000$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
        "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$tW94pSigUM2AlIkWSQO4yVeVgz1Hy8/tw6HFhR010Gk=",
        "pbkdf2_sha256$1500000$abcdefghijklmnopqrstuv$r43I08ZBAs6/b1pLXDFtfPOgFDdhiP8EQIpzH21sqS4=",
    ];
    /// Python `hashlib.pbkdf2_hmac('sha1', b'secret', b'abcdefghijklmnopqrstuv', 260000)`.
    const DJANGO_PBKDF2_SHA1: &str =
        "pbkdf2_sha1$260000$abcdefghijklmnopqrstuv$6GvV42I1VFG+kZUe6uAev+W44UI=";
    /// Django's Argon2PasswordHasher defaults (argon2-cffi output behind `argon2`).
    const DJANGO_ARGON2ID: &str = "argon2$argon2id$v=19$m=102400,t=2,p=8$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM";
    /// argon2-cffi `hash_secret(b'secret', salt, t=2, m=1024, p=2, type=I)`.
    const DJANGO_ARGON2I: &str = "argon2$argon2i$v=19$m=1024,t=2,p=2$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$vw0c51Zioqw9BJlofAxomsXClo/SjTdA0O+DKKjp7YY";
    /// argon2-cffi, plain PHC, t=1, m=64, p=1.
    const PHC_ARGON2ID: &str = "$argon2id$v=19$m=64,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$F2IaUWeojMcay8K6OnwnM/77rE1rFcLcfQXq1e+0erA";
    /// argon2-cffi, version 0x10 written without `v=` (verified by argon2-cffi).
    const PHC_ARGON2ID_NO_VERSION: &str = "$argon2id$m=64,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$KjO8mpHu6zKfl4tropLLtb8QmNbd5JgWv1uUWQqkxN8";

    const VALID_REHASH: Verification = Verification::Valid { needs_rehash: true };
    const VALID_CURRENT: Verification = Verification::Valid {
        needs_rehash: false,
    };

    fn small_config() -> HasherConfig {
        HasherConfig {
            concurrency: 2,
            max_waiting: 16,
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn small() -> PasswordHasher {
        PasswordHasher::new(small_config()).expect("small config is valid")
    }

    fn dummy_runs(h: &PasswordHasher) -> u64 {
        h.stats().dummy_verifications
    }

    fn waiting(h: &PasswordHasher) -> usize {
        h.stats().queue_depth
    }

    /// Buffers currently sitting in the pool (not borrowed).
    fn pooled_buffers(h: &PasswordHasher) -> usize {
        h.stats().buffers_pooled
    }

    /// Pool-sized buffers ever allocated by `h`.
    fn pool_allocations(h: &PasswordHasher) -> u64 {
        h.stats().buffers_allocated
    }

    /// Polls `fut` exactly once.
    async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
    }

    /// A Django-format argon2id hash of `password` with arbitrary (unchecked) params.
    fn raw_argon2id(password: &[u8], m: u32, t: u32, p: u32) -> String {
        let salt = b"abcdefghijklmnopqrstuv";
        let mut out = [0u8; 32];
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(m, t, p, Some(32)).unwrap(),
        )
        .hash_password_into(password, salt, &mut out)
        .unwrap();
        format!(
            "argon2$argon2id$v=19$m={m},t={t},p={p}${}${}",
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out)
        )
    }

    #[test]
    fn django_pbkdf2_sha256_vectors() {
        let h = small();
        for stored in DJANGO_PBKDF2_SHA256 {
            assert_eq!(
                h.verify_blocking("secret", Some(stored)),
                VALID_REHASH,
                "{stored}"
            );
            assert_eq!(
                h.verify_blocking("secret2", Some(stored)),
                Verification::Invalid
            );
            assert_eq!(
                h.verify_blocking("Secret", Some(stored)),
                Verification::Invalid
            );
        }
        // A mismatch on a well-formed hash is a real verification, not the dummy.
        assert_eq!(dummy_runs(&h), 0);
    }

    #[test]
    fn django_pbkdf2_sha1_vector() {
        let h = small();
        assert_eq!(
            h.verify_blocking("secret", Some(DJANGO_PBKDF2_SHA1)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(DJANGO_PBKDF2_SHA1)),
            Verification::Invalid
        );
        // The same digest under the other algorithm name must not verify.
        let renamed = DJANGO_PBKDF2_SHA1.replacen("pbkdf2_sha1", "pbkdf2_sha256", 1);
        assert_eq!(
            h.verify_blocking("secret", Some(&renamed)),
            Verification::Invalid
        );
    }

    #[test]
    fn django_argon2id_vector() {
        let h = small();
        assert_eq!(
            h.verify_blocking("secret", Some(DJANGO_ARGON2ID)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(DJANGO_ARGON2ID)),
            Verification::Invalid
        );
        // Django's parameters differ from the OWASP defaults, so it needs a rehash
        // even for a hasher with default settings.
        let defaults = PasswordHasher::new(HasherConfig::default()).unwrap();
        assert_eq!(
            defaults.verify_blocking("secret", Some(DJANGO_ARGON2ID)),
            VALID_REHASH
        );
    }

    #[test]
    fn django_argon2i_vector() {
        let h = small();
        assert_eq!(
            h.verify_blocking("secret", Some(DJANGO_ARGON2I)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(DJANGO_ARGON2I)),
            Verification::Invalid
        );
    }

    #[test]
    fn plain_phc_argon2id_is_accepted_and_upgraded() {
        let h = small();
        // Same params as the hasher, but the old plain format: rehash to Django's.
        assert_eq!(
            h.verify_blocking("secret", Some(PHC_ARGON2ID)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(PHC_ARGON2ID)),
            Verification::Invalid
        );
        assert_eq!(
            h.verify_blocking("secret", Some(PHC_ARGON2ID_NO_VERSION)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(PHC_ARGON2ID_NO_VERSION)),
            Verification::Invalid
        );
        // Our own fresh hash with the Django prefix stripped.
        let fresh = h.hash_blocking("pw").unwrap();
        let plain = fresh.strip_prefix("argon2").unwrap();
        assert_eq!(h.verify_blocking("pw", Some(plain)), VALID_REHASH);
        assert_eq!(h.verify_blocking("pw", Some(&fresh)), VALID_CURRENT);
    }

    #[test]
    fn fresh_hash_with_default_params() {
        let h = PasswordHasher::new(HasherConfig::default()).unwrap();
        assert!(h.config().concurrency >= 1);
        let stored = h.hash_blocking("correct horse").unwrap();
        assert!(
            stored.starts_with("argon2$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected prefix"
        );
        assert_eq!(
            h.verify_blocking("correct horse", Some(&stored)),
            VALID_CURRENT
        );
        assert_eq!(
            h.verify_blocking("correct horse ", Some(&stored)),
            Verification::Invalid
        );
        // 16-byte salt, 32-byte output, standard alphabet without padding.
        let segments: Vec<&str> = stored.split('$').collect();
        assert_eq!(segments.len(), 6);
        assert_eq!(STANDARD_NO_PAD.decode(segments[4]).unwrap().len(), 16);
        assert_eq!(STANDARD_NO_PAD.decode(segments[5]).unwrap().len(), 32);
        // Cross-check with the argon2 crate's own PHC verifier.
        use argon2::PasswordVerifier as _;
        let phc = PasswordHash::new(&stored["argon2".len()..]).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &phc)
            .is_ok());
        assert!(Argon2::default().verify_password(b"wrong", &phc).is_err());
    }

    /// The pooled path and the argon2 crate's own PHC hasher/verifier agree in
    /// both directions, at the test parameters and at the OWASP defaults.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pooled_hashes_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, SaltString};
        use argon2::PasswordVerifier as _;
        for config in [small_config(), HasherConfig::default()] {
            let h = PasswordHasher::new(config.clone()).unwrap();
            let params = Params::new(
                config.memory_kib,
                config.iterations,
                config.parallelism,
                None,
            )
            .unwrap();
            let crate_argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);

            // Ours -> the crate's verifier (which allocates its own memory).
            for stored in [
                h.hash("pooled pw").await.unwrap(),
                h.hash_blocking("pooled pw").unwrap(),
            ] {
                let phc = PasswordHash::new(&stored[DJANGO_ARGON2.len()..]).unwrap();
                assert!(crate_argon2.verify_password(b"pooled pw", &phc).is_ok());
                assert!(crate_argon2.verify_password(b"pooled px", &phc).is_err());
            }

            // The crate's PHC hasher -> ours, in Django's format and plain.
            let salt = SaltString::generate(&mut OsRng);
            let phc = crate_argon2
                .hash_password(b"crate pw", &salt)
                .unwrap()
                .to_string();
            let django = format!("{DJANGO_ARGON2}{phc}");
            assert!(django.starts_with(&format!(
                "argon2$argon2id$v=19$m={},t={},p={}$",
                config.memory_kib, config.iterations, config.parallelism
            )));
            assert_eq!(
                h.verify("crate pw", Some(&django)).await.unwrap(),
                VALID_CURRENT
            );
            assert_eq!(h.verify_blocking("crate pw", Some(&django)), VALID_CURRENT);
            assert_eq!(
                h.verify("crate px", Some(&django)).await.unwrap(),
                Verification::Invalid
            );
            assert_eq!(h.verify_blocking("crate pw", Some(&phc)), VALID_REHASH);
            assert_eq!(dummy_runs(&h), 0);
            // Jobs ran one after another with nothing queued: an idle hasher
            // keeps no buffer.
            assert_eq!(pooled_buffers(&h), 0);
        }
    }

    /// Buffer reuse must not leak state between jobs, whatever ran before:
    /// different passwords, algorithms, versions, lane counts and smaller
    /// memory costs all share the pooled buffer.
    #[test]
    fn reused_buffers_give_the_same_answers() {
        let h = PasswordHasher::new(HasherConfig {
            concurrency: 1,
            memory_kib: 1024,
            ..small_config()
        })
        .unwrap();
        let smaller_t2 = raw_argon2id(b"secret", 512, 2, 1);
        let smaller_p4 = raw_argon2id(b"secret", 256, 1, 4);
        // A login queued throughout (as in a burst) keeps the buffer pooled,
        // so one buffer serves every job below.
        h.inner.waiting.increment();
        let allocated_before = pool_allocations(&h);
        let own = h.hash_blocking("secret").unwrap();
        for _ in 0..3 {
            for stored in [
                DJANGO_ARGON2I,
                PHC_ARGON2ID,
                PHC_ARGON2ID_NO_VERSION,
                &smaller_t2,
                &smaller_p4,
            ] {
                assert_eq!(h.verify_blocking("secret", Some(stored)), VALID_REHASH);
                assert_eq!(
                    h.verify_blocking("secret2", Some(stored)),
                    Verification::Invalid
                );
            }
            assert_eq!(h.verify_blocking("secret", Some(&own)), VALID_CURRENT);
            assert_eq!(h.verify_blocking("secret", None), Verification::Invalid);
        }
        // Larger than the pooled buffer: a temporary one, the pool is untouched.
        assert_eq!(
            h.verify_blocking("secret", Some(DJANGO_ARGON2ID)),
            VALID_REHASH
        );
        assert_eq!(pool_allocations(&h) - allocated_before, 1);
        assert_eq!(pooled_buffers(&h), 1);
        // Once nothing is queued, the next job frees the buffer after use.
        h.inner.waiting.decrement();
        assert_eq!(h.verify_blocking("secret", Some(&own)), VALID_CURRENT);
        assert_eq!(pooled_buffers(&h), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn pool_never_holds_more_buffers_than_permits() {
        let h = PasswordHasher::new(HasherConfig {
            concurrency: 2,
            max_waiting: 1024,
            ..small_config()
        })
        .unwrap();
        // Construction runs no hash and allocates no buffer.
        assert_eq!((pool_allocations(&h), pooled_buffers(&h)), (0, 0));
        let stored = h.hash("secret").await.unwrap();
        let bigger = raw_argon2id(b"secret", 256, 1, 1);
        let mut jobs = tokio::task::JoinSet::new();
        for i in 0..200 {
            let h = h.clone();
            let stored = stored.clone();
            let bigger = bigger.clone();
            jobs.spawn(async move {
                match i % 5 {
                    0 => h.verify("secret", Some(&stored)).await.unwrap() == VALID_CURRENT,
                    1 => h.verify("wrong", Some(&stored)).await.unwrap() == Verification::Invalid,
                    2 => h.verify("secret", None).await.unwrap() == Verification::Invalid,
                    3 => h.verify("secret", Some(&bigger)).await.unwrap() == VALID_REHASH,
                    _ => h.hash("secret").await.is_ok(),
                }
            });
        }
        while let Some(ok) = jobs.join_next().await {
            assert!(ok.unwrap());
        }
        // Jobs queued behind two permits reused pooled buffers instead of
        // allocating one each, and the pool never keeps more than two.
        let made = pool_allocations(&h);
        assert!(made < 40, "{made} buffers allocated for 201 jobs");
        assert!(pooled_buffers(&h) <= 2);
        assert_eq!(h.inner.permits.available_permits(), 2);

        // Blocking callers bypass the semaphore and may allocate extra buffers,
        // but the pool keeps no more than `concurrency` of them.
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..10 {
                        assert_eq!(h.verify_blocking("secret", Some(&stored)), VALID_CURRENT);
                    }
                });
            }
        });
        let kept = pooled_buffers(&h);
        assert!(kept <= 2, "{kept} buffers kept");
    }

    #[test]
    fn hashes_are_salted() {
        let h = small();
        let a = h.hash_blocking("same").unwrap();
        let b = h.hash_blocking("same").unwrap();
        assert_ne!(a, b);
        assert_eq!(h.verify_blocking("same", Some(&a)), VALID_CURRENT);
        assert_eq!(h.verify_blocking("same", Some(&b)), VALID_CURRENT);
    }

    #[test]
    fn empty_password_can_be_hashed_and_verified() {
        let h = small();
        let stored = h.hash_blocking("").unwrap();
        assert_eq!(h.verify_blocking("", Some(&stored)), VALID_CURRENT);
        assert_eq!(h.verify_blocking(" ", Some(&stored)), Verification::Invalid);
    }

    #[test]
    fn changed_params_need_rehash() {
        let old = small();
        let stored = old.hash_blocking("pw").unwrap();
        let new = PasswordHasher::new(HasherConfig {
            memory_kib: 128,
            ..small_config()
        })
        .unwrap();
        assert_eq!(new.verify_blocking("pw", Some(&stored)), VALID_REHASH);
        assert_eq!(
            new.verify_blocking("px", Some(&stored)),
            Verification::Invalid
        );
        let t_changed = PasswordHasher::new(HasherConfig {
            iterations: 2,
            ..small_config()
        })
        .unwrap();
        assert_eq!(t_changed.verify_blocking("pw", Some(&stored)), VALID_REHASH);
    }

    #[test]
    fn unusable_unknown_and_malformed_never_verify() {
        let h = small();
        let valid_pbkdf2 = DJANGO_PBKDF2_SHA256[0];
        let unusable_wrapping_valid = format!("!{valid_pbkdf2}");
        let plain_unusable_argon = format!("!{}", &DJANGO_ARGON2I["argon2".len()..]);
        let argon2d = DJANGO_ARGON2I.replacen("argon2i", "argon2d", 1);
        let bad_version = DJANGO_ARGON2I.replacen("v=19", "v=18", 1);
        let leading_zero = valid_pbkdf2.replacen("$720000$", "$0720000$", 1);
        let plus_sign = valid_pbkdf2.replacen("$720000$", "$+720000$", 1);
        let no_prefix_dollar = &DJANGO_ARGON2I["argon2$".len()..]; // "argon2i$v=19$..."
        let cases: Vec<&str> = vec![
            "!abc",
            "!",
            &unusable_wrapping_valid,
            &plain_unusable_argon,
            "",
            "garbage",
            "$",
            "$$$$",
            "argon2",
            "argon2$",
            "argon2$argon2id$",
            "argon2$argon2id$v=19$m=64,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg",
            "argon2$argon2id$v=19$m=64,t=1,p=1$YWJj$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM",
            "argon2$argon2id$v=19$m=64,t=1,p=1,x=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM",
            "argon2$argon2id$v=19$m=1,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM",
            &argon2d,
            &bad_version,
            no_prefix_dollar,
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "bcrypt_sha256$$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "md5$salt$0123456789abcdef0123456789abcdef",
            "pbkdf2_sha256$",
            "pbkdf2_sha256$720000",
            "pbkdf2_sha256$720000$abcdefghijklmnopqrstuv",
            "pbkdf2_sha256$abc$salt$hash",
            "pbkdf2_sha256$0$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
            "pbkdf2_sha256$-1$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
            "pbkdf2_sha256$99999999999999999999$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
            &leading_zero,
            &plus_sign,
        ];
        for (i, stored) in cases.iter().enumerate() {
            let before = dummy_runs(&h);
            for password in ["secret", "", "!abc", stored] {
                assert_eq!(
                    h.verify_blocking(password, Some(stored)),
                    Verification::Invalid,
                    "case {i}"
                );
            }
            // Each refusal still paid for one dummy verification.
            assert_eq!(
                dummy_runs(&h),
                before + 4,
                "case {i} skipped the dummy hash"
            );
        }
    }

    #[test]
    fn absurd_pbkdf2_iterations_are_refused_quickly() {
        let h = small();
        let stored = "pbkdf2_sha256$50000000$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=";
        let started = Instant::now();
        assert_eq!(
            h.verify_blocking("secret", Some(stored)),
            Verification::Invalid
        );
        // 50 million iterations would take tens of seconds; the dummy takes ~nothing.
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(dummy_runs(&h), 1);
        let over = "pbkdf2_sha256$10000001$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=";
        assert_eq!(
            h.verify_blocking("secret", Some(over)),
            Verification::Invalid
        );
        assert_eq!(dummy_runs(&h), 2);
    }

    #[test]
    fn absurd_argon2_params_are_refused_even_when_correct() {
        let h = small();
        // Within bounds, a correctly computed hash verifies...
        let t20 = raw_argon2id(b"secret", 64, 20, 1);
        assert_eq!(h.verify_blocking("secret", Some(&t20)), VALID_REHASH);
        let p16 = raw_argon2id(b"secret", 128, 1, 16);
        assert_eq!(h.verify_blocking("secret", Some(&p16)), VALID_REHASH);
        assert_eq!(dummy_runs(&h), 0);
        // ...one step beyond, the same kind of correct hash is refused.
        let t21 = raw_argon2id(b"secret", 64, 21, 1);
        assert_eq!(
            h.verify_blocking("secret", Some(&t21)),
            Verification::Invalid
        );
        let p17 = raw_argon2id(b"secret", 136, 1, 17);
        assert_eq!(
            h.verify_blocking("secret", Some(&p17)),
            Verification::Invalid
        );
        assert_eq!(dummy_runs(&h), 2);
        // Memory: 1 GiB is the last accepted value; 4 GiB is refused before any
        // allocation (computing it would take minutes).
        assert!(argon2_params_acceptable(
            &Params::new(1 << 20, 20, 16, None).unwrap()
        ));
        assert!(!argon2_params_acceptable(
            &Params::new((1 << 20) + 1, 1, 1, None).unwrap()
        ));
        let huge = "argon2$argon2id$v=19$m=4194304,t=20,p=16$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM";
        let started = Instant::now();
        assert_eq!(
            h.verify_blocking("secret", Some(huge)),
            Verification::Invalid
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(dummy_runs(&h), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn too_long_password() {
        let h = small();
        let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
        let max = "a".repeat(MAX_PASSWORD_BYTES);
        assert!(matches!(h.hash(&long).await, Err(PasswordError::TooLong)));
        assert!(matches!(
            h.hash_blocking(&long),
            Err(PasswordError::TooLong)
        ));
        assert!(h.hash(&max).await.is_ok());
        // Correct hashes of both, made outside the hasher: only the 4096-byte one verifies.
        let pbkdf2_of = |pw: &str| {
            let mut dk = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw.as_bytes(), b"salt", 1, &mut dk);
            format!("pbkdf2_sha256$1$salt${}", STANDARD.encode(dk))
        };
        let stored_long = pbkdf2_of(&long);
        let stored_max = pbkdf2_of(&max);
        assert_eq!(h.verify_blocking(&max, Some(&stored_max)), VALID_REHASH);
        assert_eq!(
            h.verify(&max, Some(&stored_max)).await.unwrap(),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking(&long, Some(&stored_long)),
            Verification::Invalid
        );
        assert_eq!(
            h.verify(&long, Some(&stored_long)).await.unwrap(),
            Verification::Invalid
        );
        // Refused without hashing: no dummy either. Multi-byte chars count as bytes.
        assert_eq!(h.verify(&long, None).await.unwrap(), Verification::Invalid);
        assert_eq!(dummy_runs(&h), 0);
        let multibyte = "é".repeat(2049); // 4098 bytes, 2049 chars
        assert!(matches!(
            h.hash(&multibyte).await,
            Err(PasswordError::TooLong)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_user_runs_the_dummy_hash() {
        let h = small();
        assert_eq!(
            h.verify("secret", None).await.unwrap(),
            Verification::Invalid
        );
        assert_eq!(h.verify_blocking("secret", None), Verification::Invalid);
        assert_eq!(dummy_runs(&h), 2);
        // A wrong password for a current hash costs one real verification, no dummy.
        let stored = h.hash("secret").await.unwrap();
        assert_eq!(
            h.verify("secret2", Some(&stored)).await.unwrap(),
            Verification::Invalid
        );
        assert_eq!(
            h.verify("secret", Some(&stored)).await.unwrap(),
            VALID_CURRENT
        );
        assert_eq!(dummy_runs(&h), 2);
        // The dummy uses the current parameters.
        assert!(h
            .inner
            .dummy
            .starts_with("argon2$argon2id$v=19$m=64,t=1,p=1$"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn busy_when_wait_queue_is_full() {
        let h = PasswordHasher::new(HasherConfig {
            concurrency: 1,
            max_waiting: 1,
            ..small_config()
        })
        .unwrap();
        // Occupy the only permit, as a running hash would.
        let held = Arc::clone(&h.inner.permits).try_acquire_owned().unwrap();
        let mut first = Box::pin(h.verify("secret", None));
        assert!(poll_once(&mut first).await.is_pending());
        assert_eq!(waiting(&h), 1);
        let mut second = Box::pin(h.verify("secret", None));
        assert!(matches!(
            poll_once(&mut second).await,
            Poll::Ready(Err(PasswordError::Busy))
        ));
        assert!(matches!(h.hash("x").await, Err(PasswordError::Busy)));
        assert_eq!(waiting(&h), 1);
        drop(held);
        assert_eq!(first.await.unwrap(), Verification::Invalid);
        assert_eq!(waiting(&h), 0);
        assert_eq!(h.inner.permits.available_permits(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_waiter_leaves_the_queue() {
        let h = PasswordHasher::new(HasherConfig {
            concurrency: 1,
            max_waiting: 2,
            ..small_config()
        })
        .unwrap();
        let held = Arc::clone(&h.inner.permits).try_acquire_owned().unwrap();
        let mut a = Box::pin(h.verify("secret", None));
        let mut b = Box::pin(h.hash("secret"));
        assert!(poll_once(&mut a).await.is_pending());
        assert!(poll_once(&mut b).await.is_pending());
        assert_eq!(waiting(&h), 2);
        drop(b);
        assert_eq!(waiting(&h), 1);
        drop(a);
        assert_eq!(waiting(&h), 0);
        drop(held);
        assert_eq!(h.inner.permits.available_permits(), 1);
        // The queue is usable again after the cancellations.
        assert_eq!(
            h.verify("secret", None).await.unwrap(),
            Verification::Invalid
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn burst_with_no_queue_gets_busy() {
        // Default (OWASP) parameters so each job lasts long enough to overlap.
        let h = PasswordHasher::new(HasherConfig {
            concurrency: 1,
            max_waiting: 0,
            ..HasherConfig::default()
        })
        .unwrap();
        let stored = h.hash_blocking("secret").unwrap();
        let (a, b, c, d, e) = tokio::join!(
            h.verify("secret", Some(&stored)),
            h.verify("secret", Some(&stored)),
            h.verify("wrong", Some(&stored)),
            h.verify("secret", None),
            h.hash("secret"),
        );
        let verifies = [a, b, c, d];
        let busy = verifies
            .iter()
            .filter(|r| matches!(r, Err(PasswordError::Busy)))
            .count()
            + usize::from(matches!(e, Err(PasswordError::Busy)));
        assert!(busy >= 1, "expected at least one Busy");
        assert!(busy <= 4, "the first caller must get the permit");
        // Whatever was not refused got a correct answer.
        for (r, expected) in verifies.iter().zip([
            VALID_CURRENT,
            VALID_CURRENT,
            Verification::Invalid,
            Verification::Invalid,
        ]) {
            if let Ok(v) = r {
                assert_eq!(*v, expected);
            }
        }
        assert_eq!(waiting(&h), 0);
        assert_eq!(h.inner.permits.available_permits(), 1);
    }

    /// `#[tokio::test]` is a current-thread runtime: if hashing ran inline, the
    /// other branch of `join!` could not make progress until it finished.
    #[tokio::test]
    async fn async_api_runs_on_the_blocking_pool() {
        let h = PasswordHasher::new(HasherConfig::default()).unwrap();
        let stored = h.hash("secret").await.unwrap();
        let done = AtomicBool::new(false);
        let mut ticks = 0u64;
        let (result, ()) = tokio::join!(
            async {
                let r = h.verify("secret", Some(&stored)).await;
                done.store(true, Ordering::SeqCst);
                r
            },
            async {
                while !done.load(Ordering::SeqCst) {
                    ticks += 1;
                    tokio::task::yield_now().await;
                }
            },
        );
        assert_eq!(result.unwrap(), VALID_CURRENT);
        assert!(ticks > 0, "the runtime thread was blocked during hashing");
    }

    #[test]
    fn async_api_outside_a_runtime_is_an_error_not_a_panic() {
        let h = small();
        let fut = h.verify("secret", None);
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: Arc<Self>) {}
        }
        let waker = std::task::Waker::from(Arc::new(Noop));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut fut = Box::pin(fut);
        assert!(matches!(
            fut.as_mut().poll(&mut cx),
            Poll::Ready(Err(PasswordError::Internal(_)))
        ));
    }

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
        let hash_part = h.inner.dummy.rsplit('$').next().unwrap();
        assert!(!shown.contains(hash_part));
        // Clones share state.
        let c = h.clone();
        assert!(Arc::ptr_eq(&h.inner, &c.inner));
    }

    /// The gauge is up while a job computes, on the caller's thread too, and
    /// down again afterwards.
    #[test]
    fn jobs_running_counts_work_in_progress() {
        let h = small();
        assert_eq!(h.stats().jobs_running, 0);
        let stop = AtomicBool::new(false);
        let observed = std::thread::scope(|s| {
            s.spawn(|| {
                // Django's m=102400 hash: long enough to be observed.
                while !stop.load(Ordering::SeqCst) {
                    assert_eq!(
                        h.verify_blocking("secret", Some(DJANGO_ARGON2ID)),
                        VALID_REHASH
                    );
                }
            });
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut observed = false;
            while !observed && Instant::now() < deadline {
                observed = h.stats().jobs_running == 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            // Stops the worker whatever happened, so a failure cannot hang.
            stop.store(true, Ordering::SeqCst);
            observed
        });
        assert!(observed, "no running job observed");
        assert_eq!(h.stats().jobs_running, 0);
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

    #[test]
    fn counter_counts() {
        let c = Counter::default();
        assert_eq!(c.get(), 0);
        c.increment();
        c.increment();
        assert_eq!(c.get(), 2);
    }

    #[test]
    fn gauge_guard_gives_back_on_every_exit() {
        let g = Gauge::default();
        let (before, outer) = g.enter();
        assert_eq!((before, g.get()), (0, 1));
        let unwound = std::panic::catch_unwind(|| {
            let (before, _inner) = g.enter();
            assert_eq!(before, 1);
            panic!("job panicked");
        });
        assert!(unwound.is_err());
        assert_eq!(g.get(), 1);
        drop(outer);
        assert_eq!(g.get(), 0);
        assert_eq!(g.increment(), 0);
        assert_eq!(g.decrement(), 1);
        assert_eq!(g.get(), 0);
    }
}
