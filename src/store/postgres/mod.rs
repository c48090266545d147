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
//!
//! Files: `conn.rs` (the pool's setup, the deadline and dead-connection
//! rules, binding, row mapping, error classification: how a statement
//! reaches the server), this file (the store traits: which statements a
//! call runs), `counters.rs` (login failure counters), `identities.rs`
//! (social login).

use std::time::Duration;

use sqlx::postgres::PgPool;
use sqlx::Row as _;

use super::counters::FailureCounters;
use super::error::StoreError;
use super::faults::FaultLog;
use super::import::{self, ImportedToken, TokensImported, UsersImported};
use super::migrate;
use super::model::{
    storable, AuditRecord, Identity, NewIdentity, NewSession, NewUser, OutstandingToken, Rotation,
    RotationRules, SessionLifetimes, SessionRecord, User,
};
use super::sql::{self, Param};
use super::token_writes::{self, Applied, TokenWrite, TokenWriter};
use super::traits::{Database, IdentityStore, PoolStats, TokenStore, UserStore};
use super::url::Backend;
use conn::{
    bind, classify, dead_connection, identity_from_row, int, session_from_row, user_from_row, PgTx,
};

mod conn;
mod counters;
mod identities;

pub(super) use conn::diagnose;

/// A PostgreSQL database behind a lazily connecting pool.
pub(super) struct PgDatabase {
    pool: PgPool,
    deadline: Duration,
    reads: std::sync::Arc<FaultLog>,
    writes: std::sync::Arc<FaultLog>,
    /// Dead connections a read or a `BEGIN` may skip: the pool's size.
    retries: usize,
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

impl PgDatabase {
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
        let params = [Param::Int(user_id), Param::Int(now)];
        let rows = self.fetch_all(sql::LIVE_SESSIONS_OF_USER, &params).await?;
        rows.iter()
            .map(session_from_row)
            .collect::<Result<_, _>>()
            .map_err(classify)
    }

    async fn flush_expired(&self, now: i64, batch: i64) -> Result<u64, StoreError> {
        let params = [Param::Int(now), Param::Int(batch)];
        let total = sql::in_batches(batch, || self.execute(sql::FLUSH_EXPIRED_BATCH, &params));
        let total = total.await?;
        sql::in_batches(batch, || {
            self.execute(sql::FLUSH_EXPIRED_SESSIONS_BATCH, &params)
        })
        .await?;
        Ok(total)
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
        let rows = self.fetch_all(sql::APPLIED_MIGRATIONS, &[]).await?;
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
        let id = self
            .insert_returning(sql::INSERT_USER, &sql::user_params(new, now))
            .await?;
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
            let mut tx = self
                .skipping_dead(dead_connection, || self.pool.begin())
                .await?;
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
        let params = [Param::Int(before), Param::Int(batch)];
        sql::in_batches(batch, || self.execute(sql::FLUSH_AUDIT_BATCH, &params)).await
    }

    async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = self
            .fetch_all(sql::RECENT_AUDIT_EVENTS, &[Param::Int(limit)])
            .await?;
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
