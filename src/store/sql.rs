//! Every SQL statement of the stores, written once for both databases.
//!
//! The text is SQL that SQLite and PostgreSQL both accept: `$n` placeholders,
//! `ON CONFLICT … DO NOTHING`, `RETURNING`, integer 0/1 flags and epoch-second
//! times. A driver binds [`Param`]s by their `$n` number (the SQLite driver
//! looks each placeholder's number up, since SQLite numbers parameters in
//! order of first appearance), so a statement may use its parameters in any
//! order. What differs between the databases — connection setup and the
//! migration files — lives with each driver.

use super::error::StoreError;

/// One statement parameter.
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    /// An integer.
    Int(i64),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// A text.
    Text(&'a str),
    /// A text or NULL.
    OptText(Option<&'a str>),
}

/// Expands to the user columns, in [`UserColumns`](super::model::UserColumns) order.
macro_rules! user_columns {
    () => {
        "id, username, password, email, first_name, last_name, is_active, \
         is_staff, is_superuser, date_joined, last_login"
    };
}

/// `$1`: id → one user row.
pub(super) const USER_BY_ID: &str =
    concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");

/// `$1`: id, `$2`: session public id, `$3`: now, `$4`: absolute lifetime,
/// `$5`: idle timeout (seconds, 0: none) → one user row and `live` (1 when
/// that session exists, has not ended and is within both lifetimes, else
/// NULL): the protected path's one read with `ACCESS_TOKEN_REVOCATION`
/// (two unique-index lookups, one statement).
pub(super) const USER_BY_ID_WITH_SESSION: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", (SELECT 1 FROM sessions s WHERE s.public_id = $2 AND s.revoked_at IS NULL \
     AND ($4 = 0 OR s.created_at + $4 > $3) AND ($5 = 0 OR s.last_used_at + $5 > $3)) AS live \
     FROM users WHERE id = $1"
);

/// `$1`: session public id, `$2`: now, `$3`: absolute lifetime, `$4`: idle
/// timeout (seconds, 0: none) → a row when that session exists, has not
/// ended and is within both lifetimes.
pub(super) const SESSION_LIVE: &str =
    "SELECT 1 AS live FROM sessions WHERE public_id = $1 AND revoked_at IS NULL \
     AND ($3 = 0 OR created_at + $3 > $2) AND ($4 = 0 OR last_used_at + $4 > $2)";

/// `$1`: username → one user row.
pub(super) const USER_BY_USERNAME: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE username = $1"
);

/// `$1..$7`: username, hash, email, active, staff, superuser, date joined → `id`.
pub(super) const INSERT_USER: &str = "INSERT INTO users (username, password, email, is_active, \
     is_staff, is_superuser, date_joined) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// The parameters of [`INSERT_USER`] for `new`, joining at `now`.
pub(super) fn user_params(new: &super::model::NewUser, now: i64) -> [Param<'_>; 7] {
    [
        Param::Text(&new.username),
        Param::Text(&new.password_hash),
        Param::Text(&new.email),
        Param::Int(new.is_active.into()),
        Param::Int(new.is_staff.into()),
        Param::Int(new.is_superuser.into()),
        Param::Int(now),
    ]
}

/// `$1..$11`: id, username, hash, email, first name, last name, active,
/// staff, superuser, date joined, last login. An imported user keeps their
/// id (tokens name it); nothing happens when the id or the username is
/// taken (the caller tells "already imported" from a conflict).
pub(super) const IMPORT_USER: &str = concat!(
    "INSERT INTO users (",
    user_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
);

/// `$1`: id → `username`.
pub(super) const USERNAME_BY_ID: &str = "SELECT username FROM users WHERE id = $1";

/// `$1`: username → `id`.
pub(super) const ID_BY_USERNAME: &str = "SELECT id FROM users WHERE username = $1";

/// `$1`: new hash, `$2`: id.
pub(super) const SET_PASSWORD: &str = "UPDATE users SET password = $1 WHERE id = $2";

/// `$1`: new hash, `$2`: id, `$3`: the hash it must still have.
pub(super) const UPGRADE_PASSWORD: &str =
    "UPDATE users SET password = $1 WHERE id = $2 AND password = $3";

/// `$1`: 0/1, `$2`: username.
pub(super) const SET_ACTIVE: &str = "UPDATE users SET is_active = $1 WHERE username = $2";

/// `$1`: username.
pub(super) const DELETE_USER: &str = "DELETE FROM users WHERE username = $1";

/// `$1`: now, `$2`: id.
pub(super) const TOUCH_LAST_LOGIN: &str = "UPDATE users SET last_login = $1 WHERE id = $2";

