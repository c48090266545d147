//! Exactly-once rotation: with `ROTATE_REFRESH_TOKENS` and
//! `BLACKLIST_AFTER_ROTATION`, of any number of concurrent refreshes with one
//! refresh token exactly one succeeds — through the service, over a real
//! socket, and across two services sharing one database — and the token
//! tables hold exactly what one winner per round implies. simplejwt 5.5.1
//! gets this wrong (spec §8); this crate must not. Runs on SQLite and, when
//! configured, PostgreSQL.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use serde_json::{json, Value};
use simplejwt::error::AuthError;
use simplejwt::service::{AuthService, ClientInfo};
use simplejwt::store::StoreOptions;
use simplejwt::token::TokenError;
use tokio::sync::Barrier;

/// Concurrent requests per round.
const N: usize = 20;

const ROTATE: [(&str, &str); 2] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
];

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

/// Splits outcomes into the winners and checks every loser is "Token is blacklisted".
fn winners<T>(round: usize, results: Vec<Result<T, AuthError>>) -> Vec<T> {
    let mut won = Vec::new();
    for r in results {
        match r {
            Ok(v) => won.push(v),
            Err(AuthError::Token(TokenError::Blacklisted)) => {}
            Err(other) => panic!("round {round}: a loser failed with {other:?}, not Blacklisted"),
        }
    }
    won
}

backend_tests!(
    service_rotation_succeeds_exactly_once_under_concurrency,
    |db| async move {
        const ROUNDS: usize = 5;
        let app = app(db, &ROTATE).await;
        let mut token = app
            .service
            .obtain_pair("alice", "alice-Password-1", &ClientInfo::unknown())
            .await
            .expect("login")
            .refresh;
        for round in 0..ROUNDS {
            let results = together(N, |_| {
                let (service, token) = (app.service.clone(), token.clone());
                async move { service.refresh(&token, &ClientInfo::unknown()).await }
            })
            .await;
            let mut won = winners(round, results);
            assert_eq!(
                won.len(),
                1,
                "round {round}: {} refreshes succeeded",
                won.len()
            );
            let next = won
                .pop()
                .unwrap()
                .refresh
                .expect("rotation returns a refresh token");
            assert_ne!(next, token);
            token = next;
        }
        // one login + one successor per round outstanding; one used token per round blacklisted
        assert_eq!(
            app.store.token_counts().await.unwrap(),
            (1 + ROUNDS as i64, ROUNDS as i64)
        );
        // the last winner's token is live; every earlier one is dead
        app.refresh(&token).await.expect_status(200);
    }
);

backend_tests!(
    http_rotation_succeeds_exactly_once_over_a_socket,
    |db| async move {
        const ROUNDS: usize = 3;
        let app = app(db, &ROTATE).await;
        let server = Server::start(app.router.clone()).await;
        let url = server.url("/api/token/refresh/");
        let (mut token, _) = app.pair("alice").await;
        for round in 0..ROUNDS {
            let responses = together(N, |_| {
                let (url, token) = (url.clone(), token.clone());
                async move {
                    let r = http_client()
                        .post(&url)
                        .json(&json!({"refresh": token}))
                        .send()
                        .await
                        .expect("request");
                    let status = r.status().as_u16();
                    let challenge = r
                        .headers()
                        .get("www-authenticate")
                        .map(|v| v.to_str().unwrap().to_owned());
                    let body: Value = r.json().await.expect("JSON body");
                    (status, challenge, body)
                }
            })
            .await;
            let mut next = None;
            let mut successes = 0;
            for (status, challenge, body) in responses {
                match status {
                    200 => {
                        successes += 1;
                        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
                        assert_eq!(keys, ["access", "refresh"]);
                        assert_eq!(challenge, None);
                        next = Some(body["refresh"].as_str().unwrap().to_owned());
                    }
                    401 => {
                        assert_eq!(body, token_error("Token is blacklisted"), "round {round}");
                        assert_eq!(challenge.as_deref(), Some(BEARER_CHALLENGE));
                    }
                    other => panic!("round {round}: status {other} {body}"),
                }
            }
            assert_eq!(
                successes, 1,
                "round {round}: {successes} refreshes succeeded"
            );
            token = next.unwrap();
        }
        assert_eq!(
            app.store.token_counts().await.unwrap(),
            (1 + ROUNDS as i64, ROUNDS as i64)
        );
        server.stop().await;
    }
);

