//! PostgreSQL faults, injected by a small TCP proxy between the server and
//! the database (the machine's PostgreSQL itself is never stopped):
//! - the database goes away (connections closed, new ones refused): requests
//!   that need it answer 503 with a clear JSON error, quickly;
//! - the network stalls (connections stay open, nothing comes back): the same
//!   503 after the store's deadline instead of a request that hangs;
//! - token verification that needs no database keeps answering 200 throughout;
//! - when the database is back, the server recovers by itself;
//! - `/readyz` turns 503 while the database is gone and 200 when it returns,
//!   `/healthz` stays 200 throughout.
//!
//! Runs on SIMPLEJWT_TEST_DATABASE_URL or the local PostgreSQL (ignored when built with
//! SIMPLEJWT_SKIP_POSTGRES=1).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use common::TestDb;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use simplejwt::http::{app, AppState};
use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::service::AuthService;
use simplejwt::settings::Settings;
use simplejwt::store::{NewUser, StoreOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Link {
    Up,
    /// Nothing is forwarded, nothing is closed: a stalled network.
    Stalled,
    /// Every connection is closed and new ones are dropped: the database is gone.
    Down,
}

struct Proxy {
    addr: SocketAddr,
    link: watch::Sender<Link>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (link, rx) = watch::channel(Link::Up);
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    return;
                };
                if *rx.borrow() == Link::Down {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(forward(inbound, upstream, rx.clone()));
            }
        });
        Proxy { addr, link }
    }

    fn set(&self, link: Link) {
        self.link.send_replace(link);
    }
}

