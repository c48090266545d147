//! Self-service password change (issue 15 point 8): an authenticated user
//! gives the old password and a new one (Django's `PasswordChangeForm`
//! fields and wording). A wrong old password changes nothing; success
//! ends every session of the user and answers with a fresh pair in a new
//! session, started as a login from this client.
//!
//! Why a fresh pair rather than keeping the caller's session: the caller's
//! tokens predate the change. With `CHECK_REVOKE_TOKEN` they carry the old
//! password's digest and stop working at once, and without a session id in
//! access tokens (`SESSION_ID_CLAIM`) the request cannot even name its
//! session. Ending all sessions and starting one for the caller is correct
//! under every setting: the caller stays logged in through the answer, and
//! no token from before the change — the caller's included, which a thief
//! may share — survives it. Every other session ends whatever
//! `END_SESSIONS_ON_ACCOUNT_CHANGE` says: a user changing their password
//! expects the other devices to be logged out.
//!
//! Old-password guesses count as failed logins for `LOGIN_THROTTLE` (a
//! stolen access token must not become a password oracle). The new
//! password must pass the rules every password set here passes: the hard
//! ones ([`new_password_problem`], as `createuser`) and Django's four
//! default validators ([`validation`], as `createuser` without
//! `--skip-password-validation`), all reasons reported in Django's words;
//! it is hashed as every password is ([`crate::password`]).

use super::obtain::TokenPair;
use super::{AuthService, ClientInfo, EventKind};
use crate::error::AuthError;
use crate::password::validation::{self, UserAttributes};
use crate::password::{new_password_problem, Verification};
use crate::store::User;
use crate::token::Timestamp;

impl AuthService {
    /// Changes `user`'s password from `old` to `new` and ends every session
    /// of the user; returns a fresh pair (a new session). Errors:
    /// [`AuthError::OldPasswordIncorrect`] (also when the password changed
    /// meanwhile), [`AuthError::NewPasswordInvalid`] (checked after the old
    /// password, so it tells nothing to a caller who does not know it),
    /// [`AuthError::Throttled`] with `LOGIN_THROTTLE`,
    /// [`AuthError::Busy`] / [`AuthError::Unavailable`]. Needs a user store
    /// that implements `UserStore::upgrade_password` (ours does): the
    /// change is a compare-and-set on the hash the old password matched.
    pub async fn change_password(
        &self,
        user: &User,
        old: &str,
        new: &str,
        client: &ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let throttle = self.inner.throttle.as_ref();
        if let Some(throttle) = throttle {
            let now_ms = Timestamp::now().epoch_millis();
            if let Some(retry_after) = throttle.wait(&user.username, client.ip, now_ms).await {
                self.emit(
                    EventKind::LoginThrottled,
                    Some(user.id),
                    Some(&user.username),
                    client,
                );
                return Err(AuthError::Throttled { retry_after });
            }
        }
        let verified = self.hasher().verify(old, Some(&user.password)).await;
        let matched = matches!(verified, Ok(Verification::Valid { .. }));
        if let Some(throttle) = throttle {
            if matched {
                throttle.succeeded(&user.username, client.ip).await;
            } else if !matches!(verified, Err(crate::password::PasswordError::Busy)) {
                let now_ms = Timestamp::now().epoch_millis();
                throttle.failed(&user.username, client.ip, now_ms).await;
            }
        }
        match verified {
            Ok(Verification::Valid { .. }) => {}
            Ok(_) | Err(crate::password::PasswordError::TooLong) => {
                self.emit(
                    EventKind::LoginFailed,
                    Some(user.id),
                    Some(&user.username),
                    client,
                );
                return Err(AuthError::OldPasswordIncorrect);
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(problem) = new_password_problem(new) {
            return Err(AuthError::NewPasswordInvalid(vec![problem.to_owned()]));
        }
        let attributes = UserAttributes {
            username: &user.username,
            first_name: &user.first_name,
            last_name: &user.last_name,
            email: &user.email,
        };
        let problems = validation::validate(new, &attributes);
        if !problems.is_empty() {
            let reasons = problems.iter().map(ToString::to_string).collect();
            return Err(AuthError::NewPasswordInvalid(reasons));
        }
        let hash = self.hasher().hash(new).await?;
        if !self
            .user_store()
            .upgrade_password(user.id, &user.password, &hash)
            .await?
        {
            // Changed meanwhile: the old password given is no longer current.
            return Err(AuthError::OldPasswordIncorrect);
        }
        let now = Timestamp::now().epoch();
        let ended = self
            .token_store()
            .end_user_sessions(user.id, None, now)
            .await?;
        if ended > 0 {
            self.emit_detail(
                EventKind::LoggedOut,
                Some(user.id),
                None,
                client,
                Some("password changed"),
            );
        }
        self.emit_detail(
            EventKind::AccountChanged,
            Some(user.id),
            Some(&user.username),
            client,
            Some("password changed by the user"),
        );
        let changed = User {
            password: hash,
            ..user.clone()
        };
        self.issue_pair(&changed, client).await
    }
}
