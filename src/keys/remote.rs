//! `JWK_URL`: verification keys published by another issuer (an identity
//! provider) as a JWKS, fetched over HTTP(S) — simplejwt's `PyJWKClient`,
//! with PyJWT's numbers (keys cached for 300 s, fetched again on an unknown
//! `kid` at most every 30 s) but a 5 s timeout instead of 30 and a size
//! bound, so a slow or hostile URL cannot hold requests or memory.
//!
//! Unlike simplejwt, which then verifies every token with the fetched keys
//! and so refuses its own (they carry no `kid`), the remote keys are only
//! consulted for a `kid` that none of our keys has: our tokens keep
//! verifying ([`crate::token::TokenBackend`]).
//!
//! Only keys of the configured algorithm family are taken (an RSA key for
//! RS*/PS*, a P-256/P-384 key for ES*, an Ed25519 key for EdDSA), with a
//! `kid`, no `use` other than `sig`, and no `alg` other than `ALGORITHM`:
//! a JWKS cannot widen what the server accepts. A fetch that fails keeps
//! nothing stale: past the cache time, its tokens are refused until a fetch
//! succeeds (as PyJWT).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{crypto, Algorithm, DecodingKey};

/// Longest a fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JWKS document read, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long fetched keys are used before they are fetched again (PyJWT's lifespan).
pub const CACHE_FOR: Duration = Duration::from_secs(300);
/// Least time between two fetches, whatever tokens arrive (PyJWT's cooldown).
pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
/// Most keys taken from one document.
const MAX_KEYS: usize = 32;

/// The keys of one fetch.
struct Fetched {
    at: Option<Instant>,
    keys: Vec<(String, DecodingKey)>,
}

/// `JWK_URL`'s keys, cached. Cheap to share (one per service).
pub struct RemoteJwks {
    url: String,
    alg: Algorithm,
    client: Option<reqwest::Client>,
    fetched: ArcSwap<Fetched>,
    /// When the last fetch started; held during a fetch so that concurrent
    /// requests wait for it instead of fetching too.
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Why a fetch failed (logged, never shown to a client).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No HTTP client could be built (TLS setup).
    #[error("no HTTP client")]
    NoClient,
    /// The request failed or timed out.
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    /// A status other than 2xx.
    #[error("answered {0}")]
    Status(u16),
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    /// Not a JWKS.
    #[error("not a JWK set")]
    NotJwks,
}

impl RemoteJwks {
    /// A cache for `url`, taking keys for `alg`; nothing is fetched yet.
    pub fn new(url: &str, alg: Algorithm) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| tracing::error!(error = %e, "JWK_URL: cannot build an HTTP client"))
            .ok();
        Self {
            url: url.to_owned(),
            alg,
            client,
            fetched: ArcSwap::from_pointee(Fetched {
                at: None,
                keys: Vec::new(),
            }),
            last_attempt: tokio::sync::Mutex::new(None),
        }
    }

    /// Checks `signature` over `message` with the cached key named `kid`:
    /// `None` when no fresh cached key has that kid.
    pub fn verify(&self, kid: &str, signature: &str, message: &[u8]) -> Option<bool> {
        let fetched = self.fetched.load();
        if fetched.at.is_none_or(|at| at.elapsed() >= CACHE_FOR) {
            return None;
        }
        let (_, key) = fetched.keys.iter().find(|(k, _)| k == kid)?;
        Some(matches!(
            crypto::verify(signature, message, key, self.alg),
            Ok(true)
        ))
    }

    /// The kids of the cached keys (fresh or not).
    pub fn kids(&self) -> Vec<String> {
        self.fetched
            .load()
            .keys
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Fetches the JWKS again unless a fetch started less than
    /// [`REFETCH_COOLDOWN`] ago; concurrent callers wait for one fetch. A
    /// failure is logged and leaves the previous keys, which go stale at
    /// their time.
    pub async fn refresh(&self) {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < REFETCH_COOLDOWN) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "JWK_URL: fetched the key set");
                self.fetched.store(Arc::new(Fetched {
                    at: Some(Instant::now()),
                    keys,
                }));
            }
            Err(e) => tracing::warn!(url = %self.url, error = %e, "JWK_URL: fetch failed"),
        }
    }

    async fn fetch(&self) -> Result<Vec<(String, DecodingKey)>, FetchError> {
        let client = self.client.as_ref().ok_or(FetchError::NoClient)?;
        let mut response = client.get(&self.url).send().await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        parse(&body, self.alg)
    }
}

/// The usable keys of a JWKS document for `alg` (see the module doc);
/// keys of other families, without `kid`, or unreadable are skipped.
pub fn parse(document: &[u8], alg: Algorithm) -> Result<Vec<(String, DecodingKey)>, FetchError> {
    let value: serde_json::Value =
        serde_json::from_slice(document).map_err(|_| FetchError::NotJwks)?;
    let list = value
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or(FetchError::NotJwks)?;
    let mut keys = Vec::new();
    for raw in list.iter().take(MAX_KEYS) {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw.clone()) else {
            continue;
        };
        if let Some((kid, key)) = usable(&jwk, alg) {
            keys.push((kid, key));
        }
    }
    Ok(keys)
}

fn usable(jwk: &Jwk, alg: Algorithm) -> Option<(String, DecodingKey)> {
    let kid = jwk.common.key_id.clone()?;
    if kid.len() > 256 {
        return None;
    }
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if jwk
        .common
        .key_algorithm
        .is_some_and(|a| a.to_string() != crate::settings::algorithm_name(alg))
    {
        return None;
    }
    let family = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512)
        | (AlgorithmParameters::RSA(_), Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512)
        | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => {
            p.curve == jsonwebtoken::jwk::EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => {
            p.curve == jsonwebtoken::jwk::EllipticCurve::P384
        }
        _ => false,
    };
    if !family {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, key))
}
