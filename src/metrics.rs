//! Prometheus metrics: what operators watch — requests and latency per
//! route, logins, refreshes, revocations, throttling, the hashing queue and
//! the database connections — rendered in the text exposition format at
//! each scrape of `GET /metrics` ([`crate::http::metrics`]).
//!
//! # Why it is shaped this way
//!
//! * **Counters come from what happened.** [`Metrics`] is an
//!   [`EventSink`]: the service reports each login, refresh, blacklisting,
//!   reuse detection and throttled login ([`crate::service::events`]) and the
//!   sink adds one to a counter. Nothing is counted in the database at a
//!   scrape. The levels (hashing queue, connections) are read at the scrape
//!   from the hasher's and the store's own atomics
//!   ([`crate::password::HasherStats`], [`crate::store::PoolStats`]).
//! * **State passed, never global.** A [`Metrics`] owns its own recorder
//!   (`metrics-exporter-prometheus`'s [`PrometheusRecorder`], used directly
//!   through the [`metrics::Recorder`] trait — the `metrics` crate's global
//!   recorder and its macros are not used), so every app, and every test,
//!   has its own series. The event counters are registered once, at
//!   construction, and an event costs one relaxed atomic add.
//! * **Off costs nothing.** Without a [`Metrics`] (the default), no layer is
//!   added to the router, no sink to the service and no route is mounted.
//! * **Bounded labels.** `route` is the route's template from the route
//!   table (axum's `MatchedPath`: `/api/sessions/{id}/`, never a raw path;
//!   [`UNMATCHED`] for a path no route matched), `method` one of the
//!   standard methods or `OTHER`, `status` a number: a client cannot create
//!   series.
//!
//! Cost: off, none (the router is the one without metrics); on, +2.7 µs
//! on `GET /api/protected/` (10.4 → 13.1 µs, `cargo bench --bench
//! metrics`, 2 shared cores), mostly the per-request key lookup in
//! [`Metrics::observe_request`].
//!
//! Histograms need their samples folded from time to time:
//! [`Metrics::run_upkeep`] (the server runs it every few seconds; a scrape
//! does it too).

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Key, KeyName, Label, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::service::{AuthService, Event, EventKind, EventSink};

/// The `route` label of a request no route matched (404s, redirects).
pub const UNMATCHED: &str = "unmatched";

/// `Content-Type` of the exposition (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the request-latency buckets, in seconds: from a token
/// check (tens of µs) to a queued password hash (seconds).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

const REQUESTS: &str = "simplejwt_http_requests_total";
const DURATION: &str = "simplejwt_http_request_duration_seconds";

/// Every series: name, kind, help text (the README's list is this one).
pub const SERIES: [(&str, &str, &str); 20] = [
    (REQUESTS, "counter", "HTTP requests answered, by route template, method and status."),
    (DURATION, "histogram", "Time from the request to its answer's head, by route template, method and status."),
    ("simplejwt_logins_total", "counter", "Logins (obtain pair or sliding), by result: succeeded or failed (unknown user, wrong password, inactive account)."),
    ("simplejwt_refreshes_total", "counter", "Refresh tokens (and sliding tokens) exchanged, rotated or not."),
    ("simplejwt_rotations_total", "counter", "Refreshes that also rotated the refresh token (ROTATE_REFRESH_TOKENS)."),
    ("simplejwt_refreshes_refused_total", "counter", "Refreshes refused because the token is blacklisted (or lost a concurrent rotation)."),
    ("simplejwt_blacklistings_total", "counter", "Refresh tokens blacklisted through the blacklist endpoint."),
    ("simplejwt_reuse_detections_total", "counter", "Rotated-out refresh tokens presented again: their sessions were ended (REFRESH_REUSE_DETECTION)."),
    ("simplejwt_throttled_requests_total", "counter", "Logins refused with 429 before any password check (LOGIN_THROTTLE)."),
    ("simplejwt_logouts_total", "counter", "Logouts ending sessions (logout with a scope, the device list)."),
    ("simplejwt_key_changes_total", "counter", "Key ring changes on reload (KEYS_DIR): keys added, promoted or retired."),
    ("simplejwt_sessions_expired_total", "counter", "Sessions ended by SESSION_ABSOLUTE_LIFETIME or SESSION_IDLE_TIMEOUT."),
    ("simplejwt_password_queue_depth", "gauge", "Logins waiting for a password-hashing slot (HASH_MAX_WAITING is the limit)."),
    ("simplejwt_password_jobs_running", "gauge", "Password hashes being computed."),
    ("simplejwt_password_dummy_verifications_total", "counter", "Timing-equalising hashes run for unknown users or unusable hashes."),
    ("simplejwt_db_connections_max", "gauge", "Database connections the pool may open (SQLite: read-only connections)."),
    ("simplejwt_db_connections_open", "gauge", "Database connections open, in use or idle."),
    ("simplejwt_db_connections_idle", "gauge", "Open database connections not in use."),
    ("simplejwt_db_queued_writes", "gauge", "SQLite only: writes waiting for the writer thread."),
    ("simplejwt_build_info", "gauge", "Always 1; the `version` label is this program's version."),
];

