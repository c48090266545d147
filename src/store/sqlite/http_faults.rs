//! A full SQLite database seen from HTTP: logins (which write) answer 503
//! with `Retry-After` and the `service_unavailable` body while the disk is
//! "full" (`PRAGMA max_page_count` on the writer's own connection, no root
//! needed), reads — protected and verify — keep answering 200, the fault is
//! counted once rather than logged per request, and the first login after
//! the limit is raised succeeds.

use std::sync::Arc;

use axum::body::Body;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

use super::tests::{limit_pages, migrated, token};
use crate::http::{app, AppState};
use crate::password::{HasherConfig, PasswordHasher};
use crate::service::AuthService;
use crate::settings::Settings;
use crate::store::{Database, NewUser, StoreOptions, TokenStore as _};

async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, retry_after, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_answers_503_with_retry_after_reads_go_on_and_logins_recover() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(migrated(&dir, &StoreOptions::default()).await);
    let hasher = PasswordHasher::new(HasherConfig::default()).unwrap();
    let password = "alice-Password-1";
    db.create_user(
        &NewUser {
            username: "alice".into(),
            password_hash: hasher.hash(password).await.unwrap(),
            email: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
        },
        0,
    )
    .await
    .unwrap();
    let settings =
        Settings::from_pairs([("SIGNING_KEY", "a-secret-of-at-least-32-bytes-length!!")]).unwrap();
    let store: Arc<dyn Database> = db.clone();
    let router = app(AppState::new(
        AuthService::new(settings, store, hasher).unwrap(),
    ));
    let login = json!({"username": "alice", "password": password});

    let (status, _, pair) = call(&router, "POST", "/api/token/", Some(login.clone()), None).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let access = pair["access"].as_str().unwrap().to_owned();

    // Fill the database to its last page: rows of decreasing size, so the
    // last leaf of the tokens table cannot take even a small one (a login's
    // row is larger than the last filler's).
    limit_pages(&db, None).await;
    let mut n = 0;
    for padding in [300, 60, 0] {
        let padding = "x".repeat(padding);
        while db
            .add_outstanding(&token(&format!("{n:06}-{padding}")))
            .await
            .is_ok()
        {
            n += 1;
            assert!(n < 10_000, "the page limit never bit");
        }
    }

    let unavailable = json!({
        "detail": "Service temporarily unavailable, try again later.",
        "code": "service_unavailable"
    });
    for _ in 0..3 {
        let answer = call(&router, "POST", "/api/token/", Some(login.clone()), None).await;
        assert_eq!(
            answer,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("1".to_owned()),
                unavailable.clone()
            )
        );
    }
    // One fault, counted (and logged once when it began), not one per request.
    assert!(db.writer.faults().is_failing());
    assert!(
        db.writer.faults().failures() >= 4,
        "the filling write and three logins"
    );

    // Reads keep working.
    let (status, _, body) = call(&router, "GET", "/api/protected/", None, Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = call(
        &router,
        "POST",
        "/api/token/verify/",
        Some(json!({"token": access})),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));

    // The cause goes away: the very next login succeeds.
    limit_pages(&db, Some(1 << 30)).await;
    let (status, _, body) = call(&router, "POST", "/api/token/", Some(login), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!db.writer.faults().is_failing());
}
