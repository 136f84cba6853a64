//! What operators rely on: safe start-up defaults, metrics, migrations, graceful shutdown.

use std::process::Command;
use std::time::{Duration, Instant};

use callpark_app::config::{Settings, TwilioSettings};
use callpark_app::{Application, StartupError};
use secrecy::SecretString;
use serde_json::json;

use crate::db::TestDatabase;
use crate::helpers::{ACCOUNT_SID, AUTH_TOKEN, TestApp, sid};

const NUMBER: &str = "+15550006000";

fn real_twilio_on_the_memory_store(allow: bool) -> Settings {
    Settings {
        listen: "127.0.0.1:0".to_owned(),
        public_url: None,
        database: None,
        twilio: Some(TwilioSettings {
            account_sid: ACCOUNT_SID.to_owned(),
            auth_token: SecretString::from(AUTH_TOKEN),
            api_base: "http://127.0.0.1:9".to_owned(),
            request_timeout: Duration::from_secs(1),
        }),
        voice: None,
        admin_token: None,
        allow_memory_store: allow,
        migrate: false,
        demo: false,
        sweep_interval: Duration::from_secs(1),
        reconcile_grace: Duration::from_secs(30),
        workers: Some(1),
    }
}

#[tokio::test]
async fn real_twilio_refuses_the_volatile_memory_store_unless_allowed() {
    let refused = Application::build(real_twilio_on_the_memory_store(false)).await;
    assert!(
        matches!(refused, Err(StartupError::VolatileStore)),
        "{refused:?}"
    );
    let allowed = Application::build(real_twilio_on_the_memory_store(true))
        .await
        .expect("starts when allowed");
    assert!(!allowed.is_sandbox());
}

#[tokio::test]
async fn shutdown_ends_live_event_streams_instead_of_waiting_for_them() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    let mut stream = crate::sse::Stream::open(&app, &alice, None).await;
    assert_eq!(stream.next().await.event, "snapshot");
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        started.elapsed()
    );
    assert!(
        app.http.get(app.url("/healthz")).send().await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn metrics_count_parks_and_time_webhooks() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    app.inbound_call_answered(&sid(1), "+14155550100", NUMBER, &sid(2), "alice")
        .await;
    assert_eq!(
        app.post_json("/api/park", &alice, json!({"callSid": sid(2)}))
            .await
            .status(),
        201
    );
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "callpark_parks_total",
        "callpark_webhook_seconds",
        "callpark_twilio_request_seconds",
        "callpark_lot_events_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    assert!(metrics.contains("route=\"/twilio/voice\""), "{metrics}");
    app.stop().await;
}

#[tokio::test]
async fn callpark_migrate_prepares_an_empty_database() {
    let database = TestDatabase::create().await.unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_callpark"))
        .arg("migrate")
        .env("DATABASE_URL", database.url())
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success());
    // Applying them again is a no-op, not an error.
    let again = Command::new(env!("CARGO_BIN_EXE_callpark"))
        .arg("migrate")
        .env("DATABASE_URL", database.url())
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(again.success());
    let (client, connection) = tokio_postgres::connect(database.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let tables = client
        .query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>();
    for table in ["agents", "lot_events", "organisations", "parked_calls"] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing: {tables:?}"
        );
    }
    let without = Command::new(env!("CARGO_BIN_EXE_callpark"))
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(
        !without.status.success(),
        "migrate without a database fails"
    );
    assert!(String::from_utf8_lossy(&without.stderr).contains("DATABASE_URL"));
}
