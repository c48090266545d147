//! `POST /api/token/sliding/refresh/` — simplejwt's `TokenRefreshSlidingView`:
//! a sliding token in (field `token`), the same token with a new `exp` out.

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
        "refresh_sliding",
        ["token"],
        |service, [token]| async move { service.refresh_sliding(&token).await },
    )
    .await
}
