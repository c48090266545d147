//! Claim sets as simplejwt builds them, in simplejwt's key order, and the
//! arithmetic on them: expiry checks, rotation, sliding.
//!
//! A fresh token is `{token_type, exp, iat, jti}`; `for_user` adds the user id
//! as a string; the access token of a pair is a fresh access token plus every
//! refresh claim except `token_type`, `exp`, `iat` and `jti`; rotation gives the
//! refresh token a new `jti`, `exp` and `iat` in place; sliding gives a sliding
//! token a new `exp` and `iat`, keeping its `jti` and refresh deadline. Claims
//! stay a JSON map so custom claims (the tutorial's `username`) travel
//! unchanged — but never over the reserved ones: [`protect_reserved`] writes
//! them back after custom claims are added.

use serde_json::{Map, Value};

use super::{new_jti, Timestamp, TokenError, TokenKind};
use crate::settings::Settings;

/// A token's payload, in insertion order.
pub type Claims = Map<String, Value>;

/// A time claim's value: whole seconds (simplejwt's `datetime_to_epoch`).
fn epoch(t: Timestamp) -> Value {
    Value::from(t.epoch())
}

/// A fresh token of `kind` issued at `now`: `{token_type, exp, iat, jti}`.
pub fn fresh(settings: &Settings, kind: TokenKind, now: Timestamp) -> Claims {
    let mut c = Claims::new();
    if let Some(type_claim) = settings.token_type_claim() {
        c.insert(type_claim.to_owned(), Value::from(kind.as_str()));
    }
    c.insert("exp".into(), epoch(now.after(settings.lifetime(kind))));
    c.insert("iat".into(), epoch(now));
    if let Some(jti_claim) = settings.jti_claim() {
        c.insert(jti_claim.to_owned(), Value::from(new_jti()));
    }
    if kind == TokenKind::Sliding {
        c.insert(
            settings.sliding_token_refresh_exp_claim().to_owned(),
            epoch(now.after(settings.sliding_token_refresh_lifetime())),
        );
    }
    c
}

/// Writes back the claims this configuration reserves (type, times, id,
/// user id, revoke digest, sliding deadline) from `reserved` into `claims`
/// after custom claims were added, so neither `TOKEN_CLAIMS` nor a claims
/// hook can override them. Key order is kept (a JSON map re-insert keeps the
/// key's first place).
pub fn protect_reserved(reserved: &Claims, claims: &mut Claims) {
    for (k, v) in reserved {
        claims.insert(k.clone(), v.clone());
    }
    // A hook must not add registered claims the backend writes or checks.
    for registered in ["nbf", "aud", "iss"] {
        if !reserved.contains_key(registered) {
            claims.remove(registered);
        }
    }
}

