//! Bad input gets a clear error and changes nothing: unsigned webhooks, malformed bodies,
//! invalid SIDs and slots, missing tokens, and other organisations' lots.

use callpark_http::routes::paths;
use serde_json::json;

use crate::helpers::{AUTH_TOKEN, TestApp, error_code, sid};

const NUMBER: &str = "+15550003000";

#[tokio::test]
async fn unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    app.inbound_call_answered(&sid(1), "+14155550100", NUMBER, &sid(2), "acme.alice")
        .await;
    app.park(&alice, &sid(2), Some(1)).await;
    let hang_up = [("CallSid", sid(1)), ("CallStatus", "completed".to_owned())];

    let unsigned = app
        .http
        .post(app.url(paths::CALL_STATUS))
        .form(&hang_up)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(unsigned).await,
        (403, "invalid_signature".to_owned())
    );

    let url = app.url(paths::CALL_STATUS);
    let signed_by_someone_else = callpark_twilio::signature::compute(
        &secrecy::SecretString::from("not-the-token"),
        &url,
        &hang_up,
    );
    let forged = app
        .http
        .post(&url)
        .header("X-Twilio-Signature", signed_by_someone_else)
        .form(&hang_up)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // Signed for other parameters than those sent.
    let signed_for_other = callpark_twilio::signature::compute(
        &secrecy::SecretString::from(AUTH_TOKEN),
        &url,
        &[
            ("CallSid", sid(1)),
            ("CallStatus", "in-progress".to_owned()),
        ],
    );
    let tampered = app
        .http
        .post(&url)
        .header("X-Twilio-Signature", signed_for_other)
        .form(&hang_up)
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 403);

    assert_eq!(
        app.slot(&alice, 1).await["state"],
        "parked",
        "no state changed"
    );
    app.stop().await;
}

