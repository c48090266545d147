//! The fixture the hot-path benchmarks share: one SQLite store in a temporary
//! directory with alice (id 1, cheap argon2 parameters: building the hasher
//! hashes once and is never measured), an [`AuthService`] signing with
//! `signing_key` (HS256), and a 5-minute access token for alice — long
//! enough for every sample of a run.

use simplejwt::password::{HasherConfig, PasswordHasher};
use simplejwt::service::AuthService;
use simplejwt::settings::Settings;
use simplejwt::store::{NewUser, StoreOptions};
use simplejwt::token::{claims, TokenKind};

/// The service, alice's access token, and the directory the database lives
/// in (keep it alive as long as the service).
pub fn alice(
    runtime: &tokio::runtime::Runtime,
    signing_key: &str,
) -> (AuthService, String, tempfile::TempDir) {
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
    (service, token, dir)
}
