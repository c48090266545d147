//! Every `SIMPLE_JWT` setting of djangorestframework-simplejwt 5.5.1 that means
//! something outside Django, with the same names and defaults, plus this
//! server's own (marked so in their descriptions).
//!
//! Each setting is declared once, below: name, kind (how its text is parsed
//! and bounded, see [`kinds`]), default and description. From that one
//! declaration come the private field and its accessor, the typed builder
//! setter, parsing from text (environment `SIMPLE_JWT_<NAME>`, a TOML file,
//! `from_pairs`), the masked description `simplejwt check` prints, and the
//! README's settings table. Combinations are checked once, in
//! [`SettingsBuilder::build`]: a [`Settings`] value is always consistent, so
//! nothing downstream re-checks or panics. Key material is checked by
//! [`crate::keys::Keys::from_settings`]. Server options (`SIMPLEJWT_*`) are
//! declared the same way in [`server`].

pub(crate) mod declare;
pub mod docs;
pub mod kinds;
pub mod server;
pub mod sources;

use std::collections::BTreeMap;
use std::fmt;

pub use declare::Declared;
pub use jsonwebtoken::Algorithm;
pub use kinds::{
    algorithm_name, format_duration, parse_algorithm, parse_duration, OidcProvider, Preset,
    SameSitePolicy, Secret, UserClaimField, UserIdField,
};
pub use server::{ServerOptions, ServerOptionsBuilder};

use declare::declare_settings;
use kinds::*;

/// Prefix of the environment variables that carry settings.
pub const ENV_PREFIX: &str = "SIMPLE_JWT_";

/// A setting that could not be read, or a combination that cannot work.
/// `setting` is the simplejwt name (the first one involved).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {setting}: {message}")]
pub struct SettingsError {
    /// The name of the setting, e.g. `ACCESS_TOKEN_LIFETIME`.
    pub setting: String,
    /// What is wrong (never contains a secret value).
    pub message: String,
}

impl SettingsError {
    pub(crate) fn new(setting: &str, message: impl Into<String>) -> Self {
        Self {
            setting: setting.to_owned(),
            message: message.into(),
        }
    }
}

