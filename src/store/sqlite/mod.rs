//! SQLite: rusqlite at run time, in two places and nowhere else.
//!
//! - Reads on the hot paths (user by id / username, blacklist check) run on a
//!   few read-only connections right in the calling task ([`reader`]).
//! - Every write runs on one dedicated thread owning the one read-write
//!   connection, token writes group-committed ([`writer`]). Reads that are
//!   not on a hot path (counts, metadata) run there too: they never block a
//!   runtime worker, and they see the writer's latest state.
//!
//! There is no second code path: no sqlx pool to fall back on. sqlx opens
//! the file only for migrations and the schema check, on a one-off
//! connection (see `migrate.rs` for why). All three use the one parse of the
//! URL (`url.rs`).

mod conn;
mod identities;
mod reader;
mod writer;

#[cfg(test)]
mod http_faults;
#[cfg(test)]
mod tests;

use futures_util::FutureExt as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};
use sqlx::ConnectOptions as _;
use std::str::FromStr as _;

use super::error::StoreError;
use super::import::{self, ImportedToken, TokensImported, UsersImported};
use super::migrate;
use super::model::{
    storable, AuditRecord, NewSession, NewUser, OutstandingToken, Rotation, RotationRules,
    SessionLifetimes, SessionRecord, User,
};
use super::options::StoreOptions;
use super::sql::{self, Param};
use super::token_writes::{self, Applied, TokenWrite, TokenWriter};
use super::traits::{Database, PoolStats, TokenStore, UserStore};
use super::url::{create_private, Access, Backend, SqliteTarget};
use conn::{
    classify_code, execute, insert_returning, query_all, query_opt, session_row, user_row,
    FileConfig,
};
use reader::Reader;
use writer::Writer;

/// A SQLite database: in-thread readers and the writer thread.
pub(super) struct SqliteDatabase {
    reader: Reader,
    writer: Writer,
    /// sqlx's options for the same file, for the migration connection.
    migration: SqliteConnectOptions,
}

impl SqliteDatabase {
    /// Opens the database `target` names: creates the file (private) when
    /// the URL allows and it is missing, opens the writer's connection (WAL)
    /// and starts its thread. The readers connect on first use.
    pub(super) fn open(target: SqliteTarget, options: &StoreOptions) -> Result<Self, StoreError> {
        let synchronous = options.synchronous()?;
        if target.access == Access::Create {
            create_private(&target.path);
        }
        let config = FileConfig {
            path: target.path,
            access: target.access,
            synchronous,
            busy_timeout: options.statement_timeout,
        };
        let readers = match options.max_connections {
            Some(n) => n as usize,
            None => num_cpus::get() + 1,
        };
        // The journal mode is the writer's to set (see `Writer::start`): a
        // second connection switching it at the same time would fail.
        let migration = target
            .options
            .synchronous(SqliteSynchronous::from_str(synchronous).map_err(|e| {
                StoreError::Other(format!("SQLite synchronous mode {synchronous}: {e}"))
            })?)
            .busy_timeout(options.statement_timeout)
            .foreign_keys(true)
            .disable_statement_logging();
        Ok(Self {
            reader: Reader::new(config.clone(), readers),
            writer: Writer::start(config, options.deadline())?,
            migration,
        })
    }

    /// A one-off sqlx connection for the migrator.
    async fn migration_connection(&self) -> Result<sqlx::SqliteConnection, StoreError> {
        self.migration.connect().await.map_err(classify_sqlx)
    }

    fn user(&self, query: &'static str, param: Param<'_>) -> Result<Option<User>, StoreError> {
        self.reader
            .read(|conn| query_opt(conn, query, &[param], user_row))
    }

    /// One statement on the writer; whether it touched exactly one row.
    async fn write_one(&self, query: &'static str, params: Vec<Owned>) -> Result<bool, StoreError> {
        self.writer
            .run(move |conn| {
                let params: Vec<Param<'_>> = params.iter().map(Owned::param).collect();
                execute(conn, query, &params)
            })
            .await
            .map(|rows| rows == 1)
    }
}

impl SqliteDatabase {
    /// One batch of a `FLUSH_*_BATCH` delete (`$1`: cutoff, `$2`: batch)
    /// on the writer; rows deleted.
    async fn delete_batch(
        &self,
        query: &'static str,
        cutoff: i64,
        batch: i64,
    ) -> Result<u64, StoreError> {
        self.writer
            .run(move |conn| execute(conn, query, &[Param::Int(cutoff), Param::Int(batch)]))
            .await
    }
}

