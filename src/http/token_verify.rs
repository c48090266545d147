//! `POST /api/token/verify/` — simplejwt's `TokenVerifyView`: `{}` when the
//! token is ours and in date (with `AUTH_COOKIE`, the access cookie when
//! the body has none).

use axum::extract::State;

use super::body::{DrfBody, VerifyField};
use super::metadata::{FieldDoc, ViewDoc};
use super::response::{Empty, JsonAnswer};
use crate::error::AuthError;
use crate::service::AuthService;

/// The view's `OPTIONS` document.
pub const DOC: ViewDoc = ViewDoc {
    name: "Token Verify",
    description: "Takes a token and indicates if it is valid.  This view provides no\n\
                  information about a token's fitness for a particular use.",
    post_fields: Some(&[FieldDoc::input("token", "Token")]),
};

/// Checks a token of any type: `{}`, 401 `token_not_valid`, or (with
/// `BLACKLIST_AFTER_ROTATION`) 400 `{"non_field_errors": ["Token is blacklisted"]}`.
pub async fn token_verify(
    State(service): State<AuthService>,
    DrfBody(body): DrfBody<VerifyField>,
) -> Result<JsonAnswer<Empty>, AuthError> {
    service
        .verify(&body.token)
        .await
        .map(|()| JsonAnswer(Empty {}))
}
