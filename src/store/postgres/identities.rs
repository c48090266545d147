//! Social login's storage on PostgreSQL (`IdentityStore`): identities by
//! (issuer, subject) and the single-use sign-in records; the SQL is shared
//! with SQLite in `store::sql`.

use super::*;

/// Social login's storage on PostgreSQL; the user and their first identity
/// in one transaction.
#[async_trait::async_trait]
impl IdentityStore for PgDatabase {
    async fn identity(&self, issuer: &str, subject: &str) -> Result<Option<Identity>, StoreError> {
        let params = [Param::Text(issuer), Param::Text(subject)];
        let row = self.fetch(sql::IDENTITY_BY_SUBJECT, &params).await?;
        row.as_ref()
            .map(identity_from_row)
            .transpose()
            .map_err(classify)
    }

    async fn identities_of(&self, user_id: i64) -> Result<Vec<Identity>, StoreError> {
        let rows = self
            .fetch_all(sql::IDENTITIES_OF_USER, &[Param::Int(user_id)])
            .await?;
        rows.iter()
            .map(identity_from_row)
            .collect::<Result<_, _>>()
            .map_err(classify)
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<User>, StoreError> {
        let rows = self
            .fetch_all(sql::USERS_BY_EMAIL, &[Param::Text(email)])
            .await?;
        rows.iter()
            .map(user_from_row)
            .collect::<Result<_, _>>()
            .map_err(classify)
    }

    async fn link_identity(
        &self,
        user_id: i64,
        identity: &NewIdentity,
        now: i64,
    ) -> Result<Identity, StoreError> {
        let params = sql::identity_params(user_id, identity, now);
        let id = self.insert_returning(sql::INSERT_IDENTITY, &params).await?;
        Ok(identity.linked(id, user_id, now))
    }

    async fn create_user_with_identity(
        &self,
        user: &NewUser,
        identity: &NewIdentity,
        now: i64,
    ) -> Result<User, StoreError> {
        let id = self
            .timed(&self.writes, async {
                let mut tx = self
                    .skipping_dead(dead_connection, || self.pool.begin())
                    .await?;
                let params = sql::user_params(user, now);
                let row = bind(sqlx::query(sql::INSERT_USER), &params)
                    .fetch_one(&mut *tx)
                    .await?;
                let id = int(&row, 0)?;
                let params = sql::identity_params(id, identity, now);
                bind(sqlx::query(sql::INSERT_IDENTITY), &params)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(id)
            })
            .await?;
        self.user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Other("user vanished".into()))
    }

    async fn unlink_identity(&self, user_id: i64, identity_id: i64) -> Result<bool, StoreError> {
        let params = [Param::Int(identity_id), Param::Int(user_id)];
        Ok(self.execute(sql::DELETE_IDENTITY, &params).await? == 1)
    }

    async fn put_pending(
        &self,
        key_hash: &str,
        kind: &str,
        payload: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(sql::PURGE_PENDING, &[Param::Int(now)]).await?;
        let params = [
            Param::Text(key_hash),
            Param::Text(kind),
            Param::Text(payload),
            Param::Int(expires_at),
        ];
        self.execute(sql::PUT_PENDING, &params).await.map(drop)
    }

    async fn take_pending(
        &self,
        key_hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let params = [Param::Text(key_hash), Param::Text(kind)];
        let row = self.fetch_written(sql::TAKE_PENDING, &params).await?;
        let Some(row) = row else { return Ok(None) };
        let payload: String = row.try_get(0).map_err(classify)?;
        let expires = int(&row, 1).map_err(classify)?;
        Ok((expires > now).then_some(payload))
    }
}
