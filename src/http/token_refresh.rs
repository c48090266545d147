//! `POST /api/token/refresh/` — simplejwt's `TokenRefreshView`: a refresh
//! token in, `{"access"}` (or `{"access", "refresh"}` when rotating) out;
//! with `AUTH_COOKIE`, the token may come from its cookie and the new ones
//! go back as cookies too ([`super::cookies`]).

use axum::extract::State;
use axum_extra::extract::cookie::CookieJar;

use super::body::{DrfBody, RefreshField};
use super::cookies::SetCookies;
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
    jar: CookieJar,
    DrfBody(body): DrfBody<RefreshField>,
) -> Result<(SetCookies, JsonAnswer<Refreshed>), AuthError> {
    let mut refreshed = service.refresh(&body.refresh, &client).await?;
    let settings = service.settings();
    let cookies = SetCookies::refreshed(
        settings,
        &client,
        &jar,
        &refreshed.access,
        refreshed.refresh.as_deref(),
    );
    if settings.auth_cookie() && !settings.auth_cookie_refresh_in_body() {
        refreshed.refresh = None;
    }
    Ok((cookies, JsonAnswer(refreshed)))
}
