//! `POST /api/token/sliding/` — simplejwt's `TokenObtainSlidingView`:
//! credentials in, `{"token"}` (a sliding token) out.

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
        "obtain_sliding",
        ["username", "password"],
        |service, [username, password]| async move {
            service.obtain_sliding(&username, &password).await
        },
    )
    .await
}
