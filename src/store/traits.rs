//! What storage must do, as traits — the shape of tower-sessions'
//! `SessionStore`: the service above only ever sees these, and each database
//! implements them.
//!
//! Three traits, because a library user may bring part of the storage:
//! [`UserStore`] is all that authentication needs of users (their own users
//! table can implement it), [`TokenStore`] holds outstanding tokens and the
//! blacklist (always ours: exactly-once rotation depends on our schema), and
//! [`Database`] is our own database as a whole — both stores plus schema and
//! account administration, for the CLI and server start-up. `Database` has
//! both as supertraits, so `Arc<dyn Database>` coerces to `Arc<dyn UserStore>`
//! and `Arc<dyn TokenStore>` (trait upcasting).
//!
//! The traits use `async_trait` (boxed futures) so they stay dyn-compatible:
//! the service holds `Arc<dyn …>` and never knows which database it talks to.

use super::error::StoreError;
use super::import::{ImportedToken, TokensImported, UsersImported};
use super::model::{
    AuditRecord, Identity, NewIdentity, NewSession, NewUser, OutstandingToken, Rotation,
    RotationRules, SessionLifetimes, SessionRecord, User,
};
use super::url::Backend;

/// What authentication needs of users: lookups, and the two writes a login
/// may make. Implement it to authenticate against your own users table
/// (see `AuthServiceBuilder::user_store`).
#[async_trait::async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user with this primary key, or `None`.
    /// [`StoreError::Unavailable`] when the database cannot answer.
    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError>;

    /// The user with this exact (case-sensitive) username, or `None` (also
    /// for a name containing NUL, which no stored name contains).
    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// [`UserStore::user_by_id`] and whether the session with public id
    /// `session` is live at `now` (exists, not ended, within `lifetimes`), in
    /// one read where the store can: `Some(live)`; `None` when this store
    /// does not know sessions (the default: then the token store is asked).
    async fn user_by_id_with_session(
        &self,
        id: i64,
        session: &str,
        now: i64,
        lifetimes: SessionLifetimes,
    ) -> Result<Option<(User, Option<bool>)>, StoreError> {
        let _ = (session, now, lifetimes);
        Ok(self.user_by_id(id).await?.map(|user| (user, None)))
    }

    /// Re-hash on login: replaces user `id`'s password hash with `new_hash`
    /// only if it is still `expected` (a password changed in between must
    /// not be overwritten). Returns whether it was replaced.
    /// Default: `Ok(false)` (stored hashes are never upgraded).
    async fn upgrade_password(
        &self,
        id: i64,
        expected: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let _ = (id, expected, new_hash);
        Ok(false)
    }

    /// `UPDATE_LAST_LOGIN`: records `now` (epoch seconds) as user `id`'s last
    /// login. Default: `Ok(())` (nothing recorded).
    async fn touch_last_login(&self, id: i64, now: i64) -> Result<(), StoreError> {
        let _ = (id, now);
        Ok(())
    }
}

