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
//!
//! Several verification keys are selected by `kid` (the ring, [`Keys`]);
//! one of them signs. They come from `KEYS_DIR` ([`dir`]), which the
//! `simplejwt keys` commands manage for a zero-downtime rotation; a server
//! re-reads it on SIGHUP. The ring never holds a key of another algorithm.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{crypto, Algorithm, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

use jsonwebtoken::jwk::Jwk;

use crate::settings::{algorithm_name, Settings, SettingsError};

pub mod dir;
pub mod jwks;
pub mod leaked;
pub mod pem;
pub mod remote;

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

/// One key of the ring: what verifies (and, for the signing key, signs)
/// tokens that name it.
#[derive(Clone)]
pub(crate) struct Key {
    /// Its `kid`: the RFC 7638 thumbprint of an asymmetric key, the file
    /// name of an HMAC key in `KEYS_DIR`; `None` only for a lone HMAC
    /// `SIGNING_KEY`.
    kid: Option<String>,
    hmac: Option<KeyedHmac>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// base64url of the header tokens signed with this key carry:
    /// `{"alg":"<ALG>","typ":"JWT"}` (byte-identical to PyJWT's) for the key
    /// that verifies tokens without `kid`, else `{"alg":…,"kid":…,"typ":"JWT"}`
    /// (sorted keys, compact: what PyJWT writes for `headers={"kid": …}`).
    header_b64: String,
}

