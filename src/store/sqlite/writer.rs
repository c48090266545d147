//! The SQLite writer: ONE dedicated OS thread owning the one read-write
//! connection, fed by a channel. Every write of the process goes through it.
//!
//! SQLite has one writer at a time and every commit is an fsync. Letting
//! many connections race for the lock ends in the busy handler's sleeps, and
//! running each statement on a pooled connection's worker thread (as sqlx
//! does) makes every statement of a rotation a pair of thread hops. Here the
//! writes queue in order on a thread that runs them directly, and token
//! writes of concurrent requests are group-committed: a batch forms
//! naturally while the previous one is committing, runs in one
//! `BEGIN IMMEDIATE` … `COMMIT` (one fsync for the batch), and every request
//! gets its own answer only once the batch is durable. One failing job does
//! not fail the others: the batch is then run again with each job inside its
//! own `SAVEPOINT` (see [`commit_batch`]). Other writes (users, metadata,
//! flush batches, counts) are single jobs on the same thread, between
//! batches.
//!
//! A failed write never poisons the next one: after any failure the writer
//! rolls back whatever is left open, and drops the connection when the error
//! says it is unusable (I/O, corruption, not a database) or the rollback
//! fails; the next job opens a fresh one. When SQLite itself rolls a whole
//! batch back (it may on a full disk, I/O error or out of memory), every job
//! of the batch gets that error, as none of them took effect.
//!
//! Callers wait under the store's deadline; a job whose caller has given up
//! by the time its turn comes is skipped, so a stall does not leave a queue
//! of writes nobody waits for.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::Duration;

use futures_util::FutureExt as _;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::super::error::StoreError;
use super::super::faults::FaultLog;
use super::super::sql::Param;
use super::super::token_writes::{apply, Applied, Cell, Col, TokenWrite, Tx};
use super::conn::{breaks_connection, classify, execute, fetch_cells, open_writer, FileConfig};

/// Most token writes one transaction carries.
const MAX_BATCH: usize = 256;

/// A single job: gets the connection (or the reason there is none), does
/// its work, answers its caller, and says how it left the connection.
type Work = Box<dyn FnOnce(Result<&mut Connection, StoreError>) -> Outcome + Send>;

/// How a job left the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Done (or skipped).
    Fine,
    /// Failed; `broken` when the connection must be replaced.
    Failed { broken: bool },
}

struct TokenJob {
    op: TokenWrite,
    reply: oneshot::Sender<Result<Applied, StoreError>>,
}

enum Job {
    /// A token write, group-committed with its neighbours in the queue.
    Token(TokenJob),
    /// Any other write (or read that must see the writer's state), alone.
    Run(Work),
    /// Close the connection and stop the thread.
    Stop(oneshot::Sender<()>),
}

/// The handle to the writer thread. Dropping it stops the thread once the
/// queue is empty.
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    deadline: Duration,
    faults: FaultLog,
}

