//! The cost of the metrics (`METRICS`) on the hot path (divan):
//! `GET /api/protected/` with a valid access token through the whole app
//! (`simplejwt::http::app`: access log with nothing listening, security
//! headers; `oneshot`, current-thread Tokio runtime, SQLite user read):
//!
//! - `metrics_off`: `AppState::new` — no metrics layer, no route stamps;
//! - `metrics_on`: `AppState::with_metrics` — each answer stamped with its
//!   route's template, then counted and timed (counter + histogram by
//!   route, method and status).
//!
//! ```text
//! cargo bench --bench metrics
//! ```

use std::sync::OnceLock;

use axum::body::Body;
use axum::Router;
use http::Request;
use simplejwt::http::{app, AppState};
use simplejwt::metrics::Metrics;
use tower::ServiceExt as _;

mod common;

const HS_KEY: &str = "metrics-bench-signing-key-0b7e2c4a6f8d1e3c5a7b9d1f3e5c7a9b1d3f5e7c9a";

fn main() {
    divan::main();
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    off: Router,
    on: Router,
    metrics: Metrics,
    authorization: String,
    _dir: tempfile::TempDir,
}

/// One SQLite store with alice (id 1), an access token for her, both apps.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (service, token, dir) = common::alice(&runtime, HS_KEY);
        let metrics = Metrics::new();
        Fixture {
            off: app(AppState::new(service.clone())),
            on: app(AppState::new(service).with_metrics(metrics.clone(), true)),
            runtime,
            metrics,
            authorization: format!("Bearer {token}"),
            _dir: dir,
        }
    })
}

/// One protected request through `router`; panics unless it is a 200.
fn protected(f: &Fixture, router: &Router) {
    let req = Request::builder()
        .uri("/api/protected/")
        .header("authorization", &f.authorization)
        .body(Body::empty())
        .expect("request");
    let res = f
        .runtime
        .block_on(router.clone().oneshot(req))
        .expect("infallible");
    assert_eq!(res.status(), 200);
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn metrics_off(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| protected(f, &f.off));
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn metrics_on(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| protected(f, &f.on));
    // The histogram's samples are folded as the server's upkeep task does.
    f.metrics.run_upkeep();
}
