//! The history over HTTP: what an organisation's agents read of its parked calls, live or
//! ended (`GET /api/history`, `GET /api/history.csv`), and nothing of another's.

use callpark_http::routes::paths::{self, with_attempt};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, sid};
use crate::roles::agent_with_role;

const ACME: &str = "+15550001000";
const GLOBEX: &str = "+15550002000";

struct Lot {
    app: TestApp,
    alice: String,
    bob: String,
    gary: String,
}

/// Alice parks three calls of acme in slots 1, 2 and 3; the first caller hangs up, bob
/// retrieves the second; globex has a call of its own.
async fn three_lives() -> Lot {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, ACME).await;
    app.create_org("globex", 5, GLOBEX).await;
    let alice = app.agent("acme", "alice").await;
    let bob = app.agent("acme", "bob").await;
    let gary = app.agent("globex", "gary").await;
    for token in [&alice, &bob, &gary] {
        app.sign_in(token).await;
    }
    app.park_calls(&alice, "acme.alice", ACME, 3).await;
    app.inbound_call_answered(&sid(900), "+14155550199", GLOBEX, &sid(901), "globex.gary")
        .await;
    app.park(&gary, &sid(901), Some(1)).await;

    app.webhook_ok(
        paths::CALL_STATUS,
        &[("CallSid", &sid(10)), ("CallStatus", "completed")],
    )
    .await;
    let second = app.slot(&alice, 2).await["call"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let retrieving = app.post_json("/api/lot/2/retrieve", &bob, json!({})).await;
    assert_eq!(retrieving.status(), 200);
    app.webhook_ok(
        &with_attempt(paths::RETRIEVE_ANSWERED, &second, 1),
        &[
            ("CallSid", &sid(203)),
            ("ParentCallSid", &sid(20)),
            ("CallStatus", "in-progress"),
        ],
    )
    .await;
    Lot {
        app,
        alice,
        bob,
        gary,
    }
}

