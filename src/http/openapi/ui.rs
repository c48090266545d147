//! Swagger UI at `/api/docs/`, served from the binary: the vendored
//! `swagger-ui-dist` files (`assets/swagger-ui/`, embedded with
//! `include_bytes!`), a page that points it at the document
//! (`/api/schema/`), and a start script of our own (a file, not inline, so
//! the Content-Security-Policy needs no `'unsafe-inline'`). The page loads
//! nothing from another origin: the policy allows this origin only (and
//! `data:` images, which Swagger UI's stylesheet embeds as its icons).
//!
//! Every answer is built once, when the router is built; serving one copies
//! nothing but a pointer to static bytes.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use http::{header, HeaderValue};

use crate::http::AppState;

const BUNDLE_JS: &[u8] = include_bytes!("../../../assets/swagger-ui/swagger-ui-bundle.js");
const STYLE_CSS: &[u8] = include_bytes!("../../../assets/swagger-ui/swagger-ui.css");
const INIT_JS: &str = include_str!("init.js");
const INDEX: &str = include_str!("index.html");

/// The documentation page's Content-Security-Policy: this origin only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `Cache-Control` of the page (revalidated: it names the document's URL).
pub const PAGE_CACHE: &str = "no-cache";

/// `Cache-Control` of the vendored files (they change only with the binary).
pub const ASSET_CACHE: &str = "public, max-age=3600";

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The files of the page, relative to its directory: name, type, bytes.
const FILES: [(&str, &str, &[u8]); 3] = [
    ("swagger-ui.css", CSS, STYLE_CSS),
    ("swagger-ui-bundle.js", JS, BUNDLE_JS),
    ("swagger-init.js", JS, INIT_JS.as_bytes()),
];

/// The `Content-Type` of a file of the page (or of the page itself).
pub fn content_type(path: &str) -> &'static str {
    FILES
        .iter()
        .find(|(name, _, _)| path.ends_with(name))
        .map_or("text/html; charset=utf-8", |(_, ct, _)| ct)
}

/// The routes of the page under `prefix` (e.g. `/api/docs/`: the page at
/// the prefix, its files beside it), the page pointing at `schema_url`.
pub fn routes(prefix: &str, schema_url: &str) -> Vec<(String, MethodRouter<AppState>)> {
    let dir = format!("{}/", prefix.trim_end_matches('/'));
    let index = INDEX.replace("{{SCHEMA_URL}}", &escape_attr(schema_url));
    let mut out = vec![(
        dir.clone(),
        get(
            move || async move { answer("text/html; charset=utf-8", PAGE_CACHE, Body::from(index)) },
        ),
    )];
    for (name, content_type, bytes) in FILES {
        out.push((
            format!("{dir}{name}"),
            get(move || async move { answer(content_type, ASSET_CACHE, Body::from(bytes)) }),
        ));
    }
    out
}

fn answer(content_type: &'static str, cache: &'static str, body: Body) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// `text` as an HTML attribute value.
fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
