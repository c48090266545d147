//! `POST /api/token/refresh/` — simplejwt's `TokenRefreshView`: a refresh
//! token in, `{"access"}` (or `{"access", "refresh"}` when rotating) out.

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
        "refresh",
        ["refresh"],
        |service, [refresh]| async move { service.refresh(&refresh).await },
    )
    .await
}
