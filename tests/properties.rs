//! Property tests: no input reaches a panic or a 5xx. Arbitrary tokens (any
//! string; any bytes in three base64url segments; any payload, JSON or not,
//! signed with the right key; near-valid claim sets with claims replaced by
//! arbitrary JSON), arbitrary request bodies for each endpoint (as JSON, form
//! and multipart), and arbitrary `Authorization` header bytes all get a 2xx or
//! 4xx answer with a JSON body, and a challenge exactly on the 401s.
//!
//! Each property drives one app on one runtime through proptest's
//! `TestRunner` (256 cases, no persisted failures), so the whole file runs in
//! seconds. This file is also the fuzzer (issue 17, point 4): CI runs it at
//! scale for a bounded time with `SIMPLEJWT_FUZZ_CASES=20000`; a failure
//! prints the shrunk input, which becomes a regression case in
//! `tests/attacks.rs`.

mod common;

use axum::body::Body;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use simplejwt::token::Claims;

const CASES: u32 = 256;

const ENDPOINTS: [(&str, &[&str]); 4] = [
    ("/api/token/", &["username", "password"]),
    ("/api/token/refresh/", &["refresh"]),
    ("/api/token/verify/", &["token"]),
    ("/api/token/blacklist/", &["refresh"]),
];

const CLAIM_NAMES: [&str; 10] = [
    "token_type",
    "exp",
    "iat",
    "jti",
    "user_id",
    "nbf",
    "aud",
    "iss",
    "sub",
    "hash_password",
];

/// One app and the runtime it lives on.
struct Harness {
    rt: tokio::runtime::Runtime,
    app: Option<TestApp>,
}

impl Harness {
    fn new(pairs: &[(&str, &str)]) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let app = rt.block_on(app(TestDb::sqlite(), pairs));
        Harness { rt, app: Some(app) }
    }

    fn app(&self) -> &TestApp {
        self.app.as_ref().expect("app")
    }

    /// Sends a request and checks the universal rules.
    fn send(&self, req: http::Request<Body>) -> Result<Resp, TestCaseError> {
        let r = self.rt.block_on(self.app().send(req));
        well_formed(&r)?;
        Ok(r)
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // The pool is closed inside the runtime it was made on.
        if let Some(app) = self.app.take() {
            self.rt.block_on(async move {
                app.store.close().await;
                drop(app);
            });
        }
    }
}

/// 2xx or 4xx, a JSON body, and `WWW-Authenticate` exactly on a 401.
fn well_formed(r: &Resp) -> Result<(), TestCaseError> {
    prop_assert!(
        r.status.is_success() || r.status.is_client_error(),
        "status {} body {:?}",
        r.status,
        r.text()
    );
    // 301 redirects are not reachable from these requests (paths are fixed).
    prop_assert_eq!(r.header("content-type"), Some("application/json"));
    prop_assert!(
        serde_json::from_slice::<Value>(&r.body).is_ok(),
        "not JSON: {:?}",
        r.text()
    );
    prop_assert_eq!(
        r.header("www-authenticate").is_some(),
        r.status == 401,
        "challenge rule broken: {} {:?}",
        r.status,
        r.text()
    );
    Ok(())
}

/// Cases per property: [`CASES`], or `SIMPLEJWT_FUZZ_CASES` when set.
fn cases() -> u32 {
    std::env::var("SIMPLEJWT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

fn json_post(path: &str, body: &Value) -> http::Request<Body> {
    post(
        path,
        Some("application/json"),
        serde_json::to_vec(body).expect("json"),
    )
}

fn field_body(field: &str, token: &str) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(field.into(), token.into());
    Value::Object(map)
}

/// Sends `token` to verify, refresh, blacklist (as JSON) and protected (as a bearer).
fn token_everywhere(h: &Harness, token: &str) -> Result<Vec<Resp>, TestCaseError> {
    let mut out = vec![
        h.send(json_post("/api/token/verify/", &field_body("token", token)))?,
        h.send(json_post(
            "/api/token/refresh/",
            &field_body("refresh", token),
        ))?,
        h.send(json_post(
            "/api/token/blacklist/",
            &field_body("refresh", token),
        ))?,
    ];
    if let Ok(value) = http::HeaderValue::from_str(&format!("Bearer {token}")) {
        out.push(h.send(protected_request(Some(value.as_bytes())))?);
    }
    Ok(out)
}

// --------------------------------------------------------------------------
// strategies
// --------------------------------------------------------------------------

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(&CLAIM_NAMES[..]).prop_map(String::from),
        "[a-z_]{0,8}",
        any::<String>(),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0i64..4_000_000_000).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        any::<String>().prop_map(Value::from),
        "[0-9a-f]{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Bytes that make a valid header value (no controls except tab, no DEL).
