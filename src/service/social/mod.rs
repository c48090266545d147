//! Social login (issue 21): sign in with an OpenID Connect provider and get
//! the same token pair — the same session — as a password login
//! (`AuthService::issue_pair`, `obtain.rs`), so the rest of the API does
//! not care how a user signed in.
//!
//! Two ways in, one rule for who the person is:
//!
//! - **Token flow** (native and single-page apps, what dj-rest-auth's social
//!   login view offers Django teams): the app got an ID token from the
//!   provider's SDK and posts it; [`AuthService::sign_in_with_id_token`].
//! - **Browser flow** (authorization code + PKCE S256):
//!   [`AuthService::start_browser_sign_in`] records `state`, `nonce` and the
//!   PKCE verifier server-side under the hash of a random key that only the
//!   browser holds (in a short-lived cookie), so they are single-use and
//!   bound to that browser; [`AuthService::finish_browser_sign_in`] takes
//!   that record (once), exchanges the code and validates the ID token, then
//!   answers the pair (for cookies) or a one-time code that the page
//!   exchanges for it ([`AuthService::exchange_sign_in_code`]) — never a
//!   token in a URL.
//!
//! Who: the identity (issuer, subject) names the local user. A new identity
//! is linked to an existing account only when the provider asserts the
//! e-mail address verified and `link_by_email` is on for that provider;
//! with an account of that address otherwise, the sign-in is refused (409,
//! no takeover); without one, a new account is created with an unusable
//! password (Django's `!` form). Every failure changes nothing.

mod provider;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, LoginHint, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope,
    TokenResponse,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthService, ClientInfo, EventKind, TokenPair};
use crate::error::{AuthError, SocialError};
use crate::settings::Settings;
use crate::store::{Identity, NewIdentity, NewUser, StoreError, User};
use crate::token::Timestamp;

pub use provider::KEY_REFETCH_INTERVAL;
use provider::{Provider, VerifiedClaims};

/// How long a started browser sign-in may take (its cookie's `Max-Age`).
pub const FLOW_LIFETIME: Duration = Duration::from_secs(600);
/// How long the one-time code of the browser flow can be exchanged.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// Longest ID token, nonce or code accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 16 * 1024;

const FLOW: &str = "flow";
const CODE: &str = "code";

/// The configured providers at run time, and the HTTP client that talks to
/// them (no redirects followed: a provider's answer is never a way to make
/// us fetch another URL).
pub(crate) struct SocialLogin {
    providers: HashMap<String, Arc<Provider>>,
    http: openidconnect::reqwest::Client,
}

impl SocialLogin {
    /// From `OIDC_PROVIDERS`; `None` when it is empty.
    pub(crate) fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        if settings.oidc_providers().is_empty() {
            return Ok(None);
        }
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut providers = HashMap::new();
        for config in settings.oidc_providers() {
            let provider = Provider::new(config.clone())?;
            providers.insert(config.name.clone(), Arc::new(provider));
        }
        Ok(Some(Self { providers, http }))
    }
}

/// What the browser flow's start hands the HTTP layer.
#[derive(Debug, Clone)]
pub struct BrowserStart {
    /// Where to send the browser: the provider's authorization endpoint.
    pub authorize_url: String,
    /// The random key binding the flow to this browser (for its cookie).
    pub flow_key: String,
}

/// How the browser flow ends.
#[derive(Debug, Clone)]
pub enum BrowserFinish {
    /// Cookie mode (`AUTH_COOKIE`): the pair, for cookies; then go to `redirect_to`.
    Pair {
        /// The tokens.
        pair: TokenPair,
        /// The page to send the browser back to (one of the allowed list).
        redirect_to: String,
    },
    /// Otherwise: `redirect_to` carries a one-time code for
    /// `POST /api/oidc/exchange/`.
    Code {
        /// The allowed page with `oidc_code=<code>` added to its query.
        redirect_to: String,
    },
}

/// A started browser sign-in, as stored (server-side, under the hash of
/// the browser's key).
#[derive(Serialize, Deserialize)]
struct Flow {
    provider: String,
    state: String,
    nonce: String,
    pkce_verifier: String,
    redirect_to: String,
}

/// A one-time code's record: who signed in.
#[derive(Serialize, Deserialize)]
struct Grant {
    user_id: i64,
}

