//! The synchronous hasher: what one job does, on whatever thread runs it.
//! [`Hasher`] owns the current argon2 parameters, the dummy hash, the buffer
//! pool and the per-job counters; the async façade in `mod.rs` only decides
//! where and when its methods run.
//!
//! # Why it is shaped this way
//!
//! * **No user enumeration by timing.** An unknown user (`stored == None`), an
//!   unusable password and an unreadable stored hash all cost one argon2id
//!   verification against a dummy hash made at construction with the current
//!   parameters, so they take as long as a wrong password for a user with a
//!   current hash. The dummy is a well-formed hash with a random salt and a
//!   random output: no password matches it, verifying against it costs exactly
//!   a real verification, and building it costs nothing (no argon2 run, no
//!   hashing memory held from start-up). Each one is counted
//!   ([`HasherStats::dummy_verifications`]).
//! * **Legacy hashes cost the same.** A Django `pbkdf2_sha256` hash costs
//!   PBKDF2 (≈ 6× one argon2id check at Django 5.2's million iterations), so
//!   without more, a wrong password for an imported user is slower than one
//!   for an unknown user, and tells which accounts exist. Every failed
//!   verification therefore costs the same work: one argon2id verification
//!   (the user's, or the dummy) plus PBKDF2 up to the floor
//!   ([`HasherConfig::pbkdf2_floor`], raised to the largest count met). A
//!   success pays only its own hash: the caller knew the password.
//! * **Refused before any work.** Passwords longer than 4096 bytes (Django's
//!   cap) are refused without hashing, and without the dummy: the quick answer
//!   only tells the caller the length of the password it sent, nothing about
//!   the account.
//! * **Counted while computing.** Every hash or verify holds a
//!   [`HasherStats::jobs_running`] gauge for its duration, whichever entry
//!   point (async or `_blocking`) brought it here.
//!
//! [`HasherStats::dummy_verifications`]: super::HasherStats::dummy_verifications
//! [`HasherStats::jobs_running`]: super::HasherStats::jobs_running

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use argon2::Params;
use rand::rngs::OsRng;
use rand::RngCore as _;

use super::formats::{self, Check, OUTPUT_BYTES, SALT_BYTES};
use super::memory::BlockPool;
use super::stats::{Counter, Gauge};
use super::types::{HasherConfig, PasswordError, Verification};

/// Longest password accepted, in bytes (Django's `MAXIMUM_PASSWORD_LENGTH`).
use super::MAX_PASSWORD_BYTES;

/// Whether `password` is refused without hashing.
pub(super) fn too_long(password: &[u8]) -> bool {
    password.len() > MAX_PASSWORD_BYTES
}

/// Hashes and verifies on the calling thread.
pub(super) struct Hasher {
    params: Params,
    /// A Django-format hash no password matches, with the current parameters.
    pub(super) dummy: String,
    /// argon2 working memory for `params`, at most `concurrency` buffers.
    pub(super) memory: BlockPool,
    dummy_verifications: Counter,
    running: Gauge,
    /// PBKDF2 iterations every failed verification costs at least.
    pbkdf2_floor: AtomicU32,
}

impl Hasher {
    /// Validates the argon2 part of `config` and makes the dummy hash.
    /// `queued` is the job queue's count of waiting callers, for the pool.
    pub(super) fn new(config: &HasherConfig, queued: Arc<Gauge>) -> Result<Self, PasswordError> {
        let params = formats::new_params(config)?;
        let dummy = dummy_hash(&params)?;
        Ok(Self {
            memory: BlockPool::new(params.block_count(), config.concurrency, queued),
            params,
            dummy,
            dummy_verifications: Counter::default(),
            running: Gauge::default(),
            pbkdf2_floor: AtomicU32::new(config.pbkdf2_floor),
        })
    }

    /// Dummy verifications run so far.
    pub(super) fn dummy_verifications(&self) -> u64 {
        self.dummy_verifications.get()
    }

    /// Hash or verify jobs computing right now.
    pub(super) fn jobs_running(&self) -> usize {
        self.running.get()
    }

    pub(super) fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        if too_long(password) {
            return Err(PasswordError::TooLong);
        }
        let (_, _running) = self.running.enter();
        let mut salt = [0u8; SALT_BYTES];
        fill_random(&mut salt)?;
        formats::hash(password, &salt, &self.params, &self.memory)
    }

    pub(super) fn verify(&self, password: &[u8], stored: Option<&str>) -> Verification {
        if too_long(password) {
            return Verification::Invalid;
        }
        let (_, _running) = self.running.enter();
        let Some(stored) = stored else {
            self.run_dummy(password);
            self.pad_pbkdf2(0);
            return Verification::Invalid;
        };
        let pbkdf2 = formats::pbkdf2_iterations(stored);
        if let Some(n) = pbkdf2 {
            self.pbkdf2_floor.fetch_max(n, Ordering::Relaxed);
        }
        match formats::check(password, stored, &self.params, &self.memory) {
            Check::Match { needs_rehash } => Verification::Valid { needs_rehash },
            Check::Mismatch => {
                match pbkdf2 {
                    // The argon2id part that a pbkdf2 check lacks (not counted
                    // as a dummy verification: the user exists).
                    Some(n) => {
                        self.argon2_pad(password);
                        self.pad_pbkdf2(n);
                    }
                    None => self.pad_pbkdf2(0),
                }
                Verification::Invalid
            }
            Check::Unverifiable => {
                self.run_dummy(password);
                self.pad_pbkdf2(0);
                Verification::Invalid
            }
        }
    }

    /// The PBKDF2 floor in effect (configured, or the largest count met).
    pub(super) fn pbkdf2_floor(&self) -> u32 {
        self.pbkdf2_floor.load(Ordering::Relaxed)
    }

    /// PBKDF2 work from `spent` iterations up to the floor.
    fn pad_pbkdf2(&self, spent: u32) {
        let floor = self.pbkdf2_floor();
        if floor > spent {
            formats::burn_pbkdf2(floor - spent);
        }
    }

    /// One argon2id verification against the dummy, uncounted.
    fn argon2_pad(&self, password: &[u8]) {
        std::hint::black_box(matches!(
            formats::check(password, &self.dummy, &self.params, &self.memory),
            Check::Match { .. }
        ));
    }

    /// One argon2id verification with the current parameters, result discarded.
    fn run_dummy(&self, password: &[u8]) {
        self.dummy_verifications.increment();
        self.argon2_pad(password);
    }
}

/// A well-formed hash with `params` that no password matches: a random salt
/// and a random output.
fn dummy_hash(params: &Params) -> Result<String, PasswordError> {
    let mut salt = [0u8; SALT_BYTES];
    fill_random(&mut salt)?;
    let mut out = [0u8; OUTPUT_BYTES];
    fill_random(&mut out)?;
    Ok(formats::write_django(params, &salt, &out))
}

fn fill_random(buf: &mut [u8]) -> Result<(), PasswordError> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| PasswordError::Internal(format!("OS random number generator: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    use super::MAX_PASSWORD_BYTES;
    use crate::password::testing::{small, DJANGO_ARGON2ID, VALID_CURRENT, VALID_REHASH};
    use crate::password::{PasswordError, PasswordHasher, Verification};

    fn dummy_runs(h: &PasswordHasher) -> u64 {
        h.stats().dummy_verifications
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
            .hasher
            .dummy
            .starts_with("argon2$argon2id$v=19$m=64,t=1,p=1$"));
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
}
