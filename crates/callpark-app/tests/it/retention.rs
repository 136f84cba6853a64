//! Retention (`CALLPARK_RETENTION_DAYS`): the service's own sweep forgets what is older than
//! the window — the caller of a call that ended before it, its lot events, its call's legs —
//! and leaves everything newer as it was.

use std::time::Duration;

use callpark_http::routes::paths;
use serde_json::Value;
use wiremock::MockServer;

use crate::helpers::{TestApp, accepted, answer_updates, eventually, sid};

const ACME: &str = "+15550001000";

#[tokio::test]
async fn the_sweep_forgets_what_is_older_than_the_window_and_keeps_the_rest() {
    let twilio = MockServer::start().await;
    answer_updates(&twilio, accepted(), None, 5).await;
    let app = TestApp::spawn_configured(twilio, |s| {
        s.retention = Some(Duration::from_secs(86_400));
        s.sweep_interval = Duration::from_millis(20);
    })
    .await;
    app.create_org("acme", 5, ACME).await;
    let alice = app.agent("acme", "alice").await;
    app.sign_in(&alice).await;
    // Two callers hang up after being parked: the first did so three days ago.
    app.park_calls(&alice, "acme.alice", ACME, 2).await;
    for caller in [sid(10), sid(20)] {
        app.webhook_ok(
            paths::CALL_STATUS,
            &[("CallSid", &caller), ("CallStatus", "completed")],
        )
        .await;
    }
    let (old, new) = (sid(10), sid(20));
    app.sql(&format!(
        "WITH old AS (UPDATE parked_calls \
                         SET parked_at = parked_at - interval '3 days', \
                             ended_at = ended_at - interval '3 days', \
                             recording_url = 'https://api.twilio.com/RE1' \
                       WHERE pstn_sid = '{old}' RETURNING id) \
         UPDATE lot_events SET at = at - interval '3 days' \
          WHERE (call->>'id')::uuid IN (SELECT id FROM old)"
    ))
    .await;
    app.sql(&format!(
        "UPDATE calls SET recorded_at = recorded_at - interval '3 days' WHERE pstn_sid = '{old}'"
    ))
    .await;

    let remembered = |pstn: String| {
        let app = &app;
        async move {
            let row = &app
                .sql(&format!(
                    "SELECT caller_number IS NOT NULL, recording_url IS NOT NULL, state, \
                            (SELECT count(*) FROM lot_events e WHERE (e.call->>'id')::uuid = p.id), \
                            (SELECT count(*) FROM calls c WHERE c.pstn_sid = p.pstn_sid), \
                            (SELECT count(*) FROM browser_legs b WHERE b.pstn_sid = p.pstn_sid) \
                       FROM parked_calls p WHERE pstn_sid = '{pstn}'"
                ))
                .await[0];
            (
                row.get::<_, bool>(0),
                row.get::<_, bool>(1),
                row.get::<_, String>(2),
                row.get::<_, i64>(3) > 0,
                row.get::<_, i64>(4),
                row.get::<_, i64>(5),
            )
        }
    };
    eventually("the old call is forgotten", || async {
        remembered(old.clone()).await == (false, false, "abandoned".to_owned(), false, 0, 0)
    })
    .await;
    assert_eq!(
        remembered(new.clone()).await,
        (true, false, "abandoned".to_owned(), true, 1, 1),
        "the newer call is kept whole"
    );
    // The history still counts the old call, without its caller.
    let response = app.get("/api/history?outcome=abandoned", &alice).await;
    let history: Value = response.json().await.unwrap();
    let numbers: Vec<&Value> = history["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["callerNumber"])
        .collect();
    assert_eq!(numbers, [&Value::from("+14155550100"), &Value::Null]);
    app.stop().await;
}
