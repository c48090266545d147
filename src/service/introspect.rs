//! Token revocation (RFC 7009) and introspection (RFC 7662), the OAuth
//! endpoints resource servers and clients expect (issue 15 point 13), over
//! the same rules as everything else: one validation
//! ([`AuthService::validate`]), logout for refresh and sliding tokens,
//! sessions for access tokens.
//!
//! **Revocation** never tells the caller anything about the token (RFC 7009
//! §2.2: "invalid tokens do not cause an error response"): an unknown,
//! malformed, expired or already revoked token is revoked as far as the
//! caller can tell. A refresh or sliding token ends its session — its whole
//! family — as `logout` (scope `local`) does. An access token can only be
//! revoked through its session (`ACCESS_TOKEN_REVOCATION`: it names the
//! session, whose end stops it at once, RFC 7009 §2.1 allowing "the
//! respective refresh token" to go with it); without that setting access
//! tokens are self-contained, which §2.2.1 answers with
//! `unsupported_token_type`. The `token_type_hint` only orders the search
//! (§2.1: the server "MUST extend its search across all of its supported
//! token types"), and our tokens name their type, so it changes nothing.
//!
//! **Introspection** answers `{"active": false}` for anything that would not
//! be accepted now — malformed, wrong signature, expired, blacklisted, of an
//! ended or expired session, naming a missing or inactive user, with
//! `CHECK_REVOKE_TOKEN` a changed password — and never says which (RFC 7662
//! §2.2). An active token is described by its claims: `active`,
//! `token_type` (simplejwt's type, `access` / `refresh` / `sliding`), `exp`,
//! `iat`, `jti`, `sub` (the user id as a string), `username`, and `iss`,
//! `aud` and the session id when it carries them.

use serde_json::{Map, Value};

use super::sessions::LogoutScope;
use super::validate::{BlacklistCheck, Expect};
use super::{AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::token::{claims, Claims, Timestamp, TokenError, TokenKind};

/// Whether an error is the service's own trouble (the database, the
/// hashing queue, a bug) rather than something about the token: only those
/// reach a revocation's or an introspection's caller.
fn is_service_failure(e: &AuthError) -> bool {
    matches!(
        e,
        AuthError::Unavailable | AuthError::Busy | AuthError::Internal
    )
}

impl AuthService {
    /// RFC 7009 revocation of `token` (any type). `Ok(())` for every token
    /// that is not an access token this configuration cannot revoke
    /// ([`AuthError::UnsupportedTokenType`]); [`AuthError::Unavailable`]
    /// when the database cannot answer.
    pub async fn revoke(&self, token: &str, client: &ClientInfo) -> Result<(), AuthError> {
        match self.logout(token, LogoutScope::Local, client).await {
            Ok(_) => return Ok(()),
            // Not a refresh or sliding token: perhaps an access token.
            Err(AuthError::Token(TokenError::WrongType)) => {}
            Err(e) if is_service_failure(&e) => return Err(e),
            Err(_) => return Ok(()),
        }
        let settings = self.settings();
        let now = Timestamp::now();
        let claims = match self.validate(token, Expect::ACCESS, now).await {
            Ok(claims) => claims,
            Err(e) if is_service_failure(&e) => return Err(e),
            Err(_) => return Ok(()),
        };
        if !settings.access_token_revocation() {
            return Err(AuthError::UnsupportedTokenType);
        }
        let Some(session) = self.session_id_of(&claims) else {
            return Ok(()); // refused by the access path anyway
        };
        let user = match claims.get(settings.user_id_claim()) {
            Some(value) => self.user_for_claim(value).await?,
            None => None,
        };
        if let Some(user) = user {
            let store = self.token_store();
            if store.end_session(user.id, session, now.epoch()).await? {
                self.emit(EventKind::LoggedOut, Some(user.id), None, client);
            }
        }
        Ok(())
    }

    /// RFC 7662 introspection of `token`: `{"active": false}` or the active
    /// token's description (see the module documentation). Errors only
    /// when the database cannot answer ([`AuthError::Unavailable`]).
    pub async fn introspect(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        let inactive = || {
            let mut map = Map::new();
            map.insert("active".into(), Value::Bool(false));
            map
        };
        match self.active_token(token).await {
            Ok(Some((claims, kind, username))) => Ok(self.describe(&claims, kind, username)),
            Ok(None) => Ok(inactive()),
            Err(e) if is_service_failure(&e) => Err(e),
            Err(_) => Ok(inactive()),
        }
    }

    /// The claims, type and user name of `token` if it would be accepted
    /// now as what it says it is; `Ok(None)` (or a token error) otherwise.
    async fn active_token(
        &self,
        token: &str,
    ) -> Result<Option<(Claims, TokenKind, String)>, AuthError> {
        let settings = self.settings();
        let now = Timestamp::now();
        let any = Expect {
            kind: None,
            blacklist: BlacklistCheck::Never,
            expired_ok: false,
        };
        let claims = self.validate(token, any, now).await?;
        let kind = match settings.token_type_claim() {
            None => TokenKind::Access, // untyped tokens authenticate as access tokens
            Some(claim) => {
                let named = claims.get(claim).and_then(Value::as_str);
                let kind = [TokenKind::Access, TokenKind::Refresh, TokenKind::Sliding]
                    .into_iter()
                    .find(|k| Some(k.as_str()) == named);
                match kind {
                    Some(kind) => kind,
                    None => return Ok(None),
                }
            }
        };
        // Validated again as its type: the blacklist for refresh and sliding.
        self.validate(token, Expect::authenticating(kind), now)
            .await?;
        let store = self.token_store();
        let lifetimes = self.session_lifetimes();
        if kind == TokenKind::Access {
            if settings.access_token_revocation() {
                let live = match self.session_id_of(&claims) {
                    Some(session) => store.session_live(session, now.epoch(), lifetimes).await?,
                    None => false,
                };
                if !live {
                    return Ok(None);
                }
            }
        } else if let Some(jti) = claims::jti(settings, &claims) {
            if let Some(session) = store.session_of_token(jti).await? {
                if !lifetimes.live(&session, now.epoch()) {
                    return Ok(None);
                }
            }
        }
        let Some(value) = claims.get(settings.user_id_claim()) else {
            return Ok(None);
        };
        let Some(user) = self.user_for_claim(value).await? else {
            return Ok(None);
        };
        if settings.check_user_is_active() && !user.is_active {
            return Ok(None);
        }
        if !self.password_unchanged(&user, &claims) {
            return Ok(None);
        }
        let username = user.username;
        Ok(Some((claims, kind, username)))
    }

    /// RFC 7662 §2.2's members for an active token.
    fn describe(&self, claims: &Claims, kind: TokenKind, username: String) -> Map<String, Value> {
        let settings = self.settings();
        let mut map = Map::new();
        map.insert("active".into(), Value::Bool(true));
        map.insert("token_type".into(), kind.as_str().into());
        for name in ["exp", "iat"] {
            if let Some(t) = claims::time_claim(claims, name) {
                map.insert(name.into(), t.into());
            }
        }
        if let Some(jti) = claims::jti(settings, claims) {
            map.insert("jti".into(), jti.into());
        }
        let sub = match claims.get(settings.user_id_claim()) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        map.insert("sub".into(), sub.into());
        map.insert("username".into(), username.into());
        for name in ["iss", "aud"] {
            if let Some(v) = claims.get(name) {
                map.insert(name.into(), v.clone());
            }
        }
        if let (Some(claim), Some(session)) =
            (settings.session_id_claim(), self.session_id_of(claims))
        {
            map.insert(claim.into(), session.into());
        }
        map
    }
}
