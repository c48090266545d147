//! The audit log (issue 17, point 6) with `AUDIT_TABLE`: logins (success,
//! failure, throttled), refresh, reuse detection, logout and key changes
//! become `audit_events` rows naming the user, address and user agent —
//! and no row ever holds a token, a password or a key — on both databases;
//! `flushexpiredtokens` deletes rows older than `AUDIT_RETENTION`.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use common::*;
use serde_json::json;
use simplejwt::store::{AuditRecord, Database};

const AGENT: &str = "audit-test-agent/1.0";
const WRONG_PASSWORD: &str = "wrong-password-never-stored-1234";

fn from_client(mut req: http::Request<axum::body::Body>) -> http::Request<axum::body::Body> {
    req.headers_mut()
        .insert(http::header::USER_AGENT, AGENT.parse().unwrap());
    let addr = SocketAddr::new("192.0.2.7".parse().unwrap(), 40000);
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

fn json_post(path: &str, body: serde_json::Value) -> http::Request<axum::body::Body> {
    from_client(post(path, Some("application/json"), body.to_string()))
}

/// The audit rows once every name in `want` is among them (the writer is
/// asynchronous: bounded wait, then fail naming what is missing).
async fn rows_with(store: &dyn Database, want: &[&str]) -> Vec<AuditRecord> {
    let started = Instant::now();
    loop {
        let rows = store.recent_audit(1000).await.expect("audit rows");
        let missing: Vec<&&str> = want
            .iter()
            .filter(|w| !rows.iter().any(|r| r.event == **w))
            .collect();
        if missing.is_empty() {
            return rows;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "missing audit events {missing:?} in {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn every_event_is_recorded_without_secrets(db: TestDb) {
    let app = app(
        db,
        &[
            ("AUDIT_TABLE", "true"),
            ("ROTATE_REFRESH_TOKENS", "true"),
            ("BLACKLIST_AFTER_ROTATION", "true"),
            ("REFRESH_REUSE_DETECTION", "true"),
            ("LOGIN_THROTTLE", "true"),
            ("LOGIN_THROTTLE_FREE_FAILURES", "1"),
        ],
    )
    .await;
    let login = |password: &str| {
        json_post(
            "/api/token/",
            json!({"username": "alice", "password": password}),
        )
    };
    let r = app.send(login(password_of("alice"))).await;
    r.expect_status(200);
    let (access, refresh) = (r.str("access"), r.str("refresh"));
    let r = app
        .send(json_post(
            "/api/token/refresh/",
            json!({"refresh": refresh}),
        ))
        .await;
    r.expect_status(200);
    let rotated = r.str("refresh");
    // The rotated-out token again: reuse detected.
    app.send(json_post(
        "/api/token/refresh/",
        json!({"refresh": refresh}),
    ))
    .await
    .expect_status(401);
    let r = app.send(login(password_of("alice"))).await;
    let (access2, refresh2) = (r.str("access"), r.str("refresh"));
    app.send(json_post(
        "/api/token/blacklist/",
        json!({"refresh": refresh2}),
    ))
    .await
    .expect_status(200);
    app.send(login(WRONG_PASSWORD)).await.expect_status(401);
    app.send(login(WRONG_PASSWORD)).await.expect_status(429);

    let rows = rows_with(
        &*app.store,
        &[
            "login_succeeded",
            "rotated",
            "reuse_detected",
            "blacklisted",
            "login_failed",
            "login_throttled",
        ],
    )
    .await;
    let login = rows.iter().find(|r| r.event == "login_succeeded").unwrap();
    assert_eq!(login.user_id, Some(1));
    assert_eq!(login.username.as_deref(), Some("alice"));
    assert_eq!(login.ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(login.user_agent.as_deref(), Some(AGENT));
    let failed = rows.iter().find(|r| r.event == "login_failed").unwrap();
    assert_eq!(failed.username.as_deref(), Some("alice"));
    assert_eq!(failed.user_agent.as_deref(), Some(AGENT));

    // The attack surface: nothing secret in any column of any row.
    let dump = format!("{rows:?}");
    let mut secrets = vec![
        password_of("alice").to_owned(),
        WRONG_PASSWORD.to_owned(),
        SIGNING_KEY.to_owned(),
    ];
    for token in [&access, &refresh, &rotated, &access2, &refresh2] {
        secrets.extend(token.split('.').map(str::to_owned));
        let jti = claims_of(token)["jti"].as_str().unwrap().to_owned();
        secrets.push(jti);
    }
    for secret in secrets {
        assert!(!dump.contains(&secret), "{secret:?} in the audit rows");
    }
}

#[tokio::test]
async fn every_event_is_recorded_without_secrets_sqlite() {
    every_event_is_recorded_without_secrets(TestDb::sqlite()).await;
}

#[tokio::test]
#[cfg_attr(skip_postgres, ignore = "SIMPLEJWT_SKIP_POSTGRES=1")]
async fn every_event_is_recorded_without_secrets_postgres() {
    every_event_is_recorded_without_secrets(TestDb::postgres().await).await;
}

#[tokio::test]
async fn a_key_change_is_recorded_with_the_kids_and_not_the_keys() {
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = simplejwt::keys::dir::KeyDir::new(tmp.path().join("keys"));
    dir.import("hs-first", SIGNING_KEY, None).unwrap();
    let settings = simplejwt::settings::Settings::from_pairs([
        ("KEYS_DIR", dir.path().to_str().unwrap()),
        ("AUDIT_TABLE", "true"),
    ])
    .unwrap();
    let service =
        simplejwt::service::AuthService::new(settings, store.clone(), cheap_hasher()).unwrap();
    assert!(!service.reload_keys().unwrap(), "nothing changed yet");
    let second = "second-hmac-secret-for-the-audit-test-0123456789";
    dir.add("hs-second", second, None).unwrap();
    assert!(service.reload_keys().unwrap());
    let rows = rows_with(&*store, &["keys_changed"]).await;
    let change = rows.iter().find(|r| r.event == "keys_changed").unwrap();
    let detail = change.detail.as_deref().unwrap();
    assert!(detail.contains("signing=hs-first"), "{detail}");
    assert!(detail.contains("hs-second"), "{detail}");
    let dump = format!("{rows:?}");
    assert!(!dump.contains(second) && !dump.contains(SIGNING_KEY));
}

#[tokio::test]
async fn flushexpiredtokens_deletes_audit_rows_past_the_retention() {
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let now = epoch_now();
    let row = |event: &str, age_days: i64| AuditRecord {
        created_at: now - age_days * 86400,
        event: event.into(),
        user_id: Some(1),
        username: Some("alice".into()),
        ip: None,
        user_agent: None,
        detail: None,
    };
    store
        .record_audit(&[row("old", 40), row("recent", 20), row("today", 0)])
        .await
        .unwrap();
    store.close().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_simplejwt"))
        .arg("flushexpiredtokens")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("SIMPLE_JWT_SIGNING_KEY", SIGNING_KEY)
        .env("SIMPLE_JWT_AUDIT_RETENTION", "30d")
        .env("SIMPLEJWT_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Deleted 1 audit event(s) older than 30d"),
        "{stderr}"
    );
    let store = seeded_store_again(&db).await;
    let left: Vec<String> = store
        .recent_audit(10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(left, ["today", "recent"]);
}

/// The store over an already seeded database.
async fn seeded_store_again(db: &TestDb) -> std::sync::Arc<dyn Database> {
    simplejwt::store::connect(&db.url, &simplejwt::store::StoreOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_administrators_logout_password_change_and_deactivation_are_recorded() {
    use std::io::Write as _;
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    store.close().await;
    const NEW_PASSWORD: &str = "administrators-new-password-9876";
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simplejwt"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db.url)
            .env("SIMPLE_JWT_SIGNING_KEY", SIGNING_KEY)
            .env("SIMPLE_JWT_AUDIT_TABLE", "true")
            .env("SIMPLE_JWT_END_SESSIONS_ON_ACCOUNT_CHANGE", "true")
            .env("SIMPLEJWT_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
    };
    run(&["logout", "alice"], None);
    run(
        &["changepassword", "alice", "--password-stdin"],
        Some(&format!("{NEW_PASSWORD}\n")),
    );
    run(&["setactive", "alice", "false"], None);

    let store = seeded_store_again(&db).await;
    let mut rows = store.recent_audit(20).await.unwrap();
    rows.reverse(); // oldest first
    let seen: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.event.clone(), r.detail.clone().unwrap_or_default()))
        .collect();
    let expected = [
        ("logged_out", "by an administrator: all sessions (0)"),
        ("account_changed", "password changed by an administrator"),
        ("logged_out", "account change: all sessions (0)"),
        ("account_changed", "deactivated by an administrator"),
        ("logged_out", "account change: all sessions (0)"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(e, d)| (e.to_string(), d.to_string()))
        .collect();
    assert_eq!(seen, expected);
    for row in &rows {
        assert_eq!(row.username.as_deref(), Some("alice"));
        assert!(row.user_id.is_some());
        assert!(!format!("{row:?}").contains(NEW_PASSWORD), "{row:?}");
    }
}
