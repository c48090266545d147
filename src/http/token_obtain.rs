//! `POST /api/token/` — simplejwt's `TokenObtainPairView`: credentials in,
//! `{"refresh", "access"}` out.

use axum::extract::{Request, State};
use axum::response::Response;

use super::{body, metadata, ok_json, token_method, AppState, TokenMethod};
use crate::error::Rejection;

pub(super) async fn handle(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Rejection> {
    let (parts, body) = req.into_parts();
    if let TokenMethod::Options = token_method(&state, &parts.method)? {
        return Ok(metadata::token_view("obtain"));
    }
    let [username, password] =
        body::read_fields(&parts, body, ["username", "password"], state.max_body_bytes)
            .await
            .map_err(|e| state.reject(e))?;
    let pair = state
        .service
        .obtain_pair(&username, &password)
        .await
        .map_err(|e| state.reject(e))?;
    Ok(ok_json(&pair))
}
