//! The store: PostgreSQL when `DATABASE_URL` is set, else in memory.

use std::sync::Arc;
use std::time::Duration;

use callpark_domain::{EventPublisher, ParkingStore};
use callpark_memory::{MemoryEvents, MemoryStore};
use callpark_postgres::{PgConfig, PgEvents, PgStore, run_migrations};
use secrecy::ExposeSecret;

use crate::config::DatabaseSettings;
use crate::{Settings, StartupError};

fn pg_config(database: &DatabaseSettings) -> PgConfig {
    let mut config = PgConfig::new(database.url.expose_secret());
    config.pool_size = database.pool_size;
    config.connect_timeout = database.timeout;
    // A statement slower than this is a sick database: fail it (503) rather than queue behind it.
    config.statement_timeout = database.timeout.max(Duration::from_secs(2));
    config
}

pub(crate) async fn open(
    settings: &Settings,
) -> Result<(Arc<dyn ParkingStore>, Arc<dyn EventPublisher>), StartupError> {
    let Some(database) = &settings.database else {
        return Ok((Arc::new(MemoryStore::new()), Arc::new(MemoryEvents::new())));
    };
    let config = pg_config(database);
    if settings.migrate {
        let applied = run_migrations(&config)
            .await
            .map_err(|e| StartupError::Store(e.into()))?;
        if !applied.is_empty() {
            tracing::info!(?applied, "database migrations applied");
        }
    }
    let store = PgStore::connect(&config)
        .await
        .map_err(|e| StartupError::Store(e.into()))?;
    Ok((Arc::new(store), Arc::new(PgEvents::start(&config))))
}

pub(crate) async fn migrate(database: &DatabaseSettings) -> Result<(), StartupError> {
    let applied = run_migrations(&pg_config(database))
        .await
        .map_err(|e| StartupError::Store(e.into()))?;
    tracing::info!(?applied, "database migrations applied");
    Ok(())
}