/// 32 random bytes, base64url: flow keys and one-time codes.
fn random_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a key: its SHA-256, hex (a leaked table finishes no flow).
fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Django's unusable password (`make_password(None)`): `!` and 40 random
/// characters; no password verifies against it.
fn unusable_password() -> String {
    format!("!{}", &random_key()[..40])
}

/// Whether a stored hash is a usable password (one way to sign in).
fn has_password(user: &User) -> bool {
    !user.password.is_empty() && !user.password.starts_with('!')
}

/// The unlinking rule, for the service and the CLI alike: the identity must
/// be the user's ([`SocialError::NoSuchIdentity`]) and must not be their last
/// way to sign in — no usable password and no other identity
/// ([`SocialError::LastSignInMethod`]).
pub fn may_unlink(
    user: &User,
    identities: &[Identity],
    identity_id: i64,
) -> Result<(), SocialError> {
    if !identities
        .iter()
        .any(|i| i.id == identity_id && i.user_id == user.id)
    {
        return Err(SocialError::NoSuchIdentity);
    }
    if identities.len() == 1 && !has_password(user) {
        return Err(SocialError::LastSignInMethod);
    }
    Ok(())
}

/// A username from what the provider says (Django's username characters:
/// letters, digits and `@.+-_`), at most 30 characters; `user` if nothing
/// usable remains.
fn username_base(claims: &VerifiedClaims) -> String {
    let source = claims
        .preferred_username
        .as_deref()
        .or_else(|| claims.email.as_deref().and_then(|e| e.split('@').next()))
        .unwrap_or("");
    let cleaned: String = source
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "@.+-_".contains(*c))
        .take(30)
        .collect();
    if cleaned.is_empty() {
        "user".into()
    } else {
        cleaned
    }
}

impl AuthService {
    fn social(&self) -> Result<&SocialLogin, SocialError> {
        self.inner
            .social
            .as_ref()
            .ok_or(SocialError::UnknownProvider)
    }

    fn provider(&self, name: &str) -> Result<(&SocialLogin, &Provider), SocialError> {
        let social = self.social()?;
        let provider = social
            .providers
            .get(name)
            .ok_or(SocialError::UnknownProvider)?;
        Ok((social, provider))
    }

