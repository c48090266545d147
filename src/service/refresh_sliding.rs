//! Refresh a sliding token (simplejwt's `TokenRefreshSlidingSerializer`): a
//! sliding token that is still valid, not blacklisted, and within its
//! `refresh_exp` gets a new `exp` and `iat` — same `jti`, same `refresh_exp`,
//! so blacklisting it also kills every refreshed copy. Unlike 5.5.1, the user
//! is checked as the pair refresh checks it (issue 15 point 10): an inactive
//! or deleted user is refused, and with `CHECK_REVOKE_TOKEN` a changed
//! password too. Unlike 5.5.1's code, and as simplejwt's documentation
//! describes sliding tokens, an expired sliding token whose `refresh_exp` is
//! still ahead can be refreshed (issue 15 point 10; a deliberate difference
//! listed in the README): otherwise a client that slept past `exp` must log
//! in again although the token says it may slide for a day. It must still
//! be validly signed, not blacklisted, and name an active user.

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
        let mut claims = self.validate(token, Expect::SLIDING_REFRESH, now).await?;
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
