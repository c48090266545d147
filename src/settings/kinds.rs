//! The kinds of values a setting can hold: how each is parsed from text
//! (environment variables, TOML values, `from_pairs`), written back as text
//! (`simplejwt check`, the README table), bounded, and read.
//!
//! A setting's declaration names its kind (see [`super::declare`]), so the
//! rule "what text is a valid lifetime" lives here once, whatever setting
//! uses it. Every parser refuses rather than guesses: an absurd duration, an
//! empty claim name or an empty secret is an error that names the setting.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::token::TokenKind;

/// A kind of setting value: its Rust type, its text form, and how it is read.
pub trait Kind {
    /// The stored value.
    type Value: Clone + fmt::Debug + Send + Sync + 'static;
    /// What the accessor returns (a copy, or a borrow for strings and lists).
    type Ref<'a>;
    /// One line for the settings table: the form the text takes.
    const FORM: &'static str;
    /// Whether the value is a secret (masked wherever it is shown).
    const SECRET: bool = false;
    /// Parses the text form. The error says what is wrong, never the value of a secret.
    fn parse(raw: &str) -> Result<Self::Value, String>;
    /// Checks a value set directly (through a typed builder setter) against
    /// the same bounds [`Kind::parse`] applies.
    fn check(value: &Self::Value) -> Result<(), String> {
        let _ = value;
        Ok(())
    }
    /// The text form, which [`Kind::parse`] reads back (secrets masked).
    fn show(value: &Self::Value) -> String;
    /// The accessor's view of the value.
    fn get(value: &Self::Value) -> Self::Ref<'_>;
}

/// Longest duration any setting accepts: 100 years (3,155,760,000 s). Beyond
/// it a token's `exp` or a timer's deadline is meaningless or overflows.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400 + 25 * 86_400);

/// Parses a duration written like `30s`, `5m`, `1d`, `1h30m`, `250ms`, `2w`, or
/// a bare number of seconds (`300`, `0.5`), at most [`MAX_DURATION`].
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let v = raw.trim();
    let bad = || format!("{raw:?} is not a duration (use e.g. 30s, 5m, 1d, 1h30m, or seconds)");
    if v.is_empty() {
        return Err(bad());
    }
    let total = if let Ok(secs) = v.parse::<f64>() {
        secs
    } else {
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
        total
    };
    if !total.is_finite() || total < 0.0 {
        return Err(bad());
    }
    if total > MAX_DURATION.as_secs_f64() {
        return Err(format!("{raw:?} is longer than 100 years"));
    }
    Ok(Duration::from_secs_f64(total))
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

/// A duration that must be longer than zero (token lifetimes).
#[derive(Debug)]
pub enum Lifetime {}
impl Kind for Lifetime {
    type Value = Duration;
    type Ref<'a> = Duration;
    const FORM: &'static str = "duration > 0";
    fn parse(raw: &str) -> Result<Duration, String> {
        let d = parse_duration(raw)?;
        Self::check(&d)?;
        Ok(d)
    }
    fn check(d: &Duration) -> Result<(), String> {
        if d.is_zero() {
            return Err("must be longer than 0s".into());
        }
        Span::check(d)
    }
    fn show(v: &Duration) -> String {
        format_duration(*v)
    }
    fn get(v: &Duration) -> Duration {
        *v
    }
}

/// A duration that may be zero (leeway, grace periods).
#[derive(Debug)]
pub enum Span {}
impl Kind for Span {
    type Value = Duration;
    type Ref<'a> = Duration;
    const FORM: &'static str = "duration";
    fn parse(raw: &str) -> Result<Duration, String> {
        parse_duration(raw)
    }
    fn check(d: &Duration) -> Result<(), String> {
        if *d > MAX_DURATION {
            return Err(format!("{} is longer than 100 years", format_duration(*d)));
        }
        Ok(())
    }
    fn show(v: &Duration) -> String {
        format_duration(*v)
    }
    fn get(v: &Duration) -> Duration {
        *v
    }
}

