//! Signing and verifying keys, prepared once from the settings.
//!
//! The algorithm is pinned by configuration: the key pair is built for exactly
//! one algorithm and a token whose header names any other is refused before a
//! signature is checked (no `alg: none`, no HS/RS confusion). Keys are never
//! taken from a token's header: `token/backend.rs` refuses tokens whose
//! header carries `jwk`, `jku`, `x5u`, `x5c`, `crit` or a foreign `kid`.
//!
//! Bad material fails at start, naming the setting: an HMAC secret found in
//! lists of leaked JWT secrets ([`leaked`]) or shorter than the hash output
//! (RFC 7518 §3.2), a PEM in a form the algorithm does not take or cannot read
//! ([`pem`] names the form received and the forms taken; SEC1 EC keys are
//! read), or a private and public key that do not belong together (checked by
//! signing and verifying a probe).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{crypto, Algorithm, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

use crate::settings::{algorithm_name, Settings, SettingsError};

pub mod jwks;
pub mod leaked;
pub mod pem;

/// An HMAC already keyed with the secret: each signature clones it instead
/// of running the key schedule again (the hot path of every request).
#[derive(Clone)]
enum KeyedHmac {
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

impl KeyedHmac {
    fn new(alg: Algorithm, secret: &[u8]) -> Option<Self> {
        Some(match alg {
            Algorithm::HS256 => Self::Sha256(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HS384 => Self::Sha384(Hmac::new_from_slice(secret).ok()?),
            Algorithm::HS512 => Self::Sha512(Hmac::new_from_slice(secret).ok()?),
            _ => return None,
        })
    }

    fn sign(&self, message: &[u8]) -> String {
        let tag = match self {
            Self::Sha256(m) => m
                .clone()
                .chain_update(message)
                .finalize()
                .into_bytes()
                .to_vec(),
            Self::Sha384(m) => m
                .clone()
                .chain_update(message)
                .finalize()
                .into_bytes()
                .to_vec(),
            Self::Sha512(m) => m
                .clone()
                .chain_update(message)
                .finalize()
                .into_bytes()
                .to_vec(),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
    }

    /// Constant-time check of a base64url tag, without allocating.
    fn verify(&self, signature: &str, message: &[u8]) -> bool {
        let mut tag = [0u8; 64];
        let Ok(len) = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode_slice(signature.as_bytes(), &mut tag)
        else {
            return false;
        };
        let tag = &tag[..len];
        match self {
            Self::Sha256(m) => m.clone().chain_update(message).verify_slice(tag).is_ok(),
            Self::Sha384(m) => m.clone().chain_update(message).verify_slice(tag).is_ok(),
            Self::Sha512(m) => m.clone().chain_update(message).verify_slice(tag).is_ok(),
        }
    }
}

/// The prepared keys for the configured algorithm.
#[derive(Clone)]
pub struct Keys {
    algorithm: Algorithm,
    hmac: Option<KeyedHmac>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// base64url of `{"alg":"<ALG>","typ":"JWT"}`: the header every token we mint carries,
    /// byte-identical to PyJWT's (sorted keys, compact).
    header_b64: String,
    /// The public key's RFC 7638 thumbprint (asymmetric algorithms only): the
    /// one `kid` a token header may name.
    kid: Option<String>,
    /// The JWKS document (`{"keys": []}` for HMAC).
    jwks: std::sync::Arc<str>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Whether an algorithm is an HMAC one (shared secret).
pub fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Minimum HMAC secret length in bytes: the hash output size.
pub fn min_hmac_key_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

impl Keys {
    /// Prepares keys from `SIGNING_KEY` / `VERIFYING_KEY` for `ALGORITHM`.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let alg = settings.algorithm();
        let signing = settings
            .signing_key()
            .ok_or_else(|| SettingsError::new("SIGNING_KEY", "is not set"))?;
        let (encoding, decoding) = if is_hmac(alg) {
            let secret = signing.expose().as_bytes();
            if leaked::is_leaked(signing.expose()) {
                return Err(SettingsError::new(
                    "SIGNING_KEY",
                    "is a publicly known example secret (found in lists of leaked JWT secrets): \
                     anyone can forge tokens with it; generate one with `simplejwt keygen`",
                ));
            }
            let min = min_hmac_key_len(alg);
            if secret.len() < min {
                return Err(SettingsError::new(
                    "SIGNING_KEY",
                    format!(
                        "is {} bytes; {} needs at least {min} bytes (run `simplejwt keygen`)",
                        secret.len(),
                        algorithm_name(alg)
                    ),
                ));
            }
            (
                EncodingKey::from_secret(secret),
                DecodingKey::from_secret(secret),
            )
        } else {
            let public = settings.verifying_key().ok_or_else(|| {
                SettingsError::new(
                    "VERIFYING_KEY",
                    format!(
                        "is required for {} (the public key PEM)",
                        algorithm_name(alg)
                    ),
                )
            })?;
            (
                pem::signing_key(alg, signing.expose())?,
                pem::verifying_key(alg, public)?,
            )
        };
        let public_jwk = if is_hmac(alg) {
            None
        } else {
            let public = settings.verifying_key().unwrap_or_default();
            Some(jwks::public_jwk(alg, &encoding, public)?)
        };
        let kid = public_jwk.as_ref().and_then(|j| j.common.key_id.clone());
        let jwks = jwks::document(public_jwk.into_iter().collect()).into();
        let header = format!("{{\"alg\":\"{}\",\"typ\":\"JWT\"}}", algorithm_name(alg));
        let hmac = if is_hmac(alg) {
            KeyedHmac::new(alg, signing.expose().as_bytes())
        } else {
            None
        };
        let keys = Keys {
            algorithm: alg,
            hmac,
            encoding,
            decoding,
            header_b64: b64(header.as_bytes()),
            kid,
            jwks,
        };
        keys.probe()?;
        Ok(keys)
    }

    /// Signs and verifies a probe message: catches a private key of the wrong
    /// kind or size, and a verifying key that is not its pair.
    fn probe(&self) -> Result<(), SettingsError> {
        let message = b"simplejwt key probe";
        let sig = crypto::sign(message, &self.encoding, self.algorithm).map_err(|e| {
            SettingsError::new(
                "SIGNING_KEY",
                format!("cannot sign with {}: {e}", algorithm_name(self.algorithm)),
            )
        })?;
        match crypto::verify(&sig, message, &self.decoding, self.algorithm) {
            Ok(true) => Ok(()),
            _ => Err(SettingsError::new(
                "VERIFYING_KEY",
                "does not verify signatures made with SIGNING_KEY (the keys are not a pair)",
            )),
        }
    }

    /// The pinned algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` of our verifying key (its RFC 7638 thumbprint), for
    /// asymmetric algorithms; `None` for HMAC.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The JWKS document: our public key, or no key for HMAC.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// base64url of the fixed header.
    pub(crate) fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// Signs `header.payload`, returning the base64url signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<String, jsonwebtoken::errors::Error> {
        match &self.hmac {
            Some(hmac) => Ok(hmac.sign(message)),
            None => crypto::sign(message, &self.encoding, self.algorithm),
        }
    }

    /// Checks a base64url signature over `header.payload`.
    pub(crate) fn verify(&self, signature: &str, message: &[u8]) -> bool {
        match &self.hmac {
            Some(hmac) => hmac.verify(signature, message),
            None => matches!(
                crypto::verify(signature, message, &self.decoding, self.algorithm),
                Ok(true)
            ),
        }
    }
}

/// base64url without padding (RFC 7515 §2).
fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn short_hmac_keys_are_refused_per_algorithm() {
        let k32 = "k".repeat(32);
        assert!(Keys::from_settings(&settings(&[("SIGNING_KEY", &k32)])).is_ok());
        let e = Keys::from_settings(&settings(&[("SIGNING_KEY", &"k".repeat(31))])).unwrap_err();
        assert_eq!(e.setting, "SIGNING_KEY");
        let e = Keys::from_settings(&settings(&[("SIGNING_KEY", &k32), ("ALGORITHM", "HS512")]))
            .unwrap_err();
        assert!(e.message.contains("64"), "{e}");
    }

