//! The OpenAPI document and Swagger UI (issue 18, point 1): `GET
//! /api/schema/` is an OpenAPI 3.1 document whose every `$ref` resolves; it
//! lists exactly the routes the server mounts under its settings, each
//! documented method answered and every other one refused; real answers of
//! the endpoints validate against the schemas it gives for their status;
//! `GET /api/docs/` serves Swagger UI from the binary, with nothing loaded
//! from another origin. (`tests/schemathesis/run.sh` fuzzes the running
//! binary from the same document in CI.)

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use common::*;
use http::Request;
use serde_json::{json, Value};
use simplejwt::http::{server_routes, AppState};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

async fn document(app: &TestApp) -> Value {
    let r = app.send(bare("GET", "/api/schema/")).await;
    r.expect_status(200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

/// Every `$ref` in `v`, as written.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(s)) => out.push(s.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{reference}: not a local reference"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

/// A concrete path for a template (`{id}` → `1`).
fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in template.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push('1');
            }
            _ if in_param => {}
            c => out.push(c),
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            out.insert((path.clone(), method.to_ascii_uppercase()));
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_reference_resolves() {
    let app = app(TestDb::sqlite(), &[("OAUTH_TOKEN_ENDPOINTS", "true")]).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "simplejwt");
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 20, "few references: {all:?}");
    for reference in &all {
        resolve(&doc, reference);
    }
    // Operation ids are unique, every operation answers something.
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "{id} twice");
            assert!(
                !op["responses"].as_object().unwrap().is_empty(),
                "{method} {path}"
            );
        }
    }
    // The error shapes are described once, as components.
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Detail",
        "DetailCode",
        "DetailCodeMessages",
        "FieldErrors",
        "Error",
    ] {
        assert!(schemas[name].is_object(), "{name}");
    }
    assert_eq!(
        schemas["Login"]["required"],
        json!(["username", "password"]),
        "the body's fields come from its extractor"
    );
}

/// The document of `pairs` lists exactly `server_routes`' routes; each
/// documented method is answered, every other method refused with 405.
async fn lists_exactly_the_mounted_routes(pairs: &[(&str, &str)]) {
    let app = app(TestDb::sqlite(), pairs).await;
    let doc = document(&app).await;
    let table = server_routes(AppState::new(app.service.clone()));
    let mounted: BTreeSet<String> = table.paths().map(str::to_owned).collect();
    let in_doc: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(in_doc, mounted, "{pairs:?}");

    let (_, access) = app.pair("alice").await;
    let bearer = format!("Bearer {access}");
    let ops = documented(&doc);
    for path in &mounted {
        for method in METHODS {
            let req = Request::builder()
                .method(method)
                .uri(concrete(path))
                .header("authorization", &bearer)
                .body(Body::empty())
                .unwrap();
            let status = app.send(req).await.status.as_u16();
            let key = (path.clone(), method.to_owned());
            if ops.contains(&key) {
                let op = &doc["paths"][path][method.to_ascii_lowercase()];
                assert_ne!(status, 405, "{method} {path} is documented, refused");
                if status == 404 {
                    assert!(op["responses"]["404"].is_object(), "{method} {path}: 404");
                }
            } else {
                assert_eq!(status, 405, "{method} {path} is not documented, answered");
            }
        }
    }
    let missing = app.send(bare("GET", "/api/nope/")).await;
    missing.expect_status(404);
}

#[tokio::test]
async fn the_document_lists_exactly_the_mounted_routes_by_default() {
    lists_exactly_the_mounted_routes(&[]).await;
}

