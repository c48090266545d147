//! simplejwt as a library inside an application of its own: the application
//! keeps its users in its own table (a Django `auth_user`, in its own SQLite
//! file, read through `UserStore`) while tokens stay in our database; it
//! mounts only the obtain and refresh endpoints next to its own routes; and
//! its own handler answers with `AuthError` — whose 401 carries the
//! `WWW-Authenticate` challenge. Events reach the application's own sink.

#[macro_use]
mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use common::*;
use serde_json::json;
use simplejwt::http::{AppState, Endpoint, Routes};
use simplejwt::service::{AuthService, Event, EventKind, EventSink};
use simplejwt::store::{StoreError, User, UserStore};
use simplejwt::{AuthError, AuthUser};

/// Django's `auth_user`, as `manage.py migrate` creates it (SQLite dialect).
const AUTH_USER: &str = "CREATE TABLE auth_user (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    password varchar(128) NOT NULL,
    last_login datetime NULL,
    is_superuser bool NOT NULL,
    username varchar(150) NOT NULL UNIQUE,
    last_name varchar(150) NOT NULL,
    email varchar(254) NOT NULL,
    is_staff bool NOT NULL,
    is_active bool NOT NULL,
    date_joined datetime NOT NULL,
    first_name varchar(150) NOT NULL)";

/// Django's PBKDF2 hash of `secret` (Python `make_password`-compatible, 1 iteration
/// so the test stays fast; a real table has Django's 1,000,000).
fn django_hash(password: &str) -> String {
    use base64::Engine as _;
    let mut dk = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), b"saltsaltsalt", 1, &mut dk);
    format!(
        "pbkdf2_sha256$1$saltsaltsalt${}",
        base64::engine::general_purpose::STANDARD.encode(dk)
    )
}

/// The application's users table, read with its own driver.
struct DjangoUsers {
    path: PathBuf,
}

impl DjangoUsers {
    fn create(path: PathBuf) -> Self {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(AUTH_USER, []).unwrap();
        for (name, password, staff, active) in [
            ("erin", "erin-Password-1", true, true),
            ("frank", "frank-Password-1", false, true),
            ("gone", "gone-Password-1", false, false),
        ] {
            conn.execute(
                "INSERT INTO auth_user (password, is_superuser, username, last_name, email, \
                 is_staff, is_active, date_joined, first_name) \
                 VALUES (?1, 0, ?2, '', '', ?3, ?4, '2024-01-01 00:00:00', '')",
                rusqlite::params![django_hash(password), name, staff, active],
            )
            .unwrap();
        }
        Self { path }
    }

    fn one(&self, clause: &str, param: &dyn rusqlite::ToSql) -> Result<Option<User>, StoreError> {
        use rusqlite::OptionalExtension as _;
        let conn = rusqlite::Connection::open(&self.path)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sql = format!(
            "SELECT id, username, password, email, first_name, last_name, is_active, is_staff, \
             is_superuser FROM auth_user WHERE {clause}"
        );
        conn.query_row(&sql, [param], |r| {
            Ok(User {
                id: r.get(0)?,
                username: r.get(1)?,
                password: r.get(2)?,
                email: r.get(3)?,
                first_name: r.get(4)?,
                last_name: r.get(5)?,
                is_active: r.get(6)?,
                is_staff: r.get(7)?,
                is_superuser: r.get(8)?,
                date_joined: 0,
                last_login: None,
            })
        })
        .optional()
        .map_err(|e| StoreError::Other(e.to_string()))
    }
}

#[simplejwt::store::async_trait]
impl UserStore for DjangoUsers {
    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.one("id = ?1", &id)
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.one("username = ?1", &username)
    }
}

/// The application's event sink: it keeps what it is told.
#[derive(Default)]
struct Recorder(Mutex<Vec<(EventKind, Option<String>)>>);

impl EventSink for Recorder {
    fn record(&self, e: &Event<'_>) {
        let mut events = self.0.lock().unwrap();
        events.push((e.kind, e.username.map(str::to_owned)));
    }
}

/// The application's state, holding ours.
#[derive(Clone)]
struct Shop {
    auth: AppState,
}

impl FromRef<Shop> for AppState {
    fn from_ref(s: &Shop) -> Self {
        s.auth.clone()
    }
}

impl FromRef<Shop> for AuthService {
    fn from_ref(s: &Shop) -> Self {
        s.auth.service.clone()
    }
}

/// The application's own handlers.
async fn me(AuthUser(u): AuthUser) -> String {
    format!("hello {}", u.user.username)
}

async fn staff_only(AuthUser(u): AuthUser) -> Result<&'static str, AuthError> {
    if u.user.is_staff {
        Ok("the back office")
    } else {
        // The application's own refusal, with our error type.
        Err(AuthError::NotAuthenticated)
    }
}