impl Key {
    /// Prepares one key for `alg` from a secret (HMAC) or a PEM pair, checked
    /// by a probe signature; `setting` names where the material came from in
    /// errors. `kid` is given for HMAC keys (asymmetric ones are named by
    /// their thumbprint) and `named` says whether the header carries it.
    fn new(
        alg: Algorithm,
        private: &str,
        public: Option<&str>,
        hmac_kid: Option<String>,
        named: bool,
        setting: &str,
    ) -> Result<(Self, Option<Jwk>), SettingsError> {
        let (encoding, decoding, hmac, jwk) = if is_hmac(alg) {
            let secret = private.as_bytes();
            if leaked::is_leaked(private) {
                return Err(SettingsError::new(
                    setting,
                    "is a publicly known example secret (found in lists of leaked JWT secrets): \
                     anyone can forge tokens with it; generate one with `simplejwt keygen`",
                ));
            }
            let min = min_hmac_key_len(alg);
            if secret.len() < min {
                return Err(SettingsError::new(
                    setting,
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
                KeyedHmac::new(alg, secret),
                None,
            )
        } else {
            let public = public.ok_or_else(|| match setting {
                "SIGNING_KEY" => SettingsError::new(
                    "VERIFYING_KEY",
                    format!(
                        "is required for {} (the public key PEM)",
                        algorithm_name(alg)
                    ),
                ),
                _ => SettingsError::new(
                    setting,
                    format!(
                        "has no public key file (<kid>.pub), which {} needs",
                        algorithm_name(alg)
                    ),
                ),
            })?;
            // Errors of a key file name the file's key, not SIGNING_KEY.
            let relabel = |e: SettingsError| match setting {
                "SIGNING_KEY" => e,
                _ => SettingsError::new(
                    setting,
                    format!(
                        "{}: {}",
                        if e.setting == "SIGNING_KEY" {
                            "private key (<kid>.key)"
                        } else {
                            "public key (<kid>.pub)"
                        },
                        e.message
                    ),
                ),
            };
            let encoding = pem::signing_key(alg, private).map_err(relabel)?;
            let decoding = pem::verifying_key(alg, public).map_err(relabel)?;
            let jwk = jwks::public_jwk(alg, &encoding, public).map_err(relabel)?;
            (encoding, decoding, None, Some(jwk))
        };
        let kid = match &jwk {
            Some(jwk) => jwk.common.key_id.clone(),
            None => hmac_kid,
        };
        let header = match (&kid, named) {
            (Some(kid), true) => format!(
                "{{\"alg\":\"{}\",\"kid\":{},\"typ\":\"JWT\"}}",
                algorithm_name(alg),
                serde_json::Value::from(kid.as_str())
            ),
            _ => format!("{{\"alg\":\"{}\",\"typ\":\"JWT\"}}", algorithm_name(alg)),
        };
        let key = Key {
            kid,
            hmac,
            encoding,
            decoding,
            header_b64: b64(header.as_bytes()),
        };
        key.probe(alg, setting)?;
        Ok((key, jwk))
    }

    /// Signs and verifies a probe message: catches a private key of the wrong
    /// kind or size, and a verifying key that is not its pair.
    fn probe(&self, alg: Algorithm, setting: &str) -> Result<(), SettingsError> {
        let message = b"simplejwt key probe";
        let sig = crypto::sign(message, &self.encoding, alg).map_err(|e| {
            SettingsError::new(
                setting,
                format!("cannot sign with {}: {e}", algorithm_name(alg)),
            )
        })?;
        match crypto::verify(&sig, message, &self.decoding, alg) {
            Ok(true) => Ok(()),
            _ if setting == "SIGNING_KEY" => Err(SettingsError::new(
                "VERIFYING_KEY",
                "does not verify signatures made with SIGNING_KEY (the keys are not a pair)",
            )),
            _ => Err(SettingsError::new(
                setting,
                "the public key does not verify signatures made with the private key \
                 (the files are not a pair)",
            )),
        }
    }

    /// The key's `kid`, if it has one.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// base64url of the header this key's tokens carry.
    pub(crate) fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// Checks a base64url signature over `header.payload` (allocation-free
    /// for HMAC; jsonwebtoken's verifier for the others).
    pub(crate) fn verify(&self, alg: Algorithm, signature: &str, message: &[u8]) -> bool {
        match &self.hmac {
            Some(hmac) => hmac.verify(signature, message),
            None => matches!(
                crypto::verify(signature, message, &self.decoding, alg),
                Ok(true)
            ),
        }
    }
}

/// The prepared keys for the configured algorithm: a small ring of
/// verification keys selected by `kid`, one of which signs.
///
/// Without `KEYS_DIR` the ring is the one `SIGNING_KEY` (/ `VERIFYING_KEY`)
/// pair and tokens carry no `kid` (simplejwt's header). With `KEYS_DIR` it is
/// every key in the directory ([`dir`]); tokens carry the signing key's
/// `kid`, except while the signing key is the one imported from the old
/// configuration, whose tokens stay byte-identical to before.
#[derive(Clone)]
pub struct Keys {
    algorithm: Algorithm,
    /// Every verification key; a handful at most (current, next, previous),
    /// so a linear scan by `kid` beats any map and allocates nothing.
    ring: Vec<Key>,
    /// Index of the signing key in `ring`.
    signing: usize,
    /// Index of the key that verifies tokens without a `kid`.
    kidless: usize,
    /// The JWKS document (`{"keys": []}` for HMAC).
    jwks: std::sync::Arc<str>,
    /// SHA-256 over every key's kid and material, in ring order: tells a
    /// reload that replaced a key under the same kid (an HMAC secret, whose
    /// kid is a name, not a thumbprint) from one that changed nothing.
    /// Compared, never shown.
    material: [u8; 32],
}

/// The fingerprint of a ring's key material ([`Keys::same_material`]).
fn material_digest<'a>(keys: impl Iterator<Item = (&'a str, &'a str)>) -> [u8; 32] {
    use sha2::Digest as _;
    let mut digest = Sha256::new();
    for (kid, material) in keys {
        for part in [kid.as_bytes(), material.as_bytes()] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part);
        }
    }
    digest.finalize().into()
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("algorithm", &self.algorithm)
            .field("kids", &self.kids().collect::<Vec<_>>())
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

/// The `kid` an asymmetric key pair gets: its public key's RFC 7638
/// thumbprint (SHA-256), as the JWKS publishes it. Errors name `setting`.
pub fn thumbprint_kid(
    alg: Algorithm,
    private_pem: &str,
    public_pem: &str,
) -> Result<String, SettingsError> {
    let (key, _) = Key::new(alg, private_pem, Some(public_pem), None, true, "KEYS_DIR")?;
    key.kid
        .ok_or_else(|| SettingsError::new("KEYS_DIR", "the key has no thumbprint"))
}

