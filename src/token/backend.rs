//! simplejwt's `TokenBackend`: claims to a signed compact JWS and back.
//!
//! Decoding does what PyJWT 2.15 does for simplejwt, in the same order, so
//! the same token gets the same verdict here and on the reference:
//! signature with the pinned algorithm, then `iat` (not in the future), `nbf`,
//! `exp` (expired when `exp <= now - LEEWAY`), `iss`, `aud`, and `sub`/`jti`
//! being strings. Stricter than PyJWT (RFC 8725): a header carrying a key or a
//! key URL (`jwk`, `jku`, `x5u`, `x5c`, `x5t`), `crit`, or a `kid` that is not
//! one of our keys' (as `/.well-known/jwks.json` publishes them) is refused —
//! unless `JWK_URL` is set and its JWKS has that key. Everything is refused
//! before any work when the token is longer than `TOKEN_MAX_BYTES`. Any
//! failure other than expiry is [`TokenError::Invalid`]: a client learns
//! nothing more about a forged token.
//!
//! The key is chosen by the header: a token whose header is byte-identical
//! to one we mint goes straight to that key (no JSON parsing); otherwise
//! `kid` selects one of our keys by a scan of the small ring, and a token
//! without `kid` gets the key that verifies such tokens (the signing key,
//! or the one imported from `SIGNING_KEY` while it is in the ring). The ring
//! is swapped whole on reload; loading it on each decode is a few atomic
//! operations and allocates nothing.

use std::sync::Arc;

use arc_swap::ArcSwap;
use base64::Engine as _;
use serde_json::Value;

use super::claims::Claims;
use super::json::to_ascii_vec;
use super::{Timestamp, TokenError};
use crate::keys::remote::RemoteJwks;
use crate::keys::Keys;
use crate::settings::{algorithm_name, Settings};

/// JOSE header parameters that carry or point to a key, or demand extensions:
/// a token carrying any of them is invalid, whatever its signature.
pub const REFUSED_HEADER_PARAMETERS: [&str; 7] =
    ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit"];

/// Encodes and decodes tokens with one key ring and one set of claim rules.
#[derive(Debug, Clone)]
pub struct TokenBackend {
    /// Shared by every clone: a reload is seen by all of them.
    keys: Arc<ArcSwap<Keys>>,
    /// `JWK_URL`'s keys, for tokens naming a `kid` that is not ours.
    remote: Option<Arc<RemoteJwks>>,
    alg_name: &'static str,
    audience: Option<Vec<String>>,
    issuer: Option<String>,
    leeway: f64,
    max_bytes: usize,
}

/// Why a decode failed: a token error, or a `kid` found in none of our keys
/// and no fresh copy of `JWK_URL`'s (the caller may fetch it and try again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The token is refused.
    Token(TokenError),
    /// Its `kid` may be in `JWK_URL`'s JWKS once fetched again.
    UnknownKid,
}

impl From<TokenError> for DecodeError {
    fn from(e: TokenError) -> Self {
        DecodeError::Token(e)
    }
}

impl DecodeError {
    /// As a token error: an unknown `kid` is an invalid token.
    pub(crate) fn into_token_error(self) -> TokenError {
        match self {
            DecodeError::Token(e) => e,
            DecodeError::UnknownKid => TokenError::Invalid,
        }
    }
}

/// An error while signing (a broken key): never caused by a client.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign token: {0}")]
pub struct SignError(String);

fn b64_decode(segment: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
}

/// PyJWT's `int(value)` for a time claim: numbers only, truncated toward zero.
fn int_claim(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()).map(f64::trunc),
        _ => None,
    }
}

impl TokenBackend {
    /// A backend for the settings' algorithm, audience, issuer and leeway.
    pub fn new(settings: &Settings, keys: Keys) -> Self {
        let remote = settings
            .jwk_url()
            .filter(|_| !crate::keys::is_hmac(keys.algorithm()))
            .map(|url| Arc::new(RemoteJwks::new(url, keys.algorithm())));
        Self {
            alg_name: algorithm_name(keys.algorithm()),
            keys: Arc::new(ArcSwap::from_pointee(keys)),
            remote,
            audience: settings.audience().map(<[String]>::to_vec),
            issuer: settings.issuer().map(str::to_owned),
            leeway: settings.leeway().as_secs_f64(),
            max_bytes: settings.token_max_bytes() as usize,
        }
    }

