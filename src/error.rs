//! Every error a client can see, with simplejwt's status codes and bodies,
//! mapped to HTTP in exactly one place ([`IntoResponse`] below).
//!
//! [`AuthError`] is what the auth logic ([`crate::service`]) returns; it knows
//! nothing of HTTP. [`ApiError`] adds what only the HTTP layer can get wrong
//! (methods, media types, malformed bodies, field validation), shaped like
//! Django REST framework's answers so existing clients parse them unchanged.
//! Internal causes are logged here and never put in a body.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::token::{TokenError, TokenKind};

/// Outcomes of obtain / refresh / verify / blacklist / authenticate that are not success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Login failed: unknown user, wrong password or inactive account (indistinguishable).
    #[error("No active account found with the given credentials")]
    NoActiveAccount,
    /// Refresh for a user that is inactive or no longer exists.
    #[error("No active account found for the given token.")]
    NoActiveAccountForToken,
    /// A token posted to a token endpoint was refused.
    #[error("{0}")]
    Token(TokenError),
    /// The verify endpoint found the token blacklisted (simplejwt answers 400 here).
    #[error("Token is blacklisted")]
    VerifyBlacklisted,
    /// No usable `Authorization` header.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// `Authorization: Bearer` with zero or several values.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// The bearer token is not valid as any accepted token type.
    #[error("Given token not valid for any token type")]
    InvalidForAnyType(Vec<(TokenKind, TokenError)>),
    /// The bearer token has no user id claim.
    #[error("Token contained no recognizable user identification")]
    NoUserIdentification,
    /// The bearer token names a user that does not exist.
    #[error("User not found")]
    UserNotFound,
    /// The bearer token names an inactive user.
    #[error("User is inactive")]
    UserInactive,
    /// `CHECK_REVOKE_TOKEN`: the password changed after the token was issued.
    #[error("The user's password has been changed.")]
    PasswordChanged,
    /// The database is unreachable or overloaded; try again later.
    #[error("Service temporarily unavailable, try again later.")]
    Unavailable,
    /// Too many password checks are queued; try again later.
    #[error("Too many login attempts are being processed, try again later.")]
    Busy,
    /// A bug or broken configuration; details are in the log only.
    #[error("A server error occurred.")]
    Internal,
}

impl From<TokenError> for AuthError {
    fn from(e: TokenError) -> Self {
        AuthError::Token(e)
    }
}

impl From<crate::store::StoreError> for AuthError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                AuthError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "database error");
                AuthError::Internal
            }
        }
    }
}

impl From<crate::password::PasswordError> for AuthError {
    fn from(e: crate::password::PasswordError) -> Self {
        use crate::password::PasswordError;
        match e {
            PasswordError::Busy => AuthError::Busy,
            PasswordError::TooLong => AuthError::NoActiveAccount,
            PasswordError::Internal(cause) => {
                tracing::error!(%cause, "password hashing failed");
                AuthError::Internal
            }
        }
    }
}

/// Everything the HTTP layer answers with other than success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// From the auth logic.
    Auth(AuthError),
    /// DRF field errors: `{"field": ["message"], …}` in field order (400).
    Fields(Vec<(&'static str, &'static str)>),
    /// DRF `non_field_errors` (400), e.g. a body that is not a JSON object.
    NonField(String),
    /// A body that could not be parsed: `{"detail": "JSON parse error - …"}` (400);
    /// the string is the whole detail.
    Parse(String),
    /// Wrong method: 405 with `Allow`.
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The `Allow` header value.
        allow: &'static str,
    },
    /// 415 for a content type no parser accepts (the header value as sent).
    UnsupportedMediaType(String),
    /// 406 when `Accept` excludes JSON.
    NotAcceptable,
    /// 404.
    NotFound,
    /// 413: the body is over the limit.
    PayloadTooLarge,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

#[derive(Serialize)]
struct Detail<'a> {
    detail: &'a str,
}

#[derive(Serialize)]
struct DetailCode<'a> {
    detail: &'a str,
    code: &'a str,
}

#[derive(Serialize)]
struct TokenMessage<'a> {
    token_class: &'a str,
    token_type: &'a str,
    message: String,
}

