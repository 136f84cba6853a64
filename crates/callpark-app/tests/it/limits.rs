//! Twilio's documented limits, kept over HTTP.

use callpark_http::routes::paths;

use crate::helpers::{TestApp, sid};

const NUMBER: &str = "+15550007000";

/// The `<Identity>`s a `<Dial>` rings.
fn rung(twiml: &str) -> Vec<String> {
    twiml
        .split("<Identity>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
        .collect()
}

/// A new inbound call to acme: the TwiML that rings its agents.
async fn inbound_call(app: &TestApp, n: u32) -> String {
    let caller = sid(n);
    app.webhook_ok(
        paths::VOICE,
        &[
            ("CallSid", caller.as_str()),
            ("From", "+14155550100"),
            ("To", NUMBER),
            ("CallStatus", "ringing"),
        ],
    )
    .await
}

/// TwiML `<Client>`: "You can include up to 10 <Client> nouns within a <Dial>". With 12 agents
/// available, a call rings the 10 who have waited longest, and the next call the other two
/// first.
#[tokio::test]
async fn an_inbound_call_rings_at_most_ten_browsers_the_longest_idle_in_turn() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let names: Vec<String> = (1..=12).map(|n| format!("agent{n:02}")).collect();
    let clients: Vec<String> = names.iter().map(|n| format!("acme.{n}")).collect();
    for name in &names {
        app.agent("acme", name).await;
    }
    let first = rung(&inbound_call(&app, 1).await);
    // Signed in first, waited longest.
    assert_eq!(first, clients[..10], "{first:?}");
    let second = rung(&inbound_call(&app, 2).await);
    assert_eq!(second.len(), 10, "{second:?}");
    assert_eq!(second[..2], clients[10..], "the two left out ring first");
    app.stop().await;
}
