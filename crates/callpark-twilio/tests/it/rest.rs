//! The REST client against a local mock of Twilio's API: the exact requests it sends, and how
//! it reads every kind of answer.

use std::error::Error as _;
use std::time::Duration;

use base64::Engine as _;
use callpark_domain::{
    CallSid, CallStatus, CallerName, ChildLeg, HttpUrl, PhoneNumber, PstnLeg, Telephony,
    TelephonyError,
};
use callpark_twilio::{AccountSid, ApiError, RestError, TwilioClient, TwilioConfig};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token-that-must-never-leak";
const BROWSER: &str = "CA11111111111111111111111111111111";
const PSTN: &str = "CA22222222222222222222222222222222";
const OTHER: &str = "CA33333333333333333333333333333333";
const PARK_URL: &str = "https://callpark.example.com/twilio/park/7f9c?x=1&y=2";
const STATUS_URL: &str = "https://callpark.example.com/twilio/call-status";

fn sid(s: &str) -> CallSid {
    CallSid::parse(s).unwrap()
}

fn url(s: &str) -> HttpUrl {
    HttpUrl::parse(s).unwrap()
}

/// Small timeouts and backoffs keep the failure cases fast.
fn config(server: &MockServer) -> TwilioConfig {
    TwilioConfig {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(300),
        max_attempts: 3,
        retry_base_delay: Duration::from_millis(1),
        retry_max_delay: Duration::from_millis(5),
        ..TwilioConfig::new(
            AccountSid::parse(ACCOUNT).unwrap(),
            SecretString::from(TOKEN),
        )
        .with_api_base(server.uri())
    }
}

fn client(server: &MockServer) -> TwilioClient {
    TwilioClient::new(config(server)).unwrap()
}

fn call_path(call: &str) -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{call}.json")
}

fn client_identity(text: &str) -> callpark_domain::ClientIdentity {
    callpark_domain::ClientIdentity::parse(text).unwrap()
}

fn list_path() -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json")
}

fn call_json(call: &str, status: &str) -> Value {
    json!({
        "sid": call,
        "account_sid": ACCOUNT,
        "parent_call_sid": null,
        "from": "client:acme.alice",
        "to": "+14155550100",
        "caller_name": null,
        "status": status,
        "direction": "outbound-api",
        "uri": call_path(call),
    })
}

fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    }))
}

fn basic_auth() -> String {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"));
    format!("Basic {credentials}")
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn form(request: &Request) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(&request.body).unwrap()
}

fn query(request: &Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// What every request carries, whatever it is for.
fn assert_common(request: &Request) {
    assert_eq!(
        header(request, "authorization"),
        Some(basic_auth().as_str())
    );
    let user_agent = format!("callpark/{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(header(request, "user-agent"), Some(user_agent.as_str()));
    assert_eq!(callpark_twilio::USER_AGENT, user_agent);
}

/// The parameters Twilio's published API description (twilio/twilio-oai, `api_v2010`)
/// documents for updating a Call (`UpdateCall`'s form) and for listing Calls (`ListCall`'s
/// query), as far as callpark could ever send them: a request with any other is a request
/// Twilio does not promise to understand.
const DOCUMENTED_UPDATE: &[&str] = &[
    "Url",
    "Method",
    "Status",
    "FallbackUrl",
    "FallbackMethod",
    "StatusCallback",
    "StatusCallbackMethod",
    "Twiml",
    "TimeLimit",
];
const DOCUMENTED_LIST: &[&str] = &[
    "To",
    "From",
    "ParentCallSid",
    "Status",
    "StartTime",
    "EndTime",
    "PageSize",
    "Page",
    "PageToken",
];

fn assert_documented(sent: &[(String, String)], documented: &[&str]) {
    for (name, _) in sent {
        assert!(
            documented.contains(&name.as_str()),
            "{name} is not a parameter Twilio documents here"
        );
    }
}

fn assert_fetch(request: &Request, path: &str, query_pairs: &[(&str, &str)]) {
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), path);
    assert_eq!(query(request), pairs(query_pairs));
    assert_documented(&query(request), DOCUMENTED_LIST);
    assert!(request.body.is_empty());
    assert_common(request);
}

