//! Attacks on input parsing that must fail (issue 17, point 3): a second
//! `Authorization` header, JWT headers that bring their own key or demand
//! extensions, wrongly typed registered claims, and oversized or deeply
//! nested input. Each test sends the attack and checks the refusal.

mod common;

use axum::routing::get;
use axum::Router;
use common::*;
use http::Request;
use serde_json::{json, Value};
use simplejwt::{MaybeAuthUser, TokenAuth};

fn get_with(path: &str, headers: &[(&str, String)]) -> Request<axum::body::Body> {
    let mut b = Request::builder().uri(path);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(axum::body::Body::empty()).unwrap()
}

fn bad_authorization_header() -> Value {
    json!({
        "detail": "Authorization header must contain two space-delimited values",
        "code": "bad_authorization_header",
    })
}

#[tokio::test]
async fn a_second_authorization_header_never_authenticates() {
    let app = app(TestDb::sqlite(), &[]).await;
    let (_, access) = app.pair("alice").await;
    let (_, carol) = app.pair("carol").await;
    let valid = format!("Bearer {access}");
    // the control: one header authenticates
    app.send(get_with(
        "/api/protected/",
        &[("Authorization", valid.clone())],
    ))
    .await
    .expect(200, &welcome("alice"));
    for second in [
        valid.clone(),
        format!("Bearer {carol}"),
        "Bearer garbage".to_owned(),
        "Basic YWxpY2U6eA==".to_owned(),
        String::new(),
    ] {
        for pair in [
            [valid.clone(), second.clone()],
            [second.clone(), valid.clone()],
        ] {
            let r = app
                .send(get_with(
                    "/api/protected/",
                    &[
                        ("Authorization", pair[0].clone()),
                        ("Authorization", pair[1].clone()),
                    ],
                ))
                .await;
            r.expect_challenged(401, BEARER_CHALLENGE, Some(&bad_authorization_header()));
        }
    }
}

#[tokio::test]
async fn a_second_configured_auth_header_never_authenticates() {
    let app = app(
        TestDb::sqlite(),
        &[("AUTH_HEADER_NAME", "HTTP_X_ACCESS_TOKEN")],
    )
    .await;
    let (_, access) = app.pair("alice").await;
    let valid = format!("Bearer {access}");
    app.send(get_with(
        "/api/protected/",
        &[("X-Access-Token", valid.clone())],
    ))
    .await
    .expect(200, &welcome("alice"));
    let r = app
        .send(get_with(
            "/api/protected/",
            &[
                ("X-Access-Token", valid.clone()),
                ("x-access-token", "Bearer x".into()),
            ],
        ))
        .await;
    r.expect_challenged(401, BEARER_CHALLENGE, Some(&bad_authorization_header()));
}

#[tokio::test]
async fn every_extractor_refuses_a_repeated_header() {
    let app = app(TestDb::sqlite(), &[]).await;
    let (_, access) = app.pair("alice").await;
    let router = Router::new()
        .route(
            "/stateless",
            get(|TokenAuth(u): TokenAuth| async move { u.id }),
        )
        .route(
            "/maybe",
            get(|MaybeAuthUser(u): MaybeAuthUser| async move {
                u.map_or("anonymous".to_owned(), |u| u.user.username)
            }),
        )
        .with_state(app.service.clone());
    let valid = format!("Bearer {access}");
    for path in ["/stateless", "/maybe"] {
        let one = send(&router, get_with(path, &[("Authorization", valid.clone())])).await;
        one.expect_status(200);
        let two = send(
            &router,
            get_with(
                path,
                &[
                    ("Authorization", valid.clone()),
                    ("Authorization", valid.clone()),
                ],
            ),
        )
        .await;
        two.expect_challenged(401, BEARER_CHALLENGE, Some(&bad_authorization_header()));
    }
}

/// A token correctly signed with the server's own key whose header adds `extra`.
fn signed_with_header(app: &TestApp, extra: Value) -> String {
    let forger = app.forger();
    let mut header = json!({"alg": "HS256", "typ": "JWT"});
    for (k, v) in extra.as_object().unwrap() {
        header[k] = v.clone();
    }
    let claims = forger.claims("access", "1");
    forger.sign_raw(
        &serde_json::to_vec(&header).unwrap(),
        &serde_json::to_vec(&claims).unwrap(),
    )
}

