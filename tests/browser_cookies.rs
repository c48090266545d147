//! Browser sessions through the in-process router: with `AUTH_COOKIE` the
//! tokens travel as cookies (attributes, "stay logged in", the refresh
//! token read from its cookie, cookies cleared at logout), and every
//! cookie-authenticated unsafe request must pass the CSRF check — a refusal
//! is a 403 that changes nothing. With the default settings nothing of it
//! shows. The real-browser half is `tests/browser/`.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use common::*;
use http::{header, Request};
use serde_json::json;

const COOKIES: [(&str, &str); 2] = [("AUTH_COOKIE", "true"), ("AUTH_COOKIE_SECURE", "true")];
const ROTATE: [(&str, &str); 2] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
];

async fn cookie_app(extra: &[(&str, &str)]) -> TestApp {
    let mut pairs = COOKIES.to_vec();
    pairs.extend_from_slice(extra);
    app(TestDb::sqlite(), &pairs).await
}

/// The `Set-Cookie` lines of a response, by cookie name.
fn set_cookies(r: &Resp) -> BTreeMap<String, String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| {
            let line = v.to_str().unwrap().to_owned();
            let name = line.split('=').next().unwrap().to_owned();
            (name, line)
        })
        .collect()
}

/// The value of a `Set-Cookie` line.
fn value(line: &str) -> &str {
    line.split(';').next().unwrap().split_once('=').unwrap().1
}

/// A browser's cookie store, just enough for these tests (no paths: every
/// request here goes to a path the cookies are sent to).
#[derive(Default, Debug)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn take(&mut self, r: &Resp) {
        for (name, line) in set_cookies(r) {
            if line.contains("Max-Age=0") {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, value(&line).to_owned());
            }
        }
    }

    fn header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    fn csrf(&self) -> String {
        self.cookies["csrftoken"].clone()
    }

    /// A same-origin request from the page, as fetch() sends it.
    fn request(&self, method: &str, path: &str, csrf: Option<&str>, body: &str) -> Request<Body> {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "app.test")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, self.header())
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = csrf {
            b = b.header("x-csrftoken", token);
        }
        b.body(Body::from(body.to_owned())).unwrap()
    }
}

async fn browser_login(app: &TestApp, remember: bool) -> (Browser, Resp) {
    let body = json!({"username": "alice", "password": password_of("alice"), "remember": remember});
    let r = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/token/")
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    r.expect_status(200);
    let mut browser = Browser::default();
    browser.take(&r);
    (browser, r)
}

#[tokio::test]
async fn with_default_settings_no_cookie_is_set_or_read() {
    let app = app(TestDb::sqlite(), &[]).await;
    let r = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": password_of("alice"), "remember": true}),
        )
        .await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["refresh", "access"]);
    assert!(set_cookies(&r).is_empty());
    let access = r.str("access");
    let req = Request::builder()
        .uri("/api/protected/")
        .header(header::COOKIE, format!("access={access}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await.expect_status(401);
    let req = post("/api/token/refresh/", None, Body::empty());
    let mut req = req;
    req.headers_mut().insert(
        header::COOKIE,
        format!("refresh={}", r.str("refresh")).parse().unwrap(),
    );
    app.send(req)
        .await
        .expect(400, &json!({"refresh": ["This field is required."]}));
}

#[tokio::test]
async fn login_sets_httponly_token_cookies_and_a_readable_csrf_cookie() {
    let app = cookie_app(&[]).await;
    let (_, r) = browser_login(&app, false).await;
    assert_eq!(r.keys(), ["refresh", "access"]);
    let set = set_cookies(&r);
    let access = &set["access"];
    assert_eq!(value(access), r.str("access"));
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(access.contains(attr), "{attr}: {access}");
    }
    let refresh = &set["refresh"];
    assert_eq!(value(refresh), r.str("refresh"));
    assert!(refresh.contains("HttpOnly") && refresh.contains("Path=/api/token/"));
    let csrf = &set["csrftoken"];
    assert!(!csrf.contains("HttpOnly"), "{csrf}");
    assert_eq!(value(csrf).len(), 43, "32 random bytes, base64url");
    for line in set.values() {
        assert!(
            !line.contains("Max-Age=") || line.contains("Max-Age=0"),
            "session cookies: {line}"
        );
    }
}