fn assert_update(request: &Request, call: &str, fields: &[(&str, &str)]) {
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), call_path(call));
    assert_eq!(request.url.query(), None);
    assert_eq!(
        header(request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(form(request), pairs(fields));
    assert_documented(&form(request), DOCUMENTED_UPDATE);
    assert!(
        form(request).iter().all(|(name, _)| name != "Twiml"),
        "inline TwiML sent"
    );
    assert_common(request);
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// The `RestError` behind a `NotProcessed` or `OutcomeUnknown`.
fn rest_cause(error: &TelephonyError) -> &RestError {
    error
        .source()
        .and_then(|cause| cause.downcast_ref::<RestError>())
        .unwrap_or_else(|| panic!("no RestError behind {error:?}"))
}

fn api_cause(error: &RestError) -> &ApiError {
    match error {
        RestError::Api(api) => api,
        RestError::GaveUp { last, .. } => api_cause(last),
        other => panic!("not an API error: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The requests

#[tokio::test]
async fn call_status_gets_the_call_resource() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(call_path(PSTN)))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json(PSTN, "in-progress")))
        .expect(1)
        .mount(&server)
        .await;

    let status = client(&server).call_status(&sid(PSTN)).await.unwrap();

    assert_eq!(status, CallStatus::InProgress);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_fetch(&sent[0], &call_path(PSTN), &[]);
}

#[tokio::test]
async fn call_status_reads_every_status() {
    let server = MockServer::start().await;
    let client = client(&server);
    for (text, status) in [
        ("queued", CallStatus::Queued),
        ("ringing", CallStatus::Ringing),
        ("completed", CallStatus::Completed),
        ("busy", CallStatus::Busy),
        ("failed", CallStatus::Failed),
        ("no-answer", CallStatus::NoAnswer),
        ("canceled", CallStatus::Canceled),
    ] {
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(call_json(PSTN, text)))
            .mount(&server)
            .await;
        assert_eq!(
            client.call_status(&sid(PSTN)).await.unwrap(),
            status,
            "{text}"
        );
    }
}

#[tokio::test]
async fn redirect_posts_the_url_and_status_callback_and_never_inline_twiml() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(call_path(PSTN)))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json(PSTN, "in-progress")))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .redirect(&sid(PSTN), &url(PARK_URL), &url(STATUS_URL))
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_update(
        &sent[0],
        PSTN,
        &[
            ("Url", PARK_URL),
            ("Method", "POST"),
            ("StatusCallback", STATUS_URL),
            ("StatusCallbackMethod", "POST"),
        ],
    );
}

#[tokio::test]
async fn hang_up_posts_status_completed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(call_path(PSTN)))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json(PSTN, "completed")))
        .expect(1)
        .mount(&server)
        .await;

    client(&server).hang_up(&sid(PSTN)).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_update(&sent[0], PSTN, &[("Status", "completed")]);
}

