//! Refresh a sliding token (simplejwt's `TokenRefreshSlidingSerializer`): a
//! sliding token that is still valid, not blacklisted, and within its
//! `refresh_exp` gets a new `exp` and `iat` — same `jti`, same `refresh_exp`,
//! so blacklisting it also kills every refreshed copy. As in 5.5.1 there is no
//! user check, and an expired sliding token cannot be refreshed even if its
//! `refresh_exp` is still ahead.

use serde_json::Value;

use super::obtain::SlidingToken;
use super::AuthService;
use crate::error::AuthError;
use crate::token::{now, TokenError, TokenKind};

impl AuthService {
    /// Slides a sliding token forward.
    pub async fn refresh_sliding(&self, token: &str) -> Result<SlidingToken, AuthError> {
        let settings = self.settings();
        let now = now();
        let mut claims = self
            .validate_stateful(token, TokenKind::Sliding, now)
            .await?;
        let name = settings.sliding_token_refresh_exp_claim();
        let refresh_exp = claims
            .get(name)
            .ok_or_else(|| TokenError::MissingClaim(name.to_owned()))?;
        // simplejwt's check_exp: a number of seconds, expired when <= now - LEEWAY.
        let refresh_exp = refresh_exp.as_f64().ok_or(TokenError::Invalid)?;
        if refresh_exp <= now - settings.leeway().as_secs_f64() {
            return Err(TokenError::ClaimExpired(name.to_owned()).into());
        }
        let lifetime = settings.sliding_token_lifetime().as_secs_f64();
        claims.insert("exp".into(), Value::from((now + lifetime).floor() as i64));
        claims.insert("iat".into(), Value::from(now.floor() as i64));
        Ok(SlidingToken {
            token: self.encode(&mut claims)?,
        })
    }
}