/// `Token.for_user`: a fresh token naming the user (id as a string), with the
/// password-hash digest when `CHECK_REVOKE_TOKEN` is on.
pub fn for_user(
    settings: &Settings,
    kind: TokenKind,
    user_id: String,
    revoke_digest: Option<String>,
    now: Timestamp,
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
pub fn access_from_refresh(settings: &Settings, refresh: &Claims, now: Timestamp) -> Claims {
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
pub fn rotate(settings: &Settings, refresh: &mut Claims, now: Timestamp) {
    if let Some(jti_claim) = settings.jti_claim() {
        refresh.insert(jti_claim.to_owned(), Value::from(new_jti()));
    }
    refresh.insert(
        "exp".into(),
        epoch(now.after(settings.lifetime(TokenKind::Refresh))),
    );
    refresh.insert("iat".into(), epoch(now));
}

/// [`rotate`] into a successor issued before: its `jti`, `iat` and `exp`
/// as recorded, so the same claims — and, with a deterministic algorithm
/// (HMAC, RSA PKCS#1), the same token — come out again (the rotation
/// grace period hands a lost successor back this way).
pub fn rotate_as(settings: &Settings, refresh: &mut Claims, jti: &str, iat: i64, exp: i64) {
    if let Some(jti_claim) = settings.jti_claim() {
        refresh.insert(jti_claim.to_owned(), Value::from(jti));
    }
    refresh.insert("exp".into(), Value::from(exp));
    refresh.insert("iat".into(), Value::from(iat));
}

/// Sliding (`TokenRefreshSlidingSerializer`): a new `exp` and `iat` from
/// `now`; the `jti` and the refresh deadline stay, so blacklisting the token
/// also kills every slid copy.
pub fn slide(settings: &Settings, sliding: &mut Claims, now: Timestamp) {
    sliding.insert(
        "exp".into(),
        epoch(now.after(settings.lifetime(TokenKind::Sliding))),
    );
    sliding.insert("iat".into(), epoch(now));
}

/// Caps the time claim `name` at `deadline` (epoch seconds): a token of a
/// session never outlives the session's absolute deadline
/// (`SESSION_ABSOLUTE_LIFETIME`). A missing or earlier claim stays.
pub fn cap(claims: &mut Claims, name: &str, deadline: i64) {
    if time_claim(claims, name).is_some_and(|t| t > deadline) {
        claims.insert(name.to_owned(), Value::from(deadline));
    }
}

/// simplejwt's `Token.check_exp(claim)`: the claim must be present
/// (`Token has no '<claim>' claim`), a number, and later than `now - leeway`
/// (`Token '<claim>' claim has expired`).
pub fn check_exp(
    settings: &Settings,
    claims: &Claims,
    claim: &str,
    now: Timestamp,
) -> Result<(), TokenError> {
    let value = claims
        .get(claim)
        .ok_or_else(|| TokenError::MissingClaim(claim.to_owned()))?;
    let at = value.as_f64().ok_or(TokenError::Invalid)?;
    if at <= now.before(settings.leeway()).as_secs_f64() {
        return Err(TokenError::ClaimExpired(claim.to_owned()));
    }
    Ok(())
}

/// The token id, when present and a string (decode already refused non-strings
/// for the standard `jti` claim).
pub fn jti<'a>(settings: &Settings, claims: &'a Claims) -> Option<&'a str> {
    claims.get(settings.jti_claim()?)?.as_str()
}

/// A time claim (`exp`, `iat`) as whole seconds, when present and numeric.
pub fn time_claim(claims: &Claims, name: &str) -> Option<i64> {
    let value = claims.get(name)?.as_f64()?;
    Some(Timestamp::from_secs_f64(value).epoch())
}

/// The `exp` claim as whole seconds, when present and numeric.
pub fn exp(claims: &Claims) -> Option<i64> {
    time_claim(claims, "exp")
}

/// simplejwt's `Token.verify()` after decoding, in its order: `exp` present
/// and in date, `jti` present, then the token type (skipped when `expected`
/// is `None`, as `UntypedToken` does for the verify endpoint).
pub fn check(
    settings: &Settings,
    claims: &Claims,
    expected: Option<TokenKind>,
    now: Timestamp,
) -> Result<(), TokenError> {
    check_exp(settings, claims, "exp", now)?;
    check_id_and_type(settings, claims, expected)
}

