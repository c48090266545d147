//! Self-service password change (issue 15, point 8):
//! `POST /api/password/change/` with `{"old_password", "new_password"}`,
//! authenticated as the protected view. A wrong old password is a 400 field
//! error and changes nothing; success ends every session of the user and
//! answers a fresh pair, which keeps working under `CHECK_REVOKE_TOKEN` and
//! `ACCESS_TOKEN_REVOCATION`, while every token from before does not.
//! SQLite and PostgreSQL.

#[macro_use]
mod common;

use common::*;
use serde_json::{json, Value};

const CHANGE: &str = "/api/password/change/";

async fn change(app: &TestApp, access: &str, body: &Value) -> Resp {
    let req = http::Request::builder()
        .method("POST")
        .uri(CHANGE)
        .header("authorization", format!("Bearer {access}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    app.send(req).await
}

const STRICT: [(&str, &str); 5] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
    ("CHECK_REVOKE_TOKEN", "true"),
    ("SESSION_ID_CLAIM", "sid"),
    ("ACCESS_TOKEN_REVOCATION", "true"),
];

backend_tests!(
    a_wrong_old_password_is_a_field_error_and_changes_nothing,
    |db: TestDb| async move {
        let app = app(db, &STRICT).await;
        let (refresh, access) = app.pair("alice").await;
        let r = change(
            &app,
            &access,
            &json!({"old_password": "not-it", "new_password": "brand-New-pass-1"}),
        )
        .await;
        r.expect(
            400,
            &json!({"old_password": [
                "Your old password was entered incorrectly. Please enter it again."
            ]}),
        );
        app.login("alice", password_of("alice"))
            .await
            .expect_status(200);
        app.login("alice", "brand-New-pass-1")
            .await
            .expect(401, &no_active_account());
        app.protected(&access).await.expect(200, &welcome("alice"));
        app.refresh(&refresh).await.expect_status(200);
    }
);

backend_tests!(
    a_password_change_ends_every_earlier_session_and_answers_a_working_pair,
    |db: TestDb| async move {
        let app = app(db, &STRICT).await;
        let (refresh_a, access_a) = app.pair("alice").await;
        let (refresh_b, access_b) = app.pair("alice").await;
        let (carol_refresh, _) = app.pair("carol").await;

        let r = change(
            &app,
            &access_a,
            &json!({"old_password": password_of("alice"), "new_password": "brand-New-pass-1"}),
        )
        .await;
        r.expect_status(200);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.keys(), ["refresh", "access"]);
        let (refresh, access) = (r.str("refresh"), r.str("access"));

        // Every token from before the change is refused, the caller's included.
        for old in [&access_a, &access_b] {
            app.protected(old).await.expect_status(401);
        }
        for old in [&refresh_a, &refresh_b] {
            app.refresh(old).await.expect_status(401);
        }
        // The answer's pair works, and keeps working through a rotation.
        app.protected(&access).await.expect(200, &welcome("alice"));
        let rotated = app.refresh(&refresh).await;
        rotated.expect_status(200);
        app.protected(&rotated.str("access"))
            .await
            .expect(200, &welcome("alice"));
        // One live session: the new one. Other users are untouched.
        assert_eq!(
            app.store.live_sessions(1, epoch_now()).await.unwrap().len(),
            1
        );
        app.refresh(&carol_refresh).await.expect_status(200);
        // The new password logs in; the old one no longer does.
        app.login("alice", "brand-New-pass-1")
            .await
            .expect_status(200);
        app.login("alice", password_of("alice"))
            .await
            .expect(401, &no_active_account());
    }
);

backend_tests!(
    the_change_needs_authentication_both_fields_and_a_usable_new_password,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let (_, access) = app.pair("alice").await;
        app.post_json(
            CHANGE,
            &json!({"old_password": password_of("alice"), "new_password": "x-New-pass-1"}),
        )
        .await
        .expect(
            401,
            &json!({"detail": "Authentication credentials were not provided."}),
        );
        change(&app, &access, &json!({})).await.expect(
            400,
            &json!({
                "old_password": ["This field is required."],
                "new_password": ["This field is required."],
            }),
        );
        change(
            &app,
            &access,
            &json!({"old_password": password_of("alice"), "new_password": "p".repeat(4097)}),
        )
        .await
        .expect(
            400,
            &json!({"new_password": ["The password is longer than 4096 bytes."]}),
        );
        // Django's default validators, every reason in Django's words.
        change(
            &app,
            &access,
            &json!({"old_password": password_of("alice"), "new_password": "12345678"}),
        )
        .await
        .expect(
            400,
            &json!({"new_password": [
                "This password is too common.",
                "This password is entirely numeric.",
            ]}),
        );
        change(
            &app,
            &access,
            &json!({"old_password": password_of("alice"), "new_password": "alice-1"}),
        )
        .await
        .expect(
            400,
            &json!({"new_password": [
                "The password is too similar to the username.",
                "This password is too short. It must contain at least 8 characters.",
            ]}),
        );
        app.login("alice", password_of("alice"))
            .await
            .expect_status(200);
        // With simplejwt's defaults the answer's pair works too.
        let r = change(
            &app,
            &access,
            &json!({"old_password": password_of("alice"), "new_password": "x-New-pass-1"}),
        )
        .await;
        r.expect_status(200);
        app.protected(&r.str("access"))
            .await
            .expect(200, &welcome("alice"));
        app.refresh(&r.str("refresh")).await.expect_status(200);
    }
);
