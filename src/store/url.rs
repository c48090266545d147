//! The one database URL parser: which database a URL names, and for SQLite
//! which file.
//!
//! A URL is parsed once, by the driver's own parser (sqlx's
//! `SqliteConnectOptions::from_str` / `PgConnectOptions::from_str`), and that
//! one result is used for everything: creating a new SQLite file with mode
//! 0600 before its first open, the rusqlite connections, the migration
//! connection, and the key file the CLI keeps beside the database
//! ([`sqlite_file`]). Earlier versions parsed SQLite URLs by hand in three
//! places while sqlx percent-decoded them, so `sqlite:///x/my%20db.sqlite3`
//! created an empty private `my%20db.sqlite3` and the real, world-readable
//! `my db.sqlite3` beside it.
//!
//! sqlx keeps the access mode private, so the query string's `mode` is read
//! here — only after sqlx has accepted (and so validated) it, with the same
//! split and decoding sqlx uses. The file name itself only ever comes from
//! sqlx. Anything the rusqlite connections could not honour the same way as
//! the migration connection is refused with a clear error instead of being
//! half-supported: in-memory databases (each of our connections would get
//! its own empty database), SQLite URI file names (`file:…`, which sqlx opens
//! as URIs) and the `immutable` / `vfs` parameters.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use super::error::StoreError;

/// The two supported databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (one server process; WAL so readers never wait for the writer).
    Sqlite,
    /// PostgreSQL (several server processes may share it).
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `sqlite:…` or `postgres://…` /
    /// `postgresql://…`. [`StoreError::Other`] for any other scheme.
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

    /// Lowercase name: `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// How a SQLite URL lets us open its file (`mode=` in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// `mode=ro`: reads only; every write fails as unavailable.
    ReadOnly,
    /// `mode=rw`: the file must exist.
    ReadWrite,
    /// `mode=rwc`, or no mode at all: created (private) when missing.
    Create,
}

/// A parsed SQLite URL.
#[derive(Debug, Clone)]
pub(super) struct SqliteTarget {
    /// The database file, percent-decoded by sqlx.
    pub path: PathBuf,
    /// Whether it may be written, and created.
    pub access: Access,
    /// sqlx's own options for the same file (the migration connection).
    pub options: SqliteConnectOptions,
}

/// A parsed database URL.
#[derive(Debug, Clone)]
pub(super) enum Target {
    /// A SQLite file.
    Sqlite(Box<SqliteTarget>),
    /// A PostgreSQL server and database.
    Postgres(Box<PgConnectOptions>),
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("invalid DATABASE_URL: {e}"))
}

/// Parses a database URL. [`StoreError::Other`] when the scheme is unknown,
/// the driver refuses the URL, or it names something we cannot serve from
/// (see the module doc).
pub(super) fn parse(url: &str) -> Result<Target, StoreError> {
    match Backend::from_url(url)? {
        Backend::Sqlite => parse_sqlite(url).map(|target| Target::Sqlite(Box::new(target))),
        Backend::Postgres => PgConnectOptions::from_str(url)
            .map(|options| Target::Postgres(Box::new(options)))
            .map_err(invalid),
    }
}

fn parse_sqlite(url: &str) -> Result<SqliteTarget, StoreError> {
    let options = SqliteConnectOptions::from_str(url).map_err(invalid)?;
    // sqlx has accepted the query string: every key and value is valid.
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let mut mode = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "mode" => mode = Some(value.into_owned()),
            // Our connections are private; the cache mode changes nothing for a file.
            "cache" => {}
            other => {
                return Err(invalid(format!(
                    "the SQLite URL parameter {other:?} is not supported (only `mode`)"
                )))
            }
        }
    }
    let access = match mode.as_deref() {
        Some("ro") => Access::ReadOnly,
        Some("rw") => Access::ReadWrite,
        Some("rwc") | None => Access::Create,
        Some(_) => return Err(in_memory()),
    };
    let path = options.get_filename().to_path_buf();
    let name = path
        .to_str()
        .ok_or_else(|| invalid("the file name is not UTF-8"))?;
    if name.is_empty() {
        return Err(invalid("the SQLite URL names no file"));
    }
    if name == ":memory:" || name.starts_with("file:") {
        // sqlx turns `sqlite::memory:` into a `file:sqlx-in-memory-N` URI name.
        return Err(in_memory());
    }
    let options = options.create_if_missing(access == Access::Create);
    Ok(SqliteTarget {
        path,
        access,
        options,
    })
}