impl Keys {
    /// Prepares keys from `KEYS_DIR`, or from `SIGNING_KEY` / `VERIFYING_KEY`,
    /// for `ALGORITHM`. Errors name the setting (or the key file) at fault.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let alg = settings.algorithm();
        if let Some(path) = settings.keys_dir() {
            if settings.signing_key().is_some() {
                return Err(SettingsError::new(
                    "KEYS_DIR",
                    "is set together with SIGNING_KEY: keys come from one place \
                     (import SIGNING_KEY with `simplejwt keys init`, then unset it)",
                ));
            }
            let state = dir::KeyDir::new(path).read()?;
            return Self::from_dir(alg, &state);
        }
        let signing = settings
            .signing_key()
            .ok_or_else(|| SettingsError::new("SIGNING_KEY", "is not set"))?;
        let (key, jwk) = Key::new(
            alg,
            signing.expose(),
            settings.verifying_key(),
            None,
            false,
            "SIGNING_KEY",
        )?;
        Ok(Keys {
            algorithm: alg,
            ring: vec![key],
            signing: 0,
            kidless: 0,
            jwks: jwks::document(jwk.into_iter().collect()).into(),
            material: material_digest(std::iter::once(("", signing.expose()))),
        })
    }

    /// The ring of a key directory's contents.
    pub fn from_dir(alg: Algorithm, state: &dir::DirState) -> Result<Self, SettingsError> {
        let mut ring = Vec::with_capacity(state.keys.len());
        let mut jwks = Vec::new();
        for stored in &state.keys {
            let label = format!("KEYS_DIR ({})", stored.kid);
            let named = state.kidless.as_deref() != Some(stored.kid.as_str());
            let (key, jwk) = Key::new(
                alg,
                stored.private.expose(),
                stored.public.as_deref(),
                Some(stored.kid.clone()),
                named,
                &label,
            )?;
            if key.kid.as_deref() != Some(stored.kid.as_str()) {
                return Err(SettingsError::new(
                    &label,
                    format!(
                        "the key file is named {:?} but its thumbprint (its kid) is {:?}; \
                         add keys with `simplejwt keys add`",
                        stored.kid,
                        key.kid.unwrap_or_default()
                    ),
                ));
            }
            ring.push(key);
            jwks.extend(jwk);
        }
        let position = |kid: &str| ring.iter().position(|k| k.kid.as_deref() == Some(kid));
        let signing = position(&state.current).ok_or_else(|| {
            SettingsError::new(
                "KEYS_DIR",
                format!(
                    "the current key {:?} is not in the directory",
                    state.current
                ),
            )
        })?;
        let kidless = state
            .kidless
            .as_deref()
            .and_then(position)
            .unwrap_or(signing);
        Ok(Keys {
            algorithm: alg,
            ring,
            signing,
            kidless,
            jwks: jwks::document(jwks).into(),
            material: material_digest(
                state
                    .keys
                    .iter()
                    .map(|k| (k.kid.as_str(), k.private.expose())),
            ),
        })
    }

    /// Whether both rings hold the same keys under the same kids, byte for
    /// byte (a secret replaced under its kid is a change).
    pub fn same_material(&self, other: &Keys) -> bool {
        use subtle::ConstantTimeEq as _;
        bool::from(self.material.ct_eq(&other.material))
    }

    /// The pinned algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` of the signing key (an asymmetric key's RFC 7638
    /// thumbprint); `None` for a lone HMAC `SIGNING_KEY`.
    pub fn kid(&self) -> Option<&str> {
        self.ring[self.signing].kid()
    }

    /// The `kid` of every verification key, the signing key's among them.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.ring.iter().filter_map(Key::kid)
    }

    /// The JWKS document: every public verification key, or none for HMAC.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// base64url of the header the tokens we mint carry.
    pub(crate) fn header_b64(&self) -> &str {
        self.ring[self.signing].header_b64()
    }

    /// The key whose minted header is exactly `header_b64` (the fast path:
    /// our own tokens need no JSON parsing).
    pub(crate) fn by_header(&self, header_b64: &str) -> Option<&Key> {
        self.ring.iter().find(|k| k.header_b64 == header_b64)
    }

    /// The key named `kid`, if it is ours.
    pub(crate) fn by_kid(&self, kid: &str) -> Option<&Key> {
        self.ring.iter().find(|k| k.kid.as_deref() == Some(kid))
    }

    /// The key that verifies tokens without a `kid`.
    pub(crate) fn kidless(&self) -> &Key {
        &self.ring[self.kidless]
    }

    /// Signs `header.payload` with the signing key, returning the base64url signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<String, jsonwebtoken::errors::Error> {
        let key = &self.ring[self.signing];
        match &key.hmac {
            Some(hmac) => Ok(hmac.sign(message)),
            None => crypto::sign(message, &key.encoding, self.algorithm),
        }
    }

    /// Checks a base64url signature over `header.payload` with the signing key.
    #[cfg(test)]
    pub(crate) fn verify(&self, signature: &str, message: &[u8]) -> bool {
        self.ring[self.signing].verify(self.algorithm, signature, message)
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
