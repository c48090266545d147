//! Shared harness of the integration tests: a fresh database per test (SQLite
//! in a temporary directory, or PostgreSQL on `SIMPLEJWT_TEST_DATABASE_URL`,
//! by default the local server), an app seeded with the conformance suite's users, helpers that send
//! requests through the router with `oneshot` and check simplejwt's response
//! rules, a [`Forger`] that mints tokens claim by claim (as the conformance
//! suite's `conftest.py` does), and a server on a real socket.
//!
//! Every test binary includes this module with `mod common;`; not every binary
//! uses every helper, hence the `dead_code` allowance.

#![allow(dead_code, unused_macros)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderMap, Request, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;
use simplejwt::http::{app as make_app, AppState};
use simplejwt::keys::{is_hmac, Keys};
use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::service::{AuthService, AuthServiceBuilder};
use simplejwt::settings::{Secret, Settings};
use simplejwt::store::{Database, NewUser, SessionRecord, StoreOptions};
use simplejwt::token::{Claims, TokenBackend};
use tower::ServiceExt as _;

/// The HMAC key every test app signs with (64 bytes: enough for HS512).
pub const SIGNING_KEY: &str = "simplejwt-integration-tests-fixed-signing-key-0123456789abcdef01";

/// `WWW-Authenticate` on every 401 under the default `AUTH_HEADER_TYPES`.
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"api\"";

/// The seed users: (username, password, active, id as a string).
pub const SEED_USERS: [(&str, &str, bool, &str); 3] = [
    ("alice", "alice-Password-1", true, "1"),
    ("bob", "bob-Password-1", false, "2"),
    ("carol", "carol-Password-1", true, "3"),
];

/// The environment variable naming a PostgreSQL server for the PostgreSQL variants.
pub const POSTGRES_ENV: &str = "SIMPLEJWT_TEST_DATABASE_URL";

/// The server the PostgreSQL variants use when [`POSTGRES_ENV`] is unset: the
/// local one, as `.ci/run` prepares it (a role for the current user that may
/// create databases; trust authentication on 127.0.0.1).
pub const DEFAULT_POSTGRES_URL: &str = "postgres://127.0.0.1:5432/test";

/// The seed password of a seed user.
pub fn password_of(username: &str) -> &'static str {
    SEED_USERS
        .iter()
        .find(|u| u.0 == username)
        .map(|u| u.1)
        .unwrap_or_else(|| panic!("{username} is not a seed user"))
}

/// Seconds since the epoch, whole.
pub fn epoch_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// A password hasher with cheap argon2 parameters (tests are about the rules, not the cost).
pub fn cheap_hasher() -> PasswordHasher {
    PasswordHasher::new(HasherConfig {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
        ..Default::default()
    })
    .expect("cheap hasher")
}

// --------------------------------------------------------------------------
// databases
// --------------------------------------------------------------------------

/// A fresh database for one test; removed when dropped.
pub struct TestDb {
    /// The URL to pass to [`simplejwt::store::connect`].
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh SQLite file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}/db.sqlite3", dir.path().display());
        TestDb {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database on the server `SIMPLEJWT_TEST_DATABASE_URL`
    /// names, or on [`DEFAULT_POSTGRES_URL`] when it is unset. Panics with
    /// what to do when the server cannot be reached: a PostgreSQL test either
    /// runs or is reported as ignored (built with `SIMPLEJWT_SKIP_POSTGRES=1`),
    /// it never passes having run nothing.
    pub async fn postgres() -> TestDb {
        use sqlx::Connection as _;
        let admin_url = std::env::var(POSTGRES_ENV)
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!("sjwt_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL tests need a server and {} is unreachable: {e}\n\
                     Start PostgreSQL there, or set {POSTGRES_ENV} to another server, \
                     or build the tests with SIMPLEJWT_SKIP_POSTGRES=1 to report them as ignored.",
                    without_password(&admin_url)
                )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = conn.close().await;
        TestDb {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// Which backend this is ("sqlite" or "postgres").
    pub fn backend(&self) -> &'static str {
        match self.cleanup {
            Cleanup::Sqlite(_) => "sqlite",
            Cleanup::Postgres { .. } => "postgres",
        }
    }
}

/// `url` without its user information (which may hold a password), for messages.
fn without_password(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_owned(),
    }
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop is synchronous and may run inside a runtime: use a thread of our own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection as _;
                let mut conn = sqlx::postgres::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop test database: {e}"),
            Err(_) => eprintln!("warning: dropping the test database panicked"),
        }
    }
}

