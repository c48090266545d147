//! Persistent state: users, sessions, outstanding tokens and the blacklist.
//!
//! Storage is a set of traits ([`UserStore`], [`TokenStore`], and
//! [`Database`] for our own database as a whole) with two implementations,
//! SQLite and PostgreSQL, each on its own driver: rusqlite for SQLite (reads
//! in the calling thread, writes on one writer thread with group commit),
//! sqlx's `PgPool` for PostgreSQL. They share the SQL text (`sql.rs`) and
//! the token-write logic (`token_writes.rs`); they differ in connection
//! setup and in where a statement runs, not in logic. [`connect`] picks one
//! from the URL, parsed once (`url.rs`). Nothing of sqlx or rusqlite appears
//! in this public API.
//!
//! Layout, and why this file holds no types: every file below depends only
//! on files further down this list, never on this one or on one above it,
//! so there is no import cycle between files.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`connect`], re-exports |
//! | `sqlite/`, `postgres/` | the two implementations (each: `conn.rs` how a statement runs, `mod.rs` the store traits, `identities.rs` social login) |
//! | `migrate.rs` | sqlx's migrator, both databases |
//! | `import.rs` | [`Database::import_users`] / [`Database::import_tokens`] logic, once, over the same `Tx` |
//! | `token_writes.rs` | record / blacklist / rotate, written once over a small `Tx` trait |
//! | `traits.rs` | [`UserStore`], [`TokenStore`], [`Database`] |
//! | `sql.rs` | every statement, once |
//! | `url.rs` | [`Backend`], the URL parser, [`sqlite_file`], [`redact_url`] |
//! | `model.rs`, `options.rs`, `error.rs` | [`User`] and the other records, [`StoreOptions`], [`StoreError`] |
//!
//! Exactly-once rotation is enforced by the database, not by a lock in this
//! process: see [`TokenStore`].
//!
//! ```
//! use std::sync::Arc;
//! use simplejwt::store::{connect, Database, StoreOptions, TokenStore, UserStore};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), simplejwt::store::StoreError> {
//! # let dir = tempfile::tempdir().unwrap();
//! # std::env::set_current_dir(dir.path()).unwrap();
//! let db: Arc<dyn Database> = connect("sqlite://app.sqlite3", &StoreOptions::default()).await?;
//! db.migrate().await?;
//! let users: Arc<dyn UserStore> = db.clone(); // trait upcasting
//! let tokens: Arc<dyn TokenStore> = db.clone();
//! assert!(users.user_by_username("nobody").await?.is_none());
//! assert_eq!(tokens.token_counts().await?, (0, 0));
//! # Ok(()) }
//! ```

pub mod counters;
mod error;
mod faults;
mod import;
mod migrate;
mod model;
mod options;
mod postgres;
mod sql;
mod sqlite;
mod token_writes;
mod traits;
mod url;

use std::sync::Arc;

pub use counters::{FailureCounters, Failures, MemoryCounters};
pub use error::StoreError;
pub use import::{ImportedToken, TokensImported, UserConflict, UsersImported};
pub use model::{
    AuditRecord, Identity, NewIdentity, NewSession, NewUser, OutstandingToken, Rotation,
    RotationRules, SessionLifetimes, SessionRecord, User,
};
pub use options::StoreOptions;
pub use traits::{Database, IdentityStore, PoolStats, TokenStore, UserStore};
pub use url::{redact_url, sqlite_file, Backend};

/// The attribute the store traits are declared with: implement
/// [`UserStore`] for your own users table as
/// `#[simplejwt::store::async_trait] impl UserStore for MyUsers { … }`.
#[doc(no_inline)]
pub use async_trait::async_trait;

/// Opens the database a URL names (`sqlite://…` or `postgres://…`) without
/// migrating.
///
/// SQLite: a missing file is created readable by its owner only (unless the
/// URL says `mode=rw` or `mode=ro`) and the writer thread started; the
/// readers connect on first use. PostgreSQL: a pool that connects on first
/// use. So this fails only for a URL it cannot use ([`StoreError::Other`]:
/// unknown scheme, invalid URL, an in-memory SQLite database, an unknown
/// `sqlite_synchronous`); an unreachable database shows on the first call.
pub async fn connect(url: &str, options: &StoreOptions) -> Result<Arc<dyn Database>, StoreError> {
    Ok(match url::parse(url)? {
        url::Target::Sqlite(target) => Arc::new(sqlite::SqliteDatabase::open(*target, options)?),
        url::Target::Postgres(target) => Arc::new(postgres::PgDatabase::connect(*target, options)),
    })
}

/// Why the database a URL names cannot be reached, found with one direct
/// connection of its own: for PostgreSQL, the host, port, database and user
/// and the driver's cause (connection refused, unknown host, password
/// authentication failed, database does not exist), where the pool only
/// says it "timed out while waiting for an open connection". `None` when
/// that connection succeeds, for SQLite (whose errors name the file
/// already) and for a URL [`connect`] refuses. For start-up and command-line
/// messages, never a request path: each call opens a connection.
pub async fn diagnose(url: &str, timeout: std::time::Duration) -> Option<String> {
    match url::parse(url).ok()? {
        url::Target::Sqlite(_) => None,
        url::Target::Postgres(target) => postgres::diagnose(&target, timeout).await,
    }
}
