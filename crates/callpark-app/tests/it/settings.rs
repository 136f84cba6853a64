//! An organisation's settings, changed by the admin or its supervisors: a lot grows at will and
//! shrinks only above its occupied slots; a refused change changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp};
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
