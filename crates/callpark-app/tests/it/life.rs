//! A parked call's whole life over HTTP: Twilio's signed webhooks in, the REST calls callpark
//! makes to (wiremock) Twilio out, the agents' API in between.

use callpark_http::routes::paths::{self, with_attempt, with_id};
use serde_json::{Value, json};

use crate::helpers::{TestApp, conference_of, error_code, eventually, field, sid};

const NUMBER: &str = "+15550001000";
const CALLER: &str = "+14155550123";

pub(crate) struct Parked {
    pub(crate) id: String,
    pub(crate) pstn: String,
    pub(crate) alice: String,
    pub(crate) bob: String,
}

/// An inbound call answered by alice, parked by her into slot 2.
pub(crate) async fn park_one(app: &TestApp) -> Parked {
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    let bob = app.agent("acme", "bob").await;
    let (pstn, browser) = (sid(1), sid(2));

    let ring = app
        .inbound_call_answered(&pstn, CALLER, NUMBER, &browser, "acme.alice")
        .await;
    assert!(
        ring.contains("<Identity>acme.alice</Identity>")
            && ring.contains("<Identity>acme.bob</Identity>"),
        "{ring}"
    );
    assert!(
        ring.contains("statusCallbackEvent=\"initiated ringing answered completed\""),
        "{ring}"
    );

    let parked = app.park(&alice, &browser, Some(2)).await;
    assert_eq!(parked["slot"], 2);
    assert_eq!(parked["pstnCallSid"], pstn.as_str());
    Parked {
        id: parked["id"].as_str().unwrap().to_owned(),
        pstn,
        alice,
        bob,
    }
}

#[tokio::test]
async fn a_call_is_parked_heard_on_hold_and_retrieved_by_another_agent() {
    let app = TestApp::spawn().await;
    let Parked {
        id,
        pstn,
        alice,
        bob,
    } = park_one(&app).await;

    // The PSTN leg (not the browser leg) was redirected by URL, with a status callback.
    let updates = app.twilio_updates().await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    let (call, fields) = &updates[0];
    assert_eq!(call, &pstn);
    let park_url = app.url(&with_id(paths::PARK, &id));
    assert_eq!(field(fields, "Url"), Some(park_url.as_str()));
    assert_eq!(field(fields, "Method"), Some("POST"));
    assert_eq!(
        field(fields, "StatusCallback"),
        Some(app.url(paths::CALL_STATUS).as_str())
    );
    assert_eq!(field(fields, "Twiml"), None);

    // Twilio fetches the park TwiML: the announcement, then the conference with hold music.
    let twiml = app
        .webhook_ok(&with_id(paths::PARK, &id), &[("CallSid", &pstn)])
        .await;
    let conference = conference_of(&id);
    assert!(
        twiml.contains("<Say>Please hold while we find someone for you.</Say>"),
        "{twiml}"
    );
    assert!(
        twiml.contains(&format!(">{conference}</Conference>")),
        "{twiml}"
    );
    assert!(
        twiml.contains(&format!(
            "waitUrl=\"{}\"",
            app.url(&with_id(paths::HOLD, &id))
        )),
        "{twiml}"
    );
    assert!(
        twiml.contains("beep=\"false\"") && twiml.contains("endConferenceOnExit=\"true\""),
        "{twiml}"
    );
    let hold = app
        .webhook_ok(&with_id(paths::HOLD, &id), &[("CallSid", &pstn)])
        .await;
    assert!(hold.contains("<Play loop=\"0\">"), "{hold}");

    // The conference SID is unknown until the caller joins.
    let slot = app.slot(&bob, 2).await;
    assert_eq!(slot["state"], "parked");
    assert_eq!(slot["call"]["conferenceSid"], Value::Null);
    assert_eq!(slot["call"]["callerNumber"], CALLER);
    assert_eq!(slot["call"]["parkedBy"], "alice");
    let conference_sid = format!("CF{:032x}", 7);
    app.webhook_ok(
        paths::CONFERENCE_STATUS,
        &[
            ("ConferenceSid", &conference_sid),
            ("FriendlyName", &conference),
            ("StatusCallbackEvent", "participant-join"),
            ("CallSid", &pstn),
            ("SequenceNumber", "1"),
        ],
    )
    .await;
    assert_eq!(
        app.slot(&alice, 2).await["call"]["conferenceSid"],
        conference_sid.as_str()
    );

    // Bob retrieves: the caller's leg is redirected to TwiML that dials bob's browser.
    let retrieved = app.post_json("/api/lot/2/retrieve", &bob, json!({})).await;
    assert_eq!(retrieved.status(), 200);
    assert_eq!(retrieved.json::<Value>().await.unwrap()["agent"], "bob");
    let updates = app.twilio_updates().await;
    let (call, fields) = updates.last().unwrap();
    assert_eq!(call, &pstn);
    assert_eq!(
        field(fields, "Url"),
        Some(app.url(&with_id(paths::RETRIEVE, &id)).as_str())
    );
    assert_eq!(app.slot(&alice, 2).await["state"], "retrieving");

    // Leaving the conference because of our own redirect is not a hang-up.
    for (event, reason) in [
        ("participant-leave", "participant_updated_via_api"),
        ("conference-end", ""),
    ] {
        app.webhook_ok(
            paths::CONFERENCE_STATUS,
            &[
                ("ConferenceSid", &conference_sid),
                ("FriendlyName", &conference),
                ("StatusCallbackEvent", event),
                ("CallSid", &pstn),
                ("ReasonParticipantLeft", reason),
            ],
        )
        .await;
    }
    assert_eq!(app.slot(&alice, 2).await["state"], "retrieving");

    let twiml = app
        .webhook_ok(&with_id(paths::RETRIEVE, &id), &[("CallSid", &pstn)])
        .await;
    assert!(twiml.contains("<Identity>acme.bob</Identity>"), "{twiml}");
    assert!(twiml.contains(&format!("callerId=\"{CALLER}\"")), "{twiml}");
    assert!(
        twiml.contains(&format!(
            "action=\"{}\"",
            app.url(&with_attempt(paths::DIAL_RESULT, &id, 1))
        )),
        "{twiml}"
    );
    assert!(
        twiml.contains("statusCallbackEvent=\"answered\""),
        "{twiml}"
    );
    assert!(
        twiml.contains("<Parameter name=\"callerNumber\" value=\"+14155550123\"/>"),
        "{twiml}"
    );

    // Bob's browser answers: the slot is free at once.
    app.webhook_ok(
        &with_attempt(paths::RETRIEVE_ANSWERED, &id, 1),
        &[
            ("CallSid", &sid(3)),
            ("ParentCallSid", &pstn),
            ("CallStatus", "in-progress"),
        ],
    )
    .await;
    assert_eq!(app.slot(&alice, 2).await["state"], "free");
    let me = app.me(&bob).await;
    assert_eq!(me["status"], "on_call");
    assert_eq!(me["currentCall"]["pstnCallSid"], pstn.as_str());

    // After the conversation the dial's action comes with `completed`: nothing to do.
    let after = app
        .webhook_ok(
            &with_attempt(paths::DIAL_RESULT, &id, 1),
            &[("CallSid", &pstn), ("DialCallStatus", "completed")],
        )
        .await;
    assert!(after.contains("<Hangup/>"), "{after}");
    app.stop().await;
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_parked_frees_the_slot() {
    let app = TestApp::spawn().await;
    let Parked { id, pstn, bob, .. } = park_one(&app).await;
    let conference = conference_of(&id);
    app.webhook_ok(
        paths::CONFERENCE_STATUS,
        &[
            ("ConferenceSid", &format!("CF{:032x}", 1)),
            ("FriendlyName", &conference),
            ("StatusCallbackEvent", "participant-leave"),
            ("CallSid", &pstn),
            ("ReasonParticipantLeft", "participant_hung_up"),
        ],
    )
    .await;
    assert_eq!(app.slot(&bob, 2).await["state"], "free");
    // The call-status callback that follows changes nothing.
    app.webhook_ok(
        paths::CALL_STATUS,
        &[("CallSid", &pstn), ("CallStatus", "completed")],
    )
    .await;
    assert_eq!(app.slot(&bob, 2).await["state"], "free");

    let events = crate::sse::read_events(&app, &bob, Some(0), 3).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["parked", "updated", "abandoned"]);
    app.stop().await;
}

