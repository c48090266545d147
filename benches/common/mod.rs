//! The fixture the hot-path benchmarks share: one SQLite store in a temporary
//! directory with alice (id 1, cheap argon2 parameters: building the hasher
//! hashes once and is never measured), an [`AuthService`] signing with
//! `signing_key` (HS256), and a 5-minute access token for alice — long
//! enough for every sample of a run — all on a current-thread Tokio runtime;
//! and the protected request the router benchmarks send.
//!
//! Every benchmark binary includes this module with `mod common;`; not every
//! one uses every helper, hence the `dead_code` allowance.

#![allow(dead_code)]

use axum::body::Body;
use axum::Router;
use http::Request;
use tower::ServiceExt as _;

use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::service::AuthService;
use simplejwt::settings::Settings;
use simplejwt::store::{NewUser, StoreOptions};
use simplejwt::token::{claims, TokenKind};

/// Alice's fixture; keep it alive as long as the service is used.
pub struct Alice {
    /// The current-thread runtime every request runs on.
    pub runtime: tokio::runtime::Runtime,
    /// The service over the SQLite store.
    pub service: AuthService,
    /// `Bearer <alice's access token>`.
    pub authorization: String,
    /// The directory the database lives in (removed when dropped).
    _dir: tempfile::TempDir,
}

/// Builds alice's fixture with a service signing with `signing_key`.
pub fn alice(signing_key: &str) -> Alice {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/bench.sqlite3", dir.path().display());
    let service = runtime.block_on(async {
        let store = simplejwt::store::connect(&url, &StoreOptions::default())
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        let hasher = PasswordHasher::new(HasherConfig {
            memory_kib: 64,
            iterations: 1,
            ..HasherConfig::default()
        })
        .expect("hasher");
        let password_hash = hasher.hash_blocking("alice-Password-1").expect("hash");
        store
            .create_user(
                &NewUser {
                    username: "alice".into(),
                    password_hash,
                    email: String::new(),
                    is_active: true,
                    is_staff: false,
                    is_superuser: false,
                },
                simplejwt::token::Timestamp::now().epoch(),
            )
            .await
            .expect("create_user");
        let settings = Settings::from_pairs([("SIGNING_KEY", signing_key)]).expect("settings");
        AuthService::new(settings, store, hasher).expect("service")
    });
    let mut access = claims::for_user(
        service.settings(),
        TokenKind::Access,
        "1".into(),
        None,
        simplejwt::token::Timestamp::now(),
    );
    let token = service.tokens().encode(&mut access).expect("encode");
    Alice {
        runtime,
        service,
        authorization: format!("Bearer {token}"),
        _dir: dir,
    }
}

impl Alice {
    /// One `GET /api/protected/` with alice's token through `router`;
    /// panics unless it is a 200.
    pub fn protected(&self, router: &Router) {
        let req = Request::builder()
            .uri("/api/protected/")
            .header("authorization", &self.authorization)
            .body(Body::empty())
            .expect("request");
        let res = self
            .runtime
            .block_on(router.clone().oneshot(req))
            .expect("infallible");
        assert_eq!(res.status(), 200);
    }
}