fn in_memory() -> StoreError {
    invalid(
        "in-memory SQLite databases and SQLite URI file names are not supported: \
         the writer, the readers and migrations each open the file; name a file \
         (e.g. sqlite:///tmp/app.sqlite3)",
    )
}

/// The SQLite database file a URL names, exactly as [`connect`](super::connect)
/// opens it (percent-decoded): `Ok(Some(path))` for a SQLite URL, `Ok(None)`
/// for a PostgreSQL URL, [`StoreError::Other`] for a URL that `connect`
/// refuses. The CLI keeps a generated signing key beside this file.
pub fn sqlite_file(url: &str) -> Result<Option<PathBuf>, StoreError> {
    Ok(match parse(url)? {
        Target::Sqlite(target) => Some(target.path),
        Target::Postgres(_) => None,
    })
}

/// What a secret is shown as.
const MASK: &str = "****";

/// `url` fit for messages and logs: the password of its user part and the
/// value of every query parameter that may carry a secret (its name contains
/// `pass` — `password`, `sslpassword`, `passfile` — or `secret`, `token`,
/// `pwd`) become `****`. A URL with nothing secret in it comes back exactly
/// as given; one the `url` crate cannot parse (sqlx's parsers would refuse it
/// too) keeps only its scheme: `postgres://****`, since where its secret sits
/// is unknown.
///
/// The one masking of database URLs: every message that names the database
/// (`check`, `serve`'s log lines, "cannot connect" errors) goes through it.
///
/// ```
/// use simplejwt::store::redact_url;
/// assert_eq!(
///     redact_url("postgres://app:s3cr%40t@db.internal/app?sslmode=require"),
///     "postgres://app:****@db.internal/app?sslmode=require"
/// );
/// assert_eq!(
///     redact_url("postgres://db.internal/app?user=app&password=s3cret"),
///     "postgres://db.internal/app?user=app&password=****"
/// );
/// assert_eq!(redact_url("sqlite:///var/lib/app.sqlite3"), "sqlite:///var/lib/app.sqlite3");
/// ```
pub fn redact_url(url: &str) -> String {
    let parsed = ::url::Url::parse(url)
        .ok()
        .filter(|parsed| !parsed.cannot_be_a_base() || parsed.scheme() == "sqlite");
    let Some(mut parsed) = parsed else {
        // No structure to find the secret in: only the scheme is shown.
        return match url.split_once(':') {
            Some((scheme, rest)) if rest.starts_with("//") => format!("{scheme}://{MASK}"),
            Some((scheme, _)) => format!("{scheme}:{MASK}"),
            None => MASK.to_owned(),
        };
    };
    let mut masked = false;
    if parsed.password().is_some() {
        masked = parsed.set_password(Some(MASK)).is_ok();
        if !masked {
            return format!("{}://{MASK}", parsed.scheme());
        }
    }
    if let Some(query) = parsed.query() {
        let mut secret = false;
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                let decoded: String = form_urlencoded::parse(name.as_bytes())
                    .map(|(k, v)| format!("{k}{v}"))
                    .collect();
                if is_secret_param(&decoded) {
                    secret = true;
                    format!("{name}={MASK}")
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        if secret {
            parsed.set_query(Some(&pairs.join("&")));
            masked = true;
        }
    }
    if masked {
        parsed.into()
    } else {
        url.to_owned()
    }
}

/// Whether a URL query parameter of this name may carry a secret.
fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "secret", "token", "pwd"]
        .iter()
        .any(|word| name.contains(word))
}