    #[test]
    fn keyed_hmac_agrees_with_jsonwebtoken() {
        for alg in ["HS256", "HS384", "HS512"] {
            let secret = "s".repeat(64);
            let keys =
                Keys::from_settings(&settings(&[("SIGNING_KEY", &secret), ("ALGORITHM", alg)]))
                    .unwrap();
            let message = b"header.payload";
            let ours = keys.sign(message).unwrap();
            let theirs = crypto::sign(
                message,
                &EncodingKey::from_secret(secret.as_bytes()),
                keys.algorithm(),
            )
            .unwrap();
            assert_eq!(ours, theirs, "{alg}");
            assert!(keys.verify(&ours, message));
            assert!(!keys.verify(&ours, b"header.payloaD"));
            let mut tampered = ours.clone().into_bytes();
            tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
            assert!(!keys.verify(std::str::from_utf8(&tampered).unwrap(), message));
            assert!(!keys.verify(&format!("{ours}="), message));
            assert!(!keys.verify("", message));
            assert!(!keys.verify(&"A".repeat(200), message));
        }
    }

    #[test]
    fn missing_signing_key_is_refused() {
        assert_eq!(
            Keys::from_settings(&Settings::default())
                .unwrap_err()
                .setting,
            "SIGNING_KEY"
        );
    }

    #[test]
    fn header_is_byte_identical_to_pyjwt() {
        let keys = Keys::from_settings(&settings(&[("SIGNING_KEY", &"k".repeat(32))])).unwrap();
        assert_eq!(keys.header_b64(), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    }

    #[test]
    fn asymmetric_algorithms_need_a_verifying_key_and_valid_pem() {
        let e = Keys::from_settings(&settings(&[("SIGNING_KEY", "x"), ("ALGORITHM", "RS256")]))
            .unwrap_err();
        assert_eq!(e.setting, "VERIFYING_KEY");
        let e = Keys::from_settings(&settings(&[
            ("SIGNING_KEY", "not a pem"),
            ("VERIFYING_KEY", "not a pem"),
            ("ALGORITHM", "RS256"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "SIGNING_KEY");
    }
}
