//! PostgreSQL: sqlx's `PgPool`, the shared SQL, the shared token-write logic.
//!
//! Concurrent writers are fine on PostgreSQL, so every token write is its own
//! transaction on a pooled connection (a lone record needs none); the unique
//! index on `blacklisted_tokens.token_id` decides which of several
//! concurrent rotations — from this process or another instance — wins.
//! Every connection sets `statement_timeout`, and every call runs under the
//! client-side deadline, so a stalled network becomes
//! [`StoreError::Unavailable`] instead of a hang.
//!
//! After a database restart or failover every pooled connection is dead,
//! and the pool only learns it by using each one. Where a retry cannot
//! repeat a write — a read, or a transaction whose `BEGIN` failed — a call
//! that meets a dead connection goes on to the next (at most once per pooled
//! connection, under the same deadline), so the first request after the
//! database is back succeeds. Integer columns are
//! `SMALLINT` (flags) or `BIGINT`; both are read as `i64`.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{ConnectOptions as _, Executor as _, PgConnection, Postgres, Row as _};

use super::counters::FailureCounters;
use super::error::StoreError;
use super::faults::FaultLog;
use super::import::{self, ImportedToken, TokensImported, UsersImported};
use super::migrate;
use super::model::{
    identity_from_columns, session_from_columns, storable, user_from_columns, AuditRecord,
    Identity, NewIdentity, NewSession, NewUser, OutstandingToken, Rotation, RotationRules,
    SessionLifetimes, SessionRecord, User,
};
use super::options::StoreOptions;
use super::sql::{self, Param};
use super::token_writes::{self, apply, Applied, Cell, Col, TokenWrite, TokenWriter, Tx};
use super::traits::{Database, IdentityStore, PoolStats, TokenStore, UserStore};
use super::url::Backend;

mod counters;
mod identities;

/// A PostgreSQL database behind a lazily connecting pool.
pub(super) struct PgDatabase {
    pool: PgPool,
    deadline: Duration,
    reads: std::sync::Arc<FaultLog>,
    writes: std::sync::Arc<FaultLog>,
    /// Dead connections a read or a `BEGIN` may skip: the pool's size.
    retries: usize,
}

