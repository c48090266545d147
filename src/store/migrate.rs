//! Schema migrations for both databases, through sqlx's migrator.
//!
//! Databases created by earlier versions carry sqlx's `_sqlx_migrations`
//! table (versions, checksums, the dirty flag). Both databases keep using
//! `sqlx::migrate!` on one sqlx connection opened for the purpose — a pooled
//! one on PostgreSQL, a one-off `SqliteConnection` on SQLite (run time
//! itself is on rusqlite) — so that table is read and written by the code
//! that defined it, and the checksums stay byte-for-byte compatible.
//! Re-implementing the migrator over rusqlite would save a dependency that
//! the URL parser needs anyway (see `url.rs`), at the price of a second
//! copy of sqlx's bookkeeping that must never drift. On PostgreSQL the
//! migrator takes its advisory lock, so instances starting together do not
//! migrate twice.

use sqlx::migrate::{Migrate, MigrateError, Migrator};

use super::error::StoreError;

/// The SQLite schema history.
pub(super) static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
/// The PostgreSQL schema history.
pub(super) static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// The message of every "schema newer than this program" refusal.
fn newer(version: i64) -> StoreError {
    StoreError::Schema(format!(
        "the database has migration {version}, which this version of simplejwt does not know: \
         it was migrated by a newer version; upgrade this program"
    ))
}

/// Applies `migrator`'s pending migrations on `conn` (taking the migration
/// lock). `classify` maps the driver's own errors.
pub(super) async fn run<C: Migrate>(
    migrator: &Migrator,
    conn: &mut C,
    classify: fn(sqlx::Error) -> StoreError,
) -> Result<(), StoreError> {
    migrator.run_direct(conn).await.map_err(|e| match e {
        MigrateError::Execute(inner) => classify(inner),
        MigrateError::VersionMissing(v) => newer(v),
        other => StoreError::Schema(other.to_string()),
    })
}

/// Checks that the applied migrations are exactly `migrator`'s.
pub(super) async fn check<C: Migrate>(migrator: &Migrator, conn: &mut C) -> Result<(), StoreError> {
    let schema = |e: MigrateError| StoreError::Schema(e.to_string());
    conn.ensure_migrations_table().await.map_err(schema)?;
    let applied = conn.list_applied_migrations().await.map_err(schema)?;
    current(
        migrator,
        &applied.iter().map(|a| a.version).collect::<Vec<_>>(),
    )
}

/// Whether the `applied` migration versions are exactly `migrator`'s:
/// [`StoreError::Schema`] naming one it does not know (newer program) or
/// one not applied yet. Creates and reads nothing: the readiness check
/// (`Database::ready`) reads the versions with one query of its own.
pub(super) fn current(migrator: &Migrator, applied: &[i64]) -> Result<(), StoreError> {
    if let Some(&unknown) = applied
        .iter()
        .find(|&&a| !migrator.iter().any(|m| m.version == a))
    {
        return Err(newer(unknown));
    }
    if let Some(pending) = migrator
        .iter()
        .find(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
    {
        return Err(StoreError::Schema(format!(
            "migration {} ({}) is not applied yet: run `simplejwt migrate`",
            pending.version, pending.description
        )));
    }
    Ok(())
}