async fn history(lot: &Lot, token: &str, query: &str) -> Value {
    let response = lot.app.get(&format!("/api/history{query}"), token).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn slots(page: &Value) -> Vec<u64> {
    page["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slot"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn agents_page_through_their_organisations_history_newest_first() {
    let lot = three_lives().await;
    let first = history(&lot, &lot.bob, "?limit=2").await;
    assert_eq!(slots(&first), [3, 2]);
    let cursor = first["nextCursor"].as_str().expect("another page");
    let second = history(&lot, &lot.bob, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(slots(&second), [1]);
    assert_eq!(second["nextCursor"], Value::Null);

    let calls = history(&lot, &lot.alice, "").await["calls"].clone();
    let [third, retrieved, hung_up] = calls.as_array().unwrap().as_slice() else {
        panic!("three calls: {calls}")
    };
    assert_eq!(third["outcome"], "live");
    assert_eq!(third["endedAt"], Value::Null);
    assert_eq!(retrieved["outcome"], "retrieved");
    assert_eq!(retrieved["retrievedBy"], "bob");
    assert_eq!(hung_up["outcome"], "abandoned");
    assert_eq!(hung_up["retrievedBy"], Value::Null);
    for call in [third, retrieved, hung_up] {
        assert_eq!(call["parkedBy"], "alice");
        assert_eq!(call["callerNumber"], "+14155550100");
        assert_eq!(call["ringbacks"], 0);
        assert_eq!(call["voicemail"], false);
        assert!(call["secondsOnHold"].is_u64(), "{call}");
    }
    assert!(hung_up["endedAt"].is_string());

    // Globex sees its own call, and none of acme's.
    let globex = history(&lot, &lot.gary, "").await;
    assert_eq!(slots(&globex), [1]);
    assert_eq!(globex["calls"][0]["parkedBy"], "gary");
    lot.app.stop().await;
}

#[tokio::test]
async fn the_history_filters_by_outcome_slot_agent_and_time() {
    let lot = three_lives().await;
    let check = |query: &'static str, expected: &'static [u64]| {
        let lot = &lot;
        async move {
            assert_eq!(
                slots(&history(lot, &lot.alice, query).await),
                expected,
                "{query}"
            );
        }
    };
    check("?outcome=live", &[3]).await;
    check("?outcome=retrieved", &[2]).await;
    check("?outcome=abandoned", &[1]).await;
    check("?outcome=voicemail", &[]).await;
    check("?slot=2", &[2]).await;
    check("?agent=bob", &[2]).await;
    check("?agent=alice&outcome=live", &[3]).await;
    check("?from=2000-01-01T00:00:00Z", &[3, 2, 1]).await;
    check("?to=2000-01-01T00:00:00Z", &[]).await;
    lot.app.stop().await;
}

#[tokio::test]
async fn the_csv_holds_every_call_the_filters_let_through() {
    let lot = three_lives().await;
    let response = lot
        .app
        .get("/api/history.csv?outcome=live", &lot.alice)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "id,slot,caller_number,caller_name,parked_by,parked_at,retrieved_by,ended_at,outcome,\
         seconds_on_hold,ringbacks,voicemail,voicemail_handled_by,voicemail_handled_at"
    );
    assert_eq!(lines.len(), 2, "{body}");
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields[1..5], ["3", "+14155550100", "", "alice"]);
    assert_eq!(fields[8], "live");
    assert_eq!(fields[11..], ["false", "", ""]);

    let all = lot
        .app
        .get("/api/history.csv", &lot.alice)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(all.lines().count(), 4, "a header and three calls: {all}");
    lot.app.stop().await;
}

#[tokio::test]
async fn a_history_query_it_cannot_read_is_refused_in_words() {
    let lot = three_lives().await;
    let refused = [
        (
            "/api/history?limit=0",
            "`limit` must be a whole number from 1 to 500",
        ),
        (
            "/api/history?limit=501",
            "`limit` must be a whole number from 1 to 500",
        ),
        ("/api/history?outcome=lost", "`outcome` must be one of"),
        (
            "/api/history?slot=two",
            "`slot` must be a whole number from 1 to 999",
        ),
        (
            "/api/history?from=yesterday",
            "`from` must be an RFC 3339 time",
        ),
        (
            "/api/history?cursor=bm9wZQ",
            "`cursor` is not one this service handed out",
        ),
        ("/api/history?agent=", "`agent` must be an agent identity"),
        ("/api/history?slot=1&slot=2", "`slot` is given twice"),
        ("/api/history?colour=red", "unknown parameter `colour`"),
        (
            "/api/history.csv?limit=5",
            "`limit` is for the pages of /api/history",
        ),
    ];
    for (path, message) in refused {
        let response = lot.app.get(path, &lot.alice).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_request")),
            "{path}"
        );
        let said = body["error"]["message"].as_str().unwrap();
        assert!(said.contains(message), "{path}: {said}");
    }
    let anonymous = reqwest::get(lot.app.url("/api/history")).await.unwrap();
    assert_eq!(
        error_code(anonymous).await,
        (401, "unauthorized".to_owned())
    );
    lot.app.stop().await;
}

#[tokio::test]
async fn a_supervisor_reads_what_the_history_adds_up_to_and_nobody_else_does() {
    let lot = three_lives().await;
    let sam = agent_with_role(&lot.app, "acme", "sam", "supervisor").await;
    let gina = agent_with_role(&lot.app, "globex", "gina", "supervisor").await;
    let stats = |token: String| {
        let app = &lot.app;
        async move {
            let response = app.get("/api/stats?bucket=day", &token).await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let acme = stats(sam.clone()).await;
    let totals = &acme["totals"];
    let calls = history(&lot, &sam, "").await["calls"].clone();
    let calls = calls.as_array().unwrap();
    let with = |outcome: &str| calls.iter().filter(|c| c["outcome"] == outcome).count();
    for (figure, outcome) in [
        ("retrieved", "retrieved"),
        ("abandoned", "abandoned"),
        ("live", "live"),
    ] {
        assert_eq!(totals[figure], with(outcome), "{figure}: {acme}");
        assert_eq!(totals[figure], 1, "{figure}: {acme}");
    }
    assert_eq!(totals["parks"], calls.len());
    let retrieved = calls.iter().find(|c| c["outcome"] == "retrieved").unwrap();
    let waited = &retrieved["secondsOnHold"];
    assert_eq!(
        totals["timeToRetrieveSeconds"],
        json!({"p50": waited, "p90": waited, "p99": waited})
    );
    let days = acme["buckets"].as_array().unwrap();
    assert_eq!(days.len(), 31, "30 days back from now, by the day: {acme}");
    assert_eq!(
        days.iter()
            .map(|d| d["parks"].as_u64().unwrap())
            .sum::<u64>(),
        3
    );
    let agents: Vec<_> = acme["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap(),
                a["parked"]["parks"].as_u64().unwrap(),
                a["retrieved"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(agents, [("alice", 3, 0), ("bob", 0, 1)]);

    // Globex's supervisor counts globex's one call; agents are refused.
    assert_eq!(stats(gina).await["totals"]["parks"], 1);
    let refused = lot.app.get("/api/stats", &lot.alice).await;
    assert_eq!(error_code(refused).await, (403, "forbidden".to_owned()));
    let bad = lot.app.get("/api/stats?bucket=week", &sam).await;
    assert_eq!(error_code(bad).await, (400, "invalid_request".to_owned()));
    lot.app.stop().await;
}
