//! The auth logic: obtain, refresh, verify, blacklist and authenticate, with
//! no HTTP in sight, so it is testable without a server and reusable from the
//! command line. Each operation lives in its own module and follows
//! simplejwt's serializer of the same name step by step, except where
//! simplejwt is wrong (a deleted user's refresh is a 401, not a 500; a token
//! without `jti` is "Token has no id", not a 500; rotation succeeds once).

pub mod audit;
mod authenticate;
mod blacklist;
pub mod client;
pub mod events;
mod health;
mod introspect;
mod obtain;
mod password_change;
mod refresh;
mod refresh_sliding;
mod sessions;
pub mod social;
pub mod throttle;
mod validate;
mod verify;

pub use audit::AuditSink;
pub(crate) use authenticate::names_accepted_scheme;
pub use authenticate::{AuthenticatedUser, TokenUser};
pub use client::ClientInfo;
pub use events::{Event, EventKind, EventSink, LogSink};
pub use obtain::{SlidingToken, TokenPair};
pub use refresh::Refreshed;
pub use sessions::{LogoutScope, SessionView};
pub use social::{BrowserFinish, BrowserStart};
pub use throttle::Throttle;

use std::sync::Arc;

use md5::{Digest, Md5};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::error::AuthError;
use crate::keys::Keys;
use crate::password::PasswordHasher;
use crate::settings::{Settings, SettingsError, UserClaimField, UserIdField};
use crate::store::{
    Backend, Database, MemoryCounters, SessionLifetimes, TokenStore, User, UserStore,
};
use crate::token::{Claims, TokenBackend};

/// Adds custom claims to the refresh token at obtain (they are copied into
/// the access token too) — simplejwt's `get_token` override, as in the
/// tutorial that adds `username`.
pub trait ClaimsHook: Send + Sync + 'static {
    /// Called once per login with the user and the refresh token's claims.
    fn add_claims(&self, user: &User, claims: &mut Claims);
}

impl<F> ClaimsHook for F
where
    F: Fn(&User, &mut Claims) + Send + Sync + 'static,
{
    fn add_claims(&self, user: &User, claims: &mut Claims) {
        self(user, claims)
    }
}