#[tokio::test]
async fn find_pstn_leg_takes_the_parent_and_its_caller() {
    let server = MockServer::start().await;
    let mut browser = call_json(BROWSER, "in-progress");
    browser["parent_call_sid"] = json!(PSTN);
    browser["from"] = json!("+18005551212");
    browser["to"] = json!("client:acme.alice");
    let mut parent = call_json(PSTN, "in-progress");
    parent["direction"] = json!("inbound");
    parent["from"] = json!("+14155550100");
    parent["to"] = json!("+18005551212");
    parent["caller_name"] = json!("Ada Lovelace");
    parent["start_time"] = json!("Tue, 01 Dec 2026 09:30:05 +0000");
    Mock::given(method("GET"))
        .and(path(call_path(BROWSER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(browser))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(call_path(PSTN)))
        .respond_with(ResponseTemplate::new(200).set_body_json(parent))
        .expect(1)
        .mount(&server)
        .await;

    let leg = client(&server).find_pstn_leg(&sid(BROWSER)).await.unwrap();

    assert_eq!(
        leg,
        PstnLeg {
            sid: sid(PSTN),
            caller: callpark_domain::Caller {
                number: Some(PhoneNumber::parse("+14155550100").unwrap()),
                name: Some(CallerName::parse("Ada Lovelace").unwrap()),
            },
            // Whose call it is: it came in on this number, and rang acme's alice.
            dialled: Some(PhoneNumber::parse("+18005551212").unwrap()),
            client: Some(client_identity("acme.alice")),
            // When it began: Twilio ends it four hours later.
            started_at: Some(time::macros::datetime!(2026-12-01 09:30:05 UTC)),
        }
    );
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_fetch(&sent[0], &call_path(BROWSER), &[]);
    assert_fetch(&sent[1], &call_path(PSTN), &[]);
}

#[tokio::test]
async fn find_pstn_leg_leaves_out_what_is_not_a_number_a_name_or_a_time() {
    let server = MockServer::start().await;
    let mut browser = call_json(BROWSER, "in-progress");
    browser["parent_call_sid"] = json!(PSTN);
    let mut parent = call_json(PSTN, "in-progress");
    parent["direction"] = json!("inbound");
    parent["from"] = json!("anonymous");
    parent["caller_name"] = json!("   ");
    parent["start_time"] = json!("yesterday, around nine");
    Mock::given(path(call_path(BROWSER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(browser))
        .mount(&server)
        .await;
    Mock::given(path(call_path(PSTN)))
        .respond_with(ResponseTemplate::new(200).set_body_json(parent))
        .mount(&server)
        .await;

    let leg = client(&server).find_pstn_leg(&sid(BROWSER)).await.unwrap();

    assert_eq!(leg.sid, sid(PSTN));
    assert_eq!(leg.caller.number, None);
    assert_eq!(leg.caller.name, None);
    assert_eq!(
        leg.started_at, None,
        "a start in no documented form is unknown"
    );
}

#[tokio::test]
async fn find_pstn_leg_of_a_call_the_browser_placed_is_its_in_progress_child() {
    let server = MockServer::start().await;
    let mut child = call_json(PSTN, "in-progress");
    child["direction"] = json!("outbound-dial");
    child["parent_call_sid"] = json!(BROWSER);
    child["from"] = json!("+18005551212");
    child["to"] = json!("+442071838750");
    Mock::given(method("GET"))
        .and(path(call_path(BROWSER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json(BROWSER, "in-progress")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "calls": [child],
            "page": 0,
            "page_size": 50,
        })))
        .expect(1)
        .mount(&server)
        .await;

    let leg = client(&server).find_pstn_leg(&sid(BROWSER)).await.unwrap();

    assert_eq!(leg.sid, sid(PSTN));
    assert_eq!(
        leg.caller.number,
        Some(PhoneNumber::parse("+442071838750").unwrap())
    );
    assert_eq!(leg.caller.name, None);
    // An agent's call: no number of ours was dialled, and the browser that placed it is acme's.
    assert_eq!(leg.dialled, None);
    assert_eq!(leg.client, Some(client_identity("acme.alice")));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_fetch(&sent[0], &call_path(BROWSER), &[]);
    assert_fetch(
        &sent[1],
        &list_path(),
        &[("ParentCallSid", BROWSER), ("Status", "in-progress")],
    );
}

/// A call an agent placed (the browser leg, then its `outbound-dial` child to the customer),
/// parked, and retrieved by another agent: the new browser leg's parent is that outbound leg,
/// whose `from` is our own number. The caller is who it called, its `to`. (Twilio's Call
/// resource: `direction` is `inbound`, `outbound-api` or `outbound-dial`.)
#[tokio::test]
async fn find_pstn_leg_of_a_re_parked_outbound_call_is_whom_it_called() {
    let server = MockServer::start().await;
    let mut browser = call_json(BROWSER, "in-progress");
    browser["direction"] = json!("outbound-dial");
    browser["parent_call_sid"] = json!(PSTN);
    browser["from"] = json!("+18005551212");
    browser["to"] = json!("client:acme.bob");
    let mut parent = call_json(PSTN, "in-progress");
    parent["direction"] = json!("outbound-dial");
    parent["parent_call_sid"] = json!("CA00000000000000000000000000000099");
    parent["from"] = json!("+18005551212");
    parent["to"] = json!("+442071838750");
    parent["caller_name"] = json!("Our Company");
    for (sid, body) in [(BROWSER, browser), (PSTN, parent)] {
        Mock::given(method("GET"))
            .and(path(call_path(sid)))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }

    let leg = client(&server).find_pstn_leg(&sid(BROWSER)).await.unwrap();

    assert_eq!(leg.sid, sid(PSTN));
    assert_eq!(
        leg.caller.number,
        Some(PhoneNumber::parse("+442071838750").unwrap())
    );
    assert_eq!(
        leg.caller.name, None,
        "an outbound leg's caller name is ours"
    );
    assert_eq!(leg.dialled, None);
    assert_eq!(leg.client, Some(client_identity("acme.bob")));
}

#[tokio::test]
async fn find_pstn_leg_without_parent_or_child_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path(call_path(BROWSER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json(BROWSER, "in-progress")))
        .mount(&server)
        .await;
    Mock::given(path(list_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"calls": []})))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .find_pstn_leg(&sid(BROWSER))
        .await
        .unwrap_err();

    assert!(matches!(error, TelephonyError::NotFound), "{error:?}");
}