    /// The keys this backend signs and verifies with (a snapshot: a reload
    /// after this call is not seen through it).
    pub fn keys(&self) -> arc_swap::Guard<Arc<Keys>> {
        self.keys.load()
    }

    /// Replaces the key ring (a reload of `KEYS_DIR`): tokens minted from now
    /// on are signed with its signing key, and only its keys verify. The
    /// algorithm cannot change.
    pub fn replace_keys(&self, keys: Keys) -> Result<(), crate::settings::SettingsError> {
        if keys.algorithm() != self.keys.load().algorithm() {
            return Err(crate::settings::SettingsError::new(
                "ALGORITHM",
                "cannot change on reload: restart the server",
            ));
        }
        self.keys.store(Arc::new(keys));
        Ok(())
    }

    /// `JWK_URL`'s key cache, when set (and the algorithm is asymmetric).
    pub fn remote(&self) -> Option<&RemoteJwks> {
        self.remote.as_deref()
    }

    /// Signs `claims`, first setting `aud` and `iss` when configured (in place
    /// if present, appended otherwise — as simplejwt's encoder does).
    pub fn encode(&self, claims: &mut Claims) -> Result<String, SignError> {
        if let Some(aud) = &self.audience {
            let value = if aud.len() == 1 {
                Value::from(aud[0].clone())
            } else {
                Value::from(aud.clone())
            };
            claims.insert("aud".into(), value);
        }
        if let Some(iss) = &self.issuer {
            claims.insert("iss".into(), Value::from(iss.clone()));
        }
        let payload = to_ascii_vec(claims).map_err(|e| SignError(e.to_string()))?;
        let keys = self.keys.load();
        let header = keys.header_b64();
        let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 100);
        token.push_str(header);
        token.push('.');
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = keys
            .sign(token.as_bytes())
            .map_err(|e| SignError(e.to_string()))?;
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }

    /// Verifies the signature and the time, audience and issuer claims at `now`.
    pub fn decode(&self, token: &str, now: Timestamp) -> Result<Claims, TokenError> {
        self.try_decode(token, now)
            .map_err(DecodeError::into_token_error)
    }

    /// [`TokenBackend::decode`], except that an `exp` in the past is
    /// accepted (it must still be an integer): for the sliding refresh,
    /// which a sliding token's `refresh_exp` bounds instead, as simplejwt's
    /// documentation describes.
    pub fn decode_expired(&self, token: &str, now: Timestamp) -> Result<Claims, TokenError> {
        self.try_decode_expired(token, now)
            .map_err(DecodeError::into_token_error)
    }

    /// [`Self::decode`], telling apart a `kid` that `JWK_URL`'s JWKS may
    /// know once fetched again.
    pub(crate) fn try_decode(&self, token: &str, now: Timestamp) -> Result<Claims, DecodeError> {
        self.try_decode_checking(token, now, true)
    }

    /// [`Self::decode_expired`], telling apart an unknown `kid` as
    /// [`Self::try_decode`] does.
    pub(crate) fn try_decode_expired(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Claims, DecodeError> {
        self.try_decode_checking(token, now, false)
    }

    fn try_decode_checking(
        &self,
        token: &str,
        now: Timestamp,
        check_exp: bool,
    ) -> Result<Claims, DecodeError> {
        if token.len() > self.max_bytes {
            return Err(TokenError::Invalid.into());
        }
        let mut parts = token.splitn(3, '.');
        let (Some(header_b64), Some(payload_b64), Some(signature)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid.into());
        };
        if signature.contains('.') {
            return Err(TokenError::Invalid.into());
        }
        let keys = self.keys.load();
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        if !self.verify_signature(&keys, header_b64, signature, signing_input.as_bytes())? {
            return Err(TokenError::Invalid.into());
        }
        let payload = b64_decode(payload_b64).ok_or(TokenError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
        self.check_registered_claims(&claims, now, check_exp)?;
        Ok(claims)
    }

    /// Checks the header, picks the key that must have signed the token and
    /// checks the signature with it.
    fn verify_signature(
        &self,
        keys: &Keys,
        header_b64: &str,
        signature: &str,
        message: &[u8],
    ) -> Result<bool, DecodeError> {
        let alg = keys.algorithm();
        // A header we mint is fixed; accept it without parsing JSON.
        if let Some(key) = keys.by_header(header_b64) {
            return Ok(key.verify(alg, signature, message));
        }
        let raw = b64_decode(header_b64).ok_or(TokenError::Invalid)?;
        let header: Claims = serde_json::from_slice(&raw).map_err(|_| TokenError::Invalid)?;
        match header.get("alg") {
            Some(Value::String(alg)) if alg == self.alg_name => {}
            _ => return Err(TokenError::Invalid.into()),
        }
        // We implement no extensions, so any critical one must be refused
        // (RFC 7515 §4.1.11); a header offering its own key or a URL to fetch
        // one is an attack on verifiers that trust it (RFC 8725 §3.10): the key
        // always comes from configuration, so such a token is refused outright.
        if REFUSED_HEADER_PARAMETERS
            .iter()
            .any(|name| header.contains_key(*name))
        {
            return Err(TokenError::Invalid.into());
        }
        // A `kid` must name one of our keys (as the JWKS publishes them) or,
        // with `JWK_URL`, one of its keys; it never selects a key from
        // anywhere else.
        match header.get("kid") {
            None => Ok(keys.kidless().verify(alg, signature, message)),
            Some(Value::String(kid)) => {
                if let Some(key) = keys.by_kid(kid) {
                    return Ok(key.verify(alg, signature, message));
                }
                match &self.remote {
                    Some(remote) => remote
                        .verify(kid, signature, message)
                        .ok_or(DecodeError::UnknownKid),
                    None => Err(TokenError::Invalid.into()),
                }
            }
            Some(_) => Err(TokenError::Invalid.into()),
        }
    }

    fn check_registered_claims(
        &self,
        claims: &Claims,
        now: Timestamp,
        check_exp: bool,
    ) -> Result<(), TokenError> {
        let now = now.as_secs_f64();
        let leeway = self.leeway;
        if let Some(iat) = claims.get("iat") {
            let iat = int_claim(iat).ok_or(TokenError::Invalid)?;
            if iat > now + leeway {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = int_claim(nbf).ok_or(TokenError::Invalid)?;
            if nbf > now + leeway {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(exp) = claims.get("exp") {
            let exp = int_claim(exp).ok_or(TokenError::Invalid)?;
            if check_exp && exp <= now - leeway {
                return Err(TokenError::Expired);
            }
        }
        if let Some(issuer) = &self.issuer {
            match claims.get("iss") {
                Some(Value::String(iss)) if iss == issuer => {}
                _ => return Err(TokenError::Invalid),
            }
        }
        if let Some(audience) = &self.audience {
            let matches = |a: &str| audience.iter().any(|want| want == a);
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => matches(a),
                Some(Value::Array(list)) => {
                    let mut any = false;
                    for a in list {
                        let a = a.as_str().ok_or(TokenError::Invalid)?;
                        any |= matches(a);
                    }
                    any
                }
                _ => false,
            };
            if !ok {
                return Err(TokenError::Invalid);
            }
        }
        for name in ["sub", "jti"] {
            if claims.get(name).is_some_and(|v| !v.is_string()) {
                return Err(TokenError::Invalid);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keys;

    /// `b64(header).b64(payload)`: an unsigned token for the alg-none case.
    fn assemble_unsigned(header: &[u8], payload: &[u8]) -> String {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        format!("{}.{}", b64(header), b64(payload))
    }

    const SPEC_KEY: &str = "spec-test-signing-key-0123456789abcdef";

    fn backend(pairs: &[(&str, &str)]) -> TokenBackend {
        let mut all = vec![("SIGNING_KEY", SPEC_KEY)];
        all.extend_from_slice(pairs);
        let settings = Settings::from_pairs(all).unwrap();
        let keys = Keys::from_settings(&settings).unwrap();
        TokenBackend::new(&settings, keys)
    }

    fn claims(json: &str) -> Claims {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn encodes_the_spec_vectors_byte_for_byte() {
        let b = backend(&[]);
        let mut c = claims(
            r#"{"token_type":"access","exp":2000000000,"iat":1999999700,"jti":"0123456789abcdef0123456789abcdef","user_id":"1"}"#,
        );
        assert_eq!(b.encode(&mut c).unwrap(), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjE5OTk5OTk3MDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6IjEifQ.u4p9MxMjiMC1bTEYpRo4pacF6NSy_8vseUUYBhCOi28");
        let b = backend(&[("AUDIENCE", "svc"), ("ISSUER", "https://iss")]);
        let mut c = claims(
            r#"{"token_type":"access","exp":2000000000,"iat":1999999700,"jti":"0123456789abcdef0123456789abcdef","user_id":"1"}"#,
        );
        assert_eq!(b.encode(&mut c).unwrap(), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjE5OTk5OTk3MDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6IjEiLCJhdWQiOiJzdmMiLCJpc3MiOiJodHRwczovL2lzcyJ9.Gqz90_h9n2DgDdenKsjipIz0FS6yLEyztC3D6IH836Q");
    }

    #[test]
    fn decode_round_trips_and_checks_exp_at_the_boundary() {
        let b = backend(&[]);
        let mut c =
            claims(r#"{"token_type":"access","exp":2000,"iat":1000,"jti":"x","user_id":"1"}"#);
        let t = b.encode(&mut c).unwrap();
        assert_eq!(b.decode(&t, Timestamp::from_secs_f64(1999.9)).unwrap(), c);
        assert_eq!(
            b.decode(&t, Timestamp::from_secs_f64(2000.0)),
            Err(TokenError::Expired)
        );
        let lenient = backend(&[("LEEWAY", "10s")]);
        assert!(lenient.decode(&t, Timestamp::from_secs_f64(2009.9)).is_ok());
        assert_eq!(
            lenient.decode(&t, Timestamp::from_secs_f64(2010.0)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn future_iat_and_nbf_are_invalid() {
        let b = backend(&[]);
        for json in [
            r#"{"exp":9000,"iat":1001}"#,
            r#"{"exp":9000,"nbf":1001}"#,
            r#"{"exp":9000,"iat":"1"}"#,
            r#"{"exp":"9000"}"#,
            r#"{"exp":9000,"jti":5}"#,
            r#"{"exp":9000,"sub":5}"#,
        ] {
            let t = b.encode(&mut claims(json)).unwrap();
            assert_eq!(
                b.decode(&t, Timestamp::from_secs_f64(1000.0)),
                Err(TokenError::Invalid),
                "{json}"
            );
        }
    }

    #[test]
    fn audience_and_issuer_are_required_when_configured() {
        let b = backend(&[("AUDIENCE", "svc"), ("ISSUER", "https://iss")]);
        let plain = backend(&[]);
        let ok = b.encode(&mut claims(r#"{"exp":9000}"#)).unwrap();
        assert!(b.decode(&ok, Timestamp::from_secs_f64(1000.0)).is_ok());
        // Same key, no aud/iss: refused by the configured backend, accepted by the plain one.
        let bare = plain
            .encode(&mut claims(r#"{"exp":9000,"aud":"other"}"#))
            .unwrap();
        assert!(plain
            .decode(&bare, Timestamp::from_secs_f64(1000.0))
            .is_ok());
        assert_eq!(
            b.decode(&bare, Timestamp::from_secs_f64(1000.0)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn other_algorithms_and_tampering_are_invalid() {
        let b = backend(&[]);
        let hs512 = backend(&[("ALGORITHM", "HS512"), ("SIGNING_KEY", &"k".repeat(64))]);
        let t = hs512.encode(&mut claims(r#"{"exp":9000}"#)).unwrap();
        assert_eq!(
            b.decode(&t, Timestamp::from_secs_f64(1000.0)),
            Err(TokenError::Invalid)
        );
        let none = format!(
            "{}.",
            assemble_unsigned(br#"{"alg":"none","typ":"JWT"}"#, br#"{"exp":9000}"#)
        );
        assert_eq!(
            b.decode(&none, Timestamp::from_secs_f64(1000.0)),
            Err(TokenError::Invalid)
        );
        let good = b.encode(&mut claims(r#"{"exp":9000}"#)).unwrap();
        let padded = format!("{good}=");
        assert_eq!(
            b.decode(&padded, Timestamp::from_secs_f64(1000.0)),
            Err(TokenError::Invalid)
        );
        for garbage in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "garbage",
            &"a".repeat(9000),
        ] {
            assert_eq!(
                b.decode(garbage, Timestamp::from_secs_f64(1000.0)),
                Err(TokenError::Invalid),
                "{garbage}"
            );
        }
    }
}
