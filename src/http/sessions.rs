//! The device list: `GET /api/sessions/` lists the caller's live sessions
//! (id, created, last used, user agent, address, current or not), oldest
//! first; `DELETE /api/sessions/<id>/` ends one of them (204; 404 when the
//! caller has no such live session). Both authenticate as the protected
//! view does (`JWTAuthentication`, the user read from the database).
//!
//! `current` is known when access tokens carry the session's id
//! (`SESSION_ID_CLAIM`); without it every session shows `false`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::auth::AuthUser;
use super::response::JsonAnswer;
use crate::error::ApiError;
use crate::service::{AuthService, ClientInfo, SessionView};

/// The methods the list answers.
pub const ALLOW_LIST: &str = "GET, HEAD";

/// The methods one session answers.
pub const ALLOW_ONE: &str = "DELETE";

/// `GET`: the caller's live sessions.
pub async fn list(
    State(service): State<AuthService>,
    AuthUser(auth): AuthUser,
) -> Result<JsonAnswer<Vec<SessionView>>, ApiError> {
    let current = service.session_id_of(&auth.claims);
    let sessions = service.sessions_of(auth.user.id, current).await?;
    Ok(JsonAnswer(sessions))
}

/// `DELETE <id>/`: ends one of the caller's sessions.
pub async fn end(
    State(service): State<AuthService>,
    AuthUser(auth): AuthUser,
    client: ClientInfo,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if service.end_session(auth.user.id, &id, &client).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound)
    }
}
