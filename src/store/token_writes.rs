//! Token writes — record an issued refresh token, blacklist one, rotate one —
//! as data, applied by one function for both databases.
//!
//! PostgreSQL runs each write in its own transaction; concurrent writers are
//! fine there. SQLite has a single writer and every commit is an fsync, so
//! there the writes of concurrent requests are committed together
//! ([`GroupCommit`]): a batch forms naturally while the previous one is
//! committing, runs in one `BEGIN IMMEDIATE` transaction, and every request
//! in it gets its own answer. Exactly-once still holds inside a batch: two
//! rotations of one token in the same batch see each other's blacklist row,
//! so the second claim finds the conflict.

use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::{claim, insert_outstanding, OutstandingToken, StoreError};

/// One token write.
#[derive(Debug, Clone)]
pub(super) enum TokenWrite {
    /// Record an issued token (idempotent by `jti`).
    Record(OutstandingToken),
    /// Blacklist a token; takes effect only if it was not blacklisted yet.
    Blacklist { token: OutstandingToken, now: i64 },
    /// Blacklist `used` and record `successor`; only if `used` was not blacklisted yet.
    Rotate {
        used: OutstandingToken,
        successor: OutstandingToken,
        now: i64,
    },
}

/// Applies one write inside `tx`. Returns whether it took effect (for
/// blacklist and rotate: whether this call claimed the token).
pub(super) async fn apply(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    op: &TokenWrite,
) -> Result<bool, StoreError> {
    match op {
        TokenWrite::Record(token) => {
            insert_outstanding(&mut **tx, token).await?;
            Ok(true)
        }
        TokenWrite::Blacklist { token, now } => claim(tx, token, *now).await,
        TokenWrite::Rotate {
            used,
            successor,
            now,
        } => {
            if !claim(tx, used, *now).await? {
                return Ok(false);
            }
            insert_outstanding(&mut **tx, successor).await?;
            Ok(true)
        }
    }
}

struct Job {
    op: TokenWrite,
    reply: oneshot::Sender<Result<bool, StoreError>>,
}

/// Most writes one SQLite transaction carries.
const MAX_BATCH: usize = 256;

/// The SQLite group committer: one task owns the writing.
#[derive(Debug, Clone)]
pub(super) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.op.fmt(f)
    }
}

impl GroupCommit {
    /// Starts the committer on the current runtime. `writer` is the
    /// process's SQLite writer slot, shared with the other writes.
    pub(super) fn start(pool: AnyPool, writer: Arc<Semaphore>) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, writer, rx));
        Self { jobs }
    }

    /// Queues a write and waits for its commit.
    pub(super) async fn submit(&self, op: TokenWrite) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { op, reply })
            .await
            .map_err(|_| StoreError::Unavailable("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer stopped".into()))?
    }
}

async fn run(pool: AnyPool, writer: Arc<Semaphore>, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = match writer.acquire().await {
            Ok(_slot) => commit(&pool, &batch).await,
            Err(_) => Err(StoreError::Unavailable("the store is shutting down".into())),
        };
        match outcome {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

async fn commit(pool: &AnyPool, batch: &[Job]) -> Result<Vec<bool>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        results.push(apply(&mut tx, &job.op).await?);
    }
    tx.commit().await?;
    Ok(results)
}
