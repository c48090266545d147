//! # simplejwt
//!
//! JSON Web Token access/refresh authentication for axum, wire-compatible with
//! djangorestframework-simplejwt 5.5.1: the same endpoints, request and
//! response bodies, status codes, `WWW-Authenticate` challenges, claims and
//! settings (`SIMPLE_JWT` names and defaults), with refresh rotation that
//! succeeds exactly once under concurrency and a persistent blacklist on
//! SQLite or PostgreSQL.
//!
//! Where things live:
//! - [`settings`]: every setting, defaults, validation.
//! - [`keys`], [`token`]: keys, claims, encode/decode and their checks.
//! - [`service`]: obtain, refresh, verify, blacklist, authenticate — no HTTP.
//! - [`store`]: users, outstanding and blacklisted tokens (SQLite / PostgreSQL).
//! - [`password`]: argon2id, Django hash formats, the bounded hashing pool.
//! - [`http`]: the endpoints and the router; [`http::auth`]: extractors.
//! - [`server`]: the serving loop of the binary: timeouts, connection cap, signals.
//! - [`metrics`]: Prometheus series from the service's events and per-route request counts.
//! - [`error`]: every client-visible error and its one mapping to HTTP.
//! - [`django_import`]: moving from Django: users and the token blacklist, idempotently.
//!
//! A server in a few lines (compiled, not run: it serves until stopped; the
//! runnable examples are in `examples/`):
//!
//! ```no_run
//! use simplejwt::{http::{app, AppState}, password::{HasherConfig, PasswordHasher},
//!                 service::AuthService, settings::Settings, store::{connect, StoreOptions}};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = Settings::from_pairs([("SIGNING_KEY", "a-secret-of-at-least-32-bytes-length!!")])?;
//! let store = connect("sqlite://app.sqlite3", &StoreOptions::default()).await?;
//! store.migrate().await?;
//! let service = AuthService::new(settings, store, PasswordHasher::new(HasherConfig::default())?)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, app(AppState::new(service))).await?;
//! # Ok(()) }
//! ```

pub mod django_import;
pub mod error;
pub mod http;
pub mod keys;
#[cfg(feature = "cli")]
pub mod logging;
pub mod metrics;
pub mod password;
pub mod server;
pub mod service;
pub mod settings;
pub mod store;
pub mod token;

pub use error::{ApiError, AuthError};
pub use http::auth::{AuthUser, MaybeAuthUser, TokenAuth};
pub use service::AuthService;
pub use settings::Settings;
