//! Blacklist (simplejwt's `TokenBlacklistSerializer`): logout by revoking a
//! refresh token. Like simplejwt it needs no authentication (holding the
//! refresh token is the proof) and accepts valid tokens it never recorded.
//! Access tokens derived from it stay valid until their own `exp`.

use super::validate::Expect;
use super::{user_pk, AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::settings::UserIdField;
use crate::store::OutstandingToken;
use crate::token::{claims, Timestamp, TokenError};

impl AuthService {
    /// Blacklists a refresh token. A second call for the same token (or the
    /// loser of two concurrent calls) is [`TokenError::Blacklisted`].
    pub async fn blacklist(&self, token: &str, client: &ClientInfo) -> Result<(), AuthError> {
        let settings = self.settings();
        let now = Timestamp::now();
        let claims = self.validate(token, Expect::REFRESH, now).await?;
        let Some(jti) = claims::jti(settings, &claims) else {
            // JTI_CLAIM is None: there is nothing to key a blacklist on.
            return Err(TokenError::NoId.into());
        };
        let user_id = claims
            .get(settings.user_id_claim())
            .and_then(user_pk)
            .filter(|_| settings.user_id_field() == UserIdField::Id);
        let record = OutstandingToken {
            jti: jti.to_owned(),
            user_id,
            created_at: Some(now.epoch()),
            expires_at: claims::exp(&claims).unwrap_or(now.epoch()),
        };
        if self.token_store().blacklist(&record, now.epoch()).await? {
            self.emit(EventKind::Blacklisted, user_id, None, client);
            Ok(())
        } else {
            Err(TokenError::Blacklisted.into())
        }
    }
}