/// A parameter that can travel to the writer thread.
#[derive(Debug, Clone)]
enum Owned {
    Int(i64),
    Text(String),
}

impl Owned {
    fn param(&self) -> Param<'_> {
        match self {
            Owned::Int(v) => Param::Int(*v),
            Owned::Text(v) => Param::Text(v),
        }
    }
}

/// Classifies an error of the sqlx migration connection like a rusqlite one.
fn classify_sqlx(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => match db.code().and_then(|code| code.parse::<i32>().ok()) {
            Some(code) => classify_code(code, e.to_string()),
            None => StoreError::Other(e.to_string()),
        },
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

#[async_trait::async_trait]
impl UserStore for SqliteDatabase {
    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.user(sql::USER_BY_ID, Param::Int(id))
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
        self.reader.read(|conn| {
            query_opt(
                conn,
                sql::USER_BY_ID_WITH_SESSION,
                &[
                    Param::Int(id),
                    Param::Text(session),
                    Param::Int(now),
                    Param::Int(lifetimes.absolute),
                    Param::Int(lifetimes.idle),
                ],
                |row| {
                    let live: Option<i64> = row.get(11)?;
                    Ok((user_row(row)?, Some(live.is_some())))
                },
            )
        })
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        if !storable(username) {
            return Ok(None);
        }
        self.user(sql::USER_BY_USERNAME, Param::Text(username))
    }

    async fn upgrade_password(
        &self,
        id: i64,
        expected: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let params = vec![
            Owned::Text(new_hash.into()),
            Owned::Int(id),
            Owned::Text(expected.into()),
        ];
        self.write_one(sql::UPGRADE_PASSWORD, params).await
    }

    async fn touch_last_login(&self, id: i64, now: i64) -> Result<(), StoreError> {
        let params = vec![Owned::Int(now), Owned::Int(id)];
        self.write_one(sql::TOUCH_LAST_LOGIN, params)
            .await
            .map(|_| ())
    }
}

impl TokenWriter for SqliteDatabase {
    fn write_token(
        &self,
        op: TokenWrite,
    ) -> impl std::future::Future<Output = Result<Applied, StoreError>> + Send {
        self.writer.token(op)
    }
}

#[async_trait::async_trait]
impl TokenStore for SqliteDatabase {
    async fn is_blacklisted(&self, jti: &str) -> Result<bool, StoreError> {
        if !storable(jti) {
            return Ok(false);
        }
        self.reader.read(|conn| {
            query_opt(conn, sql::IS_BLACKLISTED, &[Param::Text(jti)], |_| Ok(()))
                .map(|hit| hit.is_some())
        })
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
        self.reader.read(|conn| {
            query_opt(conn, sql::SESSION_LIVE, &params, |_| Ok(())).map(|hit| hit.is_some())
        })
    }

    async fn session_of_token(&self, jti: &str) -> Result<Option<SessionRecord>, StoreError> {
        if !storable(jti) {
            return Ok(None);
        }
        self.reader.read(|conn| {
            query_opt(
                conn,
                sql::SESSION_OF_TOKEN,
                &[Param::Text(jti)],
                session_row,
            )
        })
    }

    async fn live_sessions(
        &self,
        user_id: i64,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let params = [Param::Int(user_id), Param::Int(now)];
        self.reader
            .read(|conn| query_all(conn, sql::LIVE_SESSIONS_OF_USER, &params, session_row))
    }

    async fn flush_expired(&self, now: i64, batch: i64) -> Result<u64, StoreError> {
        let total = sql::in_batches(batch, || {
            self.delete_batch(sql::FLUSH_EXPIRED_BATCH, now, batch)
        });
        let total = total.await?;
        sql::in_batches(batch, || {
            self.delete_batch(sql::FLUSH_EXPIRED_SESSIONS_BATCH, now, batch)
        })
        .await?;
        Ok(total)
    }

    async fn token_counts(&self) -> Result<(i64, i64), StoreError> {
        self.writer
            .run(|conn| {
                conn.prepare_cached(sql::TOKEN_COUNTS)?
                    .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
            })
            .await
    }
}

#[async_trait::async_trait]
impl Database for SqliteDatabase {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn pool_stats(&self) -> PoolStats {
        let (max, open, idle) = self.reader.usage();
        PoolStats {
            max,
            open,
            idle,
            queued_writes: Some(self.writer.queued()),
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.migration_connection().await?;
        let result = migrate::run(&migrate::SQLITE, &mut conn, classify_sqlx).await;
        let _ = sqlx::Connection::close(conn).await;
        result
    }