/// → `n`.
pub(super) const COUNT_USERS: &str = "SELECT COUNT(*) AS n FROM users";

/// `$1`: jti → a row when blacklisted.
pub(super) const IS_BLACKLISTED: &str = "SELECT 1 AS hit FROM blacklisted_tokens b \
     JOIN outstanding_tokens o ON o.id = b.token_id WHERE o.jti = $1";

/// `$1..$6`: jti, owner id, created at, expires at, session (row id or
/// NULL), parent token (row id or NULL). Idempotent by `jti`; an owner id
/// that does not exist would break the foreign key, so such a token is
/// recorded with no owner.
pub(super) const INSERT_OUTSTANDING: &str =
    "INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at, session_id, parent_id) \
     VALUES ($1, (SELECT id FROM users WHERE id = $2), $3, $4, $5, $6) \
     ON CONFLICT (jti) DO NOTHING";

/// `$1..$6`: public id, owner id, created at, user agent, address, expires
/// at → `id`. A missing owner is recorded as none.
pub(super) const INSERT_SESSION: &str = "INSERT INTO sessions \
     (public_id, user_id, created_at, last_used_at, user_agent, ip, expires_at) \
     VALUES ($1, (SELECT id FROM users WHERE id = $2), $3, $3, $4, $5, $6) RETURNING id";

/// `$1`: jti → `id`, `session_id` of the recorded token.
pub(super) const TOKEN_FAMILY: &str =
    "SELECT id, session_id FROM outstanding_tokens WHERE jti = $1";

/// `$1`: session row id, `$2`: now, `$3`: the successor's expiry, `$4`:
/// the absolute lifetime, `$5`: the idle timeout (seconds, 0: none), `$6`:
/// the used token's row id → `created_at`. Touches a live session within
/// both lifetimes only: no row once it has ended or outlived either. The
/// session's expiry follows its latest token, capped at its absolute
/// deadline. On PostgreSQL this takes the session row's lock, which every
/// rotation and every revocation of the session takes first — so they run
/// one at a time and a revocation sees every successor a rotation before it
/// recorded.
///
/// Only a token not used yet counts as use: when `$6` is blacklisted (a
/// replay, a grace retry, a logged-out token presented again) the row is
/// locked and checked but `last_used_at` and `expires_at` stay, so replays
/// of an old token do not keep an idle session alive. (A rotation racing
/// the one that uses `$6` may still touch it, by its statement's snapshot:
/// a use at the same instant, so the same time.)
pub(super) const TOUCH_SESSION: &str = "UPDATE sessions SET \
     last_used_at = CASE WHEN EXISTS (SELECT 1 FROM blacklisted_tokens WHERE token_id = $6) \
     THEN last_used_at ELSE $2 END, \
     expires_at = CASE WHEN EXISTS (SELECT 1 FROM blacklisted_tokens WHERE token_id = $6) \
     THEN expires_at WHEN expires_at < (CASE WHEN $4 > 0 AND created_at + $4 < $3 \
     THEN created_at + $4 ELSE $3 END) THEN (CASE WHEN $4 > 0 AND created_at + $4 < $3 \
     THEN created_at + $4 ELSE $3 END) ELSE expires_at END \
     WHERE id = $1 AND revoked_at IS NULL AND ($4 = 0 OR created_at + $4 > $2) \
     AND ($5 = 0 OR last_used_at + $5 > $2) RETURNING created_at";

/// `$1`: token row id → `blacklisted_at`, the token's first use.
pub(super) const FIRST_USE: &str =
    "SELECT blacklisted_at FROM blacklisted_tokens WHERE token_id = $1";

/// `$1`: token row id → `n`, how many successors it has (live or not).
pub(super) const SUCCESSORS: &str =
    "SELECT COUNT(*) AS n FROM outstanding_tokens WHERE parent_id = $1";

/// `$1`: token row id → `jti`, `created_at`, `expires_at` of its first
/// successor that is not blacklisted.
pub(super) const LIVE_SUCCESSOR: &str = "SELECT o.jti, o.created_at, o.expires_at \
     FROM outstanding_tokens o WHERE o.parent_id = $1 \
     AND NOT EXISTS (SELECT 1 FROM blacklisted_tokens b WHERE b.token_id = o.id) \
     ORDER BY o.id LIMIT 1";

/// `$1`: session row id → `public_id`.
pub(super) const SESSION_PUBLIC_ID: &str = "SELECT public_id FROM sessions WHERE id = $1";

/// `$1`: session row id, `$2`: now. Ends a live session (takes its row lock
/// first, see [`TOUCH_SESSION`]); no row affected when it had ended.
pub(super) const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

