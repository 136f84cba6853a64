//! A caller's voicemail, heard through callpark: from a park that timed out to an agent of
//! the organisation fetching its audio (which callpark fetches from Twilio with the account's
//! credentials), and marking it handled; nobody of another organisation does either.

use std::time::Duration;

use callpark_http::routes::paths::{self, with_id};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{ACCOUNT_SID, ADMIN_TOKEN, TestApp, error_code, eventually_within, sid};

const ACME: &str = "+15550001000";
const GLOBEX: &str = "+15550002000";

#[tokio::test]
async fn an_agent_of_the_organisation_hears_a_voicemail_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    for (slug, number) in [("acme", ACME), ("globex", GLOBEX)] {
        let created = app
            .http
            .post(app.url("/admin/orgs"))
            .bearer_auth(ADMIN_TOKEN)
            .json(
                &json!({"slug": slug, "name": slug, "slots": 3, "numbers": [number],
                          "maxParkSeconds": 1, "timeoutAction": "voicemail"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let alice = app.agent("acme", "alice").await;
    let gary = app.agent("globex", "gary").await;
    app.inbound_call_answered(&sid(1), "+14155550100", ACME, &sid(2), "acme.alice")
        .await;
    let id = app.park(&alice, &sid(2), Some(1)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Nobody retrieves it: the deadline sends the caller to voicemail.
    eventually_within(
        Duration::from_secs(5),
        "the call goes to voicemail",
        || async {
            let page = app.get("/api/history?outcome=voicemail", &alice).await;
            page.json::<Value>().await.unwrap()["calls"]
                .as_array()
                .unwrap()
                .len()
                == 1
        },
    )
    .await;
    let audio = format!("/api/voicemails/{id}/audio");
    let before = app.get(&audio, &alice).await;
    assert_eq!(
        error_code(before).await,
        (404, "voicemail_not_found".to_owned())
    );

    // The caller leaves a message; Twilio keeps it under the account's recordings.
    let recording = format!(
        "/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{}",
        "ab".repeat(16)
    );
    let mp3 = b"ID3\x04\x00the caller's message".to_vec();
    Mock::given(method("GET"))
        .and(path(format!("{recording}.mp3")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(mp3.clone()))
        .expect(1)
        .mount(&app.twilio)
        .await;
    let recording_url = format!("{}{recording}", app.twilio.uri());
    let stored = app
        .webhook(
            &with_id(paths::RECORDING, &id),
            &[
                ("CallSid", &sid(1)),
                ("RecordingUrl", &recording_url),
                ("RecordingStatus", "completed"),
            ],
        )
        .await;
    assert_eq!(stored.status(), 204);
    let page: Value = app
        .get("/api/history?outcome=voicemail", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["calls"][0]["voicemail"], true);

    let heard = app.get(&audio, &alice).await;
    assert_eq!(heard.status(), 200);
    let headers = heard.headers().clone();
    assert_eq!(headers["content-type"], "audio/mpeg");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(heard.bytes().await.unwrap().to_vec(), mp3);

    // Another organisation's agent, a malformed id, nobody signed in: nothing is fetched.
    let other = app.get(&audio, &gary).await;
    assert_eq!(
        error_code(other).await,
        (404, "voicemail_not_found".to_owned())
    );
    let malformed = app.get("/api/voicemails/not-an-id/audio", &alice).await;
    assert_eq!(
        error_code(malformed).await,
        (404, "voicemail_not_found".to_owned())
    );
    let anonymous = reqwest::get(app.url(&audio)).await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // Alice takes care of it; bob saying so later changes nothing; gary cannot.
    let bob = app.agent("acme", "bob").await;
    let handled = format!("/api/voicemails/{id}/handled");
    let by_alice: Value = app
        .post_json(&handled, &alice, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_alice["voicemailHandledBy"], "alice");
    let at = by_alice["voicemailHandledAt"].as_str().unwrap().to_owned();
    let again: Value = app
        .post_json(&handled, &bob, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            again["voicemailHandledBy"].as_str(),
            again["voicemailHandledAt"].as_str()
        ),
        (Some("alice"), Some(at.as_str()))
    );
    let refused = app.post_json(&handled, &gary, json!({})).await;
    assert_eq!(
        error_code(refused).await,
        (404, "voicemail_not_found".to_owned())
    );
    let page: Value = app
        .get("/api/history?outcome=voicemail", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["calls"][0]["voicemailHandledBy"], "alice");
    let kinds: Vec<String> = app
        .sql("SELECT kind FROM lot_events WHERE org = 'acme' ORDER BY sequence")
        .await
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "voicemail_handled").count(),
        1,
        "{kinds:?}"
    );
    app.stop().await;
}
