//! `GET /healthz` and `GET /readyz`, for load balancers and orchestrators
//! (Kubernetes' liveness and readiness probes):
//!
//! - `/healthz`: the process is up and serving — `200 {"status": "ok"}`,
//!   touching nothing else, so a slow database never gets a live process
//!   restarted;
//! - `/readyz`: the database answers and its schema is current
//!   ([`AuthService::ready`]) — `200 {"status": "ready"}`, or `503` with the
//!   `service_unavailable` body and `Retry-After: 1` while it does not, and
//!   200 again as soon as it does (nothing is cached between probes).
//!
//! Both answer `GET` and `HEAD`, never cached (`Cache-Control: no-store`);
//! other methods are 405. They need no credentials and reveal nothing but
//! up/ready: causes go to the log only.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method};
use serde::Serialize;

use super::response::JsonAnswer;
use crate::error::ApiError;
use crate::service::AuthService;

/// The methods the probes answer.
pub const ALLOW: &str = "GET, HEAD";

/// The body of a probe that succeeds.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `"ok"` (`/healthz`) or `"ready"` (`/readyz`).
    pub status: &'static str,
}

/// `GET /healthz`: `200 {"status": "ok"}`.
pub async fn healthz() -> JsonAnswer<Status> {
    JsonAnswer(Status { status: "ok" })
}

/// `GET /readyz`: `200 {"status": "ready"}` or the 503 of [`AuthService::ready`].
pub async fn readyz(State(service): State<AuthService>) -> Response {
    match service.ready().await {
        Ok(()) => JsonAnswer(Status { status: "ready" }).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Any other method: 405 with `Allow`.
pub async fn other_method(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: ALLOW,
    }
}

/// Every probe answer: never cached, `Allow` named.
pub(crate) async fn probe_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