impl Writer {
    /// Opens the connection here, before returning — so the file is in WAL
    /// mode before a migration or a reader opens it (switching the journal
    /// mode needs an exclusive lock that SQLite does not wait for) — and
    /// starts the writer thread with it. When it cannot be opened yet, the
    /// first job opens it (and reports why it cannot).
    pub(super) fn start(config: FileConfig, deadline: Duration) -> Result<Self, StoreError> {
        let conn = match open_writer(&config) {
            Ok(conn) => Some(conn),
            Err(e) => {
                tracing::debug!(error = %e, "the SQLite writer could not open the database yet");
                None
            }
        };
        let (jobs, queue) = mpsc::channel();
        let mut state = State { config, conn };
        std::thread::Builder::new()
            .name("simplejwt-sqlite-writer".into())
            .spawn(move || state.serve(queue))
            .map_err(|e| StoreError::Other(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Self {
            jobs,
            deadline,
            faults: FaultLog::new("writes"),
        })
    }

    /// Runs `work` alone on the writer's connection, under the deadline.
    /// Its rusqlite error is classified for the caller.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            if reply.is_closed() {
                return Outcome::Fine; // the caller gave up
            }
            let (result, outcome) = match conn {
                Err(e) => (Err(e), Outcome::Failed { broken: false }),
                Ok(conn) => match work(conn) {
                    Ok(value) => (Ok(value), Outcome::Fine),
                    Err(e) => {
                        let broken = breaks_connection(&e);
                        (Err(classify(e)), Outcome::Failed { broken })
                    }
                },
            };
            let _ = reply.send(result);
            outcome
        });
        self.call(Job::Run(work), answer).await
    }

    /// Runs `work` alone on the writer's connection as a [`Tx`], inside one
    /// `BEGIN IMMEDIATE` … `COMMIT` (a failure rolls it all back: the writer
    /// rolls back whatever a failed job left open). Every future of a
    /// [`SqliteTx`] is ready at once, so `work` drives the shared logic with
    /// `now_or_never`.
    pub(super) async fn transaction<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut SqliteTx<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(move |conn| {
            execute(conn, "BEGIN IMMEDIATE", &[])?;
            let value = work(&mut SqliteTx(conn))?;
            execute(conn, "COMMIT", &[])?;
            Ok(value)
        })
        .await
    }

    /// Queues a token write for the next group commit and waits for its
    /// answer (what it did), under the deadline.
    pub(super) async fn token(&self, op: TokenWrite) -> Result<Applied, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.call(Job::Token(TokenJob { op, reply }), answer).await
    }

    /// The fault state of the writes.
    #[cfg(test)]
    pub(super) fn faults(&self) -> &FaultLog {
        &self.faults
    }

    /// Finishes the queued work, closes the connection and stops the thread.
    pub(super) async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if self.jobs.send(Job::Stop(ack)).is_ok() {
            let _ = tokio::time::timeout(self.deadline, done).await;
        }
    }

    async fn call<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.faults.observe(self.call_unobserved(job, answer).await)
    }

    async fn call_unobserved<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.jobs.send(job).map_err(|_| StoreError::closed())?;
        match tokio::time::timeout(self.deadline, answer).await {
            Ok(Ok(result)) => result,
            // Closed meanwhile, or a panic in the job (logged by the writer).
            Ok(Err(_)) => Err(StoreError::Unavailable(
                "the SQLite writer stopped before answering".into(),
            )),
            Err(_) => Err(StoreError::deadline(self.deadline)),
        }
    }
}

/// The writer thread's own state.
struct State {
    config: FileConfig,
    conn: Option<Connection>,
}

impl State {
    fn serve(&mut self, queue: mpsc::Receiver<Job>) {
        let mut next = None;
        loop {
            let job = match next.take() {
                Some(job) => job,
                None => match queue.recv() {
                    Ok(job) => job,
                    Err(_) => return, // every handle is gone
                },
            };
            match job {
                Job::Token(first) => {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(Job::Token(job)) => batch.push(job),
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.guarded(|state| state.commit_tokens(batch));
                }
                Job::Run(work) => self.guarded(|state| {
                    let outcome = match state.connection() {
                        Ok(conn) => work(Ok(conn)),
                        Err(e) => work(Err(classify(e))),
                    };
                    if let Outcome::Failed { broken } = outcome {
                        state.settle(broken);
                    }
                }),
                Job::Stop(ack) => {
                    self.conn = None;
                    let _ = ack.send(());
                    return;
                }
            }
        }
    }

    /// Runs one step; a panic (a bug) costs the connection, not the thread.
    /// The callers of a panicking step see their answer dropped.
    fn guarded(&mut self, step: impl FnOnce(&mut Self)) {
        if std::panic::catch_unwind(AssertUnwindSafe(|| step(self))).is_err() {
            tracing::error!("the SQLite writer recovered from a panic; reopening its connection");
            self.conn = None;
        }
    }

    /// The connection, opened if there is none.
    fn connection(&mut self) -> rusqlite::Result<&mut Connection> {
        if self.conn.is_none() {
            self.conn = Some(open_writer(&self.config)?);
        }
        Ok(self.conn.as_mut().expect("opened above"))
    }

