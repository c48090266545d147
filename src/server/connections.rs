//! The live connections: how many, which have a request in progress, and a
//! way to close one from outside its task.
//!
//! The accept loop registers every connection here. At the cap it does not
//! wait (a stalled accept loop would stall everyone): the new connection
//! takes the place of the one that has been idle longest — no request in
//! progress, so closing it loses nothing — or, when every connection is
//! busy, the new one is closed at once. Each connection's task watches its
//! [`Slot`] for that eviction and for its idle deadline.
//!
//! Cost on a request: two atomic operations and one clock read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// One connection's shared state.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Requests being handled on the connection (several on HTTP/2).
    in_flight: AtomicUsize,
    /// When the connection last became idle, in ms since [`Connections::epoch`].
    idle_since_ms: AtomicU64,
    /// Set once the connection is to be closed.
    evicted: AtomicBool,
    close: Notify,
}

/// Held while a request is handled; marks the connection idle when the last
/// request of it ends.
pub(crate) struct Busy {
    slot: Arc<Slot>,
    epoch: Instant,
}

impl Drop for Busy {
    fn drop(&mut self) {
        // The idle time is stored before the count drops, so an evictor that
        // sees the connection idle also sees when it became so.
        self.slot
            .idle_since_ms
            .store(millis_since(self.epoch), Ordering::Relaxed);
        self.slot.in_flight.fetch_sub(1, Ordering::Release);
    }
}

impl Slot {
    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Resolves once the connection must be closed (evicted or cut).
    pub(crate) async fn closed(&self) {
        let notified = self.close.notified();
        if self.evicted.load(Ordering::Acquire) {
            return;
        }
        notified.await;
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.close.notify_one();
    }
}

/// Whether the accept loop may serve a new connection.
pub(crate) enum Admission {
    /// Serve it; the registration removes itself when dropped. With the id
    /// of the connection evicted to make room, whose end the accept loop
    /// awaits ([`Connections::gone`]) so descriptors stay within the cap.
    Admitted(Registration, Option<u64>),
    /// Every connection is busy: close the new one.
    Shed,
}

/// The live connections.
#[derive(Debug)]
pub(crate) struct Connections {
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
    cap: usize,
    epoch: Instant,
    /// Notified whenever a connection ends.
    ended: Notify,
}

/// A connection's place in the registry; removes it on drop.
pub(crate) struct Registration {
    connections: Arc<Connections>,
    id: u64,
    slot: Arc<Slot>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
        self.connections.ended.notify_waiters();
    }
}

impl Registration {
    /// The connection's shared state.
    pub(crate) fn slot(&self) -> &Arc<Slot> {
        &self.slot
    }

    /// Marks a request in progress until the guard is dropped.
    pub(crate) fn busy(slot: &Arc<Slot>, epoch: Instant) -> Busy {
        slot.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy {
            slot: slot.clone(),
            epoch,
        }
    }

    /// The registry's clock origin (for [`Registration::busy`]).
    pub(crate) fn epoch(&self) -> Instant {
        self.connections.epoch
    }

    /// When the connection's idle time runs out, or `None` while a request
    /// is in progress.
    pub(crate) fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        if !self.slot.is_idle() {
            return None;
        }
        let since = self.slot.idle_since_ms.load(Ordering::Relaxed);
        Some(self.connections.epoch + Duration::from_millis(since) + idle)
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Connections {
    /// An empty registry serving at most `cap` connections.
    pub(crate) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            cap: cap.max(1),
            epoch: Instant::now(),
            ended: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<Slot>>> {
        // A panic while holding the lock leaves the map consistent.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections open now.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Registers a new connection, evicting the longest-idle one at the cap.
    pub(crate) fn admit(self: &Arc<Self>) -> Admission {
        let mut slots = self.lock();
        let mut evicted = None;
        let live = slots
            .values()
            .filter(|s| !s.evicted.load(Ordering::Acquire));
        if live.count() >= self.cap {
            let longest_idle = slots
                .iter()
                .filter(|(_, s)| s.is_idle() && !s.evicted.load(Ordering::Acquire))
                .min_by_key(|(_, s)| s.idle_since_ms.load(Ordering::Relaxed));
            evicted = match longest_idle {
                Some((id, slot)) => {
                    slot.evict();
                    Some(*id)
                }
                None => return Admission::Shed,
            };
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(millis_since(self.epoch)),
            evicted: AtomicBool::new(false),
            close: Notify::new(),
        });
        slots.insert(id, slot.clone());
        Admission::Admitted(
            Registration {
                connections: self.clone(),
                id,
                slot,
            },
            evicted,
        )
    }

    /// Waits until connection `id` has ended, or `bound` has passed. An
    /// evicted connection has no request in progress: its task lets go of it
    /// as soon as it runs.
    pub(crate) async fn gone(&self, id: u64, bound: Duration) {
        let _ = tokio::time::timeout(bound, async {
            loop {
                let ended = self.ended.notified();
                if !self.lock().contains_key(&id) {
                    return;
                }
                ended.await;
            }
        })
        .await;
    }

    /// Closes every connection still open; how many there were.
    pub(crate) fn cut_all(&self) -> usize {
        let slots = self.lock();
        for slot in slots.values() {
            slot.evict();
        }
        slots.len()
    }

    /// Waits until no connection is open, or `bound` has passed.
    pub(crate) async fn drained(&self, bound: Duration) {
        let _ = tokio::time::timeout(bound, async {
            loop {
                let ended = self.ended.notified();
                if self.len() == 0 {
                    return;
                }
                ended.await;
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(c: &Arc<Connections>) -> Registration {
        match c.admit() {
            Admission::Admitted(r, _) => r,
            Admission::Shed => panic!("shed"),
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_connection_makes_room() {
        let c = Connections::new(2);
        let first = admitted(&c);
        let second = admitted(&c);
        let _busy = Registration::busy(second.slot(), second.epoch());
        let Admission::Admitted(third, Some(evicted)) = c.admit() else {
            panic!("no room made");
        };
        // The idle one was told to close; the busy one was not.
        assert_eq!(evicted, first.id);
        first.slot().closed().await;
        assert!(!second.slot().evicted.load(Ordering::Acquire));
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move { c.gone(evicted, Duration::from_secs(30)).await })
        };
        drop(first);
        waiter.await.unwrap();
        assert_eq!(c.len(), 2);
        drop(third);
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_the_new_one_is_shed() {
        let c = Connections::new(1);
        let only = admitted(&c);
        let _busy = Registration::busy(only.slot(), only.epoch());
        assert!(matches!(c.admit(), Admission::Shed));
        assert_eq!(c.len(), 1);
    }

    #[tokio::test]
    async fn a_connection_is_idle_only_between_requests() {
        let c = Connections::new(4);
        let r = admitted(&c);
        assert!(r.idle_deadline(Duration::from_secs(1)).is_some());
        let busy = Registration::busy(r.slot(), r.epoch());
        assert!(r.idle_deadline(Duration::from_secs(1)).is_none());
        drop(busy);
        assert!(r.idle_deadline(Duration::from_secs(1)).is_some());
    }

    #[tokio::test]
    async fn cut_all_closes_every_connection_and_drained_sees_them_go() {
        let c = Connections::new(4);
        let a = admitted(&c);
        let b = admitted(&c);
        assert_eq!(c.cut_all(), 2);
        a.slot().closed().await;
        b.slot().closed().await;
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move { c.drained(Duration::from_secs(30)).await })
        };
        drop((a, b));
        waiter.await.unwrap();
        assert_eq!(c.len(), 0);
    }
}
