//! Options of the `simplejwt` server process — where it listens, which
//! database, pool and timeouts, hashing capacity, request limits — declared
//! like the `SIMPLE_JWT` settings (one entry each; environment variables
//! `SIMPLEJWT_<NAME>`, the `[server]` section of the configuration file).
//! A library user embedding the router does not need them.

use crate::password::HasherConfig;
use crate::store::StoreOptions;

use super::declare::declare_settings;
use super::kinds::*;
use super::{sources, SettingsError};

/// Prefix of the environment variables that carry server options.
pub const SERVER_ENV_PREFIX: &str = "SIMPLEJWT_";

declare_settings! {
    /// The server's options; read them through the accessors.
    pub struct ServerOptions, builder ServerOptionsBuilder, env "SIMPLEJWT_";

    /// Address and port to listen on.
    "BIND" bind: Text = "127.0.0.1:8000";
    /// The database: `sqlite://FILE` (created, mode 0600) or `postgres://…`.
    "DATABASE_URL" database_url: Text = "sqlite://simplejwt.sqlite3", env "DATABASE_URL";
    /// Database connections per process (auto: SQLite 4, PostgreSQL 10).
    "DB_MAX_CONNECTIONS" db_max_connections: OptionalCount<1, 1000> = "auto";
    /// How long a request waits for a database connection before the
    /// database counts as unavailable (503).
    "DB_CONNECT_TIMEOUT" db_connect_timeout: Timeout = "3s";
    /// Longest database statement (PostgreSQL `statement_timeout`; SQLite busy timeout).
    "DB_STATEMENT_TIMEOUT" db_statement_timeout: Timeout = "5s";
    /// SQLite `synchronous`: FULL (a committed write survives power loss),
    /// NORMAL (survives a crash of the process only) or EXTRA.
    "SQLITE_SYNCHRONOUS" sqlite_synchronous: SqliteSynchronous = "FULL";
    /// Password hashes computed at once (auto: one per CPU).
    "HASH_CONCURRENCY" hash_concurrency: OptionalCount<1, 1024> = "auto";
    /// Logins that may queue for a hashing slot before more get 503.
    "HASH_MAX_WAITING" hash_max_waiting: Count<0, 1000000> = "256";
    /// PBKDF2-SHA256 iterations every failed login costs at least, so that a
    /// wrong password for an imported Django `pbkdf2_sha256` user, an unknown
    /// user and an argon2id user take the same time. Raised by itself to the
    /// largest count met; set it to your imported hashes' count (Django 5.2:
    /// 1000000) when the users table holds such hashes.
    "HASH_PBKDF2_FLOOR" hash_pbkdf2_floor: Count<0, 10000000> = "0";
    /// Request bodies over this many bytes are refused with 413.
    "MAX_BODY_BYTES" max_body_bytes: Count<1024, 16777216> = "65536";
    /// Where `serve` keeps the signing key it generates when SIGNING_KEY is
    /// unset (None: beside the SQLite database, or in the working directory).
    "KEY_FILE" key_file: OptionalText = "None";
    /// Log filter (`RUST_LOG` syntax); RUST_LOG, when set, takes precedence.
    "LOG" log: Text = "info,sqlx=warn";
    /// `serve` and the account commands apply pending migrations; false: they
    /// only check that the schema is current (run `simplejwt migrate` once).
    "MIGRATE_ON_START" migrate_on_start: Flag = "true";

    // ==== connections: limits, timeouts, shutdown ====================
    /// Longest a client may take to send a request head (HTTP/1.1), counted
    /// from when the connection waits for it: from the accept, and again
    /// after each answer on a kept-alive connection. Protects against
    /// slow-header (slowloris) and silent connections.
    "HEADER_READ_TIMEOUT" header_read_timeout: Timeout = "10s";
    /// A connection with no request in progress is closed after this long
    /// (keep-alive idle; the bound for HTTP/2 connections, which have no
    /// head timeout). Protects against idle sockets holding descriptors.
    "IDLE_TIMEOUT" idle_timeout: Timeout = "60s";
    /// Longest one request may take from its head to its answer, body
    /// included; past it the answer is 503 and the request's work is dropped.
    /// Protects against slow bodies and stuck handlers.
    "REQUEST_TIMEOUT" request_timeout: Timeout = "30s";
    /// Connections served at once (lowered to fit the descriptor limit). At
    /// the cap, a new connection closes the oldest one with no request in
    /// progress, or is itself closed when every one is busy.
    "MAX_CONNECTIONS" max_connections: Count<1, 1000000> = "10000";
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish
    /// before the remaining connections are cut and the process exits.
    "SHUTDOWN_GRACE" shutdown_grace: Timeout = "10s";

    // ==== HTTPS ======================================================
    // (declarations of TLS go here)

    // ==== operations: metrics, health, logs ==========================
    // (declarations of operations options go here)
    /// Prometheus metrics at `GET /metrics`: requests and latency per route
    /// and status, logins, refreshes, rotations, blacklistings, reuse
    /// detections, throttled logins, the hashing queue, database connections
    /// (README: "Operating the server"). Off: nothing is counted.
    "METRICS" metrics: Flag = "false";
    /// With METRICS: serve `/metrics` on this address (e.g.
    /// `127.0.0.1:9100`) instead of on BIND, so it is not public. None: on
    /// BIND, beside the API.
    "METRICS_BIND" metrics_bind: OptionalText = "None";
    /// Log lines on stderr: `human` (one readable line each) or `json` (one
    /// JSON object per line, for a log collector). Either way, one access
    /// line per request at `info` with its request id.
    "LOG_FORMAT" log_format: LogFormatKind = "human";
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event (tracing-subscriber's default format).
    Human,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`
    /// and the request's span (`span`, `spans`) with its `request_id`.
    Json,
}

/// `LOG_FORMAT`: `human` or `json`.
#[derive(Debug)]
pub enum LogFormatKind {}
impl Kind for LogFormatKind {
    type Value = LogFormat;
    type Ref<'a> = LogFormat;
    const FORM: &'static str = "human or json";
    fn parse(raw: &str) -> Result<LogFormat, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{other:?} is not human or json")),
        }
    }
    fn show(v: &LogFormat) -> String {
        match v {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        }
        .into()
    }
    fn get(v: &LogFormat) -> LogFormat {
        *v
    }
}

/// SQLite's `synchronous` pragma values that keep committed writes.
#[derive(Debug)]
pub enum SqliteSynchronous {}
impl Kind for SqliteSynchronous {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "FULL, NORMAL or EXTRA";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim().to_ascii_uppercase();
        Self::check(&v)?;
        Ok(v)
    }
    fn check(v: &String) -> Result<(), String> {
        match v.as_str() {
            "FULL" | "NORMAL" | "EXTRA" => Ok(()),
            _ => Err(format!("{v:?} is not FULL, NORMAL or EXTRA")),
        }
    }
    fn show(v: &String) -> String {
        v.clone()
    }
    fn get(v: &String) -> &str {
        v
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self::defaults()
    }
}

impl ServerOptions {
    /// A builder starting from the defaults.
    pub fn builder() -> ServerOptionsBuilder {
        ServerOptionsBuilder::default()
    }

    /// Options from `(NAME, value)` pairs; names are the declared ones
    /// (`DATABASE_URL`, `BIND`, …), case-insensitive.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, SettingsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut builder = Self::builder();
        for (k, v) in pairs {
            builder = builder.set(k.as_ref(), v.as_ref())?;
        }
        builder.build()
    }

    /// The store's pool and timeout options.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.db_max_connections.map(|n| n as u32),
            connect_timeout: self.db_connect_timeout,
            statement_timeout: self.db_statement_timeout,
            sqlite_synchronous: self.sqlite_synchronous.clone(),
        }
    }

    /// The serving loop's bounds (timeouts, connection cap, shutdown grace).
    pub fn limits(&self) -> crate::server::Limits {
        crate::server::Limits {
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            request_timeout: self.request_timeout,
            max_connections: self.max_connections as usize,
            shutdown_grace: self.shutdown_grace,
        }
    }

    /// The password hasher's capacity (argon2 parameters stay at their defaults).
    pub fn hasher_config(&self) -> HasherConfig {
        let mut config = HasherConfig {
            max_waiting: self.hash_max_waiting as usize,
            pbkdf2_floor: self.hash_pbkdf2_floor as u32,
            ..HasherConfig::default()
        };
        if let Some(n) = self.hash_concurrency {
            config.concurrency = n as usize;
        }
        config
    }
}

impl ServerOptionsBuilder {
    /// Sets one option from its text form by (case-insensitive) name.
    pub fn set(mut self, name: &str, raw: &str) -> Result<Self, SettingsError> {
        let upper = name.to_ascii_uppercase();
        match self.inner.apply_text(&upper, raw) {
            Some(result) => result.map(|()| self),
            None => Err(SettingsError::new(
                name,
                sources::unknown_message(name, ServerOptions::DECLARED),
            )),
        }
    }

    /// The options, every value checked against its kind's bounds.
    pub fn build(self) -> Result<ServerOptions, SettingsError> {
        self.inner.check_kinds()?;
        Ok(self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let o = ServerOptions::default();
        assert_eq!(o.bind(), "127.0.0.1:8000");
        assert_eq!(o.database_url(), "sqlite://simplejwt.sqlite3");
        assert_eq!(o.max_body_bytes(), 65536);
        assert!(o.migrate_on_start());
        assert_eq!(o.log_format(), LogFormat::Human);
        assert_eq!(o.store_options().statement_timeout.as_secs(), 5);
    }

    #[test]
    fn names_are_case_insensitive_and_typos_are_named() {
        let o = ServerOptions::from_pairs([("bind", "0.0.0.0:1"), ("Db_Max_Connections", "3")])
            .unwrap();
        assert_eq!(o.bind(), "0.0.0.0:1");
        assert_eq!(o.db_max_connections(), Some(3));
        let e = ServerOptions::from_pairs([("databse_url", "x")]).unwrap_err();
        assert!(e.message.contains("DATABASE_URL"), "{e}");
    }

    #[test]
    fn log_format_is_human_or_json() {
        let o = ServerOptions::from_pairs([("LOG_FORMAT", "JSON")]).unwrap();
        assert_eq!(o.log_format(), LogFormat::Json);
        let e = ServerOptions::from_pairs([("LOG_FORMAT", "xml")]).unwrap_err();
        assert!(e.message.contains("human or json"), "{e}");
    }

    #[test]
    fn absurd_timeouts_are_refused() {
        for bad in ["1e19", "2h", "0s"] {
            assert!(
                ServerOptions::from_pairs([("DB_CONNECT_TIMEOUT", bad)]).is_err(),
                "{bad}"
            );
        }
    }
}