declare_settings! {
    /// The validated settings; read them through the accessors (named as the
    /// settings, in snake case). Build with [`Settings::builder`],
    /// [`Settings::from_pairs`] or [`Settings::from_env`].
    pub struct Settings, builder SettingsBuilder, env "SIMPLE_JWT_";

    /// (This server's own.) A named set of defaults applied before every
    /// other setting: `compatible` (simplejwt's) or `hardened` (the values in
    /// the table's hardened column, together). Settings given explicitly win.
    "PRESET" preset: Preset = "compatible";
    /// How long an access token is valid.
    "ACCESS_TOKEN_LIFETIME" access_token_lifetime: Lifetime = "5m";
    /// How long a refresh token is valid.
    "REFRESH_TOKEN_LIFETIME" refresh_token_lifetime: Lifetime = "1d";
    /// How long a sliding token authenticates before it must be refreshed.
    "SLIDING_TOKEN_LIFETIME" sliding_token_lifetime: Lifetime = "5m";
    /// How long a sliding token can keep being refreshed.
    "SLIDING_TOKEN_REFRESH_LIFETIME" sliding_token_refresh_lifetime: Lifetime = "1d";
    /// The claim holding a sliding token's refresh deadline.
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM" sliding_token_refresh_exp_claim: ClaimName = "refresh_exp";
    /// A refresh also returns a new refresh token.
    "ROTATE_REFRESH_TOKENS" rotate_refresh_tokens: Flag = "false", hardened "true";
    /// A rotated refresh token is blacklisted (exactly once, even under
    /// concurrency); the verify endpoint then also consults the blacklist.
    "BLACKLIST_AFTER_ROTATION" blacklist_after_rotation: Flag = "false", hardened "true";
    /// Logins record the user's last login time.
    "UPDATE_LAST_LOGIN" update_last_login: Flag = "false";
    /// The one signing algorithm; tokens naming any other are invalid.
    "ALGORITHM" algorithm: AlgorithmKind = "HS256";
    /// HMAC secret, or private key PEM for asymmetric algorithms. Unset: the
    /// server generates one beside its SQLite database.
    "SIGNING_KEY" signing_key: SecretKey = "None";
    /// Public key PEM for asymmetric algorithms (ignored for HS*).
    "VERIFYING_KEY" verifying_key: PublicKey = "None";
    /// Added as `aud` and required when set; several values are written as a
    /// JSON array and a token matches if it names any of them.
    "AUDIENCE" audience: OptionalList = "None";
    /// Added as `iss` and required when set.
    "ISSUER" issuer: OptionalText = "None";
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    "LEEWAY" leeway: Span = "0s";
    /// Accepted schemes of the authorization header (case-sensitive); the
    /// first one is named in `WWW-Authenticate`.
    "AUTH_HEADER_TYPES" auth_header_types: HeaderTypes = "Bearer";
    /// The header carrying the token.
    "AUTH_HEADER_NAME" auth_header_name: HeaderName = "HTTP_AUTHORIZATION";
    /// The user column that tokens name.
    "USER_ID_FIELD" user_id_field: UserIdField = "id";
    /// The claim naming the user.
    "USER_ID_CLAIM" user_id_claim: ClaimName = "user_id";
    /// The claim naming the token type; `None` turns type checks off (with a
    /// warning at start).
    "TOKEN_TYPE_CLAIM" token_type_claim: OptionalClaimName = "token_type";
    /// The claim holding the token id; `None` turns ids (and the blacklist) off.
    "JTI_CLAIM" jti_claim: OptionalClaimName = "jti";
    /// Inactive users cannot refresh or authenticate.
    "CHECK_USER_IS_ACTIVE" check_user_is_active: Flag = "true";
    /// Tokens carry a digest of the password hash and stop working when the
    /// password changes.
    "CHECK_REVOKE_TOKEN" check_revoke_token: Flag = "false";
    /// The claim holding that digest.
    "REVOKE_TOKEN_CLAIM" revoke_token_claim: ClaimName = "hash_password";
    /// Which token types authenticate requests, tried in order.
    "AUTH_TOKEN_CLASSES" auth_token_classes: TokenClasses = "AccessToken";
    /// (This server's own.) User fields copied into tokens at login.
    "TOKEN_CLAIMS" token_claims: UserClaims = "";
    /// (This server's own.) Longer tokens are refused before any decoding, in bytes.
    "TOKEN_MAX_BYTES" token_max_bytes: Count<256, 1048576> = "8192";

    // ==== sessions, token families and revocation ====================
    /// (This server's own.) A rotated-out refresh token presented again
    /// (after the grace period) ends its whole session: every token of the
    /// family is blacklisted, the request answers 401 "Token is blacklisted"
    /// and a `reuse_detected` security event is reported. Needs
    /// ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION.
    "REFRESH_REUSE_DETECTION" refresh_reuse_detection: Flag = "false", hardened "true";
    /// (This server's own.) For this long after a refresh token's first use,
    /// presenting it again (a client that lost the response) returns its
    /// successor again — the same token, not a second one — as long as that
    /// successor is unused. Anchored at the first use; retries do not extend
    /// it. Whole seconds, counted on the clock's seconds (a retry within the
    /// second the period ends in is still served). 0 turns it off. Needs
    /// ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION.
    "REFRESH_REUSE_GRACE" refresh_reuse_grace: Span = "0s", hardened "10s";
    /// (This server's own.) The claim carrying the session's public id in
    /// refresh and access tokens, so the device list can mark the caller's
    /// own session. `None`: tokens carry no session id (simplejwt's claims).
    "SESSION_ID_CLAIM" session_id_claim: OptionalClaimName = "None", hardened "sid";
    /// (This server's own.) A password change (`simplejwt changepassword`)
    /// or a deactivation (`simplejwt setactive NAME false`) ends every
    /// session of the user: their refresh tokens are blacklisted at once.
    "END_SESSIONS_ON_ACCOUNT_CHANGE" end_sessions_on_account_change: Flag = "false", hardened "true";
    /// (This server's own.) Access tokens of an ended session (logout,
    /// reuse detection, an account change) stop authenticating at the next
    /// request, not at their `exp`: the session's state is read in the same
    /// statement as the user. Tokens without a session id are refused.
    /// `/api/token/verify/` answers them as blacklisted tokens (400).
    /// Needs SESSION_ID_CLAIM.
    "ACCESS_TOKEN_REVOCATION" access_token_revocation: Flag = "false", hardened "true";
    /// (This server's own.) At refresh, custom claims (`TOKEN_CLAIMS`, the
    /// claims hook) are computed again from the current user row instead of
    /// copied from the refresh token, so a user who lost staff rights does
    /// not keep them in new access tokens for the refresh lifetime.
    "CLAIMS_FOLLOW_USER" claims_follow_user: Flag = "false", hardened "true";
    /// (This server's own.) A session — a login and every token rotated
    /// from it — ends this long after the login, however often it is
    /// refreshed: no token of it expires later (the login's and each
    /// rotation's `exp` are capped at that deadline), and a refresh after it
    /// ends the session with 401 "Session has expired". 0 turns it off
    /// (rotation then extends a session for ever, as simplejwt). Needs
    /// JTI_CLAIM.
    "SESSION_ABSOLUTE_LIFETIME" session_absolute_lifetime: Span = "0s", hardened "30d";
    /// (This server's own.) A session not refreshed for this long ends: its
    /// refresh answers 401 "Session has expired" and every token of it is
    /// blacklisted. The idle clock is the session's last rotation (or the
    /// login). 0 turns it off. Needs ROTATE_REFRESH_TOKENS (a refresh
    /// without rotation writes nothing) and JTI_CLAIM.
    "SESSION_IDLE_TIMEOUT" session_idle_timeout: Span = "0s", hardened "7d";
    /// (This server's own.) Mounts `/api/token/revoke/` (RFC 7009 token
    /// revocation: a refresh token ends its session) and
    /// `/api/token/introspect/` (RFC 7662 introspection, for staff users'
    /// bearer tokens). Off: neither path exists.
    "OAUTH_TOKEN_ENDPOINTS" oauth_token_endpoints: Flag = "false";
    /// (This server's own.) Serves the OpenAPI 3.1 document of every
    /// mounted route at `/api/schema/` and Swagger UI over it at
    /// `/api/docs/` (embedded, no network access). It describes only what
    /// any client can already probe, so it is on by default; the hardened
    /// preset turns it off (less surface). Off: neither path exists.
    "OPENAPI" openapi: Flag = "true", hardened "false";

    // ==== browser sessions: cookies and CSRF =========================
    /// (This server's own.) Browser sessions: obtain and refresh also set the
    /// tokens as `HttpOnly` cookies and a readable CSRF cookie; refresh,
    /// verify, blacklist and the protected endpoint accept the cookies when
    /// the body or `Authorization` header has no token, and every unsafe
    /// request that carries them must pass the CSRF check. Off: the JSON
    /// API exactly as simplejwt's.
    "AUTH_COOKIE" auth_cookie: Flag = "false";
    /// (This server's own.) Name of the access-token cookie (`Path=/`).
    "AUTH_COOKIE_ACCESS_NAME" auth_cookie_access_name: CookieName = "access";
    /// (This server's own.) Name of the refresh-token cookie.
    "AUTH_COOKIE_REFRESH_NAME" auth_cookie_refresh_name: CookieName = "refresh";
    /// (This server's own.) `Path` of the refresh-token cookie: the browser
    /// sends it only to the endpoints under it that take it.
    "AUTH_COOKIE_REFRESH_PATH" auth_cookie_refresh_path: CookiePath = "/api/token/";
    /// (This server's own.) Cookies are marked `Secure` (sent over HTTPS
    /// only). Turn off only for plain-HTTP local development (warned at start).
    "AUTH_COOKIE_SECURE" auth_cookie_secure: Flag = "true";
    /// (This server's own.) The cookies' `SameSite` attribute.
    "AUTH_COOKIE_SAMESITE" auth_cookie_samesite: SameSitePolicy = "Lax", hardened "Strict";
    /// (This server's own.) Cookie names get the `__Host-` prefix (the
    /// refresh cookie, whose path is limited, `__Secure-`): the browser then
    /// refuses them from a sibling subdomain or over plain HTTP. Needs
    /// `AUTH_COOKIE_SECURE`.
    "AUTH_COOKIE_HOST_PREFIX" auth_cookie_host_prefix: Flag = "false";
    /// (This server's own.) With `AUTH_COOKIE`, JSON bodies still carry the
    /// refresh token; false leaves it in its cookie only.
    "AUTH_COOKIE_REFRESH_IN_BODY" auth_cookie_refresh_in_body: Flag = "true";
    /// (This server's own.) Name of the readable CSRF cookie (`Path=/`) whose
    /// value a page echoes in `CSRF_HEADER_NAME`.
    "CSRF_COOKIE_NAME" csrf_cookie_name: CookieName = "csrftoken";
    /// (This server's own.) The header that must echo the CSRF cookie on
    /// cookie-authenticated unsafe requests.
    "CSRF_HEADER_NAME" csrf_header_name: HeaderName = "HTTP_X_CSRFTOKEN";
    /// (This server's own.) Origins (`https://app.example.com`) allowed to
    /// make cookie-authenticated unsafe requests besides the server's own
    /// (`Sec-Fetch-Site: same-origin`, or an `Origin` matching `Host`).
    "CSRF_TRUSTED_ORIGINS" csrf_trusted_origins: OptionalList = "None";

    // ==== attack resistance: throttling, keys, audit =================
    /// (This server's own.) Failed logins slow down further attempts, per
    /// (username, client address) and per address, whether or not the
    /// username exists: 429 with `Retry-After` until the delay has passed.
    "LOGIN_THROTTLE" login_throttle: Flag = "false", hardened "true";
    /// (This server's own.) Failures of one username from one address before
    /// its attempts are delayed.
    "LOGIN_THROTTLE_FREE_FAILURES" login_throttle_free_failures: Count<1, 1000> = "5";
    /// (This server's own.) Failures from one address (any usernames) before
    /// its attempts are delayed (IPv6: per /64).
    "LOGIN_THROTTLE_IP_FREE_FAILURES" login_throttle_ip_free_failures: Count<1, 1000000> = "100";
    /// (This server's own.) The first delay; it doubles with each further
    /// failure up to LOGIN_THROTTLE_MAX_DELAY.
    "LOGIN_THROTTLE_DELAY" login_throttle_delay: Timeout = "1s";
    /// (This server's own.) The longest delay: never a lock.
    "LOGIN_THROTTLE_MAX_DELAY" login_throttle_max_delay: Timeout = "15m";
    /// (This server's own.) Failures are forgotten this long after the last one.
    "LOGIN_THROTTLE_WINDOW" login_throttle_window: Lifetime = "1h";
    /// (This server's own.) Proxies whose `Forwarded` / `X-Forwarded-For`
    /// headers name the client, and whose `Forwarded: proto=` /
    /// `X-Forwarded-Proto` say whether it came over HTTPS (addresses or CIDR
    /// networks); from any other peer these headers are ignored. Empty: the
    /// peer is the client.
    "TRUSTED_PROXIES" trusted_proxies: IpNetworks = "";
    /// (This server's own.) A directory of keys for rotation without logging
    /// anyone out (`simplejwt keys` init, add, promote, retire, list):
    /// every key in it verifies the tokens naming its `kid`, the `current`
    /// one signs, and the JWKS publishes them all. Re-read on SIGHUP. Instead
    /// of SIGNING_KEY / VERIFYING_KEY; None: those keys, tokens without `kid`.
    "KEYS_DIR" keys_dir: OptionalText = "None";
    /// An `https://` (or `http://`) URL of another issuer's JWKS: tokens whose
    /// `kid` names one of its keys are verified with it (asymmetric
    /// algorithms only, as simplejwt). Unlike simplejwt, tokens this server
    /// mints keep verifying. Fetched with a 5 s timeout and a 256 KiB bound,
    /// cached, and fetched again (at most every 30 s) when an unknown `kid`
    /// appears.
    "JWK_URL" jwk_url: OptionalText = "None";
    /// (This server's own.) Security events (logins, refreshes, reuse
    /// detection, logouts, throttling, key changes: user, address, user
    /// agent, never a token or password) are also written to the
    /// `audit_events` table, through a bounded queue that never delays a
    /// request. They always go to the log (target `simplejwt::events`).
    "AUDIT_TABLE" audit_table: Flag = "false";
    /// (This server's own.) Audit rows older than this are deleted by
    /// `simplejwt flushexpiredtokens`.
    "AUDIT_RETENTION" audit_retention: Lifetime = "90d";
    /// (This server's own.) Audit rows waiting to be written; when full, new
    /// rows are dropped (and counted in an `audit_dropped` row), never waited for.
    "AUDIT_QUEUE" audit_queue: Count<16, 1000000> = "10000";

    // ==== social login ===============================================
    /// (This server's own.) OpenID Connect providers users may sign in with
    /// (Google, Microsoft, GitLab, Keycloak …): each `name`, `issuer`,
    /// `client_id`, optional `client_secret`, `mobile_client_ids`, `scopes`,
    /// `callback_url`, `redirect_uris` and `link_by_email` (see the README,
    /// "Social login"). Empty: no social login routes at all.
    "OIDC_PROVIDERS" oidc_providers: OidcProviders = "[]";
}

