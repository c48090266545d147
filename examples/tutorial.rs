//! The djangorestframework-simplejwt tutorials, as an axum application.
//!
//! Run it with `cargo run --release --example tutorial` (`-- --bind ADDR` to
//! listen elsewhere) and follow the curl
//! commands it prints. Each piece of the Django tutorials has its counterpart:
//!
//! | Django tutorial | here |
//! |---|---|
//! | `SIMPLE_JWT = {'ACCESS_TOKEN_LIFETIME': timedelta(minutes=30), 'REFRESH_TOKEN_LIFETIME': timedelta(days=7), 'ROTATE_REFRESH_TOKENS': True, 'BLACKLIST_AFTER_ROTATION': True}` | [`tutorial_settings`]: the same names, as text; `SIMPLE_JWT_<NAME>` environment variables override them |
//! | `SECRET_KEY` (simplejwt's default `SIGNING_KEY`) | `SIMPLE_JWT_SIGNING_KEY`, or a random key kept in `tutorial.sqlite3.signing-key` |
//! | `INSTALLED_APPS += ['rest_framework_simplejwt.token_blacklist']` + `manage.py migrate` | [`Database::migrate`] (users, outstanding and blacklisted tokens) |
//! | `manage.py createsuperuser` | a `demo` user created on the first start |
//! | `CustomTokenSerializer.get_token`: `token['username'] = user.username`, `token['is_staff'] = user.is_staff` | [`AuthService::builder`]`(…).claims_hook(…)`: the claims go into the refresh token and the access tokens made from it |
//! | `path('api/token/', TokenObtainPairView…)`, `…/refresh/`, `…/verify/`, `TokenBlacklistView` | [`simplejwt::http::router`]`(state, "/api/token")` |
//! | `DEFAULT_AUTHENTICATION_CLASSES = (JWTAuthentication,)` + `permission_classes = [IsAuthenticated]` | the [`AuthUser`] extractor: a missing or bad token is a 401 before the handler runs |
//! | `ProtectedView.get`: `{"message": f"Welcome, {request.user.username}!"}` | [`protected`] at `GET /api/protected/` |
//! | `JWTStatelessUserAuthentication` (`request.user` is a `TokenUser`) | [`TokenAuth`] in [`whoami`] at `GET /api/whoami/`: the token alone, no database |
//!
//! The application's own state ([`Tutorial`]) holds the [`AuthService`]; the
//! extractors find it through `FromRef`, as axum's extractors find theirs.
//!
//! Environment: `TUTORIAL_BIND` (default `127.0.0.1:8000`; port `0` picks a
//! free one; `--bind` wins), `TUTORIAL_DATABASE_URL` (default `sqlite://tutorial.sqlite3`),
//! `TUTORIAL_DEMO_PASSWORD` (the demo user's password when it is created;
//! default: random, printed once), and any `SIMPLE_JWT_<NAME>` setting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::extract::FromRef;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use http::{header, StatusCode};
use rand::RngCore as _;
use serde_json::{json, Value};
use simplejwt::http::{router, AppState};
use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::settings::{Secret, SettingsBuilder};
use simplejwt::store::{Database, NewUser, StoreError, StoreOptions, User};
use simplejwt::token::Claims;
use simplejwt::{AuthService, AuthUser, Settings, TokenAuth};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const DEMO_USER: &str = "demo";

/// The application's state: ours, with the auth service inside.
#[derive(Clone)]
struct Tutorial {
    auth: AuthService,
}

impl FromRef<Tutorial> for AuthService {
    fn from_ref(app: &Tutorial) -> Self {
        app.auth.clone()
    }
}

/// The tutorial's `SIMPLE_JWT` dictionary.
fn tutorial_settings() -> SettingsBuilder {
    Settings::builder()
        .access_token_lifetime(Duration::from_secs(30 * 60))
        .refresh_token_lifetime(Duration::from_secs(7 * 86400))
        .rotate_refresh_tokens(true)
        .blacklist_after_rotation(true)
}

/// `CustomTokenSerializer.get_token`: extra claims for every login.
fn custom_claims(user: &User, claims: &mut Claims) {
    claims.insert("username".into(), Value::from(user.username.clone()));
    claims.insert("is_staff".into(), Value::from(user.is_staff));
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `ProtectedView` with `IsAuthenticated`: the user is read from the
/// database on every request, so a deactivated user is refused at once.
async fn protected(AuthUser(auth): AuthUser) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "message": format!("Welcome, {}!", auth.user.username) }),
    )
}

/// The same question answered from the token alone
/// (`JWTStatelessUserAuthentication`): the `username` and `is_staff` claims
/// come from [`custom_claims`]; no database query.
async fn whoami(TokenAuth(user): TokenAuth) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "user_id": user.id,
            "username": user.username(),
            "is_staff": user.is_staff(),
        }),
    )
}

/// The app: the four token endpoints plus the two views.
fn app(auth: AuthService) -> Router {
    let views = Router::new()
        .route("/api/protected/", get(protected))
        .route("/api/whoami/", get(whoami))
        .with_state(Tutorial { auth: auth.clone() });
    router(AppState::new(auth), "/api/token").merge(views)
}

