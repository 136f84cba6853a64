//! A simulated Twilio for trying callpark without an account: it plays Twilio's part against
//! the service's own webhooks. Simulated callers dial in; the TwiML the service answers is
//! followed (`<Dial><Client>`, `<Dial><Conference>`, `<Record>`, `<Redirect>`, `<Hangup>`);
//! the same call-status, conference and recording callbacks Twilio would send are sent,
//! signed with the sandbox's auth token, so every request goes through the real signature
//! check and handlers. Simulated agents' browsers always answer.
//!
//! It implements the domain's [`Telephony`] port, so the service redirects simulated calls
//! exactly as it redirects real ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{
    AgentIdentity, CallSid, CallStatus, Caller, HttpUrl, PhoneNumber, PstnLeg, Telephony,
    TelephonyError,
};
use quick_xml::events::Event;
use secrecy::SecretString;
use thiserror::Error;

use crate::signature;

/// Why a simulated call could not go on.
#[derive(Debug, Error)]
pub enum SandboxError {
    /// The sandbox never placed this call.
    #[error("no such simulated call")]
    UnknownCall,
    /// The call is over.
    #[error("the simulated call has ended")]
    CallEnded,
    /// The service answered a webhook with an error status.
    #[error("the service answered {status} to {url}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The webhook's URL.
        url: String,
    },
    /// The service could not be reached.
    #[error("the request to the service failed")]
    Http(#[from] reqwest::Error),
    /// The service's TwiML is not well-formed XML.
    #[error("the service answered TwiML that does not parse")]
    Xml(#[from] quick_xml::Error),
}

/// A TwiML element: name, attributes, text and children.
#[derive(Debug, Default, Clone)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn events(&self) -> Vec<String> {
        self.attr("statusCallbackEvent")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn parse_twiml(xml: &str) -> Result<Node, SandboxError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    let element = |e: &quick_xml::events::BytesStart<'_>| -> Result<Node, SandboxError> {
        let mut node = Node {
            name: e.name().as_ref().to_owned(),
            ..Node::default()
        };
        for attr in e.attributes() {
            let attr = attr.map_err(quick_xml::Error::from)?;
            let key = attr.key.as_ref().to_owned();
            node.attrs.push((
                key,
                attr.normalized_value(quick_xml::XmlVersion::Explicit1_0)?
                    .into_owned(),
            ));
        }
        Ok(node)
    };
    loop {
        match reader.read_event()? {
            Event::Start(e) => stack.push(element(&e)?),
            Event::Empty(e) => {
                let node = element(&e)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                if stack.len() > 1
                    && let Some(node) = stack.pop()
                    && let Some(parent) = stack.last_mut()
                {
                    parent.children.push(node);
                }
            }
            Event::Text(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(t.xml10_content().trim());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(node) = stack.last_mut() {
                    let c = match r.resolve_char_ref()? {
                        Some(c) => c,
                        None => match r.xml10_content().as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            _ => '\'',
                        },
                    };
                    node.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let root = stack.into_iter().next().unwrap_or_default();
    Ok(root
        .children
        .into_iter()
        .find(|n| n.name == "Response")
        .unwrap_or_default())
}

/// Where a simulated caller is.
#[derive(Debug, Clone, Default)]
enum Location {
    #[default]
    Idle,
    Conference {
        name: String,
        sid: String,
        callback: Option<String>,
        events: Vec<String>,
    },
    /// Bridged by a `<Dial>` to an agent's leg.
    Dialing {
        child: Option<CallSid>,
        action: Option<String>,
    },
}

#[derive(Debug, Clone)]
struct SimCall {
    from: String,
    to: String,
    parent: Option<CallSid>,
    live: bool,
    /// Where this leg's status goes: set by a redirect's `StatusCallback`, or (for a caller)
    /// the number's status callback; for an agent's leg, its `<Client statusCallback>`.
    status_callback: Option<String>,
    status_events: Vec<String>,
    location: Location,
}

#[derive(Debug, Default)]
struct World {
    next_id: u128,
    calls: HashMap<CallSid, SimCall>,
    sequence: u64,
}

impl World {
    fn new_sid(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:032x}", self.next_id)
    }
}

/// The sandbox's settings.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The service's public base URL, e.g. `http://127.0.0.1:8080`.
    pub service_url: String,
    /// The token the sandbox signs with; the service must verify with the same.
    pub auth_token: SecretString,
}

