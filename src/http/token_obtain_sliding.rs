//! `POST /api/token/sliding/` — simplejwt's `TokenObtainSlidingView`:
//! credentials in, `{"token"}` (a sliding token) out.

use axum::extract::State;

use super::body::{Credentials, DrfBody};
use super::metadata::{FieldDoc, ViewDoc};
use super::response::JsonAnswer;
use crate::error::AuthError;
use crate::service::{AuthService, ClientInfo, SlidingToken};

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Token Obtain Sliding",
    description: "Takes a set of user credentials and returns a sliding JSON web token to\n\
                  prove the authentication of those credentials.",
    post_fields: Some(&[
        FieldDoc::input("username", "Username"),
        FieldDoc::input("password", "Password"),
    ]),
};

/// Logs in for a sliding token; the same failures as
/// [`super::token_obtain::token_obtain`].
pub async fn token_obtain_sliding(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(credentials): DrfBody<Credentials>,
) -> Result<JsonAnswer<SlidingToken>, AuthError> {
    service
        .obtain_sliding(&credentials.username, &credentials.password, &client)
        .await
        .map(JsonAnswer)
}
