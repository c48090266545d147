//! RFC 7009 revocation and RFC 7662 introspection (issue 15, point 13),
//! mounted only with `OAUTH_TOKEN_ENDPOINTS`: revocation answers 200 with an
//! empty body whatever the token was, and a refresh token ends its session;
//! an access token is revocable only through its session
//! (`ACCESS_TOKEN_REVOCATION`), else `unsupported_token_type`.
//! Introspection is for staff users' bearer tokens (401 without, 403 for
//! others) and answers `{"active": false}` for anything not active. Bodies
//! form-encoded as the RFCs say, JSON too. SQLite and PostgreSQL.

#[macro_use]
mod common;

use common::*;
use serde_json::{json, Value};

const REVOKE: &str = "/api/token/revoke/";
const INTROSPECT: &str = "/api/token/introspect/";
const FORM: &str = "application/x-www-form-urlencoded";

const OAUTH: [(&str, &str); 3] = [
    ("OAUTH_TOKEN_ENDPOINTS", "true"),
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
];

async fn revoke_form(app: &TestApp, body: &str) -> Resp {
    app.post_raw(REVOKE, Some(FORM), body.to_owned()).await
}

#[track_caller]
fn expect_empty_200(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.body.is_empty(),
        "RFC 7009 §2.2: no body, got {:?}",
        r.text()
    );
}

/// Makes carol staff (the introspection caller).
async fn staff_carol(app: &TestApp) -> String {
    raw_sql(
        &app.db,
        "UPDATE users SET is_staff = 1 WHERE username = 'carol'",
    )
    .await;
    app.pair("carol").await.1
}

async fn introspect(app: &TestApp, caller: &str, token: &str) -> Resp {
    let req = http::Request::builder()
        .method("POST")
        .uri(INTROSPECT)
        .header("authorization", format!("Bearer {caller}"))
        .header("content-type", FORM)
        .body(axum::body::Body::from(format!("token={token}")))
        .unwrap();
    app.send(req).await
}

fn inactive() -> Value {
    json!({"active": false})
}

#[tokio::test]
async fn off_by_default_neither_path_exists() {
    let app = app(TestDb::sqlite(), &[]).await;
    revoke_form(&app, "token=x").await.expect_status(404);
    app.post_raw(INTROSPECT, Some(FORM), "token=x")
        .await
        .expect_status(404);
}

backend_tests!(
    revocation_answers_200_for_any_token_and_a_refresh_token_ends_its_session,
    |db: TestDb| async move {
        let app = app(db, &OAUTH).await;
        let (r0, _) = app.pair("alice").await;
        let r1 = app.refresh(&r0).await.str("refresh");
        let (other, _) = app.pair("alice").await;

        // Unknown, malformed, foreign-signed: 200, nothing said, nothing changed.
        expect_empty_200(&revoke_form(&app, "token=garbage").await);
        let foreign = app.forger().with_key(&"k".repeat(64), None).refresh(|_| {});
        expect_empty_200(&revoke_form(&app, &format!("token={foreign}")).await);
        // No token at all: RFC 6749 §5.2.
        revoke_form(&app, "token_type_hint=refresh_token")
            .await
            .expect(400, &json!({"error": "invalid_request"}));
        app.refresh(&r1).await.expect_status(200);
        let r2 = app.refresh(&r1).await;
        r2.expect(401, &token_error("Token is blacklisted"));

        // Revoking the family's live token ends the session (with any hint).
        let (r3, _) = app.pair("alice").await;
        let r4 = app.refresh(&r3).await.str("refresh");
        expect_empty_200(
            &revoke_form(&app, &format!("token={r4}&token_type_hint=access_token")).await,
        );
        app.refresh(&r4)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        let jti = claims_of(&r4)["jti"].as_str().unwrap().to_owned();
        let session = app.store.session_of_token(&jti).await.unwrap().unwrap();
        assert!(session.revoked_at.is_some());
        // Again: still 200. Another session of alice is untouched.
        expect_empty_200(&revoke_form(&app, &format!("token={r4}")).await);
        app.refresh(&other).await.expect_status(200);
    }
);

