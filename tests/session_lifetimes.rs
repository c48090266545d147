//! Absolute and idle session lifetimes (issue 15, point 7):
//! `SESSION_ABSOLUTE_LIFETIME` caps every token of a session at a deadline
//! anchored at the login, so rotation never extends a session past it, and a
//! refresh after it ends the session; `SESSION_IDLE_TIMEOUT` ends a session
//! that was not refreshed within the window. With `ACCESS_TOKEN_REVOCATION`
//! the access path refuses tokens of such a session on the row it reads
//! anyway. Time is moved by moving the session's stored times back (no
//! sleeps, no clock seam needed): the rules compare them with the clock.
//! Runs on SQLite and PostgreSQL.

#[macro_use]
mod common;

use common::*;
use serde_json::{json, Value};
use simplejwt::settings::Settings;

const ROTATE: [(&str, &str); 2] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut all = ROTATE.to_vec();
    all.extend_from_slice(extra);
    all
}

fn exp(token: &str) -> i64 {
    claims_of(token)["exp"].as_i64().expect("exp")
}

fn session_expired() -> Value {
    token_error("Session has expired")
}

/// Moves every stored session time of alice's sessions `secs` into the past.
async fn age_sessions(app: &TestApp, column: &str, secs: i64) {
    raw_sql(
        &app.db,
        &format!("UPDATE sessions SET {column} = {column} - {secs} WHERE user_id = 1"),
    )
    .await;
}

async fn session_created_at(app: &TestApp, token: &str) -> i64 {
    app.session_of(token).await.created_at
}

backend_tests!(
    rotation_never_extends_a_session_past_its_absolute_deadline,
    |db: TestDb| async move {
        let app = app(db, &with(&[("SESSION_ABSOLUTE_LIFETIME", "2h")])).await;
        let (r0, a0) = app.pair("alice").await;
        let created = session_created_at(&app, &r0).await;
        // The login's refresh token is capped (1 day would pass the deadline);
        // its access token (5 minutes) is not.
        assert_eq!(exp(&r0), created + 7200);
        assert_eq!(exp(&a0), claims_of(&a0)["iat"].as_i64().unwrap() + 300);

        // 1h50m later (the login moved back): rotation caps at the deadline,
        // the access token too.
        age_sessions(&app, "created_at", 6600).await;
        age_sessions(&app, "expires_at", 6600).await;
        let created = created - 6600;
        let r = app.refresh(&r0).await;
        r.expect_status(200);
        let (r1, a1) = (r.str("refresh"), r.str("access"));
        assert_eq!(exp(&r1), created + 7200);
        assert!(exp(&a1) <= created + 7200);
        let session = app.session_of(&r1).await;
        assert_eq!(session.expires_at, created + 7200);
        assert_eq!(session.created_at, created, "the deadline stays anchored");

        // Past the deadline: the refresh is refused and the session ends.
        age_sessions(&app, "created_at", 700).await;
        app.refresh(&r1).await.expect(401, &session_expired());
        let ended = app.session_of(&r1).await;
        assert!(ended.revoked_at.is_some(), "the session was ended");
        app.refresh(&r1)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        assert!(app.live_sessions(1).await.is_empty());
    }
);

backend_tests!(
    an_idle_session_ends_at_its_next_refresh_and_rotation_keeps_one_alive,
    |db: TestDb| async move {
        let app = app(db, &with(&[("SESSION_IDLE_TIMEOUT", "1h")])).await;
        let (r0, _) = app.pair("alice").await;

        // Refreshed within the window, twice: 50 minutes each time, 100 in all.
        age_sessions(&app, "last_used_at", 3000).await;
        let r1 = app.refresh(&r0).await.str("refresh");
        age_sessions(&app, "last_used_at", 3000).await;
        let r2 = app.refresh(&r1).await.str("refresh");

        // A second device of alice, used recently, is not affected below.
        let (other, _) = app.pair("alice").await;

        // Not refreshed for longer than the window: the session ends.
        raw_sql(
            &app.db,
            &format!(
                "UPDATE sessions SET last_used_at = last_used_at - 3601 \
                 WHERE public_id = '{}'",
                app.session_of(&r2).await.public_id
            ),
        )
        .await;
        let listed = app.service.sessions_of(1, None).await.unwrap();
        assert_eq!(
            listed.len(),
            1,
            "the device list leaves the idle session out"
        );
        app.refresh(&r2).await.expect(401, &session_expired());
        let ended = app.session_of(&r2).await;
        assert!(ended.revoked_at.is_some());
        app.refresh(&r2)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        app.refresh(&other).await.expect_status(200);
    }
);

