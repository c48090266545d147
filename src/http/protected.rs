//! `GET /api/protected/` — the tutorials' `ProtectedView`
//! (`IsAuthenticated` + `JWTAuthentication`): `{"message": "Welcome, <username>!"}`.
//! Authentication runs before the method check, as in DRF: a POST without
//! credentials is a 401, with them a 405.

use axum::response::Response;
use http::Method;
use serde::Serialize;

use super::{metadata, ok_json, AppState};
use crate::auth::AuthUser;
use crate::error::{ApiError, Rejection};

#[derive(Serialize)]
struct Welcome {
    message: String,
}

pub(super) async fn handle(
    axum::extract::State(state): axum::extract::State<AppState>,
    method: Method,
    AuthUser(auth): AuthUser,
) -> Result<Response, Rejection> {
    match method {
        // HEAD answers as GET; the server drops the body.
        Method::GET | Method::HEAD => Ok(ok_json(&Welcome {
            message: format!("Welcome, {}!", auth.user.username),
        })),
        Method::OPTIONS => Ok(metadata::protected_view()),
        other => Err(state.reject(ApiError::MethodNotAllowed {
            method: other.as_str().to_owned(),
            allow: "GET, HEAD, OPTIONS",
        })),
    }
}
