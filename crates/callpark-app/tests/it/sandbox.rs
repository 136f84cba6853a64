//! The sandbox: no Twilio account, simulated calls through the real webhooks.

use std::time::Duration;

use callpark_app::Application;
use callpark_app::config::Settings;
use serde_json::{Value, json};

use crate::helpers::eventually;

#[tokio::test]
async fn the_sandbox_walks_through_a_call_park_and_retrieve_over_http() {
    let settings = Settings {
        listen: "127.0.0.1:0".to_owned(),
        public_url: None,
        database: None,
        twilio: None,
        voice: None,
        admin_token: None,
        allow_memory_store: false,
        migrate: false,
        demo: true,
        sweep_interval: Duration::from_millis(100),
        reconcile_grace: Duration::from_secs(30),
        workers: Some(1),
    };
    let app = Application::build(settings).await.unwrap();
    let base = app.public_url().to_owned();
    let demo = app.demo().unwrap().clone();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
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
        assert_eq!(
            http.post(format!("{base}/api/session"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }

    let call = http
        .post(format!("{base}/api/sandbox/calls"))
        .bearer_auth(&alice)
        .json(&json!({"from": "+14155550199"}))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 201);
    let me: Value = http
        .get(format!("{base}/api/me"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["currentCall"]["callerNumber"], "+14155550199");
    let browser = me["currentCall"]["callSid"].as_str().unwrap().to_owned();

    let parked = http
        .post(format!("{base}/api/park"))
        .bearer_auth(&alice)
        .json(&json!({"callSid": browser, "slot": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(parked.status(), 201);
    let lot = || async {
        http.get(format!("{base}/api/lot"))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    eventually("the simulated caller joins the conference", || async {
        lot().await["slots"][3]["call"]["conferenceSid"].is_string()
    })
    .await;

    let retrieved = http
        .post(format!("{base}/api/lot/4/retrieve"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(retrieved.status(), 200);
    eventually(
        "bob's simulated browser answers and the slot is free",
        || async { lot().await["slots"][3]["state"] == "free" },
    )
    .await;
    let me: Value = http
        .get(format!("{base}/api/me"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["currentCall"]["callerNumber"], "+14155550199");

    // Bob parks it again, and the caller hangs up on hold: the slot frees itself.
    let browser = me["currentCall"]["callSid"].as_str().unwrap().to_owned();
    let parked: Value = http
        .post(format!("{base}/api/park"))
        .bearer_auth(&bob)
        .json(&json!({"callSid": browser}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pstn = parked["pstnCallSid"].as_str().unwrap().to_owned();
    eventually("the caller is on hold again", || async {
        lot().await["slots"][0]["state"] == "parked"
    })
    .await;
    let hangup = http
        .post(format!("{base}/api/sandbox/calls/{pstn}/hangup"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(hangup.status(), 204);
    eventually("the slot frees itself", || async {
        lot().await["slots"][0]["state"] == "free"
    })
    .await;
    stopper.stop().await;
}
