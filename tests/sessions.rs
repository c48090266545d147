//! Sessions and token families (issue 15, points 1–3 and the grace edges of
//! 15): a login starts a session (who, when, from where); rotation keeps the
//! family in it; with `REFRESH_REUSE_DETECTION` a replayed rotated-out token
//! ends the whole family — committed although that request fails — and is
//! reported; with `REFRESH_REUSE_GRACE` a retry with the immediate parent
//! gets the same successor back, anchored at the parent's first use. Races:
//! concurrent replays and legitimate refreshes of one family, through one
//! service and through two services on two connections to one database,
//! leave no live branch. Runs on SQLite and, when configured, PostgreSQL.

#[macro_use]
mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use common::*;
use simplejwt::error::AuthError;
use simplejwt::service::{AuthService, ClientInfo, Event, EventKind, EventSink};
use simplejwt::store::{StoreOptions, TokenStore};
use simplejwt::token::TokenError;
use tokio::sync::Barrier;

const ROTATE: [(&str, &str); 2] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
];

const DETECT: [(&str, &str); 3] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
    ("REFRESH_REUSE_DETECTION", "true"),
];

const DETECT_WITH_GRACE: [(&str, &str); 4] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
    ("REFRESH_REUSE_DETECTION", "true"),
    ("REFRESH_REUSE_GRACE", "10s"),
];

/// Keeps the kinds of the events it hears.
#[derive(Default)]
struct Kinds(Mutex<Vec<EventKind>>);

impl EventSink for Kinds {
    fn record(&self, e: &Event<'_>) {
        self.0.lock().unwrap().push(e.kind);
    }
}

impl Kinds {
    fn count(&self, kind: EventKind) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|k| **k == kind)
            .count()
    }
}

fn client() -> ClientInfo {
    ClientInfo::new(
        Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
        Some("TestBrowser/1.0"),
    )
}

async fn login(service: &AuthService) -> String {
    service
        .obtain_pair("alice", "alice-Password-1", &client())
        .await
        .expect("login")
        .refresh
}

async fn rotate(service: &AuthService, refresh: &str) -> Result<String, AuthError> {
    service
        .refresh(refresh, &client())
        .await
        .map(|r| r.refresh.expect("rotating"))
}

fn is_blacklisted_error(r: &Result<String, AuthError>) -> bool {
    matches!(r, Err(AuthError::Token(TokenError::Blacklisted)))
}

backend_tests!(
    a_login_starts_a_session_with_who_when_and_where,
    |db: TestDb| async move {
        let app = app(db, &[]).await;
        let before = epoch_now();
        let first = login(&app.service).await;
        let second = login(&app.service).await;

        let session = app.session_of(&first).await;
        assert_eq!(session.user_id, Some(1));
        assert_eq!(session.user_agent.as_deref(), Some("TestBrowser/1.0"));
        assert_eq!(session.ip.as_deref(), Some("203.0.113.7"));
        assert!(session.created_at >= before && session.created_at <= epoch_now());
        assert_eq!(session.last_used_at, session.created_at);
        assert_eq!(session.revoked_at, None);
        assert_eq!(
            session.expires_at,
            claims_of(&first)["exp"].as_i64().unwrap()
        );
        // The token carries nothing new: simplejwt's claims only.
        let mut keys: Vec<_> = claims_of(&first).keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["exp", "iat", "jti", "token_type", "user_id"]);

        let other = app.session_of(&second).await;
        assert_ne!(other.public_id, session.public_id, "one session per login");
        let live = app.live_sessions(1).await;
        assert_eq!(live.len(), 2);
        assert!(app.live_sessions(3).await.is_empty());
    }
);

backend_tests!(
    rotation_keeps_the_family_in_the_login_session,
    |db: TestDb| async move {
        let app = app(db, &ROTATE).await;
        let r0 = login(&app.service).await;
        let r1 = rotate(&app.service, &r0).await.unwrap();
        let r2 = rotate(&app.service, &r1).await.unwrap();
        let s0 = app.session_of(&r0).await;
        let s2 = app.session_of(&r2).await;
        assert_eq!(s0.public_id, s2.public_id);
        assert!(s2.expires_at >= claims_of(&r2)["exp"].as_i64().unwrap());
        assert_eq!(app.live_sessions(1).await.len(), 1);
        // Without reuse detection a replay is refused and nothing more.
        assert!(is_blacklisted_error(&rotate(&app.service, &r0).await));
        rotate(&app.service, &r2)
            .await
            .expect("the family lives on");
    }
);

