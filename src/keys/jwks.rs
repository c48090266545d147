//! The JWKS document (RFC 7517) published at `GET /.well-known/jwks.json`:
//! the public verifying key of an asymmetric `ALGORITHM`, with `kid` set to
//! its RFC 7638 thumbprint (SHA-256), `use: sig` and `alg`. HMAC secrets are
//! never published: with HS* the set is empty. Built once at start.

use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey};

use crate::settings::SettingsError;

/// The public JWK of the key pair, its `kid` set to its thumbprint.
pub fn public_jwk(
    alg: Algorithm,
    signing: &EncodingKey,
    verifying_pem: &str,
) -> Result<Jwk, SettingsError> {
    let mut jwk = match alg {
        Algorithm::EdDSA => Jwk {
            common: CommonParameters {
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: ed25519_public_x(verifying_pem)?,
            }),
        },
        _ => Jwk::from_encoding_key(signing, alg).map_err(|e| {
            SettingsError::new("SIGNING_KEY", format!("cannot derive its public JWK: {e}"))
        })?,
    };
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256));
    Ok(jwk)
}

/// The JWKS document of `keys`, serialized.
pub fn document(keys: Vec<Jwk>) -> String {
    serde_json::to_string(&JwkSet { keys }).unwrap_or_else(|_| r#"{"keys":[]}"#.to_owned())
}

/// The 32 raw public key bytes of an Ed25519 SPKI PEM (the last 32 of its
/// 44-byte DER), base64url.
fn ed25519_public_x(pem: &str) -> Result<String, SettingsError> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()
        .filter(|d| d.len() == 44)
        .ok_or_else(|| {
            SettingsError::new("VERIFYING_KEY", "is not an Ed25519 public key (SPKI)")
        })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der[12..]))
}
