//! Test databases: each test gets its own, created from the admin `DATABASE_URL`, migrated, and
//! dropped when its guard is. Without a reachable Postgres the tests fail, saying how to get one.

use std::ops::Deref;
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{EventPublisher, EventSubscription, LotEvent, SubscriptionError};
use callpark_postgres::{PgConfig, PgStore, run_migrations};

/// Where tests find a Postgres they may create databases in.
pub(crate) fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database replaced by `dbname`, for URLs and key/value strings alike.
pub(crate) fn with_dbname(url: &str, dbname: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url
            .split_once('?')
            .map_or((url, None), |(b, q)| (b, Some(q)));
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let authority_end = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |i| scheme_end + i);
        let mut out = format!("{}/{dbname}", &base[..authority_end]);
        if let Some(query) = query {
            out.push('?');
            out.push_str(query);
        }
        out
    } else {
        // In key/value strings a later key wins.
        format!("{url} dbname={dbname}")
    }
}

async fn admin_client() -> tokio_postgres::Client {
    let url = admin_url();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot reach PostgreSQL at DATABASE_URL={url:?}: {e:?}. These tests need a real \
                 server: run them through scripts/test.sh (which sources \
                 scripts/test-postgres.sh), or start one and set DATABASE_URL."
            )
        });
    tokio::spawn(connection);
    client
}

/// A freshly migrated database of its own, dropped (connections and all) with the guard.
#[derive(Debug)]
pub(crate) struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    pub(crate) async fn create() -> Self {
        let name = format!("callpark_test_{:016x}", fastrand::u64(..));
        admin_client()
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("test database created");
        let db = Self {
            url: with_dbname(&admin_url(), &name),
            name,
        };
        run_migrations(&db.config()).await.expect("migrated");
        db
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn config(&self) -> PgConfig {
        let mut config = PgConfig::new(self.url.clone());
        config.pool_size = 8;
        config
    }

    /// Runs `sql` as the admin (in the admin database: for cluster-wide views and commands).
    pub(crate) async fn admin(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        admin_client()
            .await
            .query(sql, &[])
            .await
            .expect("admin query")
    }

    /// A connection of its own to this database.
    pub(crate) async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("connected to the test database");
        tokio::spawn(connection);
        client
    }

    /// Runs `sql` in this database, on a connection of its own.
    pub(crate) async fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.client().await.query(sql, &[]).await.expect("query")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which must not block on itself: use a thread
        // with a runtime of its own.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                admin_client()
                    .await
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("dropping the test database failed: {dropped:?}");
        }
    }
}

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
    let db = TestDb::create().await;
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

#[test]
fn dbname_is_replaced_in_urls_and_key_value_strings() {
    assert_eq!(
        with_dbname("postgres://u:p@h:5/postgres?sslmode=disable", "t"),
        "postgres://u:p@h:5/t?sslmode=disable"
    );
    assert_eq!(with_dbname("postgresql://h", "t"), "postgresql://h/t");
    assert_eq!(with_dbname("host=h user=u", "t"), "host=h user=u dbname=t");
}
