//! The one place responses are built: success bodies, every error's status
//! and body (simplejwt's and Django REST framework's, byte for byte), and
//! the `WWW-Authenticate` challenge that every 401 carries.
//!
//! Errors are typed ([`crate::error`]); their mapping to HTTP lives here and
//! nowhere else. A 401 always carries a challenge: [`AuthError`]'s own
//! response names the default scheme (`Bearer realm="api"`), so a library
//! user's handler that returns one is answered correctly under the default
//! `AUTH_HEADER_TYPES`; with other header types, [`fix_challenge`] (applied
//! by [`super::router`] and [`super::app`]) rewrites it from the settings, and
//! the extractors, which hold the settings, answer with the configured one.
//! Internal causes are logged where they are converted and never reach a body.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthError, SocialError};
use crate::settings::Settings;

/// The challenge under simplejwt's default `AUTH_HEADER_TYPES`.
pub const DEFAULT_CHALLENGE: &str = "Bearer realm=\"api\"";

/// `<first AUTH_HEADER_TYPES> realm="api"`, the challenge of every 401.
pub fn challenge(settings: &Settings) -> HeaderValue {
    // AUTH_HEADER_TYPES are validated as printable ASCII without quotes.
    HeaderValue::from_str(&settings.www_authenticate())
        .unwrap_or_else(|_| HeaderValue::from_static(DEFAULT_CHALLENGE))
}

/// A JSON body with `Content-Type: application/json`.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// A successful answer: 200 with `T` as JSON.
#[derive(Debug, Clone)]
pub struct JsonAnswer<T>(pub T);

impl<T: Serialize> IntoResponse for JsonAnswer<T> {
    fn into_response(self) -> Response {
        json(StatusCode::OK, &self.0)
    }
}

/// `{}`: the answer of verify and blacklist.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Empty {}

/// `{"detail"}`: DRF's error body.
#[derive(Serialize, ToSchema)]
pub(crate) struct Detail<'a> {
    /// What went wrong, in simplejwt's or DRF's words.
    detail: &'a str,
}

/// `{"detail", "code"}`: simplejwt's error body with its code.
#[derive(Serialize, ToSchema)]
pub(crate) struct DetailCode<'a> {
    /// What went wrong.
    detail: &'a str,
    /// A stable code: `token_not_valid`, `user_inactive`, `throttled`, ...
    code: &'a str,
}

/// Why a bearer token failed as one token class.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenMessage<'a> {
    /// `AccessToken`, `SlidingToken`, ...
    token_class: &'a str,
    /// `access`, `sliding`, ...
    token_type: &'a str,
    /// Why (`Token is expired`, ...).
    message: String,
}

/// A bearer token valid as no accepted class: `{"detail", "code", "messages"}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct DetailCodeMessages<'a> {
    /// `Given token not valid for any token type`.
    detail: &'a str,
    /// `token_not_valid`.
    code: &'a str,
    /// One per class tried.
    messages: Vec<TokenMessage<'a>>,
}

/// `{"non_field_errors": ["..."]}`: DRF's error not tied to one field.
#[derive(Serialize, ToSchema)]
pub(crate) struct NonFieldErrors<'a> {
    /// The message.
    #[schema(value_type = Vec<String>)]
    non_field_errors: [&'a str; 1],
}

/// `{"error": "<code>"}`: an OAuth error (RFC 6749 §5.2).
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthErrorBody<'a> {
    /// `invalid_request`, `unsupported_token_type`.
    error: &'a str,
}

