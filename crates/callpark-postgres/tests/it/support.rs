//! What the integration tests share: test databases come from `callpark_postgres::testdb`
//! (each test gets its own, migrated, dropped with its guard; without a reachable Postgres the
//! tests fail, saying how to get one).

use std::ops::Deref;
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{EventPublisher, EventSubscription, LotEvent, SubscriptionError};
use callpark_postgres::PgStore;
pub(crate) use callpark_postgres::testdb::TestDb;

/// A store on a test database; derefs to the store, drops the database.
#[derive(Debug)]
pub(crate) struct TestStore {
    // Fields drop in order: the pool goes before its database.
    pub(crate) store: PgStore,
    pub db: TestDb,
}

impl Deref for TestStore {
    type Target = PgStore;

    fn deref(&self) -> &PgStore {
        &self.store
    }
}

pub(crate) async fn store() -> TestStore {
    let db = TestDb::migrated().await;
    let store = PgStore::connect(&db.config())
        .await
        .expect("store connected");
    TestStore { store, db }
}

/// A publisher that drops everything, for services whose events are not under test.
#[derive(Debug, Default)]
pub(crate) struct NoEvents;

#[async_trait]
impl EventPublisher for NoEvents {
    async fn publish(&self, _event: &LotEvent) {}

    fn subscribe(&self) -> Box<dyn EventSubscription> {
        Box::new(Closed)
    }
}

struct Closed;

#[async_trait]
impl EventSubscription for Closed {
    async fn next(&mut self) -> Result<LotEvent, SubscriptionError> {
        Err(SubscriptionError::Closed)
    }
}

/// Waits for the next event, failing the test after `within`.
pub(crate) async fn next_event(
    subscription: &mut Box<dyn EventSubscription>,
    within: Duration,
) -> LotEvent {
    tokio::time::timeout(within, subscription.next())
        .await
        .expect("an event in time")
        .expect("an event, not an error")
}
