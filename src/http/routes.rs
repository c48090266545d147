//! The one route table: which endpoints are mounted where, with which
//! methods and headers. The router and the trailing-slash redirect
//! (Django's `APPEND_SLASH`) are both derived from it, so a path cannot be
//! served without being redirected to, or the other way round. A library
//! user mounts any subset ([`Routes::token_endpoints`] with a list of
//! [`Endpoint`]s).

use std::sync::{Arc, OnceLock};

use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};

use super::csrf::{self, CsrfRule};
use super::metadata::ViewDoc;
use super::negotiate::negotiate;
use super::response::{challenge, fix_challenge, panic_response};
use super::{
    health, jwks, logout, metrics, oauth, oidc, openapi, password_change, protected, sessions,
    token_blacklist, token_obtain, token_obtain_sliding, token_refresh, token_refresh_sliding,
    token_verify, AppState,
};
use crate::error::ApiError;
use tower::timeout::TimeoutLayer;
use tower::BoxError;
use tower_http::catch_panic::CatchPanicLayer;

/// The token endpoints, as simplejwt names its views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// `TokenObtainPairView` at `<prefix>/`.
    Obtain,
    /// `TokenRefreshView` at `<prefix>/refresh/`.
    Refresh,
    /// `TokenVerifyView` at `<prefix>/verify/`.
    Verify,
    /// `TokenBlacklistView` at `<prefix>/blacklist/`.
    Blacklist,
    /// `TokenObtainSlidingView` at `<prefix>/sliding/`.
    ObtainSliding,
    /// `TokenRefreshSlidingView` at `<prefix>/sliding/refresh/`.
    RefreshSliding,
    /// (This server's own.) Logout with a scope at `<prefix>/logout/`.
    Logout,
    /// (This server's own.) RFC 7009 revocation at `<prefix>/revoke/`.
    Revoke,
    /// (This server's own.) RFC 7662 introspection at `<prefix>/introspect/`.
    Introspect,
}

/// The methods every token endpoint answers.
const TOKEN_ALLOW: &str = "POST, OPTIONS";

impl Endpoint {
    /// The RFC 7009 / RFC 7662 endpoints, mounted by [`super::app`] and
    /// [`super::router`] only with `OAUTH_TOKEN_ENDPOINTS`.
    pub const OAUTH: [Endpoint; 2] = [Endpoint::Revoke, Endpoint::Introspect];

    /// Every token endpoint of simplejwt, and logout (mounted always).
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Obtain,
        Endpoint::Refresh,
        Endpoint::Verify,
        Endpoint::Blacklist,
        Endpoint::ObtainSliding,
        Endpoint::RefreshSliding,
        Endpoint::Logout,
    ];

    /// The path under the mount prefix.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Obtain => "/",
            Endpoint::Refresh => "/refresh/",
            Endpoint::Verify => "/verify/",
            Endpoint::Blacklist => "/blacklist/",
            Endpoint::ObtainSliding => "/sliding/",
            Endpoint::RefreshSliding => "/sliding/refresh/",
            Endpoint::Logout => "/logout/",
            Endpoint::Revoke => "/revoke/",
            Endpoint::Introspect => "/introspect/",
        }
    }

    /// The `OPTIONS` document.
    pub fn doc(self) -> &'static ViewDoc {
        match self {
            Endpoint::Obtain => &token_obtain::DOC,
            Endpoint::Refresh => &token_refresh::DOC,
            Endpoint::Verify => &token_verify::DOC,
            Endpoint::Blacklist => &token_blacklist::DOC,
            Endpoint::ObtainSliding => &token_obtain_sliding::DOC,
            Endpoint::RefreshSliding => &token_refresh_sliding::DOC,
            Endpoint::Logout => &logout::DOC,
            Endpoint::Revoke => &oauth::REVOKE_DOC,
            Endpoint::Introspect => &oauth::INTROSPECT_DOC,
        }
    }

    /// POST runs the view, OPTIONS answers its document, anything else is 405.
    fn methods(self) -> MethodRouter<AppState> {
        let post = match self {
            Endpoint::Obtain => post(token_obtain::token_obtain),
            Endpoint::Refresh => post(token_refresh::token_refresh),
            Endpoint::Verify => post(token_verify::token_verify),
            Endpoint::Blacklist => post(token_blacklist::token_blacklist),
            Endpoint::ObtainSliding => post(token_obtain_sliding::token_obtain_sliding),
            Endpoint::RefreshSliding => post(token_refresh_sliding::token_refresh_sliding),
            Endpoint::Logout => post(logout::token_logout),
            Endpoint::Revoke => post(oauth::revoke),
            Endpoint::Introspect => post(oauth::introspect),
        };
        let doc = self.doc();
        post.options(move || async move { doc }).fallback(post_only)
    }

    /// The CSRF rule of a browser session ([`super::csrf`]): a login checks
    /// where it comes from, the others also the double-submit token.
    fn csrf_rule(self) -> CsrfRule {
        match self {
            Endpoint::Obtain | Endpoint::ObtainSliding => CsrfRule::Login,
            _ => CsrfRule::Session,
        }
    }
}

