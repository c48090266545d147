//! Login timing: does a failed login tell an attacker whether the account
//! exists? Four failures go through the whole service (`obtain_pair`, the
//! SQLite user read, the hasher on its blocking pool), interleaved in a random
//! order each round so drift hits all alike:
//!
//! - `argon2 user, wrong password`: a user whose hash this server wrote;
//! - `pbkdf2 user, wrong password`: a user imported from Django 5.2
//!   (`pbkdf2_sha256$1000000$…`), as after an import before their first login;
//! - `inactive user, right password`;
//! - `unknown user`.
//!
//! Prints each median with its 95 % confidence interval (distribution-free,
//! from order statistics) and whether all medians agree within 5 % of the
//! smallest; exits 1 when they do not.
//!
//! ```text
//! cargo bench --bench login_timing            # 60 rounds
//! LOGIN_TIMING_ROUNDS=100 cargo bench --bench login_timing
//! ```
//!
//! Hasher: the server's defaults (argon2id m = 19 MiB, t = 2, p = 1) and
//! `HASH_PBKDF2_FLOOR` at 0: the floor is learned in the warm-up round, when
//! the pbkdf2 user's first failure is met.

use std::time::{Duration, Instant};

use rand::seq::SliceRandom as _;

use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::service::{AuthService, ClientInfo};
use simplejwt::settings::Settings;
use simplejwt::store::{NewUser, StoreOptions};

/// Django 5.2's `make_password("secret", "abcdefghijklmnopqrstuv")`.
const DJANGO_PBKDF2_1M: &str =
    "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$tW94pSigUM2AlIkWSQO4yVeVgz1Hy8/tw6HFhR010Gk=";

fn main() {
    let rounds: usize = std::env::var("LOGIN_TIMING_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let ok = runtime.block_on(run(rounds));
    std::process::exit(if ok { 0 } else { 1 });
}

async fn run(rounds: usize) -> bool {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/bench.sqlite3", dir.path().display());
    let store = simplejwt::store::connect(&url, &StoreOptions::default())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let hasher = PasswordHasher::new(HasherConfig::default()).expect("hasher");
    let users = [
        (
            "argon",
            hasher.hash("argon-Password-1").await.unwrap(),
            true,
        ),
        ("django", DJANGO_PBKDF2_1M.to_owned(), true),
        (
            "sleeper",
            hasher.hash("sleeper-Password-1").await.unwrap(),
            false,
        ),
    ];
    for (username, hash, active) in users {
        store
            .create_user(
                &NewUser {
                    username: username.into(),
                    password_hash: hash,
                    email: String::new(),
                    is_active: active,
                    is_staff: false,
                    is_superuser: false,
                },
                0,
            )
            .await
            .expect("create user");
    }
    let settings = Settings::from_pairs([(
        "SIGNING_KEY",
        "login-timing-benchmark-key-0123456789abcdef0123456789",
    )])
    .expect("settings");
    let service = AuthService::new(settings, store, hasher).expect("service");
    let cases: [(&str, &str, &str); 4] = [
        ("argon2 user, wrong password", "argon", "wrong-Password-1"),
        ("pbkdf2 user, wrong password", "django", "wrong-Password-1"),
        (
            "inactive user, right password",
            "sleeper",
            "sleeper-Password-1",
        ),
        ("unknown user", "nobody", "wrong-Password-1"),
    ];
    let client = ClientInfo::default();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); cases.len()];
    // Round 0 warms up (and meets the pbkdf2 hash, which sets the floor).
    // Each round takes the cases in a new random order: no case always
    // follows the same one.
    let mut order: Vec<usize> = (0..cases.len()).collect();
    for round in 0..=rounds {
        order.shuffle(&mut rand::thread_rng());
        for &i in &order {
            let (_, username, password) = cases[i];
            let started = Instant::now();
            let result = service.obtain_pair(username, password, &client).await;
            let took = started.elapsed();
            assert!(result.is_err(), "{username} logged in");
            if round > 0 {
                samples[i].push(took);
            }
        }
    }
    println!("login failures, {rounds} rounds, median [95% CI] in ms:");
    let mut medians = Vec::new();
    for ((name, _, _), s) in cases.iter().zip(&mut samples) {
        s.sort();
        let (median, low, high) = median_ci(s);
        medians.push(median);
        println!(
            "  {name:<32} {:>8.2}  [{:>8.2}, {:>8.2}]",
            ms(median),
            ms(low),
            ms(high)
        );
    }
    let min = medians.iter().min().copied().unwrap_or_default();
    let max = medians.iter().max().copied().unwrap_or_default();
    let spread = (ms(max) - ms(min)) / ms(min) * 100.0;
    let ok = spread <= 5.0;
    println!(
        "largest difference between medians: {spread:.1} % ({})",
        if ok { "within 5 %" } else { "NOT within 5 %" }
    );
    ok
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median of sorted samples with a 95 % confidence interval from order
/// statistics (ranks n/2 ± 1.96·√n/2, the normal approximation to the
/// binomial; no assumption about the distribution of times).
fn median_ci(sorted: &[Duration]) -> (Duration, Duration, Duration) {
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    };
    let half = 1.96 * (n as f64).sqrt() / 2.0;
    let low = ((n as f64 / 2.0 - half).floor().max(0.0)) as usize;
    let high = ((n as f64 / 2.0 + half).ceil() as usize).min(n - 1);
    (median, sorted[low], sorted[high])
}
