//! `serve`: migrate, make sure there is a signing key and a first user, then
//! serve through the library's serving loop (`simplejwt::server`: timeouts,
//! connection cap, signals) until SIGTERM/SIGINT, letting in-flight requests
//! finish within the shutdown grace. With TLS_CERT_FILE and TLS_KEY_FILE,
//! HTTPS (the pair checked before anything else starts, reloaded on SIGHUP)
//! and optionally a plain-HTTP listener that only redirects.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use std::time::Duration;

use rand::distributions::{Alphanumeric, DistString};
use simplejwt::http::{app, AppState};
use simplejwt::metrics::Metrics;
use simplejwt::server::{self, Https, Limits, Redirect, RedirectHost, Signals, Tls};
use simplejwt::service::{AuthService, LogSink};
use simplejwt::settings::Secret;
use simplejwt::store::{Database, NewUser};

use super::config::Config;
use super::keygen::write_private;
use super::{CliResult, Failure};

const INITIAL_ADMIN_FLAG: &str = "initial_admin_created";

pub(crate) async fn run(config: Config, bind: Option<String>) -> CliResult {
    // First, so that no signal ends the process abruptly from here on: one
    // received while starting is acted on once serving begins.
    let signals = Signals::new()
        .map_err(|e| Failure::Runtime(format!("cannot install signal handlers: {e}")))?;
    let limits = fitted_limits(&config);
    // Before the database: a certificate that cannot be served is refused
    // at once, with the file named.
    let tls = match config.server.tls_files() {
        Some(files) => Some(Arc::new(
            Tls::new(files, config.server.hsts())
                .map_err(|e| Failure::Config(format!("refusing to start HTTPS: {e}")))?,
        )),
        None => None,
    };
    let mut settings = config.settings()?;
    // Held until this function returns: the process's whole service.
    let _served = claim_sqlite_file(&config)?;
    let store = config.open_store().await?;
    // A database this process cannot write would start, look ready and then
    // fail every login: refuse now, naming the file and the cause.
    store.check_writable().await.map_err(|e| {
        Failure::Runtime(format!(
            "refusing to start: the database {} cannot be written: {}",
            config.database_file_label(),
            e.cause()
        ))
    })?;

    if settings.signing_key().is_none() && settings.keys_dir().is_none() {
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
    for warning in settings.warnings().iter().chain(&config.env_warnings) {
        tracing::warn!("{warning}");
    }
    if let Some(dir) = settings.keys_dir() {
        for (path, mode) in simplejwt::keys::dir::KeyDir::new(dir).readable_by_others() {
            tracing::warn!(
                "KEYS_DIR: {} can be read by its group or others (mode {mode:04o}): chmod 600 it \
                 (a Kubernetes secret volume: defaultMode 0600)",
                path.display()
            );
        }
    }
    let metrics = config.server.metrics().then(Metrics::new);
    let mut service = AuthService::builder(settings, store.clone(), config.hasher()?);
    if let Some(metrics) = &metrics {
        // Events go to the log as without metrics, and to the counters.
        service = service
            .event_sink(Arc::new(LogSink))
            .event_sink(Arc::new(metrics.clone()));
    }
    let service = service.build()?;
    create_initial_admin(&*store, &service, &config.admin_password_file()).await?;
    if service.social_login_enabled() {
        // Discovery at start, in the background: a provider that is down
        // is logged now and tried again at its first sign-in (503 until then).
        let warm = service.clone();
        tokio::spawn(async move { warm.discover_providers().await });
    }

    let bind = bind.unwrap_or_else(|| config.server.bind().to_owned());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {bind}: {e}")))?;
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or(bind);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        address = %local,
        database = %config.database_label(),
        backend = store.backend().as_str(),
        "simplejwt listening on {scheme}://{local}/api/token/"
    );
    let https = match tls {
        Some(tls) => Some(Https {
            redirect: redirect_listener(&config, &listener).await?,
            tls,
        }),
        None => None,
    };
    let reload = https.as_ref().map(|h| h.tls.clone());
    let mut state = AppState::new(service);
    state.max_body_bytes = config.server.max_body_bytes() as usize;
    state.request_timeout = Some(limits.request_timeout);
    // Tasks that live as long as the serving loop.
    let mut background = Vec::new();
    if let Some(metrics) = &metrics {
        let bind = config.server.metrics_bind();
        state = state.with_metrics(metrics.clone(), bind.is_none());
        background.push(tokio::spawn(upkeep(metrics.clone())));
        if let Some(bind) = bind {
            background.push(serve_metrics(bind, state.clone()).await?);
        }
    }
    let reloading = state.service.clone();
    let closing = state.service.clone();
    let keys_dir = reloading.settings().keys_dir().is_some();
    let on_reload = move || {
        match reloading.reload_keys() {
            Ok(true) => tracing::info!("SIGHUP: key ring reloaded from KEYS_DIR"),
            Ok(false) if keys_dir => {
                tracing::info!("SIGHUP: KEYS_DIR read again, key ring unchanged")
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "SIGHUP: key ring not reloaded; the keys in use stay")
            }
        }
        if let Some(tls) = &reload {
            tls.reload_and_log();
        }
    };
    let stopped = server::serve(listener, app(state), &limits, signals, https, on_reload)
        .await
        .map_err(|e| Failure::Runtime(format!("server error: {e}")))?;
    background.iter().for_each(tokio::task::JoinHandle::abort);
    tracing::debug!(?stopped, "serving loop ended");
    // Audit rows accepted before the stop are written before the pool closes.
    if !closing.close_audit(AUDIT_FLUSH).await {
        tracing::warn!("audit rows still queued at shutdown were not all written");
    }
    store.close().await;
    tracing::info!("simplejwt stopped");
    Ok(())
}