#[tokio::test]
async fn remember_makes_the_cookies_outlive_the_browser_session_and_refresh_keeps_it() {
    let app = cookie_app(&ROTATE).await;
    let (mut browser, r) = browser_login(&app, true).await;
    let set = set_cookies(&r);
    assert!(
        set["refresh"].contains("Max-Age=86400"),
        "{}",
        set["refresh"]
    );
    assert!(set["access"].contains("Max-Age=300"), "{}", set["access"]);
    assert!(set["csrftoken"].contains("Max-Age=86400"));
    let csrf = browser.csrf();
    let r = app
        .send(browser.request("POST", "/api/token/refresh/", Some(&csrf), ""))
        .await;
    r.expect_status(200);
    let set = set_cookies(&r);
    assert!(
        set["refresh"].contains("Max-Age=86400"),
        "rotated, still remembered"
    );
    assert_eq!(value(&set["csrftoken"]), csrf, "the CSRF token is kept");
    browser.take(&r);
    assert_eq!(browser.cookies["refresh"], r.str("refresh"));
}

#[tokio::test]
async fn the_access_cookie_authenticates_and_the_header_still_wins() {
    let app = cookie_app(&[]).await;
    let (browser, r) = browser_login(&app, false).await;
    let res = app
        .send(browser.request("GET", "/api/protected/", None, ""))
        .await;
    res.expect(200, &json!({"message": "Welcome, alice!"}));
    let mut req = browser.request("GET", "/api/protected/", None, "");
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer nonsense".parse().unwrap());
    app.send(req).await.expect_status(401);
    // The header keeps working without any cookie.
    app.protected(&r.str("access")).await.expect_status(200);
}

#[tokio::test]
async fn refresh_verify_and_blacklist_read_the_cookie_when_the_body_has_none() {
    let app = cookie_app(&[]).await;
    let (mut browser, _) = browser_login(&app, false).await;
    let csrf = browser.csrf();
    let r = app
        .send(browser.request("POST", "/api/token/verify/", Some(&csrf), ""))
        .await;
    r.expect(200, &json!({}));
    let r = app
        .send(browser.request("POST", "/api/token/refresh/", Some(&csrf), "{}"))
        .await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["access"]);
    assert_eq!(value(&set_cookies(&r)["access"]), r.str("access"));
    browser.take(&r);
    let old_refresh = browser.cookies["refresh"].clone();
    let r = app
        .send(browser.request("POST", "/api/token/blacklist/", Some(&csrf), ""))
        .await;
    r.expect(200, &json!({}));
    let set = set_cookies(&r);
    for name in ["access", "refresh", "refresh-remember", "csrftoken"] {
        assert!(set[name].contains("Max-Age=0"), "{name} cleared: {:?}", set);
    }
    assert!(set["refresh"].contains("Path=/api/token/"));
    browser.take(&r);
    assert!(browser.cookies.is_empty());
    // The refresh token of the cookie is dead, whoever presents it.
    app.refresh(&old_refresh).await.expect_status(401);
}

#[tokio::test]
async fn the_refresh_token_can_be_kept_out_of_json() {
    let app = cookie_app(&[
        ("AUTH_COOKIE_REFRESH_IN_BODY", "false"),
        ("ROTATE_REFRESH_TOKENS", "true"),
    ])
    .await;
    let (browser, r) = browser_login(&app, false).await;
    assert_eq!(r.keys(), ["access"]);
    assert!(browser.cookies.contains_key("refresh"));
    let r = app
        .send(browser.request("POST", "/api/token/refresh/", Some(&browser.csrf()), ""))
        .await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["access"]);
    assert!(
        set_cookies(&r).contains_key("refresh"),
        "rotated into its cookie"
    );
}

#[tokio::test]
async fn host_prefix_and_samesite_are_applied() {
    let app = cookie_app(&[
        ("AUTH_COOKIE_HOST_PREFIX", "true"),
        ("AUTH_COOKIE_SAMESITE", "Strict"),
    ])
    .await;
    let (browser, r) = browser_login(&app, false).await;
    let set = set_cookies(&r);
    assert!(set["__Host-access"].contains("SameSite=Strict"));
    assert!(set["__Host-access"].contains("Path=/;") || set["__Host-access"].ends_with("Path=/"));
    assert!(set.contains_key("__Secure-refresh"));
    let csrf = browser.cookies["__Host-csrftoken"].clone();
    let r = app
        .send(browser.request("POST", "/api/token/refresh/", Some(&csrf), ""))
        .await;
    r.expect_status(200);
}

