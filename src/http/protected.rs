//! `GET /api/protected/` — the tutorials' `ProtectedView`
//! (`IsAuthenticated` + `JWTAuthentication`): `{"message": "Welcome, <username>!"}`.
//! Authentication runs before the method check, as in DRF: a POST without
//! credentials is a 401, with them a 405.

use http::Method;
use serde::Serialize;

use super::auth::AuthUser;
use super::metadata::ViewDoc;
use super::response::JsonAnswer;
use crate::error::ApiError;

/// The view's `OPTIONS` document (no serializer, so no `actions`).
pub const DOC: ViewDoc = ViewDoc {
    name: "Protected",
    description: "GET /api/protected/ -- authenticated by JWTAuthentication.",
    post_fields: None,
};

/// The methods the view answers.
pub const ALLOW: &str = "GET, HEAD, OPTIONS";

/// The welcome answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Welcome {
    /// `Welcome, <username>!`
    pub message: String,
}

/// `GET` (and `HEAD`): the welcome message for the authenticated user.
pub async fn protected(AuthUser(auth): AuthUser) -> JsonAnswer<Welcome> {
    JsonAnswer(Welcome {
        message: format!("Welcome, {}!", auth.user.username),
    })
}

/// `OPTIONS`, for an authenticated caller.
pub async fn protected_options(_: AuthUser) -> &'static ViewDoc {
    &DOC
}

/// Any other method: 405 once authenticated.
pub async fn protected_other_method(_: AuthUser, method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: ALLOW,
    }
}
