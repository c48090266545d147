//! Prometheus metrics (`METRICS`): `GET /metrics` answers the exposition,
//! its counters move with the traffic the app serves (logins, refreshes,
//! rotations, blacklistings, reuse detections, throttled logins, 401s), the
//! route label is the route's template and never a raw path, and without
//! metrics nothing is mounted.

mod common;

use std::sync::Arc;

use axum::body::Body;
use common::{app_with, bare, TestApp, TestDb};
use http::Request;
use serde_json::json;
use simplejwt::http::{app, AppState};
use simplejwt::metrics::Metrics;
use simplejwt::service::LogSink;

/// An app over a fresh SQLite database with `pairs`, its events and requests
/// counted in its own [`Metrics`], `/metrics` mounted.
async fn metered(pairs: &[(&str, &str)]) -> TestApp {
    metered_on(TestDb::sqlite(), pairs).await
}

/// [`metered`] over `db`.
async fn metered_on(db: TestDb, pairs: &[(&str, &str)]) -> TestApp {
    let metrics = Metrics::new();
    let sink = metrics.clone();
    let mut t = app_with(db, pairs, move |b| {
        b.event_sink(Arc::new(LogSink)).event_sink(Arc::new(sink))
    })
    .await;
    t.router = app(AppState::new(t.service.clone()).with_metrics(metrics, true));
    t
}

/// The exposition, checked for its content type.
async fn scrape(t: &TestApp) -> String {
    let res = t.send(bare("GET", "/metrics")).await;
    res.expect_status(200);
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    res.text()
}

/// The value of one series (`name{labels}` exactly as rendered), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

fn requests(route: &str, method: &str, status: u16) -> String {
    format!(
        "simplejwt_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
    )
}

#[tokio::test]
async fn counters_move_with_logins_refreshes_and_401s() {
    let t = metered(&[]).await;
    let before = scrape(&t).await;
    assert_eq!(
        value(&before, "simplejwt_logins_total{result=\"succeeded\"}"),
        0.0
    );

    t.login("alice", "alice-Password-1")
        .await
        .expect_status(200);
    t.login("alice", "alice-Password-1")
        .await
        .expect_status(200);
    t.login("alice", "wrong").await.expect_status(401);
    let (refresh, _) = t.pair("carol").await;
    t.refresh(&refresh).await.expect_status(200);
    t.protected("not-a-token").await.expect_status(401);

    let text = scrape(&t).await;
    assert_eq!(
        value(&text, "simplejwt_logins_total{result=\"succeeded\"}"),
        3.0
    );
    assert_eq!(
        value(&text, "simplejwt_logins_total{result=\"failed\"}"),
        1.0
    );
    assert_eq!(value(&text, "simplejwt_refreshes_total"), 1.0);
    assert_eq!(value(&text, "simplejwt_rotations_total"), 0.0);
    assert_eq!(value(&text, &requests("/api/token/", "POST", 200)), 3.0);
    assert_eq!(value(&text, &requests("/api/token/", "POST", 401)), 1.0);
    assert_eq!(
        value(&text, &requests("/api/token/refresh/", "POST", 200)),
        1.0
    );
    assert_eq!(value(&text, &requests("/api/protected/", "GET", 401)), 1.0);
    // The latency histogram counts the same requests.
    assert_eq!(
        value(
            &text,
            "simplejwt_http_request_duration_seconds_count{route=\"/api/token/\",method=\"POST\",status=\"200\"}"
        ),
        3.0
    );
    // The first scrape itself was counted, under its own route.
    assert_eq!(value(&text, &requests("/metrics", "GET", 200)), 1.0);
}