backend_tests!(
    with_access_token_revocation_the_access_path_refuses_tokens_of_an_expired_session,
    |db: TestDb| async move {
        let app = app(
            db,
            &with(&[
                ("SESSION_ID_CLAIM", "sid"),
                ("ACCESS_TOKEN_REVOCATION", "true"),
                ("SESSION_IDLE_TIMEOUT", "1h"),
                ("SESSION_ABSOLUTE_LIFETIME", "30d"),
            ]),
        )
        .await;
        let (_, idle_access) = app.pair("alice").await;
        app.protected(&idle_access)
            .await
            .expect(200, &welcome("alice"));
        age_sessions(&app, "last_used_at", 3601).await;
        app.protected(&idle_access)
            .await
            .expect(401, &blacklisted_access());

        let (_, old_access) = app.pair("alice").await;
        app.protected(&old_access)
            .await
            .expect(200, &welcome("alice"));
        age_sessions(&app, "created_at", 30 * 86400).await;
        app.protected(&old_access)
            .await
            .expect(401, &blacklisted_access());
    }
);

backend_tests!(
    a_sliding_token_is_capped_at_the_absolute_deadline,
    |db: TestDb| async move {
        let app = app(db, &[("SESSION_ABSOLUTE_LIFETIME", "1h")]).await;
        let r = app
            .post_json(
                "/api/token/sliding/",
                &json!({"username": "alice", "password": password_of("alice")}),
            )
            .await;
        r.expect_status(200);
        let token = r.str("token");
        let created = session_created_at(&app, &token).await;
        assert_eq!(claims_of(&token)["refresh_exp"], json!(created + 3600));
        assert_eq!(
            exp(&token),
            claims_of(&token)["iat"].as_i64().unwrap() + 300
        );
    }
);

backend_tests!(
    by_default_sessions_have_no_lifetime_and_rotation_re_anchors_exp,
    |db: TestDb| async move {
        let app = app(db, &ROTATE).await;
        let (r0, _) = app.pair("alice").await;
        age_sessions(&app, "created_at", 400 * 86400).await;
        age_sessions(&app, "last_used_at", 400 * 86400).await;
        let r = app.refresh(&r0).await;
        r.expect_status(200);
        let r1 = r.str("refresh");
        assert_eq!(exp(&r1), claims_of(&r1)["iat"].as_i64().unwrap() + 86400);
    }
);

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

#[test]
fn lifetimes_are_off_by_default_on_in_the_hardened_preset_and_checked() {
    let defaults = Settings::from_pairs([("SIGNING_KEY", SIGNING_KEY)]).unwrap();
    assert!(defaults.session_absolute_lifetime().is_zero());
    assert!(defaults.session_idle_timeout().is_zero());
    let hardened =
        Settings::from_pairs([("SIGNING_KEY", SIGNING_KEY), ("PRESET", "hardened")]).unwrap();
    assert_eq!(hardened.session_absolute_lifetime().as_secs(), 30 * 86400);
    assert_eq!(hardened.session_idle_timeout().as_secs(), 7 * 86400);

    let idle_without_rotation =
        Settings::from_pairs([("SIGNING_KEY", SIGNING_KEY), ("SESSION_IDLE_TIMEOUT", "1h")])
            .unwrap_err();
    assert_eq!(idle_without_rotation.setting, "SESSION_IDLE_TIMEOUT");
    let without_ids = Settings::from_pairs([
        ("SIGNING_KEY", SIGNING_KEY),
        ("SESSION_ABSOLUTE_LIFETIME", "1d"),
        ("JTI_CLAIM", "None"),
    ])
    .unwrap_err();
    assert_eq!(without_ids.setting, "SESSION_ABSOLUTE_LIFETIME");
    let fraction = Settings::from_pairs([
        ("SIGNING_KEY", SIGNING_KEY),
        ("SESSION_ABSOLUTE_LIFETIME", "500ms"),
    ])
    .unwrap_err();
    assert_eq!(fraction.setting, "SESSION_ABSOLUTE_LIFETIME");
    // Recorded to the second: a fraction would be dropped (a 500ms grace
    // was silently none at all), so it is refused, with the hardened
    // preset's other requirements met.
    for (setting, value) in [
        ("REFRESH_REUSE_GRACE", "500ms"),
        ("REFRESH_REUSE_GRACE", "1500ms"),
        ("SESSION_IDLE_TIMEOUT", "90500ms"),
    ] {
        let e = Settings::from_pairs([
            ("SIGNING_KEY", SIGNING_KEY),
            ("PRESET", "hardened"),
            (setting, value),
        ])
        .unwrap_err();
        assert_eq!(e.setting, setting, "{value}: {e}");
        assert!(e.to_string().contains("whole number of seconds"), "{e}");
    }
}