/// Runs a test body once per backend: `backend_tests!(name, |db| async move { … })`
/// makes a module `name` with tests `sqlite` and `postgres` (the latter ignored
/// when built with `SIMPLEJWT_SKIP_POSTGRES=1`).
#[macro_export]
macro_rules! backend_tests {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let body = $body;
                body($crate::common::TestDb::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                skip_postgres,
                ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
            )]
            async fn postgres() {
                let db = $crate::common::TestDb::postgres().await;
                let body = $body;
                body(db).await;
            }
        }
    };
}

// --------------------------------------------------------------------------
// the app
// --------------------------------------------------------------------------

/// A migrated, seeded store and the service and router over it.
pub struct TestApp {
    /// The auth logic.
    pub service: AuthService,
    /// The store (the same database as the service's).
    pub store: Arc<dyn Database>,
    /// `simplejwt::http::app` over [`TestApp::service`].
    pub router: Router,
    /// Kept alive for the test; dropped last.
    pub db: TestDb,
}

/// Settings of a test app: [`SIGNING_KEY`], then `pairs` (later ones win).
pub fn settings(pairs: &[(&str, &str)]) -> Settings {
    let mut all = vec![("SIGNING_KEY", SIGNING_KEY)];
    all.extend_from_slice(pairs);
    Settings::from_pairs(all).expect("test settings")
}

/// An app over `db` with the seed users and `SIGNING_KEY` + `pairs` as settings.
pub async fn app(db: TestDb, pairs: &[(&str, &str)]) -> TestApp {
    app_with(db, pairs, |b| b).await
}

/// Like [`app`], letting the test customise the service (e.g. a claims hook).
pub async fn app_with(
    db: TestDb,
    pairs: &[(&str, &str)],
    customize: impl FnOnce(AuthServiceBuilder) -> AuthServiceBuilder,
) -> TestApp {
    let store = seeded_store(&db).await;
    let builder = AuthService::builder(settings(pairs), store.clone(), cheap_hasher());
    let service = customize(builder).build().expect("service");
    let router = make_app(AppState::new(service.clone()));
    TestApp {
        service,
        store,
        router,
        db,
    }
}

/// A migrated store over `db` with alice (active, 1), bob (inactive, 2), carol (active, 3).
pub async fn seeded_store(db: &TestDb) -> Arc<dyn Database> {
    let store = simplejwt::store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let hasher = cheap_hasher();
    for (username, password, active, id) in SEED_USERS {
        let user = store
            .create_user(
                &NewUser {
                    username: username.into(),
                    password_hash: hasher.hash(password).await.expect("hash"),
                    email: format!("{username}@example.test"),
                    is_active: active,
                    is_staff: false,
                    is_superuser: false,
                },
                epoch_now(),
            )
            .await
            .expect("create seed user");
        assert_eq!(user.id.to_string(), id, "seed users get ids 1, 2, 3");
    }
    store
}

