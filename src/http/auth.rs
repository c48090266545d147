//! The request side: axum extractors that authenticate
//! `Authorization: Bearer <jwt>` (or the configured `AUTH_HEADER_NAME` and
//! `AUTH_HEADER_TYPES`) and hand the handler a user.
//!
//! - [`AuthUser`] is simplejwt's `JWTAuthentication`: the user is read from the
//!   database on every request, so deactivation (and, with
//!   `CHECK_REVOKE_TOKEN`, a password change) takes effect at once.
//! - [`TokenAuth`] is `JWTStatelessUserAuthentication`: the token alone, no
//!   database, for services that only trust the signer.
//!
//! Both find the [`AuthService`] through `FromRef`, so an application's own
//! state can hold it. A failed authentication is a 401 with simplejwt's body
//! and `WWW-Authenticate`. With `AUTH_COOKIE`, a request without the header
//! is authenticated by the access cookie (unsafe methods then pass
//! [`super::csrf`] first, a layer on the routes). There is deliberately no `Option<AuthUser>`
//! shortcut: it would treat an invalid token like a missing one; use
//! [`MaybeAuthUser`], which refuses invalid tokens and passes only their absence.
//! An authenticated user's id goes into the request's log span
//! ([`super::access_log`]).

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;

use super::access_log::record_user_id;
use super::cookies::{self, TokenCookie};
use super::response::{challenge, AuthRejection};
use crate::error::AuthError;
use crate::service::{AuthService, AuthenticatedUser, TokenUser};

fn reject(service: &AuthService, error: AuthError) -> AuthRejection {
    AuthRejection {
        error,
        challenge: challenge(service.settings()),
    }
}

/// The service from the state, and the token: from `AUTH_HEADER_NAME`
/// (its one value), else, with `AUTH_COOKIE`, from the access cookie;
/// `None` when neither is there. The cookie is read only when the header
/// gave no token: a header request pays one flag test.
///
/// A request carrying the header twice never authenticates, whatever either
/// value is: Django joins repeated headers with `,`, so `Bearer a` +
/// `Bearer b` reaches simplejwt as `Bearer a,Bearer b` — three
/// space-delimited parts — and is refused with `bad_authorization_header`
/// (401); we give that answer for every repetition instead of guessing which
/// copy a proxy looked at.
fn credentials<'a, S>(
    parts: &'a Parts,
    state: &S,
) -> (AuthService, Result<Option<&'a [u8]>, AuthError>)
where
    AuthService: FromRef<S>,
{
    let service = AuthService::from_ref(state);
    let token = header_or_cookie(&service, parts);
    (service, token)
}

fn header_or_cookie<'a>(
    service: &AuthService,
    parts: &'a Parts,
) -> Result<Option<&'a [u8]>, AuthError> {
    let settings = service.settings();
    let mut values = parts.headers.get_all(settings.auth_header_name()).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(AuthError::BadAuthorizationHeader);
    }
    match service.raw_token(first.map(|v| v.as_bytes()))? {
        Some(token) => Ok(Some(token)),
        None if settings.auth_cookie() => {
            Ok(cookies::read(&parts.headers, settings, TokenCookie::Access).map(str::as_bytes))
        }
        None => Ok(None),
    }
}

/// `JWTAuthentication` of the request's token (see [`credentials`]); the
/// user's id goes into the request's log span.
async fn authenticated<S>(
    parts: &Parts,
    state: &S,
) -> (AuthService, Result<AuthenticatedUser, AuthError>)
where
    AuthService: FromRef<S>,
{
    let (service, token) = credentials(parts, state);
    let user = match token {
        Ok(token) => service.authenticate_token(token).await,
        Err(e) => Err(e),
    };
    if let Ok(user) = &user {
        record_user_id(user.user.id);
    }
    (service, user)
}

/// An authenticated user, read from the database (`JWTAuthentication`).
#[derive(Debug, Clone)]
pub struct AuthUser(pub AuthenticatedUser);

impl<S> FromRequestParts<S> for AuthUser
where
    AuthService: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (service, user) = authenticated(parts, state).await;
        user.map(AuthUser).map_err(|e| reject(&service, e))
    }
}

/// An authenticated user when credentials were sent, `None` when none were;
/// invalid credentials are still refused with 401.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthenticatedUser>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    AuthService: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (service, user) = authenticated(parts, state).await;
        match user {
            Ok(user) => Ok(MaybeAuthUser(Some(user))),
            Err(AuthError::NotAuthenticated) => Ok(MaybeAuthUser(None)),
            Err(e) => Err(reject(&service, e)),
        }
    }
}

/// A user vouched for by the token alone (`JWTStatelessUserAuthentication`).
#[derive(Debug, Clone)]
pub struct TokenAuth(pub TokenUser);

impl<S> FromRequestParts<S> for TokenAuth
where
    AuthService: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (service, token) = credentials(parts, state);
        let token = token.map_err(|e| reject(&service, e))?;
        let user = service
            .authenticate_stateless_token(token)
            .await
            .map_err(|e| reject(&service, e))?;
        if let Ok(id) = user.id.parse() {
            record_user_id(id);
        }
        Ok(TokenAuth(user))
    }
}
