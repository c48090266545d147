//! Every SQL statement of the stores, written once for both databases.
//!
//! The text is SQL that SQLite and PostgreSQL both accept: `$n` placeholders,
//! `ON CONFLICT … DO NOTHING`, `RETURNING`, integer 0/1 flags and epoch-second
//! times. A driver binds [`Param`]s by their `$n` number (the SQLite driver
//! looks each placeholder's number up, since SQLite numbers parameters in
//! order of first appearance), so a statement may use its parameters in any
//! order. What differs between the databases — connection setup and the
//! migration files — lives with each driver.

/// One statement parameter.
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    /// An integer.
    Int(i64),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// A text.
    Text(&'a str),
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

/// `$1`: username → one user row.
pub(super) const USER_BY_USERNAME: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE username = $1"
);

/// `$1..$7`: username, hash, email, active, staff, superuser, date joined → `id`.
pub(super) const INSERT_USER: &str = "INSERT INTO users (username, password, email, is_active, \
     is_staff, is_superuser, date_joined) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

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

/// `$1..$4`: jti, owner id, created at, expires at. Idempotent by `jti`; an
/// owner id that does not exist would break the foreign key, so such a
/// token is recorded with no owner.
pub(super) const INSERT_OUTSTANDING: &str =
    "INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
     VALUES ($1, (SELECT id FROM users WHERE id = $2), $3, $4) \
     ON CONFLICT (jti) DO NOTHING";

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

/// A round trip.
pub(super) const PING: &str = "SELECT 1 AS one";

/// → `version` of every migration applied successfully, in order (sqlx's
/// bookkeeping table, the same on both databases; a failed one is pending).
pub(super) const APPLIED_MIGRATIONS: &str =
    "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