fn random_secret() -> String {
    let mut bytes = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Where a generated key is kept: beside a SQLite database.
fn key_file(database_url: &str) -> PathBuf {
    let database = simplejwt::store::sqlite_file(database_url)
        .ok()
        .flatten()
        .unwrap_or_else(|| PathBuf::from("tutorial.sqlite3"));
    let mut path = database.into_os_string();
    path.push(".signing-key");
    PathBuf::from(path)
}

/// Reads the key generated on an earlier start, or makes one that only the
/// owner can read, so tokens survive a restart.
fn load_or_create_key(path: &Path) -> std::io::Result<Secret> {
    match std::fs::read_to_string(path) {
        Ok(key) => Ok(Secret::new(key.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random_secret();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(path)?, key.as_bytes())?;
            println!("Generated a signing key in {}", path.display());
            Ok(Secret::new(key))
        }
        Err(e) => Err(e),
    }
}

/// `manage.py createsuperuser`, once: a demo account to log in with.
async fn ensure_demo_user(store: &dyn Database, auth: &AuthService) -> Result<(), BoxError> {
    if store.user_by_username(DEMO_USER).await?.is_some() {
        return Ok(());
    }
    let (password, shown) = match std::env::var("TUTORIAL_DEMO_PASSWORD") {
        Ok(p) if !p.trim().is_empty() => (p, false),
        _ => (random_secret()[..20].to_owned(), true),
    };
    let new = NewUser {
        username: DEMO_USER.into(),
        password_hash: auth.hasher().hash(&password).await?,
        email: "demo@example.com".into(),
        is_active: true,
        is_staff: true,
        is_superuser: false,
    };
    match store
        .create_user(&new, simplejwt::token::Timestamp::now().epoch())
        .await
    {
        Ok(_) | Err(StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    if shown {
        println!("Created user {DEMO_USER:?} with password {password:?} (shown once).");
    } else {
        println!("Created user {DEMO_USER:?} with the password in TUTORIAL_DEMO_PASSWORD.");
    }
    Ok(())
}

fn print_walkthrough(base: &str) {
    println!(
        r#"
Listening on {base}/ — try the tutorial's flow (Ctrl-C stops):

  # 1. log in: {{"refresh": "...", "access": "..."}}
  curl -s -X POST {base}/api/token/ -H 'Content-Type: application/json' \
       -d '{{"username": "{DEMO_USER}", "password": "<password>"}}'
  ACCESS=<access>; REFRESH=<refresh>

  # 2. a protected view: {{"message": "Welcome, {DEMO_USER}!"}}
  curl -s {base}/api/protected/ -H "Authorization: Bearer $ACCESS"

  # 3. the custom claims, read from the token alone: {{"user_id": "1", "username": "{DEMO_USER}", "is_staff": true}}
  curl -s {base}/api/whoami/ -H "Authorization: Bearer $ACCESS"

  # 4. refresh (rotation: a new refresh token too; the old one is blacklisted)
  curl -s -X POST {base}/api/token/refresh/ -H 'Content-Type: application/json' \
       -d "{{\"refresh\": \"$REFRESH\"}}"

  # 5. verify a token: {{}}
  curl -s -X POST {base}/api/token/verify/ -H 'Content-Type: application/json' \
       -d "{{\"token\": \"$ACCESS\"}}"

  # 6. log out (blacklist the newest refresh token): {{}}
  curl -s -X POST {base}/api/token/blacklist/ -H 'Content-Type: application/json' \
       -d "{{\"refresh\": \"<newest refresh>\"}}"
"#
    );
}

/// Ctrl-C, or SIGTERM from a process manager: finish in-flight requests, then stop.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `--bind ADDR` (over `TUTORIAL_BIND`, default `127.0.0.1:8000`); `--help`.
fn bind_address() -> String {
    let mut bind = std::env::var("TUTORIAL_BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--bind", Some(addr)) => bind = addr,
            ("-h" | "--help", _) => {
                println!(
                    "usage: cargo run --release --example tutorial -- [--bind ADDR]\n\n\
                     ADDR defaults to TUTORIAL_BIND or 127.0.0.1:8000; port 0 picks a free one."
                );
                std::process::exit(0)
            }
            _ => {
                eprintln!("tutorial: unknown argument {arg:?} (usage: --bind ADDR)");
                std::process::exit(2)
            }
        }
    }
    bind
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tutorial: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let database_url = std::env::var("TUTORIAL_DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://tutorial.sqlite3".into());
    let bind = bind_address();

    // The port first: when it is taken, stop before creating a key, a
    // database or the demo user (whose one-time password would be lost).
    let listener = tokio::net::TcpListener::bind(&bind).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (another server is running there: stop it, or pass --bind 127.0.0.1:8001, \
             or --bind 127.0.0.1:0 for any free port)"
        } else {
            ""
        };
        format!("cannot listen on {bind}: {e}{hint}")
    })?;

    // settings.py: the tutorial's SIMPLE_JWT, under any SIMPLE_JWT_* from the environment.
    let mut settings = tutorial_settings().env()?;
    if settings.clone().build()?.signing_key().is_none() {
        settings = settings.signing_key(load_or_create_key(&key_file(&database_url))?);
    }
    let settings = settings.build()?;

    // manage.py migrate: users, outstanding and blacklisted tokens.
    let store = simplejwt::store::connect(&database_url, &StoreOptions::default()).await?;
    store.migrate().await?;

    // TokenObtainPairView.serializer_class = CustomTokenSerializer
    let auth = AuthService::builder(
        settings,
        store.clone(),
        PasswordHasher::new(HasherConfig::default())?,
    )
    .claims_hook(custom_claims)
    .build()?;
    ensure_demo_user(&*store, &auth).await?;

    print_walkthrough(&format!("http://{}", listener.local_addr()?));
    axum::serve(listener, app(auth))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    store.close().await;
    Ok(())
}
