//! The sandbox: no Twilio account, simulated calls through the real webhooks.

use std::time::Duration;

use callpark_app::Application;
use callpark_app::config::Settings;
use serde_json::json;

use crate::helpers::{Instance, eventually};

#[tokio::test]
async fn the_sandbox_walks_through_a_call_park_and_retrieve_over_http() {
    let settings = Settings {
        listen: "127.0.0.1:0".to_owned(),
        public_url: None,
        database: None,
        twilio: None,
        voice: None,
        admin_token: None,
        metrics_token: None,
        allow_memory_store: false,
        migrate: false,
        demo: true,
        sweep_interval: Duration::from_millis(100),
        reconcile_grace: Duration::from_secs(30),
        ring_time: Duration::from_secs(20),
        sessions: callpark_domain::SessionLifetime::SHIFT,
        presence_timeout: Duration::from_secs(120),
        max_failed_logins: 10,
        max_streams: 10_000,
        workers: Some(1),
    };
    let app = Application::build(settings).await.unwrap();
    let demo = app.demo().unwrap().clone();
    let service = Instance::run(app);
    let token = |who: &str| {
        demo.agents
            .iter()
            .find(|(a, _)| a == who)
            .unwrap()
            .1
            .clone()
    };
    let (alice, bob) = (token("alice"), token("bob"));
    for t in [&alice, &bob] {
        service.sign_in(t).await;
    }

    let call = service
        .post_json(
            "/api/sandbox/calls",
            &alice,
            json!({"from": "+14155550199"}),
        )
        .await;
    assert_eq!(call.status(), 201);
    let me = service.me(&alice).await;
    assert_eq!(me["currentCall"]["callerNumber"], "+14155550199");
    let browser = me["currentCall"]["callSid"].as_str().unwrap().to_owned();

    service.park(&alice, &browser, Some(4)).await;
    eventually("the simulated caller joins the conference", || async {
        service.lot(&bob).await["slots"][3]["call"]["conferenceSid"].is_string()
    })
    .await;

    let retrieved = service
        .post_json("/api/lot/4/retrieve", &bob, json!({}))
        .await;
    assert_eq!(retrieved.status(), 200);
    eventually(
        "bob's simulated browser answers and the slot is free",
        || async { service.lot(&bob).await["slots"][3]["state"] == "free" },
    )
    .await;
    let me = service.me(&bob).await;
    assert_eq!(me["currentCall"]["callerNumber"], "+14155550199");

    // Bob parks it again, and the caller hangs up on hold: the slot frees itself.
    let browser = me["currentCall"]["callSid"].as_str().unwrap().to_owned();
    let parked = service.park(&bob, &browser, None).await;
    let pstn = parked["pstnCallSid"].as_str().unwrap().to_owned();
    eventually("the caller is on hold again", || async {
        service.lot(&bob).await["slots"][0]["state"] == "parked"
    })
    .await;
    let hangup = service
        .post_json(
            &format!("/api/sandbox/calls/{pstn}/hangup"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(hangup.status(), 204);
    eventually("the slot frees itself", || async {
        service.lot(&bob).await["slots"][0]["state"] == "free"
    })
    .await;
    service.stop().await;
}
