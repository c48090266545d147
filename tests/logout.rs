//! Logout scopes and the device list over HTTP (issue 15, points 4 and 5):
//! `POST /api/token/logout/?scope=local|others|global` with simplejwt's
//! blacklist body, `GET /api/sessions/` and `DELETE /api/sessions/<id>/`,
//! on SQLite and, when configured, PostgreSQL.

#[macro_use]
mod common;

use common::*;
use http::{header, Request};
use serde_json::{json, Value};

/// Logs alice in with a user agent of `agent`; returns (access, refresh).
async fn login_as(app: &TestApp, agent: &str) -> (String, String) {
    let req = Request::builder()
        .method("POST")
        .uri("/api/token/")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, agent)
        .body(
            serde_json::to_vec(&json!({"username": "alice", "password": "alice-Password-1"}))
                .unwrap()
                .into(),
        )
        .unwrap();
    let resp = app.send(req).await;
    resp.expect_status(200);
    (resp.str("access"), resp.str("refresh"))
}

async fn logout(app: &TestApp, scope: Option<&str>, refresh: &str) -> Resp {
    let path = match scope {
        Some(scope) => format!("/api/token/logout/?scope={scope}"),
        None => "/api/token/logout/".to_owned(),
    };
    app.post_json(&path, &json!({ "refresh": refresh })).await
}

async fn list(app: &TestApp, access: &str) -> Resp {
    let req = Request::builder()
        .uri("/api/sessions/")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(req).await
}

async fn end(app: &TestApp, access: &str, id: &str) -> Resp {
    let req = Request::builder()
        .method("DELETE")
        .uri(format!("/api/sessions/{id}/"))
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(req).await
}

backend_tests!(
    logout_local_ends_the_tokens_session_only,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let (_, a) = login_as(&app, "A").await;
        let (_, b) = login_as(&app, "B").await;
        logout(&app, None, &a).await.expect(200, &json!({}));
        app.refresh(&a)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        app.refresh(&b).await.expect_status(200);
        // Logging out twice is the blacklist endpoint's 401.
        logout(&app, Some("local"), &a)
            .await
            .expect(401, &token_error("Token is blacklisted"));
    }
);

backend_tests!(
    logout_local_after_rotation_ends_the_whole_family,
    |db: TestDb| async move {
        let app = app(
            db,
            &[
                ("ROTATE_REFRESH_TOKENS", "true"),
                ("BLACKLIST_AFTER_ROTATION", "false"),
            ],
        )
        .await;
        let (_, r0) = login_as(&app, "A").await;
        let r1 = app.refresh(&r0).await.str("refresh");
        // Without blacklisting after rotation r0 still refreshes — until logout
        // of its family with r1.
        logout(&app, Some("local"), &r1)
            .await
            .expect(200, &json!({}));
        app.refresh(&r0)
            .await
            .expect(401, &token_error("Token is blacklisted"));
    }
);

backend_tests!(
    logout_others_keeps_the_callers_session,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let (_, a) = login_as(&app, "A").await;
        let (_, b) = login_as(&app, "B").await;
        let (_, c) = login_as(&app, "C").await;
        logout(&app, Some("others"), &a)
            .await
            .expect(200, &json!({}));
        app.refresh(&a).await.expect_status(200);
        for other in [&b, &c] {
            app.refresh(other)
                .await
                .expect(401, &token_error("Token is blacklisted"));
        }
        assert_eq!(app.live_sessions(1).await.len(), 1);
    }
);

backend_tests!(
    logout_global_ends_every_session_of_the_user,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let (_, a) = login_as(&app, "A").await;
        let (_, b) = login_as(&app, "B").await;
        let carol = app.pair("carol").await.0;
        logout(&app, Some("global"), &b)
            .await
            .expect(200, &json!({}));
        for token in [&a, &b] {
            app.refresh(token)
                .await
                .expect(401, &token_error("Token is blacklisted"));
        }
        app.refresh(&carol).await.expect_status(200);
        assert!(app.live_sessions(1).await.is_empty());
    }
);

