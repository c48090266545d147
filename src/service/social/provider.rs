//! One configured OpenID Connect provider at run time: its discovery
//! document and keys, fetched with the `openidconnect` crate on first use
//! (a provider that is down makes the sign-in a 503, and the next request
//! tries again) and kept; the key set fetched again when an ID token names a
//! key (`kid`) we do not have — the provider rotated its keys — at most once
//! per [`KEY_REFETCH_INTERVAL`], so a stream of forged `kid`s cannot make us
//! hammer the provider.
//!
//! ID token validation is the crate's (OpenID Connect Core §3.1.3.7:
//! signature with the provider's keys, `iss`, `aud`, `exp`, `nonce`), plus
//! what it leaves to its callers: `azp`, and which audiences are ours.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreClient, CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::reqwest;
use openidconnect::{
    Audience, ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use tokio::sync::{Mutex, RwLock};

use crate::error::SocialError;
use crate::settings::OidcProvider;

/// The shortest time between two key-set fetches caused by an unknown `kid`.
pub const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// What a valid ID token tells about the person.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `email`, when given.
    pub email: Option<String>,
    /// `email_verified` is `true`.
    pub email_verified: bool,
    /// `preferred_username`, when given.
    pub preferred_username: Option<String>,
}

/// A provider: its settings, its discovered metadata and key set.
pub(crate) struct Provider {
    pub config: OidcProvider,
    issuer: IssuerUrl,
    /// Discovery document with its key set, once fetched.
    metadata: RwLock<Option<Arc<CoreProviderMetadata>>>,
    /// When an unknown `kid` last made us fetch the keys.
    last_refetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// Logs why the provider could not be used (never into a body).
fn unavailable(name: &str, what: &str, cause: impl std::fmt::Display) -> SocialError {
    tracing::warn!(provider = name, %cause, "OpenID provider unavailable: {what}");
    SocialError::ProviderUnavailable
}

impl Provider {
    pub fn new(config: OidcProvider) -> Result<Self, String> {
        let issuer = IssuerUrl::new(config.issuer.clone()).map_err(|e| e.to_string())?;
        Ok(Self {
            config,
            issuer,
            metadata: RwLock::new(None),
            last_refetch: Mutex::new(None),
        })
    }

    /// The discovery document (with keys), fetched on first use.
    pub async fn metadata(
        &self,
        http: &reqwest::Client,
    ) -> Result<Arc<CoreProviderMetadata>, SocialError> {
        if let Some(m) = self.metadata.read().await.as_ref() {
            return Ok(m.clone());
        }
        let mut slot = self.metadata.write().await;
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let discovered = CoreProviderMetadata::discover_async(self.issuer.clone(), http)
            .await
            .map_err(|e| unavailable(&self.config.name, "discovery", e))?;
        let discovered = Arc::new(discovered);
        *slot = Some(discovered.clone());
        Ok(discovered)
    }

    /// Fetches the key set again, unless that was done less than
    /// [`KEY_REFETCH_INTERVAL`] ago; `true` when the keys were refreshed.
    async fn refetch_keys(&self, http: &reqwest::Client) -> Result<bool, SocialError> {
        let mut last = self.last_refetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < KEY_REFETCH_INTERVAL) {
            return Ok(false);
        }
        *last = Some(Instant::now());
        let current = self.metadata(http).await?;
        let keys = CoreJsonWebKeySet::fetch_async(current.jwks_uri(), http)
            .await
            .map_err(|e| unavailable(&self.config.name, "key set", e))?;
        let updated = (*current).clone().set_jwks(keys);
        *self.metadata.write().await = Some(Arc::new(updated));
        tracing::info!(provider = %self.config.name, "OpenID provider keys refreshed");
        Ok(true)
    }

    /// The client ids whose ID tokens we accept: ours, then the apps'.
    fn audiences(&self, browser_only: bool) -> Vec<&str> {
        let mut ids = vec![self.config.client_id.as_str()];
        if !browser_only {
            ids.extend(self.config.mobile_client_ids.iter().map(String::as_str));
        }
        ids
    }

