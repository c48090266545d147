//! The cost of the access log on the hot path (divan): `GET /api/protected/`
//! with a valid access token through the router (`oneshot`, current-thread
//! Tokio runtime, SQLite user read), with and without
//! `simplejwt::http::access_log::layer`, and with the server's subscriber in
//! both formats writing to `io::sink` (formatting is paid, output is not):
//!
//! - `bare`: the routes alone, no layer;
//! - `layer_no_subscriber`: the layer, nothing listening (a library user
//!   who logs nothing): request id, span creation skipped;
//! - `layer_human` / `layer_json`: the layer and `LOG_FORMAT=human` / `json`
//!   at `info`: span, access line, formatting.
//!
//! ```text
//! cargo bench --bench access_log
//! ```

use std::sync::OnceLock;

use axum::Router;
use simplejwt::http::{access_log, AppState, Endpoint, Routes};
use simplejwt::settings::server::LogFormat;

mod common;

const HS_KEY: &str = "access-log-bench-signing-key-7f3c9a1e5b2d4f6081a3c5e7f9b1d3f5a7c9e1b3";

fn main() {
    divan::main();
}

struct Fixture {
    alice: common::Alice,
    bare: Router,
    layered: Router,
}

/// Alice's fixture and both routers over its service.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let alice = common::alice(HS_KEY);
        let routes = || {
            Routes::new(AppState::new(alice.service.clone()))
                .token_endpoints("/api/token", &Endpoint::ALL)
                .protected("/api/protected/")
                .into_router_with_fallback()
        };
        Fixture {
            bare: routes(),
            layered: access_log::layer(routes()),
            alice,
        }
    })
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn bare(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| f.alice.protected(&f.bare));
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn layer_no_subscriber(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| f.alice.protected(&f.layered));
}

fn with_subscriber(bencher: divan::Bencher, format: LogFormat) {
    let f = fixture();
    let subscriber = simplejwt::logging::subscriber("info", format, false, std::io::sink);
    let _guard = tracing::subscriber::set_default(subscriber);
    bencher.bench_local(|| f.alice.protected(&f.layered));
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn layer_human(bencher: divan::Bencher) {
    with_subscriber(bencher, LogFormat::Human);
}

#[divan::bench(sample_count = 2000, max_time = 5)]
fn layer_json(bencher: divan::Bencher) {
    with_subscriber(bencher, LogFormat::Json);
}
