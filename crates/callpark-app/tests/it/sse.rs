//! The live event stream: every subscribed agent sees the same events in sequence order, and a
//! client that reconnects with `Last-Event-ID` gets exactly what it missed.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, sid};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SseEvent {
    pub(crate) id: Option<u64>,
    pub(crate) event: String,
    pub(crate) data: Value,
}

/// An open event stream.
pub(crate) struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    pub(crate) async fn open(app: &TestApp, token: &str, last_event_id: Option<u64>) -> Self {
        let mut request = app.http.get(app.url("/api/events")).bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next lot event (or snapshot), skipping `agents` events; fails the test after three
    /// seconds without one.
    pub(crate) async fn next(&mut self) -> SseEvent {
        loop {
            let event = self.next_any().await;
            if event.event != "agents" {
                return event;
            }
        }
    }

    /// The next `agents` event: the organisation's agents, with their statuses.
    pub(crate) async fn next_agents(&mut self) -> Vec<Value> {
        loop {
            let event = self.next_any().await;
            if event.event == "agents" {
                assert_eq!(
                    event.id, None,
                    "agents events are not in the lot's sequence"
                );
                return event.data.as_array().expect("a list of agents").clone();
            }
        }
    }

    /// The next event of any kind, skipping keep-alive comments; fails the test after three
    /// seconds.
    async fn next_any(&mut self) -> SseEvent {
        self.next_within(Duration::from_secs(3)).await
    }

    /// The next event of any kind, skipping keep-alive comments; fails the test after `limit`.
    pub(crate) async fn next_within(&mut self, limit: Duration) -> SseEvent {
        let until = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    event: "message".to_owned(),
                    data: Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue; // a comment or the retry hint
                }
                event.data = serde_json::from_str(&data).unwrap();
                return event;
            }
            let chunk = tokio::time::timeout_at(until, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("an event within {limit:?}"))
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// The first `n` events of a stream opened with `Last-Event-ID`.
pub(crate) async fn read_events(
    app: &TestApp,
    token: &str,
    last_event_id: Option<u64>,
    n: usize,
) -> Vec<SseEvent> {
    let mut stream = Stream::open(app, token, last_event_id).await;
    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        events.push(stream.next().await);
    }
    events
}

const NUMBER: &str = "+15550002000";

#[tokio::test]
async fn two_agents_see_the_same_events_in_order_and_a_reconnect_misses_nothing() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    let bob = app.agent("acme", "bob").await;

    let mut a = Stream::open(&app, &alice, None).await;
    let mut b = Stream::open(&app, &bob, None).await;
    for stream in [&mut a, &mut b] {
        let snapshot = stream.next().await;
        assert_eq!(snapshot.event, "snapshot");
        assert_eq!(snapshot.id, Some(0));
        assert_eq!(snapshot.data["slots"].as_array().unwrap().len(), 5);
    }

    // Three calls parked into slots 1..3.
    app.park_calls(&alice, "acme.alice", NUMBER, 3).await;
    let mut seen_a = Vec::new();
    let mut seen_b = Vec::new();
    for _ in 0..6 {
        seen_a.push(a.next().await);
        seen_b.push(b.next().await);
    }
    assert_eq!(seen_a, seen_b, "both agents see the same events");
    let ids: Vec<u64> = seen_a.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6], "in sequence order, without gaps");
    assert_eq!(seen_a[0].event, "parked");
    assert_eq!(seen_a[0].data["slot"], 1);
    assert_eq!(seen_a[1].event, "updated");
    assert_eq!(seen_a[1].data["state"], "parked");

    // Bob drops off after event 4; two more things happen; he reconnects from 4.
    drop(b);
    let retrieved = app
        .post_json("/api/lot/1/retrieve", &alice, json!({}))
        .await;
    assert_eq!(retrieved.status(), 200);
    let mut resumed = Stream::open(&app, &bob, Some(4)).await;
    let missed: Vec<SseEvent> = vec![
        resumed.next().await,
        resumed.next().await,
        resumed.next().await,
    ];
    let ids: Vec<u64> = missed.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(
        ids,
        [5, 6, 7],
        "exactly the missed events, no snapshot, no repeats"
    );
    assert_eq!(missed[2].event, "retrieving");
    assert_eq!(missed[2].data["call"]["retrievingAgent"], "alice");
    assert_eq!(a.next().await, missed[2], "and live ones keep flowing");
    app.stop().await;
}

