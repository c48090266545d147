//! `POST /api/token/verify/` — simplejwt's `TokenVerifyView`: `{}` when the
//! token is ours and in date.

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
        return Ok(metadata::token_view("verify"));
    }
    let [token] = body::read_fields(&parts, body, ["token"], state.max_body_bytes)
        .await
        .map_err(|e| state.reject(e))?;
    state
        .service
        .verify(&token)
        .await
        .map_err(|e| state.reject(e))?;
    Ok(ok_json(&serde_json::Map::new()))
}
