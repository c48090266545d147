//! `POST /api/token/blacklist/` — simplejwt's `TokenBlacklistView`: logout by
//! revoking a refresh token; `{}` on success.

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
        return Ok(metadata::token_view("blacklist"));
    }
    let [refresh] = body::read_fields(&parts, body, ["refresh"], state.max_body_bytes)
        .await
        .map_err(|e| state.reject(e))?;
    state
        .service
        .blacklist(&refresh)
        .await
        .map_err(|e| state.reject(e))?;
    Ok(ok_json(&serde_json::Map::new()))
}
