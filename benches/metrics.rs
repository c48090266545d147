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

use axum::Router;
use simplejwt::http::{app, AppState};
use simplejwt::metrics::Metrics;

mod common;

const HS_KEY: &str = "metrics-bench-signing-key-0b7e2c4a6f8d1e3c5a7b9d1f3e5c7a9b1d3f5e7c9a";

fn main() {
    divan::main();
}

struct Fixture {
    alice: common::Alice,
    off: Router,
    on: Router,
    metrics: Metrics,
}

/// Alice's fixture and both apps over its service.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let alice = common::alice(HS_KEY);
        let metrics = Metrics::new();
        Fixture {
            off: app(AppState::new(alice.service.clone())),
            on: app(AppState::new(alice.service.clone()).with_metrics(metrics.clone(), true)),
            alice,
            metrics,
        }
    })
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn metrics_off(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| f.alice.protected(&f.off));
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn metrics_on(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| f.alice.protected(&f.on));
    // The histogram's samples are folded as the server's upkeep task does.
    f.metrics.run_upkeep();
}
