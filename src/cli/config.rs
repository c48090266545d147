//! The resolved configuration the commands run on: `SIMPLE_JWT` settings and
//! server options, from the TOML file (`--config`) overridden by the
//! environment, each value remembered with where it came from (for `check`).
//!
//! One rule for both sections of the file: keys are the declared names
//! (case-insensitive), `<NAME>_FILE` reads the value from a file (as the
//! `_FILE` environment variables do), and an unknown key is an error naming
//! the nearest valid one.
//!
//! ```toml
//! [server]
//! BIND = "127.0.0.1:8000"
//! DATABASE_URL = "sqlite://simplejwt.sqlite3"
//!
//! [simple_jwt]
//! ACCESS_TOKEN_LIFETIME = "5m"
//! ROTATE_REFRESH_TOKENS = true
//! SIGNING_KEY_FILE = "/run/secrets/jwt.key"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use simplejwt::password::PasswordHasher;
use simplejwt::settings::sources::{self, RawValue, Source, UnknownNames};
use simplejwt::settings::{Declared, ServerOptions, Settings, ENV_PREFIX};
use simplejwt::store::{Backend, Database};

use super::{CliResult, Failure};

/// Everything a command needs, resolved.
pub(crate) struct Config {
    /// SIMPLE_JWT settings as text (the signing key may still be missing: `serve` makes one).
    settings_values: BTreeMap<String, RawValue>,
    /// Server options as text, for `check`'s sources.
    server_values: BTreeMap<String, RawValue>,
    /// The server options.
    pub server: ServerOptions,
    /// `SIMPLEJWT_*` variables that look like a misspelt server option:
    /// ignored (tools and tests share the prefix), but said at start and by
    /// `check`, so a typo in `SIMPLEJWT_TLS_CERT_FILE` is not silently plain HTTP.
    pub env_warnings: Vec<String>,
}

/// Warnings for `SIMPLEJWT_*` variables that are not server options but are
/// close to one (a typo). Other names under the prefix (test and tool
/// variables such as `SIMPLEJWT_TEST_DATABASE_URL`) are left alone.
fn misspelt_server_options(vars: &[(String, String)]) -> Vec<String> {
    // Read under the prefix but not server options: `--config`'s variable,
    // and the binary's path in this project's test and benchmark scripts
    // (one letter from BIND).
    const NOT_OPTIONS: [&str; 2] = ["CONFIG", "BIN"];
    let prefix = simplejwt::settings::server::SERVER_ENV_PREFIX;
    let declared = ServerOptions::DECLARED;
    let is_option = |name: &str| declared.iter().any(|d| d.name == name);
    vars.iter()
        .filter_map(|(var, _)| {
            let name = var.strip_prefix(prefix)?;
            let base = name.strip_suffix("_FILE").unwrap_or(name);
            if is_option(name)
                || is_option(base)
                || NOT_OPTIONS.contains(&name)
                || declared.iter().any(|d| d.env == var)
            {
                return None;
            }
            let near = sources::nearest(base, declared)?;
            let suffix = if base.len() < name.len() { "_FILE" } else { "" };
            Some(format!(
                "environment variable {var} is not a server option (did you mean {prefix}{near}{suffix}?); ignored"
            ))
        })
        .collect()
}

/// A TOML value as the text a setting's kind parses (arrays become comma lists).
fn toml_to_text(name: &str, value: &toml::Value) -> CliResult<String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        // An array of tables (`[[simple_jwt.OIDC_PROVIDERS]]`) is a setting
        // whose text form is JSON.
        toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {
            serde_json::to_string(value).map_err(|e| {
                Failure::Config(format!("setting {name}: cannot be read as JSON: {e}"))
            })?
        }
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

/// The keys of one section of the file, by declared name.
fn read_section(
    path: &Path,
    section: &str,
    table: &toml::Table,
    declared: &[Declared],
    out: &mut BTreeMap<String, RawValue>,
) -> CliResult {
    let source = Source::File(path.display().to_string());
    for (key, value) in table {
        let upper = key.to_ascii_uppercase();
        let known = |n: &str| declared.iter().any(|d| d.name == n);
        let (name, text) = match upper.strip_suffix("_FILE") {
            Some(base) if !known(&upper) && known(base) => {
                let file = toml_to_text(key, value)?;
                (base.to_owned(), sources::read_value_file(base, &file)?)
            }
            _ if known(&upper) => (upper, toml_to_text(key, value)?),
            // simplejwt settings without meaning here are passed on (and ignored with a warning).
            _ if section == "simple_jwt"
                && simplejwt::settings::IGNORED_SETTING_NAMES.contains(&upper.as_str()) =>
            {
                (upper, toml_to_text(key, value)?)
            }
            _ => {
                return Err(Failure::Config(format!(
                    "{}: [{section}] {key}: {}",
                    path.display(),
                    sources::unknown_message(key, declared)
                )))
            }
        };
        if out.contains_key(&name) {
            return Err(Failure::Config(format!(
                "{}: [{section}] {name} is given twice (as {name} and {name}_FILE, or in two cases)",
                path.display()
            )));
        }
        out.insert(
            name,
            RawValue {
                text,
                source: source.clone(),
            },
        );
    }
    Ok(())
}

