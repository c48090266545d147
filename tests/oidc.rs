//! Social login (issue 21) against a real OpenID Connect provider: the
//! certified `oidc-provider` package, configured by `tests/oidc/provider.mjs`
//! and started once per test run (`npm ci` in `tests/oidc` first). The
//! browser flow is followed over HTTP, redirect by redirect; the token flow
//! gets its ID token from the provider's own code flow as a native app
//! would; the failures use ID tokens that the provider signs with its own
//! keys (or a key it never published).
//!
//! Without node or the npm modules every test here says so on stderr and
//! returns; with `SIMPLEJWT_REQUIRE_OIDC_PROVIDER=1` (set by `.ci/run`) that
//! is a failure instead.

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use base64::Engine;
use common::*;
use http::{header, Request};
use openidconnect::url::Url;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use simplejwt::store::{Database, NewUser};

/// Where the provider sends the browser back: our callback, on a host that
/// never resolves (the test carries the request over to the router).
const CALLBACK: &str = "https://app.test/api/oidc/test/callback/";
const APP_PAGE: &str = "https://app.test/signed-in";

/// The running provider: its port, and the process (ends when our stdin
/// pipe closes, that is with this test process).
struct TestProvider {
    port: u16,
    _child: Mutex<Child>,
}

fn provider() -> Option<&'static TestProvider> {
    static PROVIDER: OnceLock<Option<TestProvider>> = OnceLock::new();
    PROVIDER.get_or_init(start_provider).as_ref()
}

fn start_provider() -> Option<TestProvider> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    let required = std::env::var("SIMPLEJWT_REQUIRE_OIDC_PROVIDER").is_ok_and(|v| v == "1");
    let skip = |why: String| {
        if required {
            panic!("the OpenID provider is required (SIMPLEJWT_REQUIRE_OIDC_PROVIDER=1): {why}");
        }
        eprintln!(
            "SKIPPED: social-login tests against the real OpenID provider: {why} \
             (run `npm ci` in tests/oidc; CI requires it)"
        );
        None
    };
    if !dir.join("node_modules/oidc-provider").is_dir() {
        return skip("tests/oidc/node_modules is missing".into());
    }
    let mut child = match Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .env("REDIRECT_URIS", CALLBACK)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return skip(format!("cannot run node: {e}")),
    };
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("provider output");
    let port = line
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("the provider did not start: {line:?}"));
    Some(TestProvider {
        port,
        _child: Mutex::new(child),
    })
}

/// Returns early (after the skip message) when there is no provider.
macro_rules! need_provider {
    () => {
        match provider() {
            Some(p) => p,
            None => return,
        }
    };
}

fn issuer(p: &TestProvider) -> String {
    format!("http://127.0.0.1:{}", p.port)
}

/// `OIDC_PROVIDERS` with the provider as `test` at `issuer`.
fn providers(issuer: &str, link_by_email: bool) -> String {
    json!([{
        "name": "test",
        "issuer": issuer,
        "client_id": "web",
        "client_secret": "web-secret",
        "mobile_client_ids": ["app"],
        "callback_url": CALLBACK,
        "redirect_uris": [APP_PAGE, "https://app.test/other"],
        "link_by_email": link_by_email,
    }])
    .to_string()
}

async fn oidc_app(
    db: TestDb,
    issuer: &str,
    link_by_email: bool,
    extra: &[(&str, &str)],
) -> TestApp {
    let providers = providers(issuer, link_by_email);
    let mut pairs = vec![("OIDC_PROVIDERS", providers.as_str())];
    pairs.extend_from_slice(extra);
    app(db, &pairs).await
}

