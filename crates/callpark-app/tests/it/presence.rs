//! Presence from reality: an agent is `available` only while its page is there. A page whose
//! live stream closes makes its agent `offline` on every instance, and no call rings it.

use std::time::Duration;

use callpark_http::routes::paths;

use crate::helpers::{TestApp, eventually_within, sid};

const NUMBER: &str = "+15550001000";

/// The `<Identity>`s the TwiML rings.
fn rung(twiml: &str) -> Vec<&str> {
    twiml
        .split("<Identity>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect()
}

#[tokio::test]
async fn a_page_that_goes_away_makes_its_agent_offline_on_every_instance() {
    let app = TestApp::spawn_configured(wiremock::MockServer::start().await, |s| {
        s.presence_timeout = Duration::from_secs(7);
    })
    .await;
    let other = app.second_instance().await;
    app.create_org("acme", 3, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    let bob = app.agent("acme", "bob").await;
    app.agent("acme", "carol").await;
    // alice's page streams from the second instance, bob's from the first; carol has no page.
    let stream = |api: &crate::helpers::Api, token: &str| {
        api.http
            .get(api.url("/api/events"))
            .bearer_auth(token)
            .send()
    };
    let alices_page = stream(&other, &alice).await.unwrap();
    let bobs_page = stream(&app, &bob).await.unwrap();
    assert_eq!(alices_page.status(), 200);
    assert_eq!(bobs_page.status(), 200);

    // Statuses as the database has them (asking the API would itself be a sign of life).
    let statuses = || async {
        app.sql("SELECT identity, status FROM agents ORDER BY identity")
            .await
            .iter()
            .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    // Carol, with no page, goes offline; the open pages keep alice and bob available.
    eventually_within(Duration::from_secs(20), "carol offline", || async {
        statuses().await["carol"] == "offline"
    })
    .await;
    let now = statuses().await;
    assert_eq!(now["alice"], "available", "{now:?}");
    assert_eq!(now["bob"], "available", "{now:?}");

    // alice closes her tab: offline within the timeout and a sweep.
    drop(alices_page);
    eventually_within(Duration::from_secs(20), "alice offline", || async {
        statuses().await["alice"] == "offline"
    })
    .await;
    assert_eq!(
        statuses().await["bob"],
        "available",
        "bob's page is still open"
    );

    // The next inbound call rings bob only.
    let twiml = next_call(&other, 1).await;
    assert_eq!(rung(&twiml), ["acme.bob"], "{twiml}");

    // Her page comes back (the network returns): she is available again, and rung.
    let back = stream(&app, &alice).await.unwrap();
    assert_eq!(back.status(), 200);
    assert_eq!(statuses().await["alice"], "available");
    let twiml = next_call(&app, 2).await;
    assert!(rung(&twiml).contains(&"acme.alice"), "{twiml}");
    drop(back);
    drop(bobs_page);
    other.stop().await;
    app.stop().await;
}

/// Caller `n` dials acme: the TwiML that rings its agents.
async fn next_call(api: &crate::helpers::Api, n: u32) -> String {
    api.webhook_ok(
        paths::VOICE,
        &[
            ("CallSid", &sid(n)),
            ("From", "+14155550100"),
            ("To", NUMBER),
            ("CallStatus", "ringing"),
        ],
    )
    .await
}