fn arb_header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(b'\t'), Just(b' '), 0x21u8..=0x7e, 0x80u8..=0xff],
        0..300,
    )
}

fn b64url(bytes: &[u8]) -> String {
    b64(bytes)
}

// --------------------------------------------------------------------------
// tokens
// --------------------------------------------------------------------------

#[test]
fn decoder_refuses_arbitrary_strings_without_panicking() {
    let h = Harness::new(&[]);
    runner()
        .run(&any::<String>(), |s| {
            let tokens = h.app().service.tokens();
            prop_assert!(tokens
                .decode(&s, simplejwt::token::Timestamp::now())
                .is_err());
            for r in token_everywhere(&h, &s)? {
                prop_assert_ne!(r.status.as_u16(), 200, "{:?}", r.text());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn decoder_refuses_arbitrary_base64url_segments_without_panicking() {
    let h = Harness::new(&[]);
    let segment = || prop::collection::vec(any::<u8>(), 0..200);
    let header = prop_oneof![
        segment(),
        Just(br#"{"alg":"HS256","typ":"JWT"}"#.to_vec()),
        Just(br#"{"alg":"none"}"#.to_vec()),
    ];
    runner()
        .run(&(header, segment(), segment()), |(head, payload, sig)| {
            let token = format!("{}.{}.{}", b64url(&head), b64url(&payload), b64url(&sig));
            let tokens = h.app().service.tokens();
            prop_assert!(tokens
                .decode(&token, simplejwt::token::Timestamp::now())
                .is_err());
            for r in token_everywhere(&h, &token)? {
                prop_assert_ne!(r.status.as_u16(), 200, "{:?}", r.text());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn signed_arbitrary_payloads_never_panic_or_5xx() {
    let h = Harness::new(&[]);
    let forge = h.app().forger();
    let payload = prop_oneof![
        arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(any::<u8>(), 0..200),
    ];
    runner()
        .run(&payload, |payload| {
            let token = forge.sign_raw(br#"{"alg":"HS256","typ":"JWT"}"#, &payload);
            let _ = h
                .app()
                .service
                .tokens()
                .decode(&token, simplejwt::token::Timestamp::now());
            token_everywhere(&h, &token)?;
            Ok(())
        })
        .unwrap();
}

/// A valid access or refresh token's claims with some claims replaced by
/// arbitrary JSON (`Some`) or removed (`None`).
fn arb_edited_claims() -> impl Strategy<Value = (bool, Vec<(String, Option<Value>)>)> {
    (
        any::<bool>(),
        prop::collection::vec((arb_key(), prop::option::of(arb_json())), 0..4),
    )
}

fn edited(forge: &Forger, access: bool, edits: &[(String, Option<Value>)]) -> String {
    let mut c: Claims = forge.claims(if access { "access" } else { "refresh" }, "1");
    for (k, v) in edits {
        match v {
            Some(v) => {
                c.insert(k.clone(), v.clone());
            }
            None => {
                c.remove(k);
            }
        }
    }
    forge.sign(&c)
}

#[test]
fn near_valid_signed_tokens_never_panic_or_5xx() {
    let h = Harness::new(&[]);
    let forge = h.app().forger();
    runner()
        .run(&arb_edited_claims(), |(access, edits)| {
            let token = edited(&forge, access, &edits);
            for r in token_everywhere(&h, &token)? {
                prop_assert!(
                    matches!(r.status.as_u16(), 200 | 401),
                    "{} {:?}",
                    r.status,
                    r.text()
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn near_valid_signed_tokens_never_panic_or_5xx_under_rotation_and_revocation() {
    let h = Harness::new(&[
        ("ROTATE_REFRESH_TOKENS", "true"),
        ("BLACKLIST_AFTER_ROTATION", "true"),
        ("CHECK_REVOKE_TOKEN", "true"),
        ("USER_ID_FIELD", "username"),
        ("USER_ID_CLAIM", "sub"),
        ("TOKEN_CLAIMS", "username,is_staff"),
    ]);
    let forge = h.app().forger();
    runner()
        .run(&arb_edited_claims(), |(access, mut edits)| {
            edits.insert(0, ("sub".into(), Some(Value::from("alice"))));
            let token = edited(&forge, access, &edits);
            for r in token_everywhere(&h, &token)? {
                prop_assert!(
                    matches!(r.status.as_u16(), 200 | 400 | 401),
                    "{} {:?}",
                    r.status,
                    r.text()
                );
            }
            Ok(())
        })
        .unwrap();
}

// --------------------------------------------------------------------------
// request bodies
// --------------------------------------------------------------------------

#[test]
fn arbitrary_bodies_of_any_content_type_get_a_4xx_json_answer() {
    let h = Harness::new(&[]);
    let content_type = prop_oneof![
        Just(None),
        Just(Some("application/json".to_owned())),
        Just(Some("application/json; charset=utf-8".to_owned())),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(Some("multipart/form-data; boundary=XyZ".to_owned())),
        Just(Some("multipart/form-data".to_owned())),
        "[ -~]{0,40}".prop_map(Some),
    ];
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        any::<String>().prop_map(String::into_bytes),
        arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
    ];
    runner()
        .run(
            &(0..ENDPOINTS.len(), content_type, body),
            |(endpoint, content_type, body)| {
                let (path, _) = ENDPOINTS[endpoint];
                let mut b = http::Request::builder().method("POST").uri(path);
                if let Some(ct) = &content_type {
                    match http::HeaderValue::from_str(ct) {
                        Ok(v) => b = b.header("content-type", v),
                        Err(_) => return Ok(()),
                    }
                }
                let r = h.send(b.body(Body::from(body)).unwrap())?;
                prop_assert!(r.status.is_client_error(), "{} {:?}", r.status, r.text());
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn arbitrary_json_objects_with_the_endpoint_fields_never_panic_or_5xx() {
    let h = Harness::new(&[]);
    let fields = prop::collection::vec((0usize..3, prop::option::of(arb_json())), 0..4);
    runner()
        .run(&(0..ENDPOINTS.len(), fields), |(endpoint, values)| {
            let (path, names) = ENDPOINTS[endpoint];
            let mut map = serde_json::Map::new();
            for (i, v) in values {
                let name = names.get(i).copied().unwrap_or("extra");
                map.insert(name.into(), v.unwrap_or(Value::Null));
            }
            h.send(json_post(path, &Value::Object(map)))?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_form_and_multipart_fields_never_panic_or_5xx() {
    let h = Harness::new(&[]);
    let pairs = prop::collection::vec(
        (
            prop_oneof![
                Just("username".to_owned()),
                Just("password".to_owned()),
                Just("refresh".to_owned()),
                Just("token".to_owned()),
                "[a-z]{0,6}",
            ],
            any::<String>(),
        ),
        0..4,
    );
    runner()
        .run(
            &(0..ENDPOINTS.len(), any::<bool>(), pairs),
            |(endpoint, multipart, pairs)| {
                let (path, _) = ENDPOINTS[endpoint];
                let req = if multipart {
                    let mut body = String::new();
                    for (k, v) in &pairs {
                        body.push_str(&format!(
                            "--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                        ));
                    }
                    body.push_str("--XyZ--\r\n");
                    post(path, Some("multipart/form-data; boundary=XyZ"), body)
                } else {
                    let body = form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(pairs.iter())
                        .finish();
                    post(path, Some("application/x-www-form-urlencoded"), body)
                };
                h.send(req)?;
                Ok(())
            },
        )
        .unwrap();
}

// --------------------------------------------------------------------------
// Authorization header
// --------------------------------------------------------------------------

#[test]
fn arbitrary_authorization_headers_get_a_401_json_answer() {
    let h = Harness::new(&[]);
    let header = prop_oneof![
        arb_header_bytes(),
        arb_header_bytes().prop_map(|b| [b"Bearer ".as_slice(), &b].concat()),
        arb_header_bytes().prop_map(|b| [b"Bearer\t".as_slice(), &b, b" x"].concat()),
    ];
    runner()
        .run(&header, |bytes| {
            let Ok(value) = http::HeaderValue::from_bytes(&bytes) else {
                return Ok(());
            };
            let r = h.send(protected_request(Some(value.as_bytes())))?;
            prop_assert_eq!(r.status.as_u16(), 401, "{:?}", r.text());
            Ok(())
        })
        .unwrap();
}

// --------------------------------------------------------------------------
// JOSE headers and forwarding headers
// --------------------------------------------------------------------------

#[test]
fn correctly_signed_tokens_with_arbitrary_jose_headers_authenticate_only_when_plain() {
    let h = Harness::new(&[]);
    let forger = h.app().forger();
    let claims = serde_json::to_vec(&forger.claims("access", "1")).unwrap();
    let extra = prop::collection::vec(
        (
            prop_oneof![
                proptest::sample::select(
                    &[
                        "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "kid", "typ", "cty",
                        "alg", "b64"
                    ][..]
                )
                .prop_map(String::from),
                "[a-z]{1,5}",
            ],
            arb_json(),
        ),
        0..4,
    );
    runner()
        .run(&extra, |extra| {
            let mut header = serde_json::Map::new();
            header.insert("alg".into(), "HS256".into());
            header.insert("typ".into(), "JWT".into());
            for (k, v) in &extra {
                header.insert(k.clone(), v.clone());
            }
            let token = forger.sign_raw(&serde_json::to_vec(&header).unwrap(), &claims);
            let r = h.send(protected_request(Some(
                format!("Bearer {token}").as_bytes(),
            )))?;
            let refused_parameter = header.keys().any(|k| {
                ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "kid"].contains(&k.as_str())
            });
            if refused_parameter || header.get("alg") != Some(&Value::from("HS256")) {
                prop_assert_eq!(r.status.as_u16(), 401, "{:?} {:?}", header, r.text());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_forwarding_headers_never_panic_or_5xx() {
    let h = Harness::new(&[
        ("TRUSTED_PROXIES", "127.0.0.0/8,::1"),
        ("LOGIN_THROTTLE", "true"),
    ]);
    let value = prop_oneof![
        arb_header_bytes(),
        "(for=[^,;]{0,20}[,;] ?){0,4}".prop_map(String::into_bytes),
        "([0-9a-f:.\\[\\]]{0,20}, ?){0,4}".prop_map(String::into_bytes),
    ];
    runner()
        .run(&(any::<bool>(), value), |(forwarded, bytes)| {
            let Ok(value) = http::HeaderValue::from_bytes(&bytes) else {
                return Ok(());
            };
            let body =
                serde_json::to_vec(&serde_json::json!({"username": "alice", "password": "x"}))
                    .unwrap();
            let mut req = post("/api/token/", Some("application/json"), body);
            let name = if forwarded {
                "forwarded"
            } else {
                "x-forwarded-for"
            };
            req.headers_mut().insert(name, value);
            let peer: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let r = h.send(req)?;
            prop_assert!(matches!(r.status.as_u16(), 401 | 429), "{}", r.status);
            Ok(())
        })
        .unwrap();
}
