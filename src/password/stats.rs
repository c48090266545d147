//! What the hasher reports about itself: the public [`HasherStats`] snapshot
//! and the two kinds of atomic behind it.
//!
//! # Why it is shaped this way
//!
//! * **Observability is production code, read by tests too.** The counters
//!   are always present, in every build, and the tests assert on
//!   [`PasswordHasher::stats`](super::PasswordHasher::stats) like an operator
//!   would; there are no test-only fields in the working structs. The fields
//!   are named for export as Prometheus metrics: [`Counter`]s only grow
//!   (`*_total` metrics), [`Gauge`]s are a current level (the hashing queue
//!   depth among them).
//! * **Negligible cost.** Each value is one atomic updated with `Relaxed`
//!   ordering: no lock, no fence. That is also enough where a gauge drives a
//!   decision (the waiting limit, the buffer pool's release rule): no other
//!   data is published through these values, and every decision is a single
//!   read-modify-write or load of one atomic, whose own modification order
//!   `Relaxed` already respects.
//! * **A leaf.** This file depends on nothing else in the module, so the queue,
//!   the buffer pool and the hasher can all count without importing each other.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A point-in-time view of a [`PasswordHasher`](super::PasswordHasher)'s work,
/// from [`PasswordHasher::stats`](super::PasswordHasher::stats).
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
    /// job; at most [`HasherConfig::concurrency`](super::HasherConfig::concurrency).
    /// Retained idle hashing memory is this times `memory_kib`. Suggested
    /// metric: `password_buffers_pooled`.
    pub buffers_pooled: usize,
    /// Gauge: hash or verify jobs computing right now, on Tokio's blocking pool
    /// or on a caller's thread (the `_blocking` methods, which bypass the
    /// concurrency limit, so this can exceed
    /// [`HasherConfig::concurrency`](super::HasherConfig::concurrency)).
    /// Suggested metric: `password_jobs_running`.
    pub jobs_running: usize,
    /// Gauge: callers of the async API waiting for a hashing permit right now,
    /// the hashing queue depth; at most
    /// [`HasherConfig::max_waiting`](super::HasherConfig::max_waiting), beyond
    /// which callers get [`PasswordError::Busy`](super::PasswordError::Busy).
    /// Suggested metric: `password_queue_depth`.
    pub queue_depth: usize,
}

/// A monotonic count (a Prometheus counter).
#[derive(Debug, Default)]
pub(super) struct Counter(AtomicU64);

impl Counter {
    pub(super) fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A level that goes up and down (a Prometheus gauge).
#[derive(Debug, Default)]
pub(super) struct Gauge(AtomicUsize);

impl Gauge {
    pub(super) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Adds one and returns the level before.
    pub(super) fn increment(&self) -> usize {
        self.0.fetch_add(1, Ordering::Relaxed)
    }

    /// Subtracts one and returns the level before.
    pub(super) fn decrement(&self) -> usize {
        self.0.fetch_sub(1, Ordering::Relaxed)
    }

    /// Adds one until the returned guard is dropped, however the holder
    /// leaves (return, error, panic, or a dropped future); also returns the
    /// level before.
    pub(super) fn enter(&self) -> (usize, GaugeGuard<'_>) {
        (self.increment(), GaugeGuard(self))
    }
}

/// Takes back the one a [`Gauge::enter`] added.
#[must_use = "the gauge goes back down when this is dropped"]
pub(super) struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.decrement();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