impl Config {
    /// Reads the file (if any), then the environment on top of it.
    pub fn load(file: Option<&Path>) -> CliResult<Self> {
        let mut settings_values = BTreeMap::new();
        let mut server_values = BTreeMap::new();
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
                match section.to_ascii_lowercase().as_str() {
                    "simple_jwt" => read_section(
                        path,
                        "simple_jwt",
                        table,
                        Settings::DECLARED,
                        &mut settings_values,
                    )?,
                    "server" => read_section(
                        path,
                        "server",
                        table,
                        ServerOptions::DECLARED,
                        &mut server_values,
                    )?,
                    _ => {
                        return Err(Failure::Config(format!(
                            "{}: unknown section [{section}] (use [simple_jwt] and [server])",
                            path.display()
                        )))
                    }
                }
            }
        }
        let vars: Vec<(String, String)> = std::env::vars().collect();
        settings_values.extend(sources::env_values(
            vars.clone(),
            ENV_PREFIX,
            Settings::DECLARED,
            UnknownNames::Keep,
        )?);
        server_values.extend(sources::env_values(
            vars.iter().cloned(),
            simplejwt::settings::server::SERVER_ENV_PREFIX,
            ServerOptions::DECLARED,
            UnknownNames::Skip,
        )?);
        // The usual Rust convention wins over our own name for the log filter.
        if let Some(filter) = std::env::var("RUST_LOG")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            let source = Source::Environment("RUST_LOG".into());
            server_values.insert(
                "LOG".into(),
                RawValue {
                    text: filter,
                    source,
                },
            );
        }
        let server = ServerOptions::from_pairs(
            server_values
                .iter()
                .map(|(k, v)| (k.as_str(), v.text.as_str())),
        )?;
        Ok(Config {
            settings_values,
            server_values,
            server,
            env_warnings: misspelt_server_options(&vars),
        })
    }

    /// The settings (validated; keys are checked when the service is built).
    pub fn settings(&self) -> CliResult<Settings> {
        Ok(Settings::from_pairs(
            self.settings_values
                .iter()
                .map(|(k, v)| (k.as_str(), v.text.as_str())),
        )?)
    }

    /// Connects to the database without touching its schema.
    pub async fn connect(&self) -> CliResult<Arc<dyn Database>> {
        let url = self.server.database_url();
        Backend::from_url(url).map_err(|e| Failure::Config(e.to_string()))?;
        Ok(simplejwt::store::connect(url, &self.server.store_options()).await?)
    }

    /// Connects and makes sure the schema is current: migrates it, or with
    /// `MIGRATE_ON_START=false` only checks it (as `serve` does), so the
    /// account commands never migrate a database an operator migrates by hand.
    pub async fn open_store(&self) -> CliResult<Arc<dyn Database>> {
        let store = self.connect().await?;
        let prepared = if self.server.migrate_on_start() {
            store.migrate().await
        } else {
            store.check_schema().await
        };
        if let Err(e) = prepared {
            return Err(self.unreachable(e).await);
        }
        Ok(store)
    }

    /// A database error as the operator should read it: when the database
    /// is unavailable, one direct connection says why (host, port, cause)
    /// instead of the pool's "timed out while waiting for an open connection".
    pub async fn unreachable(&self, e: simplejwt::store::StoreError) -> Failure {
        let label = self.database_file_label();
        if matches!(e, simplejwt::store::StoreError::Unavailable(_)) {
            let timeout = self.server.store_options().connect_timeout;
            if let Some(why) = simplejwt::store::diagnose(self.server.database_url(), timeout).await
            {
                return Failure::Runtime(format!("database {label}: {why}"));
            }
        }
        Failure::Runtime(format!("database {label}: {e}"))
    }

    /// The password hasher.
    pub fn hasher(&self) -> CliResult<PasswordHasher> {
        PasswordHasher::new(self.server.hasher_config()).map_err(|e| Failure::Config(e.to_string()))
    }

    /// The database URL without any password, for messages.
    pub fn database_label(&self) -> String {
        simplejwt::store::redact_url(self.server.database_url())
    }

    /// The SQLite database file (as an absolute path when it can be made
    /// one), or the database URL without any password.
    pub fn database_file_label(&self) -> String {
        match simplejwt::store::sqlite_file(self.server.database_url()) {
            Ok(Some(file)) => std::path::absolute(&file)
                .unwrap_or(file)
                .display()
                .to_string(),
            _ => self.database_label(),
        }
    }

    /// Where `serve` keeps a generated signing key: beside a SQLite database,
    /// else in the working directory.
    pub fn key_file(&self) -> PathBuf {
        if let Some(path) = self.server.key_file() {
            return PathBuf::from(path);
        }
        if let Ok(Some(database)) = simplejwt::store::sqlite_file(self.server.database_url()) {
            let mut path = database.into_os_string();
            path.push(".signing-key");
            return PathBuf::from(path);
        }
        PathBuf::from("simplejwt.signing-key")
    }

    /// Where `serve` writes the initial admin's one-time password when its
    /// standard error is not a terminal (so the password stays out of captured
    /// logs): beside a SQLite database, else in the working directory.
    pub fn admin_password_file(&self) -> PathBuf {
        if let Ok(Some(database)) = simplejwt::store::sqlite_file(self.server.database_url()) {
            let mut path = database.into_os_string();
            path.push(".admin-password");
            return PathBuf::from(path);
        }
        PathBuf::from("simplejwt.admin-password")
    }

    /// Where each effective setting came from.
    fn source_of<'a>(values: &'a BTreeMap<String, RawValue>, name: &str) -> &'a Source {
        values.get(name).map_or(&Source::Default, |v| &v.source)
    }
}

