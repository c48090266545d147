//! Refresh (simplejwt's `TokenRefreshSerializer`): a refresh token buys a new
//! access token; with `ROTATE_REFRESH_TOKENS` also a new refresh token,
//! recorded in the same session (token family) as the one it replaces and
//! linked to it; with `BLACKLIST_AFTER_ROTATION` the used one is blacklisted
//! in the same database transaction that records its successor — so of any
//! number of concurrent refreshes with one token, exactly one succeeds.
//!
//! Session lifetimes (`SESSION_ABSOLUTE_LIFETIME`, `SESSION_IDLE_TIMEOUT`)
//! are checked by the store in the rotation's transaction, on the session
//! row it takes anyway: a session past either ends there
//! ([`Rotation::Expired`], 401 "Session has expired"), and a successor (and
//! the access token beside it) is capped at the absolute deadline the store
//! reports.
//!
//! Reuse detection and the grace period are decided by the store, in that
//! transaction ([`crate::store::TokenStore::rotate_in_family`]); this module
//! only acts on the outcome: hand the recorded successor back (grace), or
//! report the reuse and refuse. With either on, the blacklist is not read
//! before the claims are checked (the rotation reads it, in the
//! transaction), so a replayed token reaches the rotation that detects it.

use serde::Serialize;

use super::validate::{BlacklistCheck, Expect};
use super::{AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::store::{OutstandingToken, Rotation, RotationRules};
use crate::token::{claims, Claims, Timestamp, TokenError};

/// The refresh answer: `{"access"}` or, when rotating, `{"access", "refresh"}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Refreshed {
    /// The new access token.
    pub access: String,
    /// The new refresh token, when rotating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
}

impl AuthService {
    /// Exchanges a refresh token for an access token (and a new refresh token when rotating).
    pub async fn refresh(&self, token: &str, client: &ClientInfo) -> Result<Refreshed, AuthError> {
        let result = self.refresh_token(token, client).await;
        match &result {
            Ok((answer, user_id)) => self.emit(
                EventKind::Refreshed {
                    rotated: answer.refresh.is_some(),
                },
                *user_id,
                None,
                client,
            ),
            Err(AuthError::Token(TokenError::Blacklisted)) => {
                self.emit(EventKind::RefreshRefused, None, None, client)
            }
            Err(_) => {}
        }
        result.map(|(answer, _)| answer)
    }

    /// The rotation rules these settings imply.
    fn rotation_rules(&self) -> RotationRules {
        let settings = self.settings();
        RotationRules {
            blacklist_used: settings.blacklist_after_rotation(),
            grace_seconds: settings.refresh_reuse_grace().as_secs() as i64,
            reuse_detection: settings.refresh_reuse_detection(),
            lifetimes: self.session_lifetimes(),
        }
    }

    /// The refresh itself; also returns the user's id, when it names one.
    async fn refresh_token(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<(Refreshed, Option<i64>), AuthError> {
        let settings = self.settings();
        let now = Timestamp::now();
        let rules = self.rotation_rules();
        let expect = if rules.reuse_detection || rules.grace_seconds > 0 {
            // The rotation reads the blacklist itself, in its transaction.
            Expect {
                blacklist: BlacklistCheck::Never,
                ..Expect::REFRESH
            }
        } else {
            Expect::REFRESH
        };
        let mut claims = self.validate(token, expect, now).await?;

        let user = self.check_token_user(&claims, now).await?;
        let user_id = user.as_ref().map(|u| u.id);
        if let (Some(user), true) = (&user, settings.claims_follow_user()) {
            self.refresh_user_claims(user, &mut claims);
        }

        let mut access = claims::access_from_refresh(settings, &claims, now);
        if !settings.rotate_refresh_tokens() {
            let answer = Refreshed {
                access: self.encode(&mut access)?,
                refresh: None,
            };
            return Ok((answer, user_id));
        }

        let mut successor = claims.clone();
        claims::rotate(settings, &mut successor, now);
        let record = |c: &Claims, created_at: Option<i64>| {
            claims::jti(settings, c).map(|jti| OutstandingToken {
                jti: jti.to_owned(),
                user_id,
                created_at,
                expires_at: claims::exp(c).unwrap_or(now.epoch()),
            })
        };
        let issued_at = claims::time_claim(&claims, "iat").unwrap_or(now.epoch());
        match (
            record(&claims, Some(issued_at)),
            record(&successor, Some(now.epoch())),
        ) {
            (Some(used), Some(next)) => {
                let store = self.token_store();
                match store
                    .rotate_in_family(&used, &next, now.epoch(), rules)
                    .await?
                {
                    Rotation::Rotated { deadline } => {
                        // No token of the session outlives its absolute deadline.
                        if let Some(deadline) = deadline {
                            claims::cap(&mut successor, "exp", deadline);
                            claims::cap(&mut access, "exp", deadline);
                        }
                    }
                    Rotation::Grace(earlier) => claims::rotate_as(
                        settings,
                        &mut successor,
                        &earlier.jti,
                        earlier.created_at.unwrap_or(now.epoch()),
                        earlier.expires_at,
                    ),
                    Rotation::Refused => return Err(TokenError::Blacklisted.into()),
                    Rotation::Expired { .. } => {
                        self.emit(EventKind::SessionExpired, user_id, None, client);
                        return Err(TokenError::SessionExpired.into());
                    }
                    Rotation::ReuseDetected { .. } => {
                        self.emit(EventKind::ReuseDetected, user_id, None, client);
                        return Err(TokenError::Blacklisted.into());
                    }
                }
            }
            // JTI_CLAIM is None (never with BLACKLIST_AFTER_ROTATION): nothing to record.
            _ if settings.blacklist_after_rotation() => return Err(TokenError::NoId.into()),
            _ => {}
        }
        let answer = Refreshed {
            access: self.encode(&mut access)?,
            refresh: Some(self.encode(&mut successor)?),
        };
        Ok((answer, user_id))
    }
}
