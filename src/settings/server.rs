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
    /// PEM file with the certificate chain `serve` presents (leaf first,
    /// then intermediates). With TLS_KEY_FILE, `serve` speaks HTTPS only
    /// (TLS 1.2 and 1.3; HTTP/2 and HTTP/1.1 by ALPN); None: plain HTTP.
    /// Read again on SIGHUP (renewals without downtime).
    "TLS_CERT_FILE" tls_cert_file: OptionalText = "None";
    /// PEM file with the certificate's private key; it must not be readable
    /// by group or others (chmod 600), or `serve` refuses to start.
    "TLS_KEY_FILE" tls_key_file: OptionalText = "None";
    /// Over HTTPS, every answer carries `Strict-Transport-Security` with
    /// this `max-age`, in seconds (0 asks browsers to forget the policy).
    "HSTS_MAX_AGE" hsts_max_age: Count<0, 63072000> = "31536000";
    /// The HSTS policy also covers the subdomains (`includeSubDomains`):
    /// only when every subdomain serves HTTPS.
    "HSTS_INCLUDE_SUBDOMAINS" hsts_include_subdomains: Flag = "false";
    /// With TLS: also listen for plain HTTP on this address (e.g.
    /// `0.0.0.0:80`), answering every request with a 308 redirect to the
    /// same path on HTTPS and nothing else. None: no such listener.
    "HTTP_REDIRECT_BIND" http_redirect_bind: OptionalText = "None";
    /// The host (and port, if not 443) the redirects point to, e.g.
    /// `auth.example.com`. None: the request's own host name (checked to be
    /// one) with the HTTPS listener's port.
    "HTTP_REDIRECT_HOST" http_redirect_host: OptionalText = "None";

    // ==== operations: metrics, health, logs ==========================
    // (declarations of operations options go here)
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

    /// The certificate files, when HTTPS is configured.
    pub fn tls_files(&self) -> Option<crate::server::TlsFiles> {
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => Some(crate::server::TlsFiles {
                cert: cert.into(),
                key: key.into(),
            }),
            _ => None,
        }
    }

    /// The `Strict-Transport-Security` policy of HTTPS answers.
    pub fn hsts(&self) -> crate::server::Hsts {
        crate::server::Hsts {
            max_age: self.hsts_max_age,
            include_subdomains: self.hsts_include_subdomains,
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

    /// The options, every value checked against its kind's bounds; the
    /// HTTPS ones together (both files or neither; a redirect listener
    /// only with them; a redirect host that is a host).
    pub fn build(self) -> Result<ServerOptions, SettingsError> {
        self.inner.check_kinds()?;
        let o = &self.inner;
        if o.tls_cert_file.is_some() != o.tls_key_file.is_some() {
            let missing = if o.tls_cert_file.is_none() {
                "TLS_CERT_FILE"
            } else {
                "TLS_KEY_FILE"
            };
            return Err(SettingsError::new(
                missing,
                "is not set: HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE",
            ));
        }
        if o.http_redirect_bind.is_some() && o.tls_cert_file.is_none() {
            return Err(SettingsError::new(
                "HTTP_REDIRECT_BIND",
                "needs TLS_CERT_FILE and TLS_KEY_FILE: it redirects to HTTPS",
            ));
        }
        if let Some(host) = &o.http_redirect_host {
            crate::server::RedirectHost::configured(host)
                .map_err(|e| SettingsError::new("HTTP_REDIRECT_HOST", e))?;
        }
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
    fn https_options_go_together() {
        assert!(ServerOptions::default().tls_files().is_none());
        let o = ServerOptions::from_pairs([("TLS_CERT_FILE", "c.pem"), ("TLS_KEY_FILE", "k.pem")])
            .unwrap();
        let files = o.tls_files().unwrap();
        assert_eq!(files.cert, std::path::Path::new("c.pem"));
        assert_eq!(o.hsts().header_value(), "max-age=31536000");
        let e = ServerOptions::from_pairs([("TLS_CERT_FILE", "c.pem")]).unwrap_err();
        assert_eq!(e.setting, "TLS_KEY_FILE", "{e}");
        let e = ServerOptions::from_pairs([("HTTP_REDIRECT_BIND", "127.0.0.1:80")]).unwrap_err();
        assert_eq!(e.setting, "HTTP_REDIRECT_BIND", "{e}");
        for bad in ["evil.example/x", "user@host", "https://host", "a b"] {
            let e = ServerOptions::from_pairs([("HTTP_REDIRECT_HOST", bad)]).unwrap_err();
            assert_eq!(e.setting, "HTTP_REDIRECT_HOST", "{bad}: {e}");
        }
        assert!(
            ServerOptions::from_pairs([("HTTP_REDIRECT_HOST", "auth.example.com:8443")]).is_ok()
        );
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