backend_tests!(
    rotation_is_exactly_once_across_services_sharing_a_database,
    |db| async move {
        // Two services (two pools), as two server processes would have.
        let app = app(db, &ROTATE).await;
        let other_store = simplejwt::store::connect(&app.db.url, &StoreOptions::default())
            .await
            .unwrap();
        let other = AuthService::new(settings(&ROTATE), other_store, cheap_hasher()).unwrap();
        let services = [app.service.clone(), other];
        let mut token = app.pair("alice").await.0;
        for round in 0..3 {
            let results = together(N, |i| {
                let (service, token) = (services[i % 2].clone(), token.clone());
                async move { service.refresh(&token, &ClientInfo::unknown()).await }
            })
            .await;
            let mut won = winners(round, results);
            assert_eq!(
                won.len(),
                1,
                "round {round}: {} refreshes succeeded",
                won.len()
            );
            token = won.pop().unwrap().refresh.unwrap();
        }
        assert_eq!(app.store.token_counts().await.unwrap(), (4, 3));
    }
);

backend_tests!(
    concurrent_blacklist_of_one_token_succeeds_exactly_once,
    |db| async move {
        let app = app(db, &[]).await;
        let (token, _) = app.pair("alice").await;
        let results = together(N, |_| {
            let (service, token) = (app.service.clone(), token.clone());
            async move { service.blacklist(&token, &ClientInfo::unknown()).await }
        })
        .await;
        assert_eq!(winners(0, results).len(), 1);
        assert_eq!(app.store.token_counts().await.unwrap(), (1, 1));

        // and through HTTP: one 200 {}, the rest 401 blacklisted
        let (token, _) = app.pair("carol").await;
        let responses = together(N, |_| {
            let (app_router, token) = (app.router.clone(), token.clone());
            async move {
                send(
                    &app_router,
                    post(
                        "/api/token/blacklist/",
                        Some("application/json"),
                        serde_json::to_vec(&json!({"refresh": token})).unwrap(),
                    ),
                )
                .await
            }
        })
        .await;
        let ok = responses.iter().filter(|r| r.status == 200).count();
        assert_eq!(ok, 1);
        for r in &responses {
            if r.status == 200 {
                r.expect(200, &json!({}));
            } else {
                r.expect(401, &token_error("Token is blacklisted"));
            }
        }
        assert_eq!(app.store.token_counts().await.unwrap(), (2, 2));
    }
);

backend_tests!(
    concurrent_refresh_and_blacklist_of_one_token_succeed_once_in_total,
    |db| async move {
        let app = app(db, &ROTATE).await;
        let (token, _) = app.pair("alice").await;
        let results = together(N, |i| {
            let (service, token) = (app.service.clone(), token.clone());
            async move {
                if i % 2 == 0 {
                    service
                        .refresh(&token, &ClientInfo::unknown())
                        .await
                        .map(|_| "refresh")
                } else {
                    service
                        .blacklist(&token, &ClientInfo::unknown())
                        .await
                        .map(|_| "blacklist")
                }
            }
        })
        .await;
        let won = winners(0, results);
        assert_eq!(won.len(), 1, "winners: {won:?}");
        let expected = if won[0] == "refresh" { (2, 1) } else { (1, 1) };
        assert_eq!(app.store.token_counts().await.unwrap(), expected);
    }
);

backend_tests!(
    rotation_without_blacklist_lets_every_concurrent_refresh_succeed,
    |db| async move {
        let app = app(db, &[("ROTATE_REFRESH_TOKENS", "true")]).await;
        let (token, _) = app.pair("alice").await;
        let results = together(N, |_| {
            let (service, token) = (app.service.clone(), token.clone());
            async move { service.refresh(&token, &ClientInfo::unknown()).await }
        })
        .await;
        let won = winners(0, results);
        assert_eq!(won.len(), N);
        let distinct: std::collections::HashSet<_> =
            won.iter().map(|r| r.refresh.clone().unwrap()).collect();
        assert_eq!(distinct.len(), N);
        assert_eq!(app.store.token_counts().await.unwrap(), (1 + N as i64, 0));
    }
);
