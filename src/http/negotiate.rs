//! Answers every request gets regardless of its route: DRF's content
//! negotiation (406 when `Accept` excludes JSON, checked before
//! authentication as DRF does) and Django's `SecurityMiddleware` headers.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue};

use crate::error::ApiError;

/// JSON (or the browsable API, answered as JSON) must be acceptable, else 406.
pub(crate) async fn negotiate(req: Request, next: Next) -> Response {
    if let Some(accept) = req.headers().get(header::ACCEPT) {
        if !accepts_json(accept.as_bytes()) {
            return ApiError::NotAcceptable.into_response();
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

/// Django's `SecurityMiddleware` defaults.
pub(crate) async fn security_headers(mut res: Response) -> Response {
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
