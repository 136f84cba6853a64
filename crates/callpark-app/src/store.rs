//! The store: PostgreSQL when `DATABASE_URL` is set, else in memory.

use std::sync::Arc;

use callpark_domain::{EventPublisher, ParkingStore};
use callpark_memory::{MemoryEvents, MemoryStore};

use crate::{Settings, StartupError};

pub(crate) async fn open(
    settings: &Settings,
) -> Result<(Arc<dyn ParkingStore>, Arc<dyn EventPublisher>), StartupError> {
    match &settings.database {
        None => Ok((Arc::new(MemoryStore::new()), Arc::new(MemoryEvents::new()))),
        Some(_database) => Err(StartupError::Store(
            "PostgreSQL support is not wired yet".into(),
        )),
    }
}

pub(crate) async fn migrate(
    _database: &crate::config::DatabaseSettings,
) -> Result<(), StartupError> {
    Err(StartupError::Store(
        "PostgreSQL support is not wired yet".into(),
    ))
}