    /// A verifier for tokens whose audience is `client_id` (other audiences
    /// must be ours too), over `metadata`'s keys and algorithms.
    fn verifier<'a>(
        &'a self,
        metadata: &'a CoreProviderMetadata,
        client_id: &str,
        accepted: &'a [&'a str],
    ) -> CoreIdTokenVerifier<'a> {
        let id = ClientId::new(client_id.to_owned());
        let keys = metadata.jwks().clone();
        let verifier = match &self.config.client_secret {
            // HS* ID tokens are signed with our secret: only for our own client id.
            Some(secret) if client_id == self.config.client_id => {
                let secret = ClientSecret::new(secret.expose().to_owned());
                CoreIdTokenVerifier::new_confidential_client(id, secret, self.issuer.clone(), keys)
            }
            _ => CoreIdTokenVerifier::new_public_client(id, self.issuer.clone(), keys),
        };
        let algs: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|a| **a != CoreJwsSigningAlgorithm::None)
            .cloned()
            .collect();
        verifier
            .set_allowed_algs(algs)
            .set_other_audience_verifier_fn(move |aud: &Audience| accepted.contains(&aud.as_str()))
    }

    /// Validates an ID token (see the module doc). `nonce`: the value that
    /// must be its `nonce` claim, or `None` to accept any. `browser_only`:
    /// only our own client id is an accepted audience (the code flow);
    /// otherwise the apps' ids too (the token endpoint).
    pub async fn verify(
        &self,
        http: &reqwest::Client,
        id_token: &str,
        nonce: Option<&Nonce>,
        browser_only: bool,
    ) -> Result<VerifiedClaims, SocialError> {
        let token: CoreIdToken = id_token.parse().map_err(|e| {
            tracing::debug!(provider = %self.config.name, error = %e, "malformed ID token");
            SocialError::InvalidIdToken
        })?;
        let mut metadata = self.metadata(http).await?;
        let accepted = self.audiences(browser_only);
        let mut refetched = false;
        loop {
            match self.verify_with(&metadata, &token, nonce, &accepted) {
                Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )) if !refetched => {
                    refetched = true;
                    if self.refetch_keys(http).await? {
                        metadata = self.metadata(http).await?;
                        continue;
                    }
                    return Err(self.refused("no key matches its kid"));
                }
                Err(e) => return Err(self.refused(e)),
                Ok(claims) => return self.checked(claims, &accepted),
            }
        }
    }

    fn verify_with(
        &self,
        metadata: &CoreProviderMetadata,
        token: &CoreIdToken,
        nonce: Option<&Nonce>,
        accepted: &[&str],
    ) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
        let mut last = None;
        // The crate checks that `aud` holds the verifier's client id: try
        // each of ours (the audience check comes before any signature work).
        for client_id in accepted {
            let verifier = self.verifier(metadata, client_id, accepted);
            let result = match nonce {
                Some(expected) => token.claims(&verifier, expected),
                None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
            };
            match result {
                Ok(claims) => return Ok(claims.clone()),
                Err(e @ ClaimsVerificationError::InvalidAudience(_)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClaimsVerificationError::Other("no audience".into())))
    }

    /// `azp` (OpenID Connect Core §2): when present it must be one of our
    /// client ids; with several audiences it must be present.
    fn checked(
        &self,
        claims: CoreIdTokenClaims,
        accepted: &[&str],
    ) -> Result<VerifiedClaims, SocialError> {
        match claims.authorized_party() {
            Some(azp) if !accepted.contains(&azp.as_str()) => {
                return Err(self.refused("azp is not one of our client ids"))
            }
            None if claims.audiences().len() > 1 => {
                return Err(self.refused("several audiences and no azp"))
            }
            _ => {}
        }
        Ok(VerifiedClaims {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified() == Some(true),
            preferred_username: claims.preferred_username().map(|u| u.to_string()),
        })
    }

    fn refused(&self, why: impl std::fmt::Display) -> SocialError {
        tracing::info!(provider = %self.config.name, reason = %why, "ID token refused");
        SocialError::InvalidIdToken
    }

    /// A client of the browser flow, redirecting to our callback URL.
    pub fn client(
        &self,
        metadata: &CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        SocialError,
    > {
        let callback = self
            .config
            .callback_url
            .clone()
            .ok_or(SocialError::UnknownProvider)?;
        let redirect = openidconnect::RedirectUrl::new(callback)
            .map_err(|e| unavailable(&self.config.name, "callback_url", e))?;
        let secret = self
            .config
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose().to_owned()));
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect))
    }
}