    /// The token flow's ID token from an app, verified by `provider` (see
    /// [`Provider::verify`]); oversized input is refused before any work.
    async fn verified_id_token(
        &self,
        provider: &str,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<(&Provider, VerifiedClaims), AuthError> {
        let (social, provider) = self.provider(provider)?;
        if id_token.len() > MAX_INPUT_BYTES || nonce.is_some_and(|n| n.len() > MAX_INPUT_BYTES) {
            return Err(SocialError::InvalidIdToken.into());
        }
        let nonce = nonce.map(|n| Nonce::new(n.to_owned()));
        let claims = provider
            .verify(&social.http, id_token, nonce.as_ref(), false)
            .await?;
        Ok((provider, claims))
    }

    /// Whether any OpenID Connect provider is configured (the routes are
    /// mounted only then).
    pub fn social_login_enabled(&self) -> bool {
        self.inner.social.is_some()
    }

    /// Fetches every provider's discovery document now (at server start),
    /// so the first sign-in does not wait for it; a provider that is down is
    /// logged and tried again on first use.
    pub async fn discover_providers(&self) {
        let Ok(social) = self.social() else { return };
        for provider in social.providers.values() {
            let _ = provider.metadata(&social.http).await;
        }
    }

    /// The token flow: validates an ID token the app got from `provider`
    /// (signature, `iss`, `aud` = our or an app's client id, `exp`, `azp`,
    /// and `nonce` when given), finds or creates the user and answers the
    /// pair, exactly as a password login.
    pub async fn sign_in_with_id_token(
        &self,
        provider: &str,
        id_token: &str,
        nonce: Option<&str>,
        client: &ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let (provider, claims) = self.verified_id_token(provider, id_token, nonce).await?;
        let user = self.user_for_identity(provider, &claims).await?;
        self.social_pair(&user, client).await
    }

    /// Starts the browser flow: `redirect_to` must be one of the provider's
    /// `redirect_uris` (its first when `None`); `login_hint` is passed on.
    pub async fn start_browser_sign_in(
        &self,
        provider: &str,
        redirect_to: Option<&str>,
        login_hint: Option<&str>,
    ) -> Result<BrowserStart, AuthError> {
        let (social, provider) = self.provider(provider)?;
        let config = &provider.config;
        if !config.browser_flow() {
            return Err(SocialError::UnknownProvider.into());
        }
        let redirect_to = match redirect_to {
            None => config.redirect_uris[0].clone(),
            Some(asked) => config
                .redirect_uris
                .iter()
                .find(|allowed| *allowed == asked)
                .cloned()
                .ok_or(SocialError::RedirectNotAllowed)?,
        };
        let metadata = provider.metadata(&social.http).await?;
        let client = provider.client(&metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in config.scopes_with_openid().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        if let Some(hint) = login_hint.filter(|h| !h.is_empty() && h.len() <= 256) {
            request = request.set_login_hint(LoginHint::new(hint.to_owned()));
        }
        let (url, state, nonce) = request.url();
        let flow = Flow {
            provider: config.name.clone(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            redirect_to,
        };
        let flow_key = random_key();
        let payload = serde_json::to_string(&flow).map_err(|_| AuthError::Internal)?;
        let now = Timestamp::now().epoch();
        let expires = now + FLOW_LIFETIME.as_secs() as i64;
        self.inner
            .database
            .put_pending(&key_hash(&flow_key), FLOW, &payload, expires, now)
            .await?;
        Ok(BrowserStart {
            authorize_url: url.to_string(),
            flow_key,
        })
    }

    /// Finishes the browser flow at the callback: takes the flow that
    /// `flow_key` (the browser's cookie) names — once —, checks `state`,
    /// exchanges `code` (with the PKCE verifier) and validates the ID token
    /// (our client id, the flow's nonce). `error`: the provider's `error`
    /// parameter; `iss`: its `iss` parameter, which must be this provider's
    /// issuer when present (RFC 9207: a code from another provider is not
    /// exchanged here). The flow is used up whatever the outcome.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_browser_sign_in(
        &self,
        provider: &str,
        flow_key: Option<&str>,
        state: Option<&str>,
        code: Option<&str>,
        error: Option<&str>,
        iss: Option<&str>,
        client: &ClientInfo,
    ) -> Result<BrowserFinish, AuthError> {
        let (social, provider) = self.provider(provider)?;
        let flow_key = flow_key
            .filter(|k| k.len() <= 256)
            .ok_or(SocialError::InvalidState)?;
        let now = Timestamp::now().epoch();
        let payload = self
            .inner
            .database
            .take_pending(&key_hash(flow_key), FLOW, now)
            .await?
            .ok_or(SocialError::InvalidState)?;
        let flow: Flow = serde_json::from_str(&payload).map_err(|_| AuthError::Internal)?;
        let state_ok = state.is_some_and(|s| bool::from(s.as_bytes().ct_eq(flow.state.as_bytes())));
        let iss_ok = iss.is_none_or(|i| i == provider.config.issuer);
        if flow.provider != provider.config.name || !state_ok || !iss_ok {
            return Err(SocialError::InvalidState.into());
        }
        if let Some(error) = error {
            tracing::info!(provider = %flow.provider, error = %error.chars().take(64).collect::<String>(),
                "the provider refused the sign-in");
            return Err(SocialError::ProviderRefused.into());
        }
        let code = code
            .filter(|c| !c.is_empty() && c.len() <= MAX_INPUT_BYTES)
            .ok_or(SocialError::InvalidCode)?;
        let metadata = provider.metadata(&social.http).await?;
        let oidc = provider.client(&metadata)?;
        let exchange = oidc
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| {
                tracing::warn!(provider = %flow.provider, error = %e, "no token endpoint");
                SocialError::ProviderUnavailable
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()));
        let response = exchange.request_async(&social.http).await.map_err(|e| {
            use openidconnect::RequestTokenError as E;
            match e {
                E::ServerResponse(answer) => {
                    tracing::info!(provider = %flow.provider, error = %answer.error(),
                        "the provider refused the code");
                    SocialError::InvalidCode
                }
                other => {
                    tracing::warn!(provider = %flow.provider, error = %other,
                        "OpenID provider unavailable: code exchange");
                    SocialError::ProviderUnavailable
                }
            }
        })?;
        let id_token = response.id_token().ok_or_else(|| {
            tracing::warn!(provider = %flow.provider, "the token response has no ID token");
            SocialError::ProviderUnavailable
        })?;
        let nonce = Nonce::new(flow.nonce.clone());
        let claims = provider
            .verify(&social.http, &id_token.to_string(), Some(&nonce), true)
            .await?;
        let user = self.user_for_identity(provider, &claims).await?;
        if self.settings().auth_cookie() {
            let pair = self.social_pair(&user, client).await?;
            return Ok(BrowserFinish::Pair {
                pair,
                redirect_to: flow.redirect_to,
            });
        }
        let code = random_key();
        let grant =
            serde_json::to_string(&Grant { user_id: user.id }).map_err(|_| AuthError::Internal)?;
        let expires = now + CODE_LIFETIME.as_secs() as i64;
        self.inner
            .database
            .put_pending(&key_hash(&code), CODE, &grant, expires, now)
            .await?;
        let mut redirect_to =
            openidconnect::url::Url::parse(&flow.redirect_to).map_err(|_| AuthError::Internal)?;
        redirect_to
            .query_pairs_mut()
            .append_pair("oidc_code", &code);
        Ok(BrowserFinish::Code {
            redirect_to: redirect_to.to_string(),
        })
    }

    /// Exchanges the browser flow's one-time code (once, within
    /// [`CODE_LIFETIME`]) for the pair; the session starts now.
    pub async fn exchange_sign_in_code(
        &self,
        code: &str,
        client: &ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        self.social()?;
        if code.len() > 256 {
            return Err(SocialError::InvalidCode.into());
        }
        let now = Timestamp::now().epoch();
        let grant = self
            .inner
            .database
            .take_pending(&key_hash(code), CODE, now)
            .await?
            .ok_or(SocialError::InvalidCode)?;
        let grant: Grant = serde_json::from_str(&grant).map_err(|_| AuthError::Internal)?;
        let user = self
            .inner
            .database
            .user_by_id(grant.user_id)
            .await?
            .filter(|u| u.is_active)
            .ok_or(AuthError::NoActiveAccount)?;
        self.social_pair(&user, client).await
    }

    /// The pair of a social sign-in, reported as a login.
    async fn social_pair(&self, user: &User, client: &ClientInfo) -> Result<TokenPair, AuthError> {
        let pair = self.issue_pair(user, client).await?;
        self.emit_detail(
            EventKind::LoginSucceeded,
            Some(user.id),
            Some(&user.username),
            client,
            Some("social login (OpenID Connect)"),
        );
        Ok(pair)
    }

    /// Finds the user of a verified identity, linking or creating as the
    /// module doc says. An inactive user is [`AuthError::NoActiveAccount`].
    async fn user_for_identity(
        &self,
        provider: &Provider,
        claims: &VerifiedClaims,
    ) -> Result<User, AuthError> {
        let db = &self.inner.database;
        let active = |user: Option<User>| {
            user.filter(|u| u.is_active)
                .ok_or(AuthError::NoActiveAccount)
        };
        if let Some(identity) = db.identity(&claims.issuer, &claims.subject).await? {
            return active(db.user_by_id(identity.user_id).await?);
        }
        let new_identity = NewIdentity {
            provider: provider.config.name.clone(),
            issuer: claims.issuer.clone(),
            subject: claims.subject.clone(),
            email: claims.email.clone().unwrap_or_default(),
        };
        let now = Timestamp::now().epoch();
        if let Some(email) = claims.email.as_deref().filter(|e| !e.is_empty()) {
            let owners = db.users_by_email(email).await?;
            if !owners.is_empty() {
                let linkable =
                    claims.email_verified && provider.config.link_by_email && owners.len() == 1;
                if !linkable {
                    return Err(SocialError::AccountExists.into());
                }
                let owner = owners.into_iter().next().ok_or(AuthError::Internal)?;
                return match db.link_identity(owner.id, &new_identity, now).await {
                    Ok(_) => active(Some(owner)),
                    // Linked meanwhile by a concurrent sign-in of the same person.
                    Err(StoreError::Conflict) => self.linked_user(claims).await,
                    Err(e) => Err(e.into()),
                };
            }
        }
        let base = username_base(claims);
        let mut new_user = NewUser {
            username: base.clone(),
            password_hash: unusable_password(),
            // Only an address the provider vouches for is kept: a later
            // link by e-mail must never rest on an unverified one.
            email: if claims.email_verified {
                claims.email.clone().unwrap_or_default()
            } else {
                String::new()
            },
            is_active: true,
            is_staff: false,
            is_superuser: false,
        };
        for _ in 0..5 {
            match db
                .create_user_with_identity(&new_user, &new_identity, now)
                .await
            {
                Ok(user) => return Ok(user),
                Err(StoreError::Conflict) => {
                    if db
                        .identity(&claims.issuer, &claims.subject)
                        .await?
                        .is_some()
                    {
                        return self.linked_user(claims).await;
                    }
                    // The username is taken: another with a random suffix.
                    new_user.username = format!("{base}-{}", &key_hash(&random_key())[..8]);
                }
                Err(e) => return Err(e.into()),
            }
        }
        tracing::error!("no free username for a new social-login account after 5 tries");
        Err(AuthError::Internal)
    }

    async fn linked_user(&self, claims: &VerifiedClaims) -> Result<User, AuthError> {
        let db = &self.inner.database;
        let identity = db
            .identity(&claims.issuer, &claims.subject)
            .await?
            .ok_or(AuthError::Internal)?;
        db.user_by_id(identity.user_id)
            .await?
            .filter(|u| u.is_active)
            .ok_or(AuthError::NoActiveAccount)
    }

    /// A signed-in user links another provider identity by an ID token from
    /// it (validated as for [`AuthService::sign_in_with_id_token`]).
    /// [`SocialError::IdentityTaken`] when it is linked to another user
    /// already; linked to this user, the existing link is returned.
    pub async fn link_identity(
        &self,
        user_id: i64,
        provider: &str,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<Identity, AuthError> {
        let (provider, claims) = self.verified_id_token(provider, id_token, nonce).await?;
        let identity = NewIdentity {
            provider: provider.config.name.clone(),
            issuer: claims.issuer,
            subject: claims.subject,
            email: claims.email.unwrap_or_default(),
        };
        let now = Timestamp::now().epoch();
        match self
            .inner
            .database
            .link_identity(user_id, &identity, now)
            .await
        {
            Err(StoreError::Conflict) => {
                // Linked already: to the caller, linking again changes
                // nothing and answers it; to anyone else, refused.
                let mine = self.inner.database.identities_of(user_id).await?;
                mine.into_iter()
                    .find(|i| i.issuer == identity.issuer && i.subject == identity.subject)
                    .ok_or_else(|| SocialError::IdentityTaken.into())
            }
            other => Ok(other?),
        }
    }

    /// The user's linked identities, oldest first.
    pub async fn identities_of(&self, user_id: i64) -> Result<Vec<Identity>, AuthError> {
        Ok(self.inner.database.identities_of(user_id).await?)
    }

    /// Unlinks one of the user's identities, unless it is their last way to
    /// sign in (no usable password and no other identity):
    /// [`SocialError::LastSignInMethod`]; [`SocialError::NoSuchIdentity`]
    /// when the user has no such identity.
    pub async fn unlink_identity(&self, user_id: i64, identity_id: i64) -> Result<(), AuthError> {
        let db = &self.inner.database;
        let user = db
            .user_by_id(user_id)
            .await?
            .ok_or(SocialError::NoSuchIdentity)?;
        let identities = db.identities_of(user_id).await?;
        may_unlink(&user, &identities, identity_id)?;
        if db.unlink_identity(user_id, identity_id).await? {
            Ok(())
        } else {
            Err(SocialError::NoSuchIdentity.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(preferred: Option<&str>, email: Option<&str>) -> VerifiedClaims {
        VerifiedClaims {
            issuer: "https://idp".into(),
            subject: "1".into(),
            email: email.map(str::to_owned),
            email_verified: false,
            preferred_username: preferred.map(str::to_owned),
        }
    }

    #[test]
    fn usernames_keep_only_djangos_characters() {
        assert_eq!(username_base(&claims(Some("Ann Lee/<x>"), None)), "AnnLeex");
        assert_eq!(
            username_base(&claims(None, Some("bob.s@example.com"))),
            "bob.s"
        );
        assert_eq!(username_base(&claims(Some("äöü"), None)), "user");
        assert_eq!(username_base(&claims(None, None)), "user");
        assert_eq!(
            username_base(&claims(Some(&"x".repeat(99)), None)).len(),
            30
        );
    }

    #[test]
    fn unusable_passwords_are_not_passwords() {
        let hash = unusable_password();
        assert!(hash.starts_with('!') && hash.len() == 41);
        assert_ne!(hash, unusable_password());
    }

    #[test]
    fn keys_are_stored_hashed() {
        let key = random_key();
        assert_eq!(key.len(), 43);
        assert_eq!(key_hash(&key).len(), 64);
        assert_ne!(key_hash(&key), key);
    }
}