/// `$1`: session row id, `$2`: now. Blacklists every token of the session
/// not blacklisted yet.
pub(super) const BLACKLIST_SESSION_TOKENS: &str =
    "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) \
     SELECT id, $2 FROM outstanding_tokens WHERE session_id = $1 \
     ON CONFLICT (token_id) DO NOTHING";

/// `$1`: public id, `$2`: owner id, `$3`: now → `id` of the live session
/// of that user with that id, now ended.
pub(super) const END_SESSION: &str = "UPDATE sessions SET revoked_at = $3 \
     WHERE public_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id";

/// `$1`: owner id, `$2`: now, `$3`: the public id to keep (`''`: none).
/// Ends the user's live sessions; rows affected: how many.
pub(super) const END_USER_SESSIONS: &str = "UPDATE sessions SET revoked_at = $2 \
     WHERE user_id = $1 AND revoked_at IS NULL AND public_id <> $3";

/// `$1`: owner id, `$2`: the time [`END_USER_SESSIONS`] ended them at.
/// Blacklists every token of the sessions ended then.
pub(super) const BLACKLIST_ENDED_USER_TOKENS: &str =
    "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) \
     SELECT o.id, $2 FROM outstanding_tokens o JOIN sessions s ON s.id = o.session_id \
     WHERE s.user_id = $1 AND s.revoked_at = $2 \
     ON CONFLICT (token_id) DO NOTHING";

/// Session columns, in [`SessionRecord`](super::model::SessionRecord) order.
macro_rules! session_columns {
    () => {
        "s.public_id, s.user_id, s.created_at, s.last_used_at, s.user_agent, s.ip, \
         s.revoked_at, s.expires_at"
    };
}

/// `$1`: jti → the session of that token.
pub(super) const SESSION_OF_TOKEN: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions s JOIN outstanding_tokens o ON o.session_id = s.id WHERE o.jti = $1"
);

/// `$1`: user id, `$2`: now → the user's live sessions, oldest first.
pub(super) const LIVE_SESSIONS_OF_USER: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
     ORDER BY s.created_at, s.id"
);

/// `$1`: now, `$2`: batch size. Sessions whose last token has expired.
pub(super) const FLUSH_EXPIRED_SESSIONS_BATCH: &str = "DELETE FROM sessions WHERE id IN \
     (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT $2)";

/// `$1`: jti, `$2`: now. One row affected exactly when this call claimed the
/// token: the unique index on `token_id` refuses every other claim.
pub(super) const INSERT_BLACKLISTED: &str =
    "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) \
     SELECT id, $2 FROM outstanding_tokens WHERE jti = $1 \
     ON CONFLICT (token_id) DO NOTHING";

/// `$1`: now, `$2`: batch size. Blacklist rows go by cascade.
pub(super) const FLUSH_EXPIRED_BATCH: &str = "DELETE FROM outstanding_tokens WHERE id IN \
     (SELECT id FROM outstanding_tokens WHERE expires_at <= $1 LIMIT $2)";

/// → `o`, `b`.
pub(super) const TOKEN_COUNTS: &str = "SELECT (SELECT COUNT(*) FROM outstanding_tokens) AS o, \
     (SELECT COUNT(*) FROM blacklisted_tokens) AS b";

/// `$1`: key, `$2`: value; no row affected when the key is set.
pub(super) const SET_META_ONCE: &str =
    "INSERT INTO simplejwt_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";

/// `$1`: key → `value`.
pub(super) const META: &str = "SELECT value FROM simplejwt_meta WHERE key = $1";

/// Login failures of a key within the window (PostgreSQL only: SQLite keeps
/// them in memory, see `counters.rs`).
pub(super) const FAILURES_GET: &str =
    "SELECT failures, last_failure_ms FROM login_failures WHERE key = $1 AND last_failure_ms >= $2";

/// One more failure of a key: +1, or 1 when its last one is before the window.
pub(super) const FAILURES_RECORD: &str =
    "INSERT INTO login_failures (key, failures, last_failure_ms) \
     VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET \
     failures = CASE WHEN login_failures.last_failure_ms < $3 THEN 1 \
     ELSE login_failures.failures + 1 END, last_failure_ms = $2 \
     RETURNING failures, last_failure_ms";

/// Forgets a key.
pub(super) const FAILURES_CLEAR: &str = "DELETE FROM login_failures WHERE key = $1";

/// Forgets every key whose last failure is before the window.
pub(super) const FAILURES_PURGE: &str = "DELETE FROM login_failures WHERE last_failure_ms < $1";

