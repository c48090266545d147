//! Reading the PEM key formats operators hold. `jsonwebtoken` reads PKCS#8
//! (`PRIVATE KEY`), RSA PKCS#1 (`RSA PRIVATE KEY`, `RSA PUBLIC KEY`) and SPKI
//! (`PUBLIC KEY`); an EC key in SEC1 form (`EC PRIVATE KEY`, what `openssl
//! ecparam -genkey` writes and what PyJWT / the reference read) is converted
//! to PKCS#8 here first. A key in any other form is refused with an error that
//! names the form received and the forms this algorithm takes.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::settings::{algorithm_name, SettingsError};

/// The first PEM block that holds a key, from its `-----BEGIN` line on, and
/// its label (`PRIVATE KEY` in `-----BEGIN PRIVATE KEY-----`). An `EC
/// PARAMETERS` block before it (`openssl ecparam -genkey` without `-noout`)
/// is skipped. `None` when the text holds no PEM block.
pub fn key_block(text: &str) -> Option<(&str, &str)> {
    let mut rest = text;
    loop {
        let begin = rest.find("-----BEGIN ")?;
        let start = begin + "-----BEGIN ".len();
        let len = rest[start..].find("-----")?;
        let label = rest[start..start + len].trim();
        if label != "EC PARAMETERS" {
            return Some((label, &rest[begin..]));
        }
        rest = &rest[start + len..];
    }
}

/// The label of the first key block, or `None` when the text is not PEM.
pub fn label(text: &str) -> Option<&str> {
    key_block(text).map(|(label, _)| label)
}

/// What a PEM label means, for error messages.
fn describe(label: &str) -> &'static str {
    match label {
        "PRIVATE KEY" => "PKCS#8",
        "EC PRIVATE KEY" => "SEC1",
        "RSA PRIVATE KEY" | "RSA PUBLIC KEY" => "PKCS#1",
        "PUBLIC KEY" => "SPKI",
        "ENCRYPTED PRIVATE KEY" => "encrypted PKCS#8: decrypt it first",
        "CERTIFICATE" => "X.509 certificate: give its public key",
        "OPENSSH PRIVATE KEY" => "OpenSSH format: convert it with ssh-keygen -p -m PKCS8",
        _ => "unknown",
    }
}

/// The private key forms `alg` takes, as PEM labels with their standard.
fn private_forms(alg: Algorithm) -> &'static [&'static str] {
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => &["PRIVATE KEY", "EC PRIVATE KEY"],
        Algorithm::EdDSA => &["PRIVATE KEY"],
        _ => &["RSA PRIVATE KEY", "PRIVATE KEY"],
    }
}

/// The public key forms `alg` takes.
fn public_forms(alg: Algorithm) -> &'static [&'static str] {
    match alg {
        Algorithm::ES256 | Algorithm::ES384 | Algorithm::EdDSA => &["PUBLIC KEY"],
        _ => &["PUBLIC KEY", "RSA PUBLIC KEY"],
    }
}

fn forms_text(forms: &[&str]) -> String {
    let each: Vec<String> = forms
        .iter()
        .map(|l| format!("`{l}` ({})", describe(l)))
        .collect();
    each.join(" or ")
}

/// Refuses a key whose form `alg` does not take, naming both.
fn check_form(
    setting: &str,
    alg: Algorithm,
    text: &str,
    forms: &[&str],
) -> Result<(), SettingsError> {
    let accepted = forms_text(forms);
    match label(text) {
        Some(l) if forms.contains(&l) => Ok(()),
        Some(l) => Err(SettingsError::new(
            setting,
            format!(
                "is a PEM `{l}` key ({}); {} takes {accepted}",
                describe(l),
                algorithm_name(alg)
            ),
        )),
        None => Err(SettingsError::new(
            setting,
            format!(
                "is not a PEM key (no -----BEGIN line); {} takes {accepted}",
                algorithm_name(alg)
            ),
        )),
    }
}

fn unreadable(
    setting: &str,
    alg: Algorithm,
    text: &str,
    e: impl std::fmt::Display,
) -> SettingsError {
    let l = label(text).unwrap_or_default();
    SettingsError::new(
        setting,
        format!(
            "is a PEM `{l}` ({}) key that {} cannot read: {e} (a key of another algorithm or curve?)",
            describe(l),
            algorithm_name(alg)
        ),
    )
}

/// The signing key of an asymmetric `alg` from `SIGNING_KEY`'s PEM text.
pub fn signing_key(alg: Algorithm, text: &str) -> Result<EncodingKey, SettingsError> {
    const SETTING: &str = "SIGNING_KEY";
    check_form(SETTING, alg, text, private_forms(alg))?;
    let bad = |e: &dyn std::fmt::Display| unreadable(SETTING, alg, text, e);
    match alg {
        Algorithm::ES256 | Algorithm::ES384 if label(text) == Some("EC PRIVATE KEY") => {
            let block = key_block(text).map_or(text, |(_, block)| block);
            let der = sec1_to_pkcs8(alg, block).map_err(|e| bad(&e))?;
            Ok(EncodingKey::from_ec_der(&der))
        }
        Algorithm::ES256 | Algorithm::ES384 => {
            EncodingKey::from_ec_pem(text.as_bytes()).map_err(|e| bad(&e))
        }
        Algorithm::EdDSA => EncodingKey::from_ed_pem(text.as_bytes()).map_err(|e| bad(&e)),
        _ => EncodingKey::from_rsa_pem(text.as_bytes()).map_err(|e| bad(&e)),
    }
}

/// The verifying key of an asymmetric `alg` from `VERIFYING_KEY`'s PEM text.
pub fn verifying_key(alg: Algorithm, text: &str) -> Result<DecodingKey, SettingsError> {
    const SETTING: &str = "VERIFYING_KEY";
    check_form(SETTING, alg, text, public_forms(alg))?;
    let bad = |e: jsonwebtoken::errors::Error| unreadable(SETTING, alg, text, e);
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => {
            DecodingKey::from_ec_pem(text.as_bytes()).map_err(bad)
        }
        Algorithm::EdDSA => DecodingKey::from_ed_pem(text.as_bytes()).map_err(bad),
        _ => DecodingKey::from_rsa_pem(text.as_bytes()).map_err(bad),
    }
}

/// A SEC1 `EC PRIVATE KEY` as PKCS#8 DER, on the curve of `alg`.
fn sec1_to_pkcs8(alg: Algorithm, text: &str) -> Result<Vec<u8>, String> {
    use p256::pkcs8::EncodePrivateKey as _;
    let doc = match alg {
        Algorithm::ES256 => p256::SecretKey::from_sec1_pem(text)
            .map_err(|_| "not a P-256 (prime256v1) key".to_owned())?
            .to_pkcs8_der(),
        _ => p384::SecretKey::from_sec1_pem(text)
            .map_err(|_| "not a P-384 (secp384r1) key".to_owned())?
            .to_pkcs8_der(),
    }
    .map_err(|e| e.to_string())?;
    Ok(doc.as_bytes().to_vec())
}
