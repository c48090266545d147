//! HTTPS termination: the certificate and key the server presents, loaded
//! from PEM files, checked before use and swapped on reload.
//!
//! Why here, below the router: TLS is a property of the connection, so the
//! serving loop ([`super::serve`]) runs the rustls handshake before handing
//! the stream to hyper; the router is the same over HTTP and HTTPS. Why
//! rustls: memory-safe, no system OpenSSL to match, and it does everything a
//! server needs here — we parse no TLS and no certificate by hand (PEM by
//! `rustls-pki-types`, the validity period by `x509-cert`).
//!
//! - TLS 1.2 and 1.3 only (rustls has nothing older), the `ring` provider's
//!   cipher suites; ALPN offers `h2` then `http/1.1`, and hyper-util's auto
//!   builder serves whichever was chosen.
//! - A pair is refused ([`TlsError`], naming the file) when the key is not
//!   the certificate's, the certificate has expired or is not valid yet, a file cannot be read
//!   or holds no PEM block of its kind, or the key file can be read by its
//!   group or others (Unix mode `& 0o077`): a private key others can read
//!   is no longer private.
//! - [`Tls::reload`] (run on SIGHUP) loads the files again: with the same
//!   checks, the new pair serves every handshake from then on; a failed one
//!   leaves the old pair in place. Established connections keep the keys
//!   they negotiated: a reload never touches them.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Marker the serving loop puts into the extensions of every request that
/// came over one of its TLS connections. Read by `http::client` (the one
/// place that decides whether a request came over HTTPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsConnection;

/// The two PEM files of a certificate: the chain (leaf first, then the
/// intermediates) and the leaf's private key (PKCS#8, PKCS#1 or SEC1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (`TLS_CERT_FILE`).
    pub cert: PathBuf,
    /// The private key (`TLS_KEY_FILE`).
    pub key: PathBuf,
}

/// Why a certificate and key cannot be served. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read (missing, no permission, …).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The certificate file holds no usable `CERTIFICATE` PEM block.
    #[error("{}: no certificate in it ({message})", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// What the PEM reader or the certificate parser said.
        message: String,
    },
    /// The key file holds no usable private-key PEM block, or a key type
    /// rustls cannot sign with.
    #[error("{}: no usable private key in it ({message})", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
        /// What the PEM reader or rustls said.
        message: String,
    },
    /// The key file can be read by its group or by others.
    #[error(
        "{}: the private key is readable by group or others (mode {mode:03o}); chmod 600 it",
        path.display()
    )]
    KeyReadableByOthers {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The leaf certificate's validity ended.
    #[error("{}: the certificate expired on {not_after}", path.display())]
    Expired {
        /// The certificate file.
        path: PathBuf,
        /// Its `notAfter`, as written in it (UTC).
        not_after: String,
    },
    /// The leaf certificate's validity has not begun (more than a minute
    /// ahead of this clock): clients would refuse it.
    #[error("{}: the certificate is not valid before {not_before}", path.display())]
    NotYetValid {
        /// The certificate file.
        path: PathBuf,
        /// Its `notBefore`, as written in it (UTC).
        not_before: String,
    },
    /// The key is not the leaf certificate's.
    #[error(
        "{} does not match {}: the private key is not the certificate's",
        key.display(),
        cert.display()
    )]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
}

/// The `Strict-Transport-Security` value sent on every HTTPS answer
/// (RFC 6797 §6.1): `max-age=N`, with `; includeSubDomains` when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hsts {
    /// `max-age`, in seconds (0 tells browsers to forget the policy).
    pub max_age: u64,
    /// Whether the policy covers the subdomains too.
    pub include_subdomains: bool,
}

impl Hsts {
    /// The header value.
    pub fn header_value(self) -> HeaderValue {
        let value = if self.include_subdomains {
            format!("max-age={}; includeSubDomains", self.max_age)
        } else {
            format!("max-age={}", self.max_age)
        };
        HeaderValue::try_from(value).expect("digits and ASCII letters are a valid header value")
    }
}