async fn post_only(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: TOKEN_ALLOW,
    }
}

/// Every answer of a token endpoint, errors included.
async fn token_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(TOKEN_ALLOW));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    // Tokens must not be cached by browsers or proxies (RFC 6749 §5.1).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn jwks_headers(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(jwks::ALLOW));
    res
}

async fn sessions_other_method_list(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: sessions::ALLOW_LIST,
    }
}

async fn sessions_other_method_one(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: sessions::ALLOW_ONE,
    }
}

async fn sessions_list_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::ALLOW,
        HeaderValue::from_static(sessions::ALLOW_LIST),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn sessions_one_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(sessions::ALLOW_ONE));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    res
}

async fn password_change_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::ALLOW,
        HeaderValue::from_static(password_change::ALLOW),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    // The answer carries tokens (RFC 6749 §5.1).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn protected_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(protected::ALLOW));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    res
}

async fn oidc_other_method(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: "GET, POST, DELETE",
    }
}

/// Social login's answers carry tokens, codes or one-time redirects: never cached.
async fn oidc_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// What a mounted route serves: the operations routes (metrics, the example
/// page) skip DRF's content negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteKind {
    /// A token endpoint.
    Token(Endpoint),
    /// The tutorials' protected view.
    Protected,
    /// The self-service password change.
    PasswordChange,
    /// The JWKS document.
    Jwks,
    /// The device list (`GET`).
    SessionList,
    /// One session of the device list (`DELETE`).
    Session,
    /// `/healthz`.
    Healthz,
    /// `/readyz`.
    Readyz,
    /// `/metrics` ([`super::metrics`]).
    Metrics,
    /// The example page and its files ([`super::web`], with `AUTH_COOKIE`).
    Page,
    /// Social login (`OIDC_PROVIDERS`, [`super::oidc`]): which of its routes.
    Oidc(OidcRoute),
    /// The OpenAPI document (`OPENAPI`, [`super::openapi`]).
    Schema,
    /// Swagger UI and its files (`OPENAPI`, [`super::openapi::ui`]).
    Docs,
}

/// The routes of social login ([`super::oidc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OidcRoute {
    /// `POST <prefix>/<provider>/token/`.
    Token,
    /// `POST <prefix>/exchange/`.
    Exchange,
    /// `GET <prefix>/<provider>/start/`.
    Start,
    /// `GET <prefix>/<provider>/callback/`.
    Callback,
    /// `POST <prefix>/<provider>/link/`.
    Link,
    /// `GET <prefix>/identities/`.
    Identities,
    /// `DELETE <prefix>/identities/<id>/`.
    Unlink,
}

impl RouteKind {
    /// Whether DRF's content negotiation (406) applies: every API route,
    /// not the operators' and documentation routes, whose clients send
    /// their own `Accept` (a Prometheus scraper, a browser loading a script).
    fn negotiated(self) -> bool {
        !matches!(
            self,
            RouteKind::Metrics | RouteKind::Page | RouteKind::Schema | RouteKind::Docs
        )
    }
}

/// One mounted route.
struct Mounted {
    path: String,
    methods: MethodRouter<AppState>,
    kind: RouteKind,
}

