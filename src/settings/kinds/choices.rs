//! The enumerated choices of the token settings: the algorithm, the user id
//! field, the user claims, the token classes and the preset.

use jsonwebtoken::Algorithm;

use super::{list, Kind};
use crate::token::kind::TokenKind;

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