backend_tests!(
    a_replayed_rotated_out_token_ends_the_whole_family_and_is_reported,
    |db: TestDb| async move {
        let kinds = Arc::new(Kinds::default());
        let sink = kinds.clone();
        let app = app_with(db, &DETECT, |b| b.event_sink(sink)).await;
        let other_session = login(&app.service).await;
        let r0 = login(&app.service).await;
        let r1 = rotate(&app.service, &r0).await.unwrap();
        let r2 = rotate(&app.service, &r1).await.unwrap();

        // The thief replays r0: refused, as simplejwt refuses it …
        assert!(is_blacklisted_error(&rotate(&app.service, &r0).await));
        assert_eq!(kinds.count(EventKind::ReuseDetected), 1);
        // … and the revocation was committed although the request failed:
        // the live leaf r2 (the thief's or the user's fork) is dead.
        assert!(app.store.is_blacklisted(&jti(&r2)).await.unwrap());
        assert!(is_blacklisted_error(&rotate(&app.service, &r2).await));
        let ended = app.session_of(&r2).await;
        assert!(ended.revoked_at.is_some());
        // A second replay finds the session ended: refused, not reported again.
        assert!(is_blacklisted_error(&rotate(&app.service, &r1).await));
        assert_eq!(kinds.count(EventKind::ReuseDetected), 1);
        // The user's other session is untouched.
        let live = app.live_sessions(1).await;
        assert_eq!(live.len(), 1);
        rotate(&app.service, &other_session)
            .await
            .expect("another session is not part of the family");
    }
);

backend_tests!(
    a_blacklisted_leaf_presented_again_is_refused_not_taken_for_reuse,
    |db: TestDb| async move {
        let kinds = Arc::new(Kinds::default());
        let sink = kinds.clone();
        let app = app_with(db, &DETECT, |b| b.event_sink(sink)).await;
        let r0 = login(&app.service).await;
        let r1 = rotate(&app.service, &r0).await.unwrap();
        app.service.blacklist(&r1, &client()).await.unwrap();
        assert!(is_blacklisted_error(&rotate(&app.service, &r1).await));
        assert_eq!(kinds.count(EventKind::ReuseDetected), 0);
    }
);

backend_tests!(
    a_refused_replay_does_not_count_as_use_and_keeps_no_idle_session_alive,
    |db: TestDb| async move {
        // With a grace period the blacklist is read in the rotation (which
        // takes the session row), so a refused replay reaches the session.
        let app = app(
            db,
            &[
                ("ROTATE_REFRESH_TOKENS", "true"),
                ("BLACKLIST_AFTER_ROTATION", "true"),
                ("REFRESH_REUSE_GRACE", "10s"),
                ("SESSION_IDLE_TIMEOUT", "1h"),
            ],
        )
        .await;
        let r0 = login(&app.service).await;
        let r1 = rotate(&app.service, &r0).await.unwrap();
        let r2 = rotate(&app.service, &r1).await.unwrap();
        // 50 minutes pass (the session's clock is moved back instead of waiting).
        let idle = |minutes: i64| {
            format!(
                "UPDATE sessions SET last_used_at = last_used_at - {}",
                minutes * 60
            )
        };
        raw_sql(&app.db, &idle(50)).await;
        let session = || async {
            app.store
                .session_of_token(&jti(&r2))
                .await
                .unwrap()
                .unwrap()
        };
        let before = session().await;
        // Replays of the grandparent r0 (no live successor to hand back):
        // refused, and not a use of the session.
        for _ in 0..3 {
            assert!(is_blacklisted_error(&rotate(&app.service, &r0).await));
        }
        let after = session().await;
        assert_eq!(
            after.last_used_at, before.last_used_at,
            "a replay touched it"
        );
        assert_eq!(after.expires_at, before.expires_at);
        // Twenty minutes on, the session has been idle for over an hour:
        // the replays did not keep it alive.
        raw_sql(&app.db, &idle(20)).await;
        assert!(
            matches!(
                rotate(&app.service, &r2).await,
                Err(AuthError::Token(TokenError::SessionExpired))
            ),
            "an idle session lived on through replays"
        );
    }
);