#[tokio::test]
async fn find_pstn_leg_of_an_unknown_browser_leg_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path(call_path(BROWSER)))
        .respond_with(twilio_error(
            404,
            20404,
            "The requested resource was not found",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .find_pstn_leg(&sid(BROWSER))
        .await
        .unwrap_err();

    assert!(matches!(error, TelephonyError::NotFound), "{error:?}");
}

#[tokio::test]
async fn child_legs_lists_the_children_that_have_not_ended() {
    const ENDED: &str = "CA000000000000000000000000000000e1";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "calls": [
                call_json(BROWSER, "in-progress"),
                call_json(OTHER, "ringing"),
                call_json(ENDED, "no-answer"),
            ],
        })))
        .expect(1)
        .mount(&server)
        .await;

    let legs = client(&server).child_legs(&sid(PSTN)).await.unwrap();

    assert_eq!(
        legs,
        [
            ChildLeg {
                sid: sid(BROWSER),
                status: CallStatus::InProgress
            },
            ChildLeg {
                sid: sid(OTHER),
                status: CallStatus::Ringing
            },
        ]
    );
    // ParentCallSid is a documented filter of the Calls list; Status would take one status.
    let sent = requests(&server).await;
    assert_fetch(&sent[0], &list_path(), &[("ParentCallSid", PSTN)]);
}

#[tokio::test]
async fn a_malformed_answer_is_not_processed() {
    let server = MockServer::start().await;
    Mock::given(path(call_path(PSTN)))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).call_status(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::NotProcessed(_)),
        "{error:?}"
    );
    assert!(matches!(rest_cause(&error), RestError::Decode(_)));
}

// ---------------------------------------------------------------------------------------------
// Twilio's refusals

#[tokio::test]
async fn a_call_no_longer_in_progress_cannot_be_redirected() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(
            400,
            21220,
            "Call is not in-progress. Cannot redirect.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .redirect(&sid(PSTN), &url(PARK_URL), &url(STATUS_URL))
        .await
        .unwrap_err();

    assert!(matches!(error, TelephonyError::NotInProgress), "{error:?}");
}

#[tokio::test]
async fn an_unknown_call_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(
            404,
            20404,
            "The requested resource was not found",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).hang_up(&sid(PSTN)).await.unwrap_err();

    assert!(matches!(error, TelephonyError::NotFound), "{error:?}");
}

#[tokio::test]
async fn rejected_credentials_are_reported_as_such() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(twilio_error(401, 20003, "Authenticate"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).call_status(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::CredentialsRejected),
        "{error:?}"
    );
}

#[tokio::test]
async fn other_refusals_are_not_processed_and_keep_twilios_code_and_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(400, 21205, "Url is not a valid URL"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .redirect(&sid(PSTN), &url(PARK_URL), &url(STATUS_URL))
        .await
        .unwrap_err();

    assert!(
        matches!(error, TelephonyError::NotProcessed(_)),
        "{error:?}"
    );
    let api = api_cause(rest_cause(&error));
    assert_eq!(api.status, 400);
    assert_eq!(api.code, Some(21205));
    assert_eq!(api.message.as_deref(), Some("Url is not a valid URL"));
    assert_eq!(
        api.to_string(),
        "Twilio answered HTTP 400 with error 21205: Url is not a valid URL"
    );
}

