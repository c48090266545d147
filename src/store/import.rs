//! Importing accounts and tokens from another database (`simplejwt
//! import-django`): the rows, what an import did, and the logic written once
//! for both databases over the token writes' [`Tx`].
//!
//! An import must be repeatable — run it again after a failure, or again
//! before switching over to pick up what changed — without duplicating or
//! undoing anything. So every row is inserted only when it is missing:
//!
//! - a user keeps their id (the `user_id` claim of tokens minted before the
//!   move names it) and is inserted unless that id or that username is
//!   taken. Taken by the same user (same id, same name) is "already
//!   imported", and the row is left as it is: a password upgraded to
//!   argon2id on a login here is not reverted to the old hash. Taken by
//!   someone else is a conflict, reported, never overwritten.
//! - a token is recorded by `jti` unless it is (`ON CONFLICT DO NOTHING`),
//!   with no owner when its owner does not exist here, and blacklisted at its
//!   original time unless it is blacklisted already.
//!
//! Each call is one transaction on the caller's batch, so a large table
//! moves in steps the caller can report progress on.

use super::model::{storable, OutstandingToken, User};
use super::sql::{self, Param};
use super::token_writes::{Col, Tx};

/// A token to import: as recorded, and when it was blacklisted, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedToken {
    /// The token as recorded (`jti`, owner, issue time, expiry).
    pub token: OutstandingToken,
    /// When it was blacklisted (epoch seconds), or `None`.
    pub blacklisted_at: Option<i64>,
}

/// A user that could not be imported: the id or the username is taken here
/// by another account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConflict {
    /// The user's id in the source.
    pub id: i64,
    /// The user's username in the source.
    pub username: String,
    /// The username the account with this id has here, if one has it.
    pub here_by_id: Option<String>,
    /// The id of the account with this username here, if one has it.
    pub here_by_username: Option<i64>,
}

/// What importing a batch of users did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsersImported {
    /// Users inserted.
    pub inserted: u64,
    /// Users that were here already (same id, same username): left as they are.
    pub present: u64,
    /// Users refused because their id or username belongs to another account here.
    pub conflicts: Vec<UserConflict>,
}

/// What importing a batch of tokens did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokensImported {
    /// Outstanding tokens recorded (the others were recorded already).
    pub recorded: u64,
    /// Blacklist entries added (the others were blacklisted already).
    pub blacklisted: u64,
    /// Tokens skipped because their `jti` cannot be stored (contains NUL).
    pub skipped: u64,
}

/// Inserts `users` with their ids inside `tx`; see the module doc.
pub(super) async fn users<T: Tx + Send>(
    tx: &mut T,
    users: &[User],
) -> Result<UsersImported, T::Error> {
    let mut done = UsersImported::default();
    for user in users {
        let params = [
            Param::Int(user.id),
            Param::Text(&user.username),
            Param::Text(&user.password),
            Param::Text(&user.email),
            Param::Text(&user.first_name),
            Param::Text(&user.last_name),
            Param::Int(user.is_active.into()),
            Param::Int(user.is_staff.into()),
            Param::Int(user.is_superuser.into()),
            Param::Int(user.date_joined),
            Param::OptInt(user.last_login),
        ];
        if tx.execute(sql::IMPORT_USER, &params).await? == 1 {
            done.inserted += 1;
            continue;
        }
        let here_by_id = tx
            .fetch(sql::USERNAME_BY_ID, &[Param::Int(user.id)], &[Col::Text])
            .await?
            .and_then(|mut row| row.swap_remove(0).text());
        if here_by_id.as_deref() == Some(user.username.as_str()) {
            done.present += 1;
            continue;
        }
        let here_by_username = tx
            .fetch(
                sql::ID_BY_USERNAME,
                &[Param::Text(&user.username)],
                &[Col::Int],
            )
            .await?
            .and_then(|row| row[0].int());
        done.conflicts.push(UserConflict {
            id: user.id,
            username: user.username.clone(),
            here_by_id,
            here_by_username,
        });
    }
    Ok(done)
}

/// Records `tokens` (and their blacklist entries) inside `tx`; see the module doc.
pub(super) async fn tokens<T: Tx + Send>(
    tx: &mut T,
    tokens: &[ImportedToken],
) -> Result<TokensImported, T::Error> {
    let mut done = TokensImported::default();
    for ImportedToken {
        token,
        blacklisted_at,
    } in tokens
    {
        if !storable(&token.jti) {
            done.skipped += 1;
            continue;
        }
        done.recorded += tx
            .execute(
                sql::INSERT_OUTSTANDING,
                &[
                    Param::Text(&token.jti),
                    Param::OptInt(token.user_id),
                    Param::OptInt(token.created_at),
                    Param::Int(token.expires_at),
                    Param::OptInt(None),
                    Param::OptInt(None),
                ],
            )
            .await?;
        if let Some(at) = blacklisted_at {
            done.blacklisted += tx
                .execute(
                    sql::INSERT_BLACKLISTED,
                    &[Param::Text(&token.jti), Param::Int(*at)],
                )
                .await?;
        }
    }
    Ok(done)
}
