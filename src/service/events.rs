//! What the auth logic reports as it works: one [`Event`] per login, refresh,
//! blacklisting, reuse detection and logout, (later) throttling, key change.
//! Observers plug in as [`EventSink`]s — the log (the default), metrics
//! counters, an audit table — so the logic never knows who listens, and
//! counters come from what happened, not from counting rows.
//!
//! An event borrows what it names and carries no token and no password; a
//! sink must be cheap (it runs inline, on the request's task), and the hot
//! path (authenticating a request) emits nothing.

use super::client::ClientInfo;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// Credentials were accepted and tokens issued.
    LoginSucceeded,
    /// Credentials were refused (unknown user, wrong password, inactive account).
    LoginFailed,
    /// A refresh token bought a new access token (`rotated`: and a new refresh token).
    Refreshed {
        /// Whether the refresh token was rotated.
        rotated: bool,
    },
    /// A refresh was refused because its token is blacklisted (or lost a race).
    RefreshRefused,
    /// A token was blacklisted (logout).
    Blacklisted,
    /// A login was refused without checking the password: too many recent
    /// failures for this username from this address, or from this address.
    LoginThrottled,
    /// A rotated-out refresh token was presented again: its whole session
    /// (token family) was ended (`REFRESH_REUSE_DETECTION`).
    ReuseDetected,
    /// Sessions were ended (logout with a scope, the device list, an administrator).
    LoggedOut,
    /// A refresh found its session past `SESSION_ABSOLUTE_LIFETIME` or
    /// `SESSION_IDLE_TIMEOUT`: the session was ended.
    SessionExpired,
    /// The key ring changed on reload (`KEYS_DIR`): a key was added,
    /// promoted to signing, or retired. `detail` names the kids.
    KeysChanged,
    /// A user's password was changed, or the account deactivated or
    /// activated: by the password change endpoint or by an administrator
    /// (`simplejwt changepassword`, `setactive`). `detail` says which and by whom.
    AccountChanged,
}

impl EventKind {
    /// A stable name for logs and metric labels (`login_failed`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::LoginSucceeded => "login_succeeded",
            EventKind::LoginFailed => "login_failed",
            EventKind::Refreshed { rotated: false } => "refreshed",
            EventKind::Refreshed { rotated: true } => "rotated",
            EventKind::RefreshRefused => "refresh_refused",
            EventKind::Blacklisted => "blacklisted",
            EventKind::LoginThrottled => "login_throttled",
            EventKind::ReuseDetected => "reuse_detected",
            EventKind::LoggedOut => "logged_out",
            EventKind::SessionExpired => "session_expired",
            EventKind::KeysChanged => "keys_changed",
            EventKind::AccountChanged => "account_changed",
        }
    }

    /// Whether operators want to see it by default (security-relevant), as
    /// opposed to routine traffic.
    pub fn is_security_relevant(self) -> bool {
        matches!(
            self,
            EventKind::LoginFailed
                | EventKind::RefreshRefused
                | EventKind::Blacklisted
                | EventKind::LoginThrottled
                | EventKind::ReuseDetected
                | EventKind::LoggedOut
                | EventKind::KeysChanged
                | EventKind::AccountChanged
        )
    }
}

/// One event: what, for whom, from where.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The user's primary key, when known.
    pub user_id: Option<i64>,
    /// The login name tried or used, when known (never a password).
    pub username: Option<&'a str>,
    /// The client.
    pub client: &'a ClientInfo,
    /// What else the event names (the kids of a key change); never a
    /// token, a password or a key.
    pub detail: Option<&'a str>,
}

/// Receives every event. Implementations must not block (they run inline).
pub trait EventSink: Send + Sync + 'static {
    /// Called once per event.
    fn record(&self, event: &Event<'_>);
}

/// The default sink: one structured log line per event, at `info` for
/// security-relevant events and `debug` for routine ones, target
/// `simplejwt::events`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSink;

impl EventSink for LogSink {
    fn record(&self, e: &Event<'_>) {
        let ip = e.client.ip.map(|ip| ip.to_string());
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    target: "simplejwt::events",
                    event = e.kind.name(),
                    user_id = e.user_id,
                    username = e.username,
                    ip = ip.as_deref(),
                    user_agent = e.client.user_agent.as_deref(),
                    detail = e.detail,
                )
            };
        }
        if e.kind.is_security_relevant() {
            line!(info);
        } else {
            line!(debug);
        }
    }
}