/// The auth service: settings, keys, store and password hasher. Cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    tokens: TokenBackend,
    /// Which database holds our tables (for `Debug`).
    backend: Backend,
    users: Arc<dyn UserStore>,
    token_store: Arc<dyn TokenStore>,
    /// Our database as a whole (the same as `token_store`), for readiness.
    database: Arc<dyn Database>,
    hasher: PasswordHasher,
    claims_hook: Option<Box<dyn ClaimsHook>>,
    sinks: Vec<Arc<dyn EventSink>>,
    /// `AUDIT_TABLE`: the audit sink (also one of `sinks`), closed at shutdown.
    audit: Option<Arc<AuditSink>>,
    /// `LOGIN_THROTTLE`: the rule over shared or in-process counters.
    throttle: Option<Throttle>,
    /// `OIDC_PROVIDERS`: social login, when any provider is configured.
    social: Option<social::SocialLogin>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("store", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Builds the service over our database (users and tokens); fails
    /// (naming the setting) when keys are unusable.
    pub fn new(
        settings: Settings,
        store: Arc<dyn Database>,
        hasher: PasswordHasher,
    ) -> Result<Self, SettingsError> {
        Self::builder(settings, store, hasher).build()
    }

    /// A builder, for a claims hook or a user store of your own.
    pub fn builder(
        settings: Settings,
        store: Arc<dyn Database>,
        hasher: PasswordHasher,
    ) -> AuthServiceBuilder {
        AuthServiceBuilder {
            settings,
            store,
            user_store: None,
            hasher,
            claims_hook: None,
            sinks: Vec::new(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// With `AUDIT_TABLE`: stops the audit queue and waits, at most
    /// `within`, until the rows already queued are written
    /// ([`AuditSink::close`]); call it once no request is served any more,
    /// before closing the database. Returns whether every queued row was
    /// written (`true` without `AUDIT_TABLE`: nothing to write).
    pub async fn close_audit(&self, within: std::time::Duration) -> bool {
        match &self.inner.audit {
            Some(audit) => audit.close(within).await,
            None => true,
        }
    }

    /// Where users are looked up (our database unless
    /// [`AuthServiceBuilder::user_store`] named another).
    pub fn user_store(&self) -> &dyn UserStore {
        &*self.inner.users
    }

    /// Where outstanding and blacklisted tokens are kept.
    pub fn token_store(&self) -> &dyn TokenStore {
        &*self.inner.token_store
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// The token backend (encode / decode).
    pub fn tokens(&self) -> &TokenBackend {
        &self.inner.tokens
    }

    /// `SESSION_ABSOLUTE_LIFETIME` and `SESSION_IDLE_TIMEOUT` as the store
    /// takes them: whole seconds, 0 for none.
    pub(crate) fn session_lifetimes(&self) -> SessionLifetimes {
        let settings = &self.inner.settings;
        SessionLifetimes {
            absolute: settings.session_absolute_lifetime().as_secs() as i64,
            idle: settings.session_idle_timeout().as_secs() as i64,
        }
    }

    /// The value a token carries for `user` in `USER_ID_CLAIM` (always a string).
    fn user_id_value(&self, user: &User) -> String {
        match self.inner.settings.user_id_field() {
            UserIdField::Id => user.id.to_string(),
            UserIdField::Username => user.username.clone(),
        }
    }

    /// Looks up the user a claim value names. Values that cannot name a user
    /// (wrong type, not an integer for the id field) find nobody.
    async fn user_for_claim(&self, value: &Value) -> Result<Option<User>, AuthError> {
        let store = self.user_store();
        Ok(match self.inner.settings.user_id_field() {
            UserIdField::Id => match user_pk(value) {
                Some(id) => store.user_by_id(id).await?,
                None => None,
            },
            UserIdField::Username => match value {
                Value::String(s) => store.user_by_username(s).await?,
                Value::Number(n) => store.user_by_username(&n.to_string()).await?,
                _ => None,
            },
        })
    }

    /// `CHECK_REVOKE_TOKEN`'s digest of the stored password hash: MD5, upper hex (as simplejwt).
    fn revoke_digest(&self, user: &User) -> Option<String> {
        self.inner
            .settings
            .check_revoke_token()
            .then(|| password_digest(&user.password))
    }

    /// `CHECK_REVOKE_TOKEN`: whether the token's password digest is the
    /// user's current one (constant time; a missing claim never is). Always
    /// `true` with the setting off.
    fn password_unchanged(&self, user: &User, claims: &Claims) -> bool {
        let settings = &self.inner.settings;
        if !settings.check_revoke_token() {
            return true;
        }
        let expected = password_digest(&user.password);
        let presented = claims
            .get(settings.revoke_token_claim())
            .and_then(Value::as_str)
            .unwrap_or("");
        bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
    }

    /// The user a refresh or sliding token names, as the refresh serializers
    /// check it: `Ok(None)` when the token names nobody (a falsy id: simplejwt
    /// skips the check); [`AuthError::NoActiveAccountForToken`] for a missing
    /// or (with `CHECK_USER_IS_ACTIVE`) inactive user;
    /// [`AuthError::PasswordChanged`] when `CHECK_REVOKE_TOKEN` finds the
    /// password changed — after blacklisting the token, so it is never tried
    /// again (simplejwt's fix after 5.5.1).
    async fn check_token_user(
        &self,
        claims: &Claims,
        now: crate::token::Timestamp,
    ) -> Result<Option<User>, AuthError> {
        let settings = &self.inner.settings;
        let Some(value) = claims.get(settings.user_id_claim()).filter(|v| truthy(v)) else {
            return Ok(None);
        };
        let user = match self.user_for_claim(value).await? {
            Some(user) if user.is_active || !settings.check_user_is_active() => user,
            _ => return Err(AuthError::NoActiveAccountForToken),
        };
        if !self.password_unchanged(&user, claims) {
            if let Some(jti) = crate::token::claims::jti(settings, claims) {
                let token = crate::store::OutstandingToken {
                    jti: jti.to_owned(),
                    user_id: Some(user.id),
                    created_at: Some(now.epoch()),
                    expires_at: crate::token::claims::exp(claims).unwrap_or(now.epoch()),
                };
                self.token_store().blacklist(&token, now.epoch()).await?;
            }
            return Err(AuthError::PasswordChanged);
        }
        Ok(Some(user))
    }

    /// `CLAIMS_FOLLOW_USER`: the custom claims of `claims` computed again
    /// from `user` (the current row); the reserved claims stay as they are.
    fn refresh_user_claims(&self, user: &User, claims: &mut Claims) {
        let settings = &self.inner.settings;
        let mut names = vec![
            "exp",
            "iat",
            settings.user_id_claim(),
            settings.revoke_token_claim(),
            settings.sliding_token_refresh_exp_claim(),
        ];
        names.extend(settings.token_type_claim());
        names.extend(settings.jti_claim());
        names.extend(settings.session_id_claim());
        let reserved: Claims = claims
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.add_user_claims(user, claims);
        crate::token::claims::protect_reserved(&reserved, claims);
    }

    fn add_user_claims(&self, user: &User, claims: &mut Claims) {
        for field in self.inner.settings.token_claims() {
            let value = match field {
                UserClaimField::Username => Value::from(user.username.clone()),
                UserClaimField::Email => Value::from(user.email.clone()),
                UserClaimField::FirstName => Value::from(user.first_name.clone()),
                UserClaimField::LastName => Value::from(user.last_name.clone()),
                UserClaimField::IsStaff => Value::from(user.is_staff),
                UserClaimField::IsSuperuser => Value::from(user.is_superuser),
            };
            claims.insert(field.as_str().into(), value);
        }
        if let Some(hook) = &self.inner.claims_hook {
            hook.add_claims(user, claims);
        }
    }

    /// Reports an event to every sink, and names the user (when known) in
    /// the current span — the request's, under `http::access_log`; a span
    /// without a `user_id` field ignores it.
    fn emit(
        &self,
        kind: EventKind,
        user_id: Option<i64>,
        username: Option<&str>,
        client: &ClientInfo,
    ) {
        self.emit_detail(kind, user_id, username, client, None);
    }

    /// [`Self::emit`] with the event's `detail` (never a token or password).
    fn emit_detail(
        &self,
        kind: EventKind,
        user_id: Option<i64>,
        username: Option<&str>,
        client: &ClientInfo,
        detail: Option<&str>,
    ) {
        if let Some(id) = user_id {
            tracing::Span::current().record("user_id", id);
        }
        let event = Event {
            kind,
            user_id,
            username,
            client,
            detail,
        };
        self.record(&event);
    }

    fn record(&self, event: &Event<'_>) {
        for sink in &self.inner.sinks {
            sink.record(event);
        }
    }

    /// Re-reads `KEYS_DIR` (on SIGHUP): from now on tokens are signed with
    /// its `current` key and verified with its keys only, on every clone of
    /// this service. Returns whether the ring changed (then a
    /// [`EventKind::KeysChanged`] event names the signing key and the
    /// verification keys). Without `KEYS_DIR` nothing is read (`Ok(false)`).
    /// Errors name the setting or file; the ring in use then stays.
    pub fn reload_keys(&self) -> Result<bool, SettingsError> {
        if self.settings().keys_dir().is_none() {
            return Ok(false);
        }
        let keys = Keys::from_settings(self.settings())?;
        let describe = |k: &Keys| {
            format!(
                "signing={} keys={}",
                k.kid().unwrap_or("-"),
                k.kids().collect::<Vec<_>>().join(",")
            )
        };
        let current = self.tokens().keys();
        let (before, mut after) = (describe(&current), describe(&keys));
        let same_material = current.same_material(&keys);
        self.inner.tokens.replace_keys(keys)?;
        if before == after && same_material {
            return Ok(false);
        }
        if before == after {
            // Same kids, other bytes: a secret replaced under its name.
            after.push_str(" (key material replaced under the same kid)");
        }
        self.record(&Event {
            kind: EventKind::KeysChanged,
            user_id: None,
            username: None,
            client: &ClientInfo::unknown(),
            detail: Some(&after),
        });
        Ok(true)
    }

    fn encode(&self, claims: &mut Claims) -> Result<String, AuthError> {
        self.inner.tokens.encode(claims).map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            AuthError::Internal
        })
    }
}

/// Builds an [`AuthService`] with optional extras.
pub struct AuthServiceBuilder {
    settings: Settings,
    store: Arc<dyn Database>,
    user_store: Option<Arc<dyn UserStore>>,
    hasher: PasswordHasher,
    claims_hook: Option<Box<dyn ClaimsHook>>,
    sinks: Vec<Arc<dyn EventSink>>,
}

impl AuthServiceBuilder {
    /// Adds custom claims at obtain.
    pub fn claims_hook(mut self, hook: impl ClaimsHook) -> Self {
        self.claims_hook = Some(Box::new(hook));
        self
    }

    /// Authenticates against `users` (e.g. your own users table) instead of
    /// our database's; outstanding tokens and the blacklist stay in ours.
    pub fn user_store(mut self, users: Arc<dyn UserStore>) -> Self {
        self.user_store = Some(users);
        self
    }

    /// Adds an observer of events (logins, refreshes, blacklistings …).
    /// Without any, events go to the log ([`LogSink`]); adding one replaces
    /// that default, so add [`LogSink`] too to keep the log lines.
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Prepares keys and builds the service.
    pub fn build(self) -> Result<AuthService, SettingsError> {
        let keys = Keys::from_settings(&self.settings)?;
        let tokens = TokenBackend::new(&self.settings, keys);
        let throttle = self.settings.login_throttle().then(|| {
            let counters = self
                .store
                .shared_failure_counters()
                .unwrap_or_else(|| Arc::new(MemoryCounters::default()));
            Throttle::new(&self.settings, counters)
        });
        let social = social::SocialLogin::from_settings(&self.settings)
            .map_err(|m| SettingsError::new("OIDC_PROVIDERS", m))?;
        let mut sinks = self.sinks;
        if sinks.is_empty() {
            sinks.push(Arc::new(LogSink));
        }
        let mut audit = None;
        if self.settings.audit_table() {
            let sink = AuditSink::spawn(self.store.clone(), self.settings.audit_queue() as usize)
                .ok_or_else(|| {
                SettingsError::new("AUDIT_TABLE", "needs a Tokio runtime to write from")
            })?;
            let sink = Arc::new(sink);
            sinks.push(sink.clone());
            audit = Some(sink);
        }
        Ok(AuthService {
            inner: Arc::new(Inner {
                settings: self.settings,
                tokens,
                backend: self.store.backend(),
                users: self.user_store.unwrap_or_else(|| self.store.clone()),
                token_store: self.store.clone(),
                database: self.store,
                hasher: self.hasher,
                claims_hook: self.claims_hook,
                sinks,
                audit,
                throttle,
                social,
            }),
        })
    }
}

/// A user primary key from a claim: `"1"` (5.5.1 tokens) or `1` (older ones).
fn user_pk(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

/// Python truthiness of a claim value (simplejwt skips the user check for falsy ids).
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// MD5 of the stored password hash, upper-case hex (`CHECK_REVOKE_TOKEN`).
pub fn password_digest(stored_hash: &str) -> String {
    let digest = Md5::digest(stored_hash.as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_digest_matches_the_spec_vector() {
        assert_eq!(
            password_digest("pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$tW94pSigUM2AlIkWSQO4yVeVgz1Hy8/tw6HFhR010Gk="),
            "19C68F39FD2FB56724637F6A88454F31"
        );
    }

    #[test]
    fn user_ids_resolve_from_strings_and_integers_only() {
        assert_eq!(user_pk(&Value::from("1")), Some(1));
        assert_eq!(user_pk(&Value::from(3)), Some(3));
        assert_eq!(user_pk(&Value::from(3.0)), Some(3));
        assert_eq!(user_pk(&Value::from("abc")), None);
        assert_eq!(user_pk(&Value::from(1.5)), None);
        assert_eq!(user_pk(&Value::from(true)), None);
        assert_eq!(user_pk(&Value::from("99999999999999999999999")), None);
    }

    #[test]
    fn truthiness_follows_python() {
        assert!(!truthy(&Value::from("")));
        assert!(!truthy(&Value::from(0)));
        assert!(!truthy(&Value::Null));
        assert!(truthy(&Value::from("0")));
        assert!(truthy(&Value::from(1)));
    }
}
