//! The sandbox: no Twilio account, simulated calls through the real webhooks.

use std::time::Duration;

use callpark_app::Application;
use callpark_app::config::Settings;
use callpark_sandbox::{Behaviour, Disorder};
use serde_json::json;

use crate::helpers::{Instance, eventually};

/// The sandbox service with its demo organisation (alice, a supervisor; bob; carol), the
/// sandbox as unkind as `behaviour` says; the agents signed in. Returns it and a token lookup.
async fn sandbox_service(behaviour: Behaviour) -> (Instance, impl Fn(&str) -> String) {
    let settings = Settings {
        listen: "127.0.0.1:0".to_owned(),
        public_url: None,
        database: None,
        twilio: None,
        sandbox: behaviour,
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
        retention: Some(Duration::from_secs(90 * 86_400)),
        workers: Some(1),
    };
    let app = Application::build(settings).await.unwrap();
    let demo = app.demo().unwrap().clone();
    let service = Instance::run(app);
    let token = move |who: &str| {
        demo.agents
            .iter()
            .find(|(a, _)| a == who)
            .unwrap()
            .1
            .clone()
    };
    for who in ["alice", "bob", "carol"] {
        service.sign_in(&token(who)).await;
    }
    (service, token)
}

#[tokio::test]
async fn the_sandbox_walks_through_a_call_park_and_retrieve_over_http() {
    // Callbacks in order, so that each step's outcome is there when the next one looks.
    let in_order = Behaviour {
        disorder: Disorder::NONE,
        ..Behaviour::default()
    };
    let (service, token) = sandbox_service(in_order).await;
    let (alice, bob) = (token("alice"), token("bob"));

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

/// Sandbox time a hundred times faster than real time: a browser left ringing for 20 s + 5 s
/// rings for a quarter of a second.
const FAST: Behaviour = Behaviour {
    disorder: Disorder::NONE,
    clock_speed: 100.0,
};

/// A simulated inbound call, answered by `agent` and parked by it into `slot`; returns the
/// caller's leg once the caller is on hold.
async fn parked_call(service: &Instance, agent: &str, slot: u32) -> String {
    let call = service
        .post_json("/api/sandbox/calls", agent, json!({}))
        .await;
    assert_eq!(call.status(), 201);
    // The agent's leg is known from its status callback, which may come late.
    eventually("the agent is on the call", || async {
        service.me(agent).await["currentCall"].is_object()
    })
    .await;
    let browser = service.me(agent).await["currentCall"]["callSid"]
        .as_str()
        .unwrap()
        .to_owned();
    let parked = service.park(agent, &browser, Some(slot)).await;
    let index = usize::try_from(slot - 1).unwrap();
    eventually("the caller is on hold", || async {
        service.lot(agent).await["slots"][index]["call"]["conferenceSid"].is_string()
    })
    .await;
    parked["pstnCallSid"].as_str().unwrap().to_owned()
}

async fn choose_pickup(service: &Instance, agent: &str, pickup: &str) {
    let chosen = service
        .post_json("/api/sandbox/pickup", agent, json!({ "pickup": pickup }))
        .await;
    assert_eq!(chosen.status(), 200);
    let now = service.get("/api/sandbox/pickup", agent).await;
    assert_eq!(
        now.json::<serde_json::Value>().await.unwrap()["pickup"],
        pickup
    );
}

/// The lot event kinds of the demo organisation so far, in sequence order.
async fn event_kinds(service: &Instance, agent: &str) -> Vec<String> {
    let mut response = service
        .http
        .get(service.url("/api/events"))
        .bearer_auth(agent)
        .header("Last-Event-ID", "0")
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    // The backlog comes at once; the stream then waits for news.
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_millis(300), response.chunk())
        .await
        .unwrap_or(Ok(None))
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .filter(|kind| *kind != "agents")
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_retrieve_declined_or_left_ringing_returns_the_caller_to_the_same_slot() {
    let (service, token) = sandbox_service(FAST).await;
    let (alice, bob) = (token("alice"), token("bob"));
    parked_call(&service, &alice, 3).await;

    for pickup in ["decline", "let_ring"] {
        choose_pickup(&service, &bob, pickup).await;
        let retrieving = service
            .post_json("/api/lot/3/retrieve", &bob, json!({}))
            .await;
        assert_eq!(retrieving.status(), 200, "{pickup}");
        eventually(
            &format!("{pickup}: the caller is back in slot 3"),
            || async { service.lot(&bob).await["slots"][2]["state"] == "parked" },
        )
        .await;
        assert!(service.me(&bob).await["currentCall"].is_null(), "{pickup}");
    }
    choose_pickup(&service, &bob, "answer").await;
    let retrieving = service
        .post_json("/api/lot/3/retrieve", &bob, json!({}))
        .await;
    assert_eq!(retrieving.status(), 200);
    eventually("bob is on the call", || async {
        service.me(&bob).await["currentCall"].is_object()
    })
    .await;
    let kinds = event_kinds(&service, &bob).await;
    let moves: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .filter(|k| *k != "updated")
        .collect();
    assert_eq!(
        moves,
        [
            "parked",
            "retrieving",
            "returned",
            "retrieving",
            "returned",
            "retrieving",
            "retrieved"
        ],
        "{kinds:?}"
    );
    service.stop().await;
}

#[tokio::test]
async fn a_ring_back_the_parker_declines_goes_to_voicemail() {
    let (service, token) = sandbox_service(FAST).await;
    let alice = token("alice");
    // Alice supervises the demo organisation: a call parked there times out after 1 s.
    let short = service
        .http
        .patch(service.url("/admin/orgs/demo"))
        .bearer_auth(&alice)
        .json(&json!({"maxParkSeconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 200);

    // Answered, the ring-back gives alice her caller back.
    let first = parked_call(&service, &alice, 2).await;
    eventually("the ring-back connects alice", || async {
        service.me(&alice).await["currentCall"]["pstnCallSid"] == first.as_str()
    })
    .await;
    let hangup = service
        .post_json(
            &format!("/api/sandbox/calls/{first}/hangup"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(hangup.status(), 204);
    eventually("alice is free again", || async {
        service.me(&alice).await["currentCall"].is_null()
    })
    .await;

    // Declined, it goes on to voicemail.
    choose_pickup(&service, &alice, "decline").await;
    parked_call(&service, &alice, 2).await;
    eventually(
        "the ring-back ends in voicemail and frees the slot",
        || async { service.lot(&alice).await["slots"][1]["state"] == "free" },
    )
    .await;
    let kinds = event_kinds(&service, &alice).await;
    let moves: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .filter(|k| *k != "updated")
        .collect();
    assert_eq!(
        moves,
        [
            "parked",
            "timed_out",
            "retrieved",
            "parked",
            "timed_out",
            "voicemail",
            "voicemail_recorded"
        ],
        "rung back and answered; then rung back, declined, voicemail: {kinds:?}"
    );
    // The sandbox's recording is a short WAV, heard through callpark like Twilio's.
    let page: serde_json::Value = service
        .get("/api/history?outcome=voicemail", &alice)
        .await
        .json()
        .await
        .unwrap();
    let id = page["calls"][0]["id"].as_str().unwrap();
    let audio = service
        .get(&format!("/api/voicemails/{id}/audio"), &alice)
        .await;
    assert_eq!(audio.status(), 200);
    assert_eq!(audio.headers()["content-type"], "audio/wav");
    let bytes = audio.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"RIFF") && bytes.len() > 10_000,
        "{}",
        bytes.len()
    );
    service.stop().await;
}

/// Lives of calls, each step awaited: one retrieved and hung up, one declined back to its slot
/// and abandoned there, one hung up on hold. Returns the lot's event kinds (without `updated`,
/// which says what Twilio taught meanwhile) and the agents' statuses at the end.
async fn lives(behaviour: Behaviour) -> (Vec<String>, serde_json::Value) {
    let (service, token) = sandbox_service(behaviour).await;
    let (alice, bob) = (token("alice"), token("bob"));
    let slot_is = |slot: usize, state: &'static str| {
        let (service, bob) = (&service, &bob);
        async move { service.lot(bob).await["slots"][slot - 1]["state"] == state }
    };

    let first = parked_call(&service, &alice, 1).await;
    let retrieve = service
        .post_json("/api/lot/1/retrieve", &bob, json!({}))
        .await;
    assert_eq!(retrieve.status(), 200);
    eventually("bob has the first caller", || async {
        service.me(&bob).await["currentCall"]["pstnCallSid"] == first.as_str()
    })
    .await;
    let hangup = format!("/api/sandbox/calls/{first}/hangup");
    assert_eq!(
        service.post_json(&hangup, &bob, json!({})).await.status(),
        204
    );
    eventually("bob is free", || async {
        service.me(&bob).await["currentCall"].is_null()
    })
    .await;

    let second = parked_call(&service, &alice, 2).await;
    choose_pickup(&service, &bob, "decline").await;
    let retrieve = service
        .post_json("/api/lot/2/retrieve", &bob, json!({}))
        .await;
    assert_eq!(retrieve.status(), 200);
    eventually("the second caller is back in slot 2", || {
        slot_is(2, "parked")
    })
    .await;
    let hangup = format!("/api/sandbox/calls/{second}/hangup");
    assert_eq!(
        service.post_json(&hangup, &bob, json!({})).await.status(),
        204
    );
    eventually("slot 2 is free", || slot_is(2, "free")).await;

    let third = parked_call(&service, &bob, 3).await;
    let hangup = format!("/api/sandbox/calls/{third}/hangup");
    assert_eq!(
        service.post_json(&hangup, &bob, json!({})).await.status(),
        204
    );
    eventually("slot 3 is free", || slot_is(3, "free")).await;

    // Whatever is still late arrives now, and must change nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kinds = event_kinds(&service, &alice)
        .await
        .into_iter()
        .filter(|k| k != "updated")
        .collect();
    let agents = service
        .get("/api/agents", &alice)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    service.stop().await;
    (kinds, agents)
}

#[tokio::test]
async fn callbacks_duplicated_and_shuffled_end_where_callbacks_in_order_end() {
    let in_order = lives(Behaviour {
        disorder: Disorder::NONE,
        clock_speed: 100.0,
    })
    .await;
    // Every callback twice, half of them up to 200 ms late, overtaken by later ones.
    let unkind = lives(Behaviour {
        disorder: Disorder {
            duplicate: 1.0,
            delay: 0.5,
            max_delay: Duration::from_millis(200),
        },
        clock_speed: 100.0,
    })
    .await;
    assert_eq!(
        in_order.0,
        [
            "parked",
            "retrieving",
            "retrieved",
            "parked",
            "retrieving",
            "returned",
            "abandoned",
            "parked",
            "abandoned"
        ]
    );
    assert_eq!(unkind, in_order);
}

#[tokio::test]
async fn a_simulated_call_is_the_agents_when_it_is_answered_however_late_the_callback() {
    // Every callback up to half a second late.
    let (service, token) = sandbox_service(Behaviour {
        disorder: Disorder {
            duplicate: 0.0,
            delay: 1.0,
            max_delay: Duration::from_millis(500),
        },
        clock_speed: 1.0,
    })
    .await;
    let alice = token("alice");
    for _ in 0..3 {
        let call = service
            .post_json("/api/sandbox/calls", &alice, json!({}))
            .await;
        assert_eq!(call.status(), 201);
        let pstn = call.json::<serde_json::Value>().await.unwrap()["callSid"].clone();
        let me = service.me(&alice).await;
        assert_eq!(me["currentCall"]["pstnCallSid"], pstn, "{me}");
        let hangup = format!("/api/sandbox/calls/{}/hangup", pstn.as_str().unwrap());
        assert_eq!(
            service.post_json(&hangup, &alice, json!({})).await.status(),
            204
        );
        eventually("alice is free", || async {
            service.me(&alice).await["currentCall"].is_null()
        })
        .await;
    }
    service.stop().await;
}