// ==========================================================================
// CSRF
// ==========================================================================

/// A refused request answers 403 with the reason and changes nothing: with
/// rotation and blacklisting on, the refresh token still works afterwards.
async fn refused(app: &TestApp, browser: &Browser, req: Request<Body>, detail: &str) {
    let r = app.send(req).await;
    r.expect(403, &json!({"detail": detail}));
    assert!(set_cookies(&r).is_empty());
    let r = app
        .send(browser.request(
            "POST",
            "/api/token/verify/",
            Some(&browser.csrf()),
            &json!({"token": browser.cookies["refresh"]}).to_string(),
        ))
        .await;
    r.expect(200, &json!({}));
}

#[tokio::test]
async fn cookie_requests_without_the_csrf_token_are_refused_and_change_nothing() {
    let app = cookie_app(&ROTATE).await;
    let (browser, _) = browser_login(&app, false).await;
    let missing = browser.request("POST", "/api/token/refresh/", None, "");
    refused(&app, &browser, missing, "CSRF Failed: CSRF token missing.").await;
    let wrong = browser.request("POST", "/api/token/refresh/", Some("x"), "");
    refused(&app, &browser, wrong, "CSRF Failed: CSRF token incorrect.").await;
    let logout = browser.request("POST", "/api/token/blacklist/", None, "");
    refused(&app, &browser, logout, "CSRF Failed: CSRF token missing.").await;
    let mut no_cookie = Browser {
        cookies: browser.cookies.clone(),
    };
    no_cookie.cookies.remove("csrftoken");
    let req = no_cookie.request("POST", "/api/token/refresh/", Some(&browser.csrf()), "");
    refused(&app, &browser, req, "CSRF Failed: CSRF cookie not set.").await;
}

#[tokio::test]
async fn a_form_posted_from_another_origin_is_refused() {
    let app = cookie_app(&ROTATE).await;
    let (browser, _) = browser_login(&app, false).await;
    let cross = |path: &str| {
        Request::builder()
            .method("POST")
            .uri(path)
            .header(header::HOST, "app.test")
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://evil.test")
            .header(header::COOKIE, browser.header())
            // Even a guessed token does not help: the origin is checked first.
            .header("x-csrftoken", browser.csrf())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("a=b"))
            .unwrap()
    };
    let detail =
        "CSRF Failed: Origin checking failed - the request does not come from a trusted origin.";
    refused(&app, &browser, cross("/api/token/refresh/"), detail).await;
    refused(&app, &browser, cross("/api/token/blacklist/"), detail).await;
    refused(&app, &browser, cross("/api/protected/"), detail).await;
    // Without Sec-Fetch-Site, the Origin must match the Host.
    let mut req = cross("/api/token/refresh/");
    req.headers_mut().remove("sec-fetch-site");
    refused(&app, &browser, req, detail).await;
    // A login from another site is refused too (login CSRF).
    let login = Request::builder()
        .method("POST")
        .uri("/api/token/")
        .header("sec-fetch-site", "cross-site")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=alice&password={}",
            password_of("alice")
        )))
        .unwrap();
    app.send(login)
        .await
        .expect(403, &json!({"detail": detail}));
}