/// Users and outstanding tokens: what a failed sign-in must not change.
async fn footprint(store: &dyn Database) -> (i64, i64) {
    let users = store.count_users().await.expect("count users");
    let (outstanding, _) = store.token_counts().await.expect("count tokens");
    (users, outstanding)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Follows the provider's redirects (login and consent happen on their own)
/// with a fresh cookie jar until it sends the browser to app.test; returns that URL.
async fn follow_provider(start: &str) -> Url {
    let client = http();
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    let mut url = Url::parse(start).expect("provider URL");
    for _ in 0..20 {
        let cookie = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let res = client
            .get(url.clone())
            .header(header::COOKIE, cookie)
            .send()
            .await
            .expect("provider answers");
        for set in res.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().expect("cookie text");
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                jar.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
        assert!(
            res.status().is_redirection(),
            "the provider stopped at {url}: {} {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
        let location = res.headers()[header::LOCATION].to_str().expect("location");
        url = url.join(location).expect("redirect URL");
        if url.host_str() == Some("app.test") {
            return url;
        }
    }
    panic!("too many redirects at the provider");
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// An ID token for the native client `app`, by the provider's own code flow
/// with PKCE, as a mobile SDK gets it; `nonce` as the app would send it.
async fn native_id_token(p: &TestProvider, account: &str, nonce: &str) -> String {
    let verifier = "native-app-verifier-0123456789-0123456789-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let mut auth = Url::parse(&format!("{}/auth", issuer(p))).unwrap();
    auth.query_pairs_mut()
        .append_pair("client_id", "app")
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email profile")
        .append_pair("redirect_uri", "http://app.test/native/")
        .append_pair("state", "native-state")
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("login_hint", account);
    let back = follow_provider(auth.as_str()).await;
    let code = query(&back, "code").expect("code");
    let res = http()
        .post(format!("{}/token", issuer(p)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://app.test/native/"),
            ("client_id", "app"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token endpoint");
    let body: Value = res.json().await.expect("token response");
    body["id_token"].as_str().expect("id_token").to_owned()
}

/// An ID token the provider signs with key `kid` (`key-1` is published,
/// `key-2` after rotation, any other never); `claims` over the defaults
/// (iss = the provider, aud = web, exp in 5 minutes).
async fn minted(p: &TestProvider, kid: &str, claims: Value) -> String {
    let res = http()
        .post(format!("{}/test/id-token", issuer(p)))
        .json(&json!({"kid": kid, "claims": claims}))
        .send()
        .await
        .expect("mint");
    let body: Value = res.json().await.expect("minted");
    body["id_token"].as_str().expect("id_token").to_owned()
}

async fn sign_in(app: &TestApp, id_token: &str, nonce: Option<&str>) -> Resp {
    let mut body = json!({"id_token": id_token});
    if let Some(n) = nonce {
        body["nonce"] = json!(n);
    }
    app.post_json("/api/oidc/test/token/", &body).await
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method("GET").uri(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).expect("request")
}

/// `GET /api/oidc/test/start/…`: the provider URL and the flow cookie (`name=value`).
async fn start(app: &TestApp, query: &str) -> (String, String) {
    let res = app
        .send(get(&format!("/api/oidc/test/start/{query}"), None))
        .await;
    res.expect_status(302);
    let location = res.header("location").expect("location").to_owned();
    let set = res.header("set-cookie").expect("flow cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(set.contains("Path=/api/oidc/"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    (location, cookie)
}

/// [`start`], then the provider's pages: where the provider sends the
/// browser back (our callback with its code and state), and the flow cookie.
async fn through_provider(app: &TestApp, query: &str) -> (Url, String) {
    let (location, cookie) = start(app, query).await;
    (follow_provider(&location).await, cookie)
}

/// The callback `back` names, sent with the flow `cookie`.
async fn callback(app: &TestApp, back: &Url, cookie: Option<&str>) -> Resp {
    app.send(get(&callback_path(back), cookie)).await
}

/// The callback request the provider's redirect makes, carried to the router.
fn callback_path(back: &Url) -> String {
    format!("{}?{}", back.path(), back.query().unwrap_or(""))
}

/// Asserts a JSON error with this status and code.
fn refused(res: &Resp, status: u16, code: &str) {
    res.expect_status(status);
    assert_eq!(res.json()["code"], code, "{}", res.text());
    assert!(res.header("location").is_none());
}

// ---------------------------------------------------------------------------
// the token flow (point 3)
// ---------------------------------------------------------------------------

backend_tests!(
    token_flow_answers_the_pair_of_a_password_login,
    |db: TestDb| async move {
        let p = need_provider!();
        let app = oidc_app(db, &issuer(p), false, &[]).await;
        let (users_before, _) = footprint(&*app.store).await;
        let id_token = native_id_token(p, "erin", "n-1").await;
        let res = sign_in(&app, &id_token, Some("n-1")).await;
        res.expect_status(200);
        assert_eq!(res.keys(), ["refresh", "access"]);
        let access = res.str("access");
        app.protected(&access).await.expect_status(200);
        app.refresh(&res.str("refresh")).await.expect_status(200);
        let user_id = claims_of(&access)["user_id"].clone();
        // The account was created with the provider's username, no password.
        let user = app
            .store
            .user_by_username("erin")
            .await
            .unwrap()
            .expect("new user");
        assert_eq!(json!(user.id.to_string()), user_id);
        assert!(user.password.starts_with('!'));
        assert_eq!(user.email, "erin@example.com");
        let identities = app.store.identities_of(user.id).await.unwrap();
        assert_eq!(identities.len(), 1);
        assert_eq!(identities[0].subject, "sub-erin");
        assert_eq!(identities[0].issuer, issuer(p));
        // Signing in again finds the same user: no second account.
        let again = native_id_token(p, "erin", "n-2").await;
        let res = sign_in(&app, &again, None).await;
        res.expect_status(200);
        assert_eq!(claims_of(&res.str("access"))["user_id"], user_id);
        assert_eq!(footprint(&*app.store).await.0, users_before + 1);
    }
);

#[tokio::test]
async fn no_providers_no_routes() {
    let app = app(TestDb::sqlite(), &[]).await;
    let res = app
        .post_json("/api/oidc/test/token/", &json!({"id_token": "x"}))
        .await;
    res.expect_status(404);
    app.send(get("/api/oidc/test/start/", None))
        .await
        .expect_status(404);
}

#[tokio::test]
async fn an_unknown_provider_is_404() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let res = app
        .post_json("/api/oidc/nope/token/", &json!({"id_token": "x"}))
        .await;
    refused(&res, 404, "unknown_provider");
}

// ---------------------------------------------------------------------------
// the browser flow (point 2)
// ---------------------------------------------------------------------------

backend_tests!(
    browser_flow_ends_in_a_one_time_code_exchanged_for_the_pair,
    |db: TestDb| async move {
        let p = need_provider!();
        let app = oidc_app(db, &issuer(p), false, &[]).await;
        let (location, cookie) = start(
            &app,
            "?redirect_uri=https%3A%2F%2Fapp.test%2Fother&login_hint=fay",
        )
        .await;
        let authorize = Url::parse(&location).unwrap();
        assert_eq!(authorize.path(), "/auth");
        assert_eq!(
            query(&authorize, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(query(&authorize, "redirect_uri").as_deref(), Some(CALLBACK));
        assert!(query(&authorize, "nonce").is_some() && query(&authorize, "state").is_some());
        let back = follow_provider(&location).await;
        assert_eq!(back.path(), "/api/oidc/test/callback/");
        let res = callback(&app, &back, Some(&cookie)).await;
        res.expect_status(303);
        let to = Url::parse(res.header("location").unwrap()).unwrap();
        assert_eq!(to.path(), "/other");
        // A one-time code, never a token, in the URL.
        let code = query(&to, "oidc_code").expect("one-time code");
        assert!(!to.as_str().contains("eyJ"), "{to}");
        assert!(res
            .headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("simplejwt_oidc_flow=;")));
        let pair = app
            .post_json("/api/oidc/exchange/", &json!({"code": code}))
            .await;
        pair.expect_status(200);
        assert_eq!(pair.keys(), ["refresh", "access"]);
        app.protected(&pair.str("access")).await.expect_status(200);
        let user = app
            .store
            .user_by_username("fay")
            .await
            .unwrap()
            .expect("new user");
        assert_eq!(
            app.store.identities_of(user.id).await.unwrap()[0].subject,
            "sub-fay"
        );
        // The code is single-use.
        let (_, outstanding) = footprint(&*app.store).await;
        let again = app
            .post_json("/api/oidc/exchange/", &json!({"code": code}))
            .await;
        refused(&again, 400, "invalid_code");
        assert_eq!(footprint(&*app.store).await.1, outstanding);
    }
);

#[tokio::test]
async fn browser_flow_in_cookie_mode_sets_the_token_cookies() {
    let p = need_provider!();
    let app = oidc_app(
        TestDb::sqlite(),
        &issuer(p),
        false,
        &[("AUTH_COOKIE", "true")],
    )
    .await;
    let (back, cookie) = through_provider(&app, "").await;
    let res = callback(&app, &back, Some(&cookie)).await;
    res.expect_status(303);
    assert_eq!(res.header("location"), Some(APP_PAGE));
    let set: Vec<&str> = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .collect();
    let access = set
        .iter()
        .find(|c| c.starts_with("access="))
        .expect("access cookie");
    assert!(access.contains("HttpOnly"));
    assert!(set.iter().any(|c| c.starts_with("refresh=")));
    assert!(set.iter().any(|c| c.starts_with("csrftoken=")));
}

// ---------------------------------------------------------------------------
// failures (point 5): a clear 4xx (503 for the provider), nothing changed
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_replayed_callback_is_refused_and_changes_nothing() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let (back, cookie) = through_provider(&app, "?login_hint=gus").await;
    callback(&app, &back, Some(&cookie))
        .await
        .expect_status(303);
    let before = footprint(&*app.store).await;
    // Same cookie, state and code: the flow was used up.
    let res = callback(&app, &back, Some(&cookie)).await;
    refused(&res, 400, "invalid_state");
    assert_eq!(footprint(&*app.store).await, before);
}

#[tokio::test]
async fn a_wrong_or_missing_state_or_cookie_is_refused_and_uses_the_flow_up() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let before = footprint(&*app.store).await;
    let (back, cookie) = through_provider(&app, "?login_hint=hal").await;
    let code = query(&back, "code").unwrap();
    // No cookie: this browser did not start the flow.
    let res = callback(&app, &back, None).await;
    refused(&res, 400, "invalid_state");
    // Another browser's cookie.
    let res = callback(&app, &back, Some("simplejwt_oidc_flow=forged")).await;
    refused(&res, 400, "invalid_state");
    // The right cookie and state, but the code comes from another issuer (RFC 9207).
    let state = query(&back, "state").unwrap();
    assert_eq!(
        query(&back, "iss"),
        Some(issuer(p)),
        "the provider names itself"
    );
    let mixed_up = format!(
        "/api/oidc/test/callback/?code={code}&state={state}&iss=https%3A%2F%2Fevil.example"
    );
    let (back2, cookie2) = through_provider(&app, "?login_hint=hal").await;
    let mixed_up = mixed_up.replace(&state, &query(&back2, "state").unwrap());
    let res = app.send(get(&mixed_up, Some(&cookie2))).await;
    refused(&res, 400, "invalid_state");
    // The right cookie, a wrong state.
    let wrong = format!("/api/oidc/test/callback/?code={code}&state=forged");
    let res = app.send(get(&wrong, Some(&cookie))).await;
    refused(&res, 400, "invalid_state");
    // That attempt used the flow up: the right state now fails too.
    let res = callback(&app, &back, Some(&cookie)).await;
    refused(&res, 400, "invalid_state");
    assert_eq!(footprint(&*app.store).await, before);
}

#[tokio::test]
async fn a_replayed_authorization_code_is_refused() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let (first, cookie) = through_provider(&app, "?login_hint=ida").await;
    callback(&app, &first, Some(&cookie))
        .await
        .expect_status(303);
    let before = footprint(&*app.store).await;
    // A new flow (its own cookie and state) carrying the used code.
    let (second, cookie) = through_provider(&app, "?login_hint=ida").await;
    let replay = format!(
        "/api/oidc/test/callback/?code={}&state={}",
        query(&first, "code").unwrap(),
        query(&second, "state").unwrap()
    );
    let res = app.send(get(&replay, Some(&cookie))).await;
    refused(&res, 400, "invalid_code");
    assert_eq!(footprint(&*app.store).await, before);
}

#[tokio::test]
async fn the_provider_refusing_is_a_clear_error() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let (location, cookie) = start(&app, "").await;
    let state = query(&Url::parse(&location).unwrap(), "state").unwrap();
    let path = format!("/api/oidc/test/callback/?error=access_denied&state={state}");
    let res = app.send(get(&path, Some(&cookie))).await;
    refused(&res, 400, "provider_refused");
}

#[tokio::test]
async fn a_redirect_uri_not_on_the_list_is_refused_without_redirecting() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    for evil in [
        "https%3A%2F%2Fevil.example%2F",
        "https%3A%2F%2Fapp.test%2Fsigned-in%2F..%2F..%2Fevil",
        "https%3A%2F%2Fapp.test%2Fsigned-in.evil.example",
        // Two of them (the second one allowed): ambiguous, refused as JSON.
        "https%3A%2F%2Fevil.example%2F&redirect_uri=https%3A%2F%2Fapp.test%2Fsigned-in",
    ] {
        let res = app
            .send(get(
                &format!("/api/oidc/test/start/?redirect_uri={evil}"),
                None,
            ))
            .await;
        refused(&res, 400, "redirect_uri_not_allowed");
        assert!(res.header("set-cookie").is_none());
    }
}

#[tokio::test]
async fn bad_id_tokens_are_refused_and_change_nothing() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let before = footprint(&*app.store).await;
    let now = epoch_now();
    let good = minted(p, "key-1", json!({"sub": "sub-jo", "nonce": "right"})).await;
    let cases = [
        (
            "wrong audience",
            minted(p, "key-1", json!({"aud": "other"})).await,
            None,
        ),
        (
            "expired",
            minted(p, "key-1", json!({"iat": now - 600, "exp": now - 60})).await,
            None,
        ),
        (
            "wrong issuer",
            minted(p, "key-1", json!({"iss": "http://127.0.0.1:1"})).await,
            None,
        ),
        (
            "azp not ours",
            minted(p, "key-1", json!({"azp": "other"})).await,
            None,
        ),
        ("unknown key", minted(p, "key-9", json!({})).await, None),
        ("wrong nonce", good.clone(), Some("wrong")),
        ("not a JWT", "not.a.jwt".to_owned(), None),
    ];
    for (what, token, nonce) in cases {
        let res = sign_in(&app, &token, nonce).await;
        res.expect_status(400);
        assert_eq!(
            res.json()["code"],
            "id_token_not_valid",
            "{what}: {}",
            res.text()
        );
    }
    // A forged signature: the good token's claims changed.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&parts[1])
            .unwrap(),
    )
    .unwrap();
    payload["sub"] = json!("sub-admin");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
    let res = sign_in(&app, &parts.join("."), None).await;
    refused(&res, 400, "id_token_not_valid");
    assert_eq!(footprint(&*app.store).await, before);
    // The untouched token with its nonce is fine.
    sign_in(&app, &good, Some("right")).await.expect_status(200);
}