/// [`check`] after the `exp` check: `jti` present, then the token type.
pub fn check_id_and_type(
    settings: &Settings,
    claims: &Claims,
    expected: Option<TokenKind>,
) -> Result<(), TokenError> {
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
        let now = Timestamp::from_secs_f64(1_999_999_700.4);
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
        let mut r = for_user(
            &s,
            TokenKind::Refresh,
            "1".into(),
            None,
            Timestamp::from_epoch(1000),
        );
        r.insert("scope".into(), "x".into());
        let old = r.clone();
        rotate(&s, &mut r, Timestamp::from_epoch(5000));
        assert_ne!(r["jti"], old["jti"]);
        assert_eq!(r["iat"], 5000);
        assert_eq!(r["exp"], 5000 + 86400);
        assert_eq!(r.keys().collect::<Vec<_>>(), old.keys().collect::<Vec<_>>());
    }

    #[test]
    fn sliding_moves_exp_and_iat_only() {
        let s = Settings::default();
        let mut t = for_user(
            &s,
            TokenKind::Sliding,
            "1".into(),
            None,
            Timestamp::from_epoch(1000),
        );
        let before = t.clone();
        slide(&s, &mut t, Timestamp::from_secs_f64(2000.7));
        assert_eq!(t["iat"], 2000);
        assert_eq!(t["exp"], 2300);
        assert_eq!(t["jti"], before["jti"]);
        assert_eq!(t["refresh_exp"], before["refresh_exp"]);
    }

    #[test]
    fn cap_lowers_later_times_only() {
        let mut c = Claims::new();
        c.insert("exp".into(), 500.into());
        c.insert("refresh_exp".into(), 90.into());
        cap(&mut c, "exp", 100);
        cap(&mut c, "refresh_exp", 100);
        cap(&mut c, "missing", 100);
        assert_eq!(c["exp"], 100);
        assert_eq!(c["refresh_exp"], 90);
        assert!(!c.contains_key("missing"));
    }

    #[test]
    fn check_exp_is_simplejwts_at_the_boundary() {
        let s = Settings::from_pairs([("LEEWAY", "10")]).unwrap();
        let mut c = Claims::new();
        c.insert("refresh_exp".into(), 100.into());
        let at = |t: f64| check_exp(&s, &c, "refresh_exp", Timestamp::from_secs_f64(t));
        assert_eq!(at(109.9), Ok(()));
        assert_eq!(
            at(110.0),
            Err(TokenError::ClaimExpired("refresh_exp".into()))
        );
        assert_eq!(
            check_exp(&s, &c, "other", Timestamp::from_epoch(0)),
            Err(TokenError::MissingClaim("other".into()))
        );
    }

    #[test]
    fn reserved_claims_survive_custom_claims() {
        let s = Settings::default();
        let reserved = for_user(
            &s,
            TokenKind::Refresh,
            "1".into(),
            None,
            Timestamp::from_epoch(1000),
        );
        let mut c = reserved.clone();
        c.insert("user_id".into(), "2".into());
        c.insert("token_type".into(), "access".into());
        c.insert("aud".into(), "evil".into());
        c.insert("username".into(), "alice".into());
        protect_reserved(&reserved, &mut c);
        assert_eq!(c["user_id"], "1");
        assert_eq!(c["token_type"], "refresh");
        assert!(!c.contains_key("aud"));
        assert_eq!(c["username"], "alice");
        assert_eq!(
            c.keys().collect::<Vec<_>>(),
            ["token_type", "exp", "iat", "jti", "user_id", "username"]
        );
    }

    #[test]
    fn checks_follow_simplejwt_order() {
        let s = Settings::default();
        let now = Timestamp::from_epoch(1000);
        let check = |c: &Claims, kind| check(&s, c, kind, now);
        let mut c = for_user(&s, TokenKind::Access, "1".into(), None, now);
        assert_eq!(check(&c, Some(TokenKind::Access)), Ok(()));
        assert_eq!(
            check(&c, Some(TokenKind::Refresh)),
            Err(TokenError::WrongType)
        );
        assert_eq!(check(&c, None), Ok(()));
        c.remove("token_type");
        assert_eq!(check(&c, Some(TokenKind::Access)), Err(TokenError::NoType));
        c.remove("jti");
        assert_eq!(check(&c, Some(TokenKind::Access)), Err(TokenError::NoId));
        c.remove("exp");
        assert_eq!(
            check(&c, Some(TokenKind::Access)).unwrap_err().to_string(),
            "Token has no 'exp' claim"
        );
    }
}