/// Registered claims that the token backend writes or checks itself: no
/// setting may name one of them.
const REGISTERED_CLAIMS: [&str; 5] = ["exp", "iat", "nbf", "aud", "iss"];

/// simplejwt settings that have no meaning here (Django import paths, JWKS
/// fetching); accepted and ignored with a warning rather than refused, so an
/// existing configuration can be carried over.
pub const IGNORED_SETTING_NAMES: &[&str] = &[
    "JSON_ENCODER",
    "USER_AUTHENTICATION_RULE",
    "TOKEN_USER_CLASS",
    "TOKEN_OBTAIN_SERIALIZER",
    "TOKEN_REFRESH_SERIALIZER",
    "TOKEN_VERIFY_SERIALIZER",
    "TOKEN_BLACKLIST_SERIALIZER",
    "SLIDING_TOKEN_OBTAIN_SERIALIZER",
    "SLIDING_TOKEN_REFRESH_SERIALIZER",
];

/// Settings removed from simplejwt: refused, as simplejwt refuses them.
const REMOVED_SETTING_NAMES: &[&str] = &[
    "AUTH_HEADER_TYPE",
    "AUTH_TOKEN_CLASS",
    "SECRET_KEY",
    "TOKEN_BACKEND_CLASS",
];

impl Default for Settings {
    /// simplejwt's defaults (no signing key yet).
    fn default() -> Self {
        Self::defaults()
    }
}

