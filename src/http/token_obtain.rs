//! `POST /api/token/` — simplejwt's `TokenObtainPairView`: credentials in,
//! `{"refresh", "access"}` out.

use axum::extract::State;

use super::body::{Credentials, DrfBody};
use super::metadata::{FieldDoc, ViewDoc};
use super::response::JsonAnswer;
use crate::error::AuthError;
use crate::service::{AuthService, ClientInfo, TokenPair};

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

/// Logs in. Answers `{"refresh", "access"}`; 401 `{"detail": "No active
/// account found with the given credentials"}` for an unknown user, a wrong
/// password or an inactive account alike; 400 for missing or blank fields;
/// 503 when hashing capacity or the database is exhausted.
pub async fn token_obtain(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(credentials): DrfBody<Credentials>,
) -> Result<JsonAnswer<TokenPair>, AuthError> {
    service
        .obtain_pair(&credentials.username, &credentials.password, &client)
        .await
        .map(JsonAnswer)
}
