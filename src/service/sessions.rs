//! Sessions from the user's side (issue 15, points 4 and 5): logout with a
//! scope — this session, the user's other sessions, or all of them (Supabase
//! Auth's `local` / `others` / `global`) — the device list, and ending one
//! session by id; the same for an administrator by user (the CLI).
//!
//! Logout takes the refresh token as text, however it arrived (a body field
//! `refresh` as simplejwt's blacklist endpoint, or a cookie), so every
//! transport calls the same [`AuthService::logout`]. Ending a session
//! blacklists every token of its family in one transaction that first takes
//! the session row (see `store/token_writes.rs`), so no rotation in flight
//! can leave a live successor behind it.

use serde::Serialize;

use super::validate::Expect;
use super::{AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::store::{OutstandingToken, SessionRecord};
use crate::token::{claims, Claims, Timestamp, TokenError};

/// Which sessions a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogoutScope {
    /// The session of the presented token (the default).
    #[default]
    Local,
    /// Every other session of the user; the presented one stays.
    Others,
    /// Every session of the user.
    Global,
}

impl LogoutScope {
    /// Parses `local`, `others` or `global` (Supabase's words).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "local" => Some(Self::Local),
            "others" => Some(Self::Others),
            "global" => Some(Self::Global),
            _ => None,
        }
    }

    /// The scope as the audit log records it: `scope=local`, `scope=others`, `scope=global`.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Local => "scope=local",
            Self::Others => "scope=others",
            Self::Global => "scope=global",
        }
    }
}

/// One session as the device list shows it. Times are epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The session's public id (what ending one takes).
    pub id: String,
    /// When the login happened.
    pub created: i64,
    /// The last rotation of one of its tokens (the login until then).
    pub last_used: i64,
    /// The client's `User-Agent` at login.
    pub user_agent: Option<String>,
    /// The client's address at login.
    pub ip: Option<String>,
    /// Whether this is the session of the token the request was made with.
    pub current: bool,
}

impl SessionView {
    fn new(record: SessionRecord, current: Option<&str>) -> Self {
        Self {
            current: current == Some(record.public_id.as_str()),
            id: record.public_id,
            created: record.created_at,
            last_used: record.last_used_at,
            user_agent: record.user_agent,
            ip: record.ip,
        }
    }
}

impl AuthService {
    /// The session id a token carries in `SESSION_ID_CLAIM`, when that
    /// setting names a claim and the token has it.
    pub fn session_id_of<'c>(&self, claims: &'c Claims) -> Option<&'c str> {
        let claim = self.settings().session_id_claim()?;
        claims.get(claim)?.as_str()
    }

    /// Logs out with a refresh (or sliding) token: ends the sessions `scope` names and
    /// blacklists the presented token (except for [`LogoutScope::Others`]).
    /// Returns how many sessions were ended. The token must be valid and
    /// not blacklisted, as for simplejwt's blacklist endpoint (401
    /// otherwise); a token recorded in no session (issued before sessions
    /// existed) is blacklisted alone for `local`.
    pub async fn logout(
        &self,
        refresh: &str,
        scope: LogoutScope,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let settings = self.settings();
        let now = Timestamp::now();
        // A sliding token is a session's one token: it can log out too.
        let claims = match self.validate(refresh, Expect::REFRESH, now).await {
            // Not a refresh token, or expired: perhaps a sliding token, which
            // can be refreshed — so logged out — until its refresh deadline.
            Err(AuthError::Token(e @ (TokenError::WrongType | TokenError::Expired))) => {
                let claims = match self.validate(refresh, Expect::SLIDING_REFRESH, now).await {
                    Err(AuthError::Token(TokenError::WrongType)) => return Err(e.into()),
                    other => other?,
                };
                let refresh_exp = settings.sliding_token_refresh_exp_claim();
                claims::check_exp(settings, &claims, refresh_exp, now)?;
                claims
            }
            other => other?,
        };
        let Some(jti) = claims::jti(settings, &claims) else {
            return Err(TokenError::NoId.into());
        };
        let store = self.token_store();
        let session = store.session_of_token(jti).await?;
        let user_id = match &session {
            Some(s) => s.user_id,
            None => match claims.get(settings.user_id_claim()) {
                Some(value) => self.user_for_claim(value).await?.map(|u| u.id),
                None => None,
            },
        };
        let ended = match (scope, &session, user_id) {
            (LogoutScope::Local, Some(s), Some(user)) => {
                u64::from(store.end_session(user, &s.public_id, now.epoch()).await?)
            }
            (LogoutScope::Local, _, _) => 0,
            (LogoutScope::Others, current, Some(user)) => {
                let keep = current.as_ref().map(|s| s.public_id.as_str());
                store.end_user_sessions(user, keep, now.epoch()).await?
            }
            (LogoutScope::Global, _, Some(user)) => {
                store.end_user_sessions(user, None, now.epoch()).await?
            }
            (_, _, None) => return Err(AuthError::NoActiveAccountForToken),
        };
        // Ending the token's own session blacklisted it in that transaction
        // (every token of the family): a logout is then one write, so a 503
        // means nothing changed and the retry is a clean one. Otherwise (no
        // session held it, or its session had ended meanwhile) it is
        // blacklisted alone; a token blacklisted meanwhile is fine.
        let blacklisted_with_session = session.is_some() && ended > 0;
        if scope != LogoutScope::Others && !blacklisted_with_session {
            let token = OutstandingToken {
                jti: jti.to_owned(),
                user_id,
                created_at: Some(now.epoch()),
                expires_at: claims::exp(&claims).unwrap_or(now.epoch()),
            };
            store.blacklist(&token, now.epoch()).await?;
        }
        self.emit_detail(
            EventKind::LoggedOut,
            user_id,
            None,
            client,
            Some(scope.detail()),
        );
        Ok(ended)
    }

    /// The user's live sessions, oldest first; `current` (a public id)
    /// marks the caller's own.
    pub async fn sessions_of(
        &self,
        user_id: i64,
        current: Option<&str>,
    ) -> Result<Vec<SessionView>, AuthError> {
        let now = Timestamp::now().epoch();
        let records = self.token_store().live_sessions(user_id, now).await?;
        let lifetimes = self.session_lifetimes();
        Ok(records
            .into_iter()
            .filter(|r| lifetimes.live(r, now))
            .map(|r| SessionView::new(r, current))
            .collect())
    }

    /// Ends one of the user's live sessions by id; `false` when the user has
    /// no such live session.
    pub async fn end_session(
        &self,
        user_id: i64,
        session_id: &str,
        client: &ClientInfo,
    ) -> Result<bool, AuthError> {
        let now = Timestamp::now().epoch();
        let ended = self
            .token_store()
            .end_session(user_id, session_id, now)
            .await?;
        if ended {
            self.emit(EventKind::LoggedOut, Some(user_id), None, client);
        }
        Ok(ended)
    }

    /// Ends every live session of the user (but `keep`, a public id);
    /// returns how many. For administrators and security events.
    pub async fn end_all_sessions(
        &self,
        user_id: i64,
        keep: Option<&str>,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let now = Timestamp::now().epoch();
        let ended = self
            .token_store()
            .end_user_sessions(user_id, keep, now)
            .await?;
        if ended > 0 {
            self.emit(EventKind::LoggedOut, Some(user_id), None, client);
        }
        Ok(ended)
    }
}
