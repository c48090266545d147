//! Authenticating against the application's own users table: the users live
//! in a table simplejwt does not own (here a `customers` table in the
//! application's SQLite file, read with rusqlite), simplejwt reads them
//! through [`UserStore`], and its own database keeps only the token records
//! (outstanding tokens, blacklist, sessions).
//!
//! ```text
//! cargo run --example custom_users
//! ```
//!
//! The walkthrough logs a customer in (the password hash is the
//! application's: an argon2id hash made with simplejwt's hasher here; a
//! Django `pbkdf2_sha256` hash works too), calls a protected route, refreshes,
//! then deactivates the customer in the application's table: the next
//! protected request is refused at once, since the user is read on every
//! request. Requests go through the router in-process
//! (`tower::ServiceExt::oneshot`); everything lives in a temporary directory.
//! `tests/library.rs` does the same against a Django `auth_user` table.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::Request;
use simplejwt::http::{router, AppState};
use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::store::{StoreError, StoreOptions, User, UserStore};
use simplejwt::{AuthService, AuthUser, Settings};
use tower::ServiceExt as _;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The application's table: its own names and shape.
const CUSTOMERS: &str = "CREATE TABLE customers (
    customer_id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    signed_up INTEGER NOT NULL)";

/// The application's users, read from its own file.
struct Customers {
    path: PathBuf,
}

impl Customers {
    /// The customer `clause` (`?1` bound to `param`) names, as simplejwt's [`User`].
    fn one(&self, clause: &str, param: &dyn rusqlite::ToSql) -> Result<Option<User>, StoreError> {
        use rusqlite::OptionalExtension as _;
        // An unreachable database is `Unavailable` (a 503), anything else `Other`.
        let conn = rusqlite::Connection::open(&self.path)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sql = format!(
            "SELECT customer_id, login, password_hash, email, enabled, signed_up \
             FROM customers WHERE {clause}"
        );
        conn.query_row(&sql, [param], |row| {
            Ok(User {
                id: row.get(0)?,
                username: row.get(1)?,
                password: row.get(2)?,
                email: row.get(3)?,
                first_name: String::new(),
                last_name: String::new(),
                is_active: row.get(4)?,
                is_staff: false,
                is_superuser: false,
                date_joined: row.get(5)?,
                last_login: None,
            })
        })
        .optional()
        .map_err(|e| StoreError::Other(e.to_string()))
    }
}

/// All authentication needs: two lookups. The writes a login may make
/// (re-hashing an old hash, `UPDATE_LAST_LOGIN`) have defaults that do
/// nothing; implement them to have them.
#[simplejwt::store::async_trait]
impl UserStore for Customers {
    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.one("customer_id = ?1", &id)
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.one("login = ?1", &username)
    }
}

async fn account(AuthUser(auth): AuthUser) -> String {
    format!("customer {} ({})", auth.user.id, auth.user.email)
}

/// Sends `req` through `app`; prints the answer and returns its JSON body (or null).
async fn show(app: &Router, req: Request<Body>) -> Result<serde_json::Value, BoxError> {
    let line = format!("{} {}", req.method(), req.uri());
    let res = app.clone().oneshot(req).await?;
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
    println!("{line:<28} -> {status} {}", String::from_utf8_lossy(&body));
    Ok(serde_json::from_slice(&body).unwrap_or_default())
}

fn post_json(path: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn get_as(path: &str, access: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {access}"))
        .body(Body::empty())
        .expect("request")
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let hasher = PasswordHasher::new(HasherConfig::default())?;

    // The application's database and its customer.
    let customers = dir.path().join("shop.sqlite3");
    let conn = rusqlite::Connection::open(&customers)?;
    conn.execute(CUSTOMERS, [])?;
    conn.execute(
        "INSERT INTO customers VALUES (42, 'dana', ?1, 'dana@example.com', 1, 1700000000)",
        [hasher.hash("dana-Password-1").await?],
    )?;

    // simplejwt's database: token records only.
    let url = format!("sqlite://{}/tokens.sqlite3", dir.path().display());
    let store = simplejwt::store::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let key = format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    );
    let settings = Settings::from_pairs([
        ("SIGNING_KEY", key.as_str()),
        ("ROTATE_REFRESH_TOKENS", "true"),
        ("BLACKLIST_AFTER_ROTATION", "true"),
    ])?;
    let auth = AuthService::builder(settings, store.clone(), hasher)
        .user_store(Arc::new(Customers { path: customers }))
        .build()?;
    let app = router(AppState::new(auth.clone()), "/api/token").merge(
        Router::new()
            .route("/api/account/", get(account))
            .with_state(auth),
    );

    let login = serde_json::json!({"username": "dana", "password": "dana-Password-1"});
    let pair = show(&app, post_json("/api/token/", login)).await?;
    let access = pair["access"].as_str().ok_or("no access token")?;
    show(&app, get_as("/api/account/", access)).await?;
    let refresh = serde_json::json!({"refresh": pair["refresh"]});
    show(&app, post_json("/api/token/refresh/", refresh)).await?;

    // Disabled in the application's table: refused on the next request.
    conn.execute("UPDATE customers SET enabled = 0 WHERE login = 'dana'", [])?;
    show(&app, get_as("/api/account/", access)).await?;
    store.close().await;
    Ok(())
}
