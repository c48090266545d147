//! `POST /api/token/blacklist/` — simplejwt's `TokenBlacklistView`: logout by
//! revoking a refresh token; `{}` on success.

use axum::extract::{Request, State};
use axum::response::Response;

use super::{token_view, AppState};
use crate::error::Rejection;

pub(super) async fn handle(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Rejection> {
    token_view(
        state,
        req,
        "blacklist",
        ["refresh"],
        |service, [refresh]| async move {
            service
                .blacklist(&refresh)
                .await
                .map(|()| serde_json::Map::new())
        },
    )
    .await
}
