//! The HTTP surface: simplejwt's views, thin. Each endpoint module parses the
//! request, calls one [`crate::service::AuthService`] method and answers;
//! status codes and bodies come from [`crate::error`].
//!
//! [`router`] mounts the four token endpoints under a prefix (for merging into
//! an application); [`app`] is what the `simplejwt` server serves: the token
//! endpoints under `/api/token/`, the tutorial's `/api/protected/`, Django's
//! trailing-slash redirect and the request limits.

mod body;
mod json_body;
mod metadata;
mod protected;
mod token_blacklist;
mod token_obtain;
mod token_obtain_sliding;
mod token_refresh;
mod token_refresh_sliding;
mod token_verify;

use axum::extract::{FromRef, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use axum::Router;
use http::{header, HeaderValue, Method, StatusCode};

use crate::error::{ApiError, Rejection};
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
}

impl AppState {
    /// State with the default body limit.
    pub fn new(service: AuthService) -> Self {
        Self {
            service,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// An error with this server's `WWW-Authenticate` challenge attached.
    pub(crate) fn reject(&self, error: impl Into<ApiError>) -> Rejection {
        Rejection {
            error: error.into(),
            challenge: self.service.challenge(),
        }
    }
}

impl FromRef<AppState> for AuthService {
    fn from_ref(state: &AppState) -> Self {
        state.service.clone()
    }
}

/// The token endpoints, relative to `prefix` (e.g. `/api/token`): `/`
/// (obtain pair), `/refresh/`, `/verify/`, `/blacklist/`, and the sliding-token
/// pair `/sliding/` (obtain) and `/sliding/refresh/`.
pub fn router(state: AppState, prefix: &str) -> Router {
    let prefix = prefix.trim_end_matches('/');
    Router::new()
        .route(&format!("{prefix}/"), token_route(token_obtain::handle))
        .route(
            &format!("{prefix}/refresh/"),
            token_route(token_refresh::handle),
        )
        .route(
            &format!("{prefix}/verify/"),
            token_route(token_verify::handle),
        )
        .route(
            &format!("{prefix}/blacklist/"),
            token_route(token_blacklist::handle),
        )
        .route(
            &format!("{prefix}/sliding/"),
            token_route(token_obtain_sliding::handle),
        )
        .route(
            &format!("{prefix}/sliding/refresh/"),
            token_route(token_refresh_sliding::handle),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), negotiate))
        .with_state(state)
}

/// The paths [`app`] serves, for the trailing-slash redirect.
const APP_PATHS: &[&str] = &[
    "/api/token/sliding/",
    "/api/token/sliding/refresh/",
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
    "/api/protected/",
];

/// The whole server: token endpoints under `/api/token/`, `GET /api/protected/`,
/// a redirect to the slashed path for paths missing their trailing slash
/// (Django's `APPEND_SLASH`), JSON 404s, and security headers.
pub fn app(state: AppState) -> Router {
    let protected = Router::new()
        .route(
            "/api/protected/",
            any(protected::handle).layer(middleware::map_response(protected_headers)),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), negotiate))
        .with_state(state.clone());
    router(state, "/api/token")
        .merge(protected)
        .fallback(append_slash_or_404)
        .layer(middleware::map_response(security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
}

/// A bug must not take the connection down or leak a stack trace: log it,
/// answer a plain JSON 500.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "handler panicked");
    ApiError::Auth(crate::error::AuthError::Internal).into_response()
}

fn token_route<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    any(handler).layer(middleware::map_response(token_headers))
}

async fn token_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    // Tokens must not be cached by browsers or proxies (RFC 6749 §5.1).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn protected_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::ALLOW,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    res
}

/// Django's `SecurityMiddleware` defaults.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// DRF content negotiation: JSON (or the browsable API, answered as JSON)
/// must be acceptable, else 406 — checked before authentication, as DRF does.
async fn negotiate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(accept) = req.headers().get(header::ACCEPT) {
        if !accepts_json(accept.as_bytes()) {
            return state.reject(ApiError::NotAcceptable).into_response();
        }
    }
    next.run(req).await
}

fn accepts_json(accept: &[u8]) -> bool {
    let accept = String::from_utf8_lossy(accept);
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|range| {
        let media = range
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        matches!(
            media.as_str(),
            "*/*" | "*" | "application/*" | "application/json" | "text/*" | "text/html"
        )
    })
}

async fn append_slash_or_404(req: Request) -> Response {
    let path = req.uri().path();
    if !path.ends_with('/') {
        let slashed = format!("{path}/");
        if APP_PATHS.contains(&slashed.as_str()) {
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

/// What every token view does, in DRF's order: the method (POST runs the
/// view, OPTIONS answers its metadata, anything else is 405), then the body's
/// fields, then one call into the service, answered as JSON.
pub(crate) async fn token_view<const N: usize, F, Fut, T>(
    state: AppState,
    req: Request,
    view: &'static str,
    fields: [&'static str; N],
    call: F,
) -> Result<Response, Rejection>
where
    F: FnOnce(AuthService, [String; N]) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::error::AuthError>>,
    T: serde::Serialize,
{
    let (parts, body) = req.into_parts();
    match parts.method {
        Method::POST => {}
        Method::OPTIONS => return Ok(metadata::token_view(view)),
        ref other => {
            return Err(state.reject(ApiError::MethodNotAllowed {
                method: other.as_str().to_owned(),
                allow: "POST, OPTIONS",
            }))
        }
    }
    let values = body::read_fields(&parts, body, fields, state.max_body_bytes)
        .await
        .map_err(|e| state.reject(e))?;
    let answer = call(state.service.clone(), values)
        .await
        .map_err(|e| state.reject(e))?;
    Ok(ok_json(&answer))
}

/// 200 with a JSON body.
pub(crate) fn ok_json<T: serde::Serialize>(body: &T) -> Response {
    crate::error::json_response(StatusCode::OK, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation_matches_drf() {
        assert!(accepts_json(b"application/json"));
        assert!(accepts_json(b"*/*"));
        assert!(accepts_json(b"text/html,application/xhtml+xml;q=0.9"));
        assert!(accepts_json(b"application/*; q=0.5"));
        assert!(!accepts_json(b"application/xml"));
        assert!(!accepts_json(b"image/png, text/plain"));
    }
}