#[tokio::test]
async fn a_refusal_without_a_twilio_body_still_maps_by_status() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_string("Forbidden"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).hang_up(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::NotProcessed(_)),
        "{error:?}"
    );
    let api = api_cause(rest_cause(&error));
    assert_eq!(
        (api.status, api.code, api.message.as_deref()),
        (403, None, None)
    );
}

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn a_throttled_update_is_retried_because_twilio_never_processed_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(429, 20429, "Too Many Requests"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json(PSTN, "in-progress")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;

    client(&server)
        .redirect(&sid(PSTN), &url(PARK_URL), &url(STATUS_URL))
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    // The retry is the same request.
    for request in &sent {
        assert_update(
            request,
            PSTN,
            &[
                ("Url", PARK_URL),
                ("Method", "POST"),
                ("StatusCallback", STATUS_URL),
                ("StatusCallbackMethod", "POST"),
            ],
        );
    }
}

#[tokio::test]
async fn a_throttled_fetch_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(twilio_error(429, 20429, "Too Many Requests"))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json(PSTN, "ringing")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;

    let status = client(&server).call_status(&sid(PSTN)).await.unwrap();

    assert_eq!(status, CallStatus::Ringing);
}

#[tokio::test]
async fn throttling_past_the_retry_budget_is_not_processed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(429, 20429, "Too Many Requests"))
        .expect(3)
        .mount(&server)
        .await;

    let error = client(&server).hang_up(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::NotProcessed(_)),
        "{error:?}"
    );
    let cause = rest_cause(&error);
    assert!(
        matches!(cause, RestError::GaveUp { attempts: 3, .. }),
        "{cause:?}"
    );
    assert_eq!(api_cause(cause).code, Some(20429));
}

#[tokio::test]
async fn a_server_error_on_an_update_leaves_the_outcome_unknown_and_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .redirect(&sid(PSTN), &url(PARK_URL), &url(STATUS_URL))
        .await
        .unwrap_err();

    assert!(
        matches!(error, TelephonyError::OutcomeUnknown(_)),
        "{error:?}"
    );
    assert_eq!(api_cause(rest_cause(&error)).status, 500);
}

#[tokio::test]
async fn a_bad_gateway_on_hang_up_leaves_the_outcome_unknown_and_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).hang_up(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::OutcomeUnknown(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_error_on_a_fetch_is_retried_then_not_processed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&server)
        .await;

    let error = client(&server).call_status(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::NotProcessed(_)),
        "{error:?}"
    );
    let cause = rest_cause(&error);
    assert!(
        matches!(cause, RestError::GaveUp { attempts: 3, .. }),
        "{cause:?}"
    );
    assert_eq!(api_cause(cause).status, 500);
}

#[tokio::test]
async fn a_fetch_recovers_from_a_passing_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"calls": []})))
        .with_priority(2)
        .mount(&server)
        .await;

    let legs = client(&server).child_legs(&sid(PSTN)).await.unwrap();

    assert!(legs.is_empty());
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn an_update_past_the_timeout_leaves_the_outcome_unknown_and_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(call_json(PSTN, "in-progress"))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .redirect(&sid(PSTN), &url(PARK_URL), &url(STATUS_URL))
        .await
        .unwrap_err();

    assert!(
        matches!(error, TelephonyError::OutcomeUnknown(_)),
        "{error:?}"
    );
    match rest_cause(&error) {
        RestError::Transport(e) => assert!(e.is_timeout(), "{e:?}"),
        other => panic!("not a transport error: {other:?}"),
    }
}

#[tokio::test]
async fn a_fetch_past_the_timeout_is_retried_then_not_processed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(call_json(PSTN, "in-progress"))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(3)
        .mount(&server)
        .await;

    let error = client(&server).call_status(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::NotProcessed(_)),
        "{error:?}"
    );
    assert!(matches!(
        rest_cause(&error),
        RestError::GaveUp { attempts: 3, .. }
    ));
}

/// A port on this machine that nothing listens on.
fn closed_port_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn unreachable_client() -> TwilioClient {
    TwilioClient::new(TwilioConfig {
        max_attempts: 2,
        retry_base_delay: Duration::from_millis(1),
        retry_max_delay: Duration::from_millis(2),
        connect_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(300),
        ..TwilioConfig::new(
            AccountSid::parse(ACCOUNT).unwrap(),
            SecretString::from(TOKEN),
        )
        .with_api_base(closed_port_base())
    })
    .unwrap()
}

