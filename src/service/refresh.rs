//! Refresh (simplejwt's `TokenRefreshSerializer`): a refresh token buys a new
//! access token; with `ROTATE_REFRESH_TOKENS` also a new refresh token, and
//! with `BLACKLIST_AFTER_ROTATION` the used one is blacklisted in the same
//! database transaction that records its successor — so of any number of
//! concurrent refreshes with one token, exactly one succeeds.

use serde::Serialize;

use super::{truthy, AuthService};
use crate::error::AuthError;
use crate::store::OutstandingToken;
use crate::token::{claims, now, Claims, TokenError, TokenKind};

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
    /// Decodes a refresh token with every check simplejwt's `RefreshToken(...)`
    /// makes: signature and times, blacklist, `exp`, `jti`, type.
    pub async fn validate_refresh(&self, token: &str, now: f64) -> Result<Claims, AuthError> {
        self.validate_stateful(token, TokenKind::Refresh, now).await
    }

    /// Decode, blacklist check (when the token has an id), then claim checks.
    pub(super) async fn validate_stateful(
        &self,
        token: &str,
        kind: TokenKind,
        now: f64,
    ) -> Result<Claims, AuthError> {
        let settings = self.settings();
        let claims = self.tokens().decode(token, now)?;
        if let Some(jti) = claims::jti(settings, &claims) {
            if self.store().is_blacklisted(jti).await? {
                return Err(TokenError::Blacklisted.into());
            }
        }
        claims::check(settings, &claims, Some(kind))?;
        Ok(claims)
    }

    /// Exchanges a refresh token for an access token (and a new refresh token when rotating).
    pub async fn refresh(&self, token: &str) -> Result<Refreshed, AuthError> {
        let settings = self.settings();
        let now = now();
        let claims = self.validate_refresh(token, now).await?;

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
            return Ok(Refreshed {
                access,
                refresh: None,
            });
        }

        let mut successor = claims.clone();
        claims::rotate(settings, &mut successor, now);
        let record = |c: &Claims, created_at: Option<i64>| {
            claims::jti(settings, c).map(|jti| OutstandingToken {
                jti: jti.to_owned(),
                user_id,
                created_at,
                expires_at: claims::exp(c).unwrap_or(now as i64),
            })
        };
        let next = record(&successor, Some(now as i64));
        if settings.blacklist_after_rotation() {
            let issued_at = claims.get("iat").and_then(|v| v.as_f64()).map(|f| f as i64);
            let (Some(used), Some(next)) = (record(&claims, issued_at.or(Some(now as i64))), next)
            else {
                return Err(TokenError::NoId.into());
            };
            if !self.store().rotate(&used, &next, now as i64).await? {
                return Err(TokenError::Blacklisted.into());
            }
        } else if let Some(next) = next {
            self.store().add_outstanding(&next).await?;
        }
        Ok(Refreshed {
            access,
            refresh: Some(self.encode(&mut successor)?),
        })
    }
}
