//! The audit table sink (`AUDIT_TABLE`): every event also becomes a row of
//! `audit_events` — what happened, the user, the client address and user
//! agent, and for a key change the kids; an [`Event`] has no field for a
//! token, a password or a key, so no row can hold one.
//!
//! Why a queue: an audit write must never make a login slower or fail it.
//! [`AuditSink::record`] only puts the row into a bounded queue
//! (`AUDIT_QUEUE` rows; `try_send`, never waiting) and returns; one task per
//! service drains it in batches of up to [`BATCH`] rows, one transaction
//! each. When the queue is full (the database is slower than the events, or
//! down) the new row is dropped and counted — the event is still in the log
//! (the log sink stays on) — and the next batch written carries an
//! `audit_dropped` row saying how many were lost, with a warning in the log.
//! A batch the database refuses is logged and dropped, not retried, so a
//! broken database cannot grow memory.
//!
//! At shutdown, [`AuditSink::close`] (through
//! [`crate::service::AuthService::close_audit`]) stops the queue and waits,
//! within a bound, until the rows already queued are written, so a graceful
//! stop keeps every event it accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::events::{Event, EventSink};
use crate::store::{AuditRecord, Database};

/// Most rows written in one transaction.
pub const BATCH: usize = 256;

/// The name of the row that reports dropped events.
pub const DROPPED_EVENT: &str = "audit_dropped";

/// Queues events for the `audit_events` table (see the module doc).
#[derive(Debug)]
pub struct AuditSink {
    queue: mpsc::Sender<AuditRecord>,
    dropped: Arc<AtomicU64>,
    /// Tells the queue to stop taking rows and finish ([`AuditSink::close`]).
    closing: Mutex<Option<oneshot::Sender<()>>>,
    /// The draining task, when [`AuditSink::spawn`] started it.
    task: Mutex<Option<JoinHandle<()>>>,
}

/// The other end of an [`AuditSink`]'s queue: what writes the rows.
#[derive(Debug)]
pub struct AuditQueue {
    rows: mpsc::Receiver<AuditRecord>,
    dropped: Arc<AtomicU64>,
    closing: oneshot::Receiver<()>,
}

impl AuditSink {
    /// A sink and its queue of `capacity` rows; nothing is written until the
    /// queue is drained ([`AuditQueue::drain`]).
    pub fn new(capacity: usize) -> (Self, AuditQueue) {
        let (queue, rows) = mpsc::channel(capacity.max(1));
        let (close, closing) = oneshot::channel();
        let dropped = Arc::new(AtomicU64::new(0));
        (
            Self {
                queue,
                dropped: dropped.clone(),
                closing: Mutex::new(Some(close)),
                task: Mutex::new(None),
            },
            AuditQueue {
                rows,
                dropped,
                closing,
            },
        )
    }

    /// A sink writing to `store` through a queue of `capacity` rows, drained
    /// by a task spawned on the current Tokio runtime; `None` outside one.
    /// The task ends when the sink is dropped, after writing what is queued.
    pub fn spawn(store: Arc<dyn Database>, capacity: usize) -> Option<Self> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (sink, queue) = Self::new(capacity);
        let task = runtime.spawn(queue.drain(store));
        *sink.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Some(sink)
    }

    /// Stops taking rows (later events are counted as dropped) and waits
    /// until the rows already queued are written, at most `within`. Returns
    /// whether they all were (`false`: the time ran out, or the queue was
    /// not spawned by [`AuditSink::spawn`]). Calling it again returns at once.
    pub async fn close(&self, within: Duration) -> bool {
        if let Some(close) = self
            .closing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = close.send(());
        }
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        match task {
            Some(task) => matches!(tokio::time::timeout(within, task).await, Ok(Ok(()))),
            None => false,
        }
    }
}

