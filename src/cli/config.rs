//! The resolved configuration the commands run on: SIMPLE_JWT settings and
//! server options from the TOML file (`--config`), overridden by the
//! environment. Secrets are never printed; `check` masks them.
//!
//! File layout:
//! ```toml
//! [server]
//! bind = "127.0.0.1:8000"
//! database_url = "sqlite://simplejwt.sqlite3"
//!
//! [simple_jwt]
//! ACCESS_TOKEN_LIFETIME = "5m"
//! ROTATE_REFRESH_TOKENS = true
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::settings::{parse_duration, Settings};
use simplejwt::store::{Backend, Database, StoreOptions};

use super::{CliResult, Failure};

/// Default database: a SQLite file in the working directory.
pub(crate) const DEFAULT_DATABASE_URL: &str = "sqlite://simplejwt.sqlite3";

/// Everything a command needs, resolved.
pub(crate) struct Config {
    /// SIMPLE_JWT settings (the signing key may still be missing: `serve` makes one).
    pub settings_map: BTreeMap<String, String>,
    pub database_url: String,
    pub bind: String,
    pub store_options: StoreOptions,
    pub hasher: HasherConfig,
    pub max_body_bytes: usize,
    pub key_file: Option<PathBuf>,
    pub log_filter: String,
    /// `serve` migrates on start (default); with several instances, turn it
    /// off and run `simplejwt migrate` once: instances then only check the schema.
    pub migrate_on_start: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn toml_to_text(name: &str, value: &toml::Value) -> CliResult<String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => items
            .iter()
            .map(|v| toml_to_text(name, v))
            .collect::<CliResult<Vec<_>>>()?
            .join(","),
        _ => {
            return Err(Failure::Config(format!(
                "setting {name}: unsupported value type"
            )))
        }
    })
}

fn parse_num<T: std::str::FromStr>(name: &str, raw: &str) -> CliResult<T> {
    raw.trim()
        .parse()
        .map_err(|_| Failure::Config(format!("{name}: {raw:?} is not a number")))
}

fn parse_secs(name: &str, raw: &str) -> CliResult<Duration> {
    parse_duration(raw).map_err(|m| Failure::Config(format!("{name}: {m}")))
}

