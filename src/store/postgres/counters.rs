//! Login failure counters on PostgreSQL: the `login_failures` table, shared
//! by every instance (`store::counters` has the rule; this is its storage).

use sqlx::postgres::PgRow;

use super::super::counters::{FailureCounters, Failures};
use super::super::error::StoreError;
use super::super::sql::{self, Param};
use super::{classify, int, PgDatabase};

fn failures_of(row: &PgRow) -> Result<Failures, StoreError> {
    let count = int(row, 0).map_err(classify)?;
    let last_ms = int(row, 1).map_err(classify)?;
    Ok(Failures {
        count: u32::try_from(count).unwrap_or(u32::MAX),
        last_ms,
    })
}

/// Login failure counters in the `login_failures` table, shared by every
/// instance; each failure is one atomic upsert.
#[async_trait::async_trait]
impl FailureCounters for PgDatabase {
    async fn get(&self, key: &str, since_ms: i64) -> Result<Option<Failures>, StoreError> {
        let row = self
            .fetch(sql::FAILURES_GET, &[Param::Text(key), Param::Int(since_ms)])
            .await?;
        row.as_ref().map(failures_of).transpose()
    }

    async fn record(&self, key: &str, now_ms: i64, since_ms: i64) -> Result<Failures, StoreError> {
        // An upsert that counts: repeated only when the server said it had
        // not run it (a read's retry on an I/O error could count twice).
        let row = self
            .fetch_written(
                sql::FAILURES_RECORD,
                &[Param::Text(key), Param::Int(now_ms), Param::Int(since_ms)],
            )
            .await?
            .ok_or_else(|| StoreError::Schema("login_failures upsert returned no row".into()))?;
        // Now and then, drop the counters that have run out (any instance may).
        if now_ms % 64 == 0 {
            self.execute(sql::FAILURES_PURGE, &[Param::Int(since_ms)])
                .await?;
        }
        failures_of(&row)
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        self.execute(sql::FAILURES_CLEAR, &[Param::Text(key)])
            .await?;
        Ok(())
    }
}