#[tokio::test]
async fn the_document_follows_the_settings_that_mount_routes() {
    lists_exactly_the_mounted_routes(&[
        ("OAUTH_TOKEN_ENDPOINTS", "true"),
        ("AUTH_COOKIE", "true"),
        ("LOGIN_THROTTLE", "true"),
    ])
    .await;
    // Social login's routes: the provider is never reached (its answers
    // here are 404 for an unknown provider, 400, 401 or 503).
    let providers = json!([{
        "name": "example",
        "issuer": "http://127.0.0.1:9",
        "client_id": "web",
        "client_secret": "web-secret",
        "callback_url": "http://127.0.0.1:9/cb",
        "redirect_uris": ["http://127.0.0.1:9/app"],
    }])
    .to_string();
    lists_exactly_the_mounted_routes(&[("OIDC_PROVIDERS", providers.as_str())]).await;
    let app = app(TestDb::sqlite(), &[("AUTH_COOKIE", "true")]).await;
    let doc = document(&app).await;
    assert!(doc["paths"]["/"]["get"].is_object(), "the example page");
    assert_eq!(
        doc["components"]["schemas"]["RefreshField"].get("required"),
        None,
        "with AUTH_COOKIE the refresh token may come from its cookie"
    );
}

#[tokio::test]
async fn openapi_off_mounts_neither_path() {
    let app = app(TestDb::sqlite(), &[("OPENAPI", "false")]).await;
    for path in [
        "/api/schema/",
        "/api/docs/",
        "/api/docs/swagger-ui-bundle.js",
    ] {
        app.send(bare("GET", path)).await.expect_status(404);
    }
    let table = server_routes(AppState::new(app.service.clone()));
    let doc = serde_json::to_value(table.openapi_document()).unwrap();
    assert!(doc["paths"]["/api/token/"]["post"].is_object());
    assert!(doc["paths"].get("/api/schema/").is_none());
}

fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary_with_nothing_from_elsewhere() {
    let app = app(TestDb::sqlite(), &[]).await;
    let page = app.send(bare("GET", "/api/docs/")).await;
    page.expect_status(200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let csp = page.header("content-security-policy").unwrap().to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    for directive in csp.split(';') {
        for source in directive.split_whitespace().skip(1) {
            assert!(
                ["'none'", "'self'", "data:"].contains(&source),
                "{directive}: only this origin"
            );
        }
    }
    let html = page.text();
    assert!(
        !html.contains("http:") && !html.contains("https:"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "no inline script");
    assert_eq!(attribute_values(&html, "data-schema-url"), ["/api/schema/"]);
    let files: Vec<&str> = attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
        .collect();
    assert_eq!(
        files,
        ["swagger-ui-bundle.js", "swagger-init.js", "swagger-ui.css"]
    );
    for file in files {
        let r = app.send(bare("GET", &format!("/api/docs/{file}"))).await;
        r.expect_status(200);
        let expected = if file.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(r.header("content-type"), Some(expected), "{file}");
        assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
        assert!(r.body.len() > 100, "{file}");
        if file == "swagger-init.js" {
            let js = r.text();
            assert!(!js.contains("http:") && !js.contains("https:"), "{js}");
            assert!(js.contains("validatorUrl: null"));
        }
    }
    // The vendored files are the ones their checksums name.
    let sums = include_str!("../assets/swagger-ui/SHA256SUMS");
    assert!(sums.contains("swagger-ui-bundle.js") && sums.contains("swagger-ui.css"));
}

/// The schema the document gives for `status` of `method path`, with the
/// components beside it so its references resolve.
fn answer_schema(doc: &Value, path: &str, method: &str, status: u16) -> Option<Value> {
    let mut response = &doc["paths"][path][method]["responses"][status.to_string()];
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        response = resolve(doc, reference);
    }
    let schema = response
        .get("content")?
        .get("application/json")?
        .get("schema")?;
    let mut schema = schema.clone();
    schema
        .as_object_mut()?
        .insert("components".into(), doc["components"].clone());
    Some(schema)
}

fn conforms(doc: &Value, method: &str, path: &str, r: &Resp) {
    let status = r.status.as_u16();
    let schema = answer_schema(doc, path, method, status)
        .unwrap_or_else(|| panic!("{method} {path}: {status} is not documented with JSON"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
    let body = r.json();
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} {body}: {errors:?}"
    );
}

#[tokio::test]
async fn real_answers_validate_against_the_document() {
    let app = app(
        TestDb::sqlite(),
        &[
            ("ROTATE_REFRESH_TOKENS", "true"),
            ("BLACKLIST_AFTER_ROTATION", "true"),
            ("OAUTH_TOKEN_ENDPOINTS", "true"),
        ],
    )
    .await;
    let doc = document(&app).await;
    let post = |path: &'static str, body: Value| {
        let app = &app;
        async move { (path, app.post_json(path, &body).await) }
    };
    let alice = password_of("alice");
    let mut answers = vec![
        post(
            "/api/token/",
            json!({"username": "alice", "password": alice}),
        )
        .await,
        post("/api/token/", json!({})).await,
        post(
            "/api/token/",
            json!({"username": "alice", "password": "wrong"}),
        )
        .await,
        post(
            "/api/token/sliding/",
            json!({"username": "alice", "password": "x"}),
        )
        .await,
        post("/api/token/refresh/", json!({"refresh": "not.a.token"})).await,
        post("/api/token/verify/", json!({"token": "not.a.token"})).await,
        post("/api/token/verify/", json!([])).await,
        post("/api/token/blacklist/", json!({})).await,
        post("/api/token/revoke/", json!({})).await,
    ];
    let (refresh, _) = app.pair("alice").await;
    let rotated = post("/api/token/refresh/", json!({"refresh": refresh})).await;
    answers.push(post("/api/token/verify/", json!({"token": refresh})).await);
    answers.push(rotated);
    let (refresh, access) = app.pair("alice").await;
    answers.push(post("/api/token/verify/", json!({"token": access})).await);
    answers.push(post("/api/token/blacklist/", json!({"refresh": refresh})).await);
    answers.push(post("/api/token/blacklist/", json!({"refresh": refresh})).await);
    answers.push((
        "/api/token/",
        app.post_raw("/api/token/", Some("text/plain"), "x").await,
    ));
    answers.push((
        "/api/token/",
        app.post_raw("/api/token/", Some("application/json"), "{")
            .await,
    ));
    let statuses: BTreeSet<u16> = answers.iter().map(|(_, r)| r.status.as_u16()).collect();
    assert_eq!(
        statuses,
        BTreeSet::from([200, 400, 401, 415]),
        "the cases cover each answer"
    );
    for (path, r) in &answers {
        conforms(&doc, "post", path, r);
    }
    // The protected view: a welcome, and 401 with `messages`.
    let get = |path: &str, auth: Option<String>| {
        let mut req = Request::builder().uri(path);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.body(Body::empty()).unwrap()
    };
    for (path, auth) in [
        ("/api/protected/", Some(format!("Bearer {access}"))),
        ("/api/protected/", Some("Bearer not.a.token".to_owned())),
        ("/api/protected/", None),
        ("/api/sessions/", Some(format!("Bearer {access}"))),
        ("/healthz", None),
        ("/readyz", None),
        ("/.well-known/jwks.json", None),
    ] {
        let r = app.send(get(path, auth)).await;
        conforms(&doc, "get", path, &r);
    }
    let options = app.send(bare("OPTIONS", "/api/token/refresh/")).await;
    conforms(&doc, "options", "/api/token/refresh/", &options);
}

#[tokio::test]
async fn a_request_deadline_documents_its_408() {
    let app = app(TestDb::sqlite(), &[]).await;
    let doc = |timeout: Option<std::time::Duration>| {
        let mut state = AppState::new(app.service.clone());
        state.request_timeout = timeout;
        serde_json::to_value(server_routes(state).openapi_document()).unwrap()
    };
    let without = doc(None);
    assert!(without["paths"]["/api/token/"]["post"]["responses"]
        .get("408")
        .is_none());
    let with = doc(Some(std::time::Duration::from_secs(5)));
    for (path, item) in with["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert_eq!(
                op["responses"]["408"]["$ref"], "#/components/responses/RequestTimeout",
                "{method} {path}"
            );
        }
    }
}
