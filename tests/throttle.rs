//! Brute-force throttling (issue 17, point 1) as an attacker meets it:
//! guessing one password, spraying usernames from one address, forging
//! `X-Forwarded-For`, and spreading guesses over two instances sharing a
//! PostgreSQL database. Each attack runs into 429 with `Retry-After`; the
//! rightful user gets in once the (short, for the test) delay has passed.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use common::*;
use http::Request;
use serde_json::{json, Value};
use simplejwt::http::{app as make_app, AppState};
use simplejwt::service::AuthService;

/// A login from `peer` with extra headers.
fn login_from(
    peer: &str,
    headers: &[(&str, &str)],
    username: &str,
    password: &str,
) -> Request<axum::body::Body> {
    let body = serde_json::to_vec(&json!({"username": username, "password": password})).unwrap();
    let mut req = post("/api/token/", Some("application/json"), body);
    for (k, v) in headers {
        req.headers_mut().append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let addr = SocketAddr::new(peer.parse().unwrap(), 40000);
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

fn throttled(r: &Resp) -> bool {
    if r.status.as_u16() != 429 {
        return false;
    }
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(wait >= 1);
    let unit = if wait == 1 { "second" } else { "seconds" };
    assert_eq!(
        r.json(),
        json!({"detail": format!("Request was throttled. Expected available in {wait} {unit}."), "code": "throttled"})
    );
    true
}

const FAST: [(&str, &str); 3] = [
    ("PRESET", "hardened"),
    ("LOGIN_THROTTLE_FREE_FAILURES", "3"),
    ("LOGIN_THROTTLE_DELAY", "200ms"),
];

#[tokio::test]
async fn guessing_one_password_is_slowed_then_the_user_still_gets_in() {
    let app = app(TestDb::sqlite(), &FAST).await;
    for username in ["alice", "ghost"] {
        for attempt in 1..=3 {
            let r = app
                .send(login_from("192.0.2.1", &[], username, "guess"))
                .await;
            r.expect(401, &no_active_account());
            let _ = attempt;
        }
        // the 4th attempt is refused before any password work, even with the right password
        let before = app.service.hasher().stats().dummy_verifications;
        let r = app
            .send(login_from("192.0.2.1", &[], username, "alice-Password-1"))
            .await;
        assert!(throttled(&r), "{username}: {} {}", r.status, r.text());
        assert_eq!(app.service.hasher().stats().dummy_verifications, before);
    }
    // another address is not affected
    app.send(login_from("192.0.2.2", &[], "alice", password_of("alice")))
        .await
        .expect_status(200);
    // waiting out the delay gives the rightful user a try (polled, with a deadline)
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app
            .send(login_from("192.0.2.1", &[], "alice", password_of("alice")))
            .await;
        if r.status.as_u16() == 200 {
            break;
        }
        assert!(throttled(&r));
        assert!(Instant::now() < deadline, "still throttled after 10 s");
        // a poll interval, not a wait for the delay: the deadline bounds the loop
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // and a success forgives: three more free failures
    for _ in 0..3 {
        app.send(login_from("192.0.2.1", &[], "alice", "guess"))
            .await
            .expect(401, &no_active_account());
    }
}

#[tokio::test]
async fn the_delay_doubles_up_to_the_cap() {
    let app = app(
        TestDb::sqlite(),
        &[
            ("LOGIN_THROTTLE", "true"),
            ("LOGIN_THROTTLE_FREE_FAILURES", "1"),
            ("LOGIN_THROTTLE_DELAY", "1s"),
            ("LOGIN_THROTTLE_MAX_DELAY", "4s"),
        ],
    )
    .await;
    let throttle = simplejwt::service::Throttle::new(
        app.service.settings(),
        std::sync::Arc::new(simplejwt::store::MemoryCounters::default()),
    );
    let waits: Vec<u64> = (0..6)
        .map(|n| throttle.delay_after(n, 1).as_secs())
        .collect();
    assert_eq!(waits, [0, 1, 2, 4, 4, 4]);
    app.send(login_from("192.0.2.1", &[], "alice", "guess"))
        .await
        .expect_status(401);
    let r = app
        .send(login_from("192.0.2.1", &[], "alice", "guess"))
        .await;
    assert!(throttled(&r));
    assert_eq!(r.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn spraying_usernames_from_one_address_is_slowed() {
    let app = app(
        TestDb::sqlite(),
        &[
            ("PRESET", "hardened"),
            ("LOGIN_THROTTLE_IP_FREE_FAILURES", "4"),
        ],
    )
    .await;
    for i in 0..4 {
        app.send(login_from(
            "198.51.100.1",
            &[],
            &format!("user{i}"),
            "Winter2024!",
        ))
        .await
        .expect(401, &no_active_account());
    }
    let r = app
        .send(login_from("198.51.100.1", &[], "user99", "Winter2024!"))
        .await;
    assert!(throttled(&r));
    // IPv6: the whole /64 is one source
    for i in 0..4 {
        let peer = format!("2001:db8:0:1::{i:x}");
        app.send(login_from(&peer, &[], &format!("v6user{i}"), "x"))
            .await
            .expect_status(401);
    }
    let r = app
        .send(login_from("2001:db8:0:1::ffff", &[], "v6other", "x"))
        .await;
    assert!(throttled(&r));
}

#[tokio::test]
async fn forged_forwarding_headers_do_not_escape_the_throttle() {
    // No trusted proxy: X-Forwarded-For is the attacker's own text and ignored.
    let app = app(TestDb::sqlite(), &FAST).await;
    for i in 0..3 {
        let fake = format!("203.0.113.{i}");
        app.send(login_from(
            "192.0.2.66",
            &[("x-forwarded-for", &fake)],
            "alice",
            "guess",
        ))
        .await
        .expect_status(401);
    }
    let r = app
        .send(login_from(
            "192.0.2.66",
            &[
                ("x-forwarded-for", "203.0.113.200"),
                ("forwarded", "for=203.0.113.201"),
            ],
            "alice",
            "guess",
        ))
        .await;
    assert!(throttled(&r));
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_count() {
    let mut pairs = FAST.to_vec();
    pairs.push(("TRUSTED_PROXIES", "10.0.0.0/8"));
    let app = app(TestDb::sqlite(), &pairs).await;
    let via = |client: &str| vec![("x-forwarded-for", format!("6.6.6.6, {client}"))];
    for _ in 0..3 {
        let h = via("198.51.100.10");
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.send(login_from("10.1.2.3", &h, "alice", "guess"))
            .await
            .expect_status(401);
    }
    let h = via("198.51.100.10");
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert!(throttled(
        &app.send(login_from("10.1.2.3", &h, "alice", "guess")).await
    ));
    // another client behind the same proxy logs in; the forged first hop changed nothing
    let h = via("198.51.100.11");
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.send(login_from("10.1.2.3", &h, "alice", password_of("alice")))
        .await
        .expect_status(200);
}

#[tokio::test]
async fn compatible_defaults_never_throttle() {
    let app = app(TestDb::sqlite(), &[]).await;
    for _ in 0..20 {
        app.send(login_from("192.0.2.1", &[], "alice", "guess"))
            .await
            .expect(401, &no_active_account());
    }
    app.send(login_from("192.0.2.1", &[], "alice", password_of("alice")))
        .await
        .expect_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn postgres_instances_share_their_counts() {
    let db = TestDb::postgres().await;
    let a = app(db, &FAST).await;
    // a second instance: its own service and pool over the same database
    let store = simplejwt::store::connect(&a.db.url, &simplejwt::store::StoreOptions::default())
        .await
        .unwrap();
    let b_service = AuthService::new(settings(&FAST), store, cheap_hasher()).unwrap();
    let b = make_app(AppState::new(b_service));
    a.send(login_from("192.0.2.7", &[], "alice", "guess"))
        .await
        .expect_status(401);
    send(&b, login_from("192.0.2.7", &[], "alice", "guess"))
        .await
        .expect_status(401);
    a.send(login_from("192.0.2.7", &[], "alice", "guess"))
        .await
        .expect_status(401);
    let r = send(&b, login_from("192.0.2.7", &[], "alice", "guess")).await;
    assert!(throttled(&r), "{} {}", r.status, r.text());
    let r: Value = a
        .send(login_from("192.0.2.7", &[], "alice", "guess"))
        .await
        .json();
    assert_eq!(r["code"], "throttled");
}

/// An event as recorded: kind, username, address.
type Seen = (String, Option<String>, Option<std::net::IpAddr>);

/// Records every event's kind, username and address.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<Seen>>);

impl simplejwt::service::EventSink for Recorder {
    fn record(&self, e: &simplejwt::service::Event<'_>) {
        self.0.lock().unwrap().push((
            e.kind.name().to_owned(),
            e.username.map(str::to_owned),
            e.client.ip,
        ));
    }
}

#[tokio::test]
async fn a_throttled_attempt_is_reported_with_its_address_and_no_password() {
    let recorder = std::sync::Arc::new(Recorder::default());
    let sink = recorder.clone();
    let app = app_with(TestDb::sqlite(), &FAST, move |b| b.event_sink(sink)).await;
    for _ in 0..4 {
        app.send(login_from("192.0.2.9", &[], "mallory", "hunter2-guess"))
            .await;
    }
    let events = recorder.0.lock().unwrap().clone();
    let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "login_failed",
            "login_failed",
            "login_failed",
            "login_throttled"
        ]
    );
    let (_, username, ip) = &events[3];
    assert_eq!(username.as_deref(), Some("mallory"));
    assert_eq!(*ip, Some("192.0.2.9".parse().unwrap()));
    assert!(!format!("{events:?}").contains("hunter2"));
}
