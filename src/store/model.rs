//! The records the stores hand out and take in: users, outstanding
//! tokens, sessions and the outcome of a rotation. Plain data with no database in sight, so a library user's own
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

/// One row of the audit log (`audit_events`): what happened, to whom, from
/// where. Built from a service event; it has no field for a token, a
/// password or a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// When (epoch seconds).
    pub created_at: i64,
    /// The event's stable name (`login_failed`, `keys_changed`, …).
    pub event: String,
    /// The user's primary key, when known.
    pub user_id: Option<i64>,
    /// The login name tried or used, when known.
    pub username: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// The client's `User-Agent` (bounded by `ClientInfo`).
    pub user_agent: Option<String>,
    /// What else the event names (the kids of a key change).
    pub detail: Option<String>,
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

/// A session as a login starts it: one per login, holding every refresh
/// token issued from that login on (its token family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The session's public id (opaque, random; what the device list shows).
    pub public_id: String,
    /// Its owner.
    pub user_id: i64,
    /// When the login happened (epoch seconds); also its first "last used".
    pub created_at: i64,
    /// The client's `User-Agent` at login, when known (already cut to its limit).
    pub user_agent: Option<String>,
    /// The client's address at login, when known.
    pub ip: Option<String>,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The public id.
    pub public_id: String,
    /// Its owner, while the account exists.
    pub user_id: Option<i64>,
    /// When the login happened (epoch seconds).
    pub created_at: i64,
    /// The last rotation of one of its tokens (epoch seconds); the login
    /// time until then.
    pub last_used_at: i64,
    /// The client's `User-Agent` at login.
    pub user_agent: Option<String>,
    /// The client's address at login.
    pub ip: Option<String>,
    /// When it was ended (logout, reuse detection), if it was.
    pub revoked_at: Option<i64>,
    /// The expiry of its latest refresh token (epoch seconds).
    pub expires_at: i64,
}

/// What a rotation does besides claiming the used token: the rules of
/// `ROTATE_REFRESH_TOKENS`, `BLACKLIST_AFTER_ROTATION`, `REFRESH_REUSE_GRACE`
/// and `REFRESH_REUSE_DETECTION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationRules {
    /// Blacklist the used token (exactly once). Without it the successor is
    /// only recorded, linked to its parent.
    pub blacklist_used: bool,
    /// Seconds after its first use during which the used token, presented
    /// again, gets its still-live successor back (0: never).
    pub grace_seconds: i64,
    /// A used token presented again (outside the grace period) ends its
    /// whole session, in the same transaction.
    pub reuse_detection: bool,
    /// `SESSION_ABSOLUTE_LIFETIME` and `SESSION_IDLE_TIMEOUT`: a session past
    /// either is ended by the rotation that finds it so
    /// ([`Rotation::Expired`]), and a successor never outlives the session's
    /// absolute deadline.
    pub lifetimes: SessionLifetimes,
}

/// `SESSION_ABSOLUTE_LIFETIME` and `SESSION_IDLE_TIMEOUT` in whole seconds
/// (0: no limit). A session is live at `now` while it has not been ended,
/// `now < created_at + absolute` and `now < last_used_at + idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionLifetimes {
    /// Seconds from the login after which the session ends, however often
    /// it is refreshed (0: none).
    pub absolute: i64,
    /// Seconds without a rotation after which the session ends (0: none).
    pub idle: i64,
}

impl SessionLifetimes {
    /// Whether either limit is set.
    pub fn any(self) -> bool {
        self.absolute > 0 || self.idle > 0
    }

    /// The session's absolute deadline (epoch seconds), when there is one.
    pub fn deadline(self, created_at: i64) -> Option<i64> {
        (self.absolute > 0).then(|| created_at.saturating_add(self.absolute))
    }

    /// Whether a session that started at `created_at` and was last rotated
    /// at `last_used_at` is still within both limits at `now`.
    pub fn within(self, created_at: i64, last_used_at: i64, now: i64) -> bool {
        (self.absolute == 0 || now < created_at.saturating_add(self.absolute))
            && (self.idle == 0 || now < last_used_at.saturating_add(self.idle))
    }

