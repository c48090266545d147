//! The one token validation: simplejwt's `Token(token)` and the blacklist
//! checks around it, in simplejwt's order, for every use of a token — the
//! refresh, blacklist, verify and sliding-refresh endpoints and request
//! authentication all call [`AuthService::validate`] with what they expect
//! ([`Expect`]); none composes the steps itself.
//!
//! The order, once (as jsonwebtoken's single `validate()`):
//! 1. decode — size, header, signature with the pinned algorithm, then
//!    PyJWT's `iat`, `nbf`, `exp`, `iss`, `aud`, `sub`/`jti` types
//!    ([`crate::token::TokenBackend::decode`]);
//! 2. for refresh and sliding tokens, the blacklist (`BlacklistMixin.verify`
//!    runs `check_blacklist` before `Token.verify`): 401 "Token is blacklisted";
//! 3. `Token.verify`: `exp` present and in date, `jti` present, token type
//!    ([`crate::token::claims::check`]);
//! 4. for the verify endpoint with `BLACKLIST_AFTER_ROTATION`, the blacklist
//!    after everything else, as a 400 (`TokenVerifySerializer`).

use super::AuthService;
use crate::error::AuthError;
use crate::token::backend::DecodeError;
use crate::token::{claims, Claims, Timestamp, TokenError, TokenKind};

/// When the blacklist is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlacklistCheck {
    /// Never (access tokens are not recorded).
    Never,
    /// Before the claim checks, refusing with 401 "Token is blacklisted".
    First,
    /// After the claim checks, refusing with the verify endpoint's 400.
    Last,
}

/// What one use of a token requires of it (simplejwt's token classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expect {
    /// The required type; `None` accepts any (`UntypedToken`).
    pub kind: Option<TokenKind>,
    /// How the blacklist is consulted.
    pub blacklist: BlacklistCheck,
    /// Accept an `exp` in the past (the sliding refresh: `refresh_exp`
    /// bounds it instead). `exp` must still be present and a number.
    pub expired_ok: bool,
}

impl Expect {
    /// `AccessToken`.
    pub const ACCESS: Expect = Expect {
        kind: Some(TokenKind::Access),
        blacklist: BlacklistCheck::Never,
        expired_ok: false,
    };
    /// `RefreshToken`.
    pub const REFRESH: Expect = Expect {
        kind: Some(TokenKind::Refresh),
        blacklist: BlacklistCheck::First,
        expired_ok: false,
    };
    /// `SlidingToken`.
    pub const SLIDING: Expect = Expect {
        kind: Some(TokenKind::Sliding),
        blacklist: BlacklistCheck::First,
        expired_ok: false,
    };
    /// A sliding token presented for a refresh: expired is fine while its
    /// `refresh_exp` has not passed (checked by the caller).
    pub const SLIDING_REFRESH: Expect = Expect {
        expired_ok: true,
        ..Expect::SLIDING
    };

    /// What a token of `kind` requires when it authenticates a request.
    pub fn authenticating(kind: TokenKind) -> Expect {
        match kind {
            TokenKind::Sliding => Self::SLIDING,
            TokenKind::Refresh => Self::REFRESH,
            TokenKind::Access => Self::ACCESS,
        }
    }

    /// The verify endpoint: any type; the blacklist last, and only with
    /// `BLACKLIST_AFTER_ROTATION` (as simplejwt).
    pub fn verify(blacklist_after_rotation: bool) -> Expect {
        Expect {
            kind: None,
            blacklist: if blacklist_after_rotation {
                BlacklistCheck::Last
            } else {
                BlacklistCheck::Never
            },
            expired_ok: false,
        }
    }
}

impl AuthService {
    /// Validates `token` for one use at `now`; returns its claims. Errors:
    /// [`AuthError::Token`] with simplejwt's reason, [`AuthError::VerifyBlacklisted`]
    /// (verify only), [`AuthError::Unavailable`] when the blacklist cannot be read.
    pub(crate) async fn validate(
        &self,
        token: &str,
        expect: Expect,
        now: Timestamp,
    ) -> Result<Claims, AuthError> {
        let settings = self.settings();
        let decode = |token, now| {
            if expect.expired_ok {
                self.tokens().try_decode_expired(token, now)
            } else {
                self.tokens().try_decode(token, now)
            }
        };
        let claims = match decode(token, now) {
            Ok(claims) => claims,
            Err(DecodeError::Token(e)) => return Err(e.into()),
            // A kid none of our keys has: fetch `JWK_URL` again (rate-limited)
            // and try once more.
            Err(DecodeError::UnknownKid) => match self.tokens().remote() {
                Some(remote) => {
                    remote.refresh().await;
                    decode(token, now).map_err(DecodeError::into_token_error)?
                }
                None => return Err(TokenError::Invalid.into()),
            },
        };
        if expect.blacklist == BlacklistCheck::First && self.is_blacklisted(&claims).await? {
            return Err(TokenError::Blacklisted.into());
        }
        if expect.expired_ok {
            match claims::check_exp(settings, &claims, "exp", now) {
                Ok(()) | Err(TokenError::ClaimExpired(_)) => {}
                Err(e) => return Err(e.into()),
            }
            claims::check_id_and_type(settings, &claims, expect.kind)?;
        } else {
            claims::check(settings, &claims, expect.kind, now)?;
        }
        if expect.blacklist == BlacklistCheck::Last && self.is_blacklisted(&claims).await? {
            return Err(AuthError::VerifyBlacklisted);
        }
        Ok(claims)
    }

    /// Whether the token's id is on the blacklist (a token without one cannot be).
    async fn is_blacklisted(&self, claims: &Claims) -> Result<bool, AuthError> {
        match claims::jti(self.settings(), claims) {
            Some(jti) => Ok(self.token_store().is_blacklisted(jti).await?),
            None => Ok(false),
        }
    }
}
