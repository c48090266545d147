//! Claim sets as simplejwt builds them, in simplejwt's key order.
//!
//! A fresh token is `{token_type, exp, iat, jti}`; `for_user` adds the user id
//! as a string; the access token of a pair is a fresh access token plus every
//! refresh claim except `token_type`, `exp`, `iat` and `jti`; rotation gives the
//! refresh token a new `jti`, `exp` and `iat` in place. Claims stay a JSON map
//! so custom claims (the tutorial's `username`) travel unchanged.

use serde_json::{Map, Value};

use super::{new_jti, TokenError};
use crate::settings::Settings;

/// A token's payload, in insertion order.
pub type Claims = Map<String, Value>;

/// The kinds of tokens simplejwt issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Short-lived, authenticates requests.
    Access,
    /// Long-lived, exchanged for access tokens.
    Refresh,
    /// Both at once (simplejwt's SlidingToken).
    Sliding,
}

impl TokenKind {
    /// The `token_type` claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::Sliding => "sliding",
        }
    }

    /// simplejwt's class name, used in error bodies (`token_class`).
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Access => "AccessToken",
            Self::Refresh => "RefreshToken",
            Self::Sliding => "SlidingToken",
        }
    }

    fn lifetime(self, settings: &Settings) -> f64 {
        match self {
            Self::Access => settings.access_token_lifetime(),
            Self::Refresh => settings.refresh_token_lifetime(),
            Self::Sliding => settings.sliding_token_lifetime(),
        }
        .as_secs_f64()
    }
}

/// Whole seconds, truncated like simplejwt's `datetime_to_epoch`.
fn epoch(t: f64) -> Value {
    Value::from(t.floor() as i64)
}

/// A fresh token of `kind` issued at `now`: `{token_type, exp, iat, jti}`.
pub fn fresh(settings: &Settings, kind: TokenKind, now: f64) -> Claims {
    let mut c = Claims::new();
    if let Some(type_claim) = settings.token_type_claim() {
        c.insert(type_claim.to_owned(), Value::from(kind.as_str()));
    }
    c.insert("exp".into(), epoch(now + kind.lifetime(settings)));
    c.insert("iat".into(), epoch(now));
    if let Some(jti_claim) = settings.jti_claim() {
        c.insert(jti_claim.to_owned(), Value::from(new_jti()));
    }
    if kind == TokenKind::Sliding {
        c.insert(
            settings.sliding_token_refresh_exp_claim().to_owned(),
            epoch(now + settings.sliding_token_refresh_lifetime().as_secs_f64()),
        );
    }
    c
}

/// `Token.for_user`: a fresh token naming the user (id as a string), with the
/// password-hash digest when `CHECK_REVOKE_TOKEN` is on.
pub fn for_user(
    settings: &Settings,
    kind: TokenKind,
    user_id: String,
    revoke_digest: Option<String>,
    now: f64,
) -> Claims {
    let mut c = fresh(settings, kind, now);
    c.insert(settings.user_id_claim().to_owned(), Value::from(user_id));
    if let Some(digest) = revoke_digest {
        c.insert(
            settings.revoke_token_claim().to_owned(),
            Value::from(digest),
        );
    }
    c
}

/// `RefreshToken.access_token`: a fresh access token expiring relative to
/// `now`, carrying every other claim of the refresh token.
pub fn access_from_refresh(settings: &Settings, refresh: &Claims, now: f64) -> Claims {
    let mut access = fresh(settings, TokenKind::Access, now);
    for (k, v) in refresh {
        let no_copy = k == "exp"
            || k == "iat"
            || k == "jti"
            || settings.token_type_claim() == Some(k.as_str())
            || settings.jti_claim() == Some(k.as_str());
        if !no_copy {
            access.insert(k.clone(), v.clone());
        }
    }
    access
}

/// Rotation: the refresh token gets a new id, a full lifetime from `now`, and
/// `iat = now`, keeping its key order and custom claims.
pub fn rotate(settings: &Settings, refresh: &mut Claims, now: f64) {
    if let Some(jti_claim) = settings.jti_claim() {
        refresh.insert(jti_claim.to_owned(), Value::from(new_jti()));
    }
    refresh.insert(
        "exp".into(),
        epoch(now + TokenKind::Refresh.lifetime(settings)),
    );
    refresh.insert("iat".into(), epoch(now));
}