    /// After a failure: drop a broken connection, roll back what is left open.
    fn settle(&mut self, broken: bool) {
        let unusable = match &self.conn {
            None => false,
            Some(conn) => {
                broken || (!conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err())
            }
        };
        if unusable {
            // Debug only: the fault itself is logged once (`store/faults.rs`).
            tracing::debug!("the SQLite writer's connection is unusable; opening a new one");
            self.conn = None;
        }
    }

    fn commit_tokens(&mut self, batch: Vec<TokenJob>) {
        let batch: Vec<TokenJob> = batch
            .into_iter()
            .filter(|job| !job.reply.is_closed())
            .collect();
        if batch.is_empty() {
            return;
        }
        let ops: Vec<&TokenWrite> = batch.iter().map(|job| &job.op).collect();
        let outcome = self.connection().and_then(|conn| commit_batch(conn, &ops));
        match outcome {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result.map_err(classify));
                }
            }
            Err(e) => {
                let broken = breaks_connection(&e);
                let error = classify(e);
                for job in batch {
                    let _ = job.reply.send(Err(error.clone()));
                }
                self.settle(broken);
            }
        }
    }
}

/// The writer's connection as a [`Tx`] for the shared token-write logic.
pub(super) struct SqliteTx<'c>(&'c mut Connection);

impl Tx for SqliteTx<'_> {
    type Error = rusqlite::Error;

    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> rusqlite::Result<u64> {
        execute(self.0, sql, params)
    }

    async fn fetch(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
        cols: &'static [Col],
    ) -> rusqlite::Result<Option<Vec<Cell>>> {
        fetch_cells(self.0, sql, params, cols)
    }
}

/// Runs `ops` in one transaction and commits it. `Err` when the transaction
/// as a whole failed (nothing of it took effect); otherwise each job's own
/// result, all committed together.
///
/// Jobs rarely fail, so a batch first runs without savepoints (each costs
/// two statements and a copy of every page its job touches that is already
/// dirty in the transaction). If a job fails, that attempt is rolled back —
/// no caller has had an answer yet — and the batch runs again with each job
/// in its own savepoint, so the failing job fails alone.
pub(super) fn commit_batch(
    conn: &mut Connection,
    ops: &[&TokenWrite],
) -> rusqlite::Result<Vec<rusqlite::Result<Applied>>> {
    match attempt(conn, ops, Savepoints::No)? {
        Attempt::Committed(results) => Ok(results),
        Attempt::JobFailed => match attempt(conn, ops, Savepoints::Yes)? {
            Attempt::Committed(results) => Ok(results),
            Attempt::JobFailed => unreachable!("with savepoints, a job fails alone"),
        },
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Savepoints {
    No,
    Yes,
}

enum Attempt {
    Committed(Vec<rusqlite::Result<Applied>>),
    /// A job failed without savepoints; the attempt was rolled back.
    JobFailed,
}

fn attempt(
    conn: &mut Connection,
    ops: &[&TokenWrite],
    savepoints: Savepoints,
) -> rusqlite::Result<Attempt> {
    let each = savepoints == Savepoints::Yes;
    execute(conn, "BEGIN IMMEDIATE", &[])?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        if each {
            execute(conn, "SAVEPOINT token_write", &[])?;
        }
        let applied = apply(&mut SqliteTx(conn), op)
            .now_or_never()
            .expect("SQLite token writes never wait");
        match applied {
            Ok(took_effect) => {
                if each {
                    execute(conn, "RELEASE token_write", &[])?;
                }
                results.push(Ok(took_effect));
            }
            Err(e) if conn.is_autocommit() => {
                // SQLite rolled the whole transaction back (full, I/O, memory).
                return Err(e);
            }
            Err(_) if !each => {
                execute(conn, "ROLLBACK", &[])?;
                return Ok(Attempt::JobFailed);
            }
            Err(e) => {
                execute(conn, "ROLLBACK TO token_write", &[])?;
                execute(conn, "RELEASE token_write", &[])?;
                results.push(Err(e));
            }
        }
    }
    execute(conn, "COMMIT", &[])?;
    Ok(Attempt::Committed(results))
}
