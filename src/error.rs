//! Every error a client can see, as typed enums: [`AuthError`] is what the
//! auth logic ([`crate::service`]) returns and knows nothing of HTTP;
//! [`ApiError`] adds what only the HTTP layer can get wrong (methods, media
//! types, malformed bodies, field validation). Their statuses and bodies —
//! simplejwt's and Django REST framework's, byte for byte — are built in one
//! place, [`crate::http::response`]. Internal causes are logged where they
//! are converted here and never reach a body.

use crate::token::{TokenError, TokenKind};

/// Outcomes of obtain / refresh / verify / blacklist / authenticate that are not success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// `LOGIN_THROTTLE`: too many failed logins from this client for this
    /// username or address; try again after `retry_after` (429, `Retry-After`).
    #[error("Request was throttled.")]
    Throttled {
        /// How long until an attempt is accepted again.
        retry_after: std::time::Duration,
    },
    /// RFC 7009 §2.2.1: an access token presented for revocation where
    /// access tokens are self-contained (no `ACCESS_TOKEN_REVOCATION`).
    #[error("unsupported_token_type")]
    UnsupportedTokenType,
    /// The password change's `old_password` is not the user's password
    /// (Django's `PasswordChangeForm` wording); nothing was changed.
    #[error("Your old password was entered incorrectly. Please enter it again.")]
    OldPasswordIncorrect,
    /// The password change's `new_password` cannot be used: every reason,
    /// in Django's words (`password::validation`); nothing was changed.
    #[error("{}", .0.join(" "))]
    NewPasswordInvalid(Vec<String>),
    /// A bug or broken configuration; details are in the log only.
    #[error("A server error occurred.")]
    Internal,
    /// Social login (OpenID Connect) refused the sign-in.
    #[error("{0}")]
    Social(SocialError),
}

/// Why a social login (OpenID Connect, `service::social`) failed. Each is a
/// 4xx — or 503 when the provider cannot be used — with `{"detail", "code"}`;
/// none creates a user or starts a session. The provider's own error texts
/// go to the log, never into a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocialError {
    /// No configured provider has this name, or it has no browser flow (404).
    #[error("Unknown sign-in provider.")]
    UnknownProvider,
    /// The provider did not answer, or answered something unusable
    /// (discovery, keys, code exchange): 503, try again later.
    #[error("The sign-in provider is unavailable, try again later.")]
    ProviderUnavailable,
    /// The ID token is malformed, badly signed, expired, for another
    /// audience or issuer, or carries the wrong nonce (400).
    #[error("The ID token is not valid.")]
    InvalidIdToken,
    /// The browser flow's `state` is missing, wrong, expired or used (400).
    #[error("The sign-in state is invalid or expired; start again.")]
    InvalidState,
    /// The authorization code or one-time exchange code is missing, wrong,
    /// expired or used (400).
    #[error("The code is invalid or expired; start again.")]
    InvalidCode,
    /// The provider answered the browser flow with an error (the user
    /// declined, …) (400).
    #[error("The sign-in provider refused the sign-in.")]
    ProviderRefused,
    /// The `redirect_uri` asked for is not on the provider's list (400).
    #[error("This redirect_uri is not allowed.")]
    RedirectNotAllowed,
    /// A local account has this e-mail address, and linking by e-mail is
    /// off for this provider or the address is not verified (409).
    #[error("An account with this e-mail address exists; sign in to it and link this provider.")]
    AccountExists,
    /// The identity is linked to another account already (409).
    #[error("This sign-in is linked to another account.")]
    IdentityTaken,
    /// Unlinking would leave the account no way to sign in (409).
    #[error("This is the account's last way to sign in.")]
    LastSignInMethod,
    /// The account has no such linked identity (404).
    #[error("No such linked identity.")]
    NoSuchIdentity,
}

impl From<SocialError> for AuthError {
    fn from(e: SocialError) -> Self {
        AuthError::Social(e)
    }
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
                // Our stores log each fault once (`store/faults.rs`), not per request.
                tracing::debug!(%cause, "database unavailable");
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
#[non_exhaustive]
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
    /// 408: the request was not answered within `REQUEST_TIMEOUT`, in
    /// practice a client sending its body too slowly (the server's own
    /// waits are bounded by shorter limits and answer 503).
    RequestTimeout,
    /// 403: a cookie-authenticated unsafe request failed the CSRF check.
    Csrf(CsrfError),
    /// 403: authenticated, but not allowed (DRF's `PermissionDenied`), e.g.
    /// introspection by a user who is not staff.
    Forbidden,
    /// 400 with an OAuth error body (RFC 6749 §5.2), e.g. `invalid_request`
    /// for a revocation or introspection request without `token`.
    OAuth(&'static str),
}

/// Why a cookie-authenticated request was refused as a possible cross-site
/// request forgery (see `http::csrf`); the texts follow Django's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrfError {
    /// `Sec-Fetch-Site` / `Origin` name a site that is not trusted.
    #[error(
        "CSRF Failed: Origin checking failed - the request does not come from a trusted origin."
    )]
    CrossOrigin,
    /// The readable CSRF cookie is missing.
    #[error("CSRF Failed: CSRF cookie not set.")]
    NoCookie,
    /// The CSRF header is missing.
    #[error("CSRF Failed: CSRF token missing.")]
    NoToken,
    /// The CSRF header differs from the cookie.
    #[error("CSRF Failed: CSRF token incorrect.")]
    WrongToken,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}
