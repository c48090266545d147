//! The bounded way onto Tokio's blocking pool: [`JobQueue`] holds the permits
//! and the waiting limit behind the async API.
//!
//! # Why it is shaped this way
//!
//! * **Hashing stays off the async workers, and is bounded.** A hash costs tens
//!   of milliseconds of CPU. The async API runs each job on Tokio's blocking pool
//!   behind a semaphore of [`HasherConfig::concurrency`] permits, so a burst of
//!   logins cannot starve the workers that serve token requests; at most
//!   [`HasherConfig::max_waiting`] callers queue for a permit and the next one
//!   gets [`PasswordError::Busy`] at once (the HTTP layer answers 503). The
//!   permit moves into the blocking job, so it is held until the CPU work really
//!   ends, even if the caller's future is dropped.
//! * **Only the wait is counted.** A caller that finds a free permit takes it
//!   without touching the waiting count, so `max_waiting = 0` still lets work
//!   through while permits are free. The count ([`JobQueue::depth`], the
//!   hashing queue depth) is a shared [`Gauge`]: the buffer pool reads it to
//!   keep buffers while logins are queued.
//! * **Knows nothing about passwords.** A job is any closure; what it computes
//!   is the synchronous hasher's business.
//!
//! [`HasherConfig::concurrency`]: super::HasherConfig::concurrency
//! [`HasherConfig::max_waiting`]: super::HasherConfig::max_waiting

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::stats::Gauge;
use super::types::PasswordError;

/// Permits to run on the blocking pool, and the callers waiting for one.
pub(super) struct JobQueue {
    pub(super) permits: Arc<Semaphore>,
    max_waiting: usize,
    /// Callers waiting for a permit right now (shared with the buffer pool).
    pub(super) waiting: Arc<Gauge>,
}

impl JobQueue {
    /// Fails if `concurrency` is 0 or beyond what a Tokio semaphore holds.
    pub(super) fn new(concurrency: usize, max_waiting: usize) -> Result<Self, PasswordError> {
        if concurrency == 0 || concurrency > Semaphore::MAX_PERMITS {
            return Err(PasswordError::Internal(format!(
                "invalid hasher config: concurrency must be between 1 and {}",
                Semaphore::MAX_PERMITS
            )));
        }
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            max_waiting,
            waiting: Arc::new(Gauge::default()),
        })
    }

    /// Callers waiting for a permit right now: the hashing queue depth.
    pub(super) fn depth(&self) -> usize {
        self.waiting.get()
    }

    /// Permits free right now.
    pub(super) fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    /// Runs `job` on the blocking pool once a permit is held; the permit is
    /// released when the job ends, even if this future was dropped meanwhile.
    pub(super) async fn run<T, F>(&self, job: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| PasswordError::Internal("not called within a Tokio runtime".into()))?;
        let permit = self.acquire().await?;
        runtime
            .spawn_blocking(move || {
                let _permit = permit;
                job()
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
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::NoPermits) => {}
            Err(TryAcquireError::Closed) => return Err(closed()),
        }
        // Goes back down on every exit: return, error, or the future being dropped.
        let (already_waiting, _waiter) = self.waiting.enter();
        if already_waiting >= self.max_waiting {
            tracing::debug!(
                max_waiting = self.max_waiting,
                "password hashing queue full"
            );
            return Err(PasswordError::Busy);
        }
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| closed())
    }
}

/// The semaphore is never closed; should that change, callers get an error
/// rather than a panic.
fn closed() -> PasswordError {
    PasswordError::Internal("semaphore closed".into())
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::Poll;

    use crate::password::testing::{poll_once, small, small_config, VALID_CURRENT};
    use crate::password::{HasherConfig, PasswordError, PasswordHasher, Verification};

    fn waiting(h: &PasswordHasher) -> usize {
        h.stats().queue_depth
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
        let held = Arc::clone(&h.inner.queue.permits)
            .try_acquire_owned()
            .unwrap();
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
        assert_eq!(h.inner.queue.available_permits(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_waiter_leaves_the_queue() {
        let h = PasswordHasher::new(HasherConfig {
            concurrency: 1,
            max_waiting: 2,
            ..small_config()
        })
        .unwrap();
        let held = Arc::clone(&h.inner.queue.permits)
            .try_acquire_owned()
            .unwrap();
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
        assert_eq!(h.inner.queue.available_permits(), 1);
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
        assert_eq!(h.inner.queue.available_permits(), 1);
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
}