/// A round trip.
pub(super) const PING: &str = "SELECT 1 AS one";

/// → `version` of every migration applied successfully, in order (sqlx's
/// bookkeeping table, the same on both databases; a failed one is pending).
pub(super) const APPLIED_MIGRATIONS: &str =
    "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";

/// `$1`…`$7`: created_at, event, user_id, username, ip, user_agent, detail.
pub(super) const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_events \
     (created_at, event, user_id, username, ip, user_agent, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// `$1`: cutoff (epoch seconds), `$2`: batch size. Audit rows older than the retention.
pub(super) const FLUSH_AUDIT_BATCH: &str = "DELETE FROM audit_events WHERE id IN \
     (SELECT id FROM audit_events WHERE created_at < $1 LIMIT $2)";

/// `$1`: limit → the newest audit rows first, in [`AuditRecord`](super::model::AuditRecord) order.
pub(super) const RECENT_AUDIT_EVENTS: &str = "SELECT created_at, event, user_id, username, ip, \
     user_agent, detail FROM audit_events ORDER BY id DESC LIMIT $1";

/// The parameters of [`INSERT_AUDIT_EVENT`] for one row.
pub(super) fn audit_params(r: &super::model::AuditRecord) -> [Param<'_>; 7] {
    [
        Param::Int(r.created_at),
        Param::Text(&r.event),
        Param::OptInt(r.user_id),
        Param::OptText(r.username.as_deref()),
        Param::OptText(r.ip.as_deref()),
        Param::OptText(r.user_agent.as_deref()),
        Param::OptText(r.detail.as_deref()),
    ]
}

// ==== social login (issue 21) =========================================

/// Expands to the identity columns, in [`IdentityColumns`](super::model::IdentityColumns) order.
macro_rules! identity_columns {
    () => {
        "id, user_id, provider, issuer, subject, email, created_at"
    };
}

/// `$1`: issuer, `$2`: subject → one identity row.
pub(super) const IDENTITY_BY_SUBJECT: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM user_identities WHERE issuer = $1 AND subject = $2"
);

/// `$1`: user id → the user's identity rows, oldest first.
pub(super) const IDENTITIES_OF_USER: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM user_identities WHERE user_id = $1 ORDER BY id"
);

/// `$1..$6`: user id, provider, issuer, subject, email, now → `id`.
pub(super) const INSERT_IDENTITY: &str = "INSERT INTO user_identities \
     (user_id, provider, issuer, subject, email, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// The parameters of [`INSERT_IDENTITY`]: `identity` linked to user
/// `user_id` at `now`.
pub(super) fn identity_params(
    user_id: i64,
    identity: &super::model::NewIdentity,
    now: i64,
) -> [Param<'_>; 6] {
    [
        Param::Int(user_id),
        Param::Text(&identity.provider),
        Param::Text(&identity.issuer),
        Param::Text(&identity.subject),
        Param::Text(&identity.email),
        Param::Int(now),
    ]
}

/// `$1`: identity id, `$2`: user id.
pub(super) const DELETE_IDENTITY: &str =
    "DELETE FROM user_identities WHERE id = $1 AND user_id = $2";

/// `$1`: e-mail address → up to two user rows with it (case-insensitive):
/// two mean the address names no one account.
pub(super) const USERS_BY_EMAIL: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE email <> '' AND LOWER(email) = LOWER($1) ORDER BY id LIMIT 2"
);

/// `$1`: key hash, `$2`: kind, `$3`: payload, `$4`: expiry.
pub(super) const PUT_PENDING: &str =
    "INSERT INTO oidc_pending (key_hash, kind, payload, expires_at) VALUES ($1, $2, $3, $4)";

/// `$1`: now: forgets expired pending records.
pub(super) const PURGE_PENDING: &str = "DELETE FROM oidc_pending WHERE expires_at <= $1";

/// `$1`: key hash, `$2`: kind → `payload`, `expires_at` of the record,
/// deleted by this statement: of two concurrent takes, one gets it.
pub(super) const TAKE_PENDING: &str =
    "DELETE FROM oidc_pending WHERE key_hash = $1 AND kind = $2 RETURNING payload, expires_at";

/// Runs a batched delete (`FLUSH_*_BATCH`: at most `batch` rows a
/// statement, so a large flush never holds the database long) until a
/// batch deletes fewer than `batch` rows, yielding to the runtime between
/// batches; the rows deleted in all. `delete` runs the statement once on
/// the driver.
pub(super) async fn in_batches<F, Fut>(batch: i64, mut delete: F) -> Result<u64, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let deleted = delete().await?;
        total += deleted;
        if deleted < batch as u64 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