#[tokio::test]
async fn a_provider_that_is_down_or_answers_garbage_is_503() {
    let p = need_provider!();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for issuer in [
        format!("http://127.0.0.1:{closed}"),
        format!("{}/garbage", issuer(p)),
    ] {
        let app = oidc_app(TestDb::sqlite(), &issuer, false, &[]).await;
        let before = footprint(&*app.store).await;
        // A well-formed token (a malformed one is refused before any fetch).
        let token = minted(p, "key-1", json!({})).await;
        let res = sign_in(&app, &token, None).await;
        refused(&res, 503, "provider_unavailable");
        let res = app.send(get("/api/oidc/test/start/", None)).await;
        refused(&res, 503, "provider_unavailable");
        assert!(res.header("set-cookie").is_none());
        assert_eq!(footprint(&*app.store).await, before);
    }
}

#[tokio::test]
async fn keys_rotated_by_the_provider_are_fetched_again() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    // Discovery and keys fetched now (key-1 only, unless another test rotated already).
    let token = minted(p, "key-1", json!({"sub": "sub-kim"})).await;
    sign_in(&app, &token, None).await.expect_status(200);
    http()
        .post(format!("{}/test/rotate", issuer(p)))
        .send()
        .await
        .unwrap();
    let token = minted(p, "key-2", json!({"sub": "sub-kim"})).await;
    sign_in(&app, &token, None).await.expect_status(200);
}