impl Settings {
    /// How long a fresh token of `kind` lives: `ACCESS_TOKEN_LIFETIME`,
    /// `REFRESH_TOKEN_LIFETIME` or `SLIDING_TOKEN_LIFETIME`.
    pub fn lifetime(&self, kind: crate::token::TokenKind) -> std::time::Duration {
        use crate::token::TokenKind;
        match kind {
            TokenKind::Access => self.access_token_lifetime(),
            TokenKind::Refresh => self.refresh_token_lifetime(),
            TokenKind::Sliding => self.sliding_token_lifetime(),
        }
    }

    /// How long after a key stops signing a token it signed can still be
    /// valid: the longest token lifetime plus `LEEWAY`.
    pub fn longest_token_validity(&self) -> std::time::Duration {
        self.access_token_lifetime()
            .max(self.refresh_token_lifetime())
            .max(self.sliding_token_lifetime())
            + self.leeway()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder::default()
    }

    /// This value as a builder, to change some settings and validate again.
    pub fn to_builder(&self) -> SettingsBuilder {
        SettingsBuilder {
            inner: self.clone(),
        }
    }

    /// Builds settings from `(NAME, value)` pairs (names without the
    /// `SIMPLE_JWT_` prefix). Later pairs win. Unknown names are an error
    /// naming the nearest known one.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, SettingsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let pairs: Vec<(K, V)> = pairs.into_iter().collect();
        let mut builder = Self::builder();
        // The preset lays down defaults; every other setting is applied over it.
        let (preset, rest): (Vec<_>, Vec<_>) =
            pairs.iter().partition(|(k, _)| k.as_ref() == "PRESET");
        for (k, v) in preset.into_iter().chain(rest) {
            builder = builder.set(k.as_ref(), v.as_ref())?;
        }
        builder.build()
    }

    /// Reads `SIMPLE_JWT_<NAME>` and `SIMPLE_JWT_<NAME>_FILE` from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::builder().env()?.build()
    }

    /// `(NAME, value)` pairs as a map: convenience for [`Settings::from_pairs`].
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        Self::from_pairs(map)
    }

    /// The value of `WWW-Authenticate` on every 401: first header type + realm `api`.
    pub fn www_authenticate(&self) -> String {
        format!("{} realm=\"api\"", self.auth_header_types[0])
    }

    /// Things that work but deserve a line in the log at start.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.token_type_claim.is_none() {
            out.push(
                "TOKEN_TYPE_CLAIM is None: token types are not checked, so a refresh token \
                 authenticates requests like an access token"
                    .into(),
            );
        }
        if self.jti_claim.is_none() {
            out.push("JTI_CLAIM is None: tokens carry no id and cannot be blacklisted".into());
        }
        if self.jwk_url.is_some() && crate::keys::is_hmac(self.algorithm) {
            out.push(
                "JWK_URL is ignored with an HMAC ALGORITHM (as in simplejwt): \
                 a JWKS publishes public keys only"
                    .into(),
            );
        }
        if self.auth_cookie && !self.auth_cookie_secure {
            out.push(
                "AUTH_COOKIE_SECURE is false: token cookies are sent over plain HTTP; \
                 use this for local development only"
                    .into(),
            );
        }
        out
    }

    /// The claim names this configuration writes into tokens, each with the
    /// setting that names it (registered claims excluded).
    fn claim_names(&self) -> Vec<(&'static str, &str)> {
        let mut names = vec![
            ("USER_ID_CLAIM", self.user_id_claim.as_str()),
            (
                "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
                self.sliding_token_refresh_exp_claim.as_str(),
            ),
            ("REVOKE_TOKEN_CLAIM", self.revoke_token_claim.as_str()),
        ];
        if let Some(c) = &self.token_type_claim {
            names.push(("TOKEN_TYPE_CLAIM", c));
        }
        if let Some(c) = &self.jti_claim {
            names.push(("JTI_CLAIM", c));
        }
        if let Some(c) = &self.session_id_claim {
            names.push(("SESSION_ID_CLAIM", c));
        }
        names.extend(
            self.token_claims
                .iter()
                .map(|f| ("TOKEN_CLAIMS", f.as_str())),
        );
        names
    }

    /// Every combination rule, in one place.
    fn validate(&self) -> Result<(), SettingsError> {
        if self.login_throttle_max_delay < self.login_throttle_delay {
            return Err(SettingsError::new(
                "LOGIN_THROTTLE_MAX_DELAY",
                "is shorter than LOGIN_THROTTLE_DELAY",
            ));
        }
        if let Some(url) = &self.jwk_url {
            let ok = ["https://", "http://"]
                .iter()
                .any(|scheme| url.len() > scheme.len() && url.starts_with(scheme));
            if !ok {
                return Err(SettingsError::new(
                    "JWK_URL",
                    "is not an http:// or https:// URL",
                ));
            }
        }
        if self.blacklist_after_rotation && self.jti_claim.is_none() {
            return Err(SettingsError::new(
                "JTI_CLAIM",
                "is None, but BLACKLIST_AFTER_ROTATION needs token ids",
            ));
        }
        let families = [
            ("REFRESH_REUSE_DETECTION", self.refresh_reuse_detection),
            ("REFRESH_REUSE_GRACE", !self.refresh_reuse_grace.is_zero()),
        ];
        for (setting, on) in families {
            if on && !(self.rotate_refresh_tokens && self.blacklist_after_rotation) {
                return Err(SettingsError::new(
                    setting,
                    "needs ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION: only rotated \
                     tokens can be reused",
                ));
            }
        }
        self.validate_cookies()?;
        self.validate_lifetimes()?;
        if self.access_token_revocation && self.session_id_claim.is_none() {
            return Err(SettingsError::new(
                "ACCESS_TOKEN_REVOCATION",
                "needs SESSION_ID_CLAIM: access tokens name their session by it",
            ));
        }
        let names = self.claim_names();
        for (i, (setting, claim)) in names.iter().enumerate() {
            if REGISTERED_CLAIMS.contains(claim) {
                return Err(SettingsError::new(
                    setting,
                    format!("{claim:?} is a registered claim that the token backend writes itself"),
                ));
            }
            if let Some((other, _)) = names[..i].iter().find(|(_, c)| c == claim) {
                return Err(SettingsError::new(
                    setting,
                    format!("{claim:?} is also the claim of {other}: two meanings cannot share one claim"),
                ));
            }
        }
        Ok(())
    }
}