backend_tests!(
    within_the_grace_period_the_parent_gets_the_same_successor_back,
    |db: TestDb| async move {
        let kinds = Arc::new(Kinds::default());
        let sink = kinds.clone();
        let app = app_with(db, &DETECT_WITH_GRACE, |b| b.event_sink(sink)).await;
        let r0 = login(&app.service).await;
        let r1 = rotate(&app.service, &r0).await.unwrap();
        // The response was lost; the client retries with r0: the same r1
        // (HS256 is deterministic), not a second live branch.
        let again = rotate(&app.service, &r0).await.unwrap();
        assert_eq!(again, r1);
        let again = rotate(&app.service, &r0).await.unwrap();
        assert_eq!(again, r1);
        // Two rotations within one second are told apart by id, not by `iat`:
        // r1 → r2 now; r1 retried gets r2, and r0 — a grandparent — is reuse.
        let r2 = rotate(&app.service, &r1).await.unwrap();
        assert_ne!(jti(&r2), jti(&r1));
        assert_eq!(rotate(&app.service, &r1).await.unwrap(), r2);
        assert_eq!(kinds.count(EventKind::ReuseDetected), 0);
        assert!(is_blacklisted_error(&rotate(&app.service, &r0).await));
        assert_eq!(kinds.count(EventKind::ReuseDetected), 1);
        assert!(is_blacklisted_error(&rotate(&app.service, &r2).await));
    }
);

backend_tests!(
    the_grace_period_is_anchored_at_the_first_use_and_retries_do_not_extend_it,
    |db: TestDb| async move {
        let kinds = Arc::new(Kinds::default());
        let sink = kinds.clone();
        let app = app_with(db, &DETECT_WITH_GRACE, |b| b.event_sink(sink)).await;
        let r0 = login(&app.service).await;
        let r1 = rotate(&app.service, &r0).await.unwrap();
        // Nine seconds pass (the first use is moved back instead of waiting).
        let back = |seconds: i64| {
            format!(
                "UPDATE blacklisted_tokens SET blacklisted_at = blacklisted_at - {seconds} \
                 WHERE token_id = (SELECT id FROM outstanding_tokens WHERE jti = '{}')",
                jti(&r0)
            )
        };
        raw_sql(&app.db, &back(9)).await;
        assert_eq!(
            rotate(&app.service, &r0).await.unwrap(),
            r1,
            "still in grace"
        );
        // Two more seconds: 11 s after the first use, whatever the retries did.
        raw_sql(&app.db, &back(2)).await;
        assert!(is_blacklisted_error(&rotate(&app.service, &r0).await));
        assert_eq!(kinds.count(EventKind::ReuseDetected), 1);
        assert!(is_blacklisted_error(&rotate(&app.service, &r1).await));
    }
);