impl EventSink for AuditSink {
    fn record(&self, e: &Event<'_>) {
        let row = AuditRecord {
            created_at: crate::token::Timestamp::now().epoch(),
            event: e.kind.name().to_owned(),
            user_id: e.user_id,
            username: e.username.map(str::to_owned),
            ip: e.client.ip.map(|ip| ip.to_string()),
            user_agent: e.client.user_agent.clone(),
            detail: e.detail.map(str::to_owned),
        };
        if self.queue.try_send(row).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl AuditQueue {
    /// Writes queued rows to `store` in batches until the sink is closed
    /// ([`AuditSink::close`]) or dropped, and then the queue is empty.
    pub async fn drain(mut self, store: Arc<dyn Database>) {
        let mut batch = Vec::with_capacity(BATCH);
        let mut open = true;
        loop {
            let taken = if open {
                tokio::select! {
                    // Both are cancel-safe: no row is lost to the other branch.
                    taken = self.rows.recv_many(&mut batch, BATCH) => taken,
                    _ = &mut self.closing => {
                        // What is queued is still received, then 0.
                        self.rows.close();
                        open = false;
                        continue;
                    }
                }
            } else {
                self.rows.recv_many(&mut batch, BATCH).await
            };
            if taken == 0 {
                break;
            }
            self.write(&*store, &mut batch).await;
        }
    }

    /// Writes one batch, with the count of rows dropped since the last.
    async fn write(&self, store: &dyn Database, batch: &mut Vec<AuditRecord>) {
        let lost = self.dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            tracing::warn!(
                dropped = lost,
                "audit queue full: events were left out of the audit table (they are in the log)"
            );
            batch.push(AuditRecord {
                created_at: crate::token::Timestamp::now().epoch(),
                event: DROPPED_EVENT.to_owned(),
                user_id: None,
                username: None,
                ip: None,
                user_agent: None,
                detail: Some(format!("{lost} events dropped")),
            });
        }
        if let Err(e) = store.record_audit(batch).await {
            tracing::warn!(error = %e, rows = batch.len(), "audit rows not written");
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{ClientInfo, EventKind};

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/db.sqlite3", tmp.path().display());
        let store = crate::store::connect(&url, &crate::store::StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let (sink, queue) = AuditSink::new(16);
        let client = ClientInfo::new(None, Some("agent"));
        // Nothing drains yet: the first 16 are queued, the other 4 dropped,
        // and every call returns at once (a blocking send would hang here).
        for _ in 0..20 {
            sink.record(&Event {
                kind: EventKind::LoginFailed,
                user_id: None,
                username: Some("mallory"),
                client: &client,
                detail: None,
            });
        }
        drop(sink);
        queue.drain(store.clone()).await;
        let rows = store.recent_audit(100).await.unwrap();
        assert_eq!(rows.len(), 17);
        assert_eq!(rows[0].event, DROPPED_EVENT);
        assert_eq!(rows[0].detail.as_deref(), Some("4 events dropped"));
        assert!(rows[1..].iter().all(|r| r.event == "login_failed"
            && r.username.as_deref() == Some("mallory")
            && r.user_agent.as_deref() == Some("agent")));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn close_writes_every_queued_row_before_it_returns() {
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/db.sqlite3", tmp.path().display());
        let store = crate::store::connect(&url, &crate::store::StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        // On a current-thread runtime the spawned task cannot run before the
        // first await below: all 600 rows are queued (more than two batches)
        // and none is written when close is called.
        let sink = AuditSink::spawn(store.clone(), 1000).unwrap();
        let client = ClientInfo::new(None, None);
        for _ in 0..600 {
            sink.record(&Event {
                kind: EventKind::LoginFailed,
                user_id: None,
                username: Some("mallory"),
                client: &client,
                detail: None,
            });
        }
        assert!(sink.close(Duration::from_secs(30)).await);
        assert_eq!(store.recent_audit(1000).await.unwrap().len(), 600);
        // Closed: later events are not queued, and closing again is harmless.
        sink.record(&Event {
            kind: EventKind::LoginFailed,
            user_id: None,
            username: Some("late"),
            client: &client,
            detail: None,
        });
        assert!(!sink.close(Duration::from_secs(1)).await);
        assert_eq!(store.recent_audit(1000).await.unwrap().len(), 600);
    }
}