impl SocialError {
    /// The status of a refused social login.
    pub fn status(self) -> StatusCode {
        match self {
            SocialError::UnknownProvider | SocialError::NoSuchIdentity => StatusCode::NOT_FOUND,
            SocialError::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            SocialError::AccountExists
            | SocialError::IdentityTaken
            | SocialError::LastSignInMethod => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Its `code` member.
    pub fn code(self) -> &'static str {
        match self {
            SocialError::UnknownProvider => "unknown_provider",
            SocialError::ProviderUnavailable => "provider_unavailable",
            SocialError::InvalidIdToken => "id_token_not_valid",
            SocialError::InvalidState => "invalid_state",
            SocialError::InvalidCode => "invalid_code",
            SocialError::ProviderRefused => "provider_refused",
            SocialError::RedirectNotAllowed => "redirect_uri_not_allowed",
            SocialError::AccountExists => "account_exists",
            SocialError::IdentityTaken => "identity_taken",
            SocialError::LastSignInMethod => "last_sign_in_method",
            SocialError::NoSuchIdentity => "no_such_identity",
        }
    }
}

impl AuthError {
    /// The HTTP status simplejwt answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::VerifyBlacklisted
            | AuthError::UnsupportedTokenType
            | AuthError::OldPasswordIncorrect
            | AuthError::NewPasswordInvalid(_) => StatusCode::BAD_REQUEST,
            AuthError::Unavailable | AuthError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AuthError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AuthError::Social(e) => e.status(),
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// simplejwt's `code` member, when the error has one.
    fn code(&self) -> Option<&'static str> {
        Some(match self {
            AuthError::Token(_)
            | AuthError::NoUserIdentification
            | AuthError::InvalidForAnyType(_) => "token_not_valid",
            AuthError::BadAuthorizationHeader => "bad_authorization_header",
            AuthError::UserNotFound => "user_not_found",
            AuthError::UserInactive => "user_inactive",
            AuthError::PasswordChanged => "password_changed",
            AuthError::Unavailable => "service_unavailable",
            AuthError::Busy => "busy",
            AuthError::Throttled { .. } => "throttled",
            AuthError::Social(e) => e.code(),
            _ => return None,
        })
    }

    fn body(&self) -> Response {
        let status = self.status();
        let message = match self {
            // DRF's `Throttled` wording.
            AuthError::Throttled { retry_after } => {
                let wait = retry_secs(*retry_after);
                let unit = if wait == 1 { "second" } else { "seconds" };
                format!("Request was throttled. Expected available in {wait} {unit}.")
            }
            _ => self.to_string(),
        };
        match self {
            AuthError::VerifyBlacklisted => json(
                status,
                &NonFieldErrors {
                    non_field_errors: [&message],
                },
            ),
            AuthError::UnsupportedTokenType => oauth_error("unsupported_token_type"),
            AuthError::OldPasswordIncorrect => {
                json(status, &serde_json::json!({ "old_password": [message] }))
            }
            AuthError::NewPasswordInvalid(reasons) => {
                json(status, &serde_json::json!({ "new_password": reasons }))
            }
            AuthError::InvalidForAnyType(failures) => json(
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
            _ => match self.code() {
                Some(code) => json(
                    status,
                    &DetailCode {
                        detail: &message,
                        code,
                    },
                ),
                None => json(status, &Detail { detail: &message }),
            },
        }
    }

    /// The response with `challenge` on a 401 and `Retry-After` on a 503.
    pub fn into_response_with(self, challenge: HeaderValue) -> Response {
        let mut res = self.body();
        let headers = res.headers_mut();
        match self.status() {
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, challenge);
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        if let AuthError::Throttled { retry_after } = self {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_secs(retry_after)),
            );
        }
        res
    }
}

/// An OAuth error answer (RFC 6749 §5.2, as RFC 7009 §2.2.1 and RFC 7662
/// §2.3 use it): 400 `{"error": "<code>"}`.
fn oauth_error(code: &str) -> Response {
    json(StatusCode::BAD_REQUEST, &OAuthErrorBody { error: code })
}