/// A timeout: longer than zero and at most one hour.
#[derive(Debug)]
pub enum Timeout {}
impl Kind for Timeout {
    type Value = Duration;
    type Ref<'a> = Duration;
    const FORM: &'static str = "duration, 1ms to 1h";
    fn parse(raw: &str) -> Result<Duration, String> {
        let d = parse_duration(raw)?;
        Self::check(&d)?;
        Ok(d)
    }
    fn check(d: &Duration) -> Result<(), String> {
        if *d < Duration::from_millis(1) || *d > Duration::from_secs(3600) {
            return Err(format!("{} is not between 1ms and 1h", format_duration(*d)));
        }
        Ok(())
    }
    fn show(v: &Duration) -> String {
        format_duration(*v)
    }
    fn get(v: &Duration) -> Duration {
        *v
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
#[derive(Debug)]
pub enum Flag {}
impl Kind for Flag {
    type Value = bool;
    type Ref<'a> = bool;
    const FORM: &'static str = "true or false";
    fn parse(raw: &str) -> Result<bool, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(format!("{raw:?} is not a boolean (true or false)")),
        }
    }
    fn show(v: &bool) -> String {
        v.to_string()
    }
    fn get(v: &bool) -> bool {
        *v
    }
}

/// The name of a claim: not empty, no surrounding whitespace.
#[derive(Debug)]
pub enum ClaimName {}
impl Kind for ClaimName {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "claim name";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim().to_owned();
        Self::check(&v)?;
        Ok(v)
    }
    fn check(v: &String) -> Result<(), String> {
        if v.trim().is_empty() {
            return Err("must not be empty".into());
        }
        if v.trim() != v {
            return Err(format!("{v:?} has surrounding whitespace"));
        }
        if v == "None" {
            return Err("cannot be None".into());
        }
        Ok(())
    }
    fn show(v: &String) -> String {
        v.clone()
    }
    fn get(v: &String) -> &str {
        v
    }
}

/// A claim name that an explicit `None` turns off. Empty text is refused: a
/// broken template must not silently switch a check off.
#[derive(Debug)]
pub enum OptionalClaimName {}
impl Kind for OptionalClaimName {
    type Value = Option<String>;
    type Ref<'a> = Option<&'a str>;
    const FORM: &'static str = "claim name, or None to turn it off";
    fn parse(raw: &str) -> Result<Option<String>, String> {
        match raw.trim() {
            "" => Err("must not be empty (write None to turn it off)".into()),
            "None" => Ok(None),
            v => Ok(Some(v.to_owned())),
        }
    }
    fn check(v: &Option<String>) -> Result<(), String> {
        match v {
            Some(name) if name.trim().is_empty() => {
                Err("must not be empty (write None to turn it off)".into())
            }
            Some(name) => ClaimName::check(name),
            None => Ok(()),
        }
    }
    fn show(v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "None".into())
    }
    fn get(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
}

/// Free text that may be absent (`None` or empty).
#[derive(Debug)]
pub enum OptionalText {}
impl Kind for OptionalText {
    type Value = Option<String>;
    type Ref<'a> = Option<&'a str>;
    const FORM: &'static str = "text, or None";
    fn parse(raw: &str) -> Result<Option<String>, String> {
        match raw.trim() {
            "" | "None" => Ok(None),
            _ => Ok(Some(raw.to_owned())),
        }
    }
    fn show(v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "None".into())
    }
    fn get(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
}

/// Free text that must be present.
#[derive(Debug)]
pub enum Text {}
impl Kind for Text {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "text";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim().to_owned();
        Self::check(&v)?;
        Ok(v)
    }
    fn check(v: &String) -> Result<(), String> {
        if v.trim().is_empty() {
            return Err("must not be empty".into());
        }
        Ok(())
    }
    fn show(v: &String) -> String {
        v.clone()
    }
    fn get(v: &String) -> &str {
        v
    }
}

