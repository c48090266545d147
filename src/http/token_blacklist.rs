//! `POST /api/token/blacklist/` — simplejwt's `TokenBlacklistView`: logout by
//! revoking a refresh token; `{}` on success. With `AUTH_COOKIE`, the token
//! may come from its cookie, and the answer clears every cookie.

use axum::extract::State;

use super::body::{DrfBody, RefreshField};
use super::cookies::SetCookies;
use super::metadata::{FieldDoc, ViewDoc};
use super::response::{Empty, JsonAnswer};
use crate::error::AuthError;
use crate::service::{AuthService, ClientInfo};

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Token Blacklist",
    description: "Takes a token and blacklists it. Must be used with the\n\
                  `rest_framework_simplejwt.token_blacklist` app installed.",
    post_fields: Some(&[FieldDoc::input("refresh", "Refresh")]),
};

/// Blacklists a refresh token: `{}`; 401 `Token is blacklisted` the second
/// time; 401 `token_not_valid` for an invalid token. With `AUTH_COOKIE`,
/// success and a refused token (which cannot be used again either) both
/// clear the cookies; 503 leaves them, to be tried again.
pub async fn token_blacklist(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(body): DrfBody<RefreshField>,
) -> Result<(SetCookies, JsonAnswer<Empty>), (SetCookies, AuthError)> {
    let settings = service.settings();
    match service.blacklist(&body.refresh, &client).await {
        Ok(()) => Ok((SetCookies::cleared(settings, &client), JsonAnswer(Empty {}))),
        Err(e @ AuthError::Token(_)) => Err((SetCookies::cleared(settings, &client), e)),
        Err(e) => Err((SetCookies::none(), e)),
    }
}