/// Whole seconds to wait, rounded up (`Retry-After` takes no fraction), at least 1.
fn retry_secs(d: std::time::Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        self.into_response_with(HeaderValue::from_static(DEFAULT_CHALLENGE))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let bad_request = StatusCode::BAD_REQUEST;
        match self {
            ApiError::Auth(e) => e.into_response(),
            ApiError::Fields(fields) => {
                let map: serde_json::Map<String, serde_json::Value> = fields
                    .into_iter()
                    .map(|(field, message)| (field.to_owned(), serde_json::json!([message])))
                    .collect();
                json(bad_request, &map)
            }
            ApiError::NonField(message) => json(
                bad_request,
                &NonFieldErrors {
                    non_field_errors: [&message],
                },
            ),
            ApiError::Parse(detail) => json(bad_request, &Detail { detail: &detail }),
            ApiError::MethodNotAllowed { method, allow } => {
                let detail = format!("Method \"{method}\" not allowed.");
                let mut res = json(StatusCode::METHOD_NOT_ALLOWED, &Detail { detail: &detail });
                res.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
                res
            }
            ApiError::UnsupportedMediaType(ct) => json(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &Detail {
                    detail: &format!("Unsupported media type \"{ct}\" in request."),
                },
            ),
            ApiError::NotAcceptable => json(
                StatusCode::NOT_ACCEPTABLE,
                &Detail {
                    detail: "Could not satisfy the request Accept header.",
                },
            ),
            ApiError::NotFound => json(
                StatusCode::NOT_FOUND,
                &Detail {
                    detail: "Not found.",
                },
            ),
            ApiError::PayloadTooLarge => json(
                StatusCode::PAYLOAD_TOO_LARGE,
                &Detail {
                    detail: "Request body is too large.",
                },
            ),
            ApiError::RequestTimeout => json(
                StatusCode::REQUEST_TIMEOUT,
                &Detail {
                    detail: "Request timed out.",
                },
            ),
            ApiError::Csrf(e) => json(
                StatusCode::FORBIDDEN,
                &Detail {
                    detail: &e.to_string(),
                },
            ),
            ApiError::Forbidden => json(
                StatusCode::FORBIDDEN,
                &Detail {
                    detail: "You do not have permission to perform this action.",
                },
            ),
            ApiError::OAuth(code) => oauth_error(code),
        }
    }
}

/// What the authentication extractors refuse with: the error and this
/// server's challenge (they hold the settings, so the challenge is exact
/// under any `AUTH_HEADER_TYPES`).
#[derive(Debug, Clone)]
pub struct AuthRejection {
    /// Why authentication failed.
    pub error: AuthError,
    /// `<type> realm="api"`.
    pub challenge: HeaderValue,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.error.into_response_with(self.challenge)
    }
}

/// Rewrites the challenge of every 401 passing through to the configured
/// one (and adds it where a handler answered 401 without one). Applied by
/// [`super::router`] and [`super::app`]; add it to a router of your own with
/// `axum::middleware::from_fn_with_state(challenge, simplejwt::http::fix_challenge)`
/// when `AUTH_HEADER_TYPES` is not the default.
pub async fn fix_challenge(
    axum::extract::State(challenge): axum::extract::State<HeaderValue>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let mut res = next.run(request).await;
    if res.status() == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    res
}

/// A bug must not take the connection down or leak a stack trace: log it,
/// answer a plain JSON 500.
pub(crate) fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "handler panicked");
    AuthError::Internal.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{TokenError, TokenKind};

    async fn body_of(res: Response) -> (StatusCode, Option<String>, String) {
        let status = res.status();
        let challenge = res
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            challenge,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn every_401_carries_a_challenge_and_nothing_else_does() {
        let (s, c, b) = body_of(AuthError::NotAuthenticated.into_response()).await;
        assert_eq!(s, 401);
        assert_eq!(c.as_deref(), Some(DEFAULT_CHALLENGE));
        assert_eq!(
            b,
            r#"{"detail":"Authentication credentials were not provided."}"#
        );
        let (s, c, _) = body_of(AuthError::VerifyBlacklisted.into_response()).await;
        assert_eq!((s.as_u16(), c), (400, None));
        let (s, c, _) = body_of(ApiError::NotFound.into_response()).await;
        assert_eq!((s.as_u16(), c), (404, None));
    }

    #[tokio::test]
    async fn bodies_are_simplejwts() {
        let (_, _, b) = body_of(AuthError::Token(TokenError::Expired).into_response()).await;
        assert_eq!(
            b,
            r#"{"detail":"Token is expired","code":"token_not_valid"}"#
        );
        let failures = vec![(TokenKind::Access, TokenError::Invalid)];
        let (_, _, b) = body_of(AuthError::InvalidForAnyType(failures).into_response()).await;
        assert_eq!(
            b,
            r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid"}]}"#
        );
        let (_, _, b) = body_of(AuthError::VerifyBlacklisted.into_response()).await;
        assert_eq!(b, r#"{"non_field_errors":["Token is blacklisted"]}"#);
        let res = AuthError::Unavailable.into_response();
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    }
}
