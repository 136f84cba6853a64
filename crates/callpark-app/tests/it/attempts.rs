//! Every callback belongs to one attempt: late or replayed callbacks of an earlier retrieve,
//! and late statuses of an agent's browser leg, never move what came after them.

use callpark_http::routes::paths::{self, with_attempt, with_id};
use serde_json::json;

use crate::helpers::{TestApp, sid};
use crate::life::{Parked, park_one};

#[tokio::test]
async fn a_late_no_answer_of_a_first_retrieve_leaves_the_second_ringing() {
    let app = TestApp::spawn().await;
    let Parked {
        id,
        pstn,
        alice,
        bob,
    } = park_one(&app).await;
    let no_answer = [("CallSid", pstn.as_str()), ("DialCallStatus", "no-answer")];

    // Bob's retrieve (attempt 1) rings out: the caller is back in slot 2.
    let first = app.post_json("/api/lot/2/retrieve", &bob, json!({})).await;
    assert_eq!(first.status(), 200);
    app.webhook_ok(&with_attempt(paths::DIAL_RESULT, &id, 1), &no_answer)
        .await;
    assert_eq!(app.slot(&alice, 2).await["state"], "parked");

    // Alice retrieves it (attempt 2), and her dial's URLs say so.
    let second = app
        .post_json("/api/lot/2/retrieve", &alice, json!({}))
        .await;
    assert_eq!(second.status(), 200);
    let dial = app
        .webhook_ok(&with_id(paths::RETRIEVE, &id), &[("CallSid", &pstn)])
        .await;
    let action = app.url(&with_attempt(paths::DIAL_RESULT, &id, 2));
    assert!(dial.contains(&format!("action=\"{action}\"")), "{dial}");

    // The first attempt's no-answer again (late, or replayed) while alice's browser rings.
    let late = app
        .webhook_ok(&with_attempt(paths::DIAL_RESULT, &id, 1), &no_answer)
        .await;
    let slot = app.slot(&alice, 2).await;
    assert_eq!(slot["state"], "retrieving", "{slot}");
    // Whoever asks is told to follow the current attempt, not to go back to the lot.
    let current = app.url(&with_id(paths::RETRIEVE, &id));
    assert!(late.contains(&format!(">{current}</Redirect>")), "{late}");

    // Alice answers: the caller is hers and the slot is free, with no ghost left in the lot.
    app.webhook_ok(
        &with_attempt(paths::RETRIEVE_ANSWERED, &id, 2),
        &[
            ("CallSid", &sid(7)),
            ("ParentCallSid", &pstn),
            ("CallStatus", "in-progress"),
        ],
    )
    .await;
    assert_eq!(app.slot(&alice, 2).await["state"], "free");
    assert_eq!(app.me(&alice).await["status"], "on_call");

    // Bob's answer to the first attempt, arriving now, does not put bob on the call.
    app.webhook_ok(
        &with_attempt(paths::RETRIEVE_ANSWERED, &id, 1),
        &[
            ("CallSid", &sid(6)),
            ("ParentCallSid", &pstn),
            ("CallStatus", "in-progress"),
        ],
    )
    .await;
    assert_eq!(app.me(&bob).await["status"], "available");
    assert_eq!(app.me(&alice).await["status"], "on_call");
    app.stop().await;
}

#[tokio::test]
async fn a_callback_for_an_attempt_that_is_not_a_number_is_404() {
    let app = TestApp::spawn().await;
    let Parked { id, pstn, .. } = park_one(&app).await;
    let path = with_id(paths::DIAL_RESULT, &id).replace("{attempt}", "first");
    let response = app
        .webhook(
            &path,
            &[("CallSid", &pstn), ("DialCallStatus", "no-answer")],
        )
        .await;
    assert_eq!(response.status(), 404);
    app.stop().await;
}

/// A call-status callback of alice's browser leg `browser`, bridged to `pstn`.
async fn alice_leg_status(app: &TestApp, browser: &str, pstn: &str, status: &str, seq: &str) {
    app.webhook_ok(
        paths::CALL_STATUS,
        &[
            ("CallSid", browser),
            ("ParentCallSid", pstn),
            ("CallStatus", status),
            ("To", "client:acme.alice"),
            ("SequenceNumber", seq),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_late_in_progress_of_a_parked_browser_leg_leaves_its_agent_available() {
    let app = TestApp::spawn().await;
    let Parked { pstn, alice, .. } = park_one(&app).await;
    assert_eq!(app.me(&alice).await["status"], "available");
    // alice's leg (sid 2) was dropped by the park; its in-progress arrives only now.
    alice_leg_status(&app, &sid(2), &pstn, "in-progress", "2").await;
    let me = app.me(&alice).await;
    assert_eq!(me["status"], "available", "{me}");
    assert!(me["currentCall"].is_null(), "{me}");
    app.stop().await;
}

#[tokio::test]
async fn a_late_in_progress_of_a_completed_browser_leg_leaves_its_agent_available() {
    let app = TestApp::spawn().await;
    let Parked { alice, .. } = park_one(&app).await;
    // A second caller, answered by alice on leg sid 21, who then hangs up.
    let (pstn, browser) = (sid(20), sid(21));
    app.inbound_call_answered(
        &pstn,
        "+14155550199",
        "+15550001000",
        &browser,
        "acme.alice",
    )
    .await;
    assert_eq!(app.me(&alice).await["status"], "on_call");
    alice_leg_status(&app, &browser, &pstn, "completed", "3").await;
    assert_eq!(app.me(&alice).await["status"], "available");

    // The leg's in-progress and ringing come late, out of order: alice stays available.
    alice_leg_status(&app, &browser, &pstn, "in-progress", "2").await;
    alice_leg_status(&app, &browser, &pstn, "ringing", "1").await;
    assert_eq!(app.me(&alice).await["status"], "available");
    app.stop().await;
}

#[tokio::test]
async fn statuses_of_one_browser_leg_count_in_their_sequence_order() {
    let app = TestApp::spawn().await;
    let Parked { alice, .. } = park_one(&app).await;
    let (pstn, browser) = (sid(30), sid(31));
    app.inbound_call_answered(
        &pstn,
        "+14155550199",
        "+15550001000",
        &browser,
        "acme.alice",
    )
    .await;
    // The in-progress came (sequence 5); a replay of it, then an older one, change nothing,
    // and a sequence number that is not a number is refused.
    alice_leg_status(&app, &browser, &pstn, "in-progress", "5").await;
    alice_leg_status(&app, &browser, &pstn, "in-progress", "4").await;
    assert_eq!(app.me(&alice).await["status"], "on_call");
    let refused = app
        .webhook(
            paths::CALL_STATUS,
            &[
                ("CallSid", &browser),
                ("ParentCallSid", &pstn),
                ("CallStatus", "completed"),
                ("SequenceNumber", "six"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(app.me(&alice).await["status"], "on_call");
    alice_leg_status(&app, &browser, &pstn, "completed", "6").await;
    assert_eq!(app.me(&alice).await["status"], "available");
    app.stop().await;
}