/// Runs `n` copies of `job` released together by a barrier; results in spawn order.
async fn together<T, F, Fut>(n: usize, job: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let fut = job(i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// Replays of r0 and refreshes with r1 on one family, all at once, spread
/// over `services`: whatever the order, the family ends and no token handed
/// out by any of them works afterwards.
async fn race_replays_against_refreshes(services: Vec<AuthService>, store: &dyn TokenStore) {
    const N: usize = 16;
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let r0 = login(&services[0]).await;
        let r1 = rotate(&services[0], &r0).await.unwrap();
        let results = together(N, |i| {
            let service = services[i % services.len()].clone();
            let token = if i % 2 == 0 { r0.clone() } else { r1.clone() };
            async move { rotate(&service, &token).await }
        })
        .await;
        for r in &results {
            assert!(r.is_ok() || is_blacklisted_error(r), "round {round}: {r:?}");
        }
        let session = store.session_of_token(&jti(&r1)).await.unwrap().unwrap();
        assert!(
            session.revoked_at.is_some(),
            "round {round}: the family ended"
        );
        for token in results.into_iter().flatten() {
            assert!(
                store.is_blacklisted(&jti(&token)).await.unwrap(),
                "round {round}: a token handed out during the race is still live"
            );
            assert!(is_blacklisted_error(&rotate(&services[0], &token).await));
        }
    }
}

backend_tests!(
    concurrent_replays_and_refreshes_of_one_family_leave_no_live_branch,
    |db: TestDb| async move {
        let app = app(db, &DETECT).await;
        race_replays_against_refreshes(vec![app.service.clone()], &*app.store).await;
    }
);

backend_tests!(
    two_services_on_two_connections_racing_on_one_family_leave_no_live_branch,
    |db: TestDb| async move {
        let app = app(db, &DETECT).await;
        // A second service over its own connection(s) to the same database,
        // as a second server process would have.
        let second_store = simplejwt::store::connect(&app.db.url, &StoreOptions::default())
            .await
            .expect("connect");
        let second = AuthService::new(settings(&DETECT), second_store, cheap_hasher()).unwrap();
        race_replays_against_refreshes(vec![app.service.clone(), second], &*app.store).await;
    }
);

#[test]
fn reuse_detection_needs_rotation_with_blacklisting() {
    use simplejwt::settings::Settings;
    let refused = Settings::from_pairs([
        ("REFRESH_REUSE_DETECTION", "true"),
        ("ROTATE_REFRESH_TOKENS", "true"),
    ]);
    assert_eq!(refused.unwrap_err().setting, "REFRESH_REUSE_DETECTION");
    let refused = Settings::from_pairs([("REFRESH_REUSE_GRACE", "10s")]);
    assert_eq!(refused.unwrap_err().setting, "REFRESH_REUSE_GRACE");
    let hardened = Settings::from_pairs([("PRESET", "hardened")]).unwrap();
    assert!(hardened.refresh_reuse_detection());
    assert_eq!(hardened.refresh_reuse_grace().as_secs(), 10);
    assert!(hardened.rotate_refresh_tokens() && hardened.blacklist_after_rotation());
}

backend_tests!(
    a_logout_that_answered_wins_over_refreshes_in_flight,
    |db: TestDb| async move {
        const N: usize = 12;
        let app = app(db, &ROTATE).await;
        for round in 0..4 {
            let r0 = login(&app.service).await;
            let r1 = rotate(&app.service, &r0).await.unwrap();
            // The user logs out everywhere from another device while
            // refreshes with r1 (one wins) are in flight.
            let elsewhere = login(&app.service).await;
            let results = together(N, |i| {
                let service = app.service.clone();
                let (r1, elsewhere) = (r1.clone(), elsewhere.clone());
                async move {
                    if i == 0 {
                        let scope = simplejwt::service::LogoutScope::Global;
                        let ended = service.logout(&elsewhere, scope, &client()).await;
                        assert!(ended.is_ok(), "the logout answered {ended:?}");
                        Ok(String::new())
                    } else {
                        rotate(&service, &r1).await
                    }
                }
            })
            .await;
            // Every call has answered: no refresh token handed out works.
            for token in results.into_iter().flatten().filter(|t| !t.is_empty()) {
                assert!(
                    is_blacklisted_error(&rotate(&app.service, &token).await),
                    "round {round}: a token from a refresh in flight outlived the logout"
                );
            }
            assert!(app.live_sessions(1).await.is_empty());
        }
    }
);

backend_tests!(
    check_revoke_token_refuses_a_refresh_after_a_password_change_and_blacklists_it,
    |db: TestDb| async move {
        let app = app(db, &[("CHECK_REVOKE_TOKEN", "true")]).await;
        let (refresh, _) = app.pair("alice").await;
        app.refresh(&refresh).await.expect_status(200);
        assert!(app
            .store
            .set_password(1, "pbkdf2_sha256$1$x$y")
            .await
            .unwrap());
        let changed = serde_json::json!({
            "detail": "The user's password has been changed.",
            "code": "password_changed",
        });
        app.refresh(&refresh).await.expect(401, &changed);
        // Blacklisted on the way: the client's loop ends here.
        app.refresh(&refresh)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        // A refresh token without the claim is refused the same way.
        let forged = app.forger().refresh(|c| {
            c.remove("hash_password");
        });
        app.refresh(&forged).await.expect(401, &changed);
    }
);

backend_tests!(
    the_sliding_refresh_checks_the_user_as_the_pair_refresh_does,
    |db: TestDb| async move {
        let app = app(db, &[("CHECK_REVOKE_TOKEN", "true")]).await;
        let slide = |token: String| {
            let app = &app;
            async move {
                app.post_json(
                    "/api/token/sliding/refresh/",
                    &serde_json::json!({ "token": token }),
                )
                .await
            }
        };
        let login = || async {
            app.post_json(
                "/api/token/sliding/",
                &serde_json::json!({"username": "alice", "password": "alice-Password-1"}),
            )
            .await
            .str("token")
        };
        let token = login().await;
        slide(token.clone()).await.expect_status(200);
        assert!(app.store.set_active("alice", false).await.unwrap());
        slide(token.clone())
            .await
            .expect(401, &no_active_account_for_token());
        assert!(app.store.set_active("alice", true).await.unwrap());
        slide(token.clone()).await.expect_status(200);
        assert!(app
            .store
            .set_password(1, "pbkdf2_sha256$1$x$y")
            .await
            .unwrap());
        let changed = serde_json::json!({
            "detail": "The user's password has been changed.",
            "code": "password_changed",
        });
        slide(token).await.expect(401, &changed);
    }
);

backend_tests!(
    a_rotation_failing_part_way_stores_nothing_and_the_retry_succeeds,
    |db: TestDb| async move {
        let app = app(db, &DETECT_WITH_GRACE).await;
        let r0 = login(&app.service).await;
        // The successor's insert fails — after the parent's claim, in the
        // same transaction — as a store error part-way through would.
        let (fail, heal) = match app.db.backend() {
            "sqlite" => (
                "CREATE TRIGGER fail_successor BEFORE INSERT ON outstanding_tokens \
                 WHEN NEW.parent_id IS NOT NULL BEGIN SELECT RAISE(ABORT, 'injected'); END",
                "DROP TRIGGER fail_successor",
            ),
            _ => (
                "CREATE FUNCTION fail_successor() RETURNS trigger AS $$ BEGIN \
                 IF NEW.parent_id IS NOT NULL THEN RAISE EXCEPTION 'injected'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER fail_successor BEFORE INSERT ON outstanding_tokens \
                 FOR EACH ROW EXECUTE FUNCTION fail_successor()",
                "DROP TRIGGER fail_successor ON outstanding_tokens",
            ),
        };
        raw_sql(&app.db, fail).await;
        let failed = rotate(&app.service, &r0).await;
        assert!(
            matches!(failed, Err(AuthError::Internal | AuthError::Unavailable)),
            "{failed:?}"
        );
        // Nothing of it was committed: the parent is not used up, no
        // successor exists, the session lives.
        assert!(!app.store.is_blacklisted(&jti(&r0)).await.unwrap());
        let (outstanding, blacklisted) = app.store.token_counts().await.unwrap();
        assert_eq!((outstanding, blacklisted), (1, 0));
        raw_sql(&app.db, heal).await;
        // The retry with the same token is not taken for reuse: it rotates.
        let r1 = rotate(&app.service, &r0).await.expect("the retry succeeds");
        rotate(&app.service, &r1)
            .await
            .expect("and its successor works");
    }
);

backend_tests!(
    with_claims_follow_user_a_refresh_computes_custom_claims_from_the_current_row,
    |db: TestDb| async move {
        let follow = app(
            db,
            &[
                ("TOKEN_CLAIMS", "is_staff,email"),
                ("CLAIMS_FOLLOW_USER", "true"),
            ],
        )
        .await;
        let (refresh, access) = follow.pair("alice").await;
        assert_eq!(claims_of(&access)["is_staff"], serde_json::json!(false));
        raw_sql(
            &follow.db,
            "UPDATE users SET is_staff = 1, email = 'new@example.test' WHERE id = 1",
        )
        .await;
        let fresh = follow.refresh(&refresh).await;
        fresh.expect_status(200);
        let claims = claims_of(&fresh.str("access"));
        assert_eq!(claims["is_staff"], serde_json::json!(true));
        assert_eq!(claims["email"], serde_json::json!("new@example.test"));
        assert_eq!(claims["user_id"], serde_json::json!("1"));

        // Without the setting the claims are copied from the refresh token (simplejwt).
        let copy = app(TestDb::sqlite(), &[("TOKEN_CLAIMS", "is_staff")]).await;
        let (refresh, _) = copy.pair("alice").await;
        raw_sql(&copy.db, "UPDATE users SET is_staff = 1 WHERE id = 1").await;
        let copied = claims_of(&copy.refresh(&refresh).await.str("access"));
        assert_eq!(copied["is_staff"], serde_json::json!(false));
    }
);
