//! `OPTIONS` answers: DRF's `SimpleMetadata` for each view, byte for byte.

use axum::response::Response;
use http::{header, HeaderValue, StatusCode};

const RENDERS_PARSES: &str = r#""renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]"#;

fn field(name: &str, label: &str) -> String {
    format!(r#""{name}":{{"type":"string","required":true,"read_only":false,"label":"{label}"}}"#)
}

const READ_ONLY_ACCESS: &str =
    r#""access":{"type":"string","required":false,"read_only":true,"label":"Access"}"#;

/// The metadata document of one view.
pub(crate) fn token_view(view: &str) -> Response {
    let (name, description, fields) = match view {
        "obtain" => (
            "Token Obtain Pair",
            r"Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
            format!(
                "{},{}",
                field("username", "Username"),
                field("password", "Password")
            ),
        ),
        "refresh" => (
            "Token Refresh",
            r"Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
            format!("{},{READ_ONLY_ACCESS}", field("refresh", "Refresh")),
        ),
        "verify" => (
            "Token Verify",
            r"Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
            field("token", "Token"),
        ),
        "obtain_sliding" => (
            "Token Obtain Sliding",
            r"Takes a set of user credentials and returns a sliding JSON web token to\nprove the authentication of those credentials.",
            format!(
                "{},{}",
                field("username", "Username"),
                field("password", "Password")
            ),
        ),
        "refresh_sliding" => (
            "Token Refresh Sliding",
            r"Takes a sliding JSON web token and returns a new, refreshed version if the\ntoken's refresh period has not expired.",
            field("token", "Token"),
        ),
        _ => (
            "Token Blacklist",
            r"Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
            field("refresh", "Refresh"),
        ),
    };
    let body = format!(
        r#"{{"name":"{name}","description":"{description}",{RENDERS_PARSES},"actions":{{"POST":{{{fields}}}}}}}"#
    );
    json(body)
}

/// The protected view's metadata (no actions: it has no serializer).
pub(crate) fn protected_view() -> Response {
    json(format!(
        r#"{{"name":"Protected","description":"GET /api/protected/ -- authenticated by JWTAuthentication.",{RENDERS_PARSES}}}"#
    ))
}

fn json(body: String) -> Response {
    let mut res = Response::new(axum::body::Body::from(body));
    *res.status_mut() = StatusCode::OK;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
