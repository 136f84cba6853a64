//! Access that can be managed: the admin manages everything, a supervisor (an agent with that
//! role) its own organisation, an agent nothing; another organisation is 404 and leaks nothing;
//! a deactivated agent is shut out at once on every instance.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, Api, TestApp, sid};
use crate::life::{Parked, park_one};

/// Creates an agent with `role` through the admin API; returns its token.
pub(crate) async fn agent_with_role(app: &Api, org: &str, identity: &str, role: &str) -> String {
    let response = app
        .http
        .post(app.url(&format!("/admin/orgs/{org}/agents")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"identity": identity, "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn send(
    app: &Api,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String) {
    // As one client behind a local proxy, apart from the checks' own requests: a row of wrong
    // tokens must not get the checks throttled.
    let mut request = app
        .http
        .request(method, app.url(path))
        .header("X-Forwarded-For", "203.0.113.9");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn who_may_manage_what_over_every_management_endpoint() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, "+15550001000").await;
    app.create_org("globex", 3, "+15550002000").await;
    let sam = agent_with_role(&app, "acme", "sam", "supervisor").await;
    let alice = agent_with_role(&app, "acme", "alice", "agent").await;
    let gina = agent_with_role(&app, "globex", "gina", "supervisor").await;
    // (operation, method, path with {org} and {agent}, body); each row gets a fresh target.
    let operations: [(&str, Method, &str, Option<Value>); 10] = [
        ("list orgs", Method::GET, "/admin/orgs", None),
        (
            "create org",
            Method::POST,
            "/admin/orgs",
            Some(json!({"slug": "{new}", "name": "New", "slots": 1})),
        ),
        ("get org", Method::GET, "/admin/orgs/{org}", None),
        (
            "change org",
            Method::PATCH,
            "/admin/orgs/{org}",
            Some(json!({"name": "{new}"})),
        ),
        ("list agents", Method::GET, "/admin/orgs/{org}/agents", None),
        (
            "add agent",
            Method::POST,
            "/admin/orgs/{org}/agents",
            Some(json!({"identity": "{newagent}"})),
        ),
        (
            "change agent",
            Method::PATCH,
            "/admin/orgs/{org}/agents/{agent}",
            Some(json!({"displayName": "Changed"})),
        ),
        (
            "rotate token",
            Method::POST,
            "/admin/orgs/{org}/agents/{agent}/token",
            None,
        ),
        (
            "revoke token",
            Method::DELETE,
            "/admin/orgs/{org}/agents/{agent}/token",
            None,
        ),
        (
            "deactivate",
            Method::DELETE,
            "/admin/orgs/{org}/agents/{agent}",
            None,
        ),
    ];
    // Who asks, about which organisation, and the status each operation answers.
    let callers: [(&str, Option<&str>, &str, [u16; 10]); 6] = [
        (
            "admin",
            Some(ADMIN_TOKEN),
            "acme",
            [200, 201, 200, 200, 200, 201, 200, 201, 204, 204],
        ),
        (
            "acme's supervisor",
            Some(&sam),
            "acme",
            [403, 403, 200, 200, 200, 201, 200, 201, 204, 204],
        ),
        (
            "globex's supervisor",
            Some(&gina),
            "acme",
            [403, 403, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        ("acme's agent", Some(&alice), "acme", [403; 10]),
        ("nobody", None, "acme", [401; 10]),
        ("a wrong token", Some("cpk_wrong"), "acme", [401; 10]),
    ];
    let mut n = 0;
    for (who, token, org, expected) in &callers {
        for ((operation, method, path, body), want) in operations.iter().zip(expected) {
            n += 1;
            let (target, new) = (format!("target{n}"), format!("new-org-{n}"));
            let target_token = agent_with_role(&app, org, &target, "agent").await;
            let fill = |text: &str| {
                text.replace("{org}", org)
                    .replace("{agent}", &target)
                    .replace("{newagent}", &format!("newbie_{n}"))
                    .replace("{new}", &new)
            };
            let body = body
                .as_ref()
                .map(|b| serde_json::from_str(&fill(&b.to_string())).unwrap());
            let (status, text) = send(&app, method.clone(), &fill(path), *token, body).await;
            assert_eq!(status, *want, "{who}: {operation}: {text}");
            if status >= 400 {
                // Refused: nothing changed, and nothing of acme's shows.
                assert!(
                    !text.contains("sam") && !text.contains(&target),
                    "{who}: {operation}: {text}"
                );
                assert_eq!(
                    app.get("/api/me", &target_token).await.status(),
                    200,
                    "{who}: {operation}"
                );
                let me = app.me(&target_token).await;
                assert!(me["displayName"].is_null(), "{who}: {operation}: {me}");
                let acme = app
                    .http
                    .get(app.url("/admin/orgs/acme"))
                    .bearer_auth(ADMIN_TOKEN)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert!(!acme.contains(&new), "{who}: {operation}: {acme}");
            }
        }
    }
    // Globex saw none of acme's agents (asked from the checks' side of the throttle).
    let listed = app
        .get("/admin/orgs/globex/agents", &gina)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !listed.contains("alice") && listed.contains("gina"),
        "{listed}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_deactivated_agent_is_shut_out_at_once_on_both_instances_and_its_calls_stay() {
    let app = TestApp::spawn().await;
    let other = app.second_instance().await;
    let Parked { alice, bob, .. } = park_one(&app).await;
    let sam = agent_with_role(&app, "acme", "sam", "supervisor").await;
    // alice has a page on the second instance.
    let signed_in = other
        .http
        .post(other.url("/api/session"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let by_cookie = |api: &Api| {
        api.http
            .get(api.url("/api/me"))
            .header("cookie", cookie.clone())
            .send()
    };
    assert_eq!(by_cookie(&other).await.unwrap().status(), 200);

    // Her supervisor deactivates her, through the first instance.
    let (status, _) = send(
        &app,
        Method::DELETE,
        "/admin/orgs/acme/agents/alice",
        Some(&sam),
        None,
    )
    .await;
    assert_eq!(status, 204);
    for api in [&*app, &*other] {
        assert_eq!(api.get("/api/me", &alice).await.status(), 401, "her token");
        assert_eq!(by_cookie(api).await.unwrap().status(), 401, "her session");
    }
    // Never rung again, even after a late status of a leg of hers.
    let twiml = other
        .webhook_ok(
            callpark_http::routes::paths::VOICE,
            &[
                ("CallSid", &sid(50)),
                ("From", "+14155550199"),
                ("To", "+15550001000"),
                ("CallStatus", "ringing"),
            ],
        )
        .await;
    assert!(!twiml.contains("acme.alice"), "{twiml}");
    // The call she parked stays parked, with her name, and bob retrieves it.
    let slot = app.slot(&bob, 2).await;
    assert_eq!(slot["state"], "parked");
    assert_eq!(slot["call"]["parkedBy"], "alice");
    let retrieved = app.post_json("/api/lot/2/retrieve", &bob, json!({})).await;
    assert_eq!(retrieved.status(), 200);
    // Her managers still see her, deactivated; her team no longer does.
    let (_, roster) = send(
        &app,
        Method::GET,
        "/admin/orgs/acme/agents",
        Some(&sam),
        None,
    )
    .await;
    let roster: Value = serde_json::from_str(&roster).unwrap();
    let her = roster
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["identity"] == "alice")
        .unwrap();
    assert_eq!(
        (her["active"].clone(), her["status"].clone()),
        (json!(false), json!("offline"))
    );
    let team: Value = app.get("/api/agents", &bob).await.json().await.unwrap();
    assert!(
        team.as_array()
            .unwrap()
            .iter()
            .all(|a| a["identity"] != "alice"),
        "{team}"
    );
    other.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_supervisor_changes_names_and_roles_and_bad_changes_are_refused() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 3, "+15550001000").await;
    let sam = agent_with_role(&app, "acme", "sam", "supervisor").await;
    let alice = agent_with_role(&app, "acme", "alice", "agent").await;
    let path = "/admin/orgs/acme/agents/alice";
    let (status, body) = send(
        &app,
        Method::PATCH,
        path,
        Some(&sam),
        Some(json!({"displayName": "Alice A.", "role": "supervisor"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let changed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (changed["displayName"].clone(), changed["role"].clone()),
        (json!("Alice A."), json!("supervisor"))
    );
    assert_eq!(app.me(&alice).await["role"], "supervisor");
    // Now a supervisor herself, alice manages too.
    let (status, _) = send(
        &app,
        Method::GET,
        "/admin/orgs/acme/agents",
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(status, 200);
    for bad in [
        json!({"role": "owner"}),
        json!({"nickname": "x"}),
        json!({"displayName": ""}),
        json!({"role": 1}),
    ] {
        let (status, text) = send(&app, Method::PATCH, path, Some(&sam), Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {text}");
    }
    let (status, _) = send(
        &app,
        Method::PATCH,
        path,
        Some(&sam),
        Some(json!({"displayName": null})),
    )
    .await;
    assert_eq!(status, 200);
    let me = app.me(&alice).await;
    assert!(me["displayName"].is_null(), "{me}");
    assert_eq!(
        me["role"], "supervisor",
        "a change of one field leaves the others"
    );
    app.stop().await;
}
