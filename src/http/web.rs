//! The example page for web teams (`GET /`, with `AUTH_COOKIE` on): plain
//! HTML, CSS and JavaScript embedded in the binary (`web/`), no build step.
//! It logs in with "stay logged in", calls the protected endpoint, refreshes
//! shortly before the access token expires (and once after a 401), lets one
//! tab at a time refresh, and logs out — see `web/app.js`, the part to copy.
//!
//! Served with a strict Content-Security-Policy: scripts and styles from
//! this origin only, no inline script, no framing, requests to this origin
//! only. The page is filled in once, when the router is built (the CSRF
//! cookie and header names), so answering it costs no work per request.

use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
use http::{header, HeaderValue};

use super::cookies::TokenCookie;
use super::AppState;
use crate::settings::Settings;

const INDEX: &str = include_str!("web/index.html");
const APP_JS: &str = include_str!("web/app.js");
const STYLE_CSS: &str = include_str!("web/style.css");

/// The page's Content-Security-Policy.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       connect-src 'self'; img-src 'self'; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";

/// The page at `/` and its files under `/static/`, for the route table
/// ([`super::Routes::web_page`]).
pub fn routes(settings: &Settings) -> [(&'static str, MethodRouter<AppState>); 3] {
    let index = INDEX
        .replace("{{CSRF_COOKIE}}", &TokenCookie::Csrf.name(settings))
        .replace("{{CSRF_HEADER}}", settings.csrf_header_name());
    [
        (
            "/",
            get(move || async move { page("text/html; charset=utf-8", index) }),
        ),
        (
            "/static/app.js",
            get(|| async { page("text/javascript; charset=utf-8", APP_JS) }),
        ),
        (
            "/static/style.css",
            get(|| async { page("text/css; charset=utf-8", STYLE_CSS) }),
        ),
    ]
}

fn page(content_type: &'static str, body: impl Into<String>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.into(),
    )
}
