//! The database of a test: `callpark_postgres::testdb` (the one test-database helper of the
//! workspace: `DATABASE_URL`, a database of its own, dropped when the test ends; no PostgreSQL
//! is a failure, not a skip), empty, since the app migrates it itself, and the settings the app
//! takes for it.

use std::time::Duration;

use callpark_app::config::DatabaseSettings;
use callpark_postgres::testdb::TestDb;
use secrecy::SecretString;

pub(crate) struct TestDatabase(TestDb);

impl TestDatabase {
    /// An empty database.
    pub(crate) async fn create() -> Self {
        Self(TestDb::empty().await)
    }

    pub(crate) fn url(&self) -> &str {
        self.0.url()
    }

    pub(crate) fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: SecretString::from(self.url().to_owned()),
            pool_size: 8,
            timeout: Duration::from_secs(2),
        }
    }

    /// Runs `sql` in this database, on a connection of its own.
    pub(crate) async fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.0.query(sql).await
    }
}