impl Config {
    /// Reads the file (if any) and the environment.
    pub fn load(file: Option<&Path>) -> CliResult<Self> {
        let mut settings_map = BTreeMap::new();
        let mut server = BTreeMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Config(format!("cannot read {}: {e}", path.display())))?;
            let doc: toml::Table = text
                .parse()
                .map_err(|e| Failure::Config(format!("{}: {e}", path.display())))?;
            for (section, value) in doc {
                let table = value.as_table().ok_or_else(|| {
                    Failure::Config(format!("{}: [{section}] must be a table", path.display()))
                })?;
                let target = match section.to_ascii_lowercase().as_str() {
                    "simple_jwt" => &mut settings_map,
                    "server" => &mut server,
                    _ => {
                        return Err(Failure::Config(format!(
                            "{}: unknown section [{section}] (use [simple_jwt] and [server])",
                            path.display()
                        )))
                    }
                };
                for (k, v) in table {
                    target.insert(k.clone(), toml_to_text(k, v)?);
                }
            }
        }
        settings_map.extend(simplejwt::settings::env_pairs(std::env::vars())?);
        let opt = |env_name: &str, key: &str| env(env_name).or_else(|| server.get(key).cloned());

        let mut store_options = StoreOptions::default();
        if let Some(v) = opt("SIMPLEJWT_DB_MAX_CONNECTIONS", "db_max_connections") {
            store_options.max_connections = Some(parse_num("db_max_connections", &v)?);
        }
        if let Some(v) = opt("SIMPLEJWT_DB_CONNECT_TIMEOUT", "db_connect_timeout") {
            store_options.connect_timeout = parse_secs("db_connect_timeout", &v)?;
        }
        if let Some(v) = opt("SIMPLEJWT_DB_STATEMENT_TIMEOUT", "db_statement_timeout") {
            store_options.statement_timeout = parse_secs("db_statement_timeout", &v)?;
        }
        if let Some(v) = opt("SIMPLEJWT_SQLITE_SYNCHRONOUS", "sqlite_synchronous") {
            store_options.sqlite_synchronous = v;
        }
        let mut hasher = HasherConfig::default();
        if let Some(v) = opt("SIMPLEJWT_HASH_CONCURRENCY", "hash_concurrency") {
            hasher.concurrency = parse_num("hash_concurrency", &v)?;
        }
        if let Some(v) = opt("SIMPLEJWT_HASH_MAX_WAITING", "hash_max_waiting") {
            hasher.max_waiting = parse_num("hash_max_waiting", &v)?;
        }
        let max_body_bytes = match opt("SIMPLEJWT_MAX_BODY_BYTES", "max_body_bytes") {
            Some(v) => parse_num("max_body_bytes", &v)?,
            None => simplejwt::http::DEFAULT_MAX_BODY_BYTES,
        };
        let migrate_on_start = match opt("SIMPLEJWT_MIGRATE_ON_START", "migrate_on_start") {
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(Failure::Config(format!(
                        "migrate_on_start: {v:?} is not a boolean"
                    )))
                }
            },
            None => true,
        };
        Ok(Config {
            migrate_on_start,
            settings_map,
            database_url: opt("DATABASE_URL", "database_url")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            bind: opt("SIMPLEJWT_BIND", "bind").unwrap_or_else(|| "127.0.0.1:8000".into()),
            store_options,
            hasher,
            max_body_bytes,
            key_file: opt("SIMPLEJWT_KEY_FILE", "key_file").map(PathBuf::from),
            log_filter: env("SIMPLEJWT_LOG")
                .or_else(|| env("RUST_LOG"))
                .or_else(|| server.get("log").cloned())
                .unwrap_or_else(|| "info,sqlx=warn".into()),
        })
    }

    /// The settings (validated; keys are checked when the service is built).
    pub fn settings(&self) -> CliResult<Settings> {
        Ok(Settings::from_map(&self.settings_map)?)
    }

    /// Connects the store (lazily: the first query opens a connection).
    pub async fn store(&self) -> CliResult<Arc<dyn Database>> {
        Backend::from_url(&self.database_url).map_err(|e| Failure::Config(e.to_string()))?;
        Ok(simplejwt::store::connect(&self.database_url, &self.store_options).await?)
    }

    /// The password hasher.
    pub fn hasher(&self) -> CliResult<PasswordHasher> {
        PasswordHasher::new(self.hasher.clone()).map_err(|e| Failure::Config(e.to_string()))
    }

    /// The database URL without any password, for messages.
    pub fn database_label(&self) -> String {
        redact_url(&self.database_url)
    }

    /// Where `serve` keeps a generated signing key: beside a SQLite database,
    /// else in the working directory.
    pub fn key_file(&self) -> PathBuf {
        if let Some(path) = &self.key_file {
            return path.clone();
        }
        if let Ok(Some(database)) = simplejwt::store::sqlite_file(&self.database_url) {
            let mut path = database.into_os_string();
            path.push(".signing-key");
            return PathBuf::from(path);
        }
        PathBuf::from("simplejwt.signing-key")
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:****@host/db`.
pub(crate) fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{scheme}://{user}:****@{host}");
            }
        }
    }
    url.to_owned()
}

/// Logs to stderr; the filter comes from SIMPLEJWT_LOG / RUST_LOG.
pub(crate) fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// `check`: validate everything, print the effective configuration.
pub(crate) async fn check(config: &Config) -> CliResult {
    let mut settings = config.settings()?;
    let key_note = if settings.signing_key.is_none() {
        let path = config.key_file();
        match std::fs::read_to_string(&path) {
            Ok(key) => {
                settings.signing_key =
                    Some(simplejwt::settings::Secret::new(key.trim().to_owned()));
                format!("from {}", path.display())
            }
            Err(_) => format!("not set; `serve` will generate one in {}", path.display()),
        }
    } else {
        "from the configuration".into()
    };
    if settings.signing_key.is_some() {
        simplejwt::keys::Keys::from_settings(&settings)?;
    }
    println!("SIMPLE_JWT settings:");
    for (name, value) in settings.describe() {
        println!("  {name:<32} {value}");
    }
    println!("Signing key: {key_note}");
    println!("Database: {}", config.database_label());
    let store = config.store().await?;
    store.ping().await?;
    store.check_schema().await?;
    println!(
        "  schema up to date; {} user(s)",
        store.count_users().await?
    );
    println!("Configuration OK.");
    Ok(())
}