/// Runs `sql` (one or more statements) on `db` over a direct connection of
/// its own driver — rusqlite or sqlx's `PgConnection` — not the store's.
pub async fn raw_sql(db: &TestDb, sql: &str) {
    if db.backend() == "sqlite" {
        let path = simplejwt::store::sqlite_file(&db.url)
            .expect("SQLite URL")
            .expect("a file");
        rusqlite::Connection::open(path)
            .expect("open the test database")
            .execute_batch(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    } else {
        use sqlx::Connection as _;
        let mut conn = sqlx::postgres::PgConnection::connect(&db.url)
            .await
            .expect("connect to the test database");
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    }
}

/// A response, read to the end.
#[derive(Debug)]
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Resp {
    /// The body as JSON; panics (showing the body) if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    /// Top-level keys of a JSON object body, in wire order.
    pub fn keys(&self) -> Vec<String> {
        match self.json() {
            Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("not a JSON object: {other}"),
        }
    }

    /// A string member of the JSON body.
    pub fn str(&self, key: &str) -> String {
        self.json()[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string {key:?} in {}", self.text()))
            .to_owned()
    }

    /// The conformance suite's `expect`: exact status, exact JSON body, and
    /// `WWW-Authenticate: Bearer realm="api"` on a 401 and only on a 401.
    #[track_caller]
    pub fn expect(&self, status: u16, body: &Value) {
        self.expect_challenged(status, BEARER_CHALLENGE, Some(body));
    }

    /// [`Resp::expect`] without a body comparison.
    #[track_caller]
    pub fn expect_status(&self, status: u16) {
        self.expect_challenged(status, BEARER_CHALLENGE, None);
    }

    /// [`Resp::expect`] with another expected challenge (`AUTH_HEADER_TYPES`).
    #[track_caller]
    pub fn expect_challenged(&self, status: u16, challenge: &str, body: Option<&Value>) {
        let detail = format!("{} {:?}", self.status, self.text());
        assert_eq!(self.status.as_u16(), status, "{detail}");
        if status == 401 {
            assert_eq!(
                self.header("www-authenticate"),
                Some(challenge),
                "every 401 carries the challenge: {detail}"
            );
        } else {
            assert_eq!(
                self.header("www-authenticate"),
                None,
                "only a 401 carries a challenge: {detail}"
            );
        }
        if let Some(body) = body {
            assert_eq!(
                self.header("content-type"),
                Some("application/json"),
                "{detail}"
            );
            assert_eq!(&self.json(), body, "{detail}");
        }
    }
}

/// Sends one request through a router.
pub async fn send(router: &Router, req: Request<Body>) -> Resp {
    let res = router.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = res.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("response body");
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A POST with an optional content type.
pub fn post(path: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::builder().method("POST").uri(path);
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    b.body(body.into()).expect("request")
}

/// A request with any method, no body.
pub fn bare(method: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("request")
}

/// A `GET /api/protected/` with the given `Authorization` bytes (if any).
pub fn protected_request(authorization: Option<&[u8]>) -> Request<Body> {
    let mut b = Request::builder().method("GET").uri("/api/protected/");
    if let Some(a) = authorization {
        b = b.header(header::AUTHORIZATION, a);
    }
    b.body(Body::empty()).expect("request")
}

impl TestApp {
    /// Sends one request through the router.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        send(&self.router, req).await
    }

    /// POSTs a JSON document.
    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.send(post(
            path,
            Some("application/json"),
            serde_json::to_vec(body).expect("json"),
        ))
        .await
    }

    /// POSTs raw bytes with an optional content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> Resp {
        self.send(post(path, content_type, body)).await
    }

    /// `POST /api/token/` with JSON credentials.
    pub async fn login(&self, username: &str, password: &str) -> Resp {
        self.post_json(
            "/api/token/",
            &serde_json::json!({"username": username, "password": password}),
        )
        .await
    }

    /// A successful login of a seed user: (refresh, access).
    pub async fn pair(&self, username: &str) -> (String, String) {
        let r = self.login(username, password_of(username)).await;
        r.expect_status(200);
        (r.str("refresh"), r.str("access"))
    }

    /// `POST /api/token/refresh/`.
    pub async fn refresh(&self, token: &str) -> Resp {
        self.post_json(
            "/api/token/refresh/",
            &serde_json::json!({"refresh": token}),
        )
        .await
    }

    /// `POST /api/token/verify/`.
    pub async fn verify(&self, token: &str) -> Resp {
        self.post_json("/api/token/verify/", &serde_json::json!({"token": token}))
            .await
    }

    /// `POST /api/token/blacklist/`.
    pub async fn blacklist(&self, token: &str) -> Resp {
        self.post_json(
            "/api/token/blacklist/",
            &serde_json::json!({"refresh": token}),
        )
        .await
    }

    /// `GET /api/protected/` with `Authorization: Bearer <token>`.
    pub async fn protected(&self, token: &str) -> Resp {
        self.protected_with(Some(format!("Bearer {token}").as_bytes()))
            .await
    }

    /// `GET /api/protected/` with this `Authorization` value (or none).
    pub async fn protected_with(&self, authorization: Option<&[u8]>) -> Resp {
        self.send(protected_request(authorization)).await
    }

    /// The session the (refresh or sliding) `token` belongs to; panics when
    /// it is in none.
    pub async fn session_of(&self, token: &str) -> SessionRecord {
        self.store
            .session_of_token(&jti(token))
            .await
            .expect("session_of_token")
            .expect("the token is in a session")
    }

    /// User `user_id`'s live sessions now.
    pub async fn live_sessions(&self, user_id: i64) -> Vec<SessionRecord> {
        self.store
            .live_sessions(user_id, epoch_now())
            .await
            .expect("live_sessions")
    }

    /// A forger with this app's key, algorithm, claim names, audience and issuer.
    pub fn forger(&self) -> Forger {
        Forger::new(self.service.settings())
    }
}

