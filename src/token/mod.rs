//! Tokens: access, refresh and sliding JWTs with simplejwt's claims, and the
//! checks every token passes before anything trusts it.
//!
//! Split as simplejwt splits it: [`backend`] turns claims into a signed string
//! and back (signature, `iat`/`nbf`/`exp`/`aud`/`iss` checks, exactly as
//! PyJWT does them), [`claims`] builds, inspects and moves the claim sets
//! (`for_user`, the access token derived from a refresh token, rotation,
//! sliding, expiry checks), [`time`] is the one time type, and the typed
//! [`TokenError`] carries simplejwt's messages. The one entry point that
//! composes these checks with the blacklist is `service::validate`.

pub mod backend;
pub mod claims;
mod json;
pub mod kind;
pub mod time;

pub use backend::TokenBackend;
pub use claims::Claims;
pub use kind::TokenKind;
pub use time::Timestamp;

/// Why a token was refused. `Display` is simplejwt's message, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, wrong algorithm, malformed, future `iat`/`nbf`, wrong `aud`/`iss`, …
    #[error("Token is invalid")]
    Invalid,
    /// `exp` has passed (beyond `LEEWAY`).
    #[error("Token is expired")]
    Expired,
    /// The token type claim names another kind of token.
    #[error("Token has wrong type")]
    WrongType,
    /// The token type claim is missing.
    #[error("Token has no type")]
    NoType,
    /// The `jti` claim is missing.
    #[error("Token has no id")]
    NoId,
    /// A required time claim (e.g. `exp`) is missing.
    #[error("Token has no '{0}' claim")]
    MissingClaim(String),
    /// A time claim other than `exp` (e.g. a sliding token's `refresh_exp`) has passed.
    #[error("Token '{0}' claim has expired")]
    ClaimExpired(String),
    /// The token's `jti` is on the blacklist.
    #[error("Token is blacklisted")]
    Blacklisted,
    /// (This server's own.) The token's session outlived
    /// `SESSION_ABSOLUTE_LIFETIME` or `SESSION_IDLE_TIMEOUT` and was ended.
    #[error("Session has expired")]
    SessionExpired,
}

/// A new token id: uuid4 as 32 lowercase hex digits (simplejwt's `uuid4().hex`).
pub fn new_jti() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
