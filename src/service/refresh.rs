//! Refresh (simplejwt's `TokenRefreshSerializer`): a refresh token buys a new
//! access token; with `ROTATE_REFRESH_TOKENS` also a new refresh token, and
//! with `BLACKLIST_AFTER_ROTATION` the used one is blacklisted in the same
//! database transaction that records its successor — so of any number of
//! concurrent refreshes with one token, exactly one succeeds.

use serde::Serialize;

use super::validate::Expect;
use super::{truthy, AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::store::OutstandingToken;
use crate::token::{claims, Claims, Timestamp, TokenError};

/// The refresh answer: `{"access"}` or, when rotating, `{"access", "refresh"}`.
#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    /// The new access token.
    pub access: String,
    /// The new refresh token, when rotating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
}

impl AuthService {
    /// Exchanges a refresh token for an access token (and a new refresh token when rotating).
    pub async fn refresh(&self, token: &str, client: &ClientInfo) -> Result<Refreshed, AuthError> {
        let result = self.refresh_token(token).await;
        match &result {
            Ok((answer, user_id)) => self.emit(
                EventKind::Refreshed {
                    rotated: answer.refresh.is_some(),
                },
                *user_id,
                None,
                client,
            ),
            Err(AuthError::Token(TokenError::Blacklisted)) => {
                self.emit(EventKind::RefreshRefused, None, None, client)
            }
            Err(_) => {}
        }
        result.map(|(answer, _)| answer)
    }

    /// The refresh itself; also returns the user's id, when it names one.
    async fn refresh_token(&self, token: &str) -> Result<(Refreshed, Option<i64>), AuthError> {
        let settings = self.settings();
        let now = Timestamp::now();
        let claims = self.validate(token, Expect::REFRESH, now).await?;

        let mut user_id = None;
        if let Some(value) = claims.get(settings.user_id_claim()).filter(|v| truthy(v)) {
            match self.user_for_claim(value).await? {
                Some(user) if user.is_active || !settings.check_user_is_active() => {
                    user_id = Some(user.id)
                }
                _ => return Err(AuthError::NoActiveAccountForToken),
            }
        }

        let mut access = claims::access_from_refresh(settings, &claims, now);
        let access = self.encode(&mut access)?;
        if !settings.rotate_refresh_tokens() {
            let answer = Refreshed {
                access,
                refresh: None,
            };
            return Ok((answer, user_id));
        }

        let mut successor = claims.clone();
        claims::rotate(settings, &mut successor, now);
        let record = |c: &Claims, created_at: Option<i64>| {
            claims::jti(settings, c).map(|jti| OutstandingToken {
                jti: jti.to_owned(),
                user_id,
                created_at,
                expires_at: claims::exp(c).unwrap_or(now.epoch()),
            })
        };
        let next = record(&successor, Some(now.epoch()));
        if settings.blacklist_after_rotation() {
            let issued_at = claims::time_claim(&claims, "iat").unwrap_or(now.epoch());
            let (Some(used), Some(next)) = (record(&claims, Some(issued_at)), next) else {
                return Err(TokenError::NoId.into());
            };
            if !self.token_store().rotate(&used, &next, now.epoch()).await? {
                return Err(TokenError::Blacklisted.into());
            }
        } else if let Some(next) = next {
            self.token_store().add_outstanding(&next).await?;
        }
        let answer = Refreshed {
            access,
            refresh: Some(self.encode(&mut successor)?),
        };
        Ok((answer, user_id))
    }
}
