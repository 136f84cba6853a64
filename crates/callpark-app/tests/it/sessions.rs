//! Access that can be managed: a signed-in page holds a session of its own (never the API
//! token), which expires and which signing out ends at once; API tokens can be rotated,
//! revoked and expire; and the session cookie alone cannot change anything from another site.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp, eventually};
use crate::life::{Parked, park_one};

/// Signs in with `token`; returns the `Set-Cookie` header and the session secret it holds.
async fn sign_in(app: &TestApp, token: &str) -> (String, String) {
    let response = app
        .http
        .post(app.url("/api/session"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = response
        .headers()
        .get(SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let secret = header
        .strip_prefix("callpark_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("the callpark_session cookie")
        .to_owned();
    (header, secret)
}

fn cookie(secret: &str) -> String {
    format!("callpark_session={secret}")
}

async fn me_by_cookie(app: &TestApp, secret: &str) -> u16 {
    app.http
        .get(app.url("/api/me"))
        .header(COOKIE, cookie(secret))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A state change signed in by the cookie, as the page sends it (its own origin, JSON).
fn from_the_page(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    secret: &str,
) -> reqwest::RequestBuilder {
    app.http
        .request(method, app.url(path))
        .header(COOKIE, cookie(secret))
        .header(ORIGIN, app.url(""))
        .header(CONTENT_TYPE, "application/json")
}

async fn admin(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let request = app
        .http
        .request(method, app.url(path))
        .bearer_auth(ADMIN_TOKEN);
    match body {
        Some(body) => request.json(&body),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn the_cookie_holds_a_session_that_signing_out_ends_at_once() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, "+15550001000").await;
    let alice = app.agent("acme", "alice").await;
    let (header, secret) = sign_in(&app, &alice).await;
    assert_ne!(secret, alice, "the cookie is never the API token");
    assert!(secret.starts_with("cps_") && secret.len() >= 68, "{secret}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(header.contains(attribute), "{header}");
    }
    assert!(
        !header.contains("Secure"),
        "served over http here: {header}"
    );
    assert_eq!(me_by_cookie(&app, &secret).await, 200);
    // One session per sign-in (the helper signed in once already), kept as a digest only.
    let stored = app
        .sql(&format!(
            "SELECT count(*), count(*) FILTER (WHERE hash = sha256(convert_to('{secret}', 'UTF8'))), \
             count(*) FILTER (WHERE s::text LIKE '%{secret}%') FROM sessions s"
        ))
        .await;
    let counts: Vec<i64> = (0..3).map(|i| stored[0].get(i)).collect();
    assert_eq!(
        counts,
        [2, 1, 0],
        "sessions, this one by its digest, any holding the secret"
    );

    // A second page has a session of its own; signing out one leaves the other.
    let (_, other) = sign_in(&app, &alice).await;
    assert_ne!(other, secret);
    let signed_out = from_the_page(&app, reqwest::Method::DELETE, "/api/session", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    assert_eq!(
        me_by_cookie(&app, &secret).await,
        401,
        "the old cookie is refused"
    );
    assert_eq!(me_by_cookie(&app, &other).await, 200);
    // The API token itself still works: signing out ends a session, not the agent's access.
    assert_eq!(app.get("/api/me", &alice).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_session_or_token_is_refused() {
    let app = TestApp::spawn_configured(wiremock::MockServer::start().await, |s| {
        s.sessions = callpark_domain::SessionLifetime {
            idle: Duration::from_millis(600),
            absolute: Duration::from_millis(1500),
        };
    })
    .await;
    app.create_org("acme", 3, "+15550001000").await;
    let alice = app.agent("acme", "alice").await;
    let (_, idle) = sign_in(&app, &alice).await;
    let (_, busy) = sign_in(&app, &alice).await;
    // Used every 300 ms, a session outlives its idle time, up to its absolute expiry.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(me_by_cookie(&app, &busy).await, 200);
    }
    assert_eq!(
        me_by_cookie(&app, &idle).await,
        401,
        "unused past its idle time"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        me_by_cookie(&app, &busy).await,
        401,
        "past its absolute expiry"
    );

    // A token issued for a second stops working after it.
    let created = admin(
        &app,
        reqwest::Method::POST,
        "/admin/orgs/acme/agents",
        Some(json!({"identity": "temp", "tokenExpiresInSeconds": 1})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let expires_at = created["tokenExpiresAt"].as_str().expect("an expiry");
    assert!(expires_at.ends_with('Z'), "{expires_at}");
    let temp = created["token"].as_str().unwrap();
    assert_eq!(app.get("/api/me", temp).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get("/api/me", temp).await.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_or_revoked_token_is_refused() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, "+15550001000").await;
    let alice = app.agent("acme", "alice").await;
    let (_, page) = sign_in(&app, &alice).await;

    let rotated = admin(
        &app,
        reqwest::Method::POST,
        "/admin/orgs/acme/agents/alice/token",
        None,
    )
    .await;
    assert_eq!(rotated.status(), 201);
    let rotated: Value = rotated.json().await.unwrap();
    assert_eq!(rotated["identity"], "alice");
    assert!(rotated["tokenExpiresAt"].is_null());
    let new = rotated["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/me", &alice).await.status(),
        401,
        "the old token"
    );
    assert_eq!(app.get("/api/me", &new).await.status(), 200);
    assert_eq!(
        me_by_cookie(&app, &page).await,
        200,
        "rotating keeps pages signed in"
    );

    // Revoking: no token works, and every page of the agent is signed out.
    let revoked = admin(
        &app,
        reqwest::Method::DELETE,
        "/admin/orgs/acme/agents/alice/token",
        None,
    )
    .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(app.get("/api/me", &new).await.status(), 401);
    assert_eq!(me_by_cookie(&app, &page).await, 401);

    // Unknown agents, and another organisation's path, are 404; agents are not admins.
    app.create_org("other", 3, "+15550002000").await;
    for path in [
        "/admin/orgs/acme/agents/nobody/token",
        "/admin/orgs/other/agents/alice/token",
    ] {
        let response = admin(&app, reqwest::Method::POST, path, None).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let bob = app.agent("acme", "bob").await;
    let as_agent = app
        .http
        .post(app.url("/admin/orgs/acme/agents/alice/token"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(as_agent.status(), 403, "an agent manages nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_cross_site_form_post_with_only_the_cookie_changes_nothing() {
    let app = TestApp::spawn().await;
    let Parked { bob, .. } = park_one(&app).await;
    let (_, page) = sign_in(&app, &bob).await;
    let retrieve = "/api/lot/2/retrieve";
    let attempts = [
        // Another site's form: its own origin, a form body.
        (
            Some("https://evil.example"),
            "application/x-www-form-urlencoded",
            "agent=bob",
        ),
        // No origin at all.
        (None, "application/json", "{}"),
        // Our origin, but not JSON.
        (Some(app.url("").as_str()), "text/plain", "{}"),
    ]
    .map(|(origin, kind, body)| (origin.map(str::to_owned), kind, body));
    for (origin, kind, body) in attempts {
        let mut request = app
            .http
            .post(app.url(retrieve))
            .header(COOKIE, cookie(&page))
            .header(CONTENT_TYPE, kind)
            .body(body);
        if let Some(origin) = &origin {
            request = request.header(ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{origin:?} {kind}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "cross_origin");
        assert_eq!(
            app.slot(&bob, 2).await["state"],
            "parked",
            "nothing changed"
        );
    }
    // Sign-out by a foreign form is refused too: the session lives on.
    let foreign = app
        .http
        .delete(app.url("/api/session"))
        .header(COOKIE, cookie(&page))
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(me_by_cookie(&app, &page).await, 200);

    // The page itself, from the service's origin with JSON, retrieves.
    let response = from_the_page(&app, reqwest::Method::POST, retrieve, &page)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(app.slot(&bob, 2).await["state"], "retrieving");
    app.stop().await;
}

#[tokio::test]
async fn a_live_stream_ends_when_its_session_is_signed_out() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, "+15550001000").await;
    let alice = app.agent("acme", "alice").await;
    let (_, page) = sign_in(&app, &alice).await;
    let mut stream = app
        .http
        .get(app.url("/api/events"))
        .header(COOKIE, cookie(&page))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    while !seen.contains("event: snapshot") {
        let chunk = stream.chunk().await.unwrap().expect("the snapshot");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let signed_out = from_the_page(&app, reqwest::Method::DELETE, "/api/session", &page)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while stream.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream went on after sign-out");
    eventually("alice offline", || async {
        app.me(&alice).await["status"] == "offline"
    })
    .await;
    app.stop().await;
}
