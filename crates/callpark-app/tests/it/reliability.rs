//! Every caller stays accounted for through Twilio faults, retries, duplicate and shuffled
//! callbacks: no slot leaked, no record stuck.

use std::time::Duration;

use callpark_domain::retrieve_window;
use callpark_http::routes::paths::{self, with_attempt, with_id};
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use crate::helpers::{
    TestApp, accepted, answer_updates, calls_are, conference_of, error_code, eventually,
    eventually_within, field, sid,
};

const NUMBER: &str = "+15550004000";
const CALLER: &str = "+14155550177";

/// Twilio whose first call update answers `first`, and every later one 200; fetching a call says
/// it is `status`, and it has no connected agent legs.
async fn twilio_failing_once(first: ResponseTemplate, status: &str) -> MockServer {
    let twilio = MockServer::start().await;
    answer_updates(&twilio, first, Some(1), 1).await;
    answer_updates(&twilio, accepted(), None, 5).await;
    calls_are(&twilio, status).await;
    twilio
}

/// Reconciles after 300 ms; a retrieve rings for Twilio's shortest `<Dial timeout>`, 5 s, so
/// reconciliation may settle it after `retrieve_window` of that.
async fn reconciling_app(twilio: MockServer) -> TestApp {
    TestApp::spawn_configured(twilio, |s| {
        s.reconcile_grace = Duration::from_millis(300);
        s.ring_time = Duration::from_secs(5);
    })
    .await
}

/// acme with alice and bob signed in.
async fn alice_and_bob(app: &TestApp) -> (String, String) {
    app.create_org("acme", 5, NUMBER).await;
    (
        app.agent("acme", "alice").await,
        app.agent("acme", "bob").await,
    )
}

/// acme with alice and bob signed in, and alice on a call (caller's leg sid(1), hers sid(2)).
async fn alice_on_a_call(app: &TestApp) -> (String, String) {
    let (alice, bob) = alice_and_bob(app).await;
    app.inbound_call_answered(&sid(1), CALLER, NUMBER, &sid(2), "acme.alice")
        .await;
    (alice, bob)
}

#[tokio::test]
async fn a_park_whose_redirect_fails_on_twilios_side_is_confirmed_by_reconciliation() {
    for (fault, status, expected) in [
        (ResponseTemplate::new(500), "in-progress", "parked"),
        (
            accepted().set_delay(Duration::from_secs(2)),
            "in-progress",
            "parked",
        ),
        (ResponseTemplate::new(500), "completed", "free"),
    ] {
        let app = reconciling_app(twilio_failing_once(fault, status).await).await;
        let (alice, _) = alice_on_a_call(&app).await;
        let parked = app
            .post_json("/api/park", &alice, json!({"callSid": sid(2), "slot": 1}))
            .await;
        assert_eq!(
            error_code(parked).await,
            (504, "telephony_timeout".to_owned()),
            "{expected} after {status}"
        );
        assert_eq!(
            app.slot(&alice, 1).await["state"],
            "parking",
            "the outcome is unknown: the slot stays held"
        );
        eventually(
            &format!("reconciliation resolves the park to {expected}"),
            || async { app.slot(&alice, 1).await["state"] == expected },
        )
        .await;
        app.stop().await;
    }
}

#[tokio::test]
async fn a_park_twilio_refuses_or_rate_limits_frees_the_slot_at_once() {
    for fault in [
        ResponseTemplate::new(429)
            .set_body_json(json!({"code": 20429, "message": "Too many requests", "status": 429})),
        ResponseTemplate::new(401)
            .set_body_json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
    ] {
        let twilio = MockServer::start().await;
        answer_updates(&twilio, fault, None, 5).await;
        let app = TestApp::spawn_with(twilio).await;
        let (alice, _) = alice_on_a_call(&app).await;
        let parked = app
            .post_json("/api/park", &alice, json!({"callSid": sid(2), "slot": 1}))
            .await;
        assert_eq!(
            error_code(parked).await,
            (502, "telephony_error".to_owned())
        );
        assert_eq!(app.slot(&alice, 1).await["state"], "free");
        // The caller is still with alice, who can try again.
        let me = app.me(&alice).await;
        assert_eq!(me["currentCall"]["pstnCallSid"], sid(1).as_str());
        app.stop().await;
    }
}