/// The metrics of one app: its own recorder and the handles of its series.
/// Cheap to clone (an `Arc` inside); clones share the series.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    logins_ok: Counter,
    logins_failed: Counter,
    refreshes: Counter,
    rotations: Counter,
    refreshes_refused: Counter,
    blacklistings: Counter,
    reuse_detections: Counter,
    throttled: Counter,
    logouts: Counter,
    key_changes: Counter,
    sessions_expired: Counter,
    queue_depth: Gauge,
    jobs_running: Gauge,
    dummy_verifications: Counter,
    connections_max: Gauge,
    connections_open: Gauge,
    connections_idle: Gauge,
    queued_writes: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

const META: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, None);

impl Metrics {
    /// A fresh set of series, all at zero.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        for (name, kind, help) in SERIES {
            let (name, help) = (KeyName::from_const_str(name), SharedString::const_str(help));
            match kind {
                "counter" => recorder.describe_counter(name, None, help),
                "gauge" => recorder.describe_gauge(name, None, help),
                _ => recorder.describe_histogram(name, Some(Unit::Seconds), help),
            }
        }
        let counter = |name: &'static str, labels: &'static [Label]| {
            recorder.register_counter(&Key::from_static_parts(name, labels), &META)
        };
        let gauge =
            |name: &'static str| recorder.register_gauge(&Key::from_static_name(name), &META);
        static OK: [Label; 1] = [Label::from_static_parts("result", "succeeded")];
        static FAILED: [Label; 1] = [Label::from_static_parts("result", "failed")];
        recorder
            .register_gauge(
                &Key::from_parts(
                    "simplejwt_build_info",
                    vec![Label::new("version", env!("CARGO_PKG_VERSION"))],
                ),
                &META,
            )
            .set(1.0);
        let inner = Inner {
            handle: recorder.handle(),
            logins_ok: counter("simplejwt_logins_total", &OK),
            logins_failed: counter("simplejwt_logins_total", &FAILED),
            refreshes: counter("simplejwt_refreshes_total", &[]),
            rotations: counter("simplejwt_rotations_total", &[]),
            refreshes_refused: counter("simplejwt_refreshes_refused_total", &[]),
            blacklistings: counter("simplejwt_blacklistings_total", &[]),
            reuse_detections: counter("simplejwt_reuse_detections_total", &[]),
            throttled: counter("simplejwt_throttled_requests_total", &[]),
            logouts: counter("simplejwt_logouts_total", &[]),
            key_changes: counter("simplejwt_key_changes_total", &[]),
            sessions_expired: counter("simplejwt_sessions_expired_total", &[]),
            queue_depth: gauge("simplejwt_password_queue_depth"),
            jobs_running: gauge("simplejwt_password_jobs_running"),
            dummy_verifications: counter("simplejwt_password_dummy_verifications_total", &[]),
            connections_max: gauge("simplejwt_db_connections_max"),
            connections_open: gauge("simplejwt_db_connections_open"),
            connections_idle: gauge("simplejwt_db_connections_idle"),
            queued_writes: gauge("simplejwt_db_queued_writes"),
            recorder,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Counts one answered request: `route` is the route template (or
    /// [`UNMATCHED`]), `method` a bounded label ([`method_label`]).
    pub fn observe_request(
        &self,
        route: &str,
        method: &'static str,
        status: http::StatusCode,
        latency: Duration,
    ) {
        let labels = vec![
            Label::new("route", route.to_owned()),
            Label::from_static_parts("method", method),
            Label::new("status", status_label(status)),
        ];
        let key = Key::from_parts(REQUESTS, labels);
        let recorder = &self.inner.recorder;
        recorder.register_counter(&key, &META).increment(1);
        let key = Key::from_parts(DURATION, key.labels().cloned().collect::<Vec<_>>());
        recorder
            .register_histogram(&key, &META)
            .record(latency.as_secs_f64());
    }

    /// Folds the histograms' recent samples; call every few seconds when
    /// nobody scrapes often (the samples are kept until then).
    pub fn run_upkeep(&self) {
        self.inner.handle.run_upkeep();
    }

    /// The exposition: the levels read now from `service` (its hasher and
    /// database), then every series.
    pub fn render(&self, service: &AuthService) -> String {
        let i = &*self.inner;
        let hashing = service.hasher().stats();
        i.queue_depth.set(hashing.queue_depth as f64);
        i.jobs_running.set(hashing.jobs_running as f64);
        i.dummy_verifications.absolute(hashing.dummy_verifications);
        let pool = service.database_pool();
        i.connections_max.set(f64::from(pool.max));
        i.connections_open.set(f64::from(pool.open));
        i.connections_idle.set(f64::from(pool.idle));
        i.queued_writes
            .set(pool.queued_writes.map_or(0.0, |n| n as f64));
        i.handle.render()
    }
}

impl EventSink for Metrics {
    fn record(&self, event: &Event<'_>) {
        let i = &*self.inner;
        match event.kind {
            EventKind::LoginSucceeded => i.logins_ok.increment(1),
            EventKind::LoginFailed => i.logins_failed.increment(1),
            EventKind::Refreshed { rotated } => {
                i.refreshes.increment(1);
                if rotated {
                    i.rotations.increment(1);
                }
            }
            EventKind::RefreshRefused => i.refreshes_refused.increment(1),
            EventKind::Blacklisted => i.blacklistings.increment(1),
            EventKind::LoginThrottled => i.throttled.increment(1),
            EventKind::ReuseDetected => i.reuse_detections.increment(1),
            EventKind::LoggedOut => i.logouts.increment(1),
            EventKind::KeysChanged => i.key_changes.increment(1),
            EventKind::SessionExpired => i.sessions_expired.increment(1),
            // Rare administrative events: the log and the audit table count them.
            EventKind::AccountChanged => {}
        }
    }
}

/// The `method` label: the standard methods by name, anything else `OTHER`.
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method as M;
    match *method {
        M::GET => "GET",
        M::POST => "POST",
        M::HEAD => "HEAD",
        M::OPTIONS => "OPTIONS",
        M::PUT => "PUT",
        M::DELETE => "DELETE",
        M::PATCH => "PATCH",
        M::TRACE => "TRACE",
        M::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// The three digits of `status`.
fn status_label(status: http::StatusCode) -> SharedString {
    SharedString::from(status.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&http::Method::GET), "GET");
        let odd = http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "OTHER");
    }

    #[test]
    fn every_series_is_described_and_counters_start_at_zero() {
        let m = Metrics::new();
        let text = m.inner.handle.render();
        for (name, kind, _) in SERIES {
            if kind == "histogram" || name == REQUESTS {
                continue; // no request yet: no series
            }
            assert!(
                text.contains(&format!("# TYPE {name} {kind}")),
                "{name}\n{text}"
            );
        }
        assert!(
            text.contains("simplejwt_logins_total{result=\"failed\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn requests_are_counted_by_template_method_and_status() {
        let m = Metrics::new();
        let ok = http::StatusCode::OK;
        m.observe_request(
            "/api/sessions/{id}/",
            "DELETE",
            ok,
            Duration::from_millis(2),
        );
        m.observe_request(
            "/api/sessions/{id}/",
            "DELETE",
            ok,
            Duration::from_millis(3),
        );
        let text = m.inner.handle.render();
        assert!(
            text.contains(
                "simplejwt_http_requests_total{route=\"/api/sessions/{id}/\",method=\"DELETE\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains(
            "simplejwt_http_request_duration_seconds_bucket{route=\"/api/sessions/{id}/\",method=\"DELETE\",status=\"200\",le=\"0.005\"} 2"
        ), "{text}");
    }
}
