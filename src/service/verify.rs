//! Verify (simplejwt's `TokenVerifySerializer`): is this a token we signed,
//! still in date? Any type is accepted and no user is looked up. The
//! blacklist is consulted only with `BLACKLIST_AFTER_ROTATION`, and then a
//! blacklisted token is a 400 — both as in simplejwt.
//!
//! With `ACCESS_TOKEN_REVOCATION` (this server's own), an access token of an
//! ended session is answered as a blacklisted token too: a resource server
//! that checks tokens here must not accept what the protected path refuses.
//! That costs one indexed read of the session, only with the setting on.

use serde_json::Value;

use super::validate::Expect;
use super::AuthService;
use crate::error::AuthError;
use crate::token::{Timestamp, TokenKind};

impl AuthService {
    /// Checks a token of any type. Errors: [`AuthError::Token`] with
    /// simplejwt's reason (401); [`AuthError::VerifyBlacklisted`] (400) for a
    /// blacklisted token with `BLACKLIST_AFTER_ROTATION`, and with
    /// `ACCESS_TOKEN_REVOCATION` for an access token whose session has ended
    /// (or that names none); [`AuthError::Unavailable`] when the database is.
    pub async fn verify(&self, token: &str) -> Result<(), AuthError> {
        let settings = self.settings();
        let now = Timestamp::now();
        let expect = Expect::verify(settings.blacklist_after_rotation());
        let claims = self.validate(token, expect, now).await?;
        if !settings.access_token_revocation() {
            return Ok(());
        }
        let kind = settings
            .token_type_claim()
            .and_then(|claim| claims.get(claim))
            .and_then(Value::as_str);
        // A refresh or sliding token of an ended session is blacklisted
        // already; without TOKEN_TYPE_CLAIM every token is checked.
        if kind.is_some_and(|k| k != TokenKind::Access.as_str()) {
            return Ok(());
        }
        let live = match self.session_id_of(&claims) {
            Some(session) => {
                self.token_store()
                    .session_live(session, now.epoch(), self.session_lifetimes())
                    .await?
            }
            None => false,
        };
        if live {
            Ok(())
        } else {
            Err(AuthError::VerifyBlacklisted)
        }
    }
}