    /// Whether this stored session is live at `now`: not ended and within both limits.
    pub fn live(self, session: &SessionRecord, now: i64) -> bool {
        session.revoked_at.is_none() && self.within(session.created_at, session.last_used_at, now)
    }
}

impl Default for RotationRules {
    /// simplejwt's `BLACKLIST_AFTER_ROTATION`: claim the used token, no
    /// grace, no reuse detection.
    fn default() -> Self {
        Self {
            blacklist_used: true,
            grace_seconds: 0,
            reuse_detection: false,
            lifetimes: SessionLifetimes::default(),
        }
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The used token was claimed (or, without blacklisting, linked) and
    /// its successor recorded in its session. `deadline`: the session's
    /// absolute deadline (epoch seconds) when `SESSION_ABSOLUTE_LIFETIME`
    /// is set — the successor's `expires_at` was capped at it, and so must
    /// be the token's `exp`.
    Rotated {
        /// The session's absolute deadline, if any.
        deadline: Option<i64>,
    },
    /// Nothing was written: the used token was already used (by a
    /// concurrent rotation, say) or blacklisted, or its session has ended.
    Refused,
    /// The used token was used less than the grace period ago and its
    /// successor is still live: that successor (`jti`, `created_at` and
    /// `expires_at` as first issued), to be handed out again. Nothing was
    /// written.
    Grace(OutstandingToken),
    /// The used token's session had outlived `SESSION_ABSOLUTE_LIFETIME` or
    /// `SESSION_IDLE_TIMEOUT`: it was ended and every token of it
    /// blacklisted, committed; nothing else was written.
    Expired {
        /// The public id of the session that was ended.
        session: String,
    },
    /// The used token had been rotated out already: its whole session was
    /// ended and every token of it blacklisted, committed.
    ReuseDetected {
        /// The public id of the session that was ended.
        session: String,
    },
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

/// The session columns in `session_columns!` order, as both drivers read them.
pub(super) type SessionColumns = (
    String,
    Option<i64>,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);

/// A [`SessionRecord`] from its columns.
pub(super) fn session_from_columns(c: SessionColumns) -> SessionRecord {
    SessionRecord {
        public_id: c.0,
        user_id: c.1,
        created_at: c.2,
        last_used_at: c.3,
        user_agent: c.4,
        ip: c.5,
        revoked_at: c.6,
        expires_at: c.7,
    }
}

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

/// A provider account linked to a local user (social login): unique by
/// (`issuer`, `subject`), the pair an OpenID provider promises never to
/// reuse for another person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Primary key (what unlinking takes).
    pub id: i64,
    /// The local user it signs in as.
    pub user_id: i64,
    /// The configured provider name it was linked through.
    pub provider: String,
    /// The provider's issuer URL (`iss`).
    pub issuer: String,
    /// The provider's id of the person (`sub`).
    pub subject: String,
    /// The e-mail address the provider gave at linking (may be empty).
    pub email: String,
    /// When it was linked (epoch seconds).
    pub created_at: i64,
}

/// An identity to link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIdentity {
    /// See [`Identity::provider`].
    pub provider: String,
    /// See [`Identity::issuer`].
    pub issuer: String,
    /// See [`Identity::subject`].
    pub subject: String,
    /// See [`Identity::email`].
    pub email: String,
}

impl NewIdentity {
    /// The identity as stored once linked: row `id`, of user `user_id`,
    /// created at `now` (what both drivers answer `link_identity` with).
    pub(super) fn linked(&self, id: i64, user_id: i64, now: i64) -> Identity {
        Identity {
            id,
            user_id,
            provider: self.provider.clone(),
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            email: self.email.clone(),
            created_at: now,
        }
    }
}

/// Identity columns: id, user_id, provider, issuer, subject, email, created_at.
pub(super) type IdentityColumns = (i64, i64, String, String, String, String, i64);

pub(super) fn identity_from_columns(c: IdentityColumns) -> Identity {
    Identity {
        id: c.0,
        user_id: c.1,
        provider: c.2,
        issuer: c.3,
        subject: c.4,
        email: c.5,
        created_at: c.6,
    }
}
