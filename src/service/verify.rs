//! Verify (simplejwt's `TokenVerifySerializer`): is this a token we signed,
//! still in date? Any type is accepted and no user is looked up. The
//! blacklist is consulted only with `BLACKLIST_AFTER_ROTATION`, and then a
//! blacklisted token is a 400 — both as in simplejwt.

use super::AuthService;
use crate::error::AuthError;
use crate::token::{claims, now};

impl AuthService {
    /// Checks a token of any type.
    pub async fn verify(&self, token: &str) -> Result<(), AuthError> {
        let settings = self.settings();
        let claims = self.tokens().decode(token, now())?;
        claims::check(settings, &claims, None)?;
        if settings.blacklist_after_rotation() {
            if let Some(jti) = claims::jti(settings, &claims) {
                if self.store().is_blacklisted(jti).await? {
                    return Err(AuthError::VerifyBlacklisted);
                }
            }
        }
        Ok(())
    }
}
