//! Every `SIMPLE_JWT` setting of djangorestframework-simplejwt 5.5.1 that means
//! something outside Django, with the same names and the same defaults.
//!
//! Settings arrive as text (environment variables `SIMPLE_JWT_<NAME>`, a TOML
//! file, or pairs given by a library user) and are parsed and validated once,
//! into a typed, immutable [`Settings`]. Anything wrong fails here, naming the
//! setting, so a server never starts half-configured. Key material is checked
//! separately by [`crate::keys::Keys::from_settings`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

pub use jsonwebtoken::Algorithm;

/// Prefix of the environment variables that carry settings.
pub const ENV_PREFIX: &str = "SIMPLE_JWT_";

/// A setting that could not be read or is invalid. `setting` is the simplejwt name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {setting}: {message}")]
pub struct SettingsError {
    /// The simplejwt name of the setting, e.g. `ACCESS_TOKEN_LIFETIME`.
    pub setting: String,
    /// What is wrong with it (never contains a secret value).
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

/// Which user column identifies a user in tokens (`USER_ID_FIELD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserIdField {
    /// The integer primary key (default, claim value `"1"`).
    Id,
    /// The unique username.
    Username,
}

impl UserIdField {
    /// The simplejwt spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Username => "username",
        }
    }
}

/// A user field that the server binary can copy into tokens (`TOKEN_CLAIMS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserClaimField {
    /// `username` (string)
    Username,
    /// `email` (string)
    Email,
    /// `first_name` (string)
    FirstName,
    /// `last_name` (string)
    LastName,
    /// `is_staff` (bool)
    IsStaff,
    /// `is_superuser` (bool)
    IsSuperuser,
}

impl UserClaimField {
    /// The claim (and field) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::IsStaff => "is_staff",
            Self::IsSuperuser => "is_superuser",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "username" => Self::Username,
            "email" => Self::Email,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "is_staff" => Self::IsStaff,
            "is_superuser" => Self::IsSuperuser,
            _ => return None,
        })
    }
}

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself: call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// The validated settings. Field names are the simplejwt names in snake case.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `ACCESS_TOKEN_LIFETIME`, default 5 minutes.
    pub access_token_lifetime: Duration,
    /// `REFRESH_TOKEN_LIFETIME`, default 1 day.
    pub refresh_token_lifetime: Duration,
    /// `SLIDING_TOKEN_LIFETIME`, default 5 minutes.
    pub sliding_token_lifetime: Duration,
    /// `SLIDING_TOKEN_REFRESH_LIFETIME`, default 1 day.
    pub sliding_token_refresh_lifetime: Duration,
    /// `SLIDING_TOKEN_REFRESH_EXP_CLAIM`, default `refresh_exp`.
    pub sliding_token_refresh_exp_claim: String,
    /// `ROTATE_REFRESH_TOKENS`, default false.
    pub rotate_refresh_tokens: bool,
    /// `BLACKLIST_AFTER_ROTATION`, default false. Also makes the verify
    /// endpoint consult the blacklist (as in simplejwt).
    pub blacklist_after_rotation: bool,
    /// `UPDATE_LAST_LOGIN`, default false.
    pub update_last_login: bool,
    /// `ALGORITHM`, default HS256. Tokens whose header names another algorithm are invalid.
    pub algorithm: Algorithm,
    /// `SIGNING_KEY`: HMAC secret or private key PEM. `None` until the binary generates one.
    pub signing_key: Option<Secret>,
    /// `VERIFYING_KEY`: public key PEM for asymmetric algorithms (ignored for HS*).
    pub verifying_key: Option<String>,
    /// `AUDIENCE`: added as `aud` and required when set. Several values (comma list)
    /// are emitted as a JSON array; a token matches if it names any of them.
    pub audience: Option<Vec<String>>,
    /// `ISSUER`: added as `iss` and required when set.
    pub issuer: Option<String>,
    /// `LEEWAY`, default 0: a token whose `exp` equals now is expired.
    pub leeway: Duration,
    /// `AUTH_HEADER_TYPES`, default `Bearer`. Case-sensitive; the first one is
    /// used in `WWW-Authenticate`.
    pub auth_header_types: Vec<String>,
    /// `AUTH_HEADER_NAME`, default `HTTP_AUTHORIZATION` (the `Authorization` header).
    pub auth_header_name: http::HeaderName,
    /// `USER_ID_FIELD`, default `id`.
    pub user_id_field: UserIdField,
    /// `USER_ID_CLAIM`, default `user_id`.
    pub user_id_claim: String,
    /// `TOKEN_TYPE_CLAIM`, default `token_type`; `None` disables the type check.
    pub token_type_claim: Option<String>,
    /// `JTI_CLAIM`, default `jti`; `None` disables the id check (and the blacklist).
    pub jti_claim: Option<String>,
    /// `CHECK_USER_IS_ACTIVE`, default true.
    pub check_user_is_active: bool,
    /// `CHECK_REVOKE_TOKEN`, default false: tokens carry a digest of the
    /// password hash and stop working when the password changes.
    pub check_revoke_token: bool,
    /// `REVOKE_TOKEN_CLAIM`, default `hash_password`.
    pub revoke_token_claim: String,
    /// `AUTH_TOKEN_CLASSES`, default `AccessToken`: which token kinds authenticate
    /// requests (`AccessToken`, `SlidingToken`; simplejwt's dotted paths too), tried in order.
    pub auth_token_classes: Vec<crate::token::TokenKind>,
    /// `TOKEN_CLAIMS` (this server's own): user fields copied into tokens at obtain.
    pub token_claims: Vec<UserClaimField>,
    /// `TOKEN_MAX_BYTES` (this server's own), default 8 KiB: longer tokens are
    /// refused before any decoding.
    pub token_max_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 3600),
            sliding_token_lifetime: Duration::from_secs(5 * 60),
            sliding_token_refresh_lifetime: Duration::from_secs(24 * 3600),
            sliding_token_refresh_exp_claim: "refresh_exp".into(),
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            update_last_login: false,
            algorithm: Algorithm::HS256,
            signing_key: None,
            verifying_key: None,
            audience: None,
            issuer: None,
            leeway: Duration::ZERO,
            auth_header_types: vec!["Bearer".into()],
            auth_header_name: http::header::AUTHORIZATION,
            user_id_field: UserIdField::Id,
            user_id_claim: "user_id".into(),
            token_type_claim: Some("token_type".into()),
            jti_claim: Some("jti".into()),
            check_user_is_active: true,
            check_revoke_token: false,
            revoke_token_claim: "hash_password".into(),
            auth_token_classes: vec![crate::token::TokenKind::Access],
            token_claims: Vec::new(),
            token_max_bytes: 8 * 1024,
        }
    }
}