#[tokio::test]
async fn malformed_requests_are_400s_with_a_json_error() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;

    let malformed = app
        .http
        .post(app.url("/api/park"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("{\"callSid\":")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(malformed).await,
        (400, "invalid_request".to_owned())
    );

    for body in [
        json!({"callSid": "CA123"}),
        json!({"callSid": "not a sid"}),
        json!({"callSid": sid(2), "slot": 0}),
        json!({"callSid": sid(2), "slot": 6}),
        json!({"callSid": sid(2), "slot": 1000}),
        json!({"callSid": sid(2), "unexpected": true}),
    ] {
        let response = app.post_json("/api/park", &alice, body.clone()).await;
        assert_eq!(
            error_code(response).await,
            (400, "invalid_request".to_owned()),
            "{body}"
        );
    }
    for slot in ["0", "6", "x"] {
        let response = app
            .post_json(&format!("/api/lot/{slot}/retrieve"), &alice, json!({}))
            .await;
        assert_eq!(
            error_code(response).await,
            (400, "invalid_request".to_owned()),
            "slot {slot}"
        );
    }
    let empty = app
        .post_json("/api/lot/3/retrieve", &alice, json!({}))
        .await;
    assert_eq!(error_code(empty).await, (404, "slot_empty".to_owned()));
    let unknown_call = app
        .post_json("/api/park", &alice, json!({"callSid": sid(99)}))
        .await;
    assert_eq!(error_code(unknown_call).await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let none = app.http.get(app.url("/api/lot")).send().await.unwrap();
    assert_eq!(error_code(none).await, (401, "unauthorized".to_owned()));
    let wrong = app.get("/api/lot", "cpk_wrong").await;
    assert_eq!(error_code(wrong).await, (401, "unauthorized".to_owned()));
    let not_admin = app
        .post_json(
            "/admin/orgs",
            "cpk_wrong",
            json!({"slug": "x", "name": "x", "slots": 1}),
        )
        .await;
    assert_eq!(error_code(not_admin).await.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn an_agent_of_another_org_can_neither_see_nor_retrieve_nor_park_into_this_lot() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    app.create_org("other", 3, "+15550003999").await;
    let alice = app.agent("acme", "alice").await;
    let mallory = app.agent("other", "mallory").await;
    app.inbound_call_answered(&sid(1), "+14155550100", NUMBER, &sid(2), "acme.alice")
        .await;
    app.park(&alice, &sid(2), Some(2)).await;

    // Mallory's lot is her own: three free slots, nothing of acme's.
    let lot = app.lot(&mallory).await;
    assert_eq!(lot["org"], "other");
    assert!(
        lot["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "free")
    );
    // Retrieving "slot 2" means her own, empty slot 2.
    let retrieve = app
        .post_json("/api/lot/2/retrieve", &mallory, json!({}))
        .await;
    assert_eq!(error_code(retrieve).await, (404, "slot_empty".to_owned()));
    // Parking acme's caller (by either leg) is parking a call she does not have.
    for call in [sid(1), sid(2)] {
        let park = app
            .post_json("/api/park", &mallory, json!({"callSid": call}))
            .await;
        assert_eq!(error_code(park).await, (404, "call_not_found".to_owned()));
    }
    // Asking for acme's agent as the retrieve target finds nobody.
    let target = app
        .post_json("/api/lot/2/retrieve", &mallory, json!({"agent": "alice"}))
        .await;
    assert_eq!(error_code(target).await.0, 404);
    assert_eq!(
        app.slot(&alice, 2).await["state"],
        "parked",
        "acme's lot is untouched"
    );
    app.stop().await;
}

/// The status, code, message and `Allow` header of an error answer.
async fn refusal(response: reqwest::Response) -> (u16, String, String, Option<String>) {
    let status = response.status().as_u16();
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    let text = |key: &str| body["error"][key].as_str().unwrap_or_default().to_owned();
    (status, text("code"), text("message"), allow)
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_the_documented_json_error() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    for path in ["/nope", "/api/lots", "/twilio/park", "/ui/missing.js"] {
        let (status, code, message, _) = refusal(app.get(path, &alice).await).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{path}");
        assert!(message.contains(path), "{message}");
    }
    let wrong_methods = [
        (reqwest::Method::GET, "/api/park".to_owned(), "POST"),
        (reqwest::Method::DELETE, "/api/lot".to_owned(), "GET"),
        (
            reqwest::Method::PUT,
            "/api/session".to_owned(),
            "POST, DELETE",
        ),
        (reqwest::Method::GET, paths::CALL_STATUS.to_owned(), "POST"),
        (
            reqwest::Method::GET,
            paths::with_id(paths::PARK, "67e55044-10b1-426f-9247-bb680e5fe0c8"),
            "POST",
        ),
        (reqwest::Method::POST, "/healthz".to_owned(), "GET"),
    ];
    for (method, path, allowed) in wrong_methods {
        let response = app
            .http
            .request(method.clone(), app.url(&path))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        let (status, code, message, allow) = refusal(response).await;
        assert_eq!(
            (status, code.as_str(), allow.as_deref()),
            (405, "method_not_allowed", Some(allowed)),
            "{method} {path}"
        );
        assert!(message.contains(method.as_str()), "{message}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_slot_in_the_path_that_is_no_slot_is_refused_in_words() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    for (slot, expected) in [
        (
            "two",
            r#"the slot in the path must be a whole number from 1 to 999, not "two""#,
        ),
        (
            "99999999999",
            r#"the slot in the path must be a whole number from 1 to 999, not "99999999999""#,
        ),
        ("0", "invalid slot number: must be between 1 and 999"),
    ] {
        let response = app
            .post_json(&format!("/api/lot/{slot}/retrieve"), &alice, json!({}))
            .await;
        let (status, code, message, _) = refusal(response).await;
        assert_eq!(
            (status, code.as_str(), message.as_str()),
            (400, "invalid_request", expected),
            "slot {slot}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_bodies_are_refused_in_the_callers_terms_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_org("acme", 5, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    app.inbound_call_answered(&sid(1), "+14155550100", NUMBER, &sid(2), "acme.alice")
        .await;
    app.park(&alice, &sid(2), Some(3)).await;

    let wrong_type = app
        .post_json(
            "/api/park",
            &alice,
            json!({"callSid": sid(2), "slot": "two"}),
        )
        .await;
    assert_eq!(
        refusal(wrong_type).await,
        (
            400,
            "invalid_request".to_owned(),
            r#"slot: expected a whole number from 0 to 4294967295, got the string "two""#
                .to_owned(),
            None
        )
    );
    // An optional body is optional, not ignored: a misspelt field is refused, and the call
    // stays parked.
    let misspelt = app
        .post_json("/api/lot/3/retrieve", &alice, json!({"agnet": "bob"}))
        .await;
    let (status, _, message, _) = refusal(misspelt).await;
    assert_eq!(status, 400);
    assert_eq!(message, "unknown field `agnet` (the fields are `agent`)");
    let twice = app
        .http
        .post(app.url("/api/park"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"callSid":"{}","callSid":"{}"}}"#,
            sid(2),
            sid(2)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(twice).await.2,
        "`callSid` is given twice",
        "a field sent twice is named"
    );
    let not_json = app
        .http
        .post(app.url("/api/lot/3/retrieve"))
        .bearer_auth(&alice)
        .body(r#"{"agent":"alice"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(not_json).await.0, 400, "no Content-Type: refused");
    let too_large = app
        .http
        .post(app.url("/api/park"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body(format!(r#"{{"callSid":"{}"}}"#, "x".repeat(20_000)))
        .send()
        .await
        .unwrap();
    let (status, code, _, _) = refusal(too_large).await;
    assert_eq!((status, code.as_str()), (413, "body_too_large"));
    assert_eq!(app.slot(&alice, 3).await["state"], "parked");
    app.stop().await;
}
