//! `POST /api/token/` — simplejwt's `TokenObtainPairView`: credentials in,
//! `{"refresh", "access"}` out.

use axum::extract::{Request, State};
use axum::response::Response;

use super::{token_view, AppState};
use crate::error::Rejection;

pub(super) async fn handle(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Rejection> {
    token_view(state, req, "obtain", ["username", "password"], |service, [username, password]| async move {
        service.obtain_pair(&username, &password).await
    }).await
}