/// Logs to stderr in `LOG_FORMAT`; the filter is the LOG option (RUST_LOG wins).
///
/// Lines are written by tracing-appender's worker thread, not by the thread
/// that logs: a request's access line costs a queue push instead of a
/// `write(2)` on the request's own path, and under load the worker writes
/// many queued lines per system call (a `BufWriter`, flushed whenever the
/// queue is empty, so a quiet server's lines still appear at once). The
/// queue is not lossy: when 128,000 lines wait, the logging thread waits
/// too, so no line is dropped. The returned guard flushes what is left when
/// dropped: hold it until the command ends.
pub(crate) fn init_logging(config: &Config) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("simplejwt-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let subscriber = simplejwt::logging::subscriber(
        config.server.log(),
        config.server.log_format(),
        std::io::stderr().is_terminal(),
        writer,
    );
    // Also routes `log` records into it (tracing-log), as `fmt().try_init()` did.
    use tracing_subscriber::util::SubscriberInitExt as _;
    let _ = subscriber.try_init();
    guard
}

/// `check`: validate everything, print the effective configuration and where
/// each value came from.
pub(crate) async fn check(config: &Config) -> CliResult {
    let mut settings = config.settings()?;
    let mut key_source = None;
    if settings.signing_key().is_none() && settings.keys_dir().is_none() {
        let path = config.key_file();
        if let Ok(key) = std::fs::read_to_string(&path) {
            settings = settings
                .to_builder()
                .signing_key(simplejwt::settings::Secret::new(key.trim()))
                .build()?;
            key_source = Some(format!("file {} (generated by serve)", path.display()));
        } else {
            key_source = Some(format!(
                "not set; serve will generate one in {}",
                path.display()
            ));
        }
    }
    if settings.signing_key().is_some() || settings.keys_dir().is_some() {
        simplejwt::keys::Keys::from_settings(&settings)?;
    }
    println!("SIMPLE_JWT settings:");
    for (name, value) in settings.describe() {
        let source = match (&key_source, name) {
            (Some(s), "SIGNING_KEY") => s.clone(),
            _ if !config.settings_values.contains_key(name) && settings.set_by_preset(name) => {
                "preset hardened".to_owned()
            }
            _ => Config::source_of(&config.settings_values, name).to_string(),
        };
        println!("  {name:<32} {value:<24} ({source})");
    }
    println!("Server options:");
    for (name, value) in config.server.describe() {
        let value = if name == "DATABASE_URL" {
            config.database_label()
        } else {
            value
        };
        let source = Config::source_of(&config.server_values, name);
        println!("  {name:<32} {value:<24} ({source})");
    }
    for warning in settings.warnings().iter().chain(&config.env_warnings) {
        println!("Warning: {warning}");
    }
    let store = config.connect().await?;
    if let Err(e) = store.ping().await {
        // Named with host, port and cause, as `migrate` names it.
        return Err(config.unreachable(e).await);
    }
    store.check_schema().await?;
    println!(
        "Database: schema up to date; {} user(s)",
        store.count_users().await?
    );
    println!("Configuration OK.");
    Ok(())
}
