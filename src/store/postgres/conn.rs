//! The way to the server: the pool's setup, the client-side deadline, the
//! skip past dead connections, parameter binding, row mapping and the
//! classification of sqlx's errors. Every statement of `mod.rs`,
//! `counters.rs` and `identities.rs` runs through the few calls here, so the
//! rules of the module doc of `postgres` (what may be repeated on another
//! connection, what is [`StoreError::Unavailable`]) live in one file.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{ConnectOptions as _, Executor as _, PgConnection, Postgres, Row as _};

use super::PgDatabase;
use crate::store::error::StoreError;
use crate::store::faults::FaultLog;
use crate::store::model::{
    identity_from_columns, session_from_columns, user_from_columns, Identity, SessionRecord, User,
};
use crate::store::options::StoreOptions;
use crate::store::sql::Param;
use crate::store::token_writes::{apply, Applied, Cell, Col, TokenWrite, Tx};

impl PgDatabase {
    /// A pool for `target` (no connection is made until the first call).
    pub(in crate::store) fn connect(target: PgConnectOptions, options: &StoreOptions) -> Self {
        let statement_timeout_ms = options.statement_timeout.as_millis();
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(10))
            .min_connections(0)
            .acquire_timeout(options.connect_timeout)
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        format!("SET statement_timeout = {statement_timeout_ms}").as_str(),
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_lazy_with(target.disable_statement_logging());
        Self {
            pool,
            deadline: options.deadline(),
            reads: std::sync::Arc::new(FaultLog::new("reads")),
            writes: std::sync::Arc::new(FaultLog::new("writes")),
            retries: options.max_connections.unwrap_or(10) as usize,
        }
    }

    /// Runs one call under the client-side deadline; its fault (if any)
    /// noted in `faults`.
    pub(super) async fn timed<T>(
        &self,
        faults: &FaultLog,
        op: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        faults.observe(match tokio::time::timeout(self.deadline, op).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(StoreError::deadline(self.deadline)),
        })
    }

    /// Runs `attempt` again (on the pool's next connection) while it fails
    /// with an error `dead` says is a dead connection that did nothing, at
    /// most once per pooled connection.
    pub(super) async fn skipping_dead<T, F>(
        &self,
        dead: fn(&sqlx::Error) -> bool,
        mut attempt: impl FnMut() -> F,
    ) -> Result<T, sqlx::Error>
    where
        F: Future<Output = Result<T, sqlx::Error>>,
    {
        let mut skipped = 0;
        loop {
            match attempt().await {
                Err(e) if dead(&e) && skipped < self.retries => skipped += 1,
                answer => return answer,
            }
        }
    }

    /// One statement; rows affected.
    pub(super) async fn execute(
        &self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        self.timed(
            &self.writes,
            self.skipping_dead(ended_before, || async {
                let done = bind(sqlx::query(query), params).execute(&self.pool).await?;
                Ok(done.rows_affected())
            }),
        )
        .await
    }

    /// A query's rows: a read, repeated past dead connections.
    pub(super) async fn fetch_all(
        &self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<Vec<PgRow>, StoreError> {
        self.rows(&self.reads, dead_connection, query, params).await
    }

    /// A query's first row, if any: a read, repeated past dead connections.
    pub(super) async fn fetch(
        &self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<Option<PgRow>, StoreError> {
        let rows = self.rows(&self.reads, dead_connection, query, params);
        Ok(rows.await?.into_iter().next())
    }

    /// The first row a write returns (`INSERT … RETURNING`): repeated only
    /// when the server said it had ended the session before it.
    pub(super) async fn fetch_written(
        &self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<Option<PgRow>, StoreError> {
        let rows = self.rows(&self.writes, ended_before, query, params);
        Ok(rows.await?.into_iter().next())
    }

    /// The id an `INSERT … RETURNING id` wrote (see [`Self::fetch_written`]).
    pub(super) async fn insert_returning(
        &self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<i64, StoreError> {
        let row = self.fetch_written(query, params).await?;
        row.as_ref()
            .map(|row| int(row, 0))
            .transpose()
            .map_err(classify)?
            .ok_or_else(|| StoreError::Other("INSERT … RETURNING returned nothing".into()))
    }

    /// A query's rows under the deadline, its fault noted in `faults`,
    /// repeated on the next connection while `dead` says the connection
    /// died without running it.
    async fn rows(
        &self,
        faults: &FaultLog,
        dead: fn(&sqlx::Error) -> bool,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<Vec<PgRow>, StoreError> {
        self.timed(
            faults,
            self.skipping_dead(dead, || {
                bind(sqlx::query(query), params).fetch_all(&self.pool)
            }),
        )
        .await
    }

    pub(super) async fn token_write(&self, op: TokenWrite) -> Result<Applied, StoreError> {
        self.timed(&self.writes, async {
            if let TokenWrite::Record(_) = &op {
                // One statement, no transaction.
                return self
                    .skipping_dead(ended_before, || async {
                        let mut conn = self.pool.acquire().await?;
                        apply(&mut PgTx(&mut conn), &op).await
                    })
                    .await;
            }
            let mut tx = self
                .skipping_dead(dead_connection, || self.pool.begin())
                .await?;
            let applied = apply(&mut PgTx(&mut tx), &op).await?;
            tx.commit().await?;
            Ok(applied)
        })
        .await
    }
}

/// One direct connection to `target`, to say why the pool cannot connect
/// (see [`crate::store::diagnose`]); `None` when it connects.
pub(in crate::store) async fn diagnose(
    target: &PgConnectOptions,
    timeout: Duration,
) -> Option<String> {
    use sqlx::Connection as _;
    let place = format!(
        "PostgreSQL at {}:{} (database {:?}, user {:?})",
        target.get_host(),
        target.get_port(),
        target.get_database().unwrap_or_default(),
        target.get_username()
    );
    match tokio::time::timeout(timeout, PgConnection::connect_with(target)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            None
        }
        Ok(Err(e)) => Some(format!("cannot connect to {place}: {e}")),
        Err(_) => Some(format!(
            "cannot connect to {place}: no answer within {timeout:?}"
        )),
    }
}

/// Whether `e` is the connection failing (closed, reset) rather than the
/// statement: a read or a `BEGIN` that failed so did nothing and may be
/// repeated on another connection.
/// Besides I/O errors, [`ended_before`].
pub(super) fn dead_connection(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_)) || ended_before(e)
}

/// PostgreSQL's own notice that it had ended the session before our
/// statement (`57P01` admin shutdown, `57P02` crash shutdown), read as the
/// answer to it: the statement was not run, even a write may be repeated.
pub(super) fn ended_before(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57P01" | "57P02")),
        _ => false,
    }
}