/// A public key PEM, or None; shown by size only (it is long, not secret).
#[derive(Debug)]
pub enum PublicKey {}
impl Kind for PublicKey {
    type Value = Option<String>;
    type Ref<'a> = Option<&'a str>;
    const FORM: &'static str = "PEM text, or None";
    fn parse(raw: &str) -> Result<Option<String>, String> {
        OptionalText::parse(raw)
    }
    fn show(v: &Option<String>) -> String {
        match v {
            Some(k) => format!("<public key, {} bytes>", k.len()),
            None => "None".into(),
        }
    }
    fn get(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
}

/// A comma-separated list (TOML arrays are joined with commas first); empty
/// or `None` is no list.
#[derive(Debug)]
pub enum OptionalList {}
impl Kind for OptionalList {
    type Value = Option<Vec<String>>;
    type Ref<'a> = Option<&'a [String]>;
    const FORM: &'static str = "comma-separated list, or None";
    fn parse(raw: &str) -> Result<Option<Vec<String>>, String> {
        if raw.trim() == "None" {
            return Ok(None);
        }
        let items = list(raw);
        Ok((!items.is_empty()).then_some(items))
    }
    fn check(v: &Option<Vec<String>>) -> Result<(), String> {
        match v {
            Some(items) if items.is_empty() => Err("is an empty list (use None)".into()),
            Some(items) if items.iter().any(|i| i.trim().is_empty()) => {
                Err("has an empty item".into())
            }
            _ => Ok(()),
        }
    }
    fn show(v: &Option<Vec<String>>) -> String {
        v.as_ref().map_or("None".into(), |a| a.join(","))
    }
    fn get(v: &Option<Vec<String>>) -> Option<&[String]> {
        v.as_deref()
    }
}

/// `AUTH_HEADER_TYPES`: at least one, each printable ASCII without spaces.
#[derive(Debug)]
pub enum HeaderTypes {}
impl Kind for HeaderTypes {
    type Value = Vec<String>;
    type Ref<'a> = &'a [String];
    const FORM: &'static str = "comma-separated list, at least one";
    fn parse(raw: &str) -> Result<Vec<String>, String> {
        let items = list(raw);
        Self::check(&items)?;
        Ok(items)
    }
    fn check(items: &Vec<String>) -> Result<(), String> {
        if items.is_empty() {
            return Err("needs at least one header type, e.g. Bearer".into());
        }
        if let Some(bad) = items
            .iter()
            .find(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic() && b != b'"'))
        {
            return Err(format!("{bad:?} is not a valid header type"));
        }
        Ok(())
    }
    fn show(v: &Vec<String>) -> String {
        v.join(",")
    }
    fn get(v: &Vec<String>) -> &[String] {
        v
    }
}

/// `AUTH_HEADER_NAME`: Django's `HTTP_X_ACCESS_TOKEN` form or a plain header
/// name (`X-Access-Token`), kept as the lower-case header name.
#[derive(Debug)]
pub enum HeaderName {}
impl Kind for HeaderName {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "header name (HTTP_X_NAME or X-Name)";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim();
        let plain = match v.strip_prefix("HTTP_") {
            Some(rest) => rest.replace('_', "-"),
            None => v.to_owned(),
        };
        let lower = plain.to_ascii_lowercase();
        http::HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| format!("{v:?} is not a valid header name"))?;
        Ok(lower)
    }
    fn check(v: &String) -> Result<(), String> {
        match http::HeaderName::from_bytes(v.as_bytes()) {
            Ok(name) if name.as_str() == v => Ok(()),
            _ => Err(format!("{v:?} is not a lower-case header name")),
        }
    }
    fn show(v: &String) -> String {
        format!("HTTP_{}", v.to_ascii_uppercase().replace('-', "_"))
    }
    fn get(v: &String) -> &str {
        v
    }
}

/// A secret (HMAC key or private key PEM). Unset means "none"; an explicitly
/// empty value is refused (a broken secret template must not make every
/// instance generate its own key).
#[derive(Debug)]
pub enum SecretKey {}
impl Kind for SecretKey {
    type Value = Option<Secret>;
    type Ref<'a> = Option<&'a Secret>;
    const FORM: &'static str = "secret text (masked)";
    const SECRET: bool = true;
    fn parse(raw: &str) -> Result<Option<Secret>, String> {
        if raw.trim().is_empty() {
            return Err("is set but empty: give a key, or leave it unset".into());
        }
        if raw.trim() == "None" {
            return Ok(None);
        }
        Ok(Some(Secret::new(raw.trim().to_owned())))
    }
    fn check(v: &Option<Secret>) -> Result<(), String> {
        match v {
            Some(k) if k.expose().trim().is_empty() => {
                Err("is set but empty: give a key, or leave it unset".into())
            }
            _ => Ok(()),
        }
    }
    fn show(v: &Option<Secret>) -> String {
        match v {
            Some(k) => format!("**** ({} bytes)", k.expose().len()),
            None => "None".into(),
        }
    }
    fn get(v: &Option<Secret>) -> Option<&Secret> {
        v.as_ref()
    }
}