/// What the server terminates TLS with: the rustls configuration (whose
/// certificate can be swapped by [`Tls::reload`]) and the HSTS header.
pub struct Tls {
    acceptor: TlsAcceptor,
    current: Arc<CurrentCertificate>,
    hsts: HeaderValue,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("files", &self.current.files)
            .field("hsts", &self.hsts)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads and checks `files` (see [`TlsError`] for what is refused) and
    /// builds the rustls configuration: TLS 1.2 and 1.3, ALPN `h2` and
    /// `http/1.1`, no client certificates.
    pub fn new(files: TlsFiles, hsts: Hsts) -> Result<Self, TlsError> {
        let key = load(&files, SystemTime::now())?;
        let current = Arc::new(CurrentCertificate {
            files,
            key: RwLock::new(Arc::new(key)),
        });
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("the ring provider supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            current,
            hsts: hsts.header_value(),
        })
    }

    /// Loads the files again (SIGHUP). On success the new pair serves every
    /// handshake from now on; on failure the one in use stays and the error
    /// says why. Connections already established are not touched either way.
    /// Reads two small files in the calling thread.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = load(&self.current.files, SystemTime::now())?;
        *self
            .current
            .key
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
        Ok(())
    }

    /// [`Tls::reload`], with one log line saying how it went.
    pub fn reload_and_log(&self) {
        match self.reload() {
            Ok(()) => tracing::info!(
                cert = %self.current.files.cert.display(),
                "TLS certificate reloaded: new connections get the new one"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "TLS certificate reload refused; still serving the previous certificate"
            ),
        }
    }

    /// The acceptor new connections go through.
    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// The `Strict-Transport-Security` value for every answer.
    pub(crate) fn hsts(&self) -> &HeaderValue {
        &self.hsts
    }

    /// The files this server reads its certificate from.
    pub fn files(&self) -> &TlsFiles {
        &self.current.files
    }
}

/// The crypto provider: rustls' `ring` one, chosen here rather than
/// installed process-wide, so nothing else in the process is affected.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate handed to every handshake, swappable by a reload.
#[derive(Debug)]
struct CurrentCertificate {
    files: TlsFiles,
    key: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.key
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// Reads and checks a certificate chain and its key, as of `now`.
fn load(files: &TlsFiles, now: SystemTime) -> Result<CertifiedKey, TlsError> {
    let chain = read_chain(&files.cert)?;
    check_not_expired(&files.cert, &chain[0], now)?;
    check_key_permissions(&files.key)?;
    let key_pem = read(&files.key)?;
    let no_key = |message: String| TlsError::NoKey {
        path: files.key.clone(),
        message,
    };
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| no_key(e.to_string()))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| no_key(e.to_string()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|_| TlsError::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
    })?;
    Ok(certified)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Every `CERTIFICATE` block of the file, in order; at least one.
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::NoCertificate {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
            message: "no CERTIFICATE PEM block".into(),
        });
    }
    Ok(chain)
}

/// Refuses a leaf certificate whose `notAfter` is before `now`, or whose
/// `notBefore` is more than a minute after it.
fn check_not_expired(
    path: &Path,
    leaf: &CertificateDer<'_>,
    now: SystemTime,
) -> Result<(), TlsError> {
    use x509_cert::der::Decode as _;
    let cert = x509_cert::Certificate::from_der(leaf).map_err(|e| TlsError::NoCertificate {
        path: path.to_owned(),
        message: format!("not an X.509 certificate: {e}"),
    })?;
    let not_after = cert.tbs_certificate.validity.not_after;
    if SystemTime::UNIX_EPOCH + not_after.to_unix_duration() < now {
        return Err(TlsError::Expired {
            path: path.to_owned(),
            not_after: not_after.to_string(),
        });
    }
    // A minute of clock skew is tolerated: a certificate issued just now
    // by a CA whose clock runs ahead of ours is not refused.
    let not_before = cert.tbs_certificate.validity.not_before;
    if SystemTime::UNIX_EPOCH + not_before.to_unix_duration() > now + Duration::from_secs(60) {
        return Err(TlsError::NotYetValid {
            path: path.to_owned(),
            not_before: not_before.to_string(),
        });
    }
    Ok(())
}

