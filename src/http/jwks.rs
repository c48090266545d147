//! `GET /.well-known/jwks.json`: the public key that verifies our tokens, as
//! a JWK set (RFC 7517) for other services to verify them without a shared
//! secret. With an HMAC `ALGORITHM` the set is empty (a secret is never
//! published). Cacheable for five minutes: a verifier refetches soon after a
//! key change, and the document is the same on every instance.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method};

use crate::error::ApiError;
use crate::service::AuthService;

/// The methods the document answers.
pub const ALLOW: &str = "GET, HEAD";

/// `Cache-Control` of the document.
pub const CACHE_CONTROL: &str = "public, max-age=300";

/// `GET` (and `HEAD`): the JWKS document.
pub async fn jwks(State(service): State<AuthService>) -> Response {
    let body = service.tokens().keys().jwks().to_owned();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    res
}

/// Any other method: 405.
pub async fn other_method(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: ALLOW,
    }
}