// ---------------------------------------------------------------------------
// linking (point 4)
// ---------------------------------------------------------------------------

async fn local_user(store: &dyn Database, name: &str, email: &str) -> i64 {
    let hash = cheap_hasher().hash("local-password").await.unwrap();
    store
        .create_user(
            &NewUser {
                username: name.into(),
                password_hash: hash,
                email: email.into(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
            },
            epoch_now(),
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn an_existing_email_is_linked_only_when_verified_and_allowed() {
    let p = need_provider!();
    // Linking by e-mail off: a clear refusal, nothing linked.
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let dora = local_user(&*app.store, "dora", "dora@example.com").await;
    let before = footprint(&*app.store).await;
    let token = native_id_token(p, "dora", "n").await;
    let res = sign_in(&app, &token, None).await;
    refused(&res, 409, "account_exists");
    assert!(app.store.identities_of(dora).await.unwrap().is_empty());
    assert_eq!(footprint(&*app.store).await, before);

    // On, but the provider does not vouch for the address: refused.
    let app = oidc_app(TestDb::sqlite(), &issuer(p), true, &[]).await;
    let dora = local_user(&*app.store, "dora", "Dora@Example.com").await;
    let token = native_id_token(p, "dora-unverified", "n").await;
    let res = sign_in(&app, &token, None).await;
    refused(&res, 409, "account_exists");
    assert!(app.store.identities_of(dora).await.unwrap().is_empty());

    // On and verified: linked to the existing account.
    let token = native_id_token(p, "dora", "n").await;
    let res = sign_in(&app, &token, None).await;
    res.expect_status(200);
    assert_eq!(
        claims_of(&res.str("access"))["user_id"],
        json!(dora.to_string())
    );
    assert_eq!(app.store.identities_of(dora).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_taken_username_gets_a_suffix_and_unverified_emails_are_not_kept() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), true, &[]).await;
    local_user(&*app.store, "lee", "someone-else@example.org").await;
    let token = native_id_token(p, "lee-unverified", "n").await;
    // "lee-unverified" is the provider's username; its address is lee@example.com.
    let res = sign_in(&app, &token, None).await;
    res.expect_status(200);
    let id: i64 = claims_of(&res.str("access"))["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let user = app.store.user_by_id(id).await.unwrap().unwrap();
    assert_eq!(user.username, "lee-unverified");
    assert_eq!(user.email, "", "an unverified address is not kept");
    // Same preferred username from a second person: a suffixed name.
    let token = minted(
        p,
        "key-1",
        json!({"sub": "sub-other-lee", "preferred_username": "lee"}),
    )
    .await;
    let res = sign_in(&app, &token, None).await;
    res.expect_status(200);
    let id: i64 = claims_of(&res.str("access"))["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let user = app.store.user_by_id(id).await.unwrap().unwrap();
    assert!(
        user.username.starts_with("lee-") && user.username.len() == 12,
        "{}",
        user.username
    );
}

#[tokio::test]
async fn a_signed_in_user_links_lists_and_unlinks_but_never_the_last_way_in() {
    let p = need_provider!();
    let app = oidc_app(TestDb::sqlite(), &issuer(p), false, &[]).await;
    let (_, access) = app.pair("alice").await;
    let bearer = format!("Bearer {access}");
    let token = native_id_token(p, "alice-social", "n").await;
    let link = Request::builder()
        .method("POST")
        .uri("/api/oidc/test/link/")
        .header(header::AUTHORIZATION, &bearer)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"id_token": token}).to_string()))
        .unwrap();
    let res = app.send(link).await;
    res.expect_status(201);
    let identity_id = res.json()["id"].as_i64().unwrap();
    // Linking the same identity again changes nothing and answers the link.
    let again = Request::builder()
        .method("POST")
        .uri("/api/oidc/test/link/")
        .header(header::AUTHORIZATION, &bearer)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"id_token": native_id_token(p, "alice-social", "n").await}).to_string(),
        ))
        .unwrap();
    let res = app.send(again).await;
    res.expect_status(201);
    assert_eq!(res.json()["id"].as_i64(), Some(identity_id));
    let list = Request::builder()
        .uri("/api/oidc/identities/")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::empty())
        .unwrap();
    let res = app.send(list).await;
    res.expect_status(200);
    assert_eq!(res.json()[0]["provider"], "test");
    // The same identity signs in as alice now.
    let res = sign_in(&app, &native_id_token(p, "alice-social", "n").await, None).await;
    assert_eq!(claims_of(&res.str("access"))["user_id"], json!("1"));
    // Alice has a password: unlinking is fine.
    let unlink = |id: i64, bearer: &str| {
        Request::builder()
            .method("DELETE")
            .uri(format!("/api/oidc/identities/{id}/"))
            .header(header::AUTHORIZATION, bearer)
            .body(Body::empty())
            .unwrap()
    };
    app.send(unlink(identity_id, &bearer))
        .await
        .expect_status(204);
    // A social-only account cannot remove its only identity.
    let res = sign_in(&app, &native_id_token(p, "max", "n").await, None).await;
    let max_bearer = format!("Bearer {}", res.str("access"));
    let max: i64 = claims_of(&res.str("access"))["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let max_identity = app.store.identities_of(max).await.unwrap()[0].id;
    let res = app.send(unlink(max_identity, &max_bearer)).await;
    refused(&res, 409, "last_sign_in_method");
    assert_eq!(app.store.identities_of(max).await.unwrap().len(), 1);
    // Nor link an identity that another account holds.
    let taken = Request::builder()
        .method("POST")
        .uri("/api/oidc/test/link/")
        .header(header::AUTHORIZATION, &bearer)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"id_token": native_id_token(p, "max", "n").await}).to_string(),
        ))
        .unwrap();
    refused(&app.send(taken).await, 409, "identity_taken");
    // Another user's identity id is not found.
    refused(
        &app.send(unlink(max_identity, &bearer)).await,
        404,
        "no_such_identity",
    );
}
