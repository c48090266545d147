//! Sliding tokens (simplejwt's `TokenObtainSlidingView`,
//! `TokenRefreshSlidingView`, and `SlidingToken` in `AUTH_TOKEN_CLASSES`),
//! through the router, with simplejwt 5.5.1's bodies and quirks (spec §2.6,
//! §2.7, §3.2, §4.5).

mod common;

use common::*;
use serde_json::{json, Value};

const OBTAIN: &str = "/api/token/sliding/";
const REFRESH: &str = "/api/token/sliding/refresh/";

fn alice() -> Value {
    json!({"username": "alice", "password": password_of("alice")})
}

async fn sliding(app: &TestApp) -> String {
    let r = app.post_json(OBTAIN, &alice()).await;
    r.expect_status(200);
    r.str("token")
}

/// A sliding token for alice, edited by `edit`, signed with the server's key.
fn forged_sliding(app: &TestApp, edit: impl FnOnce(&mut simplejwt::token::Claims)) -> String {
    let forge = app.forger();
    let mut c = forge.claims("refresh", "1");
    let now = epoch_now();
    c.insert("token_type".into(), "sliding".into());
    c.insert("exp".into(), (now + 300).into());
    c.insert("refresh_exp".into(), (now + 86400).into());
    edit(&mut c);
    forge.sign(&c)
}

backend_tests!(
    obtain_sliding_returns_one_token_with_simplejwts_claims,
    |db| async move {
        let app = app(db, &[]).await;
        let before = app.store.token_counts().await.unwrap();
        let r = app.post_json(OBTAIN, &alice()).await;
        r.expect_status(200);
        assert_eq!(r.keys(), ["token"]);
        let c = claims_of(&r.str("token"));
        let keys: Vec<&str> = c.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["token_type", "exp", "iat", "jti", "refresh_exp", "user_id"]
        );
        assert_eq!(c["token_type"], "sliding");
        assert_eq!(c["user_id"], "1");
        let iat = c["iat"].as_i64().unwrap();
        assert_eq!(c["exp"].as_i64().unwrap() - iat, 300);
        assert_eq!(c["refresh_exp"].as_i64().unwrap() - iat, 86400);
        assert!(is_uuid4_hex(c["jti"].as_str().unwrap()));
        // Recorded as outstanding, like a refresh token.
        let after = app.store.token_counts().await.unwrap();
        assert_eq!(after.0, before.0 + 1);
    }
);

#[tokio::test]
async fn obtain_sliding_refuses_bad_credentials_like_the_pair_view() {
    let app = app(TestDb::sqlite(), &[]).await;
    app.post_json(OBTAIN, &json!({"username": "alice", "password": "wrong"}))
        .await
        .expect(401, &no_active_account());
    app.post_json(
        OBTAIN,
        &json!({"username": "bob", "password": password_of("bob")}),
    )
    .await
    .expect(401, &no_active_account());
    app.post_json(OBTAIN, &json!({})).await.expect(
        400,
        &json!({"username": ["This field is required."], "password": ["This field is required."]}),
    );
}

#[tokio::test]
async fn sliding_lifetimes_follow_their_settings() {
    let app = app(
        TestDb::sqlite(),
        &[
            ("SLIDING_TOKEN_LIFETIME", "2m"),
            ("SLIDING_TOKEN_REFRESH_LIFETIME", "3h"),
            ("SLIDING_TOKEN_REFRESH_EXP_CLAIM", "rexp"),
        ],
    )
    .await;
    let c = claims_of(&sliding(&app).await);
    let iat = c["iat"].as_i64().unwrap();
    assert_eq!(c["exp"].as_i64().unwrap() - iat, 120);
    assert_eq!(c["rexp"].as_i64().unwrap() - iat, 3 * 3600);
    assert!(!c.contains_key("refresh_exp"));
}