#[derive(Serialize)]
struct DetailCodeMessages<'a> {
    detail: &'a str,
    code: &'a str,
    messages: Vec<TokenMessage<'a>>,
}

#[derive(Serialize)]
struct NonFieldErrors<'a> {
    non_field_errors: [&'a str; 1],
}

/// Renders a JSON response with `Content-Type: application/json`.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

impl AuthError {
    /// The HTTP status simplejwt answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::VerifyBlacklisted => StatusCode::BAD_REQUEST,
            AuthError::Unavailable | AuthError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn to_response(&self) -> Response {
        let status = self.status();
        let message = self.to_string();
        let code = match self {
            AuthError::Token(_) | AuthError::NoUserIdentification => Some("token_not_valid"),
            AuthError::BadAuthorizationHeader => Some("bad_authorization_header"),
            AuthError::UserNotFound => Some("user_not_found"),
            AuthError::UserInactive => Some("user_inactive"),
            AuthError::PasswordChanged => Some("password_changed"),
            AuthError::Unavailable => Some("service_unavailable"),
            AuthError::Busy => Some("busy"),
            _ => None,
        };
        let mut res = match self {
            AuthError::VerifyBlacklisted => json_response(
                status,
                &NonFieldErrors {
                    non_field_errors: [&message],
                },
            ),
            AuthError::InvalidForAnyType(failures) => json_response(
                status,
                &DetailCodeMessages {
                    detail: &message,
                    code: "token_not_valid",
                    messages: failures
                        .iter()
                        .map(|(kind, e)| TokenMessage {
                            token_class: kind.class_name(),
                            token_type: kind.as_str(),
                            message: e.to_string(),
                        })
                        .collect(),
                },
            ),
            _ => match code {
                Some(code) => json_response(
                    status,
                    &DetailCode {
                        detail: &message,
                        code,
                    },
                ),
                None => json_response(status, &Detail { detail: &message }),
            },
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            // WWW-Authenticate is added by the router for every 401 (it
            // depends on AUTH_HEADER_TYPES, which lives in state).
            ApiError::Auth(e) => e.to_response(),
            ApiError::Fields(fields) => {
                let mut map = serde_json::Map::new();
                for (field, message) in fields {
                    map.insert(field.into(), serde_json::json!([message]));
                }
                json_response(StatusCode::BAD_REQUEST, &map)
            }
            ApiError::NonField(message) => json_response(
                StatusCode::BAD_REQUEST,
                &NonFieldErrors {
                    non_field_errors: [&message],
                },
            ),
            ApiError::Parse(detail) => {
                json_response(StatusCode::BAD_REQUEST, &Detail { detail: &detail })
            }
            ApiError::MethodNotAllowed { method, allow } => {
                let mut res = json_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &Detail {
                        detail: &format!("Method \"{method}\" not allowed."),
                    },
                );
                res.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
                res
            }
            ApiError::UnsupportedMediaType(ct) => json_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &Detail {
                    detail: &format!("Unsupported media type \"{ct}\" in request."),
                },
            ),
            ApiError::NotAcceptable => json_response(
                StatusCode::NOT_ACCEPTABLE,
                &Detail {
                    detail: "Could not satisfy the request Accept header.",
                },
            ),
            ApiError::NotFound => json_response(
                StatusCode::NOT_FOUND,
                &Detail {
                    detail: "Not found.",
                },
            ),
            ApiError::PayloadTooLarge => json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &Detail {
                    detail: "Request body is too large.",
                },
            ),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ApiError::Auth(self).into_response()
    }
}

/// An [`ApiError`] together with the `WWW-Authenticate` challenge that every
/// 401 must carry (it names the first of `AUTH_HEADER_TYPES`, so it comes
/// from the settings, not from the error).
#[derive(Debug, Clone)]
pub struct Rejection {
    /// What went wrong.
    pub error: ApiError,
    /// `<type> realm="api"`.
    pub challenge: HeaderValue,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut res = self.error.into_response();
        if res.status() == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, self.challenge);
        }
        res
    }
}