impl Settings {
    /// The session lifetimes' combination rules.
    fn validate_lifetimes(&self) -> Result<(), SettingsError> {
        // Logins, rotations and first uses are recorded to the second: a
        // fraction would be dropped (500ms would turn the grace off).
        let whole = [
            ("SESSION_ABSOLUTE_LIFETIME", self.session_absolute_lifetime),
            ("SESSION_IDLE_TIMEOUT", self.session_idle_timeout),
            ("REFRESH_REUSE_GRACE", self.refresh_reuse_grace),
        ];
        for (setting, span) in whole {
            if span.subsec_nanos() != 0 {
                return Err(SettingsError::new(
                    setting,
                    "must be a whole number of seconds (0 turns it off): sessions and first uses are recorded to the second",
                ));
            }
        }
        let limits = [
            ("SESSION_ABSOLUTE_LIFETIME", self.session_absolute_lifetime),
            ("SESSION_IDLE_TIMEOUT", self.session_idle_timeout),
        ];
        for (setting, limit) in limits {
            if limit.is_zero() {
                continue;
            }
            if self.jti_claim.is_none() {
                return Err(SettingsError::new(
                    setting,
                    "needs JTI_CLAIM: sessions find their tokens by id",
                ));
            }
        }
        if !self.session_idle_timeout.is_zero() && !self.rotate_refresh_tokens {
            return Err(SettingsError::new(
                "SESSION_IDLE_TIMEOUT",
                "needs ROTATE_REFRESH_TOKENS: the idle clock is the session's last rotation",
            ));
        }
        Ok(())
    }