backend_tests!(
    refresh_sliding_renews_exp_and_keeps_jti_and_refresh_exp,
    |db| async move {
        let app = app(db, &[]).await;
        let token = forged_sliding(&app, |c| {
            let now = epoch_now();
            c.insert("iat".into(), (now - 100).into());
            c.insert("exp".into(), (now + 10).into());
            c.insert("scope".into(), "read".into());
        });
        let old = claims_of(&token);
        let r = app.post_json(REFRESH, &json!({"token": token})).await;
        r.expect_status(200);
        assert_eq!(r.keys(), ["token"]);
        let new = claims_of(&r.str("token"));
        assert_eq!(new["jti"], old["jti"]);
        assert_eq!(new["refresh_exp"], old["refresh_exp"]);
        assert_eq!(new["scope"], "read");
        let iat = new["iat"].as_i64().unwrap();
        assert!(iat >= old["iat"].as_i64().unwrap() + 100);
        assert_eq!(new["exp"].as_i64().unwrap() - iat, 300);
        let keys: Vec<&String> = new.keys().collect();
        assert_eq!(keys, old.keys().collect::<Vec<_>>());
    }
);

backend_tests!(
    an_expired_sliding_token_within_its_refresh_deadline_slides,
    |db| async move {
        // As simplejwt's documentation describes (its 5.5.1 code refuses it):
        // a deliberate difference, listed in the README.
        let app = app(db, &[]).await;
        let now = epoch_now();
        let expired = forged_sliding(&app, |c| {
            c.insert("iat".into(), (now - 600).into());
            c.insert("exp".into(), (now - 1).into());
        });
        let before = claims_of(&expired);
        let r = app.post_json(REFRESH, &json!({"token": expired})).await;
        r.expect_status(200);
        let slid = claims_of(&r.str("token"));
        assert_eq!(slid["jti"], before["jti"]);
        assert_eq!(slid["refresh_exp"], before["refresh_exp"]);
        assert!(slid["exp"].as_i64().unwrap() >= now + 300);
        // It can be logged out, after which it no longer slides.
        let expired_again = forged_sliding(&app, |c| {
            c.insert("iat".into(), (now - 600).into());
            c.insert("exp".into(), (now - 1).into());
        });
        app.post_json("/api/token/logout/", &json!({"refresh": expired_again}))
            .await
            .expect(200, &json!({}));
        app.post_json(REFRESH, &json!({"token": expired_again}))
            .await
            .expect(401, &token_error("Token is blacklisted"));
    }
);

#[tokio::test]
async fn refresh_sliding_refusals_have_simplejwts_messages() {
    let app = app(TestDb::sqlite(), &[]).await;
    let now = epoch_now();
    let post = |token: String| {
        let app = &app;
        async move { app.post_json(REFRESH, &json!({"token": token})).await }
    };
    post(app.forger().access(|_| {}))
        .await
        .expect(401, &token_error("Token has wrong type"));
    post(forged_sliding(&app, |c| {
        c.remove("refresh_exp");
    }))
    .await
    .expect(401, &token_error("Token has no 'refresh_exp' claim"));
    post(forged_sliding(&app, |c| {
        c.insert("refresh_exp".into(), (now - 1).into());
    }))
    .await
    .expect(401, &token_error("Token 'refresh_exp' claim has expired"));
    // Expired and past its refresh deadline: refused by the deadline.
    post(forged_sliding(&app, |c| {
        c.insert("iat".into(), (now - 600).into());
        c.insert("exp".into(), (now - 1).into());
        c.insert("refresh_exp".into(), (now - 1).into());
    }))
    .await
    .expect(401, &token_error("Token 'refresh_exp' claim has expired"));
    post("garbage".into())
        .await
        .expect(401, &token_error("Token is invalid"));
    // The field is `token`, not `refresh`.
    app.post_json(REFRESH, &json!({"refresh": sliding(&app).await}))
        .await
        .expect(400, &json!({"token": ["This field is required."]}));
}

