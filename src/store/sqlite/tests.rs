//! Unit tests of the SQLite driver that need its insides: the writer's
//! connection (to make the database "full" without root), the group-commit
//! function (to put a failing job in a batch deterministically), and the
//! file the URL parser names.

use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::conn::{open_writer, FileConfig};
use super::writer::commit_batch;
use super::*;
use crate::store::url::{parse, Target};

pub(super) fn url_in(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}/{name}", dir.path().display())
}

fn open_url(url: &str, options: &StoreOptions) -> SqliteDatabase {
    match parse(url).expect("URL") {
        Target::Sqlite(target) => SqliteDatabase::open(*target, options).expect("open"),
        Target::Postgres(_) => unreachable!("a SQLite URL"),
    }
}

pub(super) async fn migrated(dir: &tempfile::TempDir, options: &StoreOptions) -> SqliteDatabase {
    let db = open_url(&url_in(dir, "db.sqlite3"), options);
    db.migrate().await.expect("migrate");
    db
}

pub(super) fn token(jti: &str) -> OutstandingToken {
    OutstandingToken {
        jti: jti.into(),
        user_id: Some(1),
        created_at: Some(1),
        expires_at: i64::MAX / 2,
    }
}

fn alice() -> NewUser {
    NewUser {
        username: "alice".into(),
        password_hash: "hash".into(),
        email: String::new(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
    }
}

/// Sets `PRAGMA max_page_count` on the writer's own connection.
pub(super) async fn limit_pages(db: &SqliteDatabase, pages: Option<i64>) {
    db.writer
        .run(move |conn| {
            let pages = match pages {
                Some(pages) => pages,
                None => conn.query_row("PRAGMA page_count", [], |row| row.get(0))?,
            };
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| {
                row.get::<_, i64>(0)
            })
        })
        .await
        .expect("max_page_count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_fails_writes_as_unavailable_and_the_first_write_after_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir, &StoreOptions::default()).await;
    db.create_user(&alice(), 0).await.unwrap();
    db.add_outstanding(&token("used")).await.unwrap();
    // Not a byte more: the database is full once its last page is.
    limit_pages(&db, None).await;
    // Ids in increasing order land on the last leaf, so once one does not
    // fit, the next does not either.
    let padding = "x".repeat(300);
    let mut recorded = 0;
    let full = loop {
        let jti = format!("{recorded:06}-{padding}");
        match db.add_outstanding(&token(&jti)).await {
            Ok(()) => recorded += 1,
            Err(e) => break e,
        }
        assert!(recorded < 10_000, "the page limit never bit");
    };
    assert!(
        matches!(&full, StoreError::Unavailable(m) if m.contains("full")),
        "{full:?}"
    );
    // Still full: the limit holds on the same connection, and every kind of
    // write fails the same way instead of hanging or poisoning the writer.
    let next = format!("{recorded:06}-{padding}z");
    let again = db.rotate(&token("used"), &token(&next), 1).await;
    assert!(
        matches!(again, Err(StoreError::Unavailable(_))),
        "{again:?}"
    );
    assert!(
        !db.is_blacklisted("used").await.unwrap(),
        "nothing of a failed rotation stays"
    );

    // The cause goes away: the next write succeeds, and so do the others.
    limit_pages(&db, Some(1 << 30)).await;
    assert!(db.rotate(&token("used"), &token(&next), 1).await.unwrap());
    assert!(db.is_blacklisted("used").await.unwrap());
    db.add_outstanding(&token("later")).await.unwrap();
    assert!(db.set_meta_once("k", "v").await.unwrap());
    assert_eq!(db.token_counts().await.unwrap(), (recorded + 3, 1));
}

#[test]
fn one_failing_job_does_not_fail_the_others_in_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(migrated(&dir, &StoreOptions::default()));
    let path = dir.path().join("db.sqlite3");
    let poison = "CREATE TRIGGER poison BEFORE INSERT ON outstanding_tokens \
                  WHEN NEW.jti = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END";
    Connection::open(&path)
        .unwrap()
        .execute_batch(poison)
        .unwrap();

    let mut conn = open_writer(&FileConfig {
        path,
        access: crate::store::url::Access::ReadWrite,
        synchronous: "FULL",
        busy_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let rotate = |successor: &str| TokenWrite::Rotate {
        used: token("a"),
        successor: token(successor),
        now: 1,
        rules: crate::store::RotationRules::default(),
    };
    let ops = [
        TokenWrite::Record(token("a")),
        TokenWrite::Record(token("poison")),
        rotate("b"),
        // The same token again in the same batch: it sees the first claim.
        rotate("c"),
        TokenWrite::Blacklist {
            token: token("a"),
            now: 1,
        },
    ];
    let refs: Vec<&TokenWrite> = ops.iter().collect();
    let results = commit_batch(&mut conn, &refs).expect("the batch commits");
    let results: Vec<Option<bool>> = results
        .into_iter()
        .map(|r| r.ok().map(|done| done.took()))
        .collect();
    assert_eq!(
        results,
        [Some(true), None, Some(true), Some(false), Some(false)]
    );
    assert!(conn.is_autocommit(), "committed, nothing left open");

    rt.block_on(async {
        assert_eq!(
            db.token_counts().await.unwrap(),
            (2, 1),
            "a and b; a blacklisted"
        );
        assert!(db.is_blacklisted("a").await.unwrap());
        assert!(!db.is_blacklisted("b").await.unwrap());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_unavailable_within_the_deadline_then_writes_resume() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        statement_timeout: Duration::from_millis(200),
        connect_timeout: Duration::from_millis(300),
        ..StoreOptions::default()
    };
    let db = migrated(&dir, &options).await;
    db.add_outstanding(&token("a")).await.unwrap();
    // Another process holds the write lock.
    let other = Connection::open(dir.path().join("db.sqlite3")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = Instant::now();
    let locked = db.blacklist(&token("a"), 1).await;
    assert!(
        matches!(locked, Err(StoreError::Unavailable(_))),
        "{locked:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let locked = db.create_user(&alice(), 0).await;
    assert!(
        matches!(locked, Err(StoreError::Unavailable(_))),
        "{locked:?}"
    );
    // Readers never wait for a writer (WAL).
    assert!(!db.is_blacklisted("a").await.unwrap());

    other.execute_batch("ROLLBACK").unwrap();
    assert!(db.blacklist(&token("a"), 1).await.unwrap());
    assert_eq!(db.create_user(&alice(), 0).await.unwrap().id, 1);
}

#[tokio::test]
async fn a_read_only_url_reads_and_fails_writes_as_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir, &StoreOptions::default()).await;
    db.create_user(&alice(), 0).await.unwrap();
    db.close().await;

    let ro = open_url(
        &format!("{}?mode=ro", url_in(&dir, "db.sqlite3")),
        &StoreOptions::default(),
    );
    assert_eq!(ro.user_by_id(1).await.unwrap().unwrap().username, "alice");
    let refused = ro.add_outstanding(&token("a")).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_opened_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_url(
        &url_in(&dir, "missing/db.sqlite3"),
        &StoreOptions::default(),
    );
    for e in [
        db.ping().await.unwrap_err(),
        db.user_by_id(1).await.unwrap_err(),
        db.add_outstanding(&token("a")).await.unwrap_err(),
    ] {
        assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    }
}

#[tokio::test]
async fn a_closed_store_answers_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir, &StoreOptions::default()).await;
    db.close().await;
    assert!(matches!(
        db.user_by_id(1).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        db.add_outstanding(&token("a")).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        db.count_users().await,
        Err(StoreError::Unavailable(_))
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn a_percent_encoded_path_creates_exactly_one_private_file_and_it_is_the_database() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/my%20db.sqlite3", dir.path().display());
    let expected = dir.path().join("my db.sqlite3");
    assert_eq!(
        crate::store::sqlite_file(&url).unwrap(),
        Some(expected.clone())
    );

    let db = crate::store::connect(&url, &StoreOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.create_user(&alice(), 0).await.unwrap();
    db.close().await;
    drop(db);

    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["my db.sqlite3"]);
    let mode = std::fs::metadata(&expected).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let name: String = Connection::open(&expected)
        .unwrap()
        .query_row("SELECT username FROM users WHERE id = 1", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(name, "alice");
}

#[tokio::test]
async fn a_write_that_fails_inside_a_transaction_leaves_none_open_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir, &StoreOptions::default()).await;
    let failed = db
        .writer
        .run(|conn| conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO no_such_table VALUES (1)"))
        .await;
    assert!(matches!(failed, Err(StoreError::Other(_))), "{failed:?}");
    // Had the transaction stayed open, every later BEGIN would fail.
    db.add_outstanding(&token("a")).await.unwrap();
    assert!(db.blacklist(&token("a"), 1).await.unwrap());
    db.create_user(&alice(), 0).await.unwrap();
    // And the writes are really committed: another connection sees them.
    let other = Connection::open(dir.path().join("db.sqlite3")).unwrap();
    let rows: i64 = other
        .query_row("SELECT COUNT(*) FROM blacklisted_tokens", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn a_panicking_job_costs_its_caller_an_answer_not_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir, &StoreOptions::default()).await;
    let lost = db
        .writer
        .run(|_conn| -> rusqlite::Result<()> { panic!("a bug in a job") })
        .await;
    assert!(matches!(lost, Err(StoreError::Unavailable(_))), "{lost:?}");
    db.add_outstanding(&token("a")).await.unwrap();
    assert_eq!(db.create_user(&alice(), 0).await.unwrap().id, 1);
}

#[tokio::test]
async fn a_new_database_is_in_wal_mode_when_connect_returns() {
    // A migration right after `connect` must not race the writer switching
    // the journal mode (that lock is not waited for).
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(&dir, "db.sqlite3");
    let db = crate::store::connect(&url, &StoreOptions::default())
        .await
        .unwrap();
    let mode: String = Connection::open(dir.path().join("db.sqlite3"))
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    db.migrate().await.unwrap();
}
