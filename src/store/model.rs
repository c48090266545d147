//! The records the stores hand out and take in: users and outstanding
//! tokens. Plain data with no database in sight, so a library user's own
//! [`UserStore`](super::UserStore) can build them from any source.

/// A user account.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Primary key; users created in order on a fresh database get 1, 2, 3.
    pub id: i64,
    /// Unique, case-sensitive login name.
    pub username: String,
    /// Stored password hash (Django format); never logged.
    pub password: String,
    /// E-mail address (may be empty).
    pub email: String,
    /// Given name (may be empty).
    pub first_name: String,
    /// Family name (may be empty).
    pub last_name: String,
    /// Inactive users cannot log in, refresh or authenticate (with `CHECK_USER_IS_ACTIVE`).
    pub is_active: bool,
    /// Staff flag (copied into tokens when `TOKEN_CLAIMS` names it).
    pub is_staff: bool,
    /// Superuser flag.
    pub is_superuser: bool,
    /// When the account was created (epoch seconds).
    pub date_joined: i64,
    /// Last successful login (epoch seconds), kept when `UPDATE_LAST_LOGIN` is on.
    pub last_login: Option<i64>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// What `createuser` needs to make an account.
#[derive(Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Password hash (already hashed).
    pub password_hash: String,
    /// E-mail address.
    pub email: String,
    /// Active flag.
    pub is_active: bool,
    /// Staff flag.
    pub is_staff: bool,
    /// Superuser flag.
    pub is_superuser: bool,
}

/// A refresh (or sliding) token as recorded: by id, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingToken {
    /// The token's `jti`.
    pub jti: String,
    /// Its owner, when known and still existing.
    pub user_id: Option<i64>,
    /// When it was issued (epoch seconds).
    pub created_at: Option<i64>,
    /// Its `exp` (epoch seconds): after this the rows may be flushed.
    pub expires_at: i64,
}

/// The user columns in [`USER_COLUMNS`](super::sql) order, as both drivers
/// read them (flags are 0/1 integers in both schemas).
pub(super) type UserColumns = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
);

/// A [`User`] from its columns.
pub(super) fn user_from_columns(c: UserColumns) -> User {
    User {
        id: c.0,
        username: c.1,
        password: c.2,
        email: c.3,
        first_name: c.4,
        last_name: c.5,
        is_active: c.6 != 0,
        is_staff: c.7 != 0,
        is_superuser: c.8 != 0,
        date_joined: c.9,
        last_login: c.10,
    }
}

/// Whether a text can be stored or looked up: no stored name or token id
/// contains NUL, and PostgreSQL refuses NUL in text parameters, so a lookup
/// by such a text finds nothing without asking the database.
pub(super) fn storable(text: &str) -> bool {
    !text.contains('\0')
}
