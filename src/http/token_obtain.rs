//! `POST /api/token/` — simplejwt's `TokenObtainPairView`: credentials in,
//! `{"refresh", "access"}` out; with `AUTH_COOKIE`, the tokens also as
//! cookies ([`super::cookies`]), persistent when `remember` is true.

use axum::extract::State;
use serde::Serialize;

use super::body::{DrfBody, Login};
use super::cookies::SetCookies;
use super::metadata::{FieldDoc, ViewDoc};
use super::response::JsonAnswer;
use crate::error::AuthError;
use crate::service::{AuthService, ClientInfo};

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Token Obtain Pair",
    description: "Takes a set of user credentials and returns an access and refresh JSON web\n\
                  token pair to prove the authentication of those credentials.",
    post_fields: Some(&[
        FieldDoc::input("username", "Username"),
        FieldDoc::input("password", "Password"),
    ]),
};

/// The login answer, in simplejwt's key order; `refresh` is left out when
/// `AUTH_COOKIE_REFRESH_IN_BODY` is false (it is then in its cookie only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PairAnswer {
    /// The refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// The access token.
    pub access: String,
}

/// Logs in. Answers `{"refresh", "access"}`; 401 `{"detail": "No active
/// account found with the given credentials"}` for an unknown user, a wrong
/// password or an inactive account alike; 400 for missing or blank fields;
/// 503 when hashing capacity or the database is exhausted.
pub async fn token_obtain(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(login): DrfBody<Login>,
) -> Result<(SetCookies, JsonAnswer<PairAnswer>), AuthError> {
    let Login {
        credentials,
        remember,
    } = login;
    let pair = service
        .obtain_pair(&credentials.username, &credentials.password, &client)
        .await?;
    let settings = service.settings();
    let cookies = SetCookies::login(settings, &client, &pair.access, &pair.refresh, remember);
    let in_body = !settings.auth_cookie() || settings.auth_cookie_refresh_in_body();
    Ok((
        cookies,
        JsonAnswer(PairAnswer {
            refresh: in_body.then_some(pair.refresh),
            access: pair.access,
        }),
    ))
}
