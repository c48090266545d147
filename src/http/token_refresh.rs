//! `POST /api/token/refresh/` — simplejwt's `TokenRefreshView`: a refresh
//! token in, `{"access"}` (or `{"access", "refresh"}` when rotating) out.

use axum::extract::State;

use super::body::{DrfBody, RefreshField};
use super::metadata::{FieldDoc, ViewDoc};
use super::response::JsonAnswer;
use crate::error::AuthError;
use crate::service::{AuthService, ClientInfo, Refreshed};

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Token Refresh",
    description: "Takes a refresh type JSON web token and returns an access type JSON web\n\
                  token if the refresh token is valid.",
    post_fields: Some(&[
        FieldDoc::input("refresh", "Refresh"),
        FieldDoc::output("access", "Access"),
    ]),
};

/// Exchanges a refresh token. 401 `token_not_valid` (invalid, expired,
/// blacklisted — including the loser of two concurrent rotations — or of
/// the wrong type); 401 `No active account found for the given token.` for
/// an inactive or deleted user; 503 when the database is unavailable.
pub async fn token_refresh(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(body): DrfBody<RefreshField>,
) -> Result<JsonAnswer<Refreshed>, AuthError> {
    service
        .refresh(&body.refresh, &client)
        .await
        .map(JsonAnswer)
}
