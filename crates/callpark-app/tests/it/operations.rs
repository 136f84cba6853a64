//! What operators rely on: safe start-up defaults, metrics, migrations, graceful shutdown.

use std::process::Command;
use std::time::{Duration, Instant};

use callpark_app::config::{Settings, TwilioSettings};
use callpark_app::{Application, StartupError};
use callpark_http::routes::paths;
use secrecy::SecretString;

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
        sandbox: callpark_sandbox::Behaviour::default(),
        voice: None,
        admin_token: None,
        metrics_token: None,
        allow_memory_store: allow,
        migrate: false,
        demo: false,
        sweep_interval: Duration::from_secs(1),
        reconcile_grace: Duration::from_secs(30),
        ring_time: Duration::from_secs(20),
        sessions: callpark_domain::SessionLifetime::SHIFT,
        presence_timeout: Duration::from_secs(120),
        max_failed_logins: 10,
        max_streams: 10_000,
        retention: Some(Duration::from_secs(90 * 86_400)),
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
    app.inbound_call_answered(&sid(1), "+14155550100", NUMBER, &sid(2), "acme.alice")
        .await;
    app.park(&alice, &sid(2), None).await;
    // The caller hangs up: the call leaves the lot, and its time on hold is observed.
    app.webhook_ok(
        paths::CALL_STATUS,
        &[("CallSid", &sid(1)), ("CallStatus", "completed")],
    )
    .await;
    // Only the scraper with the metrics token reads them: they name organisations.
    for token in [
        None,
        Some(alice.as_str()),
        Some(crate::helpers::ADMIN_TOKEN),
    ] {
        let mut request = app.http.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 401, "{token:?}");
        assert!(!refused.text().await.unwrap().contains("acme"));
    }
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(crate::helpers::METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "callpark_parks_total{org=\"acme\"}",
        "callpark_abandons_total{org=\"acme\"}",
        "callpark_lot_events_total{org=\"acme\",kind=\"abandoned\"}",
        "callpark_time_on_hold_seconds_bucket{org=\"acme\",outcome=\"abandoned\",le=\"5\"}",
        "callpark_time_on_hold_seconds_count{org=\"acme\",outcome=\"abandoned\"}",
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from:\n{metrics}"
        );
    }
    for name in [
        "callpark_parks_total",
        "callpark_webhook_seconds",
        "callpark_twilio_request_seconds",
        "callpark_lot_events_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    let voice_route = format!("route=\"{}\"", paths::VOICE);
    assert!(metrics.contains(&voice_route), "{metrics}");
    app.stop().await;
}

#[tokio::test]
async fn callpark_migrate_prepares_an_empty_database() {
    let database = TestDatabase::create().await;
    let migrate = || {
        Command::new(env!("CARGO_BIN_EXE_callpark"))
            .arg("migrate")
            .env("DATABASE_URL", database.url())
            .env("RUST_LOG", "warn")
            .status()
            .unwrap()
    };
    assert!(migrate().success());
    // Applying them again is a no-op, not an error.
    assert!(migrate().success());
    let tables = database
        .query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
        .await
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

#[tokio::test]
async fn agents_get_a_voice_sdk_token_for_themselves_when_voice_is_configured() {
    use base64::Engine as _;
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const APP: &str = "AP0123456789abcdef0123456789abcdef";
    let app = TestApp::spawn_configured(wiremock::MockServer::start().await, |s| {
        s.voice = Some(callpark_http::VoiceSettings {
            account_sid: ACCOUNT_SID.to_owned(),
            api_key_sid: KEY.to_owned(),
            api_key_secret: SecretString::from("key-secret"),
            twiml_app_sid: APP.to_owned(),
            ttl: Duration::from_secs(3600),
        });
    })
    .await;
    app.create_org("acme", 3, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    let me = app.me(&alice).await;
    assert_eq!(me["voice"], true);
    let response = app.get("/api/token", &alice).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["identity"], "alice");
    let token = body["token"].as_str().unwrap();
    let claims = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], KEY);
    assert_eq!(claims["sub"], ACCOUNT_SID);
    assert_eq!(
        claims["grants"]["identity"], "acme.alice",
        "the token is for the asking agent's own Client only"
    );
    assert_eq!(body["clientIdentity"], "acme.alice");
    assert_eq!(claims["grants"]["voice"]["incoming"]["allow"], true);
    assert_eq!(
        claims["grants"]["voice"]["outgoing"]["application_sid"],
        APP
    );
    let anonymous = app.http.get(app.url("/api/token")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;

    // Without API key settings there is no token to give.
    let plain = TestApp::spawn().await;
    plain.create_org("acme", 3, NUMBER).await;
    let bob = plain.agent("acme", "bob").await;
    let none = plain.get("/api/token", &bob).await;
    assert_eq!(none.status(), 404);
    plain.stop().await;
}
