//! Request authentication (simplejwt's `JWTAuthentication` and
//! `JWTStatelessUserAuthentication`): the `Authorization` header value to a
//! user. This is the hot path of every protected request: one header split,
//! one signature check, the claim checks, and (stateful only) one indexed
//! user lookup.

use serde_json::Value;

use super::validate::Expect;
use super::{user_pk, AuthService};
use crate::error::AuthError;
use crate::settings::{Settings, UserIdField};
use crate::store::User;
use crate::token::{Claims, Timestamp, TokenError, TokenKind};

/// A request authenticated against the database.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser {
    /// The user, freshly read.
    pub user: User,
    /// The validated access token's claims.
    pub claims: Claims,
}

/// A request authenticated by the token alone (simplejwt's `TokenUser`): no
/// database access, so no active/existence/revocation checks.
#[derive(Debug, Clone)]
pub struct TokenUser {
    /// The validated access token's claims.
    pub claims: Claims,
    /// The user id claim's value as a string (`"1"`).
    pub id: String,
}

impl TokenUser {
    /// The `username` claim, or `""` (as simplejwt's `TokenUser.username`).
    pub fn username(&self) -> &str {
        self.claims
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    /// The `is_staff` claim, or false.
    pub fn is_staff(&self) -> bool {
        self.claims
            .get("is_staff")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
    /// The `is_superuser` claim, or false.
    pub fn is_superuser(&self) -> bool {
        self.claims
            .get("is_superuser")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// Python's `bytes.split()` separators.
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The header value's words, as Python's `bytes.split()` gives them.
fn words(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    header.split(|b| is_py_space(*b)).filter(|p| !p.is_empty())
}

/// Whether an auth header value starts with one of `AUTH_HEADER_TYPES`
/// (case-sensitive, as simplejwt's `get_raw_token`): a header this server
/// reads a token from. Anything else (`Basic …`, `bearer …`, empty) is
/// "not provided" to it — and is what a browser may attach by itself, which
/// is why the CSRF guard ([`crate::http::csrf`]) asks this too.
pub(crate) fn names_accepted_scheme(settings: &Settings, header: &[u8]) -> bool {
    words(header).next().is_some_and(|scheme| {
        settings
            .auth_header_types()
            .iter()
            .any(|t| t.as_bytes() == scheme)
    })
}

impl AuthService {
    /// The raw token from the header value: `Ok(None)` when the header is
    /// absent, empty, or of another scheme (case-sensitive) — "not provided";
    /// an error when the scheme matches but there is not exactly one value.
    pub fn raw_token<'a>(&self, header: Option<&'a [u8]>) -> Result<Option<&'a [u8]>, AuthError> {
        let Some(header) = header else {
            return Ok(None);
        };
        if !names_accepted_scheme(self.settings(), header) {
            return Ok(None);
        }
        let mut parts = words(header).skip(1);
        match (parts.next(), parts.next()) {
            (Some(token), None) => Ok(Some(token)),
            _ => Err(AuthError::BadAuthorizationHeader),
        }
    }

    /// Validates the bearer token as each of `AUTH_TOKEN_CLASSES` in turn
    /// (access tokens by default); the first that accepts it wins, and if
    /// none does, every class's reason is reported, as simplejwt does.
    /// Sliding tokens are also checked against the blacklist ([`Expect`]).
    async fn validated_token(&self, token: Option<&[u8]>) -> Result<Claims, AuthError> {
        let raw = token.ok_or(AuthError::NotAuthenticated)?;
        let settings = self.settings();
        let classes = &settings.auth_token_classes();
        let Ok(token) = std::str::from_utf8(raw) else {
            let failures = classes.iter().map(|&k| (k, TokenError::Invalid)).collect();
            return Err(AuthError::InvalidForAnyType(failures));
        };
        let now = Timestamp::now();
        let mut failures = Vec::new();
        for &kind in classes.iter() {
            match self
                .validate(token, Expect::authenticating(kind), now)
                .await
            {
                Ok(claims) => return Ok(claims),
                Err(AuthError::Token(e)) => failures.push((kind, e)),
                Err(other) => return Err(other),
            }
        }
        Err(AuthError::InvalidForAnyType(failures))
    }

    /// `JWTAuthentication`: token → user from the database, active and
    /// (with `CHECK_REVOKE_TOKEN`) with an unchanged password.
    pub async fn authenticate(
        &self,
        header: Option<&[u8]>,
    ) -> Result<AuthenticatedUser, AuthError> {
        let token = self.raw_token(header)?;
        self.authenticate_token(token).await
    }

    /// [`AuthService::authenticate`] of a token taken from elsewhere than
    /// the header (the access cookie); `None` is "not provided".
    pub async fn authenticate_token(
        &self,
        token: Option<&[u8]>,
    ) -> Result<AuthenticatedUser, AuthError> {
        let settings = self.settings();
        let claims = self.validated_token(token).await?;
        let value = claims
            .get(settings.user_id_claim())
            .ok_or(AuthError::NoUserIdentification)?;
        let (user, session_live) = self.user_and_session(value, &claims).await?;
        if settings.check_user_is_active() && !user.is_active {
            return Err(AuthError::UserInactive);
        }
        if !self.password_unchanged(&user, &claims) {
            return Err(AuthError::PasswordChanged);
        }
        if !session_live {
            // As simplejwt refuses a blacklisted token on an authenticated request.
            let kind = claims
                .get(settings.token_type_claim().unwrap_or_default())
                .and_then(Value::as_str)
                .and_then(|t| {
                    [TokenKind::Access, TokenKind::Sliding]
                        .into_iter()
                        .find(|k| k.as_str() == t)
                })
                .unwrap_or(TokenKind::Access);
            return Err(AuthError::InvalidForAnyType(vec![(
                kind,
                TokenError::Blacklisted,
            )]));
        }
        Ok(AuthenticatedUser { user, claims })
    }

    /// The user a token names and, with `ACCESS_TOKEN_REVOCATION`, whether
    /// the session it names is live (not ended, and within
    /// `SESSION_ABSOLUTE_LIFETIME` and `SESSION_IDLE_TIMEOUT`: the access
    /// path checks them on the row it reads anyway) — read together, in one statement of
    /// our database (`UserStore::user_by_id_with_session`); a user store of
    /// your own leaves the session to the token store (a second read).
    /// Without the setting the session counts as live.
    async fn user_and_session(
        &self,
        value: &Value,
        claims: &Claims,
    ) -> Result<(User, bool), AuthError> {
        let settings = self.settings();
        if !settings.access_token_revocation() {
            let user = self.user_for_claim(value).await?;
            return Ok((user.ok_or(AuthError::UserNotFound)?, true));
        }
        let session = self.session_id_of(claims).unwrap_or("");
        let (now, lifetimes) = (Timestamp::now().epoch(), self.session_lifetimes());
        let (user, live) = match (settings.user_id_field(), user_pk(value)) {
            (UserIdField::Id, Some(id)) => self
                .user_store()
                .user_by_id_with_session(id, session, now, lifetimes)
                .await?
                .ok_or(AuthError::UserNotFound)?,
            _ => {
                let user = self.user_for_claim(value).await?;
                (user.ok_or(AuthError::UserNotFound)?, None)
            }
        };
        let live = match live {
            Some(live) => live,
            None if session.is_empty() => false,
            None => {
                self.token_store()
                    .session_live(session, now, lifetimes)
                    .await?
            }
        };
        Ok((user, live && !session.is_empty()))
    }

    /// `JWTStatelessUserAuthentication`: token → [`TokenUser`], no user
    /// lookup (with `SlidingToken` in `AUTH_TOKEN_CLASSES`, sliding tokens are
    /// still checked against the blacklist, as in simplejwt).
    pub async fn authenticate_stateless(
        &self,
        header: Option<&[u8]>,
    ) -> Result<TokenUser, AuthError> {
        let token = self.raw_token(header)?;
        self.authenticate_stateless_token(token).await
    }

    /// [`AuthService::authenticate_stateless`] of a token taken from
    /// elsewhere than the header (the access cookie).
    pub async fn authenticate_stateless_token(
        &self,
        token: Option<&[u8]>,
    ) -> Result<TokenUser, AuthError> {
        let claims = self.validated_token(token).await?;
        let id = match claims.get(self.settings().user_id_claim()) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return Err(AuthError::NoUserIdentification),
        };
        Ok(TokenUser { claims, id })
    }
}