impl PgDatabase {
    /// A pool for `target` (no connection is made until the first call).
    pub(super) fn connect(target: PgConnectOptions, options: &StoreOptions) -> Self {
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
    async fn timed<T>(
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
    async fn skipping_dead<T, F>(
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
    async fn execute(&self, query: &'static str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        self.timed(
            &self.writes,
            self.skipping_dead(ended_before, || async {
                let done = bind(sqlx::query(query), params).execute(&self.pool).await?;
                Ok(done.rows_affected())
            }),
        )
        .await
    }

    /// A query's first row, if any.
    async fn fetch(
        &self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<Option<PgRow>, StoreError> {
        self.timed(
            &self.reads,
            self.skipping_dead(dead_connection, || {
                bind(sqlx::query(query), params).fetch_optional(&self.pool)
            }),
        )
        .await
    }

    /// The first row a write returns (`INSERT … RETURNING`): repeated only
    /// when the server said it had ended the session before it.
    async fn fetch_written(
        &self,
        query: &'static str,
        params: &[Param<'_>],
    ) -> Result<Option<PgRow>, StoreError> {
        self.timed(
            &self.writes,
            self.skipping_dead(ended_before, || {
                bind(sqlx::query(query), params).fetch_optional(&self.pool)
            }),
        )
        .await
    }

    async fn user(
        &self,
        query: &'static str,
        param: Param<'_>,
    ) -> Result<Option<User>, StoreError> {
        let row = self.fetch(query, &[param]).await?;
        row.as_ref()
            .map(user_from_row)
            .transpose()
            .map_err(classify)
    }

    async fn token_write(&self, op: TokenWrite) -> Result<Applied, StoreError> {
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
/// (see [`super::diagnose`]); `None` when it connects.
pub(super) async fn diagnose(target: &PgConnectOptions, timeout: Duration) -> Option<String> {
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
fn dead_connection(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_)) || ended_before(e)
}

/// PostgreSQL's own notice that it had ended the session before our
/// statement (`57P01` admin shutdown, `57P02` crash shutdown), read as the
/// answer to it: the statement was not run, even a write may be repeated.
fn ended_before(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57P01" | "57P02")),
        _ => false,
    }
}

/// Moves the `users.id` identity past the largest id (after an import with
/// explicit ids), never backwards. PostgreSQL only: SQLite's AUTOINCREMENT
/// follows explicit ids by itself.
const ADVANCE_USER_IDS: &str = "SELECT setval(q.s::regclass, GREATEST(\
     COALESCE(pg_sequence_last_value(q.s::regclass), 0), \
     (SELECT COALESCE(MAX(id), 0) FROM users), 1)) \
     FROM (SELECT pg_get_serial_sequence('users', 'id') AS s) q";

/// Whether the session may write (`on` on a standby).
const TRANSACTION_READ_ONLY: &str = "SHOW transaction_read_only";

/// Binds `params` in `$n` order.
fn bind<'q>(
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
fn int(row: &PgRow, index: usize) -> Result<i64, sqlx::Error> {
    row.try_get_unchecked(index)
}

fn user_from_row(row: &PgRow) -> Result<User, sqlx::Error> {
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

fn session_from_row(row: &PgRow) -> Result<SessionRecord, sqlx::Error> {
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

/// A pooled connection or a transaction as a [`Tx`] for the token writes.
struct PgTx<'c>(&'c mut PgConnection);

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
fn classify(e: sqlx::Error) -> StoreError {
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

/// PostgreSQL connection / shutdown / too-many-connections SQLSTATEs.
fn transient(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57") || code == "53300"
}

#[async_trait::async_trait]
impl UserStore for PgDatabase {
    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.user(sql::USER_BY_ID, Param::Int(id)).await
    }

    async fn user_by_id_with_session(
        &self,
        id: i64,
        session: &str,
        now: i64,
        lifetimes: SessionLifetimes,
    ) -> Result<Option<(User, Option<bool>)>, StoreError> {
        if !storable(session) {
            return Ok(self.user_by_id(id).await?.map(|u| (u, Some(false))));
        }
        let params = [
            Param::Int(id),
            Param::Text(session),
            Param::Int(now),
            Param::Int(lifetimes.absolute),
            Param::Int(lifetimes.idle),
        ];
        let row = self.fetch(sql::USER_BY_ID_WITH_SESSION, &params).await?;
        row.as_ref()
            .map(|row| {
                let live: Option<i32> = row.try_get(11)?;
                Ok((user_from_row(row)?, Some(live.is_some())))
            })
            .transpose()
            .map_err(classify)
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        // PostgreSQL refuses NUL in text parameters; no stored name has one.
        if !storable(username) {
            return Ok(None);
        }
        self.user(sql::USER_BY_USERNAME, Param::Text(username))
            .await
    }

    async fn upgrade_password(
        &self,
        id: i64,
        expected: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let params = [Param::Text(new_hash), Param::Int(id), Param::Text(expected)];
        Ok(self.execute(sql::UPGRADE_PASSWORD, &params).await? == 1)
    }

    async fn touch_last_login(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.execute(sql::TOUCH_LAST_LOGIN, &[Param::Int(now), Param::Int(id)])
            .await
            .map(|_| ())
    }
}

impl TokenWriter for PgDatabase {
    fn write_token(
        &self,
        op: TokenWrite,
    ) -> impl std::future::Future<Output = Result<Applied, StoreError>> + Send {
        self.token_write(op)
    }
}

#[async_trait::async_trait]
impl TokenStore for PgDatabase {
    async fn is_blacklisted(&self, jti: &str) -> Result<bool, StoreError> {
        // Token ids with NUL are refused before they are stored (see token::claims::check).
        if !storable(jti) {
            return Ok(false);
        }
        let row = self.fetch(sql::IS_BLACKLISTED, &[Param::Text(jti)]).await?;
        Ok(row.is_some())
    }

    async fn add_outstanding(&self, token: &OutstandingToken) -> Result<(), StoreError> {
        token_writes::add_outstanding(self, token).await
    }

    async fn blacklist(&self, token: &OutstandingToken, now: i64) -> Result<bool, StoreError> {
        token_writes::blacklist(self, token, now).await
    }

    async fn start_session(
        &self,
        session: &NewSession,
        token: &OutstandingToken,
    ) -> Result<(), StoreError> {
        token_writes::start_session(self, session, token).await
    }

    async fn rotate_in_family(
        &self,
        used: &OutstandingToken,
        successor: &OutstandingToken,
        now: i64,
        rules: RotationRules,
    ) -> Result<Rotation, StoreError> {
        token_writes::rotate_in_family(self, used, successor, now, rules).await
    }

    async fn end_session(
        &self,
        user_id: i64,
        public_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        token_writes::end_session(self, user_id, public_id, now).await
    }

    async fn end_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&str>,
        now: i64,
    ) -> Result<u64, StoreError> {
        token_writes::end_user_sessions(self, user_id, keep, now).await
    }

    async fn session_live(
        &self,
        public_id: &str,
        now: i64,
        lifetimes: SessionLifetimes,
    ) -> Result<bool, StoreError> {
        if !storable(public_id) {
            return Ok(false);
        }
        let params = [
            Param::Text(public_id),
            Param::Int(now),
            Param::Int(lifetimes.absolute),
            Param::Int(lifetimes.idle),
        ];
        let row = self.fetch(sql::SESSION_LIVE, &params).await?;
        Ok(row.is_some())
    }

    async fn session_of_token(&self, jti: &str) -> Result<Option<SessionRecord>, StoreError> {
        if !storable(jti) {
            return Ok(None);
        }
        let row = self
            .fetch(sql::SESSION_OF_TOKEN, &[Param::Text(jti)])
            .await?;
        row.as_ref()
            .map(session_from_row)
            .transpose()
            .map_err(classify)
    }

    async fn live_sessions(
        &self,
        user_id: i64,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = self
            .timed(
                &self.reads,
                bind(
                    sqlx::query(sql::LIVE_SESSIONS_OF_USER),
                    &[Param::Int(user_id), Param::Int(now)],
                )
                .fetch_all(&self.pool),
            )
            .await?;
        rows.iter()
            .map(session_from_row)
            .collect::<Result<_, _>>()
            .map_err(classify)
    }

    async fn flush_expired(&self, now: i64, batch: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let params = [Param::Int(now), Param::Int(batch)];
            let deleted = self.execute(sql::FLUSH_EXPIRED_BATCH, &params).await?;
            total += deleted;
            if deleted < batch as u64 {
                break;
            }
            tokio::task::yield_now().await;
        }
        loop {
            let params = [Param::Int(now), Param::Int(batch)];
            let deleted = self
                .execute(sql::FLUSH_EXPIRED_SESSIONS_BATCH, &params)
                .await?;
            if deleted < batch as u64 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    async fn token_counts(&self) -> Result<(i64, i64), StoreError> {
        let row = self.fetch(sql::TOKEN_COUNTS, &[]).await?;
        let row = row.ok_or_else(|| StoreError::Other("no counts".into()))?;
        Ok((
            int(&row, 0).map_err(classify)?,
            int(&row, 1).map_err(classify)?,
        ))
    }
}

#[async_trait::async_trait]
impl Database for PgDatabase {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            max: self.pool.options().get_max_connections(),
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            queued_writes: None,
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        migrate::run(&migrate::POSTGRES, &mut *conn, classify).await
    }

    async fn check_schema(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        migrate::check(&migrate::POSTGRES, &mut *conn).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.fetch(sql::PING, &[]).await.map(|_| ())
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        let row = self.fetch(TRANSACTION_READ_ONLY, &[]).await?;
        let read_only: String = row
            .as_ref()
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(classify)?
            .unwrap_or_default();
        if read_only == "on" {
            return Err(StoreError::Unavailable(
                "the PostgreSQL session is read-only (transaction_read_only = on; a standby?)"
                    .into(),
            ));
        }
        Ok(())
    }

    async fn ready(&self) -> Result<(), StoreError> {
        let rows = self
            .timed(
                &self.reads,
                sqlx::query(sql::APPLIED_MIGRATIONS).fetch_all(&self.pool),
            )
            .await?;
        let applied = rows
            .iter()
            .map(|row| int(row, 0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(classify)?;
        migrate::current(&migrate::POSTGRES, &applied)
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_user(&self, new: &NewUser, now: i64) -> Result<User, StoreError> {
        let params = [
            Param::Text(&new.username),
            Param::Text(&new.password_hash),
            Param::Text(&new.email),
            Param::Int(new.is_active.into()),
            Param::Int(new.is_staff.into()),
            Param::Int(new.is_superuser.into()),
            Param::Int(now),
        ];
        let row = self.fetch_written(sql::INSERT_USER, &params).await?;
        let id = row
            .as_ref()
            .map(|row| int(row, 0))
            .transpose()
            .map_err(classify)?
            .ok_or_else(|| StoreError::Other("INSERT … RETURNING returned nothing".into()))?;
        self.user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Other("user vanished".into()))
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<bool, StoreError> {
        let params = [Param::Text(password_hash), Param::Int(user_id)];
        Ok(self.execute(sql::SET_PASSWORD, &params).await? == 1)
    }

    async fn set_active(&self, username: &str, active: bool) -> Result<bool, StoreError> {
        let params = [Param::Int(active.into()), Param::Text(username)];
        Ok(self.execute(sql::SET_ACTIVE, &params).await? == 1)
    }

    async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        Ok(self
            .execute(sql::DELETE_USER, &[Param::Text(username)])
            .await?
            == 1)
    }

    async fn import_users(&self, users: &[User]) -> Result<UsersImported, StoreError> {
        self.timed(&self.writes, async {
            let mut tx = self
                .skipping_dead(dead_connection, || self.pool.begin())
                .await?;
            let done = import::users(&mut PgTx(&mut tx), users).await?;
            if done.inserted > 0 {
                // Explicit ids leave the identity sequence behind: move it
                // past them, never back (a deleted user's id is not reused).
                sqlx::query(ADVANCE_USER_IDS).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn import_tokens(&self, tokens: &[ImportedToken]) -> Result<TokensImported, StoreError> {
        self.timed(&self.writes, async {
            let mut tx = self
                .skipping_dead(dead_connection, || self.pool.begin())
                .await?;
            let done = import::tokens(&mut PgTx(&mut tx), tokens).await?;
            tx.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn count_users(&self) -> Result<i64, StoreError> {
        let row = self.fetch(sql::COUNT_USERS, &[]).await?;
        let row = row.ok_or_else(|| StoreError::Other("no count".into()))?;
        int(&row, 0).map_err(classify)
    }

    async fn set_meta_once(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let params = [Param::Text(key), Param::Text(value)];
        Ok(self.execute(sql::SET_META_ONCE, &params).await? == 1)
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = self.fetch(sql::META, &[Param::Text(key)]).await?;
        row.map(|row| row.try_get(0)).transpose().map_err(classify)
    }

    async fn record_audit(&self, events: &[AuditRecord]) -> Result<(), StoreError> {
        let write = async {
            let mut tx = self.pool.begin().await?;
            for e in events {
                bind(sqlx::query(sql::INSERT_AUDIT_EVENT), &sql::audit_params(e))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        };
        self.timed(&self.writes, write).await
    }

    async fn flush_audit(&self, before: i64, batch: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let params = [Param::Int(before), Param::Int(batch)];
            let deleted = self.execute(sql::FLUSH_AUDIT_BATCH, &params).await?;
            total += deleted;
            if deleted < batch as u64 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let read =
            bind(sqlx::query(sql::RECENT_AUDIT_EVENTS), &[Param::Int(limit)]).fetch_all(&self.pool);
        let rows = self.timed(&self.reads, read).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    created_at: int(row, 0)?,
                    event: row.try_get(1)?,
                    user_id: row.try_get(2)?,
                    username: row.try_get(3)?,
                    ip: row.try_get(4)?,
                    user_agent: row.try_get(5)?,
                    detail: row.try_get(6)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(classify)
    }

    fn shared_failure_counters(&self) -> Option<std::sync::Arc<dyn FailureCounters>> {
        // The same pool and the same fault logs.
        Some(std::sync::Arc::new(PgDatabase {
            pool: self.pool.clone(),
            deadline: self.deadline,
            reads: self.reads.clone(),
            writes: self.writes.clone(),
            retries: self.retries,
        }))
    }
}