/// Creates a new SQLite file readable by its owner only: it holds password
/// hashes (SQLite gives its `-wal` and `-shm` files the same permissions).
/// An existing file is left as it is; any other failure is left for SQLite
/// to report when it opens the path.
pub(super) fn create_private(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = options.open(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_masks_the_password_of_the_user_part() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db.internal:5432/app",
                "postgres://app:****@db.internal:5432/app",
            ),
            // A raw `@` or `:` in the password: the host is after the last `@`,
            // the password after the first `:` (as sqlx reads them).
            ("postgres://app:p@ss@db/app", "postgres://app:****@db/app"),
            (
                "postgres://app:p:a@s:s@db/app",
                "postgres://app:****@db/app",
            ),
            // Percent-encoded, as libpq's documentation asks.
            (
                "postgres://app:p%40ss%3Aw@db/app",
                "postgres://app:****@db/app",
            ),
            ("postgresql://:s3cret@db/app", "postgresql://:****@db/app"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
            assert!(!redact_url(url).contains("ss"), "{url}");
        }
    }

    #[test]
    fn redact_url_masks_secret_query_parameters() {
        assert_eq!(
            redact_url("postgres://app@db/app?password=s3cret&sslmode=require"),
            "postgres://app@db/app?password=****&sslmode=require"
        );
        assert_eq!(
            redact_url(
                "postgres://app:a@db/app?sslmode=verify-full&sslpassword=k3y&passfile=%2Fhome%2Fpgpass"
            ),
            "postgres://app:****@db/app?sslmode=verify-full&sslpassword=****&passfile=****"
        );
        // Names are compared decoded and without case.
        assert_eq!(
            redact_url("postgres://db/app?Pass%77ord=s3cret"),
            "postgres://db/app?Pass%77ord=****"
        );
    }

    #[test]
    fn redact_url_leaves_a_url_without_secrets_exactly_as_given() {
        for url in [
            "postgres://app@db.internal:5432/app",
            "postgres://db/app?sslmode=require&application_name=simplejwt",
            "sqlite://simplejwt.sqlite3",
            "sqlite:///var/lib/simplejwt/db.sqlite3?mode=rwc",
            "sqlite:db.sqlite3",
            "sqlite:///tmp/x/my%20db.sqlite3",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn redact_url_shows_only_the_scheme_of_a_url_it_cannot_parse() {
        // A bad port: where the password ends is unknown.
        assert_eq!(
            redact_url("postgres://app:s3cret@db:port/app"),
            "postgres://****"
        );
        assert_eq!(redact_url("postgres://app:s3cret"), "postgres://****");
        assert_eq!(redact_url("app:s3cret"), "app:****");
        assert_eq!(redact_url("s3cret"), "****");
    }

    fn sqlite(url: &str) -> SqliteTarget {
        match parse(url).unwrap_or_else(|e| panic!("{url}: {e}")) {
            Target::Sqlite(target) => *target,
            Target::Postgres(_) => panic!("{url} is not SQLite"),
        }
    }

    #[test]
    fn sqlite_urls_name_the_file_sqlx_opens() {
        for (url, path) in [
            ("sqlite://db.sqlite3?mode=rwc", "db.sqlite3"),
            ("sqlite:///tmp/x/db.sqlite3", "/tmp/x/db.sqlite3"),
            ("sqlite:db.sqlite3", "db.sqlite3"),
            ("sqlite:///tmp/x/my%20db.sqlite3", "/tmp/x/my db.sqlite3"),
            ("sqlite:///tmp/x/a%3Fb.sqlite3", "/tmp/x/a?b.sqlite3"),
        ] {
            assert_eq!(sqlite(url).path, Path::new(path), "{url}");
            assert_eq!(sqlite_file(url).unwrap().as_deref(), Some(Path::new(path)));
        }
    }

    #[test]
    fn the_mode_decides_access_and_no_mode_creates() {
        assert_eq!(sqlite("sqlite://a.db").access, Access::Create);
        assert_eq!(sqlite("sqlite://a.db?mode=rwc").access, Access::Create);
        assert_eq!(sqlite("sqlite://a.db?mode=rw").access, Access::ReadWrite);
        assert_eq!(sqlite("sqlite://a.db?mode=ro").access, Access::ReadOnly);
        assert_eq!(sqlite("sqlite://a.db?cache=shared").access, Access::Create);
    }

    #[test]
    fn in_memory_and_uri_names_are_refused_clearly() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://%3Amemory%3A",
            "sqlite://a.db?mode=memory",
            "sqlite://file:a.db",
            "sqlite://",
            "sqlite://a.db?immutable=true",
            "sqlite://a.db?mode=bogus",
        ] {
            let e = parse(url).expect_err(url);
            assert!(matches!(e, StoreError::Other(_)), "{url}: {e:?}");
        }
        assert!(parse("sqlite::memory:")
            .unwrap_err()
            .to_string()
            .contains("in-memory"));
    }

    #[test]
    fn postgres_urls_are_not_files_and_other_schemes_are_refused() {
        assert_eq!(sqlite_file("postgres://u@127.0.0.1/db").unwrap(), None);
        assert_eq!(sqlite_file("postgresql://u@127.0.0.1/db").unwrap(), None);
        assert!(sqlite_file("mysql://x/y").is_err());
        assert_eq!(Backend::from_url("sqlite:x").unwrap(), Backend::Sqlite);
    }
}