struct Inner {
    config: SandboxConfig,
    account_sid: String,
    http: reqwest::Client,
    world: Mutex<World>,
}

/// The simulated Twilio. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox(Arc<Inner>);

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("service_url", &self.0.config.service_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// # Panics
    /// If the TLS-less HTTP client cannot be built (it always can).
    pub fn new(config: SandboxConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent(concat!(
                "TwilioProxy/1.1 callpark-sandbox/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .expect("a plain HTTP client builds");
        Self(Arc::new(Inner {
            config,
            account_sid: format!("AC{:032x}", 0x5a4d_b0c5_u128),
            http,
            world: Mutex::new(World::default()),
        }))
    }

    /// A made-up caller's number in the fictional `+1 555 01xx` range.
    pub fn random_caller() -> PhoneNumber {
        PhoneNumber::parse(&format!("+1555{:07}", fastrand::u32(100..200)))
            .expect("a well-formed number")
    }

    /// A caller from `from` dials `to`; the browser of `answered_by` answers (if the service
    /// rings it). Returns the caller's leg once the service has answered the call.
    ///
    /// # Errors
    /// [`SandboxError`] when the service cannot be reached or answers an error.
    pub async fn incoming_call(
        &self,
        to: &PhoneNumber,
        from: &PhoneNumber,
        answered_by: &AgentIdentity,
    ) -> Result<CallSid, SandboxError> {
        let inner = &self.0;
        let sid = {
            let mut world = inner.world();
            let sid = CallSid::parse(&world.new_sid("CA")).expect("a well-formed SID");
            world.calls.insert(
                sid.clone(),
                SimCall {
                    from: from.to_string(),
                    to: to.to_string(),
                    parent: None,
                    live: true,
                    status_callback: Some(inner.url("/twilio/call-status")),
                    status_events: vec!["completed".to_owned()],
                    location: Location::Idle,
                },
            );
            sid
        };
        let mut params = inner.call_params(&sid);
        set(&mut params, "CallStatus", "ringing");
        let twiml = inner.post(&inner.url("/twilio/voice"), &params).await?;
        inner.execute(&sid, &twiml, Some(answered_by)).await?;
        Ok(sid)
    }

    /// The caller on `call` hangs up.
    ///
    /// # Errors
    /// [`SandboxError::UnknownCall`] or [`SandboxError::CallEnded`].
    pub async fn caller_hangs_up(&self, call: &CallSid) -> Result<(), SandboxError> {
        self.0.end_call(call, "participant_hung_up").await
    }
}

fn set(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    params.retain(|(k, _)| k != name);
    params.push((name.to_owned(), value.to_owned()));
}

impl Inner {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.service_url.trim_end_matches('/'))
    }

    fn call(&self, sid: &CallSid) -> Option<SimCall> {
        self.world().calls.get(sid).cloned()
    }

    fn call_params(&self, sid: &CallSid) -> Vec<(String, String)> {
        let call = self.call(sid);
        let mut params = vec![
            ("AccountSid".to_owned(), self.account_sid.clone()),
            ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
            ("CallSid".to_owned(), sid.to_string()),
            ("CallStatus".to_owned(), "in-progress".to_owned()),
        ];
        if let Some(call) = call {
            params.push(("From".to_owned(), call.from));
            params.push(("To".to_owned(), call.to));
            let direction = if call.parent.is_some() {
                "outbound-dial"
            } else {
                "inbound"
            };
            params.push(("Direction".to_owned(), direction.to_owned()));
            if let Some(parent) = call.parent {
                params.push(("ParentCallSid".to_owned(), parent.to_string()));
            }
        }
        params
    }

    /// Posts a signed form to the service, as Twilio does, and returns the body.
    async fn post(&self, url: &str, params: &[(String, String)]) -> Result<String, SandboxError> {
        let signature = signature::compute(&self.config.auth_token, url, params);
        let response = self
            .http
            .post(url)
            .header("X-Twilio-Signature", signature)
            .form(params)
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(SandboxError::Status {
                status: status.as_u16(),
                url: url.to_owned(),
            });
        }
        Ok(response.text().await?)
    }

    /// Follows a TwiML document for `sid`, as Twilio would, until the call waits somewhere
    /// (a conference, a bridge) or ends.
    async fn execute(
        self: &Arc<Self>,
        sid: &CallSid,
        twiml: &str,
        answer_as: Option<&AgentIdentity>,
    ) -> Result<(), SandboxError> {
        let mut document = parse_twiml(twiml)?;
        // Each <Redirect> or <Record> action hands over to a new document; bounded so a
        // redirect loop in the service cannot spin the sandbox forever.
        for _ in 0..16 {
            let mut next = None;
            for verb in &document.children {
                match verb.name.as_str() {
                    "Hangup" => return self.end_call(sid, "participant_hung_up").await,
                    "Redirect" => {
                        let params = self.call_params(sid);
                        next = Some(self.post(&verb.text, &params).await?);
                        break;
                    }
                    "Dial" => {
                        if let Some(conference) = verb.child("Conference") {
                            return self.join_conference(sid, conference).await;
                        }
                        let clients: Vec<&Node> = verb
                            .children
                            .iter()
                            .filter(|c| c.name == "Client")
                            .collect();
                        if !clients.is_empty() {
                            return self.ring(sid, verb, &clients, answer_as).await;
                        }
                    }
                    "Record" => {
                        next = self.record(sid, verb).await?;
                        if next.is_some() {
                            break;
                        }
                    }
                    _ => {} // <Say>, <Play>, <Pause>: time passes, nothing else.
                }
            }
            match next {
                Some(twiml) => document = parse_twiml(&twiml)?,
                // Twilio hangs up when a document runs out of verbs.
                None => return self.end_call(sid, "participant_hung_up").await,
            }
        }
        Ok(())
    }

    async fn join_conference(
        self: &Arc<Self>,
        sid: &CallSid,
        conference: &Node,
    ) -> Result<(), SandboxError> {
        let name = conference.text.clone();
        let (conference_sid, sequence) = {
            let mut world = self.world();
            let existing = world.calls.values().find_map(|c| match &c.location {
                Location::Conference { name: n, sid, .. } if *n == name => Some(sid.clone()),
                _ => None,
            });
            let conference_sid = existing.unwrap_or_else(|| world.new_sid("CF"));
            world.sequence += 1;
            let sequence = world.sequence;
            if let Some(call) = world.calls.get_mut(sid) {
                call.location = Location::Conference {
                    name: name.clone(),
                    sid: conference_sid.clone(),
                    callback: conference.attr("statusCallback").map(str::to_owned),
                    events: conference.events(),
                };
            }
            (conference_sid, sequence)
        };
        if let Some(wait_url) = conference.attr("waitUrl") {
            // Twilio fetches the hold music; its answer only matters to the caller's ears.
            let mut params = self.call_params(sid);
            params.push(("ConferenceSid".to_owned(), conference_sid.clone()));
            params.push(("FriendlyName".to_owned(), name.clone()));
            self.post(wait_url, &params).await?;
        }
        if let Some(callback) = conference.attr("statusCallback")
            && conference.events().iter().any(|e| e == "join")
        {
            let params =
                self.conference_params(sid, &conference_sid, &name, "participant-join", sequence);
            self.post(callback, &params).await?;
        }
        Ok(())
    }

    fn conference_params(
        &self,
        sid: &CallSid,
        conference_sid: &str,
        name: &str,
        event: &str,
        sequence: u64,
    ) -> Vec<(String, String)> {
        vec![
            ("AccountSid".to_owned(), self.account_sid.clone()),
            ("CallSid".to_owned(), sid.to_string()),
            ("ConferenceSid".to_owned(), conference_sid.to_owned()),
            ("FriendlyName".to_owned(), name.to_owned()),
            ("StatusCallbackEvent".to_owned(), event.to_owned()),
            ("SequenceNumber".to_owned(), sequence.to_string()),
            (
                "Timestamp".to_owned(),
                "Tue, 24 Nov 2026 10:00:00 +0000".to_owned(),
            ),
        ]
    }

    /// Rings agents' browsers; the one asked for (or the only one) answers at once.
    async fn ring(
        self: &Arc<Self>,
        sid: &CallSid,
        dial: &Node,
        clients: &[&Node],
        answer_as: Option<&AgentIdentity>,
    ) -> Result<(), SandboxError> {
        let caller = self.call(sid).ok_or(SandboxError::UnknownCall)?;
        let identities: Vec<String> = clients
            .iter()
            .map(|c| {
                c.child("Identity")
                    .map_or_else(|| c.text.clone(), |i| i.text.clone())
            })
            .collect();
        let answerer = answer_as
            .map(AgentIdentity::as_str)
            .filter(|a| identities.iter().any(|i| i == a))
            .or_else(|| (identities.len() == 1).then(|| identities[0].as_str()))
            .map(str::to_owned);
        let mut answered_leg = None;
        for (client, identity) in clients.iter().zip(&identities) {
            let child = {
                let mut world = self.world();
                let child = CallSid::parse(&world.new_sid("CA")).expect("a well-formed SID");
                world.calls.insert(
                    child.clone(),
                    SimCall {
                        from: dial.attr("callerId").unwrap_or(&caller.from).to_owned(),
                        to: format!("client:{identity}"),
                        parent: Some(sid.clone()),
                        live: true,
                        status_callback: client.attr("statusCallback").map(str::to_owned),
                        status_events: client.events(),
                        location: Location::Idle,
                    },
                );
                child
            };
            for (event, status) in [("initiated", "initiated"), ("ringing", "ringing")] {
                self.report_status(&child, event, status).await?;
            }
            if answerer.as_deref() == Some(identity.as_str()) {
                self.report_status(&child, "answered", "in-progress")
                    .await?;
                answered_leg = Some(child);
            } else {
                self.hang_up_leg(&child);
                self.report_status(&child, "completed", "canceled").await?;
            }
        }
        let action = dial.attr("action").map(str::to_owned);
        if answered_leg.is_none() {
            // Nobody answered: the dial ends and its action says what the caller does next.
            if let Some(action) = action {
                let mut params = self.call_params(sid);
                params.push(("DialCallStatus".to_owned(), "no-answer".to_owned()));
                let twiml = self.post(&action, &params).await?;
                return Box::pin(self.execute(sid, &twiml, None)).await;
            }
            return self.end_call(sid, "participant_hung_up").await;
        }
        if let Some(call) = self.world().calls.get_mut(sid) {
            call.location = Location::Dialing {
                child: answered_leg,
                action,
            };
        }
        Ok(())
    }

    /// Sends a leg's status callback if it asked for `event`.
    async fn report_status(
        &self,
        sid: &CallSid,
        event: &str,
        status: &str,
    ) -> Result<(), SandboxError> {
        let Some(call) = self.call(sid) else {
            return Ok(());
        };
        let wanted = call.status_events.iter().any(|e| e == event)
            || (call.parent.is_none() && event == "completed");
        let Some(url) = call.status_callback.filter(|_| wanted) else {
            return Ok(());
        };
        let mut params = self.call_params(sid);
        set(&mut params, "CallStatus", status);
        set(&mut params, "CallbackSource", "call-progress-events");
        self.post(&url, &params).await.map(|_| ())
    }

    /// Records a voicemail: the recording is ready at once. Returns the action's TwiML.
    async fn record(&self, sid: &CallSid, record: &Node) -> Result<Option<String>, SandboxError> {
        let recording_sid = self.world().new_sid("RE");
        let recording_url = format!(
            "https://api.twilio.com/2010-04-01/Accounts/{}/Recordings/{recording_sid}",
            self.account_sid
        );
        let mut params = self.call_params(sid);
        params.push(("RecordingSid".to_owned(), recording_sid));
        params.push(("RecordingUrl".to_owned(), recording_url));
        params.push(("RecordingDuration".to_owned(), "4".to_owned()));
        if let Some(callback) = record.attr("recordingStatusCallback") {
            let mut status = params.clone();
            status.push(("RecordingStatus".to_owned(), "completed".to_owned()));
            self.post(callback, &status).await?;
        }
        match record.attr("action") {
            Some(action) => Ok(Some(self.post(action, &params).await?)),
            None => Ok(None),
        }
    }

    /// Takes a caller out of wherever it is, reporting what Twilio reports.
    async fn leave(&self, sid: &CallSid, reason: &str) -> Result<(), SandboxError> {
        let location = {
            let mut world = self.world();
            let Some(call) = world.calls.get_mut(sid) else {
                return Ok(());
            };
            std::mem::take(&mut call.location)
        };
        match location {
            Location::Idle => {}
            Location::Conference {
                name,
                sid: conference_sid,
                callback,
                events,
            } => {
                let Some(callback) = callback else {
                    return Ok(());
                };
                for (wanted, event) in [("leave", "participant-leave"), ("end", "conference-end")] {
                    if !events.iter().any(|e| e == wanted) {
                        continue;
                    }
                    let sequence = {
                        let mut world = self.world();
                        world.sequence += 1;
                        world.sequence
                    };
                    let mut params =
                        self.conference_params(sid, &conference_sid, &name, event, sequence);
                    if event == "participant-leave" {
                        params.push(("ReasonParticipantLeft".to_owned(), reason.to_owned()));
                    } else {
                        params.push((
                            "ReasonConferenceEnded".to_owned(),
                            "participant-with-end-conference-on-exit-left".to_owned(),
                        ));
                    }
                    self.post(&callback, &params).await?;
                }
            }
            Location::Dialing { child, action } => {
                if let Some(child) = child {
                    self.hang_up_leg(&child);
                    self.report_status(&child, "completed", "completed").await?;
                }
                // Twilio requests the interrupted <Dial>'s action and ignores its answer.
                if let Some(action) = action {
                    let mut params = self.call_params(sid);
                    params.push(("DialCallStatus".to_owned(), "completed".to_owned()));
                    self.post(&action, &params).await?;
                }
            }
        }
        Ok(())
    }

    async fn end_call(&self, sid: &CallSid, reason: &str) -> Result<(), SandboxError> {
        {
            let mut world = self.world();
            let call = world.calls.get_mut(sid).ok_or(SandboxError::UnknownCall)?;
            if !call.live {
                return Err(SandboxError::CallEnded);
            }
            call.live = false;
        }
        self.leave(sid, reason).await?;
        self.report_status(sid, "completed", "completed").await
    }

    fn hang_up_leg(&self, leg: &CallSid) {
        if let Some(call) = self.world().calls.get_mut(leg) {
            call.live = false;
        }
    }

    fn check_live(&self, sid: &CallSid) -> Result<SimCall, TelephonyError> {
        let call = self.call(sid).ok_or(TelephonyError::NotFound)?;
        if call.live {
            Ok(call)
        } else {
            Err(TelephonyError::NotInProgress)
        }
    }
}

