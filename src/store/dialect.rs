//! What differs between SQLite and PostgreSQL: connection setup and the
//! migration files. Queries themselves are shared (see the parent module).

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::AnyPool;
use sqlx::{ConnectOptions, Executor};

use super::StoreError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The two supported databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (one server process; WAL so readers never wait for the writer).
    Sqlite,
    /// PostgreSQL (several server processes may share it).
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Other(
                "DATABASE_URL must start with sqlite:// or postgres://".into(),
            ))
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Pool and timeout settings. Defaults suit a 2-core machine.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size (default: SQLite 4, PostgreSQL 10).
    pub max_connections: Option<u32>,
    /// How long a request waits for a connection (or to connect) before the
    /// database counts as unavailable (default 3 s).
    pub connect_timeout: Duration,
    /// PostgreSQL `statement_timeout`; SQLite busy timeout (default 5 s).
    pub statement_timeout: Duration,
    /// SQLite `synchronous`: `FULL` (default: a committed write survives power
    /// loss) or `NORMAL` (survives a crash of the process only).
    pub sqlite_synchronous: String,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            sqlite_synchronous: "FULL".into(),
        }
    }
}

/// SQLite URLs create the file unless told otherwise.
fn normalize_sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Creates a new SQLite file readable by its owner only: it holds password
/// hashes. (SQLite gives its `-wal` and `-shm` files the same permissions.)
/// An existing file is left as it is; any other failure is left for SQLite
/// to report when it opens the path.
fn create_private(path: &std::path::Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = options.open(path);
}

pub(super) async fn connect(
    url: &str,
    options: &StoreOptions,
) -> Result<(AnyPool, Backend), StoreError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url)?;
    let url = match backend {
        Backend::Sqlite => {
            let creates = !url.contains("mode=") || url.contains("mode=rwc");
            if let Some(path) = super::sqlite_reader::file_of(url).filter(|_| creates) {
                create_private(&path);
            }
            normalize_sqlite_url(url)
        }
        Backend::Postgres => url.to_owned(),
    };
    let connect_options = AnyConnectOptions::from_str(&url)
        .map_err(|e| StoreError::Other(format!("invalid DATABASE_URL: {e}")))?
        .disable_statement_logging();
    let statement_timeout_ms = options.statement_timeout.as_millis();
    let synchronous = match options.sqlite_synchronous.to_ascii_uppercase().as_str() {
        s @ ("FULL" | "NORMAL" | "EXTRA") => s.to_owned(),
        other => {
            return Err(StoreError::Other(format!(
                "unknown SQLite synchronous mode {other:?}"
            )))
        }
    };
    let max = options.max_connections.unwrap_or(match backend {
        Backend::Sqlite => 4,
        Backend::Postgres => 10,
    });
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(options.connect_timeout)
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            let synchronous = synchronous.clone();
            Box::pin(async move {
                match backend {
                    Backend::Sqlite => {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute(format!("PRAGMA synchronous = {synchronous}").as_str())
                            .await?;
                        conn.execute(
                            format!("PRAGMA busy_timeout = {statement_timeout_ms}").as_str(),
                        )
                        .await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Backend::Postgres => {
                        conn.execute(
                            format!("SET statement_timeout = {statement_timeout_ms}").as_str(),
                        )
                        .await?;
                    }
                }
                Ok(())
            })
        })
        .connect_lazy_with(connect_options);
    Ok((pool, backend))
}

pub(super) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
        sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Schema(format!(
            "the database has migration {v}, which this version of simplejwt does not know: \
             it was migrated by a newer version; upgrade this program"
        )),
        other => StoreError::Schema(other.to_string()),
    })
}

pub(super) async fn check_schema(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    use sqlx::migrate::Migrate;
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    let mut conn = pool.acquire().await?;
    conn.ensure_migrations_table()
        .await
        .map_err(|e| StoreError::Schema(e.to_string()))?;
    let applied = conn
        .list_applied_migrations()
        .await
        .map_err(|e| StoreError::Schema(e.to_string()))?;
    if let Some(unknown) = applied
        .iter()
        .find(|a| !migrator.iter().any(|m| m.version == a.version))
    {
        return Err(StoreError::Schema(format!(
            "the database has migration {}, which this version of simplejwt does not know: \
             it was migrated by a newer version; upgrade this program",
            unknown.version
        )));
    }
    if let Some(pending) = migrator.iter().find(|m| {
        !m.migration_type.is_down_migration() && !applied.iter().any(|a| a.version == m.version)
    }) {
        return Err(StoreError::Schema(format!(
            "migration {} ({}) is not applied yet: run `simplejwt migrate`",
            pending.version, pending.description
        )));
    }
    Ok(())
}
