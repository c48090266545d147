//! `POST /api/token/revoke/` (RFC 7009) and `POST /api/token/introspect/`
//! (RFC 7662), mounted only with `OAUTH_TOKEN_ENDPOINTS`. Bodies are
//! `token` and optional `token_type_hint`, form-encoded as the RFCs say
//! (JSON and multipart accepted as everywhere here); a request without
//! `token` is 400 `{"error": "invalid_request"}` (RFC 6749 §5.2).
//!
//! Who may call them:
//! - **revoke** needs no caller authentication: we issue tokens to users,
//!   not to registered clients, so there is no client to authenticate
//!   (RFC 7009 §2.1 asks for it "as described in Section 2.3 of RFC 6749",
//!   i.e. for clients that have credentials). Holding the token is the
//!   capability, as for simplejwt's blacklist endpoint; the answer never
//!   says whether the token was known (200, empty body, §2.2).
//! - **introspect** must be protected (RFC 7662 §2.1, against token
//!   scanning): the caller authenticates with a bearer access token of a
//!   **staff** user, as the protected view does (`JWTAuthentication`); no
//!   credentials or a bad token is 401 with the challenge, a user who is
//!   not staff 403.
//!
//! The rules live in `service/introspect.rs`; these handlers only read the
//! transport and answer.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value};

use super::auth::AuthUser;
use super::body::{DrfBody, OAuthToken};
use super::metadata::{FieldDoc, ViewDoc};
use super::response::JsonAnswer;
use crate::error::ApiError;
use crate::service::{AuthService, ClientInfo};

/// The revocation view's `OPTIONS` document.
pub const REVOKE_DOC: ViewDoc = ViewDoc {
    name: "Token Revoke",
    description: "RFC 7009 token revocation: takes a token (and an optional token_type_hint) \
                  and revokes it; a refresh token ends its session.",
    post_fields: Some(&[
        FieldDoc::input("token", "Token"),
        FieldDoc::input("token_type_hint", "Token type hint"),
    ]),
};

/// The introspection view's `OPTIONS` document.
pub const INTROSPECT_DOC: ViewDoc = ViewDoc {
    name: "Token Introspect",
    description: "RFC 7662 token introspection, for staff users: takes a token and \
                  describes it if it is active.",
    post_fields: Some(&[
        FieldDoc::input("token", "Token"),
        FieldDoc::input("token_type_hint", "Token type hint"),
    ]),
};

/// RFC 6749 §5.2's error for a request without `token`.
const INVALID_REQUEST: &str = "invalid_request";

/// Revokes the token: 200 with an empty body whatever the token was; 400
/// `unsupported_token_type` for an access token without
/// `ACCESS_TOKEN_REVOCATION`; 503 when the database cannot answer.
pub async fn revoke(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(body): DrfBody<OAuthToken>,
) -> Result<Response, ApiError> {
    if body.token.is_empty() {
        return Err(ApiError::OAuth(INVALID_REQUEST));
    }
    service.revoke(&body.token, &client).await?;
    Ok(StatusCode::OK.into_response())
}

/// Describes the token: `{"active": false}` or the active token's members.
pub async fn introspect(
    State(service): State<AuthService>,
    AuthUser(caller): AuthUser,
    DrfBody(body): DrfBody<OAuthToken>,
) -> Result<JsonAnswer<Map<String, Value>>, ApiError> {
    if !caller.user.is_staff {
        return Err(ApiError::Forbidden);
    }
    if body.token.is_empty() {
        return Err(ApiError::OAuth(INVALID_REQUEST));
    }
    Ok(JsonAnswer(service.introspect(&body.token).await?))
}
