//! The OpenAPI 3.1 document of the routes this server mounts (`GET
//! /api/schema/`, with `OPENAPI`) and Swagger UI over it ([`ui`], `GET
//! /api/docs/`).
//!
//! The document is generated from the code, never written by hand: its
//! paths and methods from the route table ([`super::Routes`]: exactly the
//! routes mounted under the current settings, this document's own
//! included), each request body from the fields its extractor reads
//! ([`super::DrfFields`]: required, optional, and which a cookie may supply with
//! `AUTH_COOKIE`), each answer from the type the handler serialises
//! (`utoipa::ToSchema` derived beside its `Serialize`), and every error
//! body from the structs [`super::response`] builds them with, described
//! once as components. A test (`tests/openapi.rs`) checks that the document
//! lists every mounted route and nothing else and that real answers
//! validate against it; `tests/schemathesis/run.sh` (CI) fuzzes the running
//! server from it.
//!
//! Cost: the document is built once, when the router is built, and served
//! from memory as bytes; no request path reads it.

mod components;
mod operations;
pub mod ui;

use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr};

use super::routes::RouteKind;
use crate::settings::Settings;

/// The name of the security scheme of authenticated routes.
const AUTH_SCHEME: &str = "jwt";

/// The media types every body-taking endpoint parses (as DRF's parsers).
const BODY_TYPES: [&str; 3] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

const JSON: &str = "application/json";

/// The error answers, described once (`components.responses`): status,
/// name, description, schema name, whether it carries `Retry-After`.
const ERRORS: [(&str, &str, &str, &str, bool); 12] = [
    (
        "400",
        "BadRequest",
        "The body is invalid: DRF's field errors (`{\"field\": [\"This field is required.\"]}`, \
         `{\"non_field_errors\": [...]}`) or a parse error (`{\"detail\": \"JSON parse error - ...\"}`).",
        "ValidationError",
        false,
    ),
    (
        "400",
        "OAuthBadRequest",
        "RFC 6749 §5.2 `{\"error\": \"invalid_request\"}` (no `token`) or \
         `{\"error\": \"unsupported_token_type\"}`; or a body that cannot be read.",
        "OAuthValidationError",
        false,
    ),
    (
        "401",
        "Unauthorized",
        "Not authenticated, or the token or credentials are not valid: `{\"detail\"}`, \
         with `code` (`token_not_valid`, ...) and, for a bearer token, `messages` per token class. \
         Carries `WWW-Authenticate`.",
        "Error",
        false,
    ),
    (
        "403",
        "Forbidden",
        "Not allowed (`{\"detail\"}`): a cookie-authenticated request that failed the CSRF check, \
         or a caller without the permission.",
        "Detail",
        false,
    ),
    (
        "404",
        "NotFound",
        "No such resource: `{\"detail\": \"Not found.\"}` (with `code` for social login).",
        "Error",
        false,
    ),
    (
        "406",
        "NotAcceptable",
        "`Accept` excludes JSON.",
        "Detail",
        false,
    ),
    (
        "408",
        "RequestTimeout",
        "`SIMPLEJWT_REQUEST_TIMEOUT` passed before the answer was ready.",
        "Detail",
        false,
    ),
    (
        "409",
        "Conflict",
        "The identity or account is in the way (`{\"detail\", \"code\"}`).",
        "DetailCode",
        false,
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is over the server's limit.",
        "Detail",
        false,
    ),
    (
        "415",
        "UnsupportedMediaType",
        "No parser for the body's `Content-Type`.",
        "Detail",
        false,
    ),
    (
        "429",
        "Throttled",
        "`LOGIN_THROTTLE`: too many failed logins; `Retry-After` says when to try again.",
        "DetailCode",
        true,
    ),
    (
        "503",
        "Unavailable",
        "The database, the password hashing queue or an identity provider cannot answer now; \
         try again after `Retry-After`.",
        "DetailCode",
        true,
    ),
];

/// The OpenAPI 3.1 document of `mounted` (path templates as axum writes
/// them, which are OpenAPI's) under `settings`; `timeout`: every route has
/// a deadline (`SIMPLEJWT_REQUEST_TIMEOUT`, answered 408).
pub fn document<'a>(
    settings: &Settings,
    timeout: bool,
    mounted: impl IntoIterator<Item = (&'a str, RouteKind)>,
) -> OpenApi {
    let mut paths = Paths::new();
    for (path, kind) in mounted {
        for (method, op) in operations::operations(settings, path, kind) {
            let mut op = with_id(op, &method, path);
            if timeout {
                op.responses.responses.insert(
                    "408".to_owned(),
                    RefOr::Ref(Ref::from_response_name("RequestTimeout")),
                );
            }
            paths.add_path_operation(path, vec![method], op);
        }
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("simplejwt")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "JSON Web Token access/refresh authentication, wire-compatible with \
                     djangorestframework-simplejwt 5.5.1. Generated from the routes this \
                     server mounts with its current settings.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components::components(settings)))
        .build()
}

/// The document as JSON bytes.
pub fn document_json<'a>(
    settings: &Settings,
    timeout: bool,
    mounted: impl IntoIterator<Item = (&'a str, RouteKind)>,
) -> Vec<u8> {
    serde_json::to_vec(&document(settings, timeout, mounted)).unwrap_or_else(|_| b"{}".to_vec())
}

/// `operationId`: the method and the path, e.g. `post_api_token_refresh`.
fn with_id(mut op: Operation, method: &HttpMethod, path: &str) -> Operation {
    let method = match method {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Delete => "delete",
        HttpMethod::Options => "options",
        HttpMethod::Head => "head",
        HttpMethod::Patch => "patch",
        HttpMethod::Trace => "trace",
    }
    .to_owned();
    let slug: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let slug = slug
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    op.operation_id = Some(if slug.is_empty() {
        method
    } else {
        format!("{method}_{slug}")
    });
    op
}
