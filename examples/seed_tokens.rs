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
//! batch (SQL that SQLite and PostgreSQL both accept), through the store's
//! own pool, after `migrate`. Token ids look like real ones (32 hex digits,
//! random on SQLite, md5 of a unique string on PostgreSQL), so the `jti`
//! index grows the way it does in production. The expired rows are the
//! oldest ones (lowest ids: tokens expire in the order they were issued);
//! blacklisted rows are spread evenly over all ids (`(id * 7919) % 10000`),
//! so about that fraction of the expired rows is blacklisted too.

use std::time::Instant;

use simplejwt::store::{Backend, Store, StoreOptions};
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

async fn seed(
    url: &str,
    outstanding: i64,
    blacklisted_fraction: f64,
    expired_fraction: f64,
    user_id: i64,
    batch: i64,
) -> Result<(), Box<dyn std::error::Error>> {
    let options = StoreOptions {
        max_connections: Some(1),
        statement_timeout: std::time::Duration::from_secs(600),
        sqlite_synchronous: "NORMAL".into(),
        ..StoreOptions::default()
    };
    let store = Store::connect(url, &options).await?;
    store.migrate().await?;
    let backend = store.backend();
    let mut conn = store.pool().acquire().await?;
    if backend == Backend::Sqlite {
        (&mut *conn).execute("PRAGMA cache_size = -262144").await?; // 256 MiB page cache
    }

    let now = simplejwt::token::Timestamp::now().epoch();
    let live_exp = now + 86_400;
    let dead_exp = now - 3_600;
    let expired_total = (outstanding as f64 * expired_fraction).round() as i64;
    let blacklist_threshold = (blacklisted_fraction * 10_000.0).round() as i64;
    let run_tag = format!("{:x}-{}", now, std::process::id());
    let jti = match backend {
        Backend::Sqlite => "lower(hex(randomblob(16)))",
        Backend::Postgres => "md5($7 || '-' || CAST(n AS TEXT))",
    };
    // One statement per batch: n = 1..count, global row index = offset + n.
    let insert_outstanding = format!(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1) \
         INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
         SELECT {jti}, (SELECT id FROM users WHERE id = $2), \
                CASE WHEN n + $3 <= $4 THEN $5 ELSE $6 END - 86400, \
                CASE WHEN n + $3 <= $4 THEN $5 ELSE $6 END \
         FROM seq"
    );
    let insert_blacklisted = "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) \
         SELECT id, $1 FROM outstanding_tokens WHERE id > $2 AND (id * 7919) % 10000 < $3";

    let started = Instant::now();
    let mut done: i64 = 0;
    let mut blacklisted: u64 = 0;
    while done < outstanding {
        let count = batch.min(outstanding - done);
        let mut tx = match backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => conn.begin().await?,
        };
        let max_id: i64 =
            sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS m FROM outstanding_tokens")
                .fetch_one(&mut *tx)
                .await?
                .try_get("m")?;
        let mut q = sqlx::query(&insert_outstanding)
            .bind(count)
            .bind(user_id)
            .bind(done)
            .bind(expired_total)
            .bind(dead_exp)
            .bind(live_exp);
        if backend == Backend::Postgres {
            q = q.bind(format!("{run_tag}-{done}"));
        }
        q.execute(&mut *tx).await?;
        if blacklist_threshold > 0 {
            blacklisted += sqlx::query(insert_blacklisted)
                .bind(now)
                .bind(max_id)
                .bind(blacklist_threshold)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        done += count;
        eprintln!(
            "seed_tokens: {done}/{outstanding} outstanding, {blacklisted} blacklisted ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
    }
    if backend == Backend::Sqlite {
        (&mut *conn)
            .execute("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM outstanding_tokens) AS o, \
                (SELECT COUNT(*) FROM blacklisted_tokens) AS b, \
                (SELECT COUNT(*) FROM outstanding_tokens WHERE expires_at <= $1) AS e",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let (o, b, e): (i64, i64, i64) = (row.try_get("o")?, row.try_get("b")?, row.try_get("e")?);
    drop(conn);
    store.close().await;
    println!(
        "seeded {outstanding} outstanding ({blacklisted} blacklisted, {expired_total} expired) in \
         {elapsed:.2}s ({:.0} rows/s); database now has {o} outstanding, {b} blacklisted, {e} expired",
        outstanding as f64 / elapsed.max(1e-9)
    );
    Ok(())
}
