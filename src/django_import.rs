//! Moving from Django: copies a Django project's users (`auth_user`) and
//! djangorestframework-simplejwt's token blacklist
//! (`token_blacklist_outstandingtoken`, `token_blacklist_blacklistedtoken`)
//! into our database, so nobody is logged out by the move.
//!
//! What makes the move seamless, and where each promise is kept:
//!
//! - **Tokens minted by Django keep working**: users keep their ids (the
//!   `user_id` claim names them) — [`Database::import_users`]; the signing
//!   key is the operator's to carry over (`SIMPLE_JWT_SIGNING_KEY` = Django's
//!   `SIGNING_KEY`, by default its `SECRET_KEY`).
//! - **Blacklisted tokens stay refused**: outstanding tokens and blacklist
//!   entries are copied by `jti` with their times — [`Database::import_tokens`].
//! - **Every user logs in with the old password**: Django's hashes are copied
//!   as they are; `pbkdf2_sha256`, `pbkdf2_sha1` and `argon2` verify here and
//!   are upgraded to argon2id on the first login (`service/obtain.rs`). Other
//!   formats (bcrypt, scrypt, md5, …) are counted in the report by name
//!   ([`stored_format`]) so the operator knows who must reset a password.
//! - **Repeatable**: every row is inserted only when missing (see
//!   `store/import.rs`), so a second run changes nothing and a run before
//!   the switch-over picks up what changed since the first.
//!
//! The source is read in one snapshot (a read transaction: SQLite `BEGIN`,
//! PostgreSQL `REPEATABLE READ READ ONLY`), page by page in id order
//! (keyset pagination), each page written in one transaction of the target
//! and reported to a [`Progress`]. Django's datetimes become epoch seconds in
//! the source's own SQL: SQLite's `strftime('%s', …)` reads the UTC text
//! Django writes with `USE_TZ = True` (with `USE_TZ = False` Django writes
//! local time, which would be read as UTC), PostgreSQL's `EXTRACT(EPOCH …)`
//! reads `timestamptz`.
//!
//! The source is opened with the drivers the stores use (rusqlite, sqlx), so
//! nothing is added for it; it is never written.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sqlx::{Connection as _, Row as _};

use crate::password::stored_format;
use crate::store::{
    Database, ImportedToken, OutstandingToken, StoreError, TokensImported, User, UserConflict,
};

/// simplejwt's table of issued refresh tokens.
pub const OUTSTANDING_TABLE: &str = "token_blacklist_outstandingtoken";
/// simplejwt's table of blacklisted tokens.
pub const BLACKLISTED_TABLE: &str = "token_blacklist_blacklistedtoken";
/// Django's default users table (`django.contrib.auth.models.User`).
pub const DEFAULT_USERS_TABLE: &str = "auth_user";

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The Django database cannot be opened or read, or is not what a
    /// Django project with simplejwt makes (the message says what).
    #[error("the Django database {0}")]
    Source(String),
    /// Our database failed.
    #[error("the target database: {0}")]
    Target(#[from] StoreError),
}

fn source(e: impl std::fmt::Display) -> ImportError {
    ImportError::Source(e.to_string())
}

/// Where the import reports how far it is, table by table.
pub trait Progress {
    /// Starts a table of `total` rows.
    fn start(&mut self, table: &str, total: u64);
    /// `rows` more rows of the current table are done.
    fn advance(&mut self, rows: u64);
    /// The current table is done.
    fn finish(&mut self);
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _table: &str, _total: u64) {}
    fn advance(&mut self, _rows: u64) {}
    fn finish(&mut self) {}
}

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Users in the Django database.
    pub users_in_source: u64,
    /// Users inserted now.
    pub users_inserted: u64,
    /// Users found here already (same id, same username), left unchanged.
    pub users_present: u64,
    /// Users refused: their id or username belongs to another account here.
    pub conflicts: Vec<UserConflict>,
    /// Users whose password hash this crate cannot verify, by format name
    /// (`unusable` passwords included): they cannot log in until reset.
    pub unverifiable: BTreeMap<String, u64>,
    /// Whether the Django database has simplejwt's blacklist tables (the
    /// `token_blacklist` app); `false`: no token was imported.
    pub has_token_tables: bool,
    /// Outstanding tokens in the Django database.
    pub tokens_in_source: u64,
    /// Blacklisted tokens in the Django database.
    pub blacklisted_in_source: u64,
    /// What importing the tokens did.
    pub tokens: TokensImported,
}