#[tokio::test]
async fn a_hang_up_reported_by_call_status_alone_frees_the_slot() {
    let app = TestApp::spawn().await;
    let Parked { pstn, bob, .. } = park_one(&app).await;
    app.webhook_ok(
        paths::CALL_STATUS,
        &[("CallSid", &pstn), ("CallStatus", "completed")],
    )
    .await;
    assert_eq!(app.slot(&bob, 2).await["state"], "free");
    app.stop().await;
}

#[tokio::test]
async fn a_caller_nobody_answers_goes_back_to_the_same_slot() {
    let app = TestApp::spawn().await;
    let Parked {
        id,
        pstn,
        alice,
        bob,
    } = park_one(&app).await;
    let retrieved = app.post_json("/api/lot/2/retrieve", &bob, json!({})).await;
    assert_eq!(retrieved.status(), 200);

    let twiml = app
        .webhook_ok(
            &with_attempt(paths::DIAL_RESULT, &id, 1),
            &[("CallSid", &pstn), ("DialCallStatus", "no-answer")],
        )
        .await;
    let conference = conference_of(&id);
    assert!(
        twiml.contains(&format!(">{conference}</Conference>")),
        "back into the same conference: {twiml}"
    );
    assert!(!twiml.contains("<Hangup"), "{twiml}");
    let slot = app.slot(&alice, 2).await;
    assert_eq!(slot["state"], "parked");
    assert_eq!(slot["call"]["id"], id.as_str());

    let events = crate::sse::read_events(&app, &alice, Some(2), 2).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["retrieving", "returned"]);

    // And it can be retrieved again.
    let again = app
        .post_json("/api/lot/2/retrieve", &alice, json!({}))
        .await;
    assert_eq!(again.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn two_simultaneous_retrieves_give_one_success_and_one_conflict() {
    let app = TestApp::spawn().await;
    let Parked { id, alice, bob, .. } = park_one(&app).await;
    let (a, b) = tokio::join!(
        app.post_json("/api/lot/2/retrieve", &alice, json!({})),
        app.post_json("/api/lot/2/retrieve", &bob, json!({}))
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let loser = if a.status() == 409 { a } else { b };
    let body: Value = loser.json().await.unwrap();
    assert_eq!(body["error"]["code"], "already_retrieving");
    // Exactly one retrieve redirect reached Twilio.
    let retrieve = app.url(&with_id(paths::RETRIEVE, &id));
    let retrieves = app
        .twilio_updates()
        .await
        .into_iter()
        .filter(|(_, f)| field(f, "Url").is_some_and(|u| u.starts_with(&retrieve)))
        .count();
    assert_eq!(retrieves, 1);
    app.stop().await;
}

#[tokio::test]
async fn an_agent_on_a_call_cannot_retrieve_and_no_caller_moves() {
    let app = TestApp::spawn().await;
    let Parked { id, pstn, bob, .. } = park_one(&app).await;
    // Bob answers another caller.
    let (bobs_caller, bobs_leg) = (sid(10), sid(11));
    app.inbound_call_answered(&bobs_caller, CALLER, NUMBER, &bobs_leg, "acme.bob")
        .await;
    let updates = app.twilio_updates().await.len();

    let refused = app.post_json("/api/lot/2/retrieve", &bob, json!({})).await;
    assert_eq!(error_code(refused).await, (409, "agent_busy".to_owned()));
    // The parked call is still parked, nobody asked Twilio to move anyone, and Bob keeps his
    // caller.
    let slot = app.slot(&bob, 2).await;
    assert_eq!(
        (
            &slot["state"],
            &slot["call"]["id"],
            &slot["call"]["pstnCallSid"]
        ),
        (&json!("parked"), &json!(id), &json!(pstn))
    );
    assert_eq!(app.twilio_updates().await.len(), updates);
    let me = app.me(&bob).await;
    assert_eq!(me["status"], "on_call");
    assert_eq!(me["currentCall"]["pstnCallSid"], bobs_caller.as_str());

    // Park his caller first, then the retrieve goes through.
    app.park(&bob, &bobs_leg, None).await;
    let retrieved = app.post_json("/api/lot/2/retrieve", &bob, json!({})).await;
    assert_eq!(retrieved.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn parking_into_a_taken_slot_or_a_full_lot_is_a_conflict() {
    let app = TestApp::spawn().await;
    let Parked { bob, .. } = park_one(&app).await;
    app.inbound_call_answered(&sid(10), CALLER, NUMBER, &sid(11), "acme.bob")
        .await;
    let taken = app
        .post_json("/api/park", &bob, json!({"callSid": sid(11), "slot": 2}))
        .await;
    assert_eq!(taken.status(), 409);
    assert_eq!(
        taken.json::<Value>().await.unwrap()["error"]["code"],
        "slot_occupied"
    );
    // Without a slot it takes the lowest free one.
    let auto = app
        .post_json("/api/park", &bob, json!({"callSid": sid(11)}))
        .await;
    assert_eq!(auto.status(), 201);
    assert_eq!(auto.json::<Value>().await.unwrap()["slot"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_caller_gone_before_the_park_frees_the_slot_and_says_so() {
    let twilio = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(400).set_body_json(
            json!({"code": 21220, "message": "Call is not in-progress. Cannot redirect.", "status": 400}),
        ))
        .mount(&twilio)
        .await;
    let app = TestApp::spawn_with(twilio).await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    app.inbound_call_answered(&sid(1), CALLER, NUMBER, &sid(2), "acme.alice")
        .await;
    let parked = app
        .post_json("/api/park", &alice, json!({"callSid": sid(2), "slot": 3}))
        .await;
    assert_eq!(parked.status(), 410);
    assert_eq!(
        parked.json::<Value>().await.unwrap()["error"]["code"],
        "caller_gone"
    );
    assert_eq!(app.slot(&alice, 3).await["state"], "free");
    eventually("the failed event is stored", || async {
        crate::sse::read_events(&app, &alice, Some(0), 2)
            .await
            .last()
            .is_some_and(|e| e.event == "failed")
    })
    .await;
    app.stop().await;
}

/// The page tells a call about to ring back from one about to go to voicemail: `GET /api/me`
/// says what the agent's organisation does with a call nobody retrieves.
#[tokio::test]
async fn me_says_what_the_organisation_does_with_a_call_nobody_retrieves() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    assert_eq!(app.me(&alice).await["timeoutAction"], "ringback");

    let created = app
        .http
        .post(app.url("/admin/orgs"))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .json(&json!({"slug": "straight", "name": "Straight", "slots": 2,
                      "numbers": ["+15550001999"], "timeoutAction": "voicemail"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let bob = app.agent("straight", "bob").await;
    assert_eq!(app.me(&bob).await["timeoutAction"], "voicemail");
    app.stop().await;
}