/// Twilio that accepts the park, then answers the retrieve's redirect with `fault` up to
/// `times` times, then accepts again; the caller stays in progress with no agent leg.
async fn twilio_failing_the_retrieve(fault: ResponseTemplate, times: u64) -> MockServer {
    let twilio = MockServer::start().await;
    answer_updates(&twilio, accepted(), Some(1), 1).await;
    answer_updates(&twilio, fault, Some(times), 2).await;
    answer_updates(&twilio, accepted(), None, 5).await;
    calls_are(&twilio, "in-progress").await;
    twilio
}

#[tokio::test]
async fn a_retrieve_whose_redirect_fails_leaves_the_caller_parked() {
    let rate_limited = ResponseTemplate::new(429)
        .set_body_json(json!({"code": 20429, "message": "Too many requests", "status": 429}));
    for (fault, times, answer, right_after) in [
        // The outcome is unknown: the slot shows the retrieve until reconciliation settles it.
        (
            ResponseTemplate::new(500),
            1,
            (504, "telephony_timeout"),
            "retrieving",
        ),
        (
            accepted().set_delay(Duration::from_secs(2)),
            1,
            (504, "telephony_timeout"),
            "retrieving",
        ),
        // Twilio certainly did nothing (rate limited on each of the client's three attempts):
        // the caller is back on hold at once.
        (rate_limited, 3, (502, "telephony_error"), "parked"),
    ] {
        let app = reconciling_app(twilio_failing_the_retrieve(fault, times).await).await;
        let (alice, bob) = alice_on_a_call(&app).await;
        app.park(&alice, &sid(2), Some(1)).await;
        let retrieve = app.post_json("/api/lot/1/retrieve", &bob, json!({})).await;
        assert_eq!(error_code(retrieve).await, (answer.0, answer.1.to_owned()));
        assert_eq!(app.slot(&bob, 1).await["state"], right_after, "{answer:?}");
        // Not before its dial could have stopped ringing (retrieve_window), well within 30 s.
        let settled = tokio::time::Instant::now();
        eventually_within(
            Duration::from_secs(30),
            "nobody took the caller, so it is back on hold in its slot",
            || async { app.slot(&bob, 1).await["state"] == "parked" },
        )
        .await;
        if right_after == "retrieving" {
            // The retrieve began up to 2 s before its answer (the stalled request).
            let waited = settled.elapsed() + Duration::from_secs(3);
            assert!(
                waited >= retrieve_window(Duration::from_secs(5)),
                "reconciled a retrieve that could still ring, after {waited:?}"
            );
        }
        if right_after == "retrieving" {
            // Reconciliation sent the caller back into the conference of slot 1.
            // (wiremock records a stalled request when it answers, so count, not order; and the
            // record is parked a moment before the redirect is sent, so wait for it).
            let updates = app.twilio_updates().await;
            let park_url = field(&updates[0].1, "Url").unwrap().to_owned();
            eventually(
                "the caller is redirected back into its conference",
                || async {
                    let updates = app.twilio_updates().await;
                    updates
                        .iter()
                        .filter(|(_, f)| field(f, "Url") == Some(park_url.as_str()))
                        .count()
                        == 2
                },
            )
            .await;
        }
        // And it can be retrieved again.
        assert_eq!(
            app.post_json("/api/lot/1/retrieve", &bob, json!({}))
                .await
                .status(),
            200,
            "{answer:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_retried_park_with_the_same_idempotency_key_parks_once() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_on_a_call(&app).await;
    let park = || {
        app.http
            .post(app.url("/api/park"))
            .bearer_auth(&alice)
            .header("Idempotency-Key", "park-7f3a")
            .json(&json!({"callSid": sid(2)}))
            .send()
    };
    let (first, second) = tokio::join!(park(), park());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (201, 201)
    );
    let (first, second): (Value, Value) =
        (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first["id"], second["id"]);
    let later: Value = park().await.unwrap().json().await.unwrap();
    assert_eq!(later["id"], first["id"]);
    assert_eq!(
        app.twilio_updates().await.len(),
        1,
        "one redirect reached Twilio"
    );

    let reused = app
        .http
        .post(app.url("/api/park"))
        .bearer_auth(&alice)
        .header("Idempotency-Key", "park-7f3a")
        .json(&json!({"callSid": sid(2), "slot": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(reused).await,
        (409, "idempotency_key_reused".to_owned())
    );
    // Without a key, parking the same call again is a conflict, not a second occupancy.
    let again = app
        .post_json("/api/park", &alice, json!({"callSid": sid(2)}))
        .await;
    assert_eq!(error_code(again).await, (409, "already_parked".to_owned()));
    app.stop().await;
}

/// The webhooks of one whole park → retrieve → hang-up life, in Twilio's order, with the agents'
/// API calls between them.
async fn life(
    app: &TestApp,
    alice: &str,
    bob: &str,
    deliver: &mut impl AsyncFnMut(&TestApp, &str, Vec<(String, String)>),
) {
    let (pstn, browser, bob_leg) = (sid(1), sid(2), sid(3));
    let p = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    deliver(
        app,
        paths::VOICE,
        p(&[
            ("CallSid", &pstn),
            ("From", CALLER),
            ("To", NUMBER),
            ("CallStatus", "ringing"),
        ]),
    )
    .await;
    deliver(
        app,
        paths::CALL_STATUS,
        p(&[
            ("CallSid", &browser),
            ("ParentCallSid", &pstn),
            ("CallStatus", "in-progress"),
            ("To", "client:acme.alice"),
        ]),
    )
    .await;
    let parked = app.park(alice, &browser, Some(2)).await;
    let id = parked["id"].as_str().unwrap().to_owned();
    let conference = conference_of(&id);
    let cf = format!("CF{:032x}", 9);
    deliver(
        app,
        paths::CALL_STATUS,
        p(&[
            ("CallSid", &browser),
            ("ParentCallSid", &pstn),
            ("CallStatus", "completed"),
            ("To", "client:acme.alice"),
        ]),
    )
    .await;
    deliver(
        app,
        paths::INBOUND_DIAL_RESULT,
        p(&[("CallSid", &pstn), ("DialCallStatus", "completed")]),
    )
    .await;
    deliver(app, &with_id(paths::PARK, &id), p(&[("CallSid", &pstn)])).await;
    deliver(app, &with_id(paths::HOLD, &id), p(&[("CallSid", &pstn)])).await;
    deliver(
        app,
        paths::CONFERENCE_STATUS,
        p(&[
            ("ConferenceSid", &cf),
            ("FriendlyName", &conference),
            ("StatusCallbackEvent", "participant-join"),
            ("CallSid", &pstn),
            ("SequenceNumber", "1"),
        ]),
    )
    .await;
    assert_eq!(
        app.post_json("/api/lot/2/retrieve", bob, json!({}))
            .await
            .status(),
        200
    );
    deliver(
        app,
        paths::CONFERENCE_STATUS,
        p(&[
            ("ConferenceSid", &cf),
            ("FriendlyName", &conference),
            ("StatusCallbackEvent", "participant-leave"),
            ("CallSid", &pstn),
            ("ReasonParticipantLeft", "participant_updated_via_api"),
            ("SequenceNumber", "2"),
        ]),
    )
    .await;
    deliver(
        app,
        paths::CONFERENCE_STATUS,
        p(&[
            ("ConferenceSid", &cf),
            ("FriendlyName", &conference),
            ("StatusCallbackEvent", "conference-end"),
            ("SequenceNumber", "3"),
        ]),
    )
    .await;
    deliver(
        app,
        &with_id(paths::RETRIEVE, &id),
        p(&[("CallSid", &pstn)]),
    )
    .await;
    deliver(
        app,
        &with_attempt(paths::RETRIEVE_ANSWERED, &id, 1),
        p(&[
            ("CallSid", &bob_leg),
            ("ParentCallSid", &pstn),
            ("CallStatus", "in-progress"),
        ]),
    )
    .await;
    deliver(
        app,
        &with_attempt(paths::DIAL_RESULT, &id, 1),
        p(&[("CallSid", &pstn), ("DialCallStatus", "completed")]),
    )
    .await;
    deliver(
        app,
        paths::CALL_STATUS,
        p(&[("CallSid", &pstn), ("CallStatus", "completed")]),
    )
    .await;
}

/// What a life leaves behind: the lot, and the kinds of events written.
async fn outcome(app: &TestApp, token: &str) -> (Value, Vec<String>) {
    let lot = app.lot(token).await;
    let count = usize::try_from(lot["sequence"].as_u64().unwrap()).unwrap();
    let events = crate::sse::read_events(app, token, Some(0), count).await;
    let slots = lot["slots"].clone();
    (slots, events.into_iter().map(|e| e.event).collect())
}

async fn post(app: &TestApp, path: &str, params: &[(String, String)]) {
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.webhook_ok(path, &params).await;
}

#[tokio::test]
async fn webhooks_delivered_twice_and_replayed_shuffled_end_where_a_clean_run_ends() {
    let clean = TestApp::spawn().await;
    let (alice, bob) = alice_and_bob(&clean).await;
    let mut once = async |app: &TestApp, path: &str, params: Vec<(String, String)>| {
        post(app, path, &params).await
    };
    life(&clean, &alice, &bob, &mut once).await;
    let expected = outcome(&clean, &alice).await;
    assert_eq!(expected.0[1]["state"], "free");
    assert_eq!(
        expected.1,
        ["parked", "updated", "updated", "retrieving", "retrieved"]
    );
    clean.stop().await;

    let messy = TestApp::spawn().await;
    let (alice, bob) = alice_and_bob(&messy).await;
    let mut delivered = Vec::new();
    let mut twice = async |app: &TestApp, path: &str, params: Vec<(String, String)>| {
        post(app, path, &params).await;
        post(app, path, &params).await;
        delivered.push((path.to_owned(), params));
    };
    life(&messy, &alice, &bob, &mut twice).await;
    // Then every webhook of the life again, in several shuffled orders.
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..3 {
        rng.shuffle(&mut delivered);
        for (path, params) in &delivered {
            post(&messy, path, params).await;
        }
    }
    assert_eq!(outcome(&messy, &alice).await, expected);
    messy.stop().await;
}

#[tokio::test]
async fn no_agent_of_one_org_reaches_another_orgs_lot_through_any_endpoint() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_on_a_call(&app).await;
    app.create_org("other", 5, "+15550004999").await;
    let mallory = app.agent("other", "mallory").await;
    app.park(&alice, &sid(2), Some(1)).await;
    let acme_lot = app.lot(&alice).await;

    // Every agent endpoint, as mallory, aimed at acme's call, slot, agents and events.
    type Check = fn(&Value) -> bool;
    let reads: [(&str, Check); 3] = [
        ("/api/lot", |v: &Value| {
            v["org"] == "other" && v["slots"][0]["state"] == "free"
        }),
        ("/api/agents", |v: &Value| {
            v.as_array().unwrap().iter().all(|a| a["org"] == "other")
        }),
        ("/api/me", |v: &Value| {
            v["org"] == "other" && v["currentCall"].is_null()
        }),
    ];
    for (path, ok) in reads {
        let body: Value = app.get(path, &mallory).await.json().await.unwrap();
        assert!(ok(&body), "{path}: {body}");
    }
    let writes = [
        ("/api/park", json!({"callSid": sid(1)}), 404),
        ("/api/park", json!({"callSid": sid(2)}), 404),
        ("/api/park", json!({"callSid": sid(2), "slot": 1}), 404),
        ("/api/lot/1/retrieve", json!({}), 404),
        ("/api/lot/1/retrieve", json!({"agent": "alice"}), 404),
        (
            &*format!("/api/sandbox/calls/{}/hangup", sid(1)),
            json!({}),
            404,
        ),
    ];
    for (path, body, status) in writes {
        let response = app.post_json(path, &mallory, body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{path} {body}");
    }
    let mut events = crate::sse::Stream::open(&app, &mallory, Some(0)).await;
    let first = tokio::time::timeout(Duration::from_millis(300), events.next()).await;
    assert!(
        first.is_err() || first.unwrap().data["call"]["pstnCallSid"] != sid(1).as_str(),
        "no acme event leaks"
    );
    // Managing agents needs the admin token or a supervisor of the organisation: an agent is
    // refused.
    let admin = app
        .post_json(
            "/admin/orgs/acme/agents",
            &mallory,
            json!({"identity": "mole"}),
        )
        .await;
    assert_eq!(admin.status(), 403);
    assert_eq!(app.lot(&alice).await, acme_lot, "acme's lot is unchanged");
    app.stop().await;
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(
        csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
            && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_on_a_call(&app).await;
    let huge = "x".repeat(100 * 1024);
    let webhook = app
        .http
        .post(app.url(paths::CALL_STATUS))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("CallSid={huge}"))
        .send()
        .await
        .unwrap();
    assert!(webhook.status().is_client_error(), "{}", webhook.status());
    let api = app
        .post_json("/api/park", &alice, json!({"callSid": huge}))
        .await;
    assert!(api.status().is_client_error(), "{}", api.status());
    app.stop().await;
}

#[tokio::test]
async fn a_deadline_rings_back_once_across_two_instances_then_voicemail_keeps_the_recording() {
    let app = TestApp::spawn().await;
    let second = app.second_instance().await;
    let created = app
        .http
        .post(app.url("/admin/orgs"))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .json(&json!({"slug": "acme", "name": "Acme", "slots": 3, "numbers": [NUMBER], "maxParkSeconds": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let alice = app.agent("acme", "alice").await;
    app.inbound_call_answered(&sid(1), CALLER, NUMBER, &sid(2), "acme.alice")
        .await;
    let parked = app.park(&alice, &sid(2), Some(1)).await;
    let id = parked["id"].as_str().unwrap().to_owned();
    // Alice is free again (her leg dropped as the caller left it), so the deadline rings her back.
    app.webhook_ok(
        paths::CALL_STATUS,
        &[
            ("CallSid", &sid(2)),
            ("ParentCallSid", &sid(1)),
            ("CallStatus", "completed"),
            ("To", "client:acme.alice"),
        ],
    )
    .await;

    let ring_backs = || async {
        app.twilio_updates()
            .await
            .into_iter()
            .filter(|(_, f)| {
                field(f, "Url").is_some_and(|u| u.ends_with(&with_id(paths::RETRIEVE, &id)))
            })
            .count()
    };
    // Both instances sweep every 100 ms; the deadline is 2 s after the park.
    eventually_within(
        Duration::from_secs(5),
        "the ring-back is issued",
        || async { ring_backs().await >= 1 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        ring_backs().await,
        1,
        "exactly one ring-back, though two instances sweep"
    );
    let slot = app.slot(&alice, 1).await;
    assert_eq!(slot["state"], "retrieving");
    assert_eq!(slot["call"]["ringback"], true);
    assert_eq!(slot["call"]["retrievingAgent"], "alice");

    // The ring-back TwiML rings alice; she does not answer: voicemail.
    let ring = app
        .webhook_ok(&with_id(paths::RETRIEVE, &id), &[("CallSid", &sid(1))])
        .await;
    assert!(
        ring.contains("<Identity>acme.alice</Identity>") && ring.contains("value=\"ringback\""),
        "{ring}"
    );
    let voicemail = app
        .webhook_ok(
            &with_attempt(paths::DIAL_RESULT, &id, 1),
            &[("CallSid", &sid(1)), ("DialCallStatus", "no-answer")],
        )
        .await;
    assert!(
        voicemail.contains("<Record ")
            && voicemail.contains(&format!(
                "recordingStatusCallback=\"{}\"",
                app.url(&with_id(paths::RECORDING, &id))
            )),
        "{voicemail}"
    );
    assert_eq!(app.slot(&alice, 1).await["state"], "free");

    // Delivered to the other instance: any instance may take any webhook.
    let recording = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef";
    // Signatures are checked against each instance's public URL (behind a load balancer they
    // share one); sign for the instance that receives it.
    let stored = second
        .webhook(
            &with_id(paths::RECORDING, &id),
            &[
                ("CallSid", &sid(1)),
                ("RecordingUrl", recording),
                ("RecordingStatus", "completed"),
            ],
        )
        .await;
    assert_eq!(stored.status(), 204);
    let rows = app
        .sql(&format!(
            "SELECT state, recording_url FROM parked_calls WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(rows[0].get::<_, String>(0), "voicemail");
    assert_eq!(
        rows[0].get::<_, Option<String>>(1).as_deref(),
        Some(recording)
    );
    second.stop().await;
    app.stop().await;
}
