//! The HTTP surface: simplejwt's views as ordinary axum handlers, thin —
//! each parses its body with [`DrfBody`], calls one
//! [`crate::service::AuthService`] method and answers; every status code
//! and body comes from [`response`].
//!
//! - [`routes`]: the one route table ([`Routes`], [`Endpoint`]); [`router`]
//!   mounts every token endpoint under a prefix for merging into an
//!   application, [`app`] is what the `simplejwt` server serves.
//! - one module per endpoint (`token_obtain`, `token_refresh`, …,
//!   `protected`): the handler and its `OPTIONS` document; [`health`]: the
//!   `/healthz` and `/readyz` probes.
//! - [`body`]: DRF's body parsing and field rules as an extractor;
//!   `json_body`: JSON parse errors in DRF's words.
//! - [`response`]: success bodies, error mapping, the `WWW-Authenticate` challenge.
//! - [`jwks`]: `GET /.well-known/jwks.json`, the public verifying key.
//! - `negotiate`: content negotiation and security headers for every answer.
//! - [`cookies`], [`csrf`]: browser sessions (`AUTH_COOKIE`): the tokens as
//!   `HttpOnly` cookies, and the CSRF check of cookie-authenticated requests.
//! - [`openapi`]: the OpenAPI 3.1 document of the mounted routes and
//!   Swagger UI over it (`OPENAPI`).
//! - [`oidc`]: social login with OpenID Connect providers (`OIDC_PROVIDERS`).
//! - [`access_log`]: request ids and one access line per request.
//! - [`metrics`]: requests counted per route, `GET /metrics` (with
//!   [`AppState::metrics`]).

pub mod access_log;
pub mod auth;
pub mod body;
mod client;
pub mod cookies;
pub mod csrf;
pub mod health;
mod json_body;
pub mod jwks;
pub mod logout;
pub mod metadata;
pub mod metrics;
mod negotiate;
pub mod oauth;
pub mod oidc;
pub mod openapi;
pub mod password_change;
pub mod protected;
pub mod response;
pub mod routes;
pub mod sessions;
pub mod token_blacklist;
pub mod token_obtain;
pub mod token_obtain_sliding;
pub mod token_refresh;
pub mod token_refresh_sliding;
pub mod token_verify;
mod unread_body;
pub mod web;

use axum::extract::FromRef;
use axum::middleware;
use axum::Router;

pub use body::{Credentials, DrfBody, DrfFields, Login, RefreshField, TokenField, VerifyField};
pub use response::{fix_challenge, AuthRejection, JsonAnswer};
pub use routes::{Endpoint, OidcRoute, RouteKind, Routes};

use crate::metrics::Metrics;
use crate::service::AuthService;

/// Default request body limit: 64 KiB (credentials and tokens are far smaller).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// State of the token endpoints.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The auth logic.
    pub service: AuthService,
    /// Request bodies over this many bytes are refused with 413.
    pub max_body_bytes: usize,
    /// Prometheus metrics ([`crate::metrics`]): with them, [`app`] counts
    /// every request; `None` (the default): nothing is counted, nothing added.
    /// The service's events are counted when the same [`Metrics`] is one of
    /// its sinks ([`crate::service::AuthServiceBuilder::event_sink`]).
    pub metrics: Option<Metrics>,
    /// Whether [`app`] mounts `GET /metrics` (with [`AppState::metrics`]);
    /// `false` when a listener of its own serves [`metrics::router`].
    pub metrics_route: bool,
    /// Longest one request may take, body included (`REQUEST_TIMEOUT`):
    /// then the route answers 408 `{"detail": "Request timed out."}`,
    /// logged and counted like any answer. `None` (the default for a
    /// library user): no deadline here.
    pub request_timeout: Option<std::time::Duration>,
}

impl AppState {
    /// State with the default body limit, no metrics.
    pub fn new(service: AuthService) -> Self {
        Self {
            service,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            metrics: None,
            metrics_route: false,
            request_timeout: None,
        }
    }

    /// With `metrics` counted, and `GET /metrics` mounted by [`app`] when
    /// `route` is true.
    pub fn with_metrics(mut self, metrics: Metrics, route: bool) -> Self {
        self.metrics = Some(metrics);
        self.metrics_route = route;
        self
    }
}

impl FromRef<AppState> for AuthService {
    fn from_ref(state: &AppState) -> Self {
        state.service.clone()
    }
}

/// Every token endpoint under `prefix` (e.g. `/api/token`): `/` (obtain
/// pair), `/refresh/`, `/verify/`, `/blacklist/`, the sliding-token pair
/// `/sliding/` (obtain) and `/sliding/refresh/`, `/logout/`, and with
/// `OAUTH_TOKEN_ENDPOINTS` `/revoke/` and `/introspect/`. For a subset, use [`Routes`].
pub fn router(state: AppState, prefix: &str) -> Router {
    Routes::new(state)
        .configured_token_endpoints(prefix)
        .into_router()
}

/// The route table of [`app`]: every route the server mounts under the
/// state's settings (what the OpenAPI document describes).
pub fn server_routes(state: AppState) -> Routes {
    let settings = state.service.settings();
    let (cookies, openapi) = (settings.auth_cookie(), settings.openapi());
    let metrics_route = state.metrics.is_some() && state.metrics_route;
    let mut routes = Routes::new(state)
        .configured_token_endpoints("/api/token")
        .protected("/api/protected/")
        .sessions("/api/sessions/")
        .password_change("/api/password/change/")
        .health("")
        .jwks("/.well-known/jwks.json")
        .oidc("/api/oidc");
    if metrics_route {
        routes = routes.metrics("/metrics");
    }
    if cookies {
        routes = routes.web_page();
    }
    if openapi {
        routes = routes.openapi("/api/schema/", "/api/docs/");
    }
    routes
}

/// The whole server: token endpoints under `/api/token/` (with `logout/`;
/// `revoke/` and `introspect/` with `OAUTH_TOKEN_ENDPOINTS`),
/// `GET /api/protected/`, the device list at `/api/sessions/`, the password
/// change at `/api/password/change/`, the probes `/healthz` and `/readyz`,
/// with `OIDC_PROVIDERS` social login under `/api/oidc/` ([`oidc`]), with
/// `OPENAPI` the OpenAPI document at `/api/schema/` and Swagger UI at
/// `/api/docs/` ([`openapi`]), with
/// `AUTH_COOKIE` the example page at `/`
/// ([`web`]), a redirect to the slashed path for paths missing their trailing
/// slash (Django's `APPEND_SLASH`), JSON 404s, security headers, a JSON 500
/// instead of a dropped connection if a handler panics, and request ids with
/// one access line per request ([`access_log`]). With [`AppState::metrics`],
/// every request is counted by route ([`metrics::layer`]) and, with
/// [`AppState::metrics_route`], `GET /metrics` is mounted.
pub fn app(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let router = server_routes(state)
        .into_router_with_fallback()
        .layer(middleware::map_response(negotiate::security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            response::panic_response,
        ))
        .layer(middleware::from_fn(unread_body::close_when_unread));
    let router = match metrics {
        Some(metrics) => metrics::layer(router, metrics),
        None => router,
    };
    access_log::layer(router)
}
