//! `POST /api/token/verify/` — simplejwt's `TokenVerifyView`: `{}` when the
//! token is ours and in date.

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
        "verify",
        ["token"],
        |service, [token]| async move {
            service
                .verify(&token)
                .await
                .map(|()| serde_json::Map::new())
        },
    )
    .await
}