/// A whole number within `MIN..=MAX`.
#[derive(Debug)]
pub enum Count<const MIN: u64, const MAX: u64> {}
impl<const MIN: u64, const MAX: u64> Kind for Count<MIN, MAX> {
    type Value = u64;
    type Ref<'a> = u64;
    const FORM: &'static str = "whole number";
    fn parse(raw: &str) -> Result<u64, String> {
        raw.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (MIN..=MAX).contains(n))
            .ok_or_else(|| format!("{raw:?} is not a whole number from {MIN} to {MAX}"))
    }
    fn check(v: &u64) -> Result<(), String> {
        if (MIN..=MAX).contains(v) {
            Ok(())
        } else {
            Err(format!("{v} is not a whole number from {MIN} to {MAX}"))
        }
    }
    fn show(v: &u64) -> String {
        v.to_string()
    }
    fn get(v: &u64) -> u64 {
        *v
    }
}

/// A whole number within `MIN..=MAX`, or `None`/`auto` for the built-in default.
#[derive(Debug)]
pub enum OptionalCount<const MIN: u64, const MAX: u64> {}
impl<const MIN: u64, const MAX: u64> Kind for OptionalCount<MIN, MAX> {
    type Value = Option<u64>;
    type Ref<'a> = Option<u64>;
    const FORM: &'static str = "whole number, or auto";
    fn parse(raw: &str) -> Result<Option<u64>, String> {
        match raw.trim() {
            "None" | "auto" => Ok(None),
            _ => Count::<MIN, MAX>::parse(raw).map(Some),
        }
    }
    fn check(v: &Option<u64>) -> Result<(), String> {
        v.as_ref().map_or(Ok(()), Count::<MIN, MAX>::check)
    }
    fn show(v: &Option<u64>) -> String {
        v.map_or("auto".into(), |n| n.to_string())
    }
    fn get(v: &Option<u64>) -> Option<u64> {
        *v
    }
}