/// An open Django database, read-only, inside one read snapshot.
pub struct DjangoSource {
    conn: SourceConn,
    users_table: String,
    label: String,
}

enum SourceConn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<sqlx::PgConnection>),
}

impl std::fmt::Debug for DjangoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DjangoSource")
            .field("database", &self.label)
            .field("users_table", &self.users_table)
            .finish_non_exhaustive()
    }
}

/// A table name that can be put into SQL as it is.
fn valid_table(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63
}

impl DjangoSource {
    /// Opens a Django database read-only: a SQLite file (a path, or a
    /// `sqlite://` URL as `DATABASE_URL` spells it here: `sqlite://rel.db`,
    /// `sqlite:///abs/path.db`) or a `postgres://` / `postgresql://` URL.
    /// `users_table` is `auth_user` unless the project has a custom user
    /// model (its table must have `AbstractUser`'s columns). Checks that the
    /// users table exists. [`ImportError::Source`] naming the database
    /// (without its password) and the cause otherwise.
    pub async fn open(url: &str, users_table: &str) -> Result<Self, ImportError> {
        if !valid_table(users_table) {
            return Err(source(format!(
                "users table {users_table:?}: not a table name (letters, digits, _)"
            )));
        }
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let (conn, label) = if postgres {
            let options: sqlx::postgres::PgConnectOptions = url
                .parse()
                .map_err(|e| source(format!("URL is not valid: {e}")))?;
            let label = crate::store::redact_url(url);
            let mut conn = sqlx::PgConnection::connect_with(&options)
                .await
                .map_err(|e| source(format!("{label}: cannot connect: {e}")))?;
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut conn)
                .await
                .map_err(|e| source(format!("{label}: {e}")))?;
            (SourceConn::Postgres(Box::new(conn)), label)
        } else {
            let path = sqlite_path(url)?;
            let label = path.display().to_string();
            if !path.is_file() {
                return Err(source(format!("{label}: no such file")));
            }
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| source(format!("{label}: {e}")))?;
            conn.execute_batch("BEGIN")
                .map_err(|e| source(format!("{label}: {e}")))?;
            (SourceConn::Sqlite(conn), label)
        };
        let mut me = Self {
            conn,
            users_table: users_table.to_owned(),
            label,
        };
        if !me.has_table(users_table).await? {
            return Err(source(format!(
                "{}: has no table {users_table} (is it a Django database? a custom user \
                 model's table is named with --users-table)",
                me.label
            )));
        }
        Ok(me)
    }

    /// The database as messages name it: a file, or a URL without its password.
    pub fn label(&self) -> &str {
        &self.label
    }

    async fn has_table(&mut self, name: &str) -> Result<bool, ImportError> {
        let label = &self.label;
        match &mut self.conn {
            SourceConn::Sqlite(conn) => conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [name],
                    |row| row.get::<_, i64>(0),
                )
                .map(|n| n > 0)
                .map_err(|e| source(format!("{label}: {e}"))),
            SourceConn::Postgres(conn) => sqlx::query("SELECT to_regclass($1) IS NOT NULL")
                .bind(name)
                .fetch_one(&mut **conn)
                .await
                .and_then(|row| row.try_get::<bool, _>(0))
                .map_err(|e| source(format!("{label}: {e}"))),
        }
    }

    async fn count(&mut self, sql: &str) -> Result<u64, ImportError> {
        let label = &self.label;
        let n: i64 = match &mut self.conn {
            SourceConn::Sqlite(conn) => conn
                .query_row(sql, [], |row| row.get(0))
                .map_err(|e| source(format!("{label}: {e}")))?,
            SourceConn::Postgres(conn) => sqlx::query(sql)
                .fetch_one(&mut **conn)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| source(format!("{label}: {e}")))?,
        };
        Ok(n.max(0) as u64)
    }

    /// One page of rows (`?1` / `$1`: the id to read after, `?2` / `$2`:
    /// the page size), by the query in this database's dialect; `table`
    /// names what is read in the error.
    async fn page<R>(
        &mut self,
        sqlite: &str,
        postgres: &str,
        after: i64,
        limit: i64,
        table: &str,
    ) -> Result<Vec<R>, ImportError>
    where
        R: for<'r> TryFrom<&'r rusqlite::Row<'r>, Error = rusqlite::Error>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let label = &self.label;
        let rows = match &mut self.conn {
            SourceConn::Sqlite(conn) => {
                let read = || -> rusqlite::Result<Vec<R>> {
                    let mut stmt = conn.prepare_cached(sqlite)?;
                    let rows = stmt.query_map([after, limit], |r| R::try_from(r))?;
                    rows.collect()
                };
                read().map_err(|e| e.to_string())
            }
            SourceConn::Postgres(conn) => sqlx::query_as::<_, R>(postgres)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut **conn)
                .await
                .map_err(|e| e.to_string()),
        };
        rows.map_err(|e| source(format!("{label}: reading {table}: {e}")))
    }

    /// Up to `limit` users with an id above `after`, in id order.
    async fn users_after(&mut self, after: i64, limit: i64) -> Result<Vec<User>, ImportError> {
        let table = self.users_table.clone();
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            String,
            bool,
            bool,
            bool,
            Option<i64>,
            Option<i64>,
        );
        let sqlite = format!(
            "SELECT id, username, password, email, first_name, last_name, is_active, \
             is_staff, is_superuser, CAST(strftime('%s', date_joined) AS INTEGER), \
             CAST(strftime('%s', last_login) AS INTEGER) \
             FROM {table} WHERE id > ?1 ORDER BY id LIMIT ?2"
        );
        let postgres = format!(
            "SELECT id::bigint, username, password, email, first_name, last_name, \
             is_active, is_staff, is_superuser, \
             FLOOR(EXTRACT(EPOCH FROM date_joined))::bigint, \
             FLOOR(EXTRACT(EPOCH FROM last_login))::bigint \
             FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"
        );
        let rows: Vec<Row> = self.page(&sqlite, &postgres, after, limit, &table).await?;
        let label = &self.label;
        rows.into_iter()
            .map(|r| {
                let date_joined = r.9.ok_or_else(|| {
                    source(format!(
                        "{label}: user id {}: date_joined is not a date and time",
                        r.0
                    ))
                })?;
                Ok(User {
                    id: r.0,
                    username: r.1,
                    password: r.2,
                    email: r.3,
                    first_name: r.4,
                    last_name: r.5,
                    is_active: r.6,
                    is_staff: r.7,
                    is_superuser: r.8,
                    date_joined,
                    last_login: r.10,
                })
            })
            .collect()
    }

    /// Up to `limit` outstanding tokens with a row id above `after`, in id
    /// order, each with its blacklisting time; and the last row id read.
    async fn tokens_after(
        &mut self,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<ImportedToken>, Option<i64>), ImportError> {
        type Row = (
            i64,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        );
        let sqlite = format!(
            "SELECT o.id, o.jti, o.user_id, CAST(strftime('%s', o.created_at) AS INTEGER), \
             CAST(strftime('%s', o.expires_at) AS INTEGER), \
             CAST(strftime('%s', b.blacklisted_at) AS INTEGER) \
             FROM {OUTSTANDING_TABLE} o LEFT JOIN {BLACKLISTED_TABLE} b ON b.token_id = o.id \
             WHERE o.id > ?1 ORDER BY o.id LIMIT ?2"
        );
        let postgres = format!(
            "SELECT o.id::bigint, o.jti, o.user_id::bigint, \
             FLOOR(EXTRACT(EPOCH FROM o.created_at))::bigint, \
             FLOOR(EXTRACT(EPOCH FROM o.expires_at))::bigint, \
             FLOOR(EXTRACT(EPOCH FROM b.blacklisted_at))::bigint \
             FROM {OUTSTANDING_TABLE} o LEFT JOIN {BLACKLISTED_TABLE} b ON b.token_id = o.id \
             WHERE o.id > $1 ORDER BY o.id LIMIT $2"
        );
        let rows: Vec<Row> = self
            .page(&sqlite, &postgres, after, limit, OUTSTANDING_TABLE)
            .await?;
        let label = &self.label;
        let last = rows.last().map(|r| r.0);
        let tokens = rows
            .into_iter()
            .map(
                |(id, jti, user_id, created_at, expires_at, blacklisted_at)| {
                    let expires_at = expires_at.ok_or_else(|| {
                        source(format!(
                        "{label}: outstanding token row {id}: expires_at is not a date and time"
                    ))
                    })?;
                    Ok(ImportedToken {
                        token: OutstandingToken {
                            jti,
                            user_id,
                            created_at,
                            expires_at,
                        },
                        blacklisted_at,
                    })
                },
            )
            .collect::<Result<Vec<_>, ImportError>>()?;
        Ok((tokens, last))
    }
}