/// The token id, when present and a string (decode already refused non-strings
/// for the standard `jti` claim).
pub fn jti<'a>(settings: &Settings, claims: &'a Claims) -> Option<&'a str> {
    claims.get(settings.jti_claim()?)?.as_str()
}

/// The `exp` claim as whole seconds, when present and numeric.
pub fn exp(claims: &Claims) -> Option<i64> {
    claims.get("exp")?.as_f64().map(|f| f as i64)
}

/// simplejwt's checks after decoding, in its order: `exp` present, `jti`
/// present, then the token type (skipped when `expected` is `None`, as
/// `UntypedToken` does for the verify endpoint).
pub fn check(
    settings: &Settings,
    claims: &Claims,
    expected: Option<TokenKind>,
) -> Result<(), TokenError> {
    if !claims.contains_key("exp") {
        return Err(TokenError::MissingClaim("exp".into()));
    }
    if let Some(jti_claim) = settings.jti_claim() {
        match claims.get(jti_claim) {
            None => return Err(TokenError::NoId),
            // An id must be storable on every backend (PostgreSQL text has no NUL).
            Some(Value::String(id)) if id.contains('\0') => return Err(TokenError::Invalid),
            Some(_) => {}
        }
    }
    if let (Some(kind), Some(type_claim)) = (expected, settings.token_type_claim()) {
        match claims.get(type_claim) {
            None => return Err(TokenError::NoType),
            Some(Value::String(t)) if t == kind.as_str() => {}
            Some(_) => return Err(TokenError::WrongType),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_pair_claims_are_in_simplejwt_order() {
        let s = Settings::default();
        let now = 1_999_999_700.4;
        let refresh = for_user(&s, TokenKind::Refresh, "1".into(), None, now);
        let keys: Vec<_> = refresh.keys().map(String::as_str).collect();
        assert_eq!(keys, ["token_type", "exp", "iat", "jti", "user_id"]);
        assert_eq!(refresh["exp"], 1_999_999_700 + 86400);
        assert_eq!(refresh["iat"], 1_999_999_700);
        assert_eq!(refresh["user_id"], "1");
        let jti = refresh["jti"].as_str().unwrap();
        assert_eq!(jti.len(), 32);
        assert_eq!(&jti[12..13], "4");

        let mut with_custom = refresh.clone();
        with_custom.insert("username".into(), "alice".into());
        let access = access_from_refresh(&s, &with_custom, now);
        let keys: Vec<_> = access.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["token_type", "exp", "iat", "jti", "user_id", "username"]
        );
        assert_eq!(access["token_type"], "access");
        assert_eq!(access["exp"], 1_999_999_700 + 300);
        assert_ne!(access["jti"], refresh["jti"]);
    }

    #[test]
    fn rotation_renews_id_and_times_in_place() {
        let s = Settings::default();
        let mut r = for_user(&s, TokenKind::Refresh, "1".into(), None, 1000.0);
        r.insert("scope".into(), "x".into());
        let old = r.clone();
        rotate(&s, &mut r, 5000.0);
        assert_ne!(r["jti"], old["jti"]);
        assert_eq!(r["iat"], 5000);
        assert_eq!(r["exp"], 5000 + 86400);
        assert_eq!(r.keys().collect::<Vec<_>>(), old.keys().collect::<Vec<_>>());
    }

    #[test]
    fn checks_follow_simplejwt_order() {
        let s = Settings::default();
        let mut c = for_user(&s, TokenKind::Access, "1".into(), None, 1000.0);
        assert_eq!(check(&s, &c, Some(TokenKind::Access)), Ok(()));
        assert_eq!(
            check(&s, &c, Some(TokenKind::Refresh)),
            Err(TokenError::WrongType)
        );
        assert_eq!(check(&s, &c, None), Ok(()));
        c.remove("token_type");
        assert_eq!(
            check(&s, &c, Some(TokenKind::Access)),
            Err(TokenError::NoType)
        );
        c.remove("jti");
        assert_eq!(
            check(&s, &c, Some(TokenKind::Access)),
            Err(TokenError::NoId)
        );
        c.remove("exp");
        assert_eq!(
            check(&s, &c, Some(TokenKind::Access))
                .unwrap_err()
                .to_string(),
            "Token has no 'exp' claim"
        );
    }
}