#[tokio::test]
async fn an_authorization_header_of_another_scheme_does_not_exempt_a_cookie_request() {
    // A browser attaches Basic credentials it has cached for the site (a
    // staging site behind basic auth) by itself, even on a request another
    // site makes it send; the cookie then authenticates the request, so the
    // check must still apply. Only a header of AUTH_HEADER_TYPES' scheme,
    // which no other site can make the browser send, exempts a request.
    let app = cookie_app(&ROTATE).await;
    let (browser, _) = browser_login(&app, false).await;
    let cross = |method: &str, path: &str, authorization: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "app.test")
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://evil.test")
            .header(header::COOKIE, browser.header())
            .header(header::AUTHORIZATION, authorization)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(""))
            .unwrap()
    };
    let detail =
        "CSRF Failed: Origin checking failed - the request does not come from a trusted origin.";
    for authorization in ["Basic dXNlcjpwYXNz", "bearer x", "Negotiate abc", ""] {
        for (method, path) in [
            ("POST", "/api/token/refresh/"),
            ("POST", "/api/token/logout/?scope=global"),
            ("POST", "/api/token/blacklist/"),
            ("POST", "/api/protected/"),
        ] {
            refused(&app, &browser, cross(method, path, authorization), detail).await;
        }
    }
    // The session list still holds the login: nothing was ended.
    let r = app
        .send(browser.request("GET", "/api/sessions/", None, ""))
        .await;
    r.expect_status(200);
    assert_eq!(r.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn trusted_origins_pass() {
    let app = cookie_app(&[("CSRF_TRUSTED_ORIGINS", "https://app.example.com")]).await;
    let (browser, _) = browser_login(&app, false).await;
    let mut req = browser.request("POST", "/api/token/refresh/", Some(&browser.csrf()), "");
    req.headers_mut()
        .insert("sec-fetch-site", "same-site".parse().unwrap());
    req.headers_mut()
        .insert(header::ORIGIN, "https://app.example.com".parse().unwrap());
    app.send(req).await.expect_status(200);
}

#[tokio::test]
async fn header_and_body_authenticated_requests_are_not_affected() {
    let app = cookie_app(&[]).await;
    let (refresh, access) = app.pair("alice").await;
    // No cookie: a client that is no browser, even cross-site.
    let mut req = post(
        "/api/token/refresh/",
        Some("application/json"),
        json!({"refresh": refresh}).to_string(),
    );
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    app.send(req).await.expect_status(200);
    let (browser, _) = browser_login(&app, false).await;
    let mut req = browser.request("POST", "/api/protected/", None, "");
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {access}").parse().unwrap(),
    );
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    // Authenticated by the header: no CSRF check, DRF's 405.
    app.send(req).await.expect_status(405);
}

#[test]
fn cookie_settings_that_cannot_work_are_refused() {
    let refused = |pairs: &[(&str, &str)], setting: &str| {
        let e = simplejwt::Settings::from_pairs(pairs.iter().copied()).unwrap_err();
        assert_eq!(e.setting, setting, "{e}");
    };
    refused(
        &[
            ("AUTH_COOKIE_SECURE", "false"),
            ("AUTH_COOKIE_HOST_PREFIX", "true"),
        ],
        "AUTH_COOKIE_HOST_PREFIX",
    );
    refused(
        &[
            ("AUTH_COOKIE_SECURE", "false"),
            ("AUTH_COOKIE_SAMESITE", "None"),
        ],
        "AUTH_COOKIE_SAMESITE",
    );
    refused(&[("CSRF_COOKIE_NAME", "access")], "CSRF_COOKIE_NAME");
    refused(
        &[("CSRF_TRUSTED_ORIGINS", "https://a.example/path")],
        "CSRF_TRUSTED_ORIGINS",
    );
    let s =
        simplejwt::Settings::from_pairs([("AUTH_COOKIE", "true"), ("AUTH_COOKIE_SECURE", "false")])
            .unwrap();
    assert!(s
        .warnings()
        .iter()
        .any(|w| w.contains("AUTH_COOKIE_SECURE")));
}

