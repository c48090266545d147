//! The probes, on SQLite and PostgreSQL: `/healthz` answers while the process
//! is up; `/readyz` answers 200 while the database answers with the schema
//! this program knows, and 503 with the `service_unavailable` body when it
//! does not (a closed store; a migration from a newer version), back to 200
//! as soon as it does. The database going away under a live server is in
//! `tests/postgres_faults.rs` (through its fault proxy).

#[macro_use]
mod common;

use common::*;
use serde_json::json;

fn unavailable() -> serde_json::Value {
    json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"})
}

/// A migration version no release of this program has.
const FUTURE_VERSION: i64 = 99_990_101_000_000;

/// Runs one statement on the test database over a connection of its own.
async fn exec(db: &TestDb, sqlite: &str, postgres: &str) {
    if db.backend() == "sqlite" {
        let path = db.url.strip_prefix("sqlite://").expect("sqlite URL");
        let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
        conn.execute_batch(sqlite).expect(sqlite);
    } else {
        use sqlx::Connection as _;
        let mut conn = sqlx::postgres::PgConnection::connect(&db.url)
            .await
            .expect("connect to the test database");
        sqlx::query(postgres)
            .execute(&mut conn)
            .await
            .expect(postgres);
        let _ = conn.close().await;
    }
}

backend_tests!(
    probes_answer_with_no_credentials_and_are_never_cached,
    |db| async move {
        let app = app(db, &[]).await;
        let r = app.send(bare("GET", "/healthz")).await;
        r.expect(200, &json!({"status": "ok"}));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let r = app.send(bare("GET", "/readyz")).await;
        r.expect(200, &json!({"status": "ready"}));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        app.send(bare("HEAD", "/readyz")).await.expect_status(200);
        let r = app.send(bare("POST", "/readyz")).await;
        r.expect(405, &json!({"detail": "Method \"POST\" not allowed."}));
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
);

backend_tests!(
    readyz_is_503_while_the_schema_is_newer_than_this_program_and_200_again_after,
    |db| async move {
        let app = app(db, &[]).await;
        app.send(bare("GET", "/readyz")).await.expect_status(200);
        exec(
            &app.db,
            &format!(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES ({FUTURE_VERSION}, 'from the future', 1, X'00', 0)"
            ),
            &format!(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES ({FUTURE_VERSION}, 'from the future', TRUE, '\\x00', 0)"
            ),
        )
        .await;
        let r = app.send(bare("GET", "/readyz")).await;
        r.expect(503, &unavailable());
        assert_eq!(r.header("retry-after"), Some("1"));
        // The process is still up.
        app.send(bare("GET", "/healthz")).await.expect_status(200);
        let delete = format!("DELETE FROM _sqlx_migrations WHERE version = {FUTURE_VERSION}");
        exec(&app.db, &delete, &delete).await;
        let r = app.send(bare("GET", "/readyz")).await;
        r.expect(200, &json!({"status": "ready"}));
    }
);

backend_tests!(
    readyz_is_503_while_a_migration_is_pending,
    |db| async move {
        let app = app(db, &[]).await;
        exec(
            &app.db,
            "UPDATE _sqlx_migrations SET success = 0 WHERE version = \
             (SELECT MAX(version) FROM _sqlx_migrations)",
            "UPDATE _sqlx_migrations SET success = FALSE WHERE version = \
             (SELECT MAX(version) FROM _sqlx_migrations)",
        )
        .await;
        app.send(bare("GET", "/readyz"))
            .await
            .expect(503, &unavailable());
    }
);

backend_tests!(
    readyz_is_503_once_the_store_is_closed_while_healthz_stays_200,
    |db| async move {
        let app = app(db, &[]).await;
        app.send(bare("GET", "/readyz")).await.expect_status(200);
        app.store.close().await;
        app.send(bare("GET", "/readyz"))
            .await
            .expect(503, &unavailable());
        app.send(bare("GET", "/healthz"))
            .await
            .expect(200, &json!({"status": "ok"}));
    }
);