backend_tests!(
    rotations_blacklistings_reuse_and_throttling_are_counted,
    |db| async move {
        let t = metered_on(
            db,
            &[
                ("PRESET", "hardened"),
                ("LOGIN_THROTTLE_FREE_FAILURES", "1"),
                ("REFRESH_REUSE_GRACE", "0s"),
            ],
        )
        .await;
        let (first, _) = t.pair("alice").await;
        let rotated = t.refresh(&first).await;
        rotated.expect_status(200);
        // Presenting the rotated-out token again ends the session.
        t.refresh(&first).await.expect_status(401);
        let (other, _) = t.pair("carol").await;
        t.blacklist(&other).await.expect_status(200);
        // One free failure, then the next attempt is throttled (429).
        t.login("carol", "wrong").await.expect_status(401);
        t.login("carol", "wrong").await.expect_status(429);

        let text = scrape(&t).await;
        assert_eq!(value(&text, "simplejwt_refreshes_total"), 1.0);
        assert_eq!(value(&text, "simplejwt_rotations_total"), 1.0);
        assert_eq!(value(&text, "simplejwt_reuse_detections_total"), 1.0);
        assert_eq!(value(&text, "simplejwt_blacklistings_total"), 1.0);
        assert_eq!(value(&text, "simplejwt_throttled_requests_total"), 1.0);
        assert_eq!(value(&text, &requests("/api/token/", "POST", 429)), 1.0);
        // Levels read at the scrape: nobody waits for a hash or a write now;
        // the pool (PostgreSQL) or the readers (SQLite) have connections open.
        assert_eq!(value(&text, "simplejwt_password_queue_depth"), 0.0);
        assert_eq!(value(&text, "simplejwt_db_queued_writes"), 0.0);
        assert!(
            value(&text, "simplejwt_db_connections_max") >= 1.0,
            "{text}"
        );
        assert!(
            value(&text, "simplejwt_db_connections_open") >= 1.0,
            "{text}"
        );
    }
);

#[tokio::test]
async fn the_route_label_is_the_template_never_the_raw_path() {
    let t = metered(&[]).await;
    let (_, access) = t.pair("alice").await;
    let secret = "a1b2c3d4e5f6-not-a-session";
    let req = Request::builder()
        .method("DELETE")
        .uri(format!("/api/sessions/{secret}/"))
        .header("authorization", format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    t.send(req).await.expect_status(404);
    t.send(bare("GET", "/no/such/eyJhbGciOi.path"))
        .await
        .expect_status(404);
    // A method outside the standard ones, on a route that refuses it.
    t.send(bare("BREW", "/healthz")).await.expect_status(405);

    let text = scrape(&t).await;
    assert_eq!(
        value(&text, &requests("/api/sessions/{id}/", "DELETE", 404)),
        1.0
    );
    assert_eq!(value(&text, &requests("unmatched", "GET", 404)), 1.0);
    assert_eq!(value(&text, &requests("/healthz", "OTHER", 405)), 1.0);
    assert!(!text.contains(secret), "{text}");
    assert!(!text.contains("eyJhbGciOi"), "{text}");
    assert!(!text.contains("BREW"), "{text}");
}

#[tokio::test]
async fn scrapes_skip_content_negotiation_and_refuse_other_methods() {
    let t = metered(&[]).await;
    let req = Request::builder()
        .uri("/metrics")
        .header("accept", "text/plain")
        .body(Body::empty())
        .unwrap();
    t.send(req).await.expect_status(200);
    let res = t.send(bare("POST", "/metrics")).await;
    res.expect(405, &json!({"detail": "Method \"POST\" not allowed."}));
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn without_metrics_nothing_is_mounted() {
    let t = common::app(TestDb::sqlite(), &[]).await;
    t.send(bare("GET", "/metrics"))
        .await
        .expect(404, &json!({"detail": "Not found."}));
}

#[tokio::test]
async fn on_a_listener_of_its_own_metrics_leave_the_api() {
    let metrics = Metrics::new();
    let t = common::app(TestDb::sqlite(), &[]).await;
    let state = AppState::new(t.service.clone()).with_metrics(metrics, false);
    let api = app(state.clone());
    let private = simplejwt::http::metrics::router(state);
    common::send(&api, bare("GET", "/healthz"))
        .await
        .expect_status(200);
    common::send(&api, bare("GET", "/metrics"))
        .await
        .expect_status(404);
    let res = common::send(&private, bare("GET", "/metrics")).await;
    res.expect_status(200);
    // The API's requests are counted all the same.
    assert_eq!(value(&res.text(), &requests("/healthz", "GET", 200)), 1.0);
    assert_eq!(value(&res.text(), &requests("unmatched", "GET", 404)), 1.0);
    common::send(&private, bare("GET", "/api/token/"))
        .await
        .expect_status(404);
}
