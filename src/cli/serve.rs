//! `serve`: migrate, make sure there is a signing key and a first user, then
//! serve until SIGTERM/SIGINT, letting in-flight requests finish.

use std::path::Path;

use rand::distributions::{Alphanumeric, DistString};
use simplejwt::http::{app, AppState};
use simplejwt::service::AuthService;
use simplejwt::settings::Secret;
use simplejwt::store::{Database, NewUser};

use super::config::Config;
use super::keygen::write_private;
use super::{CliResult, Failure};

const INITIAL_ADMIN_FLAG: &str = "initial_admin_created";

pub(crate) async fn run(config: Config, bind: Option<String>) -> CliResult {
    let mut settings = config.settings()?;
    let store = config.open_store().await?;

    if settings.signing_key().is_none() {
        if !simplejwt::keys::is_hmac(settings.algorithm()) {
            return Err(Failure::Config(
                "setting SIGNING_KEY: is not set (asymmetric algorithms need a private key; \
                 run `simplejwt keygen --algorithm ...`)"
                    .into(),
            ));
        }
        settings = settings
            .to_builder()
            .signing_key(load_or_create_key(&config.key_file())?)
            .build()?;
    }
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let service = AuthService::new(settings, store.clone(), config.hasher()?)?;
    create_initial_admin(&*store, &service).await?;

    let bind = bind.unwrap_or_else(|| config.server.bind().to_owned());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {bind}: {e}")))?;
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or(bind);
    tracing::info!(
        address = %local,
        database = %config.database_label(),
        backend = store.backend().as_str(),
        "simplejwt listening on http://{local}/api/token/"
    );
    let state = AppState {
        service,
        max_body_bytes: config.server.max_body_bytes() as usize,
    };
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Failure::Runtime(format!("server error: {e}")))?;
    store.close().await;
    tracing::info!("simplejwt stopped");
    Ok(())
}

/// Reads the generated key, or generates one (64 random bytes) into a file
/// readable by its owner only. The key itself is never logged.
fn load_or_create_key(path: &Path) -> CliResult<Secret> {
    match std::fs::read_to_string(path) {
        Ok(key) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(meta) = std::fs::metadata(path) {
                    if meta.permissions().mode() & 0o077 != 0 {
                        tracing::warn!(path = %path.display(), "signing key file is readable by others; chmod 600 it");
                    }
                }
            }
            tracing::info!(path = %path.display(), "using the signing key generated earlier");
            Ok(Secret::new(key.trim().to_owned()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, _) = super::keygen::generate(simplejwt::settings::Algorithm::HS512)?;
            write_private(path, &key).map_err(|e| {
                Failure::Runtime(format!(
                    "cannot write the signing key to {}: {e}",
                    path.display()
                ))
            })?;
            tracing::info!(
                path = %path.display(),
                "no SIMPLE_JWT_SIGNING_KEY set: generated a new signing key (kept for later starts; \
                 set SIMPLE_JWT_SIGNING_KEY_FILE to this file on every instance that must share it)"
            );
            Ok(Secret::new(key))
        }
        Err(e) => Err(Failure::Runtime(format!(
            "cannot read the signing key {}: {e}",
            path.display()
        ))),
    }
}

/// On the very first start with no users, create `admin` with a random
/// password shown once on the terminal (never logged), so the README's first
/// command gives a login that works. Never again, even if users are removed.
async fn create_initial_admin(store: &dyn Database, service: &AuthService) -> CliResult {
    if store.count_users().await? > 0 || store.meta(INITIAL_ADMIN_FLAG).await?.is_some() {
        return Ok(());
    }
    let password = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 24);
    let hash = service
        .hasher()
        .hash(&password)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let new = NewUser {
        username: "admin".into(),
        password_hash: hash,
        email: String::new(),
        is_active: true,
        is_staff: true,
        is_superuser: true,
    };
    match store
        .create_user(&new, simplejwt::token::Timestamp::now().epoch())
        .await
    {
        Ok(_) => {}
        // Another instance created it at the same moment.
        Err(simplejwt::store::StoreError::Conflict) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    store.set_meta_once(INITIAL_ADMIN_FLAG, "admin").await?;
    eprintln!(
        "\n  Created the initial user (shown once, not logged):\n    username: admin\n    \
         password: {password}\n  Change it with: simplejwt changepassword admin\n"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
