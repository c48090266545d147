//! `simplejwt import-django`: the move from Django, end to end.
//!
//! The main tests import a database made by the real reference project
//! (`../shared/anchors/simplejwt_ref`: Django 5.2 + djangorestframework-simplejwt
//! 5.5.1) with `tests/django/make_django_db.py` — 3000 users, tokens minted
//! through simplejwt's own views and `RefreshToken.for_user`, some blacklisted
//! — into a fresh SQLite or PostgreSQL database through the real binary, and
//! check the four promises with the same SIGNING_KEY: Django's tokens verify
//! and refresh here, blacklisted ones stay refused, every user logs in with
//! the old password (upgraded to argon2id on that login), and running the
//! import again changes nothing.
//!
//! They need Python with Django and simplejwt installed (the reference
//! server's virtualenv, made by `../shared/anchors/run-simplejwt.sh` or
//! `tests/django/setup.sh`), so they are `#[ignore]`d with that reason in
//! plain `cargo test` and run by `.ci/run` with `--ignored`; run by hand when
//! the virtualenv is missing, they fail saying so (never pass having run
//! nothing). `SIMPLEJWT_DJANGO_PYTHON` names another interpreter.
//!
//! The other tests need no Python: a hand-made SQLite database with Django's
//! column names shows conflicts reported and nothing overwritten.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use serde_json::{json, Value};
use simplejwt::http::{app as make_app, AppState};
use simplejwt::service::AuthService;
use simplejwt::store::{Database, NewUser, StoreOptions};

use common::{cheap_hasher, settings, TestApp, TestDb, SIGNING_KEY};

const BIN: &str = env!("CARGO_BIN_EXE_simplejwt");
/// Users in the Django database.
const USERS: usize = 3000;
const NEEDS_DJANGO: &str = "needs Python with Django 5.2 + djangorestframework-simplejwt 5.5.1: \
     run tests/django/setup.sh, then cargo test --release --test import_django -- --ignored";

/// The Django database and what the script says is in it.
struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    data: Value,
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SIMPLEJWT_DJANGO_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = std::env::var("SIMPLEJWT_REF_VENV").unwrap_or("/tmp/simplejwt-ref-venv".into());
    Path::new(&venv).join("bin/python")
}

fn reference_project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/anchors/simplejwt_ref")
}

/// Made once per test binary (both targets import the same database).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let python = python();
        let probe = Command::new(&python)
            .args(["-c", "import django, rest_framework_simplejwt"])
            .output();
        assert!(
            probe.as_ref().is_ok_and(|o| o.status.success()),
            "{} cannot import Django and simplejwt ({probe:?}): {NEEDS_DJANGO}",
            python.display()
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("django.sqlite3");
        let out = dir.path().join("expected.json");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/django/make_django_db.py");
        let made = Command::new(&python)
            .arg(&script)
            .arg(reference_project())
            .arg(&db)
            .arg(&out)
            .arg(USERS.to_string())
            .env("SIMPLE_JWT_SIGNING_KEY", SIGNING_KEY)
            .env("DJANGO_SECRET_KEY", "import-test-django-secret-key")
            .output()
            .expect("run make_django_db.py");
        assert!(
            made.status.success(),
            "make_django_db.py failed:\n{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let data = serde_json::from_slice(&std::fs::read(&out).expect("expected.json"))
            .expect("expected.json is JSON");
        Fixture {
            _dir: dir,
            db,
            data,
        }
    })
}

/// Runs `simplejwt import-django --from FROM` against `url`; (status, stderr).
fn import(url: &str, from: &Path) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .env_remove("SIMPLEJWT_CONFIG")
        .env("DATABASE_URL", url)
        .env("SIMPLEJWT_LOG", "warn")
        .args(["import-django", "--from"])
        .arg(from)
        .output()
        .expect("run simplejwt import-django");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An app over the imported database with Django's key, rotating refresh