#[tokio::test]
async fn the_example_page_is_served_with_a_strict_policy_in_cookie_mode_only() {
    let app = cookie_app(&[]).await;
    let r = app.send(bare("GET", "/")).await;
    r.expect_status(200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = r.text();
    assert!(html.contains(r#"content="csrftoken""#) && html.contains(r#"content="x-csrftoken""#));
    assert!(!html.contains("<script>"), "no inline script");
    for path in ["/static/app.js", "/static/style.css"] {
        let r = app.send(bare("GET", path)).await;
        r.expect_status(200);
        assert!(r.header("content-security-policy").is_some());
    }
    let plain = common::app(TestDb::sqlite(), &[]).await;
    plain.send(bare("GET", "/")).await.expect_status(404);
}

// ==========================================================================
// logout scopes and the device list (sessions) with cookies
// ==========================================================================

#[tokio::test]
async fn logout_reads_the_cookie_and_clears_them_except_for_others() {
    let app = cookie_app(&ROTATE).await;
    let (browser, _) = browser_login(&app, true).await;
    let (other, _) = browser_login(&app, false).await;
    let csrf = browser.csrf();
    let missing = browser.request("POST", "/api/token/logout/", None, "");
    refused(&app, &browser, missing, "CSRF Failed: CSRF token missing.").await;
    // Ending the other sessions keeps this browser's cookies.
    let r = app
        .send(browser.request("POST", "/api/token/logout/?scope=others", Some(&csrf), ""))
        .await;
    r.expect(200, &json!({}));
    assert!(set_cookies(&r).is_empty());
    let r = app
        .send(other.request("POST", "/api/token/refresh/", Some(&other.csrf()), ""))
        .await;
    r.expect_status(401);
    // Ending this one clears them, and the refresh token is dead.
    let refresh = browser.cookies["refresh"].clone();
    let r = app
        .send(browser.request("POST", "/api/token/logout/", Some(&csrf), ""))
        .await;
    r.expect(200, &json!({}));
    let set = set_cookies(&r);
    for name in ["access", "refresh", "refresh-remember", "csrftoken"] {
        assert!(set[name].contains("Max-Age=0"), "{name} cleared: {set:?}");
    }
    app.refresh(&refresh).await.expect_status(401);
}

#[tokio::test]
async fn the_device_list_takes_the_access_cookie_and_ending_a_session_needs_the_csrf_token() {
    let app = cookie_app(&ROTATE).await;
    let (browser, _) = browser_login(&app, false).await;
    let (other, _) = browser_login(&app, false).await;
    let r = app
        .send(browser.request("GET", "/api/sessions/", None, ""))
        .await;
    r.expect_status(200);
    let sessions = r.json();
    let ids: Vec<String> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{sessions}");
    let path = format!("/api/sessions/{}/", ids[1]);
    let r = app.send(browser.request("DELETE", &path, None, "")).await;
    r.expect(403, &json!({"detail": "CSRF Failed: CSRF token missing."}));
    let count = |r: Resp| r.json().as_array().unwrap().len();
    let list = || browser.request("GET", "/api/sessions/", None, "");
    assert_eq!(
        count(app.send(list()).await),
        2,
        "the refusal ended nothing"
    );
    let r = app
        .send(browser.request("DELETE", &path, Some(&browser.csrf()), ""))
        .await;
    r.expect_status(204);
    assert_eq!(count(app.send(list()).await), 1);
    let r = app
        .send(other.request("POST", "/api/token/refresh/", Some(&other.csrf()), ""))
        .await;
    assert_eq!(r.status, 401, "the ended session cannot refresh");
}

#[tokio::test]
async fn an_applications_own_routes_take_the_access_cookie_behind_the_csrf_guard() {
    use axum::routing::{get, post};
    use simplejwt::http::csrf::{self, CsrfRule};
    use simplejwt::{MaybeAuthUser, TokenAuth};

    let app = cookie_app(&[]).await;
    let (browser, _) = browser_login(&app, false).await;
    let guard =
        axum::middleware::from_fn_with_state((app.service.clone(), CsrfRule::Session), csrf::guard);
    let theirs: axum::Router = axum::Router::new()
        .route(
            "/maybe",
            get(|MaybeAuthUser(u): MaybeAuthUser| async move {
                u.map_or("anonymous".to_owned(), |u| u.user.username)
            }),
        )
        .route(
            "/order",
            post(|TokenAuth(u): TokenAuth| async move { u.id }),
        )
        .layer(guard)
        .with_state(app.service.clone());
    let r = send(&theirs, browser.request("GET", "/maybe", None, "")).await;
    assert_eq!((r.status.as_u16(), r.text()), (200, "alice".to_owned()));
    let r = send(&theirs, bare("GET", "/maybe")).await;
    assert_eq!(r.text(), "anonymous");
    let r = send(&theirs, browser.request("POST", "/order", None, "")).await;
    r.expect(403, &json!({"detail": "CSRF Failed: CSRF token missing."}));
    let r = send(
        &theirs,
        browser.request("POST", "/order", Some(&browser.csrf()), ""),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.text()), (200, "1".to_owned()));
}
