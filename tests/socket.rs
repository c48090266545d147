//! Over a real socket (`axum::serve` on 127.0.0.1:0, `reqwest` clients): the
//! login → protected → refresh → logout walk-through with the headers as they
//! go over the wire, the request body limit (413), oversized headers, and a
//! graceful shutdown that lets an in-flight login finish.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use common::*;
use serde_json::{json, Value};
use simplejwt::http::{app as make_app, AppState, DEFAULT_MAX_BODY_BYTES};

async fn json_of(r: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().await.expect("JSON body");
    (status, headers, body)
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_protected_refresh_logout_walk_through() {
    let app = app(TestDb::sqlite(), &[]).await;
    let server = Server::start(app.router.clone()).await;
    let client = http_client();

    let r = client
        .post(server.url("/api/token/"))
        .json(&json!({"username": "alice", "password": "alice-Password-1"}))
        .send()
        .await
        .unwrap();
    let (status, headers, body) = json_of(r).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "www-authenticate"), None);
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["refresh", "access"]);
    let refresh = body["refresh"].as_str().unwrap().to_owned();
    let access = body["access"].as_str().unwrap().to_owned();

    let welcome_alice = |token: String| {
        let client = client.clone();
        let url = server.url("/api/protected/");
        async move {
            let r = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.bytes().await.unwrap(), r#"{"message":"Welcome, alice!"}"#);
        }
    };
    welcome_alice(access.clone()).await;

    let r = client
        .post(server.url("/api/token/refresh/"))
        .json(&json!({"refresh": refresh}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(r).await;
    assert_eq!(status, 200);
    welcome_alice(body["access"].as_str().unwrap().to_owned()).await;

    let r = client
        .post(server.url("/api/token/blacklist/"))
        .json(&json!({"refresh": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), "{}");

    let r = client
        .post(server.url("/api/token/refresh/"))
        .json(&json!({"refresh": refresh}))
        .send()
        .await
        .unwrap();
    let (status, headers, body) = json_of(r).await;
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "www-authenticate"), Some(BEARER_CHALLENGE));
    assert_eq!(body, token_error("Token is blacklisted"));

    // the access token outlives the logout
    welcome_alice(access).await;

    let r = client
        .get(server.url("/api/protected/"))
        .send()
        .await
        .unwrap();
    let (status, headers, body) = json_of(r).await;
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "www-authenticate"), Some(BEARER_CHALLENGE));
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    server.stop().await;
}

/// A JSON login body of exactly `len` bytes (padded with an ignored field).
fn login_body_of_length(len: usize) -> Vec<u8> {
    let prefix = r#"{"username":"alice","password":"alice-Password-1","pad":""#;
    let suffix = r#""}"#;
    let pad = len - prefix.len() - suffix.len();
    format!("{prefix}{}{suffix}", "x".repeat(pad)).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_up_to_the_limit_are_read_and_larger_ones_are_413() {
    let app = app(TestDb::sqlite(), &[]).await;
    let server = Server::start(app.router.clone()).await;
    let client = http_client();
    let send = |body: Vec<u8>| {
        client
            .post(server.url("/api/token/"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = send(login_body_of_length(DEFAULT_MAX_BODY_BYTES))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(login_body_of_length(DEFAULT_MAX_BODY_BYTES + 1))
        .await
        .unwrap();
    let (status, headers, body) = json_of(r).await;
    assert_eq!(status, 413);
    assert_eq!(header(&headers, "www-authenticate"), None);
    assert_eq!(body, json!({"detail": "Request body is too large."}));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_body_limit_applies_to_every_token_endpoint() {
    let app = app(TestDb::sqlite(), &[]).await;
    let state = AppState {
        max_body_bytes: 1024,
        ..AppState::new(app.service.clone())
    };
    let server = Server::start(make_app(state)).await;
    let client = http_client();
    for path in [
        "/api/token/",
        "/api/token/refresh/",
        "/api/token/verify/",
        "/api/token/blacklist/",
    ] {
        let r = client
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(login_body_of_length(4096))
            .send()
            .await
            .unwrap();
        let (status, _, body) = json_of(r).await;
        assert_eq!(status, 413, "{path}");
        assert_eq!(body, json!({"detail": "Request body is too large."}));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_authorization_headers_are_refused_without_a_5xx() {
    let app = app(TestDb::sqlite(), &[]).await;
    let server = Server::start(app.router.clone()).await;
    let client = http_client();
    // far over TOKEN_MAX_BYTES, within what the HTTP server reads
    let token = "A".repeat(60_000);
    let r = client
        .get(server.url("/api/protected/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = json_of(r).await;
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "www-authenticate"), Some(BEARER_CHALLENGE));
    assert_eq!(body, invalid_for_any_type("Token is invalid"));
    // beyond what the HTTP server reads: refused (or the connection dropped), never a 5xx
    let huge = "A".repeat(1 << 20);
    match client
        .get(server.url("/api/protected/"))
        .bearer_auth(&huge)
        .send()
        .await
    {
        Ok(r) => assert!(r.status().is_client_error(), "{}", r.status()),
        Err(e) => assert!(!e.is_status(), "{e}"),
    }
    // the server still answers afterwards
    let r = client
        .get(server.url("/api/protected/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_an_in_flight_login_finish() {
    let app = app(TestDb::sqlite(), &[]).await;
    // A gate in front of the app: it reports when the request is inside the
    // server, and holds it there until the test lets it go.
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let entered = Arc::new(Mutex::new(Some(entered_tx)));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let router = {
        let (entered, gate) = (entered.clone(), gate.clone());
        app.router.clone().layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let (entered, gate) = (entered.clone(), gate.clone());
                async move {
                    if let Some(tx) = entered.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                    gate.acquire().await.expect("gate").forget();
                    next.run(req).await
                }
            },
        ))
    };
    let mut server = Server::start(router).await;
    let url = server.url("/api/token/");
    let login = tokio::spawn(async move {
        http_client()
            .post(url)
            .json(&json!({"username": "alice", "password": "alice-Password-1"}))
            .send()
            .await
    });

    entered_rx.await.expect("the login reached the server");
    server.begin_shutdown();
    // The server stops accepting: poll until connections are refused.
    let addr = server.addr;
    tokio::time::timeout(Duration::from_secs(10), async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the listener closes after the shutdown signal");
    assert!(
        !server.handle.is_finished(),
        "the server waits for the in-flight request"
    );

    gate.add_permits(1);
    let r = login
        .await
        .unwrap()
        .expect("the in-flight login is answered");
    let (status, _, body) = json_of(r).await;
    assert_eq!(status, 200);
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["refresh", "access"]);
    tokio::time::timeout(Duration::from_secs(10), server.handle)
        .await
        .expect("the server ends once the request is answered")
        .unwrap()
        .unwrap();
}