/// Refuses a key file its group or others may read (Unix; elsewhere no check).
fn check_key_permissions(path: &Path) -> Result<(), TlsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(TlsError::KeyReadableByOthers {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for `localhost` and its key, as PEM.
    fn pair() -> (String, String) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        (cert.cert.pem(), cert.key_pair.serialize_pem())
    }

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    fn files(dir: &Path, (cert, key): &(String, String), key_mode: u32) -> TlsFiles {
        TlsFiles {
            cert: write(dir, "cert.pem", cert, 0o644),
            key: write(dir, "key.pem", key, key_mode),
        }
    }

    const HSTS: Hsts = Hsts {
        max_age: 60,
        include_subdomains: false,
    };

    #[test]
    fn a_matching_pair_loads() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path(), &pair(), 0o600);
        let tls = Tls::new(files, HSTS).unwrap();
        assert_eq!(tls.hsts(), "max-age=60");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = pair();
        let (_, other_key) = pair();
        let files = files(dir.path(), &(cert, other_key), 0o600);
        let e = Tls::new(files.clone(), HSTS).unwrap_err();
        assert!(matches!(e, TlsError::Mismatch { .. }), "{e}");
        let message = e.to_string();
        assert!(message.contains(&*files.key.to_string_lossy()), "{message}");
        assert!(
            message.contains(&*files.cert.to_string_lossy()),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o640, 0o604, 0o644] {
            let files = files(dir.path(), &pair(), mode);
            let e = Tls::new(files.clone(), HSTS).unwrap_err();
            assert!(matches!(e, TlsError::KeyReadableByOthers { .. }), "{e}");
            assert!(e.to_string().contains(&*files.key.to_string_lossy()), "{e}");
        }
    }

    /// A self-signed pair for `localhost` valid from 1 January `from` to
    /// 1 January `to`, installed in `dir`.
    fn valid_between(dir: &Path, from: i32, to: i32) -> TlsFiles {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        files(dir, &(cert.pem(), key.serialize_pem()), 0o600)
    }

    #[test]
    fn an_expired_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = valid_between(dir.path(), 2020, 2021);
        let e = Tls::new(files.clone(), HSTS).unwrap_err();
        assert!(matches!(e, TlsError::Expired { .. }), "{e}");
        assert!(
            e.to_string().contains(&*files.cert.to_string_lossy()),
            "{e}"
        );
        // the same pair as of a moment in its validity loads
        let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        assert!(load(&files, then).is_ok());
    }

    #[test]
    fn a_certificate_not_yet_valid_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = valid_between(dir.path(), 2040, 2041);
        let e = Tls::new(files.clone(), HSTS).unwrap_err();
        assert!(matches!(e, TlsError::NotYetValid { .. }), "{e}");
        assert!(
            e.to_string().contains(&*files.cert.to_string_lossy()),
            "{e}"
        );
    }

    #[test]
    fn files_without_pem_blocks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair();
        let files = files(dir.path(), &("not pem".into(), key.clone()), 0o600);
        assert!(matches!(
            Tls::new(files, HSTS),
            Err(TlsError::NoCertificate { .. })
        ));
        let files = self::files(dir.path(), &(cert, "not pem".into()), 0o600);
        assert!(matches!(Tls::new(files, HSTS), Err(TlsError::NoKey { .. })));
        let missing = TlsFiles {
            cert: dir.path().join("absent.pem"),
            key: dir.path().join("key.pem"),
        };
        assert!(matches!(
            Tls::new(missing, HSTS),
            Err(TlsError::Read { .. })
        ));
    }

    #[test]
    fn a_failed_reload_keeps_the_previous_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let first = pair();
        let files = files(dir.path(), &first, 0o600);
        let tls = Tls::new(files.clone(), HSTS).unwrap();
        let served = || tls.current.key.read().unwrap().cert[0].clone();
        let before = served();
        // a new certificate with the old key: refused, the old one stays
        let (second_cert, second_key) = pair();
        write(dir.path(), "cert.pem", &second_cert, 0o644);
        assert!(matches!(tls.reload(), Err(TlsError::Mismatch { .. })));
        assert_eq!(served(), before);
        // with its own key: served from now on
        write(dir.path(), "key.pem", &second_key, 0o600);
        tls.reload().unwrap();
        assert_ne!(served(), before);
        assert_eq!(
            served(),
            CertificateDer::from_pem_slice(second_cert.as_bytes()).unwrap()
        );
    }

    #[test]
    fn hsts_value() {
        let h = Hsts {
            max_age: 31_536_000,
            include_subdomains: true,
        };
        assert_eq!(h.header_value(), "max-age=31536000; includeSubDomains");
    }
}