    /// The cookie transport's combination rules.
    fn validate_cookies(&self) -> Result<(), SettingsError> {
        if self.auth_cookie_host_prefix && !self.auth_cookie_secure {
            return Err(SettingsError::new(
                "AUTH_COOKIE_HOST_PREFIX",
                "needs AUTH_COOKIE_SECURE: browsers refuse prefixed cookies that are not Secure",
            ));
        }
        if self.auth_cookie_samesite == SameSitePolicy::None && !self.auth_cookie_secure {
            return Err(SettingsError::new(
                "AUTH_COOKIE_SAMESITE",
                "None needs AUTH_COOKIE_SECURE: browsers refuse SameSite=None cookies that are not Secure",
            ));
        }
        let names = [
            ("AUTH_COOKIE_ACCESS_NAME", &self.auth_cookie_access_name),
            ("AUTH_COOKIE_REFRESH_NAME", &self.auth_cookie_refresh_name),
            ("CSRF_COOKIE_NAME", &self.csrf_cookie_name),
        ];
        for (i, (setting, name)) in names.iter().enumerate() {
            if let Some((other, _)) = names[..i].iter().find(|(_, n)| n == name) {
                return Err(SettingsError::new(
                    setting,
                    format!("{name:?} is also the name of {other}"),
                ));
            }
        }
        for origin in self.csrf_trusted_origins.iter().flatten() {
            let ok = match origin.split_once("://") {
                Some((scheme, host)) => {
                    matches!(scheme, "http" | "https")
                        && !host.is_empty()
                        && !host.contains(['/', '?', '#', ' '])
                }
                None => false,
            };
            if !ok {
                return Err(SettingsError::new(
                    "CSRF_TRUSTED_ORIGINS",
                    format!("{origin:?} is not an origin (scheme://host[:port], no path)"),
                ));
            }
        }
        Ok(())
    }
}

