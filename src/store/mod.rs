//! Persistent state: users, outstanding tokens and the blacklist.
//!
//! One implementation serves SQLite and PostgreSQL through sqlx's `Any`
//! driver: every query is written once, in SQL both dialects accept (`$n`
//! placeholders, `ON CONFLICT … DO NOTHING`, `RETURNING`, integer flags and
//! epoch-second times). What differs — connection setup and the migration
//! files — lives in [`dialect`]. The logic above never knows which database
//! it talks to.
//!
//! Exactly-once rotation is enforced by the database, not by a lock in this
//! process: the used refresh token is claimed by inserting its blacklist row
//! under a unique index, in the same transaction that records its successor.
//! Of any number of concurrent claims — from one process or many sharing the
//! database — exactly one inserts a row; the others find the conflict.

mod dialect;
mod sqlite_reader;
mod token_writes;

use token_writes::{GroupCommit, TokenWrite};

pub use dialect::{Backend, StoreOptions};

use sqlx::any::AnyRow;
use sqlx::AnyPool;
use sqlx::Row;

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

/// Storage failures, split by what the caller should do about them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded: retry later (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the write (e.g. the username is taken).
    #[error("already exists")]
    Conflict,
    /// The schema is newer than this program or otherwise unusable.
    #[error("database schema: {0}")]
    Schema(String),
    /// Anything else: a bug or a corrupt database (HTTP 500, logged).
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::Database(db) if is_transient(db.code().as_deref()) => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Other(e.to_string()),
        }
    }
}

/// SQLite busy/locked, PostgreSQL connection / shutdown / timeout classes.
fn is_transient(code: Option<&str>) -> bool {
    match code {
        Some(c) => {
            c == "5"
                || c == "6"
                || c == "517"
                || c.starts_with("08")
                || c.starts_with("57")
                || c == "53300"
        }
        None => false,
    }
}

type Result<T> = std::result::Result<T, StoreError>;

const IS_BLACKLISTED: &str = "SELECT 1 AS hit FROM blacklisted_tokens b \
     JOIN outstanding_tokens o ON o.id = b.token_id WHERE o.jti = $1";

static USER_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
static USER_BY_USERNAME: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"));

const USER_COLUMNS: &str = "id, username, password, email, first_name, last_name, is_active, \
                            is_staff, is_superuser, date_joined, last_login";

