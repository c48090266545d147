//! argon2 working memory: [`BlockPool`], the reusable buffers every argon2
//! computation runs in.
//!
//! # Why it is shaped this way
//!
//! * **Hashing memory is reused, so RSS stays bounded.** argon2's working
//!   memory (`memory_kib`, 19 MiB by default) is not allocated and freed per
//!   job: glibc, once a large block has been freed, raises its mmap threshold
//!   and then keeps such buffers cached in per-thread arenas, so a login storm
//!   left hundreds of MiB resident. Instead each job borrows a buffer from a
//!   pool that holds at most [`HasherConfig::concurrency`] of them (allocated
//!   on first need) and gives it back when done; stored hashes needing no more
//!   memory than the configured parameters (including the dummy) use it too.
//!   Retained hashing memory is therefore at most `concurrency × memory_kib`.
//! * **Kept during a burst, freed after it.** A returned buffer stays pooled
//!   only while hashing demand continues (another job holds a buffer, one did
//!   when it was borrowed, or callers are queued for a permit) and the pool has
//!   room; the job that ends a burst frees its buffer, so an idle server does
//!   not keep `concurrency × memory_kib`.
//! * **Larger requests do not grow the pool.** Only stored hashes asking for
//!   MORE memory (e.g. Django's own m=102400 defaults, rehashed on their first
//!   login) allocate a temporary buffer, freed at once; on the async path that
//!   still happens inside a permit. The `_blocking` methods, which run outside
//!   the semaphore, borrow a pooled buffer when one is free and otherwise
//!   allocate one, kept by the same rule as any other.
//! * **Counted for free.** Allocations and the pooled level are relaxed
//!   atomics ([`HasherStats`]), the level updated under the lock that changes
//!   the list, so reading it takes no lock.
//!
//! [`HasherConfig::concurrency`]: super::HasherConfig::concurrency
//! [`HasherStats`]: super::HasherStats

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use argon2::Block;

use super::stats::{Counter, Gauge};

/// Reusable argon2 working memory: buffers of `buffer_blocks` blocks (the
/// configured parameters' [`argon2::Params::block_count`]), made on first need,
/// at most `capacity` of them kept.
pub(super) struct BlockPool {
    buffer_blocks: usize,
    capacity: usize,
    free: Mutex<Vec<Vec<Block>>>,
    /// Buffers lent out right now.
    in_use: Gauge,
    /// Callers queued for a hashing permit (the job queue's gauge).
    queued: Arc<Gauge>,
    /// Pool-sized buffers ever allocated.
    allocated: Counter,
    /// `free.len()`, kept beside the list so it can be read without the lock.
    pooled: Gauge,
}

impl BlockPool {
    /// `queued` is the job queue's count of waiting callers: while any wait,
    /// buffers are kept for them.
    pub(super) fn new(buffer_blocks: usize, capacity: usize, queued: Arc<Gauge>) -> Self {
        Self {
            buffer_blocks,
            capacity,
            free: Mutex::new(Vec::with_capacity(capacity)),
            in_use: Gauge::default(),
            queued,
            allocated: Counter::default(),
            pooled: Gauge::default(),
        }
    }

    /// Pool-sized buffers ever allocated.
    pub(super) fn allocated(&self) -> u64 {
        self.allocated.get()
    }

    /// Buffers sitting in the pool right now (not lent).
    pub(super) fn pooled(&self) -> usize {
        self.pooled.get()
    }

    /// Runs `f` on `needed` blocks of scratch memory (contents unspecified:
    /// argon2's first pass overwrites every block before reading it).
    ///
    /// Up to the pool's buffer size, a pooled buffer is borrowed (or, if none is
    /// free, one is allocated) and afterwards returned while logins keep
    /// coming (callers queued, or other hashes running) and the pool is not
    /// full; once the burst is over it is freed, so an idle server does not
    /// keep `concurrency` × hash memory. Larger requests get a temporary
    /// buffer, freed at once.
    pub(super) fn with_blocks<R>(&self, needed: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
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
        let still_busy = self.in_use.decrement() > 1 || others > 0 || self.queued.get() > 0;
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

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
    use argon2::{Algorithm, Argon2, Params, PasswordVerifier as _, Version};
    use rand::rngs::OsRng;

    use crate::password::testing::{
        raw_argon2id, small_config, DJANGO_ARGON2I, DJANGO_ARGON2ID, PHC_ARGON2ID,
        PHC_ARGON2ID_NO_VERSION, VALID_CURRENT, VALID_REHASH,
    };
    use crate::password::{HasherConfig, PasswordHasher, Verification};

    /// Buffers currently sitting in the pool (not borrowed).
    fn pooled_buffers(h: &PasswordHasher) -> usize {
        h.stats().buffers_pooled
    }

    /// Pool-sized buffers ever allocated by `h`.
    fn pool_allocations(h: &PasswordHasher) -> u64 {
        h.stats().buffers_allocated
    }

    /// The pooled path and the argon2 crate's own PHC hasher/verifier agree in
    /// both directions, at the test parameters and at the OWASP defaults.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pooled_hashes_interoperate_with_the_argon2_crate() {
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
                let phc = PasswordHash::new(&stored["argon2".len()..]).unwrap();
                assert!(crate_argon2.verify_password(b"pooled pw", &phc).is_ok());
                assert!(crate_argon2.verify_password(b"pooled px", &phc).is_err());
            }

            // The crate's PHC hasher -> ours, in Django's format and plain.
            let salt = SaltString::generate(&mut OsRng);
            let phc = crate_argon2
                .hash_password(b"crate pw", &salt)
                .unwrap()
                .to_string();
            let django = format!("argon2{phc}");
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
            assert_eq!(h.stats().dummy_verifications, 0);
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
        h.inner.queue.waiting.increment();
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
        h.inner.queue.waiting.decrement();
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
        assert_eq!(h.inner.queue.available_permits(), 2);

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
}