/// Longest wait at shutdown for queued audit rows to be written.
const AUDIT_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

/// The plain-HTTP redirect listener (`HTTP_REDIRECT_BIND`), bound now so a
/// taken port stops the start; its redirects go to the HTTPS listener's port
/// unless `HTTP_REDIRECT_HOST` names the target.
async fn redirect_listener(
    config: &Config,
    https: &tokio::net::TcpListener,
) -> CliResult<Option<(tokio::net::TcpListener, Redirect)>> {
    let Some(bind) = config.server.http_redirect_bind() else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {bind}: {e}")))?;
    let host = config
        .server
        .http_redirect_host()
        .map(RedirectHost::configured)
        .transpose()
        .map_err(Failure::Config)?;
    let port = https.local_addr().map(|a| a.port()).unwrap_or(443);
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| bind.to_owned());
    tracing::info!(address = %local, "redirecting plain HTTP on http://{local}/ to HTTPS");
    Ok(Some((listener, Redirect::new(host, port))))
}

/// Folds the latency histograms' samples every few seconds, so they do not
/// pile up between scrapes.
async fn upkeep(metrics: Metrics) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        metrics.run_upkeep();
    }
}

/// `METRICS_BIND`: `/metrics` alone on its own listener (plain axum: a
/// scraper on a private address needs none of the API's connection
/// limits). Ends when the API's serving loop does (the task is aborted).
async fn serve_metrics(bind: &str, state: AppState) -> CliResult<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {bind} (METRICS_BIND): {e}")))?;
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| bind.to_owned());
    tracing::info!(address = %local, "metrics on http://{local}/metrics");
    let router = simplejwt::http::metrics::router(state);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    }))
}