backend_tests!(
    a_bad_scope_or_token_changes_nothing,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let (_, a) = login_as(&app, "A").await;
        logout(&app, Some("everything"), &a).await.expect(
            400,
            &json!({"scope": ["Must be one of: local, others, global."]}),
        );
        logout(&app, Some("global"), "not-a-token")
            .await
            .expect(401, &token_error("Token is invalid"));
        app.post_json("/api/token/logout/", &json!({}))
            .await
            .expect(400, &json!({"refresh": ["This field is required."]}));
        app.refresh(&a).await.expect_status(200);
        assert_eq!(app.live_sessions(1).await.len(), 1);
    }
);

backend_tests!(
    the_device_list_shows_the_callers_sessions_and_ends_one,
    |db: TestDb| async move {
        let app = app(db, &[("SESSION_ID_CLAIM", "sid")]).await;
        let (access_a, _) = login_as(&app, "Browser A").await;
        let (_, refresh_b) = login_as(&app, "Browser B").await;

        let listed = list(&app, &access_a).await;
        listed.expect_status(200);
        assert_eq!(listed.header("cache-control"), Some("no-store"));
        let sessions = listed.json();
        let sessions = sessions.as_array().unwrap().clone();
        assert_eq!(sessions.len(), 2, "{sessions:?}");
        let agents: Vec<&Value> = sessions.iter().map(|s| &s["user_agent"]).collect();
        assert_eq!(agents, [&json!("Browser A"), &json!("Browser B")]);
        assert_eq!(sessions[0]["current"], json!(true));
        assert_eq!(sessions[1]["current"], json!(false));
        let mut keys: Vec<&str> = sessions[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["created", "current", "id", "ip", "last_used", "user_agent"]
        );
        let b_id = sessions[1]["id"].as_str().unwrap().to_owned();
        assert_eq!(claims_of(&refresh_b)["sid"], json!(b_id));

        // Carol cannot end alice's session; alice can.
        let carol_access = app.pair("carol").await.1;
        end(&app, &carol_access, &b_id).await.expect_status(404);
        app.refresh(&refresh_b).await.expect_status(200);
        let ended = end(&app, &access_a, &b_id).await;
        ended.expect_status(204);
        app.refresh(&refresh_b)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        end(&app, &access_a, &b_id).await.expect_status(404);
        assert_eq!(
            list(&app, &access_a).await.json().as_array().unwrap().len(),
            1
        );

        let no_auth = app.send(bare("GET", "/api/sessions/")).await;
        no_auth.expect_status(401);
    }
);

backend_tests!(
    by_default_tokens_carry_no_session_id_and_no_session_is_current,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let (access, refresh) = login_as(&app, "A").await;
        assert!(claims_of(&refresh).get("sid").is_none());
        let sessions = list(&app, &access).await.json();
        assert_eq!(sessions[0]["current"], json!(false));
    }
);

const REVOCATION: [(&str, &str); 2] = [
    ("SESSION_ID_CLAIM", "sid"),
    ("ACCESS_TOKEN_REVOCATION", "true"),
];

fn blacklisted_access() -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{
            "token_class": "AccessToken",
            "token_type": "access",
            "message": "Token is blacklisted",
        }],
    })
}

backend_tests!(
    with_access_token_revocation_a_logout_ends_the_sessions_access_tokens_at_once,
    |db: TestDb| async move {
        let app = app(db, &REVOCATION).await;
        let (access_a, refresh_a) = login_as(&app, "A").await;
        let (access_b, _) = login_as(&app, "B").await;
        app.protected(&access_a)
            .await
            .expect(200, &welcome("alice"));
        logout(&app, Some("local"), &refresh_a)
            .await
            .expect(200, &json!({}));
        app.protected(&access_a).await.expect_challenged(
            401,
            BEARER_CHALLENGE,
            Some(&blacklisted_access()),
        );
        // Verify answers as the protected path: a resource server checking
        // tokens there does not accept the logged-out one.
        app.verify(&access_a)
            .await
            .expect(400, &json!({"non_field_errors": ["Token is blacklisted"]}));
        app.verify(&access_b).await.expect(200, &json!({}));
        // The other session's access token still works.
        app.protected(&access_b)
            .await
            .expect(200, &welcome("alice"));
        // Ending it from the device list ends its access token too.
        let id = claims_of(&access_b)["sid"].as_str().unwrap().to_owned();
        end(&app, &access_b, &id).await.expect_status(204);
        app.protected(&access_b).await.expect_challenged(
            401,
            BEARER_CHALLENGE,
            Some(&blacklisted_access()),
        );
        // A token without a session id is refused while the setting is on.
        let forged = app.forger().access(|_| ());
        app.protected(&forged).await.expect_challenged(
            401,
            BEARER_CHALLENGE,
            Some(&blacklisted_access()),
        );
    }
);

