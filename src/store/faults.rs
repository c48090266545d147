//! One log line per database fault, not one per request.
//!
//! When the disk fills or the database goes away, every request that needs
//! it fails the same way; a warning per request would bury the cause in
//! thousands of copies. Each store keeps a [`FaultLog`] for its reads and one
//! for its writes (they fail independently: a full disk still reads). The
//! first failure of a fault is logged as a warning with its cause, the rest
//! are counted, and the first success after them logs the recovery with the
//! count. A success while nothing is failing costs one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::error::StoreError;

/// The fault state of one kind of database call (reads or writes).
#[derive(Debug)]
pub(super) struct FaultLog {
    what: &'static str,
    failing: AtomicBool,
    fault: Mutex<Option<Fault>>,
}

#[derive(Debug)]
struct Fault {
    since: Instant,
    failures: u64,
}

impl FaultLog {
    /// A log for calls described as `what` ("reads", "writes").
    pub(super) const fn new(what: &'static str) -> Self {
        Self {
            what,
            failing: AtomicBool::new(false),
            fault: Mutex::new(None),
        }
    }

    /// Notes the outcome of one call and hands it back. Only
    /// [`StoreError::Unavailable`] is a fault; other errors are the caller's
    /// to report.
    pub(super) fn observe<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match &result {
            Ok(_) => {
                if self.failing.load(Ordering::Relaxed) {
                    self.recovered();
                }
            }
            Err(StoreError::Unavailable(cause)) => self.failed(cause),
            Err(_) => {}
        }
        result
    }

    fn failed(&self, cause: &str) {
        let mut fault = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        match fault.as_mut() {
            Some(fault) => fault.failures += 1,
            None => {
                tracing::warn!(
                    %cause,
                    "database {} failing; answering 503 until they succeed again",
                    self.what
                );
                *fault = Some(Fault {
                    since: Instant::now(),
                    failures: 1,
                });
                self.failing.store(true, Ordering::Relaxed);
            }
        }
    }

    fn recovered(&self) {
        let mut fault = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(fault) = fault.take() {
            self.failing.store(false, Ordering::Relaxed);
            tracing::warn!(
                failures = fault.failures,
                after = ?fault.since.elapsed(),
                "database {} recovered",
                self.what
            );
        }
    }

    /// Whether the last call failed as unavailable.
    #[cfg(test)]
    pub(super) fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Failures counted in the current fault (0 when none).
    #[cfg(test)]
    pub(super) fn failures(&self) -> u64 {
        self.fault
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, |fault| fault.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_counted_until_the_first_success() {
        let log = FaultLog::new("writes");
        let full = || Err::<(), _>(StoreError::Unavailable("database or disk is full".into()));
        assert!(log.observe(Ok(())).is_ok());
        assert!(!log.is_failing());
        for _ in 0..3 {
            assert!(log.observe(full()).is_err());
        }
        assert!(log.is_failing());
        assert_eq!(log.failures(), 3);
        // Not a fault of the database: not counted.
        let _ = log.observe(Err::<(), _>(StoreError::Conflict));
        assert_eq!(log.failures(), 3);
        assert!(log.observe(Ok(())).is_ok());
        assert!(!log.is_failing());
        assert_eq!(log.failures(), 0);
    }
}
