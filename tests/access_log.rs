//! The access log, captured from the server's own subscriber
//! (`simplejwt::logging::subscriber`) in both formats: one line per request
//! at `info` with method, path, status, latency and request id, the user id
//! once known; the request id taken from a valid `X-Request-Id`, generated
//! otherwise, echoed in the answer and on every line of the request; and no
//! token, password or body anywhere in the output.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use common::*;
use http::Request;
use serde_json::{json, Value};
use simplejwt::settings::server::LogFormat;

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("UTF-8 log")
    }

    fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

/// Installs the server's subscriber (for this thread: the tests run on a
/// current-thread runtime, so every request is served here).
fn capture(format: LogFormat) -> (Capture, tracing::subscriber::DefaultGuard) {
    let out = Capture::default();
    let writer = out.clone();
    let subscriber = simplejwt::logging::subscriber("info", format, false, move || writer.clone());
    (out, tracing::subscriber::set_default(subscriber))
}

fn json_post(path: &str, body: &Value, request_id: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    if let Some(id) = request_id {
        b = b.header("x-request-id", id);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn get(path: &str, bearer: Option<&str>, request_id: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method("GET").uri(path);
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if let Some(id) = request_id {
        b = b.header("x-request-id", id);
    }
    b.body(Body::empty()).unwrap()
}

fn access_lines_human(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| l.contains("simplejwt::access"))
        .collect()
}

#[tokio::test]
async fn one_human_access_line_per_request_with_its_fields_and_no_secret() {
    let app = app(TestDb::sqlite(), &[]).await;
    let (out, _guard) = capture(LogFormat::Human);

    let password = password_of("alice");
    let login = json!({"username": "alice", "password": password});
    let r = app
        .send(json_post("/api/token/", &login, Some("login-1")))
        .await;
    r.expect_status(200);
    assert_eq!(r.header("x-request-id"), Some("login-1"));
    let (refresh, access) = (r.str("refresh"), r.str("access"));

    let r = app
        .send(get(
            "/api/protected/?token=in-the-query",
            Some(&access),
            Some("prot-2"),
        ))
        .await;
    r.expect_status(200);
    assert_eq!(r.header("x-request-id"), Some("prot-2"));

    let wrong = json!({"username": "alice", "password": "Wrong-Password-9"});
    app.send(json_post("/api/token/", &wrong, Some("fail-3")))
        .await
        .expect_status(401);
    app.send(get("/api/protected/", None, Some("anon-4")))
        .await
        .expect_status(401);
    let r = app
        .send(json_post(
            "/api/token/refresh/",
            &json!({"refresh": refresh}),
            None,
        ))
        .await;
    r.expect_status(200);
    let generated = r.header("x-request-id").expect("a generated id").to_owned();

    let lines = out.lines();
    let access_lines = access_lines_human(&lines);
    assert_eq!(
        access_lines.len(),
        5,
        "one access line per request:\n{}",
        out.text()
    );
    let expect = [
        ("login-1", "POST", "/api/token/", 200, Some(1)),
        ("prot-2", "GET", "/api/protected/", 200, Some(1)),
        // A refused login names nobody (its event line has the name tried).
        ("fail-3", "POST", "/api/token/", 401, None),
        ("anon-4", "GET", "/api/protected/", 401, None),
        (
            generated.as_str(),
            "POST",
            "/api/token/refresh/",
            200,
            Some(1),
        ),
    ];
    for (line, (id, method, path, status, user)) in access_lines.iter().zip(expect) {
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains(&format!("request_id=\"{id}\"")), "{line}");
        assert!(line.contains(&format!("method={method}")), "{line}");
        assert!(line.contains(&format!("path=\"{path}\"")), "{line}");
        assert!(line.contains(&format!("status={status}")), "{line}");
        assert!(line.contains("latency_ms="), "{line}");
        match user {
            Some(u) => assert!(line.contains(&format!("user_id={u}")), "{line}"),
            None => assert!(!line.contains("user_id"), "{line}"),
        }
    }
    // The failed login's event line carries its request id too.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("login_failed") && l.contains("request_id=\"fail-3\"")),
        "{}",
        out.text()
    );
    let all = out.text();
    for secret in [
        password,
        "Wrong-Password-9",
        &access,
        &refresh,
        "in-the-query",
    ] {
        assert!(!all.contains(secret), "the log shows {secret:?}:\n{all}");
    }
}

#[tokio::test]
async fn json_lines_carry_the_request_span_and_no_secret() {
    let app = app(TestDb::sqlite(), &[]).await;
    let (out, _guard) = capture(LogFormat::Json);
    let (refresh, access) = app.pair("alice").await;
    let r = app.send(get("/api/protected/", Some(&access), None)).await;
    r.expect_status(200);
    let id = r.header("x-request-id").expect("a generated id").to_owned();

    let lines: Vec<Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "simplejwt::access")
        .collect();
    assert_eq!(access_lines.len(), 2, "{lines:#?}");
    let line = access_lines[1];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["status"], 200);
    assert!(
        line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert_eq!(
        (
            &line["span"]["method"],
            &line["span"]["path"],
            &line["span"]["request_id"],
            &line["span"]["user_id"]
        ),
        (
            &json!("GET"),
            &json!("/api/protected/"),
            &json!(id),
            &json!(1)
        ),
        "{line}"
    );
    let all = out.text();
    for secret in [password_of("alice"), &access, &refresh] {
        assert!(!all.contains(secret), "the log shows {secret:?}:\n{all}");
    }
}

#[tokio::test]
async fn invalid_request_ids_are_replaced_by_generated_ones() {
    let app = app(TestDb::sqlite(), &[]).await;
    let (out, _guard) = capture(LogFormat::Human);
    let long = "a".repeat(129);
    for bad in ["has space", "quote\"d", long.as_str()] {
        let r = app.send(get("/healthz", None, Some(bad))).await;
        r.expect_status(200);
        let id = r.header("x-request-id").expect("an id").to_owned();
        assert_ne!(id, bad);
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    // Two copies of the header are not one id either.
    let req = Request::builder()
        .uri("/healthz")
        .header("x-request-id", "one")
        .header("x-request-id", "two")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    let id = r.header("x-request-id").expect("an id");
    assert_eq!(id.len(), 32, "{id}");
    let ok = "0f8c2b1e-6a44-4d1b-9d7e-2f1f5e9c3a10";
    let r = app.send(get("/healthz", None, Some(ok))).await;
    assert_eq!(r.header("x-request-id"), Some(ok));
    let all = out.text();
    assert!(!all.contains("has space") && !all.contains(&long), "{all}");
    assert_eq!(access_lines_human(&out.lines()).len(), 5, "{all}");
}