backend_tests!(
    a_blacklisted_sliding_token_cannot_slide_and_neither_can_its_copies,
    |db| async move {
        let app = app(db, &[]).await;
        let token = sliding(&app).await;
        let copy = app
            .post_json(REFRESH, &json!({"token": token}))
            .await
            .str("token");
        let c = claims_of(&token);
        let record = simplejwt::store::OutstandingToken {
            jti: c["jti"].as_str().unwrap().to_owned(),
            user_id: Some(1),
            created_at: None,
            expires_at: c["refresh_exp"].as_i64().unwrap(),
        };
        assert!(app.store.blacklist(&record, epoch_now()).await.unwrap());
        for t in [token, copy] {
            app.post_json(REFRESH, &json!({"token": t}))
                .await
                .expect(401, &token_error("Token is blacklisted"));
        }
    }
);

#[tokio::test]
async fn the_blacklist_endpoint_refuses_sliding_tokens_as_wrong_type() {
    let app = app(TestDb::sqlite(), &[]).await;
    app.blacklist(&sliding(&app).await)
        .await
        .expect(401, &token_error("Token has wrong type"));
}

#[tokio::test]
async fn sliding_tokens_authenticate_only_when_listed_in_auth_token_classes() {
    let default = app(TestDb::sqlite(), &[]).await;
    let token = sliding(&default).await;
    default
        .protected(&token)
        .await
        .expect(401, &invalid_for_any_type("Token has wrong type"));

    let both = app(
        TestDb::sqlite(),
        &[(
            "AUTH_TOKEN_CLASSES",
            "rest_framework_simplejwt.tokens.AccessToken,SlidingToken",
        )],
    )
    .await;
    let token = sliding(&both).await;
    both.protected(&token).await.expect(200, &welcome("alice"));
    let (refresh, access) = both.pair("alice").await;
    both.protected(&access).await.expect(200, &welcome("alice"));
    // Every class's reason is reported, in order (spec §3.2).
    both.protected(&refresh).await.expect(
        401,
        &json!({
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [
                {"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"},
                {"token_class": "SlidingToken", "token_type": "sliding", "message": "Token has wrong type"},
            ],
        }),
    );
}

backend_tests!(
    a_blacklisted_sliding_token_no_longer_authenticates,
    |db| async move {
        let app = app(db, &[("AUTH_TOKEN_CLASSES", "SlidingToken")]).await;
        let token = sliding(&app).await;
        app.protected(&token).await.expect(200, &welcome("alice"));
        let c = claims_of(&token);
        let record = simplejwt::store::OutstandingToken {
            jti: c["jti"].as_str().unwrap().to_owned(),
            user_id: Some(1),
            created_at: None,
            expires_at: c["refresh_exp"].as_i64().unwrap(),
        };
        assert!(app.store.blacklist(&record, epoch_now()).await.unwrap());
        app.protected(&token).await.expect(
        401,
        &json!({
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [{"token_class": "SlidingToken", "token_type": "sliding", "message": "Token is blacklisted"}],
        }),
    );
    }
);

#[test]
fn unknown_auth_token_classes_are_refused_naming_the_setting() {
    let e = simplejwt::Settings::from_pairs([("AUTH_TOKEN_CLASSES", "RefreshToken")]).unwrap_err();
    assert_eq!(e.setting, "AUTH_TOKEN_CLASSES");
    let e = simplejwt::Settings::from_pairs([("AUTH_TOKEN_CLASSES", "")]).unwrap_err();
    assert_eq!(e.setting, "AUTH_TOKEN_CLASSES");
}

#[tokio::test]
async fn sliding_views_answer_options_and_refuse_get() {
    let app = app(TestDb::sqlite(), &[]).await;
    for (path, name) in [
        (OBTAIN, "Token Obtain Sliding"),
        (REFRESH, "Token Refresh Sliding"),
    ] {
        let r = app.send(bare("OPTIONS", path)).await;
        r.expect_status(200);
        assert_eq!(r.json()["name"], name);
        let r = app.send(bare("GET", path)).await;
        r.expect(405, &json!({"detail": "Method \"GET\" not allowed."}));
        assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    }
}