/// The file a SQLite source names: a plain path, or a `sqlite:` URL read as
/// `DATABASE_URL` is here.
fn sqlite_path(url: &str) -> Result<PathBuf, ImportError> {
    if url.starts_with("sqlite:") {
        return match crate::store::sqlite_file(url) {
            Ok(Some(path)) => Ok(path),
            Ok(None) => Err(source(format!("{url}: not a SQLite URL"))),
            Err(e) => Err(source(e)),
        };
    }
    if url.contains("://") {
        return Err(source(format!(
            "{}: give a SQLite file (a path or sqlite:///path) or a postgres:// URL",
            url.split_once("://").map_or("", |(scheme, _)| scheme)
        )));
    }
    Ok(PathBuf::from(url))
}

/// Copies users, then outstanding and blacklisted tokens, from `source`
/// into `target` in pages of `batch` rows (each page one transaction),
/// reporting to `progress`. Idempotent: see the module doc. Conflicting
/// users are reported in [`ImportReport::conflicts`] and skipped (their
/// tokens are then recorded with no owner); the caller decides whether
/// that is a failure. The target must be migrated.
pub async fn import(
    source: &mut DjangoSource,
    target: &dyn Database,
    batch: usize,
    progress: &mut dyn Progress,
) -> Result<ImportReport, ImportError> {
    let batch = batch.clamp(1, 10_000) as i64;
    let mut report = ImportReport::default();
    let users_table = source.users_table.clone();
    report.users_in_source = source
        .count(&format!("SELECT COUNT(*) FROM {users_table}"))
        .await?;
    progress.start(&users_table, report.users_in_source);
    let mut after = i64::MIN;
    loop {
        let users = source.users_after(after, batch).await?;
        let Some(last) = users.last() else { break };
        after = last.id;
        for user in &users {
            let (format, verifiable) = stored_format(&user.password);
            if !verifiable {
                *report.unverifiable.entry(format.to_owned()).or_default() += 1;
            }
        }
        let done = target.import_users(&users).await?;
        report.users_inserted += done.inserted;
        report.users_present += done.present;
        report.conflicts.extend(done.conflicts);
        progress.advance(users.len() as u64);
    }
    progress.finish();

    report.has_token_tables =
        source.has_table(OUTSTANDING_TABLE).await? && source.has_table(BLACKLISTED_TABLE).await?;
    if !report.has_token_tables {
        return Ok(report);
    }
    report.tokens_in_source = source
        .count(&format!("SELECT COUNT(*) FROM {OUTSTANDING_TABLE}"))
        .await?;
    report.blacklisted_in_source = source
        .count(&format!("SELECT COUNT(*) FROM {BLACKLISTED_TABLE}"))
        .await?;
    progress.start(OUTSTANDING_TABLE, report.tokens_in_source);
    let mut after = i64::MIN;
    loop {
        let (tokens, last) = source.tokens_after(after, batch).await?;
        let Some(last) = last else { break };
        after = last;
        let done = target.import_tokens(&tokens).await?;
        report.tokens.recorded += done.recorded;
        report.tokens.blacklisted += done.blacklisted;
        report.tokens.skipped += done.skipped;
        progress.advance(tokens.len() as u64);
    }
    progress.finish();
    Ok(report)
}
