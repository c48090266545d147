//! Social login's storage on SQLite ([`IdentityStore`]): lookups on the
//! in-thread readers, writes on the writer thread; the user and their first
//! identity in one transaction there.

use rusqlite::Connection;

use super::conn::{execute, identity_row, insert_returning, query_all, query_opt, user_row};
use super::SqliteDatabase;
use crate::store::error::StoreError;
use crate::store::model::{Identity, NewIdentity, NewUser, User};
use crate::store::sql::{self, Param};
use crate::store::traits::IdentityStore;

/// Inserts the identity and reads it back, on the writer's connection.
fn insert_identity(
    conn: &Connection,
    user_id: i64,
    identity: &NewIdentity,
    now: i64,
) -> rusqlite::Result<Identity> {
    let params = sql::identity_params(user_id, identity, now);
    let id = insert_returning(conn, sql::INSERT_IDENTITY, &params)?;
    Ok(identity.linked(id, user_id, now))
}

#[async_trait::async_trait]
impl IdentityStore for SqliteDatabase {
    async fn identity(&self, issuer: &str, subject: &str) -> Result<Option<Identity>, StoreError> {
        self.reader.read(|conn| {
            let params = [Param::Text(issuer), Param::Text(subject)];
            query_opt(conn, sql::IDENTITY_BY_SUBJECT, &params, identity_row)
        })
    }

    async fn identities_of(&self, user_id: i64) -> Result<Vec<Identity>, StoreError> {
        self.reader.read(|conn| {
            query_all(
                conn,
                sql::IDENTITIES_OF_USER,
                &[Param::Int(user_id)],
                identity_row,
            )
        })
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<User>, StoreError> {
        self.reader
            .read(|conn| query_all(conn, sql::USERS_BY_EMAIL, &[Param::Text(email)], user_row))
    }

    async fn link_identity(
        &self,
        user_id: i64,
        identity: &NewIdentity,
        now: i64,
    ) -> Result<Identity, StoreError> {
        let identity = identity.clone();
        self.writer
            .run(move |conn| insert_identity(conn, user_id, &identity, now))
            .await
    }

    async fn create_user_with_identity(
        &self,
        user: &NewUser,
        identity: &NewIdentity,
        now: i64,
    ) -> Result<User, StoreError> {
        let (new, identity) = (user.clone(), identity.clone());
        self.writer
            .run(move |conn| {
                let tx = conn.transaction()?;
                let id = insert_returning(&tx, sql::INSERT_USER, &sql::user_params(&new, now))?;
                insert_identity(&tx, id, &identity, now)?;
                let user = query_opt(&tx, sql::USER_BY_ID, &[Param::Int(id)], user_row)?
                    .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
                tx.commit()?;
                Ok(user)
            })
            .await
    }

    async fn unlink_identity(&self, user_id: i64, identity_id: i64) -> Result<bool, StoreError> {
        self.writer
            .run(move |conn| {
                let params = [Param::Int(identity_id), Param::Int(user_id)];
                execute(conn, sql::DELETE_IDENTITY, &params)
            })
            .await
            .map(|rows| rows == 1)
    }

    async fn put_pending(
        &self,
        key_hash: &str,
        kind: &str,
        payload: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let (key_hash, kind, payload) = (key_hash.to_owned(), kind.to_owned(), payload.to_owned());
        self.writer
            .run(move |conn| {
                execute(conn, sql::PURGE_PENDING, &[Param::Int(now)])?;
                let params = [
                    Param::Text(&key_hash),
                    Param::Text(&kind),
                    Param::Text(&payload),
                    Param::Int(expires_at),
                ];
                execute(conn, sql::PUT_PENDING, &params).map(drop)
            })
            .await
    }

    async fn take_pending(
        &self,
        key_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let (key_hash, kind) = (key_hash.to_owned(), kind.to_owned());
        let taken = self
            .writer
            .run(move |conn| {
                let params = [Param::Text(&key_hash), Param::Text(&kind)];
                let rows = query_all(conn, sql::TAKE_PENDING, &params, |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?;
                Ok(rows.into_iter().next())
            })
            .await?;
        Ok(taken.filter(|(_, expires)| *expires > now).map(|(p, _)| p))
    }
}
