//! Organisations sharing one Twilio account cannot reach each other: their agents' Twilio
//! Client identities are account-unique, so a call to one never rings another's browser.

use std::time::Duration;

use base64::Engine as _;
use secrecy::SecretString;
use serde_json::{Value, json};

use callpark_http::routes::paths;

use crate::helpers::{ACCOUNT_SID, TestApp, sid};

const ACME: &str = "+15550001000";
const GLOBEX: &str = "+15550002000";

/// The claims of a Voice SDK access token.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn voice_app() -> TestApp {
    TestApp::spawn_configured(wiremock::MockServer::start().await, |s| {
        s.voice = Some(callpark_http::VoiceSettings {
            account_sid: ACCOUNT_SID.to_owned(),
            api_key_sid: "SK0123456789abcdef0123456789abcdef".to_owned(),
            api_key_secret: SecretString::from("key-secret"),
            twiml_app_sid: "AP0123456789abcdef0123456789abcdef".to_owned(),
            ttl: Duration::from_secs(3600),
        });
    })
    .await
}

#[tokio::test]
async fn two_organisations_alices_have_different_clients_and_only_their_own_rings() {
    let app = voice_app().await;
    app.create_org("acme", 3, ACME).await;
    app.create_org("globex", 3, GLOBEX).await;
    let acme_alice = app.agent("acme", "alice").await;
    let globex_alice = app.agent("globex", "alice").await;

    let mut clients = Vec::new();
    for token in [&acme_alice, &globex_alice] {
        let body: Value = app.get("/api/token", token).await.json().await.unwrap();
        assert_eq!(
            body["identity"], "alice",
            "the name people see stays the same"
        );
        let client = claims(body["token"].as_str().unwrap())["grants"]["identity"].clone();
        assert_eq!(client, body["clientIdentity"]);
        clients.push(client.as_str().unwrap().to_owned());
    }
    assert_eq!(clients, ["acme.alice", "globex.alice"]);

    // A call to acme's number rings acme's alice, and nobody of globex.
    let twiml = app
        .webhook_ok(
            paths::VOICE,
            &[
                ("CallSid", &sid(1)),
                ("From", "+14155550100"),
                ("To", ACME),
                ("CallStatus", "ringing"),
            ],
        )
        .await;
    assert!(twiml.contains("<Identity>acme.alice</Identity>"), "{twiml}");
    assert!(!twiml.contains("globex"), "{twiml}");
    assert_eq!(twiml.matches("<Client").count(), 1, "{twiml}");

    // A leg of acme's call that claims globex's Client moves nobody of globex.
    app.webhook_ok(
        paths::CALL_STATUS,
        &[
            ("CallSid", &sid(2)),
            ("ParentCallSid", &sid(1)),
            ("CallStatus", "in-progress"),
            ("To", "client:globex.alice"),
        ],
    )
    .await;
    assert_eq!(app.me(&globex_alice).await["status"], "available");
    assert_eq!(app.me(&acme_alice).await["status"], "available");

    // acme's own alice answering puts her, and only her, on the call.
    app.webhook_ok(
        paths::CALL_STATUS,
        &[
            ("CallSid", &sid(3)),
            ("ParentCallSid", &sid(1)),
            ("CallStatus", "in-progress"),
            ("To", "client:acme.alice"),
        ],
    )
    .await;
    assert_eq!(app.me(&acme_alice).await["status"], "on_call");
    assert_eq!(app.me(&globex_alice).await["status"], "available");
    app.stop().await;
}

/// Twilio's Calls resource answering a fetch of `leg` with `body`.
async fn twilio_has(twilio: &wiremock::MockServer, leg: &str, body: Value) {
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{leg}.json"
        )))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
        .mount(twilio)
        .await;
}

#[tokio::test]
async fn an_agent_cannot_park_another_organisations_call_it_knows_the_sid_of() {
    let twilio = wiremock::MockServer::start().await;
    crate::helpers::answer_updates(&twilio, crate::helpers::accepted(), None, 5).await;
    // A call callpark never saw: it came in on acme's number and rang acme's alice.
    let (browser, pstn) = (sid(2), sid(1));
    twilio_has(
        &twilio,
        &browser,
        json!({"sid": browser, "parent_call_sid": pstn, "status": "in-progress",
               "direction": "outbound-dial", "from": ACME, "to": "client:acme.alice"}),
    )
    .await;
    twilio_has(
        &twilio,
        &pstn,
        json!({"sid": pstn, "status": "in-progress", "direction": "inbound",
               "from": "+14155550100", "to": ACME}),
    )
    .await;
    let app = TestApp::spawn_with(twilio).await;
    app.create_org("acme", 3, ACME).await;
    app.create_org("globex", 3, GLOBEX).await;
    let alice = app.agent("acme", "alice").await;
    let mallory = app.agent("globex", "mallory").await;

    for leg in [&browser, &pstn] {
        let refused = app
            .post_json("/api/park", &mallory, json!({"callSid": leg}))
            .await;
        assert_eq!(refused.status(), 404, "{leg}");
        let error: Value = refused.json().await.unwrap();
        assert_eq!(error["error"]["code"], "call_not_found");
    }
    assert!(app.twilio_updates().await.is_empty(), "nothing redirected");
    let lot = app.lot(&mallory).await;
    assert!(
        lot["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "free"),
        "{lot}"
    );

    // acme's own agent parks it.
    let parked = app.park(&alice, &browser, None).await;
    assert_eq!(parked["pstnCallSid"], pstn.as_str());
    app.stop().await;
}