#[tokio::test]
async fn an_agent_sees_only_its_own_organisations_events() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    app.create_org("other", 5, "+15550002999").await;
    let alice = app.agent("acme", "alice").await;
    let mallory = app.agent("other", "mallory").await;
    let mut spy = Stream::open(&app, &mallory, None).await;
    assert_eq!(spy.next().await.event, "snapshot");
    app.inbound_call_answered(&sid(1), "+14155550100", NUMBER, &sid(2), "acme.alice")
        .await;
    app.park(&alice, &sid(2), None).await;
    // mallory's org then has an event of its own; it must be the first mallory sees.
    app.inbound_call_answered(
        &sid(3),
        "+14155550100",
        "+15550002999",
        &sid(4),
        "other.mallory",
    )
    .await;
    app.park(&mallory, &sid(4), None).await;
    let first = spy.next().await;
    assert_eq!(first.id, Some(1));
    assert_eq!(first.data["call"]["pstnCallSid"], sid(3).as_str());
    app.stop().await;
}

/// The status of `identity` in an `agents` event.
fn status_of<'a>(agents: &'a [Value], identity: &str) -> &'a str {
    agents
        .iter()
        .find(|a| a["identity"] == identity)
        .and_then(|a| a["status"].as_str())
        .unwrap_or("missing")
}

/// The Team panel follows statuses from the stream: another agent's sign-out, and a park that
/// frees its parker, reach a watching agent's stream within a second, with no lot event for
/// the sign-out at all.
#[tokio::test]
async fn agents_status_changes_reach_the_stream_within_a_second() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, "+15550009000").await;
    let alice = app.agent("acme", "alice").await;
    let bob = app.agent("acme", "bob").await;
    let mut stream = Stream::open(&app, &bob, None).await;
    assert_eq!(stream.next().await.event, "snapshot");
    let first = stream.next_agents().await;
    assert_eq!(status_of(&first, "alice"), "available");
    assert_eq!(status_of(&first, "bob"), "available");

    // Alice answers a call: on_call.
    app.inbound_call_answered(
        &sid(1),
        "+14155550123",
        "+15550009000",
        &sid(2),
        "acme.alice",
    )
    .await;
    let started = std::time::Instant::now();
    let on_call = stream.next_agents().await;
    assert_eq!(status_of(&on_call, "alice"), "on_call");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // She parks it: available again, with the lot's `parked` on the same stream.
    app.park(&alice, &sid(2), Some(1)).await;
    let parked = stream.next_agents().await;
    assert_eq!(status_of(&parked, "alice"), "available");

    // She signs out: no lot event, and still the stream says so.
    let signed_out = app
        .http
        .delete(app.url("/api/session"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert!(signed_out.status().is_success());
    let started = std::time::Instant::now();
    let offline = stream.next_agents().await;
    assert_eq!(status_of(&offline, "alice"), "offline");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_lot_that_grows_or_shrinks_reaches_every_open_stream_as_a_fresh_snapshot() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    let mut stream = Stream::open(&app, &alice, None).await;
    let first = stream.next().await;
    assert_eq!(first.event, "snapshot");
    assert_eq!(first.data["slots"].as_array().unwrap().len(), 5);

    for size in [7, 3] {
        let response = app
            .http
            .patch(app.url("/admin/orgs/acme"))
            .bearer_auth(crate::helpers::ADMIN_TOKEN)
            .json(&json!({ "slots": size }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        // Within the stream's settings check (5 s), whatever else comes meanwhile.
        let until = tokio::time::Instant::now() + Duration::from_secs(8);
        let snapshot = loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let event = stream.next_within(left).await;
            if event.event == "snapshot" {
                break event;
            }
        };
        assert_eq!(snapshot.data["slots"].as_array().unwrap().len(), size);
    }
    app.stop().await;
}