async fn forward(inbound: TcpStream, upstream: SocketAddr, rx: watch::Receiver<Link>) {
    let Ok(outbound) = TcpStream::connect(upstream).await else {
        return;
    };
    let (ri, wi) = inbound.into_split();
    let (ro, wo) = outbound.into_split();
    let mut down = rx.clone();
    tokio::select! {
        _ = pipe(ri, wo, rx.clone()) => {}
        _ = pipe(ro, wi, rx) => {}
        _ = down.wait_for(|l| *l == Link::Down) => {}
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut rx: watch::Receiver<Link>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Hold the bytes while the link is stalled.
        if rx.wait_for(|l| *l != Link::Stalled).await.is_err() {
            return;
        }
        if *rx.borrow() == Link::Down || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn upstream_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let hostport = rest.split(['/', '?']).next().unwrap();
    let hostport = hostport.rsplit('@').next().unwrap();
    let hostport = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    hostport
        .parse()
        .expect("PostgreSQL address in SIMPLEJWT_TEST_DATABASE_URL")
}

fn through(url: &str, proxy: SocketAddr) -> String {
    let upstream = url
        .split_once("://")
        .unwrap()
        .1
        .split(['/', '?'])
        .next()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_owned();
    url.replacen(&upstream, &proxy.to_string(), 1)
}

struct Fixture {
    router: axum::Router,
    proxy: Proxy,
    _db: TestDb,
}

async fn fixture() -> Fixture {
    let db = TestDb::postgres().await;
    let hasher = PasswordHasher::new(HasherConfig {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
        ..Default::default()
    })
    .unwrap();
    let direct = simplejwt::store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    direct.migrate().await.unwrap();
    direct
        .create_user(
            &NewUser {
                username: "alice".into(),
                password_hash: hasher.hash("alice-Password-1").await.unwrap(),
                email: String::new(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
            },
            0,
        )
        .await
        .unwrap();
    direct.close().await;

    let proxy = Proxy::start(upstream_of(&db.url)).await;
    let options = StoreOptions {
        connect_timeout: Duration::from_millis(500),
        statement_timeout: Duration::from_millis(500),
        ..StoreOptions::default()
    };
    let store = simplejwt::store::connect(&through(&db.url, proxy.addr), &options)
        .await
        .unwrap();
    let settings = Settings::from_pairs([(
        "SIGNING_KEY",
        "fault-test-signing-key-0123456789abcdef0123456789",
    )])
    .unwrap();
    let service = AuthService::new(settings, store, hasher).unwrap();
    Fixture {
        router: app(AppState::new(service)),
        proxy,
        _db: db,
    }
}

async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    // A guard against hanging forever; the store's own deadline is 1 s.
    let res = tokio::time::timeout(Duration::from_secs(15), router.clone().oneshot(req))
        .await
        .expect("the request hung instead of answering")
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn unavailable() -> Value {
    json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"})
}

async fn outage_then_recovery(link: Link) {
    let f = fixture().await;
    let r = &f.router;
    let (status, pair) = call(
        r,
        "POST",
        "/api/token/",
        Some(json!({"username": "alice", "password": "alice-Password-1"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    let access = pair["access"].as_str().unwrap().to_owned();
    let refresh = pair["refresh"].clone();
    assert_eq!(
        call(r, "GET", "/api/protected/", None, Some(&access))
            .await
            .0,
        200
    );

    f.proxy.set(link);
    assert_eq!(
        call(r, "GET", "/api/protected/", None, Some(&access)).await,
        (StatusCode::SERVICE_UNAVAILABLE, unavailable())
    );
    assert_eq!(
        call(
            r,
            "POST",
            "/api/token/refresh/",
            Some(json!({"refresh": refresh})),
            None
        )
        .await,
        (StatusCode::SERVICE_UNAVAILABLE, unavailable())
    );
    assert_eq!(
        call(
            r,
            "POST",
            "/api/token/",
            Some(json!({"username": "alice", "password": "alice-Password-1"})),
            None
        )
        .await,
        (StatusCode::SERVICE_UNAVAILABLE, unavailable())
    );
    // Verification needs no database.
    assert_eq!(
        call(
            r,
            "POST",
            "/api/token/verify/",
            Some(json!({"token": access})),
            None
        )
        .await,
        (StatusCode::OK, json!({}))
    );

    f.proxy.set(Link::Up);
    // Recovery by itself: a few requests may still meet a connection that
    // died with the outage; the pool replaces it.
    let mut answers = Vec::new();
    for _ in 0..10 {
        let (status, body) = call(r, "GET", "/api/protected/", None, Some(&access)).await;
        answers.push(status);
        if status == StatusCode::OK {
            assert_eq!(body, json!({"message": "Welcome, alice!"}));
            break;
        }
        assert_eq!(
            (status, body),
            (StatusCode::SERVICE_UNAVAILABLE, unavailable())
        );
    }
    assert_eq!(
        answers.last(),
        Some(&StatusCode::OK),
        "no recovery: {answers:?}"
    );
    assert_eq!(
        call(
            r,
            "POST",
            "/api/token/refresh/",
            Some(json!({"refresh": refresh})),
            None
        )
        .await
        .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn database_gone_answers_503_and_recovers_when_it_is_back() {
    outage_then_recovery(Link::Down).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn stalled_database_answers_503_after_the_deadline_not_a_hang_and_recovers() {
    outage_then_recovery(Link::Stalled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn readyz_turns_503_when_the_database_is_gone_and_200_when_it_returns() {
    let f = fixture().await;
    let r = &f.router;
    let ok = (StatusCode::OK, json!({"status": "ok"}));
    let ready = (StatusCode::OK, json!({"status": "ready"}));
    assert_eq!(call(r, "GET", "/readyz", None, None).await, ready);

    f.proxy.set(Link::Down);
    assert_eq!(
        call(r, "GET", "/readyz", None, None).await,
        (StatusCode::SERVICE_UNAVAILABLE, unavailable())
    );
    assert_eq!(call(r, "GET", "/healthz", None, None).await, ok);

    f.proxy.set(Link::Up);
    // As in the outage tests: a probe or two may meet a connection that
    // died with the outage before the pool replaces it.
    let mut answers = Vec::new();
    for _ in 0..10 {
        let answer = call(r, "GET", "/readyz", None, None).await;
        answers.push(answer.0);
        if answer.0 == StatusCode::OK {
            assert_eq!(answer, ready);
            break;
        }
        assert_eq!(answer, (StatusCode::SERVICE_UNAVAILABLE, unavailable()));
    }
    assert_eq!(
        answers.last(),
        Some(&StatusCode::OK),
        "no recovery: {answers:?}"
    );
    assert_eq!(call(r, "GET", "/healthz", None, None).await, ok);
}