#[tokio::test]
async fn a_connection_error_on_an_update_leaves_the_outcome_unknown() {
    let error = unreachable_client().hang_up(&sid(PSTN)).await.unwrap_err();

    assert!(
        matches!(error, TelephonyError::OutcomeUnknown(_)),
        "{error:?}"
    );
    assert!(matches!(rest_cause(&error), RestError::Transport(_)));
}

#[tokio::test]
async fn a_connection_error_on_a_fetch_is_retried_then_not_processed() {
    let error = unreachable_client()
        .call_status(&sid(PSTN))
        .await
        .unwrap_err();

    assert!(
        matches!(error, TelephonyError::NotProcessed(_)),
        "{error:?}"
    );
    match rest_cause(&error) {
        RestError::GaveUp { attempts: 2, last } => {
            assert!(matches!(**last, RestError::Transport(_)), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration and secrecy

#[test]
fn the_client_refuses_an_api_base_it_cannot_use() {
    let config = TwilioConfig::new(
        AccountSid::parse(ACCOUNT).unwrap(),
        SecretString::from(TOKEN),
    )
    .with_api_base("ftp://api.twilio.com");
    assert!(matches!(
        TwilioClient::new(config),
        Err(callpark_twilio::ClientError::Config(
            callpark_twilio::ConfigError::InvalidApiBase
        ))
    ));
}

#[test]
fn the_default_api_base_is_twilios() {
    let config = TwilioConfig::new(
        AccountSid::parse(ACCOUNT).unwrap(),
        SecretString::from(TOKEN),
    );
    assert_eq!(config.api_base, "https://api.twilio.com");
    let client = TwilioClient::new(config).unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

/// Collects everything logged while the client works, at every level.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_are_traced_with_the_call_sid_and_never_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(429, 20429, "Too Many Requests"))
        .mount(&server)
        .await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let _ = client(&server).hang_up(&sid(PSTN)).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains(&format!("twilio.hang_up{{call_sid={PSTN}}}")),
        "{logs}"
    );
    assert!(logs.contains("giving up"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
    assert!(!logs.contains(&basic_auth()[6..]), "{logs}");
}

// ---------------------------------------------------------------------------------------------
// Voicemail recordings

fn recording_path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}")
}

#[tokio::test]
async fn a_recording_is_fetched_as_mp3_with_the_accounts_credentials() {
    let server = MockServer::start().await;
    let audio = b"ID3\x04\x00fake mp3 frames".to_vec();
    Mock::given(method("GET"))
        .and(path(format!("{}.mp3", recording_path("RE0123"))))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "audio/mpeg")
                .set_body_bytes(audio.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let recording_url = url(&format!("{}{}", server.uri(), recording_path("RE0123")));

    let got = client(&server).recording(&recording_url).await.unwrap();

    assert_eq!((got.media_type.as_str(), got.bytes), ("audio/mpeg", audio));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method.as_str(), "GET");
    assert_eq!(sent[0].url.query(), None);
    assert_eq!(header(&sent[0], "accept"), Some("audio/mpeg"));
    assert!(sent[0].body.is_empty());
    assert_common(&sent[0]);
}

#[tokio::test]
async fn the_credentials_go_to_no_recording_url_but_the_accounts_own() {
    let server = MockServer::start().await;
    let elsewhere = [
        format!("https://recordings.example.com{}", recording_path("RE0123")),
        format!(
            "{}/2010-04-01/Accounts/AC{}/Recordings/RE0123",
            server.uri(),
            "f".repeat(32)
        ),
        format!(
            "{}{}/../../Calls/{PSTN}",
            server.uri(),
            recording_path("RE0123")
        ),
        format!("{}{}", server.uri(), recording_path("")),
    ];
    for recording_url in &elsewhere {
        let got = client(&server).recording(&url(recording_url)).await;
        assert!(
            matches!(got, Err(TelephonyError::NotFound)),
            "{recording_url}: {got:?}"
        );
    }
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_recording_twilio_no_longer_has_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(twilio_error(
            404,
            20404,
            "The requested resource was not found",
        ))
        .mount(&server)
        .await;
    let recording_url = url(&format!("{}{}", server.uri(), recording_path("RE0999")));
    let got = client(&server).recording(&recording_url).await;
    assert!(matches!(got, Err(TelephonyError::NotFound)), "{got:?}");
}
