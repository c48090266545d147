//! Refresh a sliding token (simplejwt's `TokenRefreshSlidingSerializer`): a
//! sliding token that is still valid, not blacklisted, and within its
//! `refresh_exp` gets a new `exp` and `iat` — same `jti`, same `refresh_exp`,
//! so blacklisting it also kills every refreshed copy. Unlike 5.5.1, the user
//! is checked as the pair refresh checks it (issue 15 point 10): an inactive
//! or deleted user is refused, and with `CHECK_REVOKE_TOKEN` a changed
//! password too. As in 5.5.1, an expired sliding token cannot be refreshed
//! even if its `refresh_exp` is still ahead.

use super::obtain::SlidingToken;
use super::validate::Expect;
use super::{AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::token::{claims, Timestamp};

impl AuthService {
    /// Slides a sliding token forward.
    pub async fn refresh_sliding(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<SlidingToken, AuthError> {
        let settings = self.settings();
        let now = Timestamp::now();
        let mut claims = self.validate(token, Expect::SLIDING, now).await?;
        claims::check_exp(
            settings,
            &claims,
            settings.sliding_token_refresh_exp_claim(),
            now,
        )?;
        self.check_token_user(&claims, now).await?;
        claims::slide(settings, &mut claims, now);
        let token = self.encode(&mut claims)?;
        self.emit(EventKind::Refreshed { rotated: false }, None, None, client);
        Ok(SlidingToken { token })
    }
}