// --------------------------------------------------------------------------
// tokens
// --------------------------------------------------------------------------

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token's payload, decoded without checking anything.
pub fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(1).expect("three segments");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&raw).expect("JSON payload")
}

/// The `jti` claim of `token` (not verified).
pub fn jti(token: &str) -> String {
    claims_of(token)["jti"].as_str().expect("jti").to_owned()
}

/// A token's header, decoded without checking anything.
pub fn header_of(token: &str) -> Value {
    let head = token.split('.').next().expect("a segment");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .expect("base64url header");
    serde_json::from_slice(&raw).expect("JSON header")
}

/// Whether `jti` looks like `uuid4().hex`.
pub fn is_uuid4_hex(jti: &str) -> bool {
    let b = jti.as_bytes();
    b.len() == 32
        && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        && b[12] == b'4'
        && matches!(b[16], b'8' | b'9' | b'a' | b'b')
}

/// Mints tokens the way the server would, signed with a server's key, so a
/// test can vary one claim at a time (`conftest.py`'s `Forger`).
pub struct Forger {
    settings: Settings,
    backend: TokenBackend,
    raw_key: EncodingKey,
}

impl Forger {
    /// A forger for a server with these settings. Claims it builds carry the
    /// server's `aud`/`iss` when configured, but signing never adds them, so a
    /// test can remove them.
    pub fn new(server: &Settings) -> Forger {
        let settings = server.clone();
        // The backend signs without adding `aud`/`iss` (claims() adds them).
        let bare = settings
            .to_builder()
            .audience(None)
            .issuer(None)
            .build()
            .expect("forger settings");
        let keys = Keys::from_settings(&bare).expect("forger keys");
        let backend = TokenBackend::new(&bare, keys);
        let raw_key = encoding_key(&settings);
        Forger {
            settings,
            backend,
            raw_key,
        }
    }

    /// A forger like this one whose signing key is `key` (an HMAC secret, or a
    /// private key PEM of the same algorithm with its public key).
    pub fn with_key(&self, key: &str, verifying_key: Option<&str>) -> Forger {
        let mut b = self.settings.to_builder().signing_key(Secret::new(key));
        if let Some(v) = verifying_key {
            b = b.verifying_key(v.to_owned());
        }
        Forger::new(&b.build().expect("forger settings"))
    }

    /// A forger like this one signing with another algorithm (same key material).
    pub fn with_algorithm(&self, alg: Algorithm) -> Forger {
        let s = self.settings.to_builder().algorithm(alg).build();
        Forger::new(&s.expect("forger settings"))
    }

