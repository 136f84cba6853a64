//! The embedded migrations, and running them.

use diesel::connection::SimpleConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::{APPLICATION_NAME, PgConfig, establish};
use crate::error::SetupError;

/// The migrations under `crates/callpark-postgres/migrations`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any constant will do, as long as nothing else in the database takes the same advisory lock.
const MIGRATION_LOCK: i64 = 0x6361_6c6c_7061_726b; // "callpark"

/// Brings the database's schema up to date, and returns the versions it applied.
///
/// Several instances may start at once: they take turns on an advisory lock, and the later ones
/// find nothing left to do. diesel's migration harness is synchronous, so it runs on a
/// blocking thread through diesel-async's connection wrapper (diesel-async's own async harness
/// panics on a single-threaded runtime such as actix's).
///
/// # Errors
/// [`SetupError::InvalidUrl`], [`SetupError::Unavailable`] when the database cannot be
/// reached, [`SetupError::Migration`] when a migration fails.
pub async fn run_migrations(config: &PgConfig) -> Result<Vec<String>, SetupError> {
    config
        .postgres_config(APPLICATION_NAME)
        .map_err(SetupError::InvalidUrl)?;
    // No statement timeout for schema changes: a migration may rightly take a while.
    let mut unbounded = config.clone();
    unbounded.statement_timeout = std::time::Duration::ZERO;
    let connection = tokio::time::timeout(
        config.connect_timeout,
        establish(&unbounded, APPLICATION_NAME),
    )
    .await
    .map_err(|elapsed| unavailable(Box::new(elapsed)))?
    .map_err(|e| unavailable(Box::new(e)))?;

    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(connection);
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .map_err(|e| SetupError::Migration(Box::new(e)))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(SetupError::Migration);
        // Closing the connection would release the lock too; unlocking says so explicitly.
        let unlocked = conn
            .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .map_err(|e| SetupError::Migration(Box::new(e)));
        let applied = applied?;
        unlocked?;
        Ok(applied)
    })
    .await
    .map_err(|e| SetupError::Migration(Box::new(e)))?
}

fn unavailable(cause: callpark_domain::BoxError) -> SetupError {
    SetupError::Unavailable(callpark_domain::StoreError::Unavailable(cause))
}
