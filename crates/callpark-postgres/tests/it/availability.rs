//! A database that cannot be reached makes operations fail as `Unavailable` within the
//! configured timeouts, never hang; one that drops connections, or comes back within the
//! connect timeout (a restart), is recovered from.

use std::time::{Duration, Instant};

use callpark_domain::testkit::{agent_identity, call_sid, caller, epoch, org_slug, organisation};
use callpark_domain::{AutoSlot, ClaimError, NewParkedCall, ParkingStore, SlotRequest, StoreError};
use callpark_postgres::{APPLICATION_NAME, PgConfig, PgStore, SetupError};

use crate::support;

const TIMEOUT: Duration = Duration::from_secs(1);
/// Scheduling slack on a busy two-core machine.
const MARGIN: Duration = Duration::from_millis(750);

fn config_for(port: u16) -> PgConfig {
    let mut config = PgConfig::new(format!("postgres://postgres@127.0.0.1:{port}/callpark"));
    config.pool_size = 2;
    config.connect_timeout = TIMEOUT;
    config.statement_timeout = TIMEOUT;
    config
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
    // dropped here: nothing listens on the port any more
}

fn claim() -> NewParkedCall {
    NewParkedCall {
        org: org_slug("acme"),
        request: SlotRequest::Auto(AutoSlot::FirstFree),
        pstn_call: call_sid(1),
        caller: caller(1),
        parked_by: agent_identity("alice"),
        call_started_at: epoch(),
        now: epoch(),
    }
}

fn assert_unavailable(error: &StoreError) {
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    // The cause is kept for the logs.
    assert!(std::error::Error::source(error).is_some());
}

/// Nothing listens: every operation is `Unavailable` once the connect timeout has passed (it
/// tries again until then, in case the database is restarting), never later.
#[tokio::test]
async fn a_closed_port_is_unavailable_within_the_timeout() {
    let config = config_for(closed_port());
    let store = PgStore::new(&config).unwrap();

    let within_timeout = |started: Instant| {
        let elapsed = started.elapsed();
        assert!(elapsed < TIMEOUT + MARGIN, "{elapsed:?}");
    };
    let started = Instant::now();
    assert_unavailable(&store.org(&org_slug("acme")).await.unwrap_err());
    within_timeout(started);
    let started = Instant::now();
    match store.claim_slot(&claim()).await.unwrap_err() {
        ClaimError::Store(e) => assert_unavailable(&e),
        other => panic!("{other:?}"),
    }
    within_timeout(started);
    let started = Instant::now();
    assert_unavailable(&store.ping().await.unwrap_err());
    within_timeout(started);

    assert!(matches!(
        PgStore::connect(&config).await,
        Err(SetupError::Unavailable(StoreError::Unavailable(_)))
    ));
    assert!(matches!(
        callpark_postgres::run_migrations(&config).await,
        Err(SetupError::Unavailable(_))
    ));
}

/// The database's port refuses connections for a moment, as while PostgreSQL restarts, and
/// then accepts them again: an operation asked meanwhile waits for it rather than failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_back_within_the_connect_timeout_serves_the_operation() {
    let test = support::store().await;
    test.create_org(&organisation("acme", 5)).await.unwrap();
    let mut config = test.db.config();
    let (upstream, port) = (server_address(&config.url), closed_port());
    config.url = config
        .url
        .replacen(&upstream, &format!("127.0.0.1:{port}"), 1);
    config.connect_timeout = Duration::from_secs(2);
    let store = PgStore::new(&config).unwrap();

    let restarted = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    let started = Instant::now();
    let org = store
        .org(&org_slug("acme"))
        .await
        .expect("served once it is back");
    assert!(org.is_some());
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "it waited for the restart"
    );
    restarted.abort();
}

/// `host:port` of a `postgres://user@host:port/db` URL.
fn server_address(url: &str) -> String {
    let rest = url.split_once('@').map_or(url, |(_, rest)| rest);
    let host_port = rest.split('/').next().unwrap_or(rest);
    assert!(host_port.contains(':'), "a TCP address with a port: {url}");
    host_port.to_owned()
}

/// A server that accepts connections and then says nothing (stopped with SIGSTOP, or a
/// half-dead network path): the connect timeout still bounds every operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_unavailable_within_the_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let store = PgStore::new(&config_for(port)).unwrap();

    for _ in 0..2 {
        let started = Instant::now();
        assert_unavailable(&store.org(&org_slug("acme")).await.unwrap_err());
        let elapsed = started.elapsed();
        assert!(elapsed < TIMEOUT + MARGIN, "{elapsed:?}");
    }
    holder.abort();
}

#[tokio::test]
async fn connections_the_server_dropped_are_replaced() {
    let test = support::store().await;
    test.create_org(&organisation("acme", 5)).await.unwrap();
    let terminated = test
        .db
        .admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{APPLICATION_NAME}' AND datname = '{}'",
            test.db.name()
        ))
        .await;
    assert!(!terminated.is_empty(), "the pool had connections to kill");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The pool checks a connection before handing it out, so the request does not fail.
    assert!(test.org(&org_slug("acme")).await.unwrap().is_some());
}

#[tokio::test]
async fn connections_carry_the_application_name_and_statement_timeout() {
    let test = support::store().await;
    test.ping().await.unwrap();
    let named = test
        .db
        .admin(&format!(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = '{APPLICATION_NAME}' AND datname = '{}'",
            test.db.name()
        ))
        .await;
    assert!(named[0].get::<_, i64>(0) >= 1);

    // A statement that outlives the statement timeout is cancelled by the server: hold the
    // organisation's lot-state row so that a claim has to wait for it.
    test.create_org(&organisation("acme", 5)).await.unwrap();
    let blocker = test.db.client().await;
    blocker
        .batch_execute("BEGIN; SELECT 1 FROM org_lot_state WHERE org = 'acme' FOR UPDATE")
        .await
        .unwrap();
    let mut config = test.db.config();
    config.statement_timeout = Duration::from_millis(300);
    let store = PgStore::connect(&config).await.unwrap();
    let started = Instant::now();
    match store.claim_slot(&claim()).await.unwrap_err() {
        ClaimError::Store(e) => assert_unavailable(&e),
        other => panic!("{other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(300) + MARGIN,
        "{elapsed:?}"
    );
    blocker.batch_execute("ROLLBACK").await.unwrap();
    store
        .claim_slot(&claim())
        .await
        .expect("claimed once the row is free");
}