/// One SQLite file is served by one process: the in-memory login-failure
/// counters and the single writer with its group commit assume it. So
/// `serve` takes an exclusive OS lock on `<database>.lock` (beside the file,
/// which SQLite never touches) for as long as it serves, and a second
/// `serve` of the same file is refused, naming the holder's pid. The account
/// commands (`createuser`, `changepassword`, …) take no such lock: SQLite's
/// own locking (WAL, busy timeout) makes their short writes safe next to a
/// running server, which reads users from the file on every request. The
/// lock goes with the process, however it ends (the OS releases it), so a
/// crash never leaves a stale lock behind. `None` on PostgreSQL, where any
/// number of instances may serve one database.
fn claim_sqlite_file(config: &Config) -> CliResult<Option<std::fs::File>> {
    use std::io::Write as _;
    let Ok(Some(database)) = simplejwt::store::sqlite_file(config.server.database_url()) else {
        return Ok(None);
    };
    let mut path = database.into_os_string();
    path.push(".lock");
    let path = std::path::PathBuf::from(path);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path);
    let file = match file {
        Ok(file) => file,
        // A directory this process cannot write cannot hold the database's
        // WAL either: the writability check that follows refuses to start
        // with the database's name and SQLite's own cause.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) || e.raw_os_error() == Some(1) =>
        {
            tracing::debug!(path = %path.display(), error = %e, "no lock file: the directory is not writable");
            return Ok(None);
        }
        Err(e) => {
            return Err(Failure::Runtime(format!(
                "cannot open the lock file {}: {e}",
                path.display()
            )))
        }
    };
    match file.try_lock() {
        Ok(()) => {
            // Who holds it, for the message of a second `serve`.
            let mut writer = &file;
            let _ = file
                .set_len(0)
                .and_then(|()| write!(writer, "{}", std::process::id()));
            Ok(Some(file))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = match holder.trim() {
                "" => String::new(),
                pid => format!(" (pid {pid})"),
            };
            Err(Failure::Runtime(format!(
                "refusing to start: the SQLite database {} is already served by another \
                 `simplejwt serve`{holder}, which holds {}. One SQLite file is served by one \
                 process; stop that one, or use PostgreSQL for several instances. (The account \
                 commands, e.g. createuser, work on the file while it is served.)",
                config.database_file_label(),
                path.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::Runtime(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
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
/// password shown once, so the README's first command gives a login that
/// works. Never again, even if users are removed.
///
/// The password never enters the log stream (which may be collected and
/// shipped): on a terminal it is printed to it apart from the log lines;
/// otherwise (under systemd, Docker, a pipe) it is written to
/// `password_file` (mode 0600, never overwritten) and the log names the file.
async fn create_initial_admin(
    store: &dyn Database,
    service: &AuthService,
    password_file: &Path,
) -> CliResult {
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
    if std::io::stderr().is_terminal() {
        eprintln!(
            "\n  Created the initial user (shown once, not logged):\n    username: admin\n    \
             password: {password}\n  Change it with: simplejwt changepassword admin\n"
        );
        return Ok(());
    }
    let contents = format!("username: admin\npassword: {password}\n");
    match write_private(password_file, &contents) {
        Ok(()) => tracing::info!(
            file = %password_file.display(),
            "created the initial user `admin`: its one-time password is in the file \
             (readable by this user only); read it, delete the file, and change the password \
             with `simplejwt changepassword admin`"
        ),
        Err(e) => tracing::error!(
            file = %password_file.display(),
            error = %e,
            "created the initial user `admin`, but could not write its one-time password; \
             set one with `simplejwt changepassword admin`"
        ),
    }
    Ok(())
}

/// The serving loop's limits, after raising the soft descriptor limit to the
/// hard one: a connection cap beyond the descriptors there are is lowered
/// (and said so), so the cap, not `EMFILE`, decides who is served.
fn fitted_limits(config: &Config) -> Limits {
    let mut limits = config.server.limits();
    if let Some(soft) = server::raise_descriptor_limit() {
        let fitted = limits.fitted_to(soft);
        if fitted < limits.max_connections {
            tracing::warn!(
                max_connections = limits.max_connections,
                open_descriptors = soft,
                serving = fitted,
                "MAX_CONNECTIONS lowered to fit the open-descriptor limit"
            );
            limits.max_connections = fitted;
        }
        tracing::debug!(open_descriptors = soft, "descriptor limit");
    }
    limits
}
