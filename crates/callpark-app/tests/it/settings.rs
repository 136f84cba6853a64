//! An organisation's settings, changed by the admin or its supervisors: a lot grows at will and
//! shrinks only above its occupied slots; numbers move, never onto another organisation's; a
//! refused change changes nothing; the admin puts an organisation out of service and back.

use callpark_http::routes::paths::{self, with_id};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp, sid};
use crate::life::{Parked, park_one};

async fn patch(app: &TestApp, token: &str, org: &str, body: Value) -> (u16, Value) {
    let response = app
        .http
        .request(Method::PATCH, app.url(&format!("/admin/orgs/{org}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn org(app: &TestApp, slug: &str) -> Value {
    let response = app
        .http
        .get(app.url(&format!("/admin/orgs/{slug}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

async fn supervisor(app: &TestApp, org: &str, identity: &str) -> String {
    let response = app
        .http
        .post(app.url(&format!("/admin/orgs/{org}/agents")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"identity": identity, "role": "supervisor"}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_supervisor_changes_the_settings_and_the_lot_shrinks_only_above_its_calls() {
    let app = TestApp::spawn().await;
    // acme: 5 slots, a call parked in slot 2.
    let Parked { alice, .. } = park_one(&app).await;
    let sam = supervisor(&app, "acme", "sam").await;
    app.create_org("globex", 3, "+15550002000").await;
    let gina = supervisor(&app, "globex", "gina").await;

    let (status, changed) = patch(
        &app,
        &sam,
        "acme",
        json!({"name": "Acme Care", "slots": 8, "timeoutAction": "voicemail", "voice": null}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Acme Care");
    assert_eq!(changed["slots"], 8);
    assert_eq!(
        app.me(&alice).await["timeoutAction"],
        "voicemail",
        "agents see it"
    );
    assert_eq!(app.lot(&alice).await["slots"].as_array().unwrap().len(), 8);

    // Below the occupied slot 2: refused, and nothing of the change is made.
    let before = org(&app, "acme").await;
    let (status, error) = patch(&app, &sam, "acme", json!({"slots": 1, "name": "Nope"})).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "slot_occupied");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("slot 2"),
        "{error}"
    );
    assert_eq!(org(&app, "acme").await, before);
    // Down to the occupied slot itself is fine.
    let (status, _) = patch(&app, &sam, "acme", json!({"slots": 2})).await;
    assert_eq!(status, 200);
    assert_eq!(app.lot(&alice).await["slots"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.slot(&alice, 2).await["state"],
        "parked",
        "the call is still there"
    );

    // Bad changes are 400 and change nothing; others may not change it at all.
    let before = org(&app, "acme").await;
    for bad in [
        json!({"slotz": 3}),
        json!({"slots": "three"}),
        json!({"slots": 0}),
        json!({"maxParkSeconds": 999_999}),
        json!({"timeoutAction": "hangup"}),
        json!({"holdMusicUrl": "ftp://x"}),
    ] {
        let (status, error) = patch(&app, &sam, "acme", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {error}");
    }
    let (status, _) = patch(&app, &gina, "acme", json!({"slots": 9})).await;
    assert_eq!(status, 404, "another organisation's supervisor");
    let (status, _) = patch(&app, &alice, "acme", json!({"slots": 9})).await;
    assert_eq!(status, 403, "an agent");
    assert_eq!(org(&app, "acme").await, before);
    // The admin changes any organisation.
    let (status, changed) = patch(&app, ADMIN_TOKEN, "globex", json!({"slotPolicy": "next"})).await;
    assert_eq!(
        (status, changed["slotPolicy"].clone()),
        (200, json!("next"))
    );
    app.stop().await;
}

/// An inbound call to `number`: the TwiML that answers it.
async fn call_to(app: &TestApp, number: &str, n: u32) -> String {
    app.webhook_ok(
        paths::VOICE,
        &[
            ("CallSid", &sid(100 + n)),
            ("From", "+14155550199"),
            ("To", number),
            ("CallStatus", "ringing"),
        ],
    )
    .await
}

#[tokio::test]
async fn new_numbers_and_a_language_reach_the_calls_and_a_taken_number_is_refused() {
    let app = TestApp::spawn().await;
    let Parked { id, pstn, .. } = park_one(&app).await;
    let sam = supervisor(&app, "acme", "sam").await;
    app.create_org("globex", 3, "+15550002000").await;

    let (status, changed) = patch(
        &app,
        &sam,
        "acme",
        json!({"numbers": ["+15550001001", "+15550001002"], "language": "en-GB"}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["numbers"], json!(["+15550001001", "+15550001002"]));
    assert_eq!(changed["language"], "en-GB");
    let old = call_to(&app, "+15550001000", 1).await;
    assert!(old.contains("not in service"), "the old number: {old}");
    let new = call_to(&app, "+15550001002", 2).await;
    assert!(
        new.contains("<Identity>acme.bob</Identity>"),
        "the new number: {new}"
    );
    let hold = app
        .webhook_ok(&with_id(paths::PARK, &id), &[("CallSid", &pstn)])
        .await;
    assert!(
        hold.contains(r#"<Say language="en-GB">Please hold while we find someone for you.</Say>"#),
        "{hold}"
    );
    // Down to the last word of a voicemail.
    let goodbye = app
        .webhook_ok(&with_id(paths::VOICEMAIL_DONE, &id), &[("CallSid", &pstn)])
        .await;
    assert!(
        goodbye.contains(r#"<Say language="en-GB">Thank you. Goodbye.</Say>"#),
        "{goodbye}"
    );

    // Another organisation's number, a number twice, a malformed language: refused, nothing
    // changed; and only the admin puts an organisation out of service.
    let before = org(&app, "acme").await;
    let (status, error) = patch(&app, &sam, "acme", json!({"numbers": ["+15550002000"]})).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (409, &json!("number_taken")),
        "{error}"
    );
    for bad in [
        json!({"numbers": ["+15550001003", "+15550001003"]}),
        json!({"numbers": ["5550001003"]}),
        json!({"numbers": "+15550001003"}),
        json!({"language": "English please"}),
        json!({"language": 44}),
        json!({"active": "no"}),
    ] {
        let (status, error) = patch(&app, &sam, "acme", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {error}");
    }
    let (status, error) = patch(&app, &sam, "acme", json!({"active": false})).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (403, &json!("forbidden")),
        "{error}"
    );
    assert_eq!(org(&app, "acme").await, before);
    let (status, cleared) = patch(&app, &sam, "acme", json!({"language": null})).await;
    assert_eq!((status, &cleared["language"]), (200, &Value::Null));
    app.stop().await;
}

#[tokio::test]
async fn a_deactivated_organisation_takes_no_calls_and_its_parked_caller_stays() {
    let app = TestApp::spawn().await;
    let Parked { id, alice, bob, .. } = park_one(&app).await;
    app.sign_in(&bob).await;

    let (status, changed) = patch(&app, ADMIN_TOKEN, "acme", json!({"active": false})).await;
    assert_eq!(
        (status, &changed["active"]),
        (200, &json!(false)),
        "{changed}"
    );
    for token in [&alice, &bob] {
        assert_eq!(
            app.get("/api/me", token).await.status(),
            401,
            "its agents are refused"
        );
    }
    let refused = call_to(&app, "+15550001000", 1).await;
    assert!(refused.contains("not in service"), "{refused}");
    let agents = app
        .sql("SELECT identity FROM agents WHERE org = 'acme' AND status <> 'offline'")
        .await;
    assert!(agents.is_empty(), "every agent is offline");
    let sessions = app.sql("SELECT 1 FROM sessions WHERE org = 'acme'").await;
    assert!(sessions.is_empty(), "every page is signed out");
    let parked = app
        .sql(&format!("SELECT state FROM parked_calls WHERE id = '{id}'"))
        .await;
    assert_eq!(
        parked[0].get::<_, String>(0),
        "parked",
        "the caller stays parked"
    );
    let listed = app
        .http
        .get(app.url("/admin/orgs"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(listed[0]["active"], false, "{listed}");

    // Back in service: the same tokens work, the call is still in its slot.
    let (status, _) = patch(&app, ADMIN_TOKEN, "acme", json!({"active": true})).await;
    assert_eq!(status, 200);
    assert_eq!(app.slot(&alice, 2).await["state"], "parked");
    let rings = call_to(&app, "+15550001000", 2).await;
    assert!(!rings.contains("not in service"), "{rings}");
    app.stop().await;
}
