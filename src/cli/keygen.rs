//! `keygen`: a new HMAC secret, or a PEM key pair for RS*/PS*/ES*/EdDSA,
//! printed or written to files (private key readable by its owner only).

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use simplejwt::settings::{algorithm_name, parse_algorithm, Algorithm};

use super::{CliResult, Failure};

/// A new key: (private or secret, public).
pub(crate) fn generate(alg: Algorithm) -> CliResult<(String, Option<String>)> {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    let err = |e: &dyn std::fmt::Display| Failure::Runtime(format!("key generation failed: {e}"));
    let lf = Default::default();
    Ok(match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let mut bytes = [0u8; 64];
            OsRng.fill_bytes(&mut bytes);
            (
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
                None,
            )
        }
        Algorithm::ES256 => {
            let key = p256::SecretKey::random(&mut OsRng);
            (
                key.to_pkcs8_pem(lf).map_err(|e| err(&e))?.to_string(),
                Some(
                    key.public_key()
                        .to_public_key_pem(lf)
                        .map_err(|e| err(&e))?,
                ),
            )
        }
        Algorithm::ES384 => {
            let key = p384::SecretKey::random(&mut OsRng);
            (
                key.to_pkcs8_pem(lf).map_err(|e| err(&e))?.to_string(),
                Some(
                    key.public_key()
                        .to_public_key_pem(lf)
                        .map_err(|e| err(&e))?,
                ),
            )
        }
        Algorithm::EdDSA => {
            let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
            (
                key.to_pkcs8_pem(lf).map_err(|e| err(&e))?.to_string(),
                Some(
                    key.verifying_key()
                        .to_public_key_pem(lf)
                        .map_err(|e| err(&e))?,
                ),
            )
        }
        _ => {
            let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).map_err(|e| err(&e))?;
            (
                key.to_pkcs8_pem(lf).map_err(|e| err(&e))?.to_string(),
                Some(
                    key.to_public_key()
                        .to_public_key_pem(lf)
                        .map_err(|e| err(&e))?,
                ),
            )
        }
    })
}

/// Writes a file that only its owner can read.
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// `<prefix>.<suffix>`, keeping any dots already in the prefix (`jwt.2025` → `jwt.2025.key`).
fn with_suffix(prefix: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
}

pub(crate) fn run(algorithm: &str, out: Option<&Path>) -> CliResult {
    let alg = parse_algorithm(algorithm).map_err(Failure::Config)?;
    let (private, public) = generate(alg)?;
    let name = algorithm_name(alg);
    match out {
        None => {
            println!("# SIMPLE_JWT_ALGORITHM={name}");
            match &public {
                None => println!("SIMPLE_JWT_SIGNING_KEY={private}"),
                Some(public) => {
                    println!("# SIMPLE_JWT_SIGNING_KEY (private key):\n{private}");
                    println!("# SIMPLE_JWT_VERIFYING_KEY (public key):\n{public}");
                }
            }
        }
        Some(prefix) => {
            let key_path = with_suffix(prefix, "key");
            write_private(&key_path, &private).map_err(|e| {
                Failure::Runtime(format!("cannot write {}: {e}", key_path.display()))
            })?;
            eprintln!(
                "Wrote {} (SIMPLE_JWT_SIGNING_KEY_FILE, mode 0600)",
                key_path.display()
            );
            if let Some(public) = public {
                let pub_path = with_suffix(prefix, "pub");
                std::fs::write(&pub_path, public).map_err(|e| {
                    Failure::Runtime(format!("cannot write {}: {e}", pub_path.display()))
                })?;
                eprintln!(
                    "Wrote {} (SIMPLE_JWT_VERIFYING_KEY_FILE)",
                    pub_path.display()
                );
            }
            eprintln!("Set SIMPLE_JWT_ALGORITHM={name}");
        }
    }
    Ok(())
}
