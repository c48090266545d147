//! Seeds a simplejwt database with many outstanding tokens, a fraction of
//! them blacklisted and a fraction already expired, for the cost-growth and
//! flush benchmarks (`bench/cost_growth.sh`).
//!
//! ```text
//! DATABASE_URL=sqlite:///tmp/x/db.sqlite3 \
//!   target/release/examples/seed_tokens --outstanding 1000000 \
//!     --blacklisted-fraction 0.5 --expired-fraction 0.5
//! ```
//!
//! Options: `--outstanding N` (rows to add), `--blacklisted-fraction F`
//! (default 0.5), `--expired-fraction F` (default 0), `--user-id ID` (owner;
//! NULL when no such user; default 1), `--batch N` (rows per transaction,
//! default 50000).
//!
//! Rows are generated inside the database by one `WITH RECURSIVE` insert per
//! batch (SQL that SQLite and PostgreSQL both accept), after the store has
//! created and migrated the database, over a direct connection of each
//! database's own driver (rusqlite, sqlx's `PgConnection`). Token ids look like real ones (32 hex digits,
//! random on SQLite, md5 of a unique string on PostgreSQL), so the `jti`
//! index grows the way it does in production. The expired rows are the
//! oldest ones (lowest ids: tokens expire in the order they were issued);
//! blacklisted rows are spread evenly over all ids (`(id * 7919) % 10000`),
//! so about that fraction of the expired rows is blacklisted too.

use std::time::Instant;

use simplejwt::store::{Backend, StoreOptions};
use sqlx::{Connection, Executor, Row};

fn usage() -> ! {
    eprintln!(
        "usage: DATABASE_URL=... seed_tokens --outstanding N [--blacklisted-fraction F (0.5)] \
         [--expired-fraction F (0)] [--user-id ID (1)] [--batch N (50000)]"
    );
    std::process::exit(2)
}

fn fraction(raw: String) -> f64 {
    match raw.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => f,
        _ => usage(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut outstanding: i64 = -1;
    let mut blacklisted_fraction = 0.5;
    let mut expired_fraction = 0.0;
    let mut user_id: i64 = 1;
    let mut batch: i64 = 50_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--outstanding" => outstanding = value().parse().unwrap_or_else(|_| usage()),
            "--blacklisted-fraction" => blacklisted_fraction = fraction(value()),
            "--expired-fraction" => expired_fraction = fraction(value()),
            "--user-id" => user_id = value().parse().unwrap_or_else(|_| usage()),
            "--batch" => batch = value().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if outstanding < 0 || batch < 1 {
        usage();
    }
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        eprintln!("seed_tokens: set DATABASE_URL (sqlite://... or postgres://...)");
        std::process::exit(2)
    });
    if let Err(e) = seed(
        &url,
        outstanding,
        blacklisted_fraction,
        expired_fraction,
        user_id,
        batch,
    )
    .await
    {
        eprintln!("seed_tokens: {e}");
        std::process::exit(1);
    }
}

/// What to insert, the same on both databases.
struct Plan {
    outstanding: i64,
    batch: i64,
    user_id: i64,
    now: i64,
    live_exp: i64,
    dead_exp: i64,
    expired_total: i64,
    blacklist_threshold: i64,
    run_tag: String,
}

/// One statement per batch: n = 1..count, global row index = offset + n.
/// `$1` count, `$2` owner, `$3` offset, `$4` expired rows, `$5`/`$6` dead and
/// live expiry, `$7` (PostgreSQL) this run's tag for unique ids.
fn insert_outstanding(jti: &str) -> String {
    format!(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1) \
         INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
         SELECT {jti}, (SELECT id FROM users WHERE id = $2), \
                CASE WHEN n + $3 <= $4 THEN $5 ELSE $6 END - 86400, \
                CASE WHEN n + $3 <= $4 THEN $5 ELSE $6 END \
         FROM seq"
    )
}

/// `$1` now, `$2` the highest id before this batch, `$3` the threshold out of 10000.
const INSERT_BLACKLISTED: &str = "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) \
     SELECT id, $1 FROM outstanding_tokens WHERE id > $2 AND (id * 7919) % 10000 < $3";

const MAX_ID: &str = "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS m FROM outstanding_tokens";

/// `$1` now → outstanding, blacklisted, expired.
const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM outstanding_tokens) AS o, \
     (SELECT COUNT(*) FROM blacklisted_tokens) AS b, \
     (SELECT COUNT(*) FROM outstanding_tokens WHERE expires_at <= $1) AS e";

fn progress(plan: &Plan, done: i64, blacklisted: u64, started: Instant) {
    eprintln!(
        "seed_tokens: {done}/{} outstanding, {blacklisted} blacklisted ({:.1}s)",
        plan.outstanding,
        started.elapsed().as_secs_f64()
    );
}

