//! `POST /api/token/blacklist/` — simplejwt's `TokenBlacklistView`: logout by
//! revoking a refresh token; `{}` on success.

use axum::extract::State;

use super::body::{DrfBody, RefreshField};
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
/// time; 401 `token_not_valid` for an invalid token.
pub async fn token_blacklist(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(body): DrfBody<RefreshField>,
) -> Result<JsonAnswer<Empty>, AuthError> {
    service
        .blacklist(&body.refresh, &client)
        .await
        .map(|()| JsonAnswer(Empty {}))
}