impl SettingsBuilder {
    /// Applies `SIMPLE_JWT_<NAME>` (and `SIMPLE_JWT_<NAME>_FILE`) from the
    /// process environment on top of what is set so far.
    pub fn env(mut self) -> Result<Self, SettingsError> {
        let map = sources::env_values(
            std::env::vars(),
            ENV_PREFIX,
            Settings::DECLARED,
            sources::UnknownNames::Keep,
        )?;
        for (name, value) in map {
            self = self.set(&name, &value.text)?;
        }
        Ok(self)
    }

    /// Sets one setting from its text form by name (as in the environment,
    /// without the prefix). simplejwt settings with no meaning here are
    /// ignored with a warning; removed and unknown ones are errors.
    pub fn set(mut self, name: &str, raw: &str) -> Result<Self, SettingsError> {
        if name == "PRESET" {
            let preset = Preset::parse(raw).map_err(|m| SettingsError::new(name, m))?;
            return Ok(self.preset_defaults(preset));
        }
        match self.inner.apply_text(name, raw) {
            Some(result) => result.map(|()| self),
            None if IGNORED_SETTING_NAMES.contains(&name) => {
                tracing::warn!(
                    setting = name,
                    "simplejwt setting has no meaning here; ignored"
                );
                Ok(self)
            }
            None if REMOVED_SETTING_NAMES.contains(&name) => Err(SettingsError::new(
                name,
                "this setting has been removed from simplejwt; see SIGNING_KEY / AUTH_HEADER_TYPES",
            )),
            None => Err(SettingsError::new(
                name,
                sources::unknown_message(name, Settings::DECLARED),
            )),
        }
    }