/// The user columns, in [`USER_COLUMNS`] order, as each driver reads them.
type UserColumns = (
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

fn user_from_columns(c: UserColumns) -> User {
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

fn user_from_row(row: &AnyRow) -> std::result::Result<User, sqlx::Error> {
    Ok(user_from_columns((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
        row.try_get(7)?,
        row.try_get(8)?,
        row.try_get(9)?,
        row.try_get(10)?,
    )))
}

/// The store: a connection pool and the queries. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Client-side deadline for one store call: a database that stops
    /// answering (a cut network, not just a refused connection) becomes a
    /// clear "unavailable" instead of a request that hangs.
    deadline: std::time::Duration,
    /// SQLite only: in-thread user lookups (see [`sqlite_reader`]).
    reader: Option<std::sync::Arc<sqlite_reader::SqliteReader>>,
    /// SQLite only: one writer at a time from this process (see [`Store::write`]).
    writer: Option<std::sync::Arc<tokio::sync::Semaphore>>,
    /// SQLite only: token writes of concurrent requests committed together.
    group_commit: Option<GroupCommit>,
}

impl Store {
    /// Connects to `database_url` (`sqlite://…` or `postgres://…`) without migrating.
    pub async fn connect(database_url: &str, options: &StoreOptions) -> Result<Self> {
        let (pool, backend) = dialect::connect(database_url, options).await?;
        let deadline = options.statement_timeout + options.connect_timeout;
        let reader = match backend {
            Backend::Sqlite => sqlite_reader::file_of(database_url).map(|path| {
                std::sync::Arc::new(sqlite_reader::SqliteReader::new(path, num_cpus::get() + 1))
            }),
            Backend::Postgres => None,
        };
        let writer = (backend == Backend::Sqlite)
            .then(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1)));
        let group_commit = writer
            .as_ref()
            .map(|writer| GroupCommit::start(pool.clone(), writer.clone()));
        Ok(Self {
            pool,
            backend,
            deadline,
            reader,
            writer,
            group_commit,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for callers that need a raw query (tests, tools).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations. Refuses a schema newer than this program
    /// (a migration applied by a newer version that this one does not know).
    /// On PostgreSQL the migrator holds an advisory lock, so instances
    /// starting together do not migrate twice.
    pub async fn migrate(&self) -> Result<()> {
        dialect::migrate(&self.pool, self.backend).await
    }

    /// Checks without changing anything that the schema is exactly the one
    /// this program knows: not older (run `migrate`), not newer (upgrade).
    pub async fn check_schema(&self) -> Result<()> {
        dialect::check_schema(&self.pool, self.backend).await
    }

    /// Runs one write under the deadline, holding this process's writer slot
    /// (SQLite): SQLite has one writer at a time, and letting every pooled
    /// connection race for its lock ends in the busy handler's sleeps. Here
    /// writers queue in order instead, and the lock is free when each starts.
    async fn write<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.timed(async {
            let _slot =
                match &self.writer {
                    Some(slot) => Some(slot.acquire().await.map_err(|_| {
                        StoreError::Unavailable("the store is shutting down".into())
                    })?),
                    None => None,
                };
            op.await
        })
        .await
    }

    /// Runs one store operation under the client-side deadline.
    async fn timed<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.deadline, op).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer from the database within {:?}",
                self.deadline
            ))),
        }
    }

    /// Closes the pool, waiting for checked-out connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction that writes: SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so concurrent writers queue on the busy timeout
    /// instead of failing on a stale read snapshot.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    // ---- users -------------------------------------------------------------

    /// The user with this primary key.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        if let Some(reader) = &self.reader {
            match reader.user_by_id(&USER_BY_ID, id) {
                Ok(user) => return Ok(user),
                Err(e) => {
                    tracing::debug!(error = %e, "in-thread SQLite read failed; using the pool")
                }
            }
        }
        self.timed(async {
            let row = sqlx::query(&USER_BY_ID)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.as_ref().map(user_from_row).transpose()?)
        })
        .await
    }

    /// The user with this exact (case-sensitive) username.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        // No stored name contains NUL, and PostgreSQL refuses it in text parameters.
        if username.contains('\0') {
            return Ok(None);
        }
        if let Some(reader) = &self.reader {
            match reader.user_by_username(&USER_BY_USERNAME, username) {
                Ok(user) => return Ok(user),
                Err(e) => {
                    tracing::debug!(error = %e, "in-thread SQLite read failed; using the pool")
                }
            }
        }
        self.timed(async {
            let row = sqlx::query(&USER_BY_USERNAME)
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.as_ref().map(user_from_row).transpose()?)
        })
        .await
    }

    /// Creates a user; [`StoreError::Conflict`] when the username is taken.
    pub async fn create_user(&self, new: &NewUser, now: i64) -> Result<User> {
        self.write(async {
            let sql = "INSERT INTO users (username, password, email, is_active, is_staff, \
                       is_superuser, date_joined) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
            let row = sqlx::query(sql)
                .bind(&new.username)
                .bind(&new.password_hash)
                .bind(&new.email)
                .bind(i64::from(new.is_active))
                .bind(i64::from(new.is_staff))
                .bind(i64::from(new.is_superuser))
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
            let id: i64 = row.try_get("id").map_err(StoreError::from)?;
            self.user_by_id(id)
                .await?
                .ok_or_else(|| StoreError::Other("user vanished".into()))
        })
        .await
    }

    /// Replaces a user's password hash. Returns false when there is no such user.
    pub async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<bool> {
        self.write(async {
            let r = sqlx::query("UPDATE users SET password = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected() == 1)
        })
        .await
    }

    /// Replaces a password hash only if it is still `expected` (re-hash on
    /// login must not overwrite a password changed in between).
    pub async fn upgrade_password(
        &self,
        user_id: i64,
        expected: &str,
        new_hash: &str,
    ) -> Result<bool> {
        self.write(async {
            let r = sqlx::query("UPDATE users SET password = $1 WHERE id = $2 AND password = $3")
                .bind(new_hash)
                .bind(user_id)
                .bind(expected)
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected() == 1)
        })
        .await
    }

    /// Activates or deactivates a user. Returns false when there is no such user.
    pub async fn set_active(&self, username: &str, active: bool) -> Result<bool> {
        self.write(async {
            let r = sqlx::query("UPDATE users SET is_active = $1 WHERE username = $2")
                .bind(i64::from(active))
                .bind(username)
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected() == 1)
        })
        .await
    }

    /// Deletes a user; their tokens stay recorded with no owner, blacklist rows survive.
    pub async fn delete_user(&self, username: &str) -> Result<bool> {
        self.write(async {
            let r = sqlx::query("DELETE FROM users WHERE username = $1")
                .bind(username)
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected() == 1)
        })
        .await
    }

    /// Records a successful login time.
    pub async fn touch_last_login(&self, user_id: i64, now: i64) -> Result<()> {
        self.write(async {
            sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
                .bind(now)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    /// Number of user accounts.
    pub async fn count_users(&self) -> Result<i64> {
        self.timed(async {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
                .fetch_one(&self.pool)
                .await?;
            row.try_get("n").map_err(StoreError::from)
        })
        .await
    }

    // ---- tokens ------------------------------------------------------------

    /// Records an issued refresh token (idempotent by `jti`).
    pub async fn add_outstanding(&self, token: &OutstandingToken) -> Result<()> {
        self.token_write(TokenWrite::Record(token.clone()))
            .await
            .map(|_| ())
    }

    /// Whether the token with this id is blacklisted.
    pub async fn is_blacklisted(&self, jti: &str) -> Result<bool> {
        // Token ids with NUL are refused before they are stored (see token::claims::check).
        if jti.contains('\0') {
            return Ok(false);
        }
        if let Some(reader) = &self.reader {
            match reader.exists(IS_BLACKLISTED, jti) {
                Ok(hit) => return Ok(hit),
                Err(e) => {
                    tracing::debug!(error = %e, "in-thread SQLite read failed; using the pool")
                }
            }
        }
        self.timed(async {
            let row = sqlx::query(IS_BLACKLISTED)
                .bind(jti)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.is_some())
        })
        .await
    }

    /// Blacklists a token (recording it as outstanding first if it never was).
    /// Returns false when it was already blacklisted.
    pub async fn blacklist(&self, token: &OutstandingToken, now: i64) -> Result<bool> {
        self.token_write(TokenWrite::Blacklist {
            token: token.clone(),
            now,
        })
        .await
    }

    /// Rotation: blacklists `used` and records `successor`, atomically.
    /// Returns false — and records no successor — when `used` was already
    /// blacklisted, including by a concurrent rotation that won.
    pub async fn rotate(
        &self,
        used: &OutstandingToken,
        successor: &OutstandingToken,
        now: i64,
    ) -> Result<bool> {
        self.token_write(TokenWrite::Rotate {
            used: used.clone(),
            successor: successor.clone(),
            now,
        })
        .await
    }

    /// One token write: through the group committer (SQLite) or in its own
    /// transaction (PostgreSQL).
    async fn token_write(&self, op: TokenWrite) -> Result<bool> {
        if let Some(group) = &self.group_commit {
            return self.timed(group.submit(op)).await;
        }
        self.write(async {
            if let TokenWrite::Record(token) = &op {
                insert_outstanding(&self.pool, token).await?;
                return Ok(true);
            }
            let mut tx = self.begin_write().await?;
            let applied = token_writes::apply(&mut tx, &op).await?;
            tx.commit().await?;
            Ok(applied)
        })
        .await
    }

    /// Deletes outstanding tokens expired at `now` (and, by cascade, their
    /// blacklist rows) in batches of `batch` rows, each its own short
    /// transaction so traffic is never blocked for long. Returns rows deleted.
    pub async fn flush_expired(&self, now: i64, batch: i64) -> Result<u64> {
        let mut total = 0;
        loop {
            let r = self
                .write(async {
                    Ok(sqlx::query(
                        "DELETE FROM outstanding_tokens WHERE id IN \
                         (SELECT id FROM outstanding_tokens WHERE expires_at <= $1 LIMIT $2)",
                    )
                    .bind(now)
                    .bind(batch)
                    .execute(&self.pool)
                    .await?)
                })
                .await?;
            total += r.rows_affected();
            if r.rows_affected() < batch as u64 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Counts of (outstanding, blacklisted) rows.
    pub async fn token_counts(&self) -> Result<(i64, i64)> {
        self.timed(async {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM outstanding_tokens) AS o, \
                        (SELECT COUNT(*) FROM blacklisted_tokens) AS b",
            )
            .fetch_one(&self.pool)
            .await?;
            Ok((row.try_get("o")?, row.try_get("b")?))
        })
        .await
    }

    // ---- metadata ----------------------------------------------------------

    /// Sets a metadata flag once; returns false if it was already set.
    pub async fn set_meta_once(&self, key: &str, value: &str) -> Result<bool> {
        self.write(async {
            let r = sqlx::query(
                "INSERT INTO simplejwt_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
            Ok(r.rows_affected() == 1)
        })
        .await
    }

    /// Reads a metadata value.
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        self.timed(async {
            let row = sqlx::query("SELECT value FROM simplejwt_meta WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(|r| r.try_get("value")).transpose()?)
        })
        .await
    }

    /// A trivial round trip: is the database answering?
    pub async fn ping(&self) -> Result<()> {
        self.timed(async {
            sqlx::query("SELECT 1 AS one").fetch_one(&self.pool).await?;
            Ok(())
        })
        .await
    }
}

/// Records a token by `jti` (idempotent). A user id that no longer exists
/// would break the foreign key, so such a token is recorded with no owner.
async fn insert_outstanding<'e, E>(executor: E, token: &OutstandingToken) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
         VALUES ($1, (SELECT id FROM users WHERE id = $2), $3, $4) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(&token.jti)
    .bind(token.user_id)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Inserts the blacklist row for `token` inside `tx`; true if this call made it.
async fn claim(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    token: &OutstandingToken,
    now: i64,
) -> Result<bool> {
    // The token may never have been recorded (issued elsewhere with the same key).
    insert_outstanding(&mut **tx, token).await?;
    let r = sqlx::query(
        "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) \
         SELECT id, $2 FROM outstanding_tokens WHERE jti = $1 \
         ON CONFLICT (token_id) DO NOTHING",
    )
    .bind(&token.jti)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}
