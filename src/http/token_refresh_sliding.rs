//! `POST /api/token/sliding/refresh/` — simplejwt's `TokenRefreshSlidingView`:
//! a sliding token in (field `token`), the same token with a new `exp` out.

use axum::extract::State;

use super::body::{DrfBody, TokenField};
use super::metadata::{FieldDoc, ViewDoc};
use super::response::JsonAnswer;
use crate::error::AuthError;
use crate::service::{AuthService, ClientInfo, SlidingToken};

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Token Refresh Sliding",
    description: "Takes a sliding JSON web token and returns a new, refreshed version if the\n\
                  token's refresh period has not expired.",
    post_fields: Some(&[FieldDoc::input("token", "Token")]),
};

/// Slides a sliding token forward: same `jti` and `refresh_exp`, new `exp`.
/// 401 `token_not_valid` when it is invalid, blacklisted or past `refresh_exp`.
pub async fn token_refresh_sliding(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(body): DrfBody<TokenField>,
) -> Result<JsonAnswer<SlidingToken>, AuthError> {
    service
        .refresh_sliding(&body.token, &client)
        .await
        .map(JsonAnswer)
}
