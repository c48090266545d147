//! Obtain tokens with credentials (simplejwt's `TokenObtainPairSerializer` and
//! `TokenObtainSlidingSerializer`): check the credentials, upgrade an outdated
//! password hash, mint the token(s), start a session (who, when, from where)
//! with the long-lived token as the first of its family.

use serde::Serialize;

use super::{AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::password::Verification;
use crate::store::{NewSession, OutstandingToken, User};
use crate::token::{claims, Claims, Timestamp, TokenKind};

/// The login answer, in simplejwt's key order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: String,
    /// The access token.
    pub access: String,
}

/// The sliding-token answer: `{"token"}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlidingToken {
    /// The sliding token.
    pub token: String,
}

impl AuthService {
    /// Logs in with a username and a password (both already trimmed, as DRF
    /// trims them). Every failure is [`AuthError::NoActiveAccount`] and costs
    /// one password verification, whether or not the user exists.
    pub async fn obtain_pair(
        &self,
        username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let user = self.login(username, password, client).await?;
        self.issue_pair(&user, client).await
    }

    /// The pair of a login that has established who `user` is (a password
    /// here, an identity provider in `social`, a password change): mints it, starts its session
    /// with the refresh token as the first of its family and, with
    /// `UPDATE_LAST_LOGIN`, records the login time.
    pub(super) async fn issue_pair(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let now = Timestamp::now();
        let session = crate::token::new_jti();
        let mut refresh = self.token_for_user(user, TokenKind::Refresh, now);
        self.add_session_id(&mut refresh, &session);
        self.cap_at_deadline(&mut refresh, now);
        let mut access = claims::access_from_refresh(self.settings(), &refresh, now);
        self.cap_at_deadline(&mut access, now);
        self.record_login(user, &refresh, now, &session, client)
            .await?;
        Ok(TokenPair {
            refresh: self.encode(&mut refresh)?,
            access: self.encode(&mut access)?,
        })
    }