    async fn check_schema(&self) -> Result<(), StoreError> {
        let mut conn = self.migration_connection().await?;
        let result = migrate::check(&migrate::SQLITE, &mut conn).await;
        let _ = sqlx::Connection::close(conn).await;
        result
    }

    async fn ready(&self) -> Result<(), StoreError> {
        let applied = self.reader.read(|conn| {
            let mut stmt = conn.prepare_cached(sql::APPLIED_MIGRATIONS)?;
            let versions = stmt.query_map([], |row| row.get::<_, i64>(0))?;
            versions.collect::<rusqlite::Result<Vec<i64>>>()
        })?;
        migrate::current(&migrate::SQLITE, &applied)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.writer
            .run(|conn| conn.prepare_cached(sql::PING)?.query_row([], |_| Ok(())))
            .await
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        self.writer
            .run(|conn| {
                // SQLite opens a file it may not write read-only, silently.
                if conn.is_readonly(rusqlite::DatabaseName::Main)? {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                        Some("the file opens read-only: this process may not write it".into()),
                    ));
                }
                // Takes the write lock (creating the WAL if need be), writes nothing.
                conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK")
            })
            .await
    }

    async fn close(&self) {
        self.reader.close();
        self.writer.close().await;
    }

    async fn record_audit(&self, events: &[AuditRecord]) -> Result<(), StoreError> {
        let events = events.to_vec();
        self.writer
            .run(move |conn| {
                let tx = conn.transaction()?;
                for e in &events {
                    execute(&tx, sql::INSERT_AUDIT_EVENT, &sql::audit_params(e))?;
                }
                tx.commit()
            })
            .await
    }

    async fn flush_audit(&self, before: i64, batch: i64) -> Result<u64, StoreError> {
        sql::in_batches(batch, || {
            self.delete_batch(sql::FLUSH_AUDIT_BATCH, before, batch)
        })
        .await
    }

    async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        self.reader.read(|conn| {
            let mut stmt = conn.prepare_cached(sql::RECENT_AUDIT_EVENTS)?;
            let rows = stmt.query_map([limit], |row| {
                Ok(AuditRecord {
                    created_at: row.get(0)?,
                    event: row.get(1)?,
                    user_id: row.get(2)?,
                    username: row.get(3)?,
                    ip: row.get(4)?,
                    user_agent: row.get(5)?,
                    detail: row.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    async fn create_user(&self, new: &NewUser, now: i64) -> Result<User, StoreError> {
        let new = new.clone();
        self.writer
            .run(move |conn| {
                let id = insert_returning(conn, sql::INSERT_USER, &sql::user_params(&new, now))?;
                query_opt(conn, sql::USER_BY_ID, &[Param::Int(id)], user_row)?
                    .ok_or(rusqlite::Error::QueryReturnedNoRows)
            })
            .await
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<bool, StoreError> {
        let params = vec![Owned::Text(password_hash.into()), Owned::Int(user_id)];
        self.write_one(sql::SET_PASSWORD, params).await
    }

    async fn set_active(&self, username: &str, active: bool) -> Result<bool, StoreError> {
        let params = vec![Owned::Int(active.into()), Owned::Text(username.into())];
        self.write_one(sql::SET_ACTIVE, params).await
    }

    async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        self.write_one(sql::DELETE_USER, vec![Owned::Text(username.into())])
            .await
    }

    async fn import_users(&self, users: &[User]) -> Result<UsersImported, StoreError> {
        let users = users.to_vec();
        self.writer
            .transaction(move |tx| {
                import::users(tx, &users)
                    .now_or_never()
                    .expect("SQLite writes never wait")
            })
            .await
    }

    async fn import_tokens(&self, tokens: &[ImportedToken]) -> Result<TokensImported, StoreError> {
        let tokens = tokens.to_vec();
        self.writer
            .transaction(move |tx| {
                import::tokens(tx, &tokens)
                    .now_or_never()
                    .expect("SQLite writes never wait")
            })
            .await
    }

    async fn count_users(&self) -> Result<i64, StoreError> {
        self.writer
            .run(|conn| {
                conn.prepare_cached(sql::COUNT_USERS)?
                    .query_row([], |row| row.get(0))
            })
            .await
    }

    async fn set_meta_once(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let params = vec![Owned::Text(key.into()), Owned::Text(value.into())];
        self.write_one(sql::SET_META_ONCE, params).await
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.writer
            .run(move |conn| query_opt(conn, sql::META, &[Param::Text(&key)], |row| row.get(0)))
            .await
    }
}