backend_tests!(
    with_access_token_revocation_reuse_detection_ends_the_thiefs_access_tokens,
    |db: TestDb| async move {
        let mut pairs = REVOCATION.to_vec();
        pairs.extend([
            ("ROTATE_REFRESH_TOKENS", "true"),
            ("BLACKLIST_AFTER_ROTATION", "true"),
            ("REFRESH_REUSE_DETECTION", "true"),
        ]);
        let app = app(db, &pairs).await;
        let (_, r0) = login_as(&app, "A").await;
        let stolen = app.refresh(&r0).await;
        stolen.expect_status(200);
        let thief_access = stolen.str("access");
        app.protected(&thief_access).await.expect_status(200);
        // The user's client replays r0 (it never got the response): reuse.
        app.refresh(&r0)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        app.protected(&thief_access).await.expect_challenged(
            401,
            BEARER_CHALLENGE,
            Some(&blacklisted_access()),
        );
    }
);

#[test]
fn access_token_revocation_needs_a_session_id_claim() {
    let refused = simplejwt::Settings::from_pairs([("ACCESS_TOKEN_REVOCATION", "true")]);
    assert_eq!(refused.unwrap_err().setting, "ACCESS_TOKEN_REVOCATION");
}

backend_tests!(
    a_sliding_token_is_recorded_until_its_refresh_deadline_and_can_log_out,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let token = app
            .post_json(
                "/api/token/sliding/",
                &json!({"username": "alice", "password": "alice-Password-1"}),
            )
            .await
            .str("token");
        let session = app.session_of(&token).await;
        assert_eq!(
            session.expires_at,
            claims_of(&token)["refresh_exp"].as_i64().unwrap(),
            "the session (and the token's row) lives until refresh_exp, not exp"
        );
        logout(&app, None, &token).await.expect(200, &json!({}));
        app.post_json("/api/token/sliding/refresh/", &json!({ "token": token }))
            .await
            .expect(401, &token_error("Token is blacklisted"));
    }
);

/// A logout is one write. A blacklist insert in a transaction other than the
/// one that ended the session fails (a connection lost between two writes, as
/// a load test with killed backends hit it): the logout must not depend on
/// one, or it answers 503 after having logged out, and its retry gets 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn a_logout_is_one_write_so_it_never_answers_503_after_logging_out() {
    let db = TestDb::postgres().await;
    let app = app(db, &[]).await;
    raw_sql(
        &app.db,
        "CREATE TABLE ended_in (txid bigint); \
         CREATE FUNCTION note_end() RETURNS trigger AS $$ BEGIN \
           INSERT INTO ended_in VALUES (txid_current()); RETURN NEW; END $$ LANGUAGE plpgsql; \
         CREATE TRIGGER note_end AFTER UPDATE OF revoked_at ON sessions \
           FOR EACH ROW EXECUTE FUNCTION note_end(); \
         CREATE FUNCTION late_blacklist() RETURNS trigger AS $$ BEGIN \
           IF EXISTS (SELECT 1 FROM ended_in) \
              AND NOT EXISTS (SELECT 1 FROM ended_in WHERE txid = txid_current()) THEN \
             RAISE EXCEPTION 'injected: a second write after the session ended'; \
           END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
         CREATE TRIGGER late_blacklist BEFORE INSERT ON blacklisted_tokens \
           FOR EACH ROW EXECUTE FUNCTION late_blacklist()",
    )
    .await;
    for scope in ["local", "global"] {
        raw_sql(&app.db, "DELETE FROM ended_in").await;
        let (access, refresh) = login_as(&app, "A").await;
        logout(&app, Some(scope), &refresh)
            .await
            .expect(200, &json!({}));
        app.refresh(&refresh)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        list(&app, &access).await.expect(200, &json!([]));
    }
}
