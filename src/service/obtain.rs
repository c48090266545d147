//! Obtain a token pair (simplejwt's `TokenObtainPairSerializer`): check the
//! credentials, upgrade an outdated password hash, mint refresh + access,
//! record the refresh token as outstanding.

use serde::Serialize;

use super::AuthService;
use crate::error::AuthError;
use crate::password::Verification;
use crate::store::OutstandingToken;
use crate::token::{claims, now, TokenKind};

/// The login answer, in simplejwt's key order.
#[derive(Debug, Clone, Serialize)]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: String,
    /// The access token.
    pub access: String,
}

impl AuthService {
    /// Logs in with a username and a password (both already trimmed, as DRF
    /// trims them). Every failure is [`AuthError::NoActiveAccount`] and costs
    /// one password verification, whether or not the user exists.
    pub async fn obtain_pair(
        &self,
        username: &str,
        password: &str,
    ) -> Result<TokenPair, AuthError> {
        let store = self.store();
        let mut user = store.user_by_username(username).await?;
        let verification = self
            .hasher()
            .verify(password, user.as_ref().map(|u| u.password.as_str()))
            .await?;
        let needs_rehash = match (verification, &user) {
            (Verification::Valid { needs_rehash }, Some(u)) if u.is_active => needs_rehash,
            _ => return Err(AuthError::NoActiveAccount),
        };
        let Some(user) = user.as_mut() else {
            return Err(AuthError::NoActiveAccount);
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

        let now = now();
        let mut refresh = claims::for_user(
            self.settings(),
            TokenKind::Refresh,
            self.user_id_value(user),
            self.revoke_digest(user),
            now,
        );
        self.add_user_claims(user, &mut refresh);
        let mut access = claims::access_from_refresh(self.settings(), &refresh, now);

        if let Some(jti) = claims::jti(self.settings(), &refresh) {
            store
                .add_outstanding(&OutstandingToken {
                    jti: jti.to_owned(),
                    user_id: Some(user.id),
                    created_at: Some(now as i64),
                    expires_at: claims::exp(&refresh).unwrap_or(now as i64),
                })
                .await?;
        }
        if self.settings().update_last_login {
            store.touch_last_login(user.id, now as i64).await?;
        }
        Ok(TokenPair {
            refresh: self.encode(&mut refresh)?,
            access: self.encode(&mut access)?,
        })
    }
}
