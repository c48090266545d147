//! Failure counters for login throttling: how many failures a key (a
//! username with a client address, or an address alone) has had since its
//! counter last started, and when the last one was.
//!
//! [`FailureCounters`] is the seam: [`MemoryCounters`] keeps them in this
//! process (SQLite, where one process serves), the PostgreSQL database keeps
//! them in its `login_failures` table so that every instance sees the same
//! count (one atomic upsert per failure). A counter older than the window the
//! caller gives is forgotten, so no key is ever locked for good. Keys are
//! opaque to the store (the throttle hashes usernames before they get here).

use std::collections::HashMap;
use std::sync::Mutex;

use super::error::StoreError;

/// One key's failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    /// Failures since the counter started.
    pub count: u32,
    /// When the last one happened, epoch milliseconds.
    pub last_ms: i64,
}

/// Where failure counts are kept.
#[async_trait::async_trait]
pub trait FailureCounters: Send + Sync {
    /// The failures of `key` whose last one is at or after `since_ms`.
    async fn get(&self, key: &str, since_ms: i64) -> Result<Option<Failures>, StoreError>;

    /// Counts one failure of `key` at `now_ms` (a counter whose last failure
    /// is before `since_ms` starts again at 1) and returns the new state.
    async fn record(&self, key: &str, now_ms: i64, since_ms: i64) -> Result<Failures, StoreError>;

    /// Forgets `key` (after a successful login).
    async fn clear(&self, key: &str) -> Result<(), StoreError>;
}

/// Counters in this process's memory, at most `capacity` keys: when full,
/// counters older than the window are dropped first, then the oldest.
#[derive(Debug)]
pub struct MemoryCounters {
    map: Mutex<HashMap<String, Failures>>,
    capacity: usize,
}

impl MemoryCounters {
    /// Counters for at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A panic while holding the lock leaves plain counts: still usable.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryCounters {
    /// 100 000 keys (a few MB).
    fn default() -> Self {
        Self::new(100_000)
    }
}

#[async_trait::async_trait]
impl FailureCounters for MemoryCounters {
    async fn get(&self, key: &str, since_ms: i64) -> Result<Option<Failures>, StoreError> {
        Ok(self
            .lock()
            .get(key)
            .copied()
            .filter(|f| f.last_ms >= since_ms))
    }

    async fn record(&self, key: &str, now_ms: i64, since_ms: i64) -> Result<Failures, StoreError> {
        let mut map = self.lock();
        if map.len() >= self.capacity && !map.contains_key(key) {
            map.retain(|_, f| f.last_ms >= since_ms);
            if map.len() >= self.capacity {
                if let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, f)| f.last_ms)
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&oldest);
                }
            }
        }
        let entry = map.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last_ms: now_ms,
        });
        if entry.last_ms < since_ms {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last_ms = now_ms;
        Ok(*entry)
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_forget_old_failures_and_stay_bounded() {
        let c = MemoryCounters::new(2);
        assert_eq!(c.record("a", 1000, 0).await.unwrap().count, 1);
        assert_eq!(c.record("a", 2000, 0).await.unwrap().count, 2);
        // outside the window: starts again
        assert_eq!(c.record("a", 9000, 5000).await.unwrap().count, 1);
        assert_eq!(c.get("a", 10_000).await.unwrap(), None);
        c.record("b", 9500, 0).await.unwrap();
        c.record("c", 9600, 0).await.unwrap();
        // full: the oldest ("a") made room
        assert_eq!(c.get("a", 0).await.unwrap(), None);
        assert_eq!(c.get("c", 0).await.unwrap().map(|f| f.count), Some(1));
        c.clear("c").await.unwrap();
        assert_eq!(c.get("c", 0).await.unwrap(), None);
    }
}