/// A route table under construction.
pub struct Routes {
    state: AppState,
    routes: Vec<Mounted>,
    /// The OpenAPI document's bytes, when [`Routes::openapi`] mounted it:
    /// written once by [`Routes::into_router`], when every route is known.
    schema: Option<Arc<OnceLock<Bytes>>>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.paths()).finish()
    }
}

impl Routes {
    /// An empty table over `state`.
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            routes: Vec::new(),
            schema: None,
        }
    }

    /// Mounts `endpoints` under `prefix` (e.g. `/api/token`).
    pub fn token_endpoints(mut self, prefix: &str, endpoints: &[Endpoint]) -> Self {
        let prefix = prefix.trim_end_matches('/');
        for &endpoint in endpoints {
            let path = format!("{prefix}{}", endpoint.path());
            let methods = self
                .with_csrf(endpoint.methods(), endpoint.csrf_rule())
                .layer(middleware::map_response(token_headers));
            self.push(path, methods, RouteKind::Token(endpoint));
        }
        self
    }

    fn push(&mut self, path: String, methods: MethodRouter<AppState>, kind: RouteKind) {
        self.routes.push(Mounted {
            path,
            methods,
            kind,
        });
    }

    /// With `AUTH_COOKIE`, `methods` behind the CSRF guard; without, as they are.
    fn with_csrf(&self, methods: MethodRouter<AppState>, rule: CsrfRule) -> MethodRouter<AppState> {
        if !self.state.service.settings().auth_cookie() {
            return methods;
        }
        let state = (self.state.service.clone(), rule);
        methods.layer(middleware::from_fn_with_state(state, csrf::guard))
    }

    /// Mounts the tutorials' protected view at `path` (e.g. `/api/protected/`).
    pub fn protected(mut self, path: &str) -> Self {
        let methods = get(protected::protected)
            .options(protected::protected_options)
            .fallback(protected::protected_other_method);
        let methods = self
            .with_csrf(methods, CsrfRule::Session)
            .layer(middleware::map_response(protected_headers));
        self.push(path.to_owned(), methods, RouteKind::Protected);
        self
    }

    /// Mounts the self-service password change at `path` (e.g.
    /// `/api/password/change/`): `POST` with the old and new password, see
    /// [`password_change`].
    pub fn password_change(mut self, path: &str) -> Self {
        let methods = post(password_change::change)
            .options(password_change::options)
            .fallback(password_change::other_method);
        let methods = self
            .with_csrf(methods, CsrfRule::Session)
            .layer(middleware::map_response(password_change_headers));
        self.push(path.to_owned(), methods, RouteKind::PasswordChange);
        self
    }

    /// The token endpoints the settings turn on: [`Endpoint::ALL`], and
    /// [`Endpoint::OAUTH`] with `OAUTH_TOKEN_ENDPOINTS`.
    pub fn configured_token_endpoints(self, prefix: &str) -> Self {
        let oauth = self.state.service.settings().oauth_token_endpoints();
        let routes = self.token_endpoints(prefix, &Endpoint::ALL);
        if oauth {
            routes.token_endpoints(prefix, &Endpoint::OAUTH)
        } else {
            routes
        }
    }

    /// Mounts the JWKS document (our public key) at `path` (e.g. `/.well-known/jwks.json`).
    pub fn jwks(mut self, path: &str) -> Self {
        let methods = get(jwks::jwks)
            .fallback(jwks::other_method)
            .layer(middleware::map_response(jwks_headers));
        self.push(path.to_owned(), methods, RouteKind::Jwks);
        self
    }

    /// Mounts the device list at `path` (e.g. `/api/sessions/`): `GET` lists
    /// the caller's sessions, `DELETE <path><id>/` ends one.
    pub fn sessions(mut self, path: &str) -> Self {
        let list = get(sessions::list).fallback(sessions_other_method_list);
        let list = self
            .with_csrf(list, CsrfRule::Session)
            .layer(middleware::map_response(sessions_list_headers));
        let one = delete(sessions::end).fallback(sessions_other_method_one);
        let one = self
            .with_csrf(one, CsrfRule::Session)
            .layer(middleware::map_response(sessions_one_headers));
        let path = format!("{}/", path.trim_end_matches('/'));
        self.push(format!("{path}{{id}}/"), one, RouteKind::Session);
        self.push(path, list, RouteKind::SessionList);
        self
    }

    /// Mounts social login under `prefix` (e.g. `/api/oidc`) — see
    /// [`oidc`] — when `OIDC_PROVIDERS` names a provider; nothing otherwise.
    pub fn oidc(mut self, prefix: &str) -> Self {
        if !self.state.service.social_login_enabled() {
            return self;
        }
        let prefix = prefix.trim_end_matches('/');
        let no_store =
            |methods: MethodRouter<AppState>| methods.layer(middleware::map_response(oidc_headers));
        let login = |methods: MethodRouter<AppState>| {
            no_store(self.with_csrf(methods.fallback(oidc_other_method), CsrfRule::Login))
        };
        let session = |methods: MethodRouter<AppState>| {
            no_store(self.with_csrf(methods.fallback(oidc_other_method), CsrfRule::Session))
        };
        let routes = [
            (
                format!("{prefix}/{{provider}}/token/"),
                login(post(oidc::token)),
                OidcRoute::Token,
            ),
            (
                format!("{prefix}/exchange/"),
                login(post(oidc::exchange)),
                OidcRoute::Exchange,
            ),
            (
                format!("{prefix}/{{provider}}/start/"),
                no_store(get(oidc::start).fallback(oidc_other_method)),
                OidcRoute::Start,
            ),
            (
                format!("{prefix}/{{provider}}/callback/"),
                no_store(get(oidc::callback).fallback(oidc_other_method)),
                OidcRoute::Callback,
            ),
            (
                format!("{prefix}/{{provider}}/link/"),
                session(post(oidc::link)),
                OidcRoute::Link,
            ),
            (
                format!("{prefix}/identities/"),
                session(get(oidc::identities)),
                OidcRoute::Identities,
            ),
            (
                format!("{prefix}/identities/{{id}}/"),
                session(delete(oidc::unlink)),
                OidcRoute::Unlink,
            ),
        ];
        for (path, methods, route) in routes {
            self.push(path, methods, RouteKind::Oidc(route));
        }
        self
    }

    /// Mounts the probes: `/healthz` (process up) and `/readyz` (database
    /// reachable, schema current) under `prefix` (`""` for the root). See
    /// [`health`].
    pub fn health(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        let probe = |methods: MethodRouter<AppState>| {
            methods
                .fallback(health::other_method)
                .layer(middleware::map_response(health::probe_headers))
        };
        let healthz = probe(get(health::healthz));
        self.push(format!("{prefix}/healthz"), healthz, RouteKind::Healthz);
        let readyz = probe(get(health::readyz));
        self.push(format!("{prefix}/readyz"), readyz, RouteKind::Readyz);
        self
    }

    /// Mounts the Prometheus exposition at `path` (e.g. `/metrics`), answered
    /// when the state has [`AppState::metrics`] (404 otherwise); see
    /// [`super::metrics`].
    pub fn metrics(mut self, path: &str) -> Self {
        let methods = get(metrics::metrics).fallback(metrics::other_method);
        self.push(path.to_owned(), methods, RouteKind::Metrics);
        self
    }

    /// Mounts the example page at `/` and its files under `/static/`
    /// ([`super::web`]).
    pub fn web_page(mut self) -> Self {
        for (path, methods) in super::web::routes(self.state.service.settings()) {
            self.push(path.to_owned(), methods, RouteKind::Page);
        }
        self
    }

    /// Mounts the OpenAPI 3.1 document of this table's routes at
    /// `schema_path` (e.g. `/api/schema/`) and Swagger UI over it under
    /// `docs_path` (e.g. `/api/docs/`), see [`openapi`]. The document
    /// describes every route of the finished table, these included; it is
    /// generated once, by [`Routes::into_router`].
    pub fn openapi(mut self, schema_path: &str, docs_path: &str) -> Self {
        let cell: Arc<OnceLock<Bytes>> = Arc::default();
        let document = cell.clone();
        let methods = get(move || {
            let body = document.get().cloned().unwrap_or_default();
            async move { openapi_answer(body) }
        });
        self.push(schema_path.to_owned(), methods, RouteKind::Schema);
        for (path, methods) in openapi::ui::routes(docs_path, schema_path) {
            self.push(path, methods, RouteKind::Docs);
        }
        self.schema = Some(cell);
        self
    }

    /// The OpenAPI document of the routes mounted so far under this
    /// table's settings (what [`Routes::openapi`] serves once the table is
    /// finished).
    pub fn openapi_document(&self) -> utoipa::openapi::OpenApi {
        let timeout = self.state.request_timeout.is_some();
        openapi::document(self.state.service.settings(), timeout, self.mounted())
    }

    /// The paths mounted so far.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.path.as_str())
    }

    /// The routes mounted so far: path (axum's template) and kind.
    pub fn mounted(&self) -> impl Iterator<Item = (&str, RouteKind)> {
        self.routes.iter().map(|r| (r.path.as_str(), r.kind))
    }

    /// A router of exactly these routes, with DRF's content negotiation
    /// (406 before anything else) and this configuration's challenge on
    /// every 401. Unknown paths fall through (to the enclosing app's fallback).
    pub fn into_router(self) -> Router {
        if let Some(cell) = &self.schema {
            let timeout = self.state.request_timeout.is_some();
            let json =
                openapi::document_json(self.state.service.settings(), timeout, self.mounted());
            let _ = cell.set(Bytes::from(json));
        }
        let challenge = challenge(self.state.service.settings());
        let counted = self.state.metrics.is_some();
        let deadline = self.state.request_timeout;
        let (api, operations): (Vec<_>, Vec<_>) =
            self.routes.into_iter().partition(|r| r.kind.negotiated());
        // Each route, innermost first: its deadline (a JSON 408), then — when
        // counted — a panic caught as the JSON 500 and the route's stamp, so
        // that a timed-out or panicking request is still counted under its
        // route's template (the app's own panic catcher stays for the rest).
        let add = |router: Router<AppState>, r: Mounted| {
            let methods = match deadline {
                Some(deadline) => r.methods.layer(
                    tower::ServiceBuilder::new()
                        .layer(HandleErrorLayer::new(|_: BoxError| async {
                            ApiError::RequestTimeout
                        }))
                        .layer(TimeoutLayer::new(deadline)),
                ),
                None => r.methods,
            };
            let methods = if counted {
                methods
                    .layer::<_, std::convert::Infallible>(CatchPanicLayer::custom(panic_response))
                    .layer(metrics::stamp(&r.path))
            } else {
                methods
            };
            router.route(&r.path, methods)
        };
        let mut router = api.into_iter().fold(Router::new(), add);
        if router.has_routes() {
            router = router.route_layer(middleware::from_fn(negotiate));
        }
        // Added after the negotiation's `route_layer`, so outside it.
        let router = operations.into_iter().fold(router, add);
        router
            .layer(middleware::from_fn_with_state(challenge, fix_challenge))
            .with_state(self.state)
    }

    /// [`Routes::into_router`], answering a path that lacks only its
    /// trailing slash with a permanent redirect to the slashed one
    /// (Django's `APPEND_SLASH`) and any other unknown path with a JSON 404.
    pub fn into_router_with_fallback(self) -> Router {
        let paths: Vec<String> = self.paths().map(str::to_owned).collect();
        self.into_router()
            .fallback(move |req: Request| async move { append_slash_or_404(&paths, req) })
    }
}

/// The document: JSON, revalidated by caches (it changes with the settings).
fn openapi_answer(body: Bytes) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

fn append_slash_or_404(paths: &[String], req: Request) -> Response {
    let path = req.uri().path();
    if !path.ends_with('/') {
        let slashed = format!("{path}/");
        if paths.contains(&slashed) {
            let location = match req.uri().query() {
                Some(q) => format!("{slashed}?{q}"),
                None => slashed,
            };
            let mut res = StatusCode::MOVED_PERMANENTLY.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            return res;
        }
    }
    ApiError::NotFound.into_response()
}
