//! simplejwt mounted into an axum application that already exists: the
//! application keeps its own state, routes and handlers; simplejwt adds only
//! the endpoints it is asked for (here obtain and refresh, under `/auth`),
//! and the application's handlers use simplejwt's extractors.
//!
//! ```text
//! cargo run --example mount_into_axum                         # the walkthrough, then exit
//! cargo run --example mount_into_axum -- --bind 127.0.0.1:8000   # then serve
//! ```
//!
//! What it shows, piece by piece:
//! - the application's state holds ours ([`AppState`]); the extractors find
//!   it through `FromRef`, as axum's own extractors find theirs;
//! - [`Routes`] mounts a chosen subset of the token endpoints at a chosen
//!   prefix, merged with the application's router;
//! - [`AuthUser`] refuses a missing or bad token with a 401 (and the
//!   `WWW-Authenticate` challenge) before the handler runs;
//!   [`MaybeAuthUser`] lets anonymous requests in but still refuses a bad
//!   token; a handler may refuse with [`AuthError`] itself.
//!
//! The walkthrough sends requests through the router in-process
//! (`tower::ServiceExt::oneshot`, as axum's testing example does) against a
//! SQLite database in a temporary directory, and prints each answer.

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use simplejwt::http::{AppState, Endpoint, Routes};
use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::store::{NewUser, StoreOptions};
use simplejwt::{AuthError, AuthService, AuthUser, MaybeAuthUser, Settings};
use tower::ServiceExt as _;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The application's own state, with simplejwt's inside it.
#[derive(Clone)]
struct Shop {
    name: &'static str,
    auth: AppState,
}

impl FromRef<Shop> for AppState {
    fn from_ref(shop: &Shop) -> Self {
        shop.auth.clone()
    }
}

impl FromRef<Shop> for AuthService {
    fn from_ref(shop: &Shop) -> Self {
        shop.auth.service.clone()
    }
}

/// Anyone may look; a signed-in user is greeted by name.
async fn front_page(State(shop): State<Shop>, MaybeAuthUser(user): MaybeAuthUser) -> String {
    match user {
        Some(auth) => format!("{}: welcome back, {}", shop.name, auth.user.username),
        None => format!("{}: welcome, visitor", shop.name),
    }
}

/// Signed-in users only: the extractor answers 401 before this runs.
async fn orders(AuthUser(auth): AuthUser) -> String {
    format!("the orders of {}", auth.user.username)
}

/// Staff only: the application's own refusal, with simplejwt's error type
/// (a 401 with the same body and challenge as the extractor's).
async fn back_office(AuthUser(auth): AuthUser) -> Result<&'static str, AuthError> {
    if auth.user.is_staff {
        Ok("the back office")
    } else {
        Err(AuthError::NotAuthenticated)
    }
}

/// The application's router with simplejwt's obtain and refresh merged in.
fn app(auth: AuthService) -> Router {
    let state = AppState::new(auth);
    let ours = Routes::new(state.clone())
        .token_endpoints("/auth", &[Endpoint::Obtain, Endpoint::Refresh])
        .into_router();
    let theirs = Router::new()
        .route("/", get(front_page))
        .route("/orders", get(orders))
        .route("/back-office", get(back_office))
        .with_state(Shop {
            name: "The Shop",
            auth: state,
        });
    ours.merge(theirs)
}

/// Sends `req` through `app`; prints and returns the status and body.
async fn show(app: &Router, req: Request<Body>) -> Result<(StatusCode, String), BoxError> {
    let line = format!("{} {}", req.method(), req.uri());
    let res = app.clone().oneshot(req).await?;
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
    let body = String::from_utf8_lossy(&body).into_owned();
    println!("{line:<28} -> {} {body}", status.as_u16());
    Ok((status, body))
}

fn get_as(path: &str, access: Option<&str>) -> Request<Body> {
    let mut req = Request::builder().uri(path);
    if let Some(access) = access {
        req = req.header("authorization", format!("Bearer {access}"));
    }
    req.body(Body::empty()).expect("request")
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/shop.sqlite3", dir.path().display());
    let store = simplejwt::store::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let hasher = PasswordHasher::new(HasherConfig::default())?;
    store
        .create_user(
            &NewUser {
                username: "carol".into(),
                password_hash: hasher.hash("carol-Password-1").await?,
                email: String::new(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
            },
            simplejwt::token::Timestamp::now().epoch(),
        )
        .await?;
    // A random key for the demonstration; a real application reads its own.
    let key = format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    );
    let settings = Settings::from_pairs([("SIGNING_KEY", key.as_str())])?;
    let app = app(AuthService::new(settings, store.clone(), hasher)?);

    show(&app, get_as("/", None)).await?;
    show(&app, get_as("/orders", None)).await?;
    let login = Request::post("/auth/")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username": "carol", "password": "carol-Password-1"}"#,
        ))?;
    let (_, body) = show(&app, login).await?;
    let pair: serde_json::Value = serde_json::from_str(&body)?;
    let access = pair["access"].as_str().ok_or("no access token")?;
    show(&app, get_as("/", Some(access))).await?;
    show(&app, get_as("/orders", Some(access))).await?;
    show(&app, get_as("/back-office", Some(access))).await?;
    show(&app, get_as("/orders", Some("not-a-token"))).await?;
    // Only obtain and refresh were mounted: verify is the application's 404.
    show(&app, Request::post("/auth/verify/").body(Body::empty())?).await?;

    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(bind)) = (args.next(), args.next()) {
        if flag == "--bind" {
            let listener = tokio::net::TcpListener::bind(&bind).await?;
            println!(
                "\nServing on http://{} (Ctrl-C stops)",
                listener.local_addr()?
            );
            axum::serve(listener, app).await?;
        }
    }
    store.close().await;
    Ok(())
}
