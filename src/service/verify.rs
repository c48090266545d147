//! Verify (simplejwt's `TokenVerifySerializer`): is this a token we signed,
//! still in date? Any type is accepted and no user is looked up. The
//! blacklist is consulted only with `BLACKLIST_AFTER_ROTATION`, and then a
//! blacklisted token is a 400 — both as in simplejwt.

use super::validate::Expect;
use super::AuthService;
use crate::error::AuthError;
use crate::token::Timestamp;

impl AuthService {
    /// Checks a token of any type.
    pub async fn verify(&self, token: &str) -> Result<(), AuthError> {
        let expect = Expect::verify(self.settings().blacklist_after_rotation());
        self.validate(token, expect, Timestamp::now())
            .await
            .map(drop)
    }
}
