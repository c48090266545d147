//! Token writes — record an issued refresh token, blacklist one, rotate one —
//! as data, and their logic written once for both databases.
//!
//! The logic runs against [`Tx`], the one thing it needs of a database: run a
//! statement of [`sql`](super::sql) inside the caller's transaction and say
//! how many rows it touched. PostgreSQL implements it over a sqlx
//! transaction (one per write: concurrent writers are fine there); SQLite
//! over its single writer connection, where the writes of concurrent
//! requests are committed together, each inside its own savepoint (see
//! `sqlite/writer.rs`). Every SQLite future is ready at once, so the writer
//! thread drives [`apply`] with a trivial `now_or_never` instead of a runtime.
//!
//! Exactly-once holds wherever `apply` runs: two rotations of one token in
//! the same transaction see each other's blacklist row, so the second claim
//! finds the conflict, as two concurrent transactions do through the index.
//!
//! This module depends on the records and the SQL text only; the drivers
//! depend on it, never the other way round.

use std::future::Future;

use super::model::OutstandingToken;
use super::sql::{self, Param};

/// One token write.
#[derive(Debug, Clone)]
pub(super) enum TokenWrite {
    /// Record an issued token (idempotent by `jti`).
    Record(OutstandingToken),
    /// Blacklist a token; takes effect only if it was not blacklisted yet.
    Blacklist { token: OutstandingToken, now: i64 },
    /// Blacklist `used` and record `successor`; only if `used` was not blacklisted yet.
    Rotate {
        used: OutstandingToken,
        successor: OutstandingToken,
        now: i64,
    },
}

/// A transaction (or connection) that token writes run in.
pub(super) trait Tx {
    /// The driver's own error, classified by the driver afterwards (so it
    /// can still tell, say, a full disk from a lost connection).
    type Error;

    /// Runs one statement with its `$n` parameters; returns rows affected.
    fn execute(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<u64, Self::Error>> + Send;
}

/// Applies one write inside `tx`. Returns whether it took effect (for
/// blacklist and rotate: whether this call claimed the token; a record is
/// always `true`).
pub(super) async fn apply<T: Tx + Send>(tx: &mut T, op: &TokenWrite) -> Result<bool, T::Error> {
    match op {
        TokenWrite::Record(token) => {
            record(tx, token).await?;
            Ok(true)
        }
        TokenWrite::Blacklist { token, now } => claim(tx, token, *now).await,
        TokenWrite::Rotate {
            used,
            successor,
            now,
        } => {
            if !claim(tx, used, *now).await? {
                return Ok(false);
            }
            record(tx, successor).await?;
            Ok(true)
        }
    }
}

/// Records a token by `jti` (idempotent; a missing owner becomes NULL).
async fn record<T: Tx + Send>(tx: &mut T, token: &OutstandingToken) -> Result<(), T::Error> {
    tx.execute(
        sql::INSERT_OUTSTANDING,
        &[
            Param::Text(&token.jti),
            Param::OptInt(token.user_id),
            Param::OptInt(token.created_at),
            Param::Int(token.expires_at),
        ],
    )
    .await?;
    Ok(())
}

/// Inserts the blacklist row for `token`; true if this call made it.
async fn claim<T: Tx + Send>(
    tx: &mut T,
    token: &OutstandingToken,
    now: i64,
) -> Result<bool, T::Error> {
    // The token may never have been recorded (issued elsewhere with the same key).
    record(tx, token).await?;
    let claimed = tx
        .execute(
            sql::INSERT_BLACKLISTED,
            &[Param::Text(&token.jti), Param::Int(now)],
        )
        .await?;
    Ok(claimed == 1)
}
