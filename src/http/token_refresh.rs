//! `POST /api/token/refresh/` — simplejwt's `TokenRefreshView`: a refresh
//! token in, `{"access"}` (or `{"access", "refresh"}` when rotating) out.

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
        return Ok(metadata::token_view("refresh"));
    }
    let [refresh] = body::read_fields(&parts, body, ["refresh"], state.max_body_bytes)
        .await
        .map_err(|e| state.reject(e))?;
    let refreshed = state
        .service
        .refresh(&refresh)
        .await
        .map_err(|e| state.reject(e))?;
    Ok(ok_json(&refreshed))
}
