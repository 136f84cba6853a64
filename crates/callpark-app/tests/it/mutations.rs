//! Mutated input over every JSON endpoint: each valid body, broken one way at a time (a field
//! missing, of the wrong type, unknown, the JSON cut short, not sent as JSON, too large), is
//! answered 4xx — never 5xx — and changes nothing that is stored.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp, sid};
use crate::life::{Parked, park_one};

/// Everything stored that a request could change, as text (presence's timestamps aside: a
/// request is a sign of life, which is not a change of state).
async fn stored(app: &TestApp) -> Vec<String> {
    let mut state = Vec::new();
    for query in [
        "SELECT row_to_json(o)::text FROM organisations o ORDER BY slug",
        "SELECT org || number FROM org_numbers ORDER BY org, position",
        "SELECT org || identity || coalesce(display_name, '') || status || role || active::text \
         || encode(token_hash, 'hex') || coalesce(token_expires_at::text, '') \
         FROM agents ORDER BY org, identity",
        "SELECT row_to_json(p)::text FROM parked_calls p ORDER BY id",
        "SELECT count(*)::text FROM lot_events",
        "SELECT count(*)::text FROM sessions",
    ] {
        state.extend(
            app.sql(query)
                .await
                .iter()
                .map(|row| row.get::<_, String>(0)),
        );
    }
    state
}

/// The ways one valid body is broken: each a (what, content type, raw body).
fn mutations(valid: &Value) -> Vec<(String, &'static str, String)> {
    let mut out = vec![
        (
            "cut short".to_owned(),
            "application/json",
            valid.to_string()[..valid.to_string().len() - 1].to_owned(),
        ),
        (
            "not JSON".to_owned(),
            "application/json",
            "{nope".to_owned(),
        ),
        ("a list".to_owned(), "application/json", "[]".to_owned()),
        (
            "a form".to_owned(),
            "application/x-www-form-urlencoded",
            "a=1".to_owned(),
        ),
        ("as text".to_owned(), "text/plain", valid.to_string()),
        (
            "too large".to_owned(),
            "application/json",
            format!("{{\"x\":\"{}\"}}", "y".repeat(20_000)),
        ),
    ];
    let mut unknown = valid.clone();
    unknown["surprise"] = json!(1);
    out.push((
        "an unknown field".to_owned(),
        "application/json",
        unknown.to_string(),
    ));
    for (field, value) in valid.as_object().expect("an object") {
        let mut missing = valid.clone();
        missing.as_object_mut().unwrap().remove(field);
        out.push((
            format!("without {field}"),
            "application/json",
            missing.to_string(),
        ));
        let wrong = match value {
            Value::String(_) => json!(12),
            Value::Number(_) => json!("twelve"),
            _ => json!({"nested": true}),
        };
        let mut typed = valid.clone();
        typed[field] = wrong;
        out.push((
            format!("{field} of the wrong type"),
            "application/json",
            typed.to_string(),
        ));
    }
    out
}

#[tokio::test]
async fn mutated_bodies_over_every_json_endpoint_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let Parked { alice, .. } = park_one(&app).await;
    let bob_leg = sid(31);
    app.inbound_call_answered(
        &sid(30),
        "+14155550111",
        "+15550001000",
        &bob_leg,
        "acme.bob",
    )
    .await;
    // (method, path, token, a valid body).
    let endpoints: [(Method, &str, &str, Value); 7] = [
        (
            Method::POST,
            "/api/park",
            &alice,
            json!({"callSid": bob_leg, "slot": 1}),
        ),
        (
            Method::POST,
            "/api/lot/2/retrieve",
            &alice,
            json!({"agent": "alice"}),
        ),
        (
            Method::POST,
            "/admin/orgs",
            ADMIN_TOKEN,
            json!({"slug": "fresh", "name": "Fresh", "slots": 3}),
        ),
        (
            Method::POST,
            "/admin/orgs/acme/agents",
            ADMIN_TOKEN,
            json!({"identity": "dave", "role": "agent"}),
        ),
        (
            Method::PATCH,
            "/admin/orgs/acme/agents/alice",
            ADMIN_TOKEN,
            json!({"displayName": "A", "role": "agent"}),
        ),
        (
            Method::PATCH,
            "/admin/orgs/acme",
            ADMIN_TOKEN,
            json!({"slots": 4, "name": "Acme"}),
        ),
        (
            Method::POST,
            "/admin/orgs/acme/agents/alice/token",
            ADMIN_TOKEN,
            json!({"expiresInSeconds": 60}),
        ),
    ];
    let before = stored(&app).await;
    let mut sent = 0;
    for (method, path, token, valid) in &endpoints {
        for (what, kind, body) in mutations(valid) {
            // A body without one of its optional fields is still a valid request.
            let optional_field_left_out = what.starts_with("without ")
                && !matches!(
                    (*path, what.as_str()),
                    ("/api/park", "without callSid")
                        | (
                            "/admin/orgs",
                            "without slug" | "without name" | "without slots"
                        )
                        | ("/admin/orgs/acme/agents", "without identity")
                );
            if optional_field_left_out {
                continue;
            }
            let response = app
                .http
                .request(method.clone(), app.url(path))
                .bearer_auth(token)
                .header("content-type", kind)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert!(
                (400..500).contains(&status),
                "{method} {path}, {what}: {status} {text}"
            );
            let error: Value = serde_json::from_str(&text).expect("a JSON error");
            assert!(
                error["error"]["code"].is_string(),
                "{method} {path}, {what}: {text}"
            );
            sent += 1;
        }
    }
    assert!(sent >= 60, "{sent} mutated requests");
    assert_eq!(
        stored(&app).await,
        before,
        "a refused request changed what is stored"
    );
    // The comparison sees a change when there is one: the valid body of the organisation's.
    let (method, path, token, valid) = &endpoints[5];
    let accepted = app
        .http
        .request(method.clone(), app.url(path))
        .bearer_auth(token)
        .json(valid)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_ne!(stored(&app).await, before);
    app.stop().await;
}