/// Outstanding tokens and the blacklist.
///
/// Exactly-once rotation is enforced by the database, not by a lock in this
/// process: the used refresh token is claimed by inserting its blacklist row
/// under the unique index on `blacklisted_tokens.token_id`, in the same
/// transaction that records its successor. Of any number of concurrent
/// claims — from one process or many sharing the database — exactly one
/// inserts a row; the others find the conflict.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Whether the token with this `jti` is blacklisted (`false` for a `jti`
    /// containing NUL: such ids are never stored).
    async fn is_blacklisted(&self, jti: &str) -> Result<bool, StoreError>;

    /// Records an issued refresh token. Idempotent by `jti`; an owner id that
    /// does not exist (any more) is recorded as no owner.
    async fn add_outstanding(&self, token: &OutstandingToken) -> Result<(), StoreError>;

    /// Blacklists a token at `now` (epoch seconds), recording it as
    /// outstanding first if it never was. Returns `false` when it was
    /// already blacklisted, including by a concurrent call that won.
    async fn blacklist(&self, token: &OutstandingToken, now: i64) -> Result<bool, StoreError>;

    /// Rotation: blacklists `used` and records `successor`, atomically.
    /// Returns `false` — and records no successor — when `used` was already
    /// blacklisted, including by a concurrent rotation that won.
    /// ([`TokenStore::rotate_in_family`] with the default rules.)
    async fn rotate(
        &self,
        used: &OutstandingToken,
        successor: &OutstandingToken,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = self
            .rotate_in_family(used, successor, now, RotationRules::default())
            .await?;
        Ok(matches!(done, Rotation::Rotated { .. }))
    }

    /// Starts a session at login (`now` is `session.created_at`) and records
    /// its first token in it, atomically.
    async fn start_session(
        &self,
        session: &NewSession,
        token: &OutstandingToken,
    ) -> Result<(), StoreError>;

    /// Rotation within a family, in one transaction: records `successor` in
    /// `used`'s session, linked to `used`, after claiming `used` (with
    /// `rules.blacklist_used`) exactly once. When `used` was used before,
    /// hands back its live successor within the grace period, or — with
    /// reuse detection — ends the whole session; see [`Rotation`]. A token
    /// of an ended session is [`Rotation::Refused`], whatever else.
    async fn rotate_in_family(
        &self,
        used: &OutstandingToken,
        successor: &OutstandingToken,
        now: i64,
        rules: RotationRules,
    ) -> Result<Rotation, StoreError>;

    /// Ends one live session of `user_id` by its public id at `now` and
    /// blacklists every token of it, atomically (the session row first, as
    /// rotation: no successor escapes). `false` when that user has no such
    /// live session.
    async fn end_session(
        &self,
        user_id: i64,
        public_id: &str,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Ends every live session of `user_id` except the one `keep` names (a
    /// public id) at `now` and blacklists their tokens, atomically. Returns
    /// how many sessions were ended.
    async fn end_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&str>,
        now: i64,
    ) -> Result<u64, StoreError>;

    /// Whether the session with this public id exists, has not ended and is
    /// within `lifetimes` at `now`.
    async fn session_live(
        &self,
        public_id: &str,
        now: i64,
        lifetimes: SessionLifetimes,
    ) -> Result<bool, StoreError>;

    /// The session the token with this `jti` belongs to, ended or not
    /// (`None` for a token recorded in no session, or not recorded).
    async fn session_of_token(&self, jti: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// The user's live sessions at `now` (not ended, not expired), oldest first.
    async fn live_sessions(&self, user_id: i64, now: i64)
        -> Result<Vec<SessionRecord>, StoreError>;

    /// Deletes outstanding tokens expired at `now` (and, by cascade, their
    /// blacklist rows), then sessions whose last token expired, in batches of `batch` rows, each its own short
    /// transaction so traffic is never blocked for long. Returns rows deleted.
    async fn flush_expired(&self, now: i64, batch: i64) -> Result<u64, StoreError>;

    /// Counts of (outstanding, blacklisted) rows.
    async fn token_counts(&self) -> Result<(i64, i64), StoreError>;
}

/// Social login's storage (issue 21): provider identities linked to our
/// users, and the short-lived single-use records of the browser flow. Always
/// ours (it creates users), so a supertrait of [`Database`].
#[async_trait::async_trait]
pub trait IdentityStore: Send + Sync + 'static {
    /// The identity (`issuer`, `subject`) names, or `None`.
    async fn identity(&self, issuer: &str, subject: &str) -> Result<Option<Identity>, StoreError>;

    /// The user's identities, oldest first.
    async fn identities_of(&self, user_id: i64) -> Result<Vec<Identity>, StoreError>;

    /// Up to two users whose e-mail address is `email` (compared without
    /// case; empty addresses never match).
    async fn users_by_email(&self, email: &str) -> Result<Vec<User>, StoreError>;

    /// Links `identity` to user `user_id` at `now`. [`StoreError::Conflict`]
    /// when that (issuer, subject) is linked already (to anyone).
    async fn link_identity(
        &self,
        user_id: i64,
        identity: &NewIdentity,
        now: i64,
    ) -> Result<Identity, StoreError>;

    /// Creates `user` and links `identity` to it, in one transaction (no
    /// user without its identity). [`StoreError::Conflict`] when the
    /// username is taken or the identity is linked already.
    async fn create_user_with_identity(
        &self,
        user: &NewUser,
        identity: &NewIdentity,
        now: i64,
    ) -> Result<User, StoreError>;

    /// Unlinks identity `identity_id` from user `user_id`; `false` when the
    /// user has no such identity.
    async fn unlink_identity(&self, user_id: i64, identity_id: i64) -> Result<bool, StoreError>;

    /// Records a single-use value (`kind`: what it is for) under the hash
    /// of its key until `expires_at` (epoch seconds), forgetting the records
    /// expired at `now` first. [`StoreError::Conflict`] for a key hash in use.
    async fn put_pending(
        &self,
        key_hash: &str,
        kind: &str,
        payload: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Takes (deletes and returns) the record of `key_hash` and `kind` if it
    /// has not expired at `now`: exactly once, whatever runs concurrently.
    async fn take_pending(
        &self,
        key_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError>;
}

/// Our own database: the stores plus schema and account administration
/// (CLI, server start-up). Made by [`connect`](super::connect).
#[async_trait::async_trait]
pub trait Database: UserStore + TokenStore + IdentityStore {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies pending migrations. [`StoreError::Schema`] (its message says
    /// "newer version") when the database has a migration this program does
    /// not know. On PostgreSQL the migrator holds an advisory lock, so
    /// instances starting together do not migrate twice.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Checks, without migrating, that the schema is exactly the one this
    /// program knows: [`StoreError::Schema`] when it is older (run
    /// `migrate`) or newer (upgrade the program).
    async fn check_schema(&self) -> Result<(), StoreError>;

    /// A trivial round trip: is the database answering?
    async fn ping(&self) -> Result<(), StoreError>;

    /// Whether this process can write to the database now, without changing
    /// it (`serve` refuses to start otherwise): [`StoreError::Unavailable`]
    /// saying why — a file that opens read-only or not at all, a read-only
    /// PostgreSQL session (a standby).
    async fn check_writable(&self) -> Result<(), StoreError>;

    /// Readiness (`/readyz`): the database answers one query, within the
    /// store's deadline, and its applied migrations are exactly the ones
    /// this program knows. [`StoreError::Unavailable`] when it cannot be
    /// reached, [`StoreError::Schema`] when the schema is older or newer.
    /// Reads only (one indexed read of sqlx's `_sqlx_migrations` table); on
    /// SQLite it runs on a reader, never queued behind writes.
    async fn ready(&self) -> Result<(), StoreError>;

    /// Closes the connections, waiting for work in progress. Later calls
    /// fail with [`StoreError::Unavailable`].
    async fn close(&self);

    /// Creates a user at `now` (epoch seconds); [`StoreError::Conflict`]
    /// when the username is taken.
    async fn create_user(&self, new: &NewUser, now: i64) -> Result<User, StoreError>;

    /// Replaces a user's password hash. Returns `false` when there is no such user.
    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<bool, StoreError>;

    /// Activates or deactivates a user. Returns `false` when there is no such user.
    async fn set_active(&self, username: &str, active: bool) -> Result<bool, StoreError>;

    /// Deletes a user; their tokens stay recorded with no owner, blacklist
    /// rows survive. Returns `false` when there is no such user.
    async fn delete_user(&self, username: &str) -> Result<bool, StoreError>;

    /// Imports users with their ids (moving from Django: the `user_id`
    /// claim of existing tokens names them), in one transaction: each is
    /// inserted unless its id or username is taken; taken by the same user
    /// (same id and username) counts as present and is left unchanged,
    /// taken by another account is a conflict, reported and not written.
    /// Later [`Database::create_user`] ids continue after the largest one.
    async fn import_users(&self, users: &[User]) -> Result<UsersImported, StoreError>;

    /// Imports outstanding tokens and their blacklist entries, in one
    /// transaction: each `jti` is recorded unless it is (an owner that does
    /// not exist here is recorded as none), then blacklisted at its original
    /// time unless it is already. Re-importing changes nothing.
    async fn import_tokens(&self, tokens: &[ImportedToken]) -> Result<TokensImported, StoreError>;

    /// Number of user accounts.
    async fn count_users(&self) -> Result<i64, StoreError>;

    /// Sets a metadata value once; returns `false` if `key` was already set.
    async fn set_meta_once(&self, key: &str, value: &str) -> Result<bool, StoreError>;

    /// Reads a metadata value.
    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Appends audit rows, all in one transaction (the audit sink's batch).
    async fn record_audit(&self, events: &[AuditRecord]) -> Result<(), StoreError>;

    /// Deletes audit rows created before `before` (epoch seconds), `batch`
    /// rows per statement; returns how many.
    async fn flush_audit(&self, before: i64, batch: i64) -> Result<u64, StoreError>;

    /// The newest `limit` audit rows, newest first.
    async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError>;

    /// Failure counters that every instance on this database shares, or
    /// `None` when one process serves it (SQLite): the caller then keeps
    /// them in memory ([`MemoryCounters`](super::MemoryCounters)).
    fn shared_failure_counters(
        &self,
    ) -> Option<std::sync::Arc<dyn super::counters::FailureCounters>> {
        None
    }

    /// How the connections are used right now, for the metrics
    /// (`crate::metrics`): read at each scrape, no query is run.
    fn pool_stats(&self) -> PoolStats {
        PoolStats::default()
    }
}

/// A point-in-time view of a [`Database`]'s connections (each value read on
/// its own, not one consistent snapshot).
///
/// PostgreSQL: sqlx's `PgPool` (`open` = `PgPool::size`, `idle` =
/// `PgPool::num_idle`, `max` = `DB_MAX_CONNECTIONS`). SQLite: the read-only
/// connections of the readers (a connection in use is one whose lock is
/// held), and the writes waiting for the one writer thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections the pool may hold at most.
    pub max: u32,
    /// Connections open right now (in use or idle).
    pub open: u32,
    /// Open connections not in use right now.
    pub idle: u32,
    /// SQLite only: writes queued for the writer thread and not yet started.
    pub queued_writes: Option<u64>,
}
