//! Several `simplejwt serve` processes sharing one PostgreSQL database, as
//! teams run them behind a load balancer. Every check goes through real
//! server processes and the real CLI, so what holds here holds in production:
//! rotation is claimed in the database (exactly once across instances), the
//! blacklist and user state are read from it on every request, and the
//! families of issue 15 hold across processes: a replay racing the
//! legitimate refresh of one family (barrier-released, on two instances)
//! ends the family whichever the database takes first — no live branch, no
//! working token for the thief — and a grace retry racing its original gets
//! the same successor, never a second branch.
//!
//! Runs on SIMPLEJWT_TEST_DATABASE_URL or the local PostgreSQL (ignored when built with
//! SIMPLEJWT_SKIP_POSTGRES=1).

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use serde_json::{json, Value};

const KEY: &str = "multi-instance-test-signing-key-0123456789abcdef0123456789abcdef";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_simplejwt")
}

fn clean_command(url: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("SIMPLE_JWT_") || k.starts_with("SIMPLEJWT_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("DATABASE_URL", url)
        .env("SIMPLE_JWT_SIGNING_KEY", KEY)
        .env("SIMPLEJWT_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn cli(url: &str, env: &[(&str, &str)], args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = clean_command(url, env)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run simplejwt");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "simplejwt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn seed(db: &TestDb) {
    let url = db.url.as_str();
    cli(url, &[], &["migrate"], "");
    cli(
        url,
        &[],
        &["createuser", "alice", "--password-stdin"],
        "alice-Password-1",
    );
    cli(
        url,
        &[],
        &["createuser", "bob", "--password-stdin", "--inactive"],
        "bob-Password-1",
    );
    cli(
        url,
        &[],
        &["createuser", "carol", "--password-stdin"],
        "carol-Password-1",
    );
}

struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(db: &TestDb, env: &[(&str, &str)]) -> Instance {
    let port = free_port();
    let child = clean_command(&db.url, env)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start simplejwt serve");
    let instance = Instance {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if client
            .get(format!("{}/api/protected/", instance.base))
            .send()
            .await
            .is_ok()
        {
            return instance;
        }
        assert!(
            Instant::now() < deadline,
            "instance on port {port} did not start"
        );
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn post(client: &reqwest::Client, base: &str, path: &str, body: Value) -> (u16, Value) {
    let r = client
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `POST /api/token/refresh/` with a refresh token.
async fn refresh(client: &reqwest::Client, base: &str, token: &Value) -> (u16, Value) {
    post(
        client,
        base,
        "/api/token/refresh/",
        json!({"refresh": token}),
    )
    .await
}

/// `POST /api/token/blacklist/` with a refresh token.
async fn blacklist(client: &reqwest::Client, base: &str, token: &Value) -> (u16, Value) {
    post(
        client,
        base,
        "/api/token/blacklist/",
        json!({"refresh": token}),
    )
    .await
}

async fn login(client: &reqwest::Client, base: &str, user: &str, password: &str) -> Value {
    let (status, body) = post(
        client,
        base,
        "/api/token/",
        json!({"username": user, "password": password}),
    )
    .await;
    assert_eq!(status, 200, "login {user}: {body}");
    body
}

async fn protected(client: &reqwest::Client, base: &str, access: &str) -> (u16, Value) {
    let r = client
        .get(format!("{base}/api/protected/"))
        .bearer_auth(access)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const ROTATE: &[(&str, &str)] = &[
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
];

fn blacklisted() -> Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn refresh_rotated_on_one_instance_is_refused_on_the_other_at_once() {
    let db = TestDb::postgres().await;
    seed(&db);
    let (a, b) = (start(&db, ROTATE).await, start(&db, ROTATE).await);
    let client = reqwest::Client::new();
    let pair = login(&client, &a.base, "alice", "alice-Password-1").await;
    let (status, rotated) = refresh(&client, &a.base, &pair["refresh"]).await;
    assert_eq!(status, 200);
    let (status, body) = refresh(&client, &b.base, &pair["refresh"]).await;
    assert_eq!((status, body), (401, blacklisted()));
    // The successor minted on A works on B.
    let (status, _) = refresh(&client, &b.base, &rotated["refresh"]).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn fifty_concurrent_refreshes_over_two_instances_succeed_exactly_once() {
    let db = TestDb::postgres().await;
    seed(&db);
    let (a, b) = (start(&db, ROTATE).await, start(&db, ROTATE).await);
    let rounds = race_rounds(10);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let mut token = login(&client, &a.base, "alice", "alice-Password-1").await["refresh"].clone();
    let mut wins_per_round = Vec::new();
    for round in 0..rounds {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(50));
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let base = if i % 2 == 0 {
                    a.base.clone()
                } else {
                    b.base.clone()
                };
                let (client, barrier, token) = (client.clone(), barrier.clone(), token.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    refresh(&client, &base, &token).await
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            let (status, body) = t.await.unwrap();
            match status {
                200 => winners.push(body),
                401 => assert_eq!(body, blacklisted(), "round {round}"),
                other => panic!("round {round}: unexpected {other} {body}"),
            }
        }
        wins_per_round.push(winners.len());
        assert_eq!(
            winners.len(),
            1,
            "round {round}: one refresh token redeemed {} times",
            winners.len()
        );
        token = winners[0]["refresh"].clone();
    }
    println!("2 instances x 50 concurrent refreshes, {rounds} rounds, successes per round: {wins_per_round:?}");
    // The database agrees: one blacklist row per round, login + one successor per round outstanding.
    let store = simplejwt::store::connect(&db.url, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        store.token_counts().await.unwrap(),
        (rounds as i64 + 1, rounds as i64)
    );
}

/// Rotation with reuse detection (no grace: every replay of a rotated-out
/// token is reuse) and access-token revocation.
const DETECT: &[(&str, &str)] = &[
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("SIMPLE_JWT_REFRESH_REUSE_DETECTION", "true"),
    ("SIMPLE_JWT_SESSION_ID_CLAIM", "sid"),
    ("SIMPLE_JWT_ACCESS_TOKEN_REVOCATION", "true"),
    // Each round's reuse is a security event logged at warn: expected here.
    ("SIMPLEJWT_LOG", "error"),
];

/// [`DETECT`] with a grace period for lost responses.
const DETECT_WITH_GRACE: &[(&str, &str)] = &[
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("SIMPLE_JWT_REFRESH_REUSE_DETECTION", "true"),
    ("SIMPLE_JWT_REFRESH_REUSE_GRACE", "10s"),
    ("SIMPLE_JWT_SESSION_ID_CLAIM", "sid"),
    ("SIMPLE_JWT_ACCESS_TOKEN_REVOCATION", "true"),
];

/// How many families a race test runs through: `SIMPLEJWT_RACE_ROUNDS`, or `default`.
fn race_rounds(default: usize) -> usize {
    std::env::var("SIMPLEJWT_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Refreshes `(base, token)` pairs released together by a barrier (no
/// sleeps); the answers in the order given.
async fn refresh_together(
    client: &reqwest::Client,
    requests: &[(&str, &Value)],
) -> Vec<(u16, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .iter()
        .map(|(base, token)| {
            let (client, barrier) = (client.clone(), barrier.clone());
            let (base, token) = (base.to_string(), (*token).clone());
            tokio::spawn(async move {
                barrier.wait().await;
                refresh(&client, &base, &token).await
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for t in tasks {
        answers.push(t.await.expect("request task"));
    }
    answers
}

/// The `jti` of a token.
fn jti_of(token: &Value) -> String {
    decode_claims(token.as_str().expect("a token"))["jti"]
        .as_str()
        .expect("jti")
        .to_owned()
}

/// Read straight from the database: whether the session of the token `jti`
/// has ended, and how many of its refresh tokens are not blacklisted (live
/// branches, whether or not any client saw them).
async fn family_state(conn: &mut sqlx::postgres::PgConnection, jti: &str) -> (bool, i64) {
    sqlx::query_as(
        "SELECT s.revoked_at IS NOT NULL, \
         (SELECT COUNT(*) FROM outstanding_tokens o WHERE o.session_id = s.id \
          AND NOT EXISTS (SELECT 1 FROM blacklisted_tokens b WHERE b.token_id = o.id)) \
         FROM sessions s JOIN outstanding_tokens t ON t.session_id = s.id WHERE t.jti = $1",
    )
    .bind(jti)
    .fetch_one(conn)
    .await
    .expect("the token's session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn a_replay_racing_a_legitimate_refresh_over_two_instances_ends_the_family_and_leaves_the_thief_nothing(
) {
    use sqlx::Connection as _;
    let db = TestDb::postgres().await;
    seed(&db);
    let (a, b) = (start(&db, DETECT).await, start(&db, DETECT).await);
    let client = reqwest::Client::new();
    let mut conn = sqlx::postgres::PgConnection::connect(&db.url)
        .await
        .unwrap();
    let rounds = race_rounds(50);
    // Which request the database took first, per round (printed: both
    // orders should show up, or the race was not really run).
    let (mut legitimate_first, mut thief_first) = (0, 0);
    for round in 0..rounds {
        // A family: login (r0) and one rotation (r0 → r1). The thief holds
        // the rotated-out r0; the user holds r1.
        let login_pair = login(&client, &a.base, "alice", "alice-Password-1").await;
        let (status, rotated) = refresh(&client, &a.base, &login_pair["refresh"]).await;
        assert_eq!(status, 200, "round {round}: {rotated}");
        let (r0, r1) = (&login_pair["refresh"], &rotated["refresh"]);

        // The user refreshes r1 on A while the thief replays r0 on B.
        let answers = refresh_together(&client, &[(&a.base, r1), (&b.base, r0)]).await;
        let (legitimate, thief) = (&answers[0], &answers[1]);
        assert_eq!(
            thief,
            &(401, blacklisted()),
            "round {round}: the thief's replay was answered"
        );
        let mut refresh_tokens = vec![r0.clone(), r1.clone()];
        let mut access_tokens = vec![login_pair["access"].clone(), rotated["access"].clone()];
        match legitimate.0 {
            200 => {
                legitimate_first += 1;
                refresh_tokens.push(legitimate.1["refresh"].clone());
                access_tokens.push(legitimate.1["access"].clone());
            }
            401 => {
                thief_first += 1;
                assert_eq!(legitimate.1, blacklisted(), "round {round}");
            }
            other => panic!(
                "round {round}: the refresh answered {other} {}",
                legitimate.1
            ),
        }

        // Reuse was detected whichever came first: the session has ended and
        // no refresh token of it is live, seen by a client or not …
        assert_eq!(
            family_state(&mut conn, &jti_of(r1)).await,
            (true, 0),
            "round {round}: (session ended, live refresh tokens) after the race"
        );
        // … and no token handed out in the family works on either instance.
        for base in [&a.base, &b.base] {
            for token in &refresh_tokens {
                assert_eq!(
                    refresh(&client, base, token).await,
                    (401, blacklisted()),
                    "round {round}: a refresh token of the family still works on {base}"
                );
            }
            for token in &access_tokens {
                let (status, body) = protected(&client, base, token.as_str().unwrap()).await;
                assert_eq!(
                    status, 401,
                    "round {round}: an access token of the family still works on {base}: {body}"
                );
            }
        }
    }
    println!(
        "{rounds} families over 2 instances: the refresh answered first {legitimate_first} times, \
         the replay first {thief_first} times"
    );
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn within_grace_the_parent_presented_on_two_instances_at_once_leaves_one_live_branch() {
    use sqlx::Connection as _;
    let db = TestDb::postgres().await;
    seed(&db);
    let (a, b) = (
        start(&db, DETECT_WITH_GRACE).await,
        start(&db, DETECT_WITH_GRACE).await,
    );
    let client = reqwest::Client::new();
    let mut conn = sqlx::postgres::PgConnection::connect(&db.url)
        .await
        .unwrap();
    for round in 0..race_rounds(50) {
        let parent = login(&client, &a.base, "alice", "alice-Password-1").await["refresh"].clone();
        // A client whose first response was lost retries on the other
        // instance while the first request is still in flight.
        let answers = refresh_together(&client, &[(&a.base, &parent), (&b.base, &parent)]).await;
        for (status, body) in &answers {
            assert_eq!(*status, 200, "round {round}: within grace: {body}");
        }
        let successors: std::collections::BTreeSet<String> = answers
            .iter()
            .map(|(_, body)| jti_of(&body["refresh"]))
            .collect();
        assert_eq!(
            successors.len(),
            1,
            "round {round}: one parent, two successors: {successors:?}"
        );
        assert_eq!(
            family_state(&mut conn, &jti_of(&parent)).await,
            (false, 1),
            "round {round}: (session ended, live refresh tokens) after the race"
        );
        // That one branch lives on.
        let (status, body) = refresh(&client, &b.base, &answers[0].1["refresh"]).await;
        assert_eq!(status, 200, "round {round}: {body}");
    }
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn token_blacklisted_on_one_instance_is_refused_by_the_other() {
    let db = TestDb::postgres().await;
    seed(&db);
    let (a, b) = (start(&db, &[]).await, start(&db, &[]).await);
    let client = reqwest::Client::new();
    let pair = login(&client, &b.base, "carol", "carol-Password-1").await;
    let (status, _) = blacklist(&client, &a.base, &pair["refresh"]).await;
    assert_eq!(status, 200);
    let (status, body) = refresh(&client, &b.base, &pair["refresh"]).await;
    assert_eq!((status, body), (401, blacklisted()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn deactivation_and_password_change_take_effect_on_every_instance_at_the_next_request() {
    let db = TestDb::postgres().await;
    seed(&db);
    let revoke = &[("SIMPLE_JWT_CHECK_REVOKE_TOKEN", "true")];
    let (a, b) = (start(&db, revoke).await, start(&db, revoke).await);
    let client = reqwest::Client::new();

    let pair = login(&client, &a.base, "alice", "alice-Password-1").await;
    let access = pair["access"].as_str().unwrap();
    assert_eq!(protected(&client, &b.base, access).await.0, 200);
    cli(&db.url, &[], &["setactive", "alice", "false"], "");
    assert_eq!(
        protected(&client, &b.base, access).await,
        (
            401,
            json!({"detail": "User is inactive", "code": "user_inactive"})
        )
    );
    let (status, body) = refresh(&client, &a.base, &pair["refresh"]).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"detail": "No active account found for the given token."})
        )
    );
    cli(&db.url, &[], &["setactive", "alice", "true"], "");
    assert_eq!(protected(&client, &b.base, access).await.0, 200);

    cli(
        &db.url,
        &[],
        &["changepassword", "alice", "--password-stdin"],
        "alice-New-Password-2",
    );
    assert_eq!(
        protected(&client, &b.base, access).await,
        (
            401,
            json!({"detail": "The user's password has been changed.", "code": "password_changed"})
        )
    );
    let (status, _) = post(
        &client,
        &b.base,
        "/api/token/",
        json!({"username": "alice", "password": "alice-Password-1"}),
    )
    .await;
    assert_eq!(status, 401);
    login(&client, &a.base, "alice", "alice-New-Password-2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn flush_during_traffic_deletes_only_expired_rows_and_keeps_live_blacklist_entries() {
    let db = TestDb::postgres().await;
    seed(&db);
    let short = start(&db, &[("SIMPLE_JWT_REFRESH_TOKEN_LIFETIME", "1s")]).await;
    let long = start(&db, &[]).await;
    let client = reqwest::Client::new();

    // 30 tokens that will expire, 20 live tokens of which 10 are blacklisted.
    let mut latest_exp = 0;
    for _ in 0..30 {
        let pair = login(&client, &short.base, "alice", "alice-Password-1").await;
        let claims = decode_claims(pair["refresh"].as_str().unwrap());
        latest_exp = latest_exp.max(claims["exp"].as_i64().unwrap());
    }
    let mut live_blacklisted = Vec::new();
    let mut live = Vec::new();
    for i in 0..20 {
        let pair = login(&client, &long.base, "carol", "carol-Password-1").await;
        if i % 2 == 0 {
            let (status, _) = blacklist(&client, &long.base, &pair["refresh"]).await;
            assert_eq!(status, 200);
            live_blacklisted.push(pair["refresh"].clone());
        } else {
            live.push(pair["refresh"].clone());
        }
    }
    // Wait (by the clock the rows are judged by) until the short tokens have expired.
    while (simplejwt::token::Timestamp::now().epoch()) <= latest_exp {
        std::thread::sleep(Duration::from_millis(100));
    }

    // Traffic on the long-lived tokens while the flush runs in small batches.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = {
        let (client, base, live, stop) = (
            client.clone(),
            long.base.clone(),
            live.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n == 0 {
                let token = &live[n % live.len()];
                let (status, body) = refresh(&client, &base, token).await;
                assert_eq!(status, 200, "refresh during flush: {body}");
                n += 1;
            }
            n
        })
    };
    let out = tokio::task::spawn_blocking({
        let url = db.url.clone();
        move || cli(&url, &[], &["flushexpiredtokens", "--batch", "7"], "")
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let requests = traffic.await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Deleted 30 expired token(s)"), "{stderr}");
    assert!(requests > 0);

    let store = simplejwt::store::connect(&db.url, &Default::default())
        .await
        .unwrap();
    assert_eq!(store.token_counts().await.unwrap(), (20, 10));
    for token in &live_blacklisted {
        let (status, body) = refresh(&client, &long.base, token).await;
        assert_eq!((status, body), (401, blacklisted()));
    }
}

fn decode_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn an_instance_refuses_to_start_on_a_schema_newer_than_it_knows() {
    let db = TestDb::postgres().await;
    seed(&db);
    let mut conn = <sqlx::postgres::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, '\\x00'::bytea, 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for args in [&["serve", "--bind", "127.0.0.1:0"][..], &["migrate"][..]] {
        let out = clean_command(&db.url, &[])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} started on a newer schema");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("newer version"), "{args:?}: {stderr}");
    }
    let out = clean_command(&db.url, &[("SIMPLEJWT_MIGRATE_ON_START", "false")])
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer version"));
}