#[async_trait]
impl Telephony for Sandbox {
    async fn find_pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError> {
        let leg = self.0.call(browser_leg).ok_or(TelephonyError::NotFound)?;
        let parent = leg.parent.ok_or(TelephonyError::NotFound)?;
        let caller = self.0.call(&parent).ok_or(TelephonyError::NotFound)?;
        Ok(PstnLeg {
            sid: parent,
            caller: Caller {
                number: PhoneNumber::parse(&caller.from).ok(),
                name: None,
            },
        })
    }

    async fn redirect(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: &HttpUrl,
    ) -> Result<(), TelephonyError> {
        self.0.check_live(call)?;
        if let Some(c) = self.0.world().calls.get_mut(call) {
            c.status_callback = Some(status_callback.to_string());
        }
        // Like Twilio, accept now and follow the new TwiML after answering.
        let inner = Arc::clone(&self.0);
        let (call, url) = (call.clone(), url.to_string());
        tokio::spawn(async move {
            let followed = async {
                inner.leave(&call, "participant_updated_via_api").await?;
                let params = inner.call_params(&call);
                let twiml = inner.post(&url, &params).await?;
                inner.execute(&call, &twiml, None).await
            };
            if let Err(e) = followed.await {
                tracing::warn!(error = &e as &dyn std::error::Error, call = %call, "the sandbox could not follow a redirect");
            }
        });
        Ok(())
    }

    async fn call_status(&self, call: &CallSid) -> Result<CallStatus, TelephonyError> {
        let call = self.0.call(call).ok_or(TelephonyError::NotFound)?;
        Ok(if call.live {
            CallStatus::InProgress
        } else {
            CallStatus::Completed
        })
    }

    async fn connected_legs(&self, caller_leg: &CallSid) -> Result<Vec<CallSid>, TelephonyError> {
        let world = self.0.world();
        Ok(world
            .calls
            .iter()
            .filter(|(_, c)| c.live && c.parent.as_ref() == Some(caller_leg))
            .map(|(sid, _)| sid.clone())
            .collect())
    }

    async fn hang_up(&self, call: &CallSid) -> Result<(), TelephonyError> {
        self.0.check_live(call)?;
        self.0
            .end_call(call, "participant_hung_up")
            .await
            .map_err(|e| TelephonyError::OutcomeUnknown(e.into()))
    }
}