    /// Applies a preset: every setting with a hardened value takes it (for
    /// [`Preset::Hardened`]) or its default (for [`Preset::Compatible`]).
    pub fn preset_defaults(mut self, preset: Preset) -> Self {
        self.inner.preset = preset;
        for d in Settings::DECLARED {
            let Some(hardened) = d.hardened else { continue };
            let value = match preset {
                Preset::Hardened => hardened,
                Preset::Compatible => d.default,
            };
            if let Some(Err(e)) = self.inner.apply_text(d.name, value) {
                unreachable!("the declared value of {} parses: {e}", d.name);
            }
        }
        self
    }

    /// Checks every combination and returns the settings, or the first
    /// problem, naming the setting.
    pub fn build(self) -> Result<Settings, SettingsError> {
        self.inner.check_kinds()?;
        self.inner.validate()?;
        Ok(self.inner)
    }
}

impl Settings {
    /// Whether `PRESET=hardened` gives the setting `name` its value when
    /// nothing else sets it (it has a declared hardened value): what
    /// `simplejwt check` reports as the value's source.
    pub fn set_by_preset(&self, name: &str) -> bool {
        self.preset() == Preset::Hardened
            && Settings::DECLARED
                .iter()
                .any(|d| d.name == name && d.hardened.is_some())
    }
}

impl fmt::Display for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.describe() {
            writeln!(f, "{name:<32} {value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
