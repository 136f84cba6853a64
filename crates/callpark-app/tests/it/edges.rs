//! The hardened edges: what every answer of the agents' and admin APIs says about caching and
//! content sniffing, and how webhooks that never finish are closed.

use std::time::{Duration, Instant};

use callpark_http::routes::paths;
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, TestApp};

#[tokio::test]
async fn api_and_admin_answers_are_never_cached_or_sniffed() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, "+15550001000").await;
    let alice = app.agent("acme", "alice").await;
    let requests = [
        (
            "GET /api/me",
            app.http.get(app.url("/api/me")).bearer_auth(&alice),
        ),
        ("GET /api/lot, no token", app.http.get(app.url("/api/lot"))),
        (
            "POST /api/park, bad body",
            app.http
                .post(app.url("/api/park"))
                .bearer_auth(&alice)
                .json(&json!({"callSid": 1})),
        ),
        (
            "POST /admin/orgs/acme/agents",
            app.http
                .post(app.url("/admin/orgs/acme/agents"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"identity": "bob"})),
        ),
        (
            "GET /admin/orgs/nowhere",
            app.http
                .get(app.url("/admin/orgs/nowhere"))
                .bearer_auth(ADMIN_TOKEN),
        ),
    ];
    for (what, request) in requests {
        let response = request.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("cache-control").as_deref(),
            Some("no-store"),
            "{what}"
        );
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
    }
    app.stop().await;
}

/// Sends only the head of a webhook request announcing a body that never comes; returns the
/// answer's status line and how long it took.
async fn stalled_webhook(app: &TestApp, signature: Option<&str>) -> (String, Duration) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = app.url("").trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let signature = signature.map_or_else(String::new, |s| format!("X-Twilio-Signature: {s}\r\n"));
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\n{signature}\r\nCallSid=CA",
        paths::CALL_STATUS
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(Duration::from_secs(15), stream.read(&mut answer))
        .await
        .expect("an answer within 15 s")
        .unwrap();
    let status = String::from_utf8_lossy(&answer[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (status, started.elapsed())
}

#[tokio::test]
async fn a_webhook_is_refused_before_its_body_without_a_signature_and_closed_when_it_stalls() {
    let app = TestApp::spawn().await;
    // No signature, or not the shape of one: refused at once, without waiting for the body.
    for signature in [None, Some("not-a-signature")] {
        let (status, took) = stalled_webhook(&app, signature).await;
        assert!(status.contains(" 403 "), "{signature:?}: {status}");
        assert!(took < Duration::from_secs(2), "{signature:?}: {took:?}");
    }
    // A signature of the right shape whose body never comes: closed within a few seconds.
    let (status, took) = stalled_webhook(&app, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")).await;
    assert!(status.contains(" 408 "), "{status}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    app.stop().await;
}

#[tokio::test]
async fn repeated_wrong_tokens_are_throttled_with_retry_after() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, "+15550001000").await;
    let alice = app.agent("acme", "alice").await;
    // Clients as a reverse proxy on this host names them.
    let me = |client: &str, token: Option<&str>| {
        let mut request = app
            .http
            .get(app.url("/api/me"))
            .header("X-Forwarded-For", format!("198.51.100.1, {client}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    // No token at all is a plain 401, and is not counted.
    for _ in 0..20 {
        assert_eq!(me("203.0.113.7", None).await.unwrap().status(), 401);
    }
    for attempt in 1..=10 {
        let wrong = format!("cpk_wrong{attempt}");
        assert_eq!(me("203.0.113.7", Some(&wrong)).await.unwrap().status(), 401);
    }
    // The eleventh try is refused, even with the right token, and says when to come back.
    let refused = me("203.0.113.7", Some(&alice)).await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "too_many_attempts");
    // The admin API counts the same client's wrong tokens; other clients are not held back.
    let admin = app
        .http
        .get(app.url("/admin/orgs/acme"))
        .header("X-Forwarded-For", "203.0.113.7")
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 429);
    assert_eq!(me("203.0.113.8", Some(&alice)).await.unwrap().status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn live_streams_are_capped_per_agent_and_in_all() {
    let app = TestApp::spawn_configured(wiremock::MockServer::start().await, |s| {
        s.max_streams = callpark_http::MAX_STREAMS_PER_AGENT + 1;
    })
    .await;
    app.create_org("acme", 3, "+15550001000").await;
    let alice = app.agent("acme", "alice").await;
    let bob = app.agent("acme", "bob").await;
    let carol = app.agent("acme", "carol").await;
    let open = |token: &str| {
        app.http
            .get(app.url("/api/events"))
            .bearer_auth(token)
            .send()
    };
    let mut alices = Vec::new();
    for _ in 0..callpark_http::MAX_STREAMS_PER_AGENT {
        let stream = open(&alice).await.unwrap();
        assert_eq!(stream.status(), 200);
        alices.push(stream);
    }
    let refused = open(&alice).await.unwrap();
    assert_eq!(refused.status(), 429, "one stream too many for alice");
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "too_many_streams");
    // Bob takes the last place of the instance; carol finds none.
    let bobs = open(&bob).await.unwrap();
    assert_eq!(bobs.status(), 200);
    assert_eq!(
        open(&carol).await.unwrap().status(),
        429,
        "the instance is full"
    );
    // Alice closes a tab: its place is free again.
    drop(alices.pop());
    crate::helpers::eventually("a place for carol", || async {
        open(&carol).await.unwrap().status() == 200
    })
    .await;
    app.stop().await;
}
