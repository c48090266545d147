//! `keygen`: a new HMAC secret, or a PEM key pair for RS*/PS*/ES*/EdDSA,
//! printed or written to files (private key readable by its owner only);
//! with `--tls-cert`, a self-signed TLS certificate for local development
//! (rcgen: ECDSA P-256, for the given host names), so trying HTTPS needs no
//! `openssl` command line.

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

/// The names a development certificate is for when none is given.
const DEFAULT_TLS_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A self-signed certificate (ECDSA P-256) for `hosts` (DNS names or IP
/// addresses; default [`DEFAULT_TLS_HOSTS`]), valid from now for `days`,
/// and its key, both PEM: (certificate, key).
pub(crate) fn self_signed_cert(hosts: &[String], days: u32) -> CliResult<(String, String)> {
    let err = |e: rcgen::Error| Failure::Runtime(format!("certificate generation failed: {e}"));
    let hosts: Vec<String> = if hosts.is_empty() {
        DEFAULT_TLS_HOSTS.iter().map(|h| (*h).to_owned()).collect()
    } else {
        hosts.to_vec()
    };
    let mut params = rcgen::CertificateParams::new(hosts.clone()).map_err(err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hosts[0].clone());
    let now = rcgen::date_time_ymd(1970, 1, 1)
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
    params.not_before = now;
    params.not_after = now + std::time::Duration::from_secs(u64::from(days) * 86_400);
    let key = rcgen::KeyPair::generate().map_err(err)?;
    let cert = params.self_signed(&key).map_err(err)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// `keygen --tls-cert --out PREFIX`: writes `PREFIX.crt` and `PREFIX.key`
/// (mode 0600, never overwriting either).
pub(crate) fn run_tls_cert(prefix: &Path, hosts: &[String], days: u32) -> CliResult {
    let (cert, key) = self_signed_cert(hosts, days)?;
    let cert_path = with_suffix(prefix, "crt");
    let key_path = with_suffix(prefix, "key");
    for path in [&cert_path, &key_path] {
        if path.exists() {
            return Err(Failure::Runtime(format!(
                "{} exists; not overwritten",
                path.display()
            )));
        }
    }
    write_private(&key_path, &key)
        .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", key_path.display())))?;
    std::fs::write(&cert_path, cert)
        .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", cert_path.display())))?;
    eprintln!(
        "Wrote {} and {} (mode 0600): a self-signed certificate for local development, valid {days} days.\n\
         Serve HTTPS with SIMPLEJWT_TLS_CERT_FILE={} SIMPLEJWT_TLS_KEY_FILE={}",
        cert_path.display(),
        key_path.display(),
        cert_path.display(),
        key_path.display(),
    );
    Ok(())
}