async fn seed(
    url: &str,
    outstanding: i64,
    blacklisted_fraction: f64,
    expired_fraction: f64,
    user_id: i64,
    batch: i64,
) -> Result<(), Box<dyn std::error::Error>> {
    // The store creates (privately) and migrates the database; the rows go
    // in over a direct connection of each database's own driver.
    let store = simplejwt::store::connect(url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let backend = store.backend();
    store.close().await;

    let now = simplejwt::token::Timestamp::now().epoch();
    let plan = Plan {
        outstanding,
        batch,
        user_id,
        now,
        live_exp: now + 86_400,
        dead_exp: now - 3_600,
        expired_total: (outstanding as f64 * expired_fraction).round() as i64,
        blacklist_threshold: (blacklisted_fraction * 10_000.0).round() as i64,
        run_tag: format!("{:x}-{}", now, std::process::id()),
    };
    let started = Instant::now();
    let (blacklisted, (o, b, e)) = match backend {
        Backend::Sqlite => {
            let path = simplejwt::store::sqlite_file(url)?.ok_or("not a SQLite URL")?;
            seed_sqlite(&path, &plan, started)?
        }
        Backend::Postgres => seed_postgres(url, &plan, started).await?,
    };
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "seeded {outstanding} outstanding ({blacklisted} blacklisted, {} expired) in \
         {elapsed:.2}s ({:.0} rows/s); database now has {o} outstanding, {b} blacklisted, {e} expired",
        plan.expired_total,
        outstanding as f64 / elapsed.max(1e-9)
    );
    Ok(())
}

type Seeded = (u64, (i64, i64, i64));

fn seed_sqlite(
    path: &std::path::Path,
    plan: &Plan,
    started: Instant,
) -> Result<Seeded, Box<dyn std::error::Error>> {
    use rusqlite::{Connection, ToSql, TransactionBehavior};
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(600))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -262_144)?; // 256 MiB page cache
    let insert = insert_outstanding("lower(hex(randomblob(16)))");
    let (mut done, mut blacklisted) = (0i64, 0u64);
    while done < plan.outstanding {
        let count = plan.batch.min(plan.outstanding - done);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let max_id: i64 = tx.query_row(MAX_ID, [], |row| row.get(0))?;
        let params: [(&str, &dyn ToSql); 6] = [
            ("$1", &count),
            ("$2", &plan.user_id),
            ("$3", &done),
            ("$4", &plan.expired_total),
            ("$5", &plan.dead_exp),
            ("$6", &plan.live_exp),
        ];
        tx.execute(&insert, &params[..])?;
        if plan.blacklist_threshold > 0 {
            let params: [(&str, &dyn ToSql); 3] = [
                ("$1", &plan.now),
                ("$2", &max_id),
                ("$3", &plan.blacklist_threshold),
            ];
            blacklisted += tx.execute(INSERT_BLACKLISTED, &params[..])? as u64;
        }
        tx.commit()?;
        done += count;
        progress(plan, done, blacklisted, started);
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let counts = conn.query_row(COUNTS, &[("$1", &plan.now as &dyn ToSql)][..], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })?;
    Ok((blacklisted, counts))
}

async fn seed_postgres(
    url: &str,
    plan: &Plan,
    started: Instant,
) -> Result<Seeded, Box<dyn std::error::Error>> {
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    conn.execute("SET statement_timeout = 600000").await?;
    let insert = insert_outstanding("md5($7 || '-' || CAST(n AS TEXT))");
    let (mut done, mut blacklisted) = (0i64, 0u64);
    while done < plan.outstanding {
        let count = plan.batch.min(plan.outstanding - done);
        let mut tx = conn.begin().await?;
        let max_id: i64 = sqlx::query(MAX_ID)
            .fetch_one(&mut *tx)
            .await?
            .try_get("m")?;
        sqlx::query(&insert)
            .bind(count)
            .bind(plan.user_id)
            .bind(done)
            .bind(plan.expired_total)
            .bind(plan.dead_exp)
            .bind(plan.live_exp)
            .bind(format!("{}-{done}", plan.run_tag))
            .execute(&mut *tx)
            .await?;
        if plan.blacklist_threshold > 0 {
            blacklisted += sqlx::query(INSERT_BLACKLISTED)
                .bind(plan.now)
                .bind(max_id)
                .bind(plan.blacklist_threshold)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        done += count;
        progress(plan, done, blacklisted, started);
    }
    let row = sqlx::query(COUNTS)
        .bind(plan.now)
        .fetch_one(&mut conn)
        .await?;
    let counts = (row.try_get("o")?, row.try_get("b")?, row.try_get("e")?);
    conn.close().await?;
    Ok((blacklisted, counts))
}
