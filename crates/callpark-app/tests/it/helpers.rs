//! A running callpark for tests: port 0, wiremock as Twilio, a real store, correctly signed
//! webhooks, and an HTTP client for the agents' and admin APIs ([`Api`], which also drives
//! the binary the crash tests start and the sandbox).

use std::time::Duration;

use callpark_app::config::{Settings, TwilioSettings};
use callpark_app::{Application, Stopper};
use callpark_http::routes::paths;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub(crate) const AUTH_TOKEN: &str = "test-auth-token";
pub(crate) const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
pub(crate) const METRICS_TOKEN: &str = "test-metrics-token-0123456789abcdef";

/// A call SID for tests.
pub(crate) fn sid(n: u32) -> String {
    format!("CA{n:032x}")
}

/// The service on a database of its own, with wiremock as Twilio. It derefs to its
/// [`Instance`] (and so to the [`Api`]), which is how tests call it.
pub(crate) struct TestApp {
    instance: Instance,
    settings: Settings,
    pub(crate) twilio: MockServer,
    database: crate::db::TestDatabase,
}

impl TestApp {
    /// Twilio accepts every call update.
    pub(crate) async fn spawn() -> Self {
        let twilio = MockServer::start().await;
        answer_updates(&twilio, accepted(), None, 5).await;
        Self::spawn_with(twilio).await
    }

    pub(crate) async fn spawn_with(twilio: MockServer) -> Self {
        Self::spawn_configured(twilio, |_| {}).await
    }

    /// Like [`Self::spawn_with`], with the settings adjusted by `adjust`.
    pub(crate) async fn spawn_configured(
        twilio: MockServer,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let database = crate::db::TestDatabase::create().await;
        let mut settings = Settings {
            listen: "127.0.0.1:0".to_owned(),
            public_url: None,
            database: Some(database.settings()),
            twilio: Some(TwilioSettings {
                account_sid: ACCOUNT_SID.to_owned(),
                auth_token: SecretString::from(AUTH_TOKEN),
                api_base: twilio.uri(),
                request_timeout: Duration::from_millis(500),
            }),
            sandbox: callpark_sandbox::Behaviour::default(),
            voice: None,
            admin_token: Some(SecretString::from(ADMIN_TOKEN)),
            metrics_token: Some(SecretString::from(METRICS_TOKEN)),
            allow_memory_store: true,
            migrate: true,
            demo: false,
            sweep_interval: Duration::from_millis(100),
            reconcile_grace: Duration::from_secs(30),
            ring_time: Duration::from_secs(20),
            sessions: callpark_domain::SessionLifetime::SHIFT,
            presence_timeout: Duration::from_secs(120),
            max_failed_logins: 10,
            max_streams: 10_000,
            retention: Some(Duration::from_secs(90 * 86_400)),
            workers: Some(2),
        };
        adjust(&mut settings);
        Self {
            instance: Instance::start(settings.clone()).await,
            settings,
            twilio,
            database,
        }
    }

    /// A second instance of the service on the same database and the same Twilio: what a
    /// load balancer spreads requests over.
    pub(crate) async fn second_instance(&self) -> Instance {
        Instance::start(self.settings.clone()).await
    }

    /// The database this instance runs on (for checks no API exposes).
    pub(crate) async fn sql(&self, query: &str) -> Vec<tokio_postgres::Row> {
        self.database.query(query).await
    }

    /// The call-update requests Twilio received, as (call SID, form fields).
    pub(crate) async fn twilio_updates(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.twilio
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method == wiremock::http::Method::POST)
            .map(|r| {
                let call = r
                    .url
                    .path()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .trim_end_matches(".json")
                    .to_owned();
                (call, serde_urlencoded::from_bytes(&r.body).unwrap())
            })
            .collect()
    }
}

impl std::ops::Deref for TestApp {
    type Target = Instance;

    fn deref(&self) -> &Instance {
        &self.instance
    }
}

/// The friendly name of parked call `id`'s conference, as Twilio reports it back.
pub(crate) fn conference_of(id: &str) -> String {
    format!("park-{}", id.replace('-', ""))
}

/// The value of form field `name`.
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Waits until `check` holds, polling; fails the test after ten seconds (generous, for a loaded
/// CI machine: it returns as soon as `check` holds).
pub(crate) async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(Duration::from_secs(10), what, check).await;
}

/// Waits until `check` holds, polling; fails the test after `limit`.
pub(crate) async fn eventually_within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

/// An error response's status and code; every error says what went wrong in its message.
pub(crate) async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, code)
}

/// A running instance of the service: its [`Api`] (which it derefs to), and the means to stop it.
pub(crate) struct Instance {
    api: Api,
    stopper: Stopper,
}

impl Instance {
    async fn start(settings: Settings) -> Self {
        Self::run(Application::build(settings).await.expect("the app starts"))
    }

    /// Runs `app` in the background.
    pub(crate) fn run(app: Application) -> Self {
        let api = Api::new(app.public_url().to_owned());
        let stopper = app.stopper();
        tokio::spawn(app.run_until_stopped());
        Self { api, stopper }
    }

    pub(crate) async fn stop(&self) {
        self.stopper.stop().await;
    }
}