    /// Claims of a fresh `kind` token ("access" or "refresh") for user id `user_id`.
    pub fn claims(&self, kind: &str, user_id: &str) -> Claims {
        let s = &self.settings;
        let now = epoch_now();
        let lifetime = if kind == "access" {
            s.access_token_lifetime()
        } else {
            s.refresh_token_lifetime()
        };
        let mut c = Claims::new();
        if let Some(t) = s.token_type_claim() {
            c.insert(t.into(), kind.into());
        }
        c.insert("exp".into(), (now + lifetime.as_secs() as i64).into());
        c.insert("iat".into(), now.into());
        if let Some(j) = s.jti_claim() {
            c.insert(j.into(), uuid::Uuid::new_v4().simple().to_string().into());
        }
        c.insert(s.user_id_claim().into(), user_id.into());
        if let Some(aud) = s.audience() {
            let v = if aud.len() == 1 {
                Value::from(aud[0].clone())
            } else {
                Value::from(aud.to_vec())
            };
            c.insert("aud".into(), v);
        }
        if let Some(iss) = s.issuer() {
            c.insert("iss".into(), iss.into());
        }
        c
    }

    /// Signs claims with the server's header and key, as the server would.
    pub fn sign(&self, claims: &Claims) -> String {
        let mut c = claims.clone();
        self.backend.encode(&mut c).expect("sign")
    }

    /// Signs arbitrary header and payload bytes (need not be JSON) with the key.
    pub fn sign_raw(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let sig =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.raw_key, self.settings.algorithm())
                .expect("sign raw");
        format!("{input}.{sig}")
    }

    /// An access token for alice, edited by `edit`.
    pub fn access(&self, edit: impl FnOnce(&mut Claims)) -> String {
        let mut c = self.claims("access", "1");
        edit(&mut c);
        self.sign(&c)
    }

    /// A refresh token for alice, edited by `edit`.
    pub fn refresh(&self, edit: impl FnOnce(&mut Claims)) -> String {
        let mut c = self.claims("refresh", "1");
        edit(&mut c);
        self.sign(&c)
    }
}

fn encoding_key(s: &Settings) -> EncodingKey {
    let key = s.signing_key().expect("SIGNING_KEY").expose();
    if is_hmac(s.algorithm()) {
        return EncodingKey::from_secret(key.as_bytes());
    }
    // Every PEM form the server reads (SEC1 EC keys included).
    simplejwt::keys::pem::signing_key(s.algorithm(), key).expect("private key PEM")
}

// --------------------------------------------------------------------------
// expected bodies
// --------------------------------------------------------------------------

/// 401 body of a token endpoint refusing the posted token.
pub fn token_error(message: &str) -> Value {
    serde_json::json!({"detail": message, "code": "token_not_valid"})
}

/// 401 body of the protected endpoint refusing the bearer token.
pub fn invalid_for_any_type(message: &str) -> Value {
    serde_json::json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    })
}

/// Login failure body (no `code`).
pub fn no_active_account() -> Value {
    serde_json::json!({"detail": "No active account found with the given credentials"})
}

/// Refresh failure for an inactive or missing user (no `code`).
pub fn no_active_account_for_token() -> Value {
    serde_json::json!({"detail": "No active account found for the given token."})
}

/// `{"message": "Welcome, <name>!"}`.
pub fn welcome(name: &str) -> Value {
    serde_json::json!({"message": format!("Welcome, {name}!")})
}

// --------------------------------------------------------------------------
// a real socket
// --------------------------------------------------------------------------

/// A server on 127.0.0.1 (random port) with graceful shutdown.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// Ends when the server has shut down.
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves `router` on 127.0.0.1:0 in a task.
    pub async fn start(router: Router) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
        });
        Server {
            addr,
            shutdown: Some(tx),
            handle,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Starts a graceful shutdown (in-flight requests finish).
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down and waits for the server task to end.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        self.handle
            .await
            .expect("server task")
            .expect("server ended cleanly");
    }
}

/// An HTTP client that never goes through a proxy.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}
