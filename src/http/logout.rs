//! `POST /api/token/logout/?scope=local|others|global` — logout with a
//! scope (Supabase Auth's words and query parameter): the body is
//! simplejwt's blacklist body, `{"refresh": "<jwt>"}`; `local` (the default)
//! ends the token's session, `others` every other session of its user,
//! `global` all of them. `{}` on success; 401 as the blacklist endpoint for
//! an invalid or blacklisted token; 400 `{"scope": [...]}` for another scope.
//!
//! The handler only reads the transport; [`AuthService::logout`] takes the
//! token as text, so a cookie transport calls the same service method.

use axum::extract::{RawQuery, State};

use super::body::{DrfBody, RefreshField};
use super::cookies::SetCookies;
use super::metadata::{FieldDoc, ViewDoc};
use super::response::{Empty, JsonAnswer};
use crate::error::{ApiError, AuthError};
use crate::service::{AuthService, ClientInfo, LogoutScope};

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Token Logout",
    description: "Takes a refresh token and ends its session (?scope=local, the default), \
                  the user's other sessions (?scope=others) or all of them (?scope=global).",
    post_fields: Some(&[FieldDoc::input("refresh", "Refresh")]),
};

/// The message of a scope that is not one of the three.
pub const BAD_SCOPE: &str = "Must be one of: local, others, global.";

/// Ends the sessions the scope names: `{}`. With `AUTH_COOKIE`, the token
/// may come from its cookie, and `local` and `global` answer with the
/// cookies cleared (as does a refused token, which cannot be used again);
/// `others` keeps this browser's session and its cookies.
pub async fn token_logout(
    State(service): State<AuthService>,
    client: ClientInfo,
    RawQuery(query): RawQuery,
    DrfBody(body): DrfBody<RefreshField>,
) -> Result<(SetCookies, JsonAnswer<Empty>), (SetCookies, ApiError)> {
    let settings = service.settings();
    let query = query.unwrap_or_default();
    let scope = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "scope")
        .last()
        .map(|(_, value)| value);
    let scope = match scope {
        None => LogoutScope::Local,
        Some(text) => LogoutScope::parse(&text).ok_or((
            SetCookies::none(),
            ApiError::Fields(vec![("scope", BAD_SCOPE)]),
        ))?,
    };
    match service.logout(&body.refresh, scope, &client).await {
        Ok(_) if scope == LogoutScope::Others => Ok((SetCookies::none(), JsonAnswer(Empty {}))),
        Ok(_) => Ok((SetCookies::cleared(settings, &client), JsonAnswer(Empty {}))),
        Err(e @ AuthError::Token(_)) => Err((SetCookies::cleared(settings, &client), e.into())),
        Err(e) => Err((SetCookies::none(), e.into())),
    }
}