impl std::ops::Deref for Instance {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// The service's HTTP API at `base`, as agents, admins and (with signed webhooks) Twilio call it.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::new(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates an organisation with `slots` slots answering `number`.
    pub(crate) async fn create_org(&self, slug: &str, slots: u32, number: &str) -> Value {
        let response = self
            .http
            .post(self.url("/admin/orgs"))
            .bearer_auth(ADMIN_TOKEN)
            .json(
                &json!({"slug": slug, "name": slug, "slots": slots, "numbers": [number],
                          "announcement": "Please hold while we find someone for you."}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// Creates a signed-in agent and returns its token.
    pub(crate) async fn agent(&self, org: &str, identity: &str) -> String {
        let response = self
            .http
            .post(self.url(&format!("/admin/orgs/{org}/agents")))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"identity": identity}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let token = response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        self.sign_in(&token).await;
        token
    }

    /// Signs the agent with `token` in.
    pub(crate) async fn sign_in(&self, token: &str) {
        let signed_in = self
            .http
            .post(self.url("/api/session"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200);
    }

    /// POSTs a webhook signed as Twilio signs it.
    pub(crate) async fn webhook(&self, path: &str, params: &[(&str, &str)]) -> reqwest::Response {
        let url = self.url(path);
        let signature =
            callpark_twilio::signature::compute(&SecretString::from(AUTH_TOKEN), &url, params);
        self.http
            .post(url)
            .header("X-Twilio-Signature", signature)
            .form(params)
            .send()
            .await
            .unwrap()
    }

    /// A webhook that must succeed; returns its body (TwiML or empty).
    pub(crate) async fn webhook_ok(&self, path: &str, params: &[(&str, &str)]) -> String {
        let response = self.webhook(path, params).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "{path} answered {status}: {body}");
        body
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// What the agent with `token` sees of itself.
    pub(crate) async fn me(&self, token: &str) -> Value {
        let response = self.get("/api/me", token).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub(crate) async fn lot(&self, token: &str) -> Value {
        let response = self.get("/api/lot", token).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The slot's entry in the lot.
    pub(crate) async fn slot(&self, token: &str, slot: u64) -> Value {
        self.lot(token).await["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["slot"] == slot)
            .cloned()
            .unwrap()
    }

    /// An inbound call from `from` to `to`, answered on leg `browser` by the browser of `client`
    /// (the agent's Twilio Client identity, `<org>.<agent>`).
    pub(crate) async fn inbound_call_answered(
        &self,
        pstn: &str,
        from: &str,
        to: &str,
        browser: &str,
        client: &str,
    ) -> String {
        let twiml = self
            .webhook_ok(
                paths::VOICE,
                &[
                    ("CallSid", pstn),
                    ("From", from),
                    ("To", to),
                    ("CallStatus", "ringing"),
                ],
            )
            .await;
        let client = format!("client:{client}");
        self.webhook_ok(
            paths::CALL_STATUS,
            &[
                ("CallSid", browser),
                ("ParentCallSid", pstn),
                ("CallStatus", "in-progress"),
                ("To", &client),
            ],
        )
        .await;
        twiml
    }

    /// `agent` (signed in with `token`) parks `call` into `slot` (the lowest free one for
    /// `None`), which must succeed; returns the parked call.
    pub(crate) async fn park(&self, token: &str, call: &str, slot: Option<u32>) -> Value {
        let body = match slot {
            Some(slot) => json!({"callSid": call, "slot": slot}),
            None => json!({"callSid": call}),
        };
        let response = self.post_json("/api/park", token, body).await;
        assert_eq!(response.status(), 201, "parking {call} into {slot:?}");
        response.json().await.unwrap()
    }

    /// `count` calls to `number`, answered by the browser of `client` and parked by it into slots 1, 2, …:
    /// call `n`'s caller leg is `sid(n * 10)`, the agent's `sid(n * 10 + 1)`.
    pub(crate) async fn park_calls(&self, token: &str, client: &str, number: &str, count: u32) {
        for n in 1..=count {
            let browser = sid(n * 10 + 1);
            self.inbound_call_answered(&sid(n * 10), "+14155550100", number, &browser, client)
                .await;
            self.park(token, &browser, Some(n)).await;
        }
    }
}

/// The path of Twilio's Calls resource for one call: fetched with GET, updated with POST.
pub(crate) const CALL: &str = r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Calls/CA[0-9a-f]{32}\.json$";

/// Twilio's answer to a call update it accepted.
pub(crate) fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"status": "in-progress"}))
}

/// Call updates get `answer`, `times` times at most (always, for `None`); among several such
/// mocks the lowest `priority` answers first.
pub(crate) async fn answer_updates(
    twilio: &MockServer,
    answer: ResponseTemplate,
    times: Option<u64>,
    priority: u8,
) {
    let mock = Mock::given(method("POST"))
        .and(path_regex(CALL))
        .respond_with(answer)
        .with_priority(priority);
    match times {
        Some(n) => mock.up_to_n_times(n).mount(twilio).await,
        None => mock.mount(twilio).await,
    }
}

/// Fetching any call says it is `status`, and it has no agent leg connected.
pub(crate) async fn calls_are(twilio: &MockServer, status: &str) {
    Mock::given(method("GET"))
        .and(path_regex(CALL))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"sid": sid(1), "status": status})),
        )
        .mount(twilio)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"/Calls\.json$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"calls": []})))
        .mount(twilio)
        .await;
}