backend_tests!(
    without_access_token_revocation_an_access_token_is_an_unsupported_type,
    |db: TestDb| async move {
        let app = app(db, &OAUTH).await;
        let (_, access) = app.pair("alice").await;
        app.post_json(REVOKE, &json!({"token": access}))
            .await
            .expect(400, &json!({"error": "unsupported_token_type"}));
        app.protected(&access).await.expect(200, &welcome("alice"));
    }
);

backend_tests!(
    with_access_token_revocation_revoking_an_access_token_ends_its_session,
    |db: TestDb| async move {
        let mut pairs = OAUTH.to_vec();
        pairs.extend([
            ("SESSION_ID_CLAIM", "sid"),
            ("ACCESS_TOKEN_REVOCATION", "true"),
        ]);
        let app = app(db, &pairs).await;
        let (refresh, access) = app.pair("alice").await;
        let r = app.post_json(REVOKE, &json!({"token": access})).await;
        expect_empty_200(&r);
        app.protected(&access).await.expect_status(401);
        app.refresh(&refresh)
            .await
            .expect(401, &token_error("Token is blacklisted"));
    }
);

backend_tests!(
    introspection_is_for_staff_bearer_tokens_only,
    |db: TestDb| async move {
        let app = app(db, &OAUTH).await;
        let (_, alice) = app.pair("alice").await;
        let r = app
            .post_raw(INTROSPECT, Some(FORM), format!("token={alice}"))
            .await;
        r.expect(
            401,
            &json!({"detail": "Authentication credentials were not provided."}),
        );
        introspect(&app, &alice, &alice).await.expect(
            403,
            &json!({"detail": "You do not have permission to perform this action."}),
        );
        let carol = staff_carol(&app).await;
        introspect(&app, &carol, "")
            .await
            .expect(400, &json!({"error": "invalid_request"}));
        introspect(&app, &carol, &alice).await.expect_status(200);
    }
);

backend_tests!(
    introspection_describes_active_tokens_and_says_inactive_for_anything_else,
    |db: TestDb| async move {
        let app = app(db, &OAUTH).await;
        let carol = staff_carol(&app).await;
        let (refresh, access) = app.pair("alice").await;

        let r = introspect(&app, &carol, &access).await;
        r.expect_status(200);
        let c = claims_of(&access);
        assert_eq!(
            r.json(),
            json!({
                "active": true, "token_type": "access", "exp": c["exp"], "iat": c["iat"],
                "jti": c["jti"], "sub": "1", "username": "alice",
            })
        );
        let r = introspect(&app, &carol, &refresh).await;
        assert_eq!(r.json()["active"], json!(true));
        assert_eq!(r.json()["token_type"], json!("refresh"));

        let forge = app.forger();
        let now = epoch_now();
        let not_active = [
            "garbage".to_owned(),
            forge.with_key(&"k".repeat(64), None).access(|_| {}),
            forge.access(|c| {
                c.insert("iat".into(), (now - 600).into());
                c.insert("exp".into(), (now - 1).into());
            }),
            // bob is inactive; user 99 does not exist
            forge.access(|c| {
                c.insert("user_id".into(), "2".into());
            }),
            forge.access(|c| {
                c.insert("user_id".into(), "99".into());
            }),
        ];
        for token in &not_active {
            introspect(&app, &carol, token)
                .await
                .expect(200, &inactive());
        }
        // Rotated out (blacklisted), then a logged-out session's token.
        let next = app.refresh(&refresh).await.str("refresh");
        introspect(&app, &carol, &refresh)
            .await
            .expect(200, &inactive());
        assert_eq!(
            introspect(&app, &carol, &next).await.json()["active"],
            json!(true)
        );
        app.post_json("/api/token/logout/", &json!({"refresh": next}))
            .await
            .expect_status(200);
        introspect(&app, &carol, &next)
            .await
            .expect(200, &inactive());
    }
);