struct World {
    router: Router,
    events: Arc<Recorder>,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

async fn world(pairs: &[(&str, &str)], fix_challenge: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let users = Arc::new(DjangoUsers::create(dir.path().join("django.sqlite3")));
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let events = Arc::new(Recorder::default());
    let service = AuthService::builder(settings(pairs), store, cheap_hasher())
        .user_store(users)
        .event_sink(events.clone())
        .build()
        .unwrap();
    let state = AppState::new(service.clone());
    let ours = Routes::new(state.clone())
        .token_endpoints("/auth", &[Endpoint::Obtain, Endpoint::Refresh])
        .into_router();
    let mut theirs = Router::new()
        .route("/me", get(me))
        .route("/back-office", get(staff_only))
        .with_state(Shop { auth: state });
    if fix_challenge {
        let challenge = simplejwt::http::response::challenge(service.settings());
        theirs = theirs.layer(axum::middleware::from_fn_with_state(
            challenge,
            simplejwt::http::fix_challenge,
        ));
    }
    World {
        router: ours.merge(theirs),
        events,
        _db: db,
        _dir: dir,
    }
}

async fn login(w: &World, username: &str, password: &str) -> Resp {
    let body = json!({"username": username, "password": password}).to_string();
    send(&w.router, post("/auth/", Some("application/json"), body)).await
}

fn get_with(path: &str, access: &str) -> http::Request<axum::body::Body> {
    http::Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {access}"))
        .body(axum::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn an_application_with_its_own_users_table_mounts_only_obtain_and_refresh() {
    let w = world(&[("ROTATE_REFRESH_TOKENS", "true")], false).await;
    // Users come from the application's auth_user table (Django hashes), not ours.
    let r = login(&w, "erin", "erin-Password-1").await;
    r.expect_status(200);
    let (refresh, access) = (r.str("refresh"), r.str("access"));
    assert_eq!(claims_of(&access)["user_id"], "1");
    login(&w, "alice", "alice-Password-1")
        .await
        .expect(401, &no_active_account());
    login(&w, "gone", "gone-Password-1")
        .await
        .expect(401, &no_active_account());

    let r = send(&w.router, get_with("/me", &access)).await;
    assert_eq!((r.status.as_u16(), r.text()), (200, "hello erin".into()));

    // Refresh (rotating) is mounted; its records live in our database.
    let body = json!({"refresh": refresh}).to_string();
    let r = send(
        &w.router,
        post("/auth/refresh/", Some("application/json"), body),
    )
    .await;
    r.expect_status(200);
    assert!(r.json()["refresh"].is_string());

    // Nothing else of ours is mounted: verify and blacklist are the application's 404s.
    for path in ["/auth/verify/", "/auth/blacklist/", "/api/token/"] {
        let r = send(&w.router, post(path, Some("application/json"), "{}")).await;
        assert_eq!(r.status, 404, "{path}");
    }

    // The application's sink heard the logins (never a password).
    let events = w.events.0.lock().unwrap().clone();
    assert!(events.contains(&(EventKind::LoginSucceeded, Some("erin".into()))));
    assert!(events.contains(&(EventKind::LoginFailed, Some("alice".into()))));
    assert!(events.contains(&(EventKind::Refreshed { rotated: true }, None)));
}

#[tokio::test]
async fn the_applications_own_auth_error_is_a_401_with_the_challenge() {
    let w = world(&[], false).await;
    let access = login(&w, "frank", "frank-Password-1").await.str("access");
    let r = send(&w.router, get_with("/back-office", &access)).await;
    r.expect(
        401,
        &json!({"detail": "Authentication credentials were not provided."}),
    );
    assert_eq!(r.header("www-authenticate"), Some(BEARER_CHALLENGE));
    let staff = login(&w, "erin", "erin-Password-1").await.str("access");
    let r = send(&w.router, get_with("/back-office", &staff)).await;
    assert_eq!(r.status, 200);
    // Our extractor's own refusal in the application's route carries it too.
    let r = send(&w.router, get_with("/me", "not-a-token")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some(BEARER_CHALLENGE));
}

#[tokio::test]
async fn with_other_header_types_the_challenge_layer_names_them() {
    let w = world(&[("AUTH_HEADER_TYPES", "JWT")], true).await;
    let access = login(&w, "frank", "frank-Password-1").await.str("access");
    let req = http::Request::builder()
        .uri("/back-office")
        .header("authorization", format!("JWT {access}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(&w.router, req).await;
    r.expect_challenged(401, "JWT realm=\"api\"", None);
    // The extractor names it without the layer's help.
    let r = send(&w.router, get_with("/me", "x")).await;
    r.expect_challenged(401, "JWT realm=\"api\"", None);
}