/// tokens (so a Django token's rotation here is exercised too).
async fn app_over(db: TestDb) -> TestApp {
    let store = simplejwt::store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("connect");
    let service = AuthService::builder(
        settings(&[
            ("ROTATE_REFRESH_TOKENS", "true"),
            ("BLACKLIST_AFTER_ROTATION", "true"),
        ]),
        store.clone(),
        cheap_hasher(),
    )
    .build()
    .expect("service");
    let router = make_app(AppState::new(service.clone()));
    TestApp {
        service,
        store,
        router,
        db,
    }
}

/// Every user row, for before/after comparisons.
async fn snapshot(store: &Arc<dyn Database>) -> Vec<String> {
    let mut rows = Vec::new();
    for id in 1..=USERS as i64 + 1 {
        if let Some(u) = store.user_by_id(id).await.expect("read user") {
            rows.push(format!(
                "{} {} {} {} {} {} {} {} {} {} {:?}",
                u.id,
                u.username,
                u.password,
                u.email,
                u.first_name,
                u.last_name,
                u.is_active,
                u.is_staff,
                u.is_superuser,
                u.date_joined,
                u.last_login
            ));
        }
    }
    rows
}

async fn django_database_moves_over(db: TestDb) {
    let fx = fixture();
    let users = fx.data["users"].as_array().expect("users");
    assert_eq!(users.len(), USERS);

    // 1. Import: everything new.
    let (code, err) = import(&db.url, &fx.db);
    assert_eq!(code, Some(0), "import failed:\n{err}");
    assert!(
        err.contains(&format!(
            "{USERS} in Django; {USERS} imported now, 0 already here, 0 in conflict"
        )),
        "{err}"
    );
    assert!(
        err.contains("2 user(s) have a password this server cannot verify (md5: 1, unusable: 1)"),
        "the md5 and the unusable password are reported: {err}"
    );
    let app = app_over(db).await;
    let (outstanding, blacklisted) = app.store.token_counts().await.expect("counts");
    assert_eq!(outstanding, fx.data["outstanding"].as_i64().unwrap());
    assert_eq!(blacklisted, fx.data["blacklisted"].as_i64().unwrap());

    // Every column of every user, ids kept.
    for u in users {
        let id = u["id"].as_i64().unwrap();
        let here = app
            .store
            .user_by_id(id)
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("user {id} imported"));
        assert_eq!(here.username, u["username"].as_str().unwrap());
        assert_eq!(here.password, u["hash"].as_str().unwrap(), "hash of {id}");
        assert_eq!(here.email, u["email"].as_str().unwrap());
        assert_eq!(here.first_name, u["first_name"].as_str().unwrap());
        assert_eq!(here.last_name, u["last_name"].as_str().unwrap());
        assert_eq!(here.is_active, u["is_active"].as_bool().unwrap());
        assert_eq!(here.is_staff, u["is_staff"].as_bool().unwrap());
        assert_eq!(here.is_superuser, u["is_superuser"].as_bool().unwrap());
        assert_eq!(here.date_joined, u["date_joined"].as_i64().unwrap());
        assert_eq!(
            here.last_login,
            u["last_login"].as_i64(),
            "last_login of {id}"
        );
    }

    // 2. Tokens minted by the Django server: access tokens authenticate,
    // refresh tokens verify and refresh unless blacklisted there.
    let http_tokens = fx.data["http_tokens"].as_array().expect("http tokens");
    assert!(http_tokens.len() >= 8);
    for t in http_tokens {
        let name = t["username"].as_str().unwrap();
        let refresh = t["refresh"].as_str().unwrap();
        let r = app.protected(t["access"].as_str().unwrap()).await;
        r.expect(200, &json!({"message": format!("Welcome, {name}!")}));
        if t["blacklisted"].as_bool().unwrap() {
            // simplejwt 5.5.1's answers to a blacklisted refresh token.
            app.verify(refresh)
                .await
                .expect(400, &json!({"non_field_errors": ["Token is blacklisted"]}));
            let r = app.refresh(refresh).await;
            r.expect_status(401);
            assert_eq!(r.json()["code"], "token_not_valid");
        } else {
            app.verify(refresh).await.expect(200, &json!({}));
            let r = app.refresh(refresh).await;
            r.expect_status(200);
            let r2 = app.protected(&r.str("access")).await;
            r2.expect(200, &json!({"message": format!("Welcome, {name}!")}));
            // Rotated here: the Django token is used up, its successor works.
            app.refresh(refresh).await.expect_status(401);
            app.refresh(&r.str("refresh")).await.expect_status(200);
        }
    }
    let bulk = fx.data["bulk_tokens"].as_array().expect("bulk tokens");
    assert!(bulk.iter().any(|t| t["blacklisted"] == true));
    for t in bulk {
        let status = if t["blacklisted"].as_bool().unwrap() {
            400
        } else {
            200
        };
        app.verify(t["refresh"].as_str().unwrap())
            .await
            .expect_status(status);
    }

    // 3. Old passwords log in, and are upgraded to argon2id by that login.
    let by_kind = |kind: &str| -> Vec<&Value> {
        users
            .iter()
            .filter(|u| u["kind"] == kind && u["is_active"] == true)
            .collect()
    };
    let mut logins: Vec<&Value> = by_kind("pbkdf2_sha256"); // Django's 1,000,000 iterations
    logins.extend(by_kind("pbkdf2_sha1"));
    logins.extend(by_kind("pbkdf2_sha256-fast").into_iter().step_by(150));
    assert!(logins.len() >= 20);
    for (i, u) in logins.iter().enumerate() {
        let (name, password) = (
            u["username"].as_str().unwrap(),
            u["password"].as_str().unwrap(),
        );
        app.login(name, password).await.expect_status(200);
        let stored = app
            .store
            .user_by_username(name)
            .await
            .unwrap()
            .unwrap()
            .password;
        assert!(
            stored.starts_with("argon2$argon2id$"),
            "{name}'s hash upgraded on login: {stored}"
        );
        app.login(name, password).await.expect_status(200);
        if i < 3 {
            // (Each failed login costs the largest PBKDF2 count met: a few.)
            app.login(name, "wrong-password").await.expect_status(401);
        }
    }
    for u in by_kind("md5").into_iter().chain(by_kind("unusable")) {
        let (name, password) = (
            u["username"].as_str().unwrap(),
            u["password"].as_str().unwrap(),
        );
        app.login(name, password).await.expect_status(401);
    }
    let inactive = users.iter().find(|u| u["is_active"] == false).unwrap();
    app.login(
        inactive["username"].as_str().unwrap(),
        inactive["password"].as_str().unwrap(),
    )
    .await
    .expect_status(401);

    // 4. Again: nothing changes — not the upgraded hashes, not the tokens
    // rotated here (their Django blacklist state is not put back).
    let before = snapshot(&app.store).await;
    let counts = app.store.token_counts().await.unwrap();
    let (code, err) = import(&app.db.url, &fx.db);
    assert_eq!(code, Some(0), "second import failed:\n{err}");
    assert!(
        err.contains(&format!(
            "{USERS} in Django; 0 imported now, {USERS} already here, 0 in conflict"
        )),
        "{err}"
    );
    assert!(err.contains("0 recorded now, 0 blacklisted now"), "{err}");
    assert_eq!(snapshot(&app.store).await, before);
    assert_eq!(app.store.token_counts().await.unwrap(), counts);
    let upgraded = logins[0]["username"].as_str().unwrap();
    app.login(upgraded, logins[0]["password"].as_str().unwrap())
        .await
        .expect_status(200);

    // New accounts continue after the imported ids.
    let new = app
        .store
        .create_user(
            &NewUser {
                username: "after-the-move".into(),
                password_hash: "!".into(),
                email: String::new(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
            },
            0,
        )
        .await
        .expect("create a user after the import");
    assert_eq!(new.id, USERS as i64 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with Django and simplejwt: tests/django/setup.sh, then --ignored"]
async fn django_database_moves_over_to_sqlite() {
    django_database_moves_over(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with Django and simplejwt: tests/django/setup.sh, then --ignored"]
async fn django_database_moves_over_to_postgres() {
    django_database_moves_over(TestDb::postgres().await).await;
}

// ---- without Python ---------------------------------------------------------

/// A SQLite file with Django's `auth_user` columns and these rows
/// (id, username, password); no token tables.
fn hand_made_django(dir: &Path, users: &[(i64, &str, &str)]) -> PathBuf {
    let path = dir.join("django.sqlite3");
    let conn = rusqlite::Connection::open(&path).expect("create");
    conn.execute_batch(
        "CREATE TABLE auth_user (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
         password varchar(128) NOT NULL, last_login datetime NULL, is_superuser bool NOT NULL, \
         username varchar(150) NOT NULL UNIQUE, first_name varchar(150) NOT NULL, \
         last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, is_staff bool NOT NULL, \
         is_active bool NOT NULL, date_joined datetime NOT NULL)",
    )
    .expect("schema");
    for (id, name, password) in users {
        conn.execute(
            "INSERT INTO auth_user VALUES (?1, ?2, NULL, 0, ?3, '', '', '', 0, 1, \
             '2024-02-29 12:00:00.5')",
            rusqlite::params![id, password, name],
        )
        .expect("insert");
    }
    path
}

#[test]
fn conflicting_users_are_reported_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/target.sqlite3", dir.path().display());
    let from = hand_made_django(
        dir.path(),
        &[
            (1, "alice", "pbkdf2_sha256$1$salt$x"),
            (2, "bob", "pbkdf2_sha256$1$salt$y"),
            (3, "carol", "pbkdf2_sha256$1$salt$z"),
            (4, "dave", "bcrypt_sha256$$2b$12$x"),
        ],
    );
    // The target already has `admin` as id 1 (what `serve` creates on a
    // first start) and a "carol" of its own as id 2.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = simplejwt::store::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        for name in ["admin", "carol"] {
            let new = NewUser {
                username: name.into(),
                password_hash: "keep-me".into(),
                email: String::new(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
            };
            store.create_user(&new, 0).await.unwrap();
        }
        store.close().await;
    });
    let (code, err) = import(&url, &from);
    assert_eq!(code, Some(1), "conflicts fail the command:\n{err}");
    assert!(
        err.contains("1 imported now, 0 already here, 3 in conflict"),
        "{err}"
    );
    assert!(
        err.contains("Django user 1 \"alice\": id 1 is \"admin\" here"),
        "{err}"
    );
    assert!(
        err.contains("Django user 2 \"bob\": id 2 is \"carol\" here"),
        "{err}"
    );
    assert!(
        err.contains("Django user 3 \"carol\": \"carol\" has id 2 here"),
        "{err}"
    );
    assert!(err.contains("(bcrypt_sha256: 1)"), "{err}");
    assert!(
        err.contains("no token_blacklist_outstandingtoken table"),
        "{err}"
    );
    let rows: HashMap<i64, (String, String)> = {
        let path = simplejwt::store::sqlite_file(&url).unwrap().unwrap();
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, username, password FROM users")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        rows[&1],
        ("admin".into(), "keep-me".into()),
        "never overwritten"
    );
    assert_eq!(
        rows[&2],
        ("carol".into(), "keep-me".into()),
        "never overwritten"
    );
    assert_eq!(rows[&4], ("dave".into(), "bcrypt_sha256$$2b$12$x".into()));
    assert_eq!(rows.len(), 3);
}

#[test]
fn a_missing_source_is_a_clear_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/target.sqlite3", dir.path().display());
    let (code, err) = import(&url, &dir.path().join("nope.sqlite3"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("nope.sqlite3: no such file"), "{err}");
    assert!(!dir.path().join("nope.sqlite3").exists());
    assert!(
        !dir.path().join("target.sqlite3").exists(),
        "target untouched"
    );
}