/// `ALGORITHM`: HS256 … EdDSA.
#[derive(Debug)]
pub enum AlgorithmKind {}
impl Kind for AlgorithmKind {
    type Value = Algorithm;
    type Ref<'a> = Algorithm;
    const FORM: &'static str =
        "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA";
    fn parse(raw: &str) -> Result<Algorithm, String> {
        parse_algorithm(raw)
    }
    fn show(v: &Algorithm) -> String {
        algorithm_name(*v).into()
    }
    fn get(v: &Algorithm) -> Algorithm {
        *v
    }
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

impl Kind for UserIdField {
    type Value = UserIdField;
    type Ref<'a> = UserIdField;
    const FORM: &'static str = "id or username";
    fn parse(raw: &str) -> Result<UserIdField, String> {
        match raw.trim() {
            "id" => Ok(Self::Id),
            "username" => Ok(Self::Username),
            other => Err(format!(
                "{other:?} is not a user field (use id or username)"
            )),
        }
    }
    fn show(v: &UserIdField) -> String {
        v.as_str().into()
    }
    fn get(v: &UserIdField) -> UserIdField {
        *v
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
    const ALL: [Self; 6] = [
        Self::Username,
        Self::Email,
        Self::FirstName,
        Self::LastName,
        Self::IsStaff,
        Self::IsSuperuser,
    ];

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
}

/// `TOKEN_CLAIMS`: user fields copied into tokens.
#[derive(Debug)]
pub enum UserClaims {}
impl Kind for UserClaims {
    type Value = Vec<UserClaimField>;
    type Ref<'a> = &'a [UserClaimField];
    const FORM: &'static str =
        "comma-separated: username, email, first_name, last_name, is_staff, is_superuser";
    fn parse(raw: &str) -> Result<Vec<UserClaimField>, String> {
        let mut out: Vec<UserClaimField> = Vec::new();
        for name in list(raw) {
            let field = UserClaimField::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| {
                    format!(
                        "{name:?} is not a user field (username, email, first_name, last_name, \
                         is_staff, is_superuser)"
                    )
                })?;
            if out.contains(&field) {
                return Err(format!("{name:?} is listed twice"));
            }
            out.push(field);
        }
        Ok(out)
    }
    fn check(v: &Vec<UserClaimField>) -> Result<(), String> {
        match v.iter().enumerate().find(|(i, f)| v[..*i].contains(f)) {
            Some((_, f)) => Err(format!("{:?} is listed twice", f.as_str())),
            None => Ok(()),
        }
    }
    fn show(v: &Vec<UserClaimField>) -> String {
        v.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
    }
    fn get(v: &Vec<UserClaimField>) -> &[UserClaimField] {
        v
    }
}

/// `AUTH_TOKEN_CLASSES`: `AccessToken`, `SlidingToken` (simplejwt's dotted paths too).
#[derive(Debug)]
pub enum TokenClasses {}
impl Kind for TokenClasses {
    type Value = Vec<TokenKind>;
    type Ref<'a> = &'a [TokenKind];
    const FORM: &'static str = "comma-separated: AccessToken, SlidingToken";
    fn parse(raw: &str) -> Result<Vec<TokenKind>, String> {
        let classes = list(raw)
            .iter()
            .map(|c| match c.rsplit('.').next().unwrap_or(c) {
                "AccessToken" => Ok(TokenKind::Access),
                "SlidingToken" => Ok(TokenKind::Sliding),
                other => Err(format!(
                    "{other:?} cannot authenticate requests (use AccessToken, SlidingToken)"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::check(&classes)?;
        Ok(classes)
    }
    fn check(v: &Vec<TokenKind>) -> Result<(), String> {
        if v.is_empty() {
            return Err("needs at least one token class".into());
        }
        if v.contains(&TokenKind::Refresh) {
            return Err("RefreshToken cannot authenticate requests".into());
        }
        Ok(())
    }
    fn show(v: &Vec<TokenKind>) -> String {
        v.iter()
            .map(|k| k.class_name())
            .collect::<Vec<_>>()
            .join(",")
    }
    fn get(v: &Vec<TokenKind>) -> &[TokenKind] {
        v
    }
}

/// A named set of defaults (`PRESET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// simplejwt 5.5.1's defaults: wire-compatible.
    Compatible,
    /// The recommended values of every protection, together.
    Hardened,
}

impl Kind for Preset {
    type Value = Preset;
    type Ref<'a> = Preset;
    const FORM: &'static str = "compatible or hardened";
    fn parse(raw: &str) -> Result<Preset, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "compatible" => Ok(Preset::Compatible),
            "hardened" => Ok(Preset::Hardened),
            _ => Err(format!("{raw:?} is not a preset (compatible or hardened)")),
        }
    }
    fn show(v: &Preset) -> String {
        match v {
            Preset::Compatible => "compatible".into(),
            Preset::Hardened => "hardened".into(),
        }
    }
    fn get(v: &Preset) -> Preset {
        *v
    }
}

/// Splits a comma-separated list, dropping empty items.
fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A secret string whose `Debug` never shows it.
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

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_documented_form() {
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
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        for bad in [
            "", "5x", "m5", "-5s", "1h-30m", "5 m", "abc", "1e999", "NaN", "inf", "-1",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn absurd_durations_are_refused_not_overflowed() {
        for absurd in ["1e19", "1e10", "5300w", "99999999999d"] {
            let e = parse_duration(absurd).unwrap_err();
            assert!(e.contains("100 years"), "{absurd}: {e}");
        }
        assert!(parse_duration("36500d").is_ok());
    }

    #[test]
    fn durations_round_trip_through_their_text_form() {
        for text in ["5m", "1d", "90s", "250ms", "2h", "0s"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }

    #[test]
    fn empty_claim_names_and_secrets_are_refused() {
        assert!(ClaimName::parse("  ").is_err());
        assert!(OptionalClaimName::parse("").is_err());
        assert_eq!(OptionalClaimName::parse("None").unwrap(), None);
        assert!(SecretKey::parse("").is_err());
        assert!(SecretKey::parse("   ").is_err());
        assert!(HeaderTypes::parse(" , ").is_err());
        assert!(HeaderTypes::parse("Bear er").is_err());
    }

    #[test]
    fn header_names_accept_django_and_plain_forms() {
        assert_eq!(
            HeaderName::parse("HTTP_X_ACCESS_TOKEN").unwrap(),
            "x-access-token"
        );
        assert_eq!(
            HeaderName::parse("X-Access-Token").unwrap(),
            "x-access-token"
        );
        assert_eq!(
            HeaderName::show(&"authorization".into()),
            "HTTP_AUTHORIZATION"
        );
        assert!(HeaderName::parse("bad header").is_err());
    }

    #[test]
    fn secrets_never_show() {
        let s = SecretKey::parse("super-secret-value").unwrap();
        assert!(!SecretKey::show(&s).contains("super-secret-value"));
        assert!(!format!("{s:?}").contains("super-secret-value"));
    }
}