    /// Logs in for a sliding token (`TokenObtainSlidingView`); same checks
    /// and failures as [`AuthService::obtain_pair`].
    pub async fn obtain_sliding(
        &self,
        username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SlidingToken, AuthError> {
        let user = self.login(username, password, client).await?;
        let now = Timestamp::now();
        let session = crate::token::new_jti();
        let mut sliding = self.token_for_user(&user, TokenKind::Sliding, now);
        self.add_session_id(&mut sliding, &session);
        self.cap_at_deadline(&mut sliding, now);
        self.record_login(&user, &sliding, now, &session, client)
            .await?;
        Ok(SlidingToken {
            token: self.encode(&mut sliding)?,
        })
    }

    /// Checks the credentials and reports the outcome; with
    /// `LOGIN_THROTTLE`, a client that must still wait is refused first
    /// (no password work) and the outcome is counted.
    async fn login(
        &self,
        username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let throttle = self.inner.throttle.as_ref();
        if let Some(throttle) = throttle {
            let now_ms = Timestamp::now().epoch_millis();
            if let Some(retry_after) = throttle.wait(username, client.ip, now_ms).await {
                self.emit(EventKind::LoginThrottled, None, Some(username), client);
                return Err(AuthError::Throttled { retry_after });
            }
        }
        let result = self.check_credentials(username, password).await;
        if let Some(throttle) = throttle {
            match &result {
                Ok(_) => throttle.succeeded(username, client.ip).await,
                Err(AuthError::NoActiveAccount) => {
                    let now_ms = Timestamp::now().epoch_millis();
                    throttle.failed(username, client.ip, now_ms).await;
                }
                Err(_) => {}
            }
        }
        match &result {
            Ok(user) => self.emit(
                EventKind::LoginSucceeded,
                Some(user.id),
                Some(username),
                client,
            ),
            Err(AuthError::NoActiveAccount) => {
                self.emit(EventKind::LoginFailed, None, Some(username), client)
            }
            Err(_) => {}
        }
        result
    }

    /// Django's `authenticate()` for an active user, re-hashing an outdated
    /// stored hash while the plaintext is at hand. Unknown user, inactive
    /// user and wrong password cost the same (see `password/hasher.rs`).
    async fn check_credentials(&self, username: &str, password: &str) -> Result<User, AuthError> {
        let store = self.user_store();
        let user = store.user_by_username(username).await?;
        // An inactive user can never log in: checking their password against
        // the dummy (as for an unknown user) gives the same answer in the same
        // time, where checking their own hash would tell a right password (or
        // a cheaper hash) by its speed.
        let stored = user
            .as_ref()
            .filter(|u| u.is_active)
            .map(|u| u.password.as_str());
        let verification = self.hasher().verify(password, stored).await?;
        let (needs_rehash, mut user) = match (verification, user) {
            (Verification::Valid { needs_rehash }, Some(u)) if u.is_active => (needs_rehash, u),
            _ => return Err(AuthError::NoActiveAccount),
        };
        if needs_rehash {
            let new_hash = self.hasher().hash(password).await?;
            if store
                .upgrade_password(user.id, &user.password, &new_hash)
                .await?
            {
                user.password = new_hash;
            }
        }
        Ok(user)
    }

    /// `Token.for_user` plus the custom claims (`TOKEN_CLAIMS`, the claims
    /// hook), which cannot override the reserved ones.
    fn token_for_user(&self, user: &User, kind: TokenKind, now: Timestamp) -> Claims {
        let reserved = claims::for_user(
            self.settings(),
            kind,
            self.user_id_value(user),
            self.revoke_digest(user),
            now,
        );
        let mut token = reserved.clone();
        self.add_user_claims(user, &mut token);
        claims::protect_reserved(&reserved, &mut token);
        token
    }

    /// With `SESSION_ID_CLAIM`, the session's public id as that claim
    /// (rotation and access tokens copy it on).
    fn add_session_id(&self, token: &mut Claims, session_id: &str) {
        if let Some(claim) = self.settings().session_id_claim() {
            token.insert(claim.to_owned(), session_id.into());
        }
    }

    /// With `SESSION_ABSOLUTE_LIFETIME`, caps the times of a token issued
    /// at login (`exp`, a sliding token's refresh deadline) at the new
    /// session's deadline, `now` + that lifetime.
    fn cap_at_deadline(&self, token: &mut Claims, now: Timestamp) {
        let settings = self.settings();
        let Some(deadline) = self.session_lifetimes().deadline(now.epoch()) else {
            return;
        };
        claims::cap(token, "exp", deadline);
        claims::cap(token, settings.sliding_token_refresh_exp_claim(), deadline);
    }

    /// Starts the login's session with the long-lived token as its first
    /// token (a token without an id is recorded nowhere) and, with
    /// `UPDATE_LAST_LOGIN`, records the login time.
    async fn record_login(
        &self,
        user: &User,
        token: &Claims,
        now: Timestamp,
        session_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        if let Some(jti) = claims::jti(self.settings(), token) {
            let session = NewSession {
                public_id: session_id.to_owned(),
                user_id: user.id,
                created_at: now.epoch(),
                user_agent: client.user_agent.clone(),
                ip: client.ip.map(|ip| ip.to_string()),
            };
            // A sliding token can be refreshed until its refresh deadline:
            // its rows (and blacklist entry) must live that long.
            let refresh_exp = self.settings().sliding_token_refresh_exp_claim();
            let expires_at = claims::time_claim(token, refresh_exp)
                .or_else(|| claims::exp(token))
                .unwrap_or(now.epoch());
            let first = OutstandingToken {
                jti: jti.to_owned(),
                user_id: Some(user.id),
                created_at: Some(now.epoch()),
                expires_at,
            };
            self.token_store().start_session(&session, &first).await?;
        }
        if self.settings().update_last_login() {
            self.user_store()
                .touch_last_login(user.id, now.epoch())
                .await?;
        }
        Ok(())
    }
}
