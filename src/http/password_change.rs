//! `POST /api/password/change/` — self-service password change:
//! authenticated as the protected view (`JWTAuthentication`), body
//! `{"old_password", "new_password"}` (Django's `PasswordChangeForm`
//! fields). Answers `{"refresh", "access"}`: a fresh pair in a new session,
//! because every session of the user — the caller's included — ends (see
//! `service/password_change.rs` for why). A wrong old password is 400
//! `{"old_password": ["Your old password was entered incorrectly. Please
//! enter it again."]}`, an unusable new one 400 `{"new_password": [...]}`;
//! neither changes anything.

use axum::extract::State;
use http::Method;

use super::auth::AuthUser;
use super::body::{DrfBody, PasswordChange};
use super::metadata::{FieldDoc, ViewDoc};
use super::response::JsonAnswer;
use crate::error::ApiError;
use crate::service::{AuthService, ClientInfo, TokenPair};

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Password Change",
    description: "Takes the old and a new password of the authenticated user, ends every \
                  session of the user and returns a fresh pair.",
    post_fields: Some(&[
        FieldDoc::input("old_password", "Old password"),
        FieldDoc::input("new_password", "New password"),
        FieldDoc::output("refresh", "Refresh"),
        FieldDoc::output("access", "Access"),
    ]),
};

/// The methods the view answers.
pub const ALLOW: &str = "POST, OPTIONS";

/// `POST`: changes the password, answers a fresh pair.
pub async fn change(
    State(service): State<AuthService>,
    AuthUser(auth): AuthUser,
    client: ClientInfo,
    DrfBody(body): DrfBody<PasswordChange>,
) -> Result<JsonAnswer<TokenPair>, ApiError> {
    let pair = service
        .change_password(&auth.user, &body.old_password, &body.new_password, &client)
        .await?;
    Ok(JsonAnswer(pair))
}

/// `OPTIONS`, for an authenticated caller.
pub async fn options(_: AuthUser) -> &'static ViewDoc {
    &DOC
}

/// Any other method: 405 once authenticated.
pub async fn other_method(_: AuthUser, method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: ALLOW,
    }
}