/// Every setting name this module reads, in the order `check` prints them.
pub const SETTING_NAMES: &[&str] = &[
    "ACCESS_TOKEN_LIFETIME",
    "REFRESH_TOKEN_LIFETIME",
    "SLIDING_TOKEN_LIFETIME",
    "SLIDING_TOKEN_REFRESH_LIFETIME",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
    "ROTATE_REFRESH_TOKENS",
    "BLACKLIST_AFTER_ROTATION",
    "UPDATE_LAST_LOGIN",
    "ALGORITHM",
    "SIGNING_KEY",
    "VERIFYING_KEY",
    "AUDIENCE",
    "ISSUER",
    "LEEWAY",
    "AUTH_HEADER_TYPES",
    "AUTH_HEADER_NAME",
    "USER_ID_FIELD",
    "USER_ID_CLAIM",
    "TOKEN_TYPE_CLAIM",
    "JTI_CLAIM",
    "CHECK_USER_IS_ACTIVE",
    "CHECK_REVOKE_TOKEN",
    "REVOKE_TOKEN_CLAIM",
    "AUTH_TOKEN_CLASSES",
    "TOKEN_CLAIMS",
    "TOKEN_MAX_BYTES",
];

/// simplejwt settings that have no meaning here (Django import paths, JWKS
/// fetching); accepted and ignored with a warning rather than refused, so an
/// existing configuration can be carried over.
pub const IGNORED_SETTING_NAMES: &[&str] = &[
    "JSON_ENCODER",
    "JWK_URL",
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

impl Settings {
    /// Builds settings from `(NAME, value)` pairs (names without the
    /// `SIMPLE_JWT_` prefix). Later pairs win. Unknown names are an error.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, SettingsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            map.insert(k.as_ref().to_owned(), v.into());
        }
        Self::from_map(&map)
    }

    /// Reads `SIMPLE_JWT_<NAME>` and `SIMPLE_JWT_<NAME>_FILE` from the
    /// process environment, on top of `base` (e.g. values from a file).
    pub fn from_env_over(base: BTreeMap<String, String>) -> Result<Self, SettingsError> {
        let mut map = base;
        map.extend(env_pairs(std::env::vars())?);
        Self::from_map(&map)
    }

    /// Parses and validates a complete map of raw values.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        let mut s = Settings::default();
        for (name, raw) in map {
            s.apply(name, raw)?;
        }
        s.validate()?;
        Ok(s)
    }

    fn apply(&mut self, name: &str, raw: &str) -> Result<(), SettingsError> {
        let err = |m: String| SettingsError::new(name, m);
        match name {
            "ACCESS_TOKEN_LIFETIME" => self.access_token_lifetime = lifetime(name, raw)?,
            "REFRESH_TOKEN_LIFETIME" => self.refresh_token_lifetime = lifetime(name, raw)?,
            "SLIDING_TOKEN_LIFETIME" => self.sliding_token_lifetime = lifetime(name, raw)?,
            "SLIDING_TOKEN_REFRESH_LIFETIME" => {
                self.sliding_token_refresh_lifetime = lifetime(name, raw)?
            }
            "SLIDING_TOKEN_REFRESH_EXP_CLAIM" => {
                self.sliding_token_refresh_exp_claim = claim_name(name, raw)?
            }
            "ROTATE_REFRESH_TOKENS" => self.rotate_refresh_tokens = boolean(name, raw)?,
            "BLACKLIST_AFTER_ROTATION" => self.blacklist_after_rotation = boolean(name, raw)?,
            "UPDATE_LAST_LOGIN" => self.update_last_login = boolean(name, raw)?,
            "ALGORITHM" => self.algorithm = parse_algorithm(raw).map_err(err)?,
            "SIGNING_KEY" => self.signing_key = non_empty(raw).map(Secret::new),
            "VERIFYING_KEY" => self.verifying_key = non_empty(raw),
            "AUDIENCE" => {
                let list = list(raw);
                self.audience = if list.is_empty() { None } else { Some(list) };
            }
            "ISSUER" => self.issuer = non_empty(raw),
            "LEEWAY" => self.leeway = parse_duration(raw).map_err(err)?,
            "AUTH_HEADER_TYPES" => {
                let list = list(raw);
                if list.is_empty() {
                    return Err(err("needs at least one header type, e.g. Bearer".into()));
                }
                if let Some(bad) = list
                    .iter()
                    .find(|t| !t.bytes().all(|b| b.is_ascii_graphic()))
                {
                    return Err(err(format!("{bad:?} is not a valid header type")));
                }
                self.auth_header_types = list;
            }
            "AUTH_HEADER_NAME" => self.auth_header_name = header_name(raw).map_err(err)?,
            "USER_ID_FIELD" => {
                self.user_id_field = match raw.trim() {
                    "id" => UserIdField::Id,
                    "username" => UserIdField::Username,
                    other => {
                        return Err(err(format!(
                            "{other:?} is not a user field (use id or username)"
                        )))
                    }
                }
            }
            "USER_ID_CLAIM" => self.user_id_claim = claim_name(name, raw)?,
            "TOKEN_TYPE_CLAIM" => self.token_type_claim = non_empty(raw),
            "JTI_CLAIM" => self.jti_claim = non_empty(raw),
            "CHECK_USER_IS_ACTIVE" => self.check_user_is_active = boolean(name, raw)?,
            "CHECK_REVOKE_TOKEN" => self.check_revoke_token = boolean(name, raw)?,
            "REVOKE_TOKEN_CLAIM" => self.revoke_token_claim = claim_name(name, raw)?,
            "TOKEN_CLAIMS" => {
                self.token_claims = list(raw)
                    .iter()
                    .map(|f| {
                        UserClaimField::parse(f).ok_or_else(|| {
                            err(format!(
                                "{f:?} is not a user field (username, email, first_name, \
                                 last_name, is_staff, is_superuser)"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            "AUTH_TOKEN_CLASSES" => {
                let classes = list(raw)
                    .iter()
                    .map(|c| match c.rsplit('.').next().unwrap_or(c) {
                        "AccessToken" => Ok(crate::token::TokenKind::Access),
                        "SlidingToken" => Ok(crate::token::TokenKind::Sliding),
                        other => Err(err(format!(
                            "{other:?} cannot authenticate requests (use AccessToken, SlidingToken)"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if classes.is_empty() {
                    return Err(err("needs at least one token class".into()));
                }
                self.auth_token_classes = classes;
            }
            "TOKEN_MAX_BYTES" => {
                self.token_max_bytes = raw
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (256..=1 << 20).contains(n))
                    .ok_or_else(|| {
                        err("must be a whole number of bytes from 256 to 1048576".into())
                    })?
            }
            _ if IGNORED_SETTING_NAMES.contains(&name) => {
                tracing::warn!(
                    setting = name,
                    "simplejwt setting has no meaning here; ignored"
                );
            }
            _ if REMOVED_SETTING_NAMES.contains(&name) => {
                return Err(err(
                    "this setting has been removed from simplejwt; see SIGNING_KEY / \
                     AUTH_HEADER_TYPES"
                        .into(),
                ))
            }
            _ => return Err(err("unknown setting".into())),
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), SettingsError> {
        if self.access_token_lifetime.is_zero() {
            return Err(SettingsError::new(
                "ACCESS_TOKEN_LIFETIME",
                "must be longer than 0s",
            ));
        }
        if self.refresh_token_lifetime.is_zero() {
            return Err(SettingsError::new(
                "REFRESH_TOKEN_LIFETIME",
                "must be longer than 0s",
            ));
        }
        if self.blacklist_after_rotation && self.jti_claim.is_none() {
            return Err(SettingsError::new(
                "JTI_CLAIM",
                "BLACKLIST_AFTER_ROTATION needs token ids (JTI_CLAIM must not be empty)",
            ));
        }
        let registered = ["exp", "iat", "nbf", "aud", "iss"];
        for (name, claim) in [
            ("USER_ID_CLAIM", Some(&self.user_id_claim)),
            ("TOKEN_TYPE_CLAIM", self.token_type_claim.as_ref()),
            ("JTI_CLAIM", self.jti_claim.as_ref()),
            ("REVOKE_TOKEN_CLAIM", Some(&self.revoke_token_claim)),
        ] {
            if let Some(c) = claim {
                if registered.contains(&c.as_str()) {
                    return Err(SettingsError::new(
                        name,
                        format!("{c:?} is a registered claim"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The value of `WWW-Authenticate` on every 401: first header type + realm `api`.
    pub fn www_authenticate(&self) -> String {
        format!("{} realm=\"api\"", self.auth_header_types[0])
    }

    /// The effective settings as `(NAME, value)` text with secrets masked, for `check`.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let secs = |d: Duration| format_duration(d);
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "None".into());
        vec![
            ("ACCESS_TOKEN_LIFETIME", secs(self.access_token_lifetime)),
            ("REFRESH_TOKEN_LIFETIME", secs(self.refresh_token_lifetime)),
            ("SLIDING_TOKEN_LIFETIME", secs(self.sliding_token_lifetime)),
            (
                "SLIDING_TOKEN_REFRESH_LIFETIME",
                secs(self.sliding_token_refresh_lifetime),
            ),
            (
                "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
                self.sliding_token_refresh_exp_claim.clone(),
            ),
            (
                "ROTATE_REFRESH_TOKENS",
                self.rotate_refresh_tokens.to_string(),
            ),
            (
                "BLACKLIST_AFTER_ROTATION",
                self.blacklist_after_rotation.to_string(),
            ),
            ("UPDATE_LAST_LOGIN", self.update_last_login.to_string()),
            ("ALGORITHM", algorithm_name(self.algorithm).into()),
            (
                "SIGNING_KEY",
                match &self.signing_key {
                    Some(k) => format!("**** ({} bytes)", k.expose().len()),
                    None => "None".into(),
                },
            ),
            (
                "VERIFYING_KEY",
                match &self.verifying_key {
                    Some(k) => format!("<public key, {} bytes>", k.len()),
                    None => "None".into(),
                },
            ),
            (
                "AUDIENCE",
                self.audience
                    .as_ref()
                    .map_or("None".into(), |a| a.join(",")),
            ),
            ("ISSUER", opt(&self.issuer)),
            ("LEEWAY", secs(self.leeway)),
            ("AUTH_HEADER_TYPES", self.auth_header_types.join(",")),
            ("AUTH_HEADER_NAME", self.auth_header_name.to_string()),
            ("USER_ID_FIELD", self.user_id_field.as_str().into()),
            ("USER_ID_CLAIM", self.user_id_claim.clone()),
            ("TOKEN_TYPE_CLAIM", opt(&self.token_type_claim)),
            ("JTI_CLAIM", opt(&self.jti_claim)),
            (
                "CHECK_USER_IS_ACTIVE",
                self.check_user_is_active.to_string(),
            ),
            ("CHECK_REVOKE_TOKEN", self.check_revoke_token.to_string()),
            ("REVOKE_TOKEN_CLAIM", self.revoke_token_claim.clone()),
            (
                "AUTH_TOKEN_CLASSES",
                self.auth_token_classes
                    .iter()
                    .map(|k| k.class_name())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "TOKEN_CLAIMS",
                self.token_claims
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("TOKEN_MAX_BYTES", self.token_max_bytes.to_string()),
        ]
    }
}

/// Collects `SIMPLE_JWT_<NAME>` (and `SIMPLE_JWT_<NAME>_FILE`, read from disk)
/// from environment pairs. A `_FILE` variant and a plain one for the same
/// setting together are an error: which one wins would be a guess.
pub fn env_pairs(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, SettingsError> {
    let mut plain = BTreeMap::new();
    let mut files = BTreeMap::new();
    for (k, v) in vars {
        let Some(name) = k.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        match name.strip_suffix("_FILE") {
            Some(base) if !SETTING_NAMES.contains(&name) => {
                files.insert(base.to_owned(), v);
            }
            _ => {
                plain.insert(name.to_owned(), v);
            }
        }
    }
    for (name, path) in files {
        if plain.contains_key(&name) {
            return Err(SettingsError::new(
                &name,
                format!("both {ENV_PREFIX}{name} and {ENV_PREFIX}{name}_FILE are set"),
            ));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| SettingsError::new(&name, format!("cannot read file {path:?}: {e}")))?;
        plain.insert(name, text);
    }
    Ok(plain)
}

fn non_empty(raw: &str) -> Option<String> {
    if raw.trim().is_empty() || raw.trim() == "None" {
        None
    } else {
        Some(raw.to_owned())
    }
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn claim_name(name: &str, raw: &str) -> Result<String, SettingsError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(SettingsError::new(name, "must not be empty"));
    }
    Ok(v.to_owned())
}

fn boolean(name: &str, raw: &str) -> Result<bool, SettingsError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(SettingsError::new(
            name,
            format!("{raw:?} is not a boolean (true or false)"),
        )),
    }
}

fn lifetime(name: &str, raw: &str) -> Result<Duration, SettingsError> {
    parse_duration(raw).map_err(|m| SettingsError::new(name, m))
}

fn header_name(raw: &str) -> Result<http::HeaderName, String> {
    let v = raw.trim();
    // Django META style (HTTP_X_ACCESS_TOKEN) or a plain header name (X-Access-Token).
    let plain = match v.strip_prefix("HTTP_") {
        Some(rest) => rest.replace('_', "-"),
        None => v.to_owned(),
    };
    http::HeaderName::from_bytes(plain.to_ascii_lowercase().as_bytes())
        .map_err(|_| format!("{v:?} is not a valid header name"))
}

/// Parses `HS256`, `RS256`, … `EdDSA`. The error names the supported ones.
pub fn parse_algorithm(raw: &str) -> Result<Algorithm, String> {
    Ok(match raw.trim() {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => {
            return Err(format!(
                "Unrecognized algorithm type '{other}' (supported: HS256, HS384, HS512, RS256, \
                 RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)"
            ))
        }
    })
}

/// The JOSE name of an algorithm, as written in token headers.
pub fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
    }
}

/// Parses a duration written like `30s`, `5m`, `1d`, `1h30m`, `250ms`, `2w`
/// or a bare number of seconds (`300`, `0.5`).
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let v = raw.trim();
    let bad = || format!("{raw:?} is not a duration (use e.g. 30s, 5m, 1d, 1h30m)");
    if v.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = v.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut total = 0f64;
    let mut rest = v;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 604800.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += number * unit;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Writes a duration back in the form [`parse_duration`] reads.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        let s = d.as_secs();
        if s != 0 && s % 86400 == 0 {
            format!("{}d", s / 86400)
        } else if s != 0 && s % 3600 == 0 {
            format!("{}h", s / 3600)
        } else if s != 0 && s % 60 == 0 {
            format!("{}m", s / 60)
        } else {
            format!("{s}s")
        }
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_simplejwt() {
        let s = Settings::default();
        assert_eq!(s.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(86400));
        assert!(!s.rotate_refresh_tokens && !s.blacklist_after_rotation && !s.update_last_login);
        assert_eq!(s.algorithm, Algorithm::HS256);
        assert_eq!(s.leeway, Duration::ZERO);
        assert_eq!(s.auth_header_types, vec!["Bearer".to_string()]);
        assert_eq!(s.auth_header_name, http::header::AUTHORIZATION);
        assert_eq!(s.user_id_claim, "user_id");
        assert_eq!(s.token_type_claim.as_deref(), Some("token_type"));
        assert_eq!(s.jti_claim.as_deref(), Some("jti"));
        assert!(s.check_user_is_active && !s.check_revoke_token);
        assert_eq!(s.revoke_token_claim, "hash_password");
        assert_eq!(s.www_authenticate(), "Bearer realm=\"api\"");
    }

    #[test]
    fn durations_parse_like_the_reference() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86400));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(
            parse_duration("2w").unwrap(),
            Duration::from_secs(1_209_600)
        );
        assert_eq!(parse_duration("300").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        for bad in ["", "5x", "m5", "-5s", "1h-30m", "5 m", "abc", "1e999"] {
            assert!(parse_duration(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn pairs_override_defaults_and_errors_name_the_setting() {
        let s = Settings::from_pairs([
            ("ACCESS_TOKEN_LIFETIME", "2s"),
            ("ROTATE_REFRESH_TOKENS", "true"),
            ("ALGORITHM", "HS512"),
            ("AUDIENCE", "a, b"),
            ("AUTH_HEADER_TYPES", "JWT,Bearer"),
            ("AUTH_HEADER_NAME", "HTTP_X_ACCESS_TOKEN"),
            ("TOKEN_TYPE_CLAIM", ""),
        ])
        .unwrap();
        assert_eq!(s.access_token_lifetime, Duration::from_secs(2));
        assert!(s.rotate_refresh_tokens);
        assert_eq!(s.algorithm, Algorithm::HS512);
        assert_eq!(s.audience, Some(vec!["a".into(), "b".into()]));
        assert_eq!(s.www_authenticate(), "JWT realm=\"api\"");
        assert_eq!(s.auth_header_name.as_str(), "x-access-token");
        assert_eq!(s.token_type_claim, None);

        let e = Settings::from_pairs([("ALGORITHM", "HS999")]).unwrap_err();
        assert_eq!(e.setting, "ALGORITHM");
        assert!(e.message.contains("Unrecognized algorithm type 'HS999'"));
        let e = Settings::from_pairs([("LEEWAY", "soon")]).unwrap_err();
        assert_eq!(e.setting, "LEEWAY");
        let e = Settings::from_pairs([("ROTATE_REFRESH_TOKENS", "maybe")]).unwrap_err();
        assert_eq!(e.setting, "ROTATE_REFRESH_TOKENS");
        let e = Settings::from_pairs([("NOT_A_SETTING", "1")]).unwrap_err();
        assert_eq!(e.setting, "NOT_A_SETTING");
        let e = Settings::from_pairs([("SECRET_KEY", "x")]).unwrap_err();
        assert_eq!(e.setting, "SECRET_KEY");
    }

    #[test]
    fn env_file_variant_is_read_and_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "PEM").unwrap();
        let vars = vec![
            (
                "SIMPLE_JWT_VERIFYING_KEY_FILE".to_string(),
                path.display().to_string(),
            ),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let map = env_pairs(vars.clone()).unwrap();
        assert_eq!(map.get("VERIFYING_KEY").map(String::as_str), Some("PEM"));
        assert_eq!(map.len(), 1);
        let mut both = vars;
        both.push(("SIMPLE_JWT_VERIFYING_KEY".into(), "inline".into()));
        assert_eq!(env_pairs(both).unwrap_err().setting, "VERIFYING_KEY");
    }

    #[test]
    fn secrets_are_masked() {
        let s = Settings::from_pairs([("SIGNING_KEY", "super-secret-value")]).unwrap();
        assert!(!format!("{s:?}").contains("super-secret-value"));
        let described = s.describe();
        assert!(described
            .iter()
            .all(|(_, v)| !v.contains("super-secret-value")));
    }
}