#[tokio::test]
async fn headers_that_bring_a_key_or_demand_extensions_are_refused() {
    let app = app(TestDb::sqlite(), &[]).await;
    // the control: the same construction without an extra parameter is accepted
    let plain = signed_with_header(&app, json!({}));
    app.protected(&plain).await.expect(200, &welcome("alice"));
    let jwk = json!({"kty": "oct", "k": b64(SIGNING_KEY.as_bytes())});
    for extra in [
        json!({ "jwk": jwk }),
        json!({"jku": "https://attacker.example/jwks.json"}),
        json!({"x5u": "https://attacker.example/cert.pem"}),
        json!({"x5c": ["MIIB"]}),
        json!({"x5t": "abc"}),
        json!({"x5t#S256": "abc"}),
        json!({"crit": ["exp"]}),
        json!({"crit": []}),
        json!({"kid": "0"}),
        json!({"kid": "../../dev/null"}),
        json!({"kid": ""}),
        json!({"kid": 1}),
    ] {
        let token = signed_with_header(&app, extra.clone());
        app.protected(&token)
            .await
            .expect(401, &invalid_for_any_type("Token is invalid"));
        app.verify(&token)
            .await
            .expect(401, &token_error("Token is invalid"));
    }
}

#[tokio::test]
async fn wrongly_typed_registered_claims_are_refused() {
    let app = app(TestDb::sqlite(), &[]).await;
    let forger = app.forger();
    let now = epoch_now();
    let cases: Vec<(&str, Value)> = vec![
        ("jti", json!(5)),
        ("jti", json!(["a"])),
        ("jti", json!({"a": 1})),
        ("jti", Value::Null),
        ("sub", json!(1)),
        ("exp", json!((now + 300).to_string())),
        ("exp", json!(true)),
        ("exp", Value::Null),
        ("exp", json!([now + 300])),
        ("iat", json!(now.to_string())),
        ("iat", json!(false)),
        ("nbf", json!(now.to_string())),
        ("nbf", json!({})),
    ];
    for (claim, value) in cases {
        let token = forger.access(|c| {
            c.insert(claim.into(), value.clone());
        });
        let r = app.protected(&token).await;
        assert_eq!(r.status.as_u16(), 401, "{claim}: {value}");
        app.verify(&token).await.expect_status(401);
    }
}

#[tokio::test]
async fn oversized_tokens_and_deep_json_get_clear_answers() {
    let app = app(TestDb::sqlite(), &[("TOKEN_MAX_BYTES", "1024")]).await;
    // a valid token padded with a long claim past TOKEN_MAX_BYTES
    let long = app.forger().access(|c| {
        c.insert("pad".into(), "x".repeat(2000).into());
    });
    app.protected(&long)
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    // JSON nested far deeper than any parser stack should go: 400, no crash
    for depth in [200usize, 30_000] {
        let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let r = app
            .post_raw("/api/token/", Some("application/json"), body)
            .await;
        assert_eq!(r.status.as_u16(), 400, "depth {depth}: {}", r.text());
        assert!(
            r.text().contains("recursion limit exceeded"),
            "{}",
            r.text()
        );
    }
}

/// A raw HTTP/1.1 exchange: the request bytes in, the status line out.
async fn raw_status(server: &Server, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    text.lines().next().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_over_the_limit_is_413_before_it_is_sent() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let app = app(TestDb::sqlite(), &[]).await;
    let server = Server::start(app.router.clone()).await;
    // 100 MB declared, a few bytes sent, the connection kept open: the answer
    // must not wait for the rest (which never comes).
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100000000\r\n\r\n{\"username\":",
        )
        .await
        .unwrap();
    let mut status = String::new();
    let mut reader = BufReader::new(stream);
    // A guard against a hang (the failure this test is about), not a timing.
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        reader.read_line(&mut status),
    )
    .await
    .expect("no answer while the declared body was still owed")
    .unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_request_headers_are_431() {
    let app = app(TestDb::sqlite(), &[]).await;
    let server = Server::start(app.router.clone()).await;
    let mut ok = String::from("GET /api/protected/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    ok.push_str("\r\n");
    assert!(raw_status(&server, ok.as_bytes())
        .await
        .starts_with("HTTP/1.1 401"));
    let mut many = String::from("GET /api/protected/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..120 {
        many.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    let status = raw_status(&server, many.as_bytes()).await;
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    server.stop().await;
}

#[tokio::test]
async fn an_inactive_user_is_checked_like_an_unknown_one() {
    // Timing itself is shown by `cargo bench --bench login_timing`; here, that
    // an inactive user's login takes the unknown user's path (the dummy hash),
    // not a check of their own hash whose speed would tell a right password.
    let app = app(TestDb::sqlite(), &[]).await;
    let dummies = || app.service.hasher().stats().dummy_verifications;
    let before = dummies();
    app.login("bob", password_of("bob"))
        .await
        .expect(401, &no_active_account());
    assert_eq!(dummies(), before + 1);
    app.login("nobody", "whatever-Password-1")
        .await
        .expect(401, &no_active_account());
    assert_eq!(dummies(), before + 2);
    // a known active user with a wrong password checks their own hash
    app.login("alice", "wrong-Password-1")
        .await
        .expect(401, &no_active_account());
    assert_eq!(dummies(), before + 2);
}