/// Binds `params` in `$n` order.
pub(super) fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    params: &[Param<'q>],
) -> Query<'q, Postgres, PgArguments> {
    for param in params {
        query = match *param {
            Param::Int(v) => query.bind(v),
            Param::OptInt(v) => query.bind(v),
            Param::Text(v) => query.bind(v),
            Param::OptText(v) => query.bind(v),
        };
    }
    query
}

/// An integer column of any width (flags are `SMALLINT`).
pub(super) fn int(row: &PgRow, index: usize) -> Result<i64, sqlx::Error> {
    row.try_get_unchecked(index)
}

pub(super) fn user_from_row(row: &PgRow) -> Result<User, sqlx::Error> {
    Ok(user_from_columns((
        int(row, 0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        int(row, 6)?,
        int(row, 7)?,
        int(row, 8)?,
        int(row, 9)?,
        row.try_get_unchecked(10)?,
    )))
}

pub(super) fn session_from_row(row: &PgRow) -> Result<SessionRecord, sqlx::Error> {
    Ok(session_from_columns((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
        row.try_get(7)?,
    )))
}

pub(super) fn identity_from_row(row: &PgRow) -> Result<Identity, sqlx::Error> {
    Ok(identity_from_columns((
        int(row, 0)?,
        int(row, 1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        int(row, 6)?,
    )))
}

/// A pooled connection or a transaction as a [`Tx`] for the token writes.
pub(super) struct PgTx<'c>(pub(super) &'c mut PgConnection);

impl Tx for PgTx<'_> {
    type Error = sqlx::Error;

    async fn execute(
        &mut self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<u64, sqlx::Error> {
        let done = bind(sqlx::query(query), params)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected())
    }

    async fn fetch(
        &mut self,
        query: &'static str,
        params: &[Param<'_>],
        cols: &'static [Col],
    ) -> Result<Option<Vec<Cell>>, sqlx::Error> {
        let rows = bind(sqlx::query(query), params)
            .fetch_all(&mut *self.0)
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let mut cells = Vec::with_capacity(cols.len());
        for (i, col) in cols.iter().enumerate() {
            cells.push(match col {
                Col::Int => Cell::Int(row.try_get_unchecked(i)?),
                Col::Text => Cell::Text(row.try_get(i)?),
            });
        }
        Ok(Some(cells))
    }
}

/// Classifies a sqlx error: pool timeouts, I/O, TLS and the connection
/// (08), shutdown (57) and too-many-connections (53300) classes are
/// [`StoreError::Unavailable`]; a unique violation is
/// [`StoreError::Conflict`]; anything else [`StoreError::Other`].
pub(super) fn classify(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::Database(db) if db.code().as_deref().is_some_and(transient) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(e.to_string()),
    }
}

/// SQLSTATEs after which nothing of the statement's transaction is left
/// and the same request may simply be sent again: connection (08),
/// operator intervention and shutdown (57), too many connections (53300),
/// and the transaction rollbacks PostgreSQL chooses itself — a
/// serialization failure (40001), a deadlock (40P01: another session's locks,
/// e.g. a migration or maintenance holding tables) — and a lock wait that
/// timed out (55P03). Answered 503 + `Retry-After`, not 500.
fn transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("57")
        || matches!(code, "53300" | "40001" | "40P01" | "55P03")
}

#[cfg(test)]
mod tests {
    use super::transient;

    #[test]
    fn rollbacks_the_database_chose_are_retryable_and_errors_in_the_request_are_not() {
        for code in [
            "08006", "57P01", "57014", "53300", "40001", "40P01", "55P03",
        ] {
            assert!(transient(code), "{code}");
        }
        // unique violation, syntax error, undefined table, check violation
        for code in ["23505", "42601", "42P01", "23514"] {
            assert!(!transient(code), "{code}");
        }
    }
}
