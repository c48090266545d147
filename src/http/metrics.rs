//! The HTTP side of the metrics ([`crate::metrics`]): counting every request
//! by route, and `GET /metrics`.
//!
//! With [`AppState::metrics`], the route table ([`super::Routes`]) wraps
//! each route in [`stamp`], which marks its answers with the route's
//! template ([`RouteLabel`], e.g. `/api/sessions/{id}/`); [`layer`], around
//! the whole router, times each request and counts it under that template —
//! or [`UNMATCHED`] when no route matched (a 404, a trailing-slash redirect),
//! so a raw path never becomes a label. Both are added only when metrics are
//! on: off, a request goes through neither. (axum's own `MatchedPath` would
//! do the same, but its feature makes the router insert it into every
//! request, metrics on or off.)
//!
//! `GET /metrics` answers the text exposition (Prometheus format 0.0.4),
//! not cached, without content negotiation (a scraper's `Accept` is not
//! DRF's business). Mounted on the API's listener by [`super::app`]
//! (`METRICS = true`), or alone by [`router`] for a listener of its own
//! (`METRICS_BIND`), which keeps it off the public address.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, Method};
use tower::util::MapResponseLayer;

use super::AppState;
use crate::error::ApiError;
use crate::metrics::{method_label, Metrics, CONTENT_TYPE, UNMATCHED};

/// The methods `/metrics` answers.
pub const ALLOW: &str = "GET, HEAD";

/// The template of the route that answered, in the answer's extensions.
#[derive(Debug, Clone)]
pub struct RouteLabel(pub Arc<str>);

/// Marks every answer of one route (its methods and its 405 fallback)
/// with the route's template `path`.
pub fn stamp(path: &str) -> MapResponseLayer<impl Fn(Response) -> Response + Clone> {
    let label = RouteLabel(Arc::from(path));
    MapResponseLayer::new(move |mut res: Response| {
        res.extensions_mut().insert(label.clone());
        res
    })
}

/// `router` with every request counted in `metrics` (see the module docs);
/// the routes' templates come from [`stamp`].
pub fn layer(router: Router, metrics: Metrics) -> Router {
    router.layer(middleware::from_fn_with_state(metrics, count))
}

/// Times and counts one request.
async fn count(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<RouteLabel>()
        .map_or(UNMATCHED, |label| &label.0);
    metrics.observe_request(route, method, res.status(), start.elapsed());
    res
}

/// `GET /metrics`: the exposition, or 404 when metrics are off.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(metrics) = &state.metrics else {
        return ApiError::NotFound.into_response();
    };
    let body = metrics.render(&state.service);
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// Any other method: 405 with `Allow`.
pub async fn other_method(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.as_str().to_owned(),
        allow: ALLOW,
    }
}

/// `/metrics` alone, with JSON 404s elsewhere: for a listener of its own
/// (`METRICS_BIND`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics).fallback(other_method))
        .fallback(|| async { ApiError::NotFound })
        .with_state(state)
}
