//! Test support for embedders and adapters (feature `testkit`):
//!
//! - [`conformance`]: the behavioural contract of [`ParkingStore`](crate::ParkingStore), as async checks that every
//!   store adapter runs unchanged — `callpark_domain::store_conformance_tests!`
//!   turns them into one `#[tokio::test]` each;
//! - [`ManualClock`], [`ScriptedTelephony`] and [`StaticUrls`]: deterministic doubles of the
//!   other ports.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::{AutoSlot, Caller, NewAgent, Organisation, Role, TimeoutAction};
use crate::ports::{CallStatus, ChildLeg, Clock, PstnLeg, Telephony, TelephonyError, WebhookUrls};
use crate::values::{
    AgentIdentity, Announcement, CallSid, DisplayName, HttpUrl, LotSize, OrgSlug, ParkedCallId,
    PhoneNumber, TokenHash,
};

pub mod conformance;

/// A call SID made from a number, for tests: `CA` + the number as 32 hex digits.
pub fn call_sid(n: u128) -> CallSid {
    CallSid::parse(&format!("CA{n:032x}")).expect("a well-formed call SID")
}

/// A conference SID made from a number.
pub fn conference_sid(n: u128) -> crate::values::ConferenceSid {
    crate::values::ConferenceSid::parse(&format!("CF{n:032x}")).expect("a well-formed SID")
}

/// An agent identity, for tests.
pub fn agent_identity(s: &str) -> AgentIdentity {
    AgentIdentity::parse(s).expect("a well-formed identity")
}

/// An organisation slug, for tests.
pub fn org_slug(s: &str) -> OrgSlug {
    OrgSlug::parse(s).expect("a well-formed slug")
}

/// A phone number made from a number: `+1555` and 7 digits.
pub fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1555{:07}", n % 10_000_000)).expect("a well-formed number")
}

/// A token hash made from a byte.
pub fn token_hash(n: u8) -> TokenHash {
    TokenHash::from_bytes([n; 32])
}

/// An organisation with `slots` slots, one number derived from its slug, five minutes of park
/// time, ring-back on timeout and first-free slots.
pub fn organisation(slug: &str, slots: u32) -> Organisation {
    let number = slug
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    Organisation {
        slug: org_slug(slug),
        name: DisplayName::parse(&format!("Org {slug}")).expect("a name"),
        lot_size: LotSize::new(slots).expect("a lot size"),
        numbers: vec![phone(number)],
        hold_music_url: Some(HttpUrl::parse("https://music.example/hold.mp3").expect("a URL")),
        announcement: Announcement::parse("Please hold.").expect("an announcement"),
        voice: None,
        max_park: Duration::from_secs(300),
        timeout_action: TimeoutAction::Ringback,
        auto_slot: AutoSlot::FirstFree,
        language: None,
        active: true,
    }
}

/// A new agent of `org` whose token hash is `[token; 32]`.
pub fn new_agent(org: &str, identity: &str, token: u8) -> NewAgent {
    NewAgent {
        org: org_slug(org),
        identity: agent_identity(identity),
        display_name: None,
        token_hash: token_hash(token),
        token_expires_at: None,
        role: Role::Agent,
    }
}

/// A time the tests start from, on a whole second so that every store keeps it exactly.
pub fn epoch() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a valid timestamp")
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock that reads `start` until moved.
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }

    /// Sets the time.
    pub fn set(&self, to: OffsetDateTime) {
        *self.0.lock().expect("clock lock") = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock lock")
    }
}

/// How [`ScriptedTelephony`] answers requests about one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallScript {
    /// The call is live: redirects are accepted.
    #[default]
    Live,
    /// The caller hung up: redirects fail with "not in progress", the status is `completed`.
    Gone,
    /// Redirects time out (outcome unknown); the status is `in-progress`.
    Unanswered,
    /// Twilio refuses to act (rate limited, credentials).
    Refusing,
    /// Twilio does not find the call (20404) for redirects and its status alike.
    Unfound,
    /// Twilio answers the call's status (`in-progress`) but refuses to act on redirects, as a
    /// rate limit may refuse one request and not the one before.
    RefusingRedirects,
}

/// A request [`ScriptedTelephony`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelephonyRequest {
    /// [`Telephony::find_pstn_leg`].
    FindPstnLeg(CallSid),
    /// [`Telephony::redirect`].
    Redirect {
        /// The leg redirected.
        call: CallSid,
        /// The URL it was redirected to.
        url: HttpUrl,
        /// Where it reports its status.
        status_callback: HttpUrl,
    },
    /// [`Telephony::call_status`].
    CallStatus(CallSid),
    /// [`Telephony::child_legs`].
    ChildLegs(CallSid),
    /// [`Telephony::hang_up`].
    HangUp(CallSid),
}

#[derive(Debug, Default)]
struct Script {
    legs: HashMap<CallSid, PstnLeg>,
    calls: HashMap<CallSid, CallScript>,
    children: HashMap<CallSid, Vec<ChildLeg>>,
    requests: Vec<TelephonyRequest>,
}

/// A telephony provider that answers from a script and records every request.
#[derive(Debug, Default)]
pub struct ScriptedTelephony(Mutex<Script>);

impl ScriptedTelephony {
    /// A telephony that knows no call yet: every call is [`CallScript::Live`].
    pub fn new() -> Self {
        Self::default()
    }

    /// `browser` is an agent's leg bridged to the caller's leg `leg`.
    pub fn add_leg(&self, browser: &CallSid, leg: PstnLeg) {
        self.lock().legs.insert(browser.clone(), leg);
    }

    /// From now on, requests about `call` are answered as `script` says.
    pub fn script(&self, call: &CallSid, script: CallScript) {
        self.lock().calls.insert(call.clone(), script);
    }

    /// The agent legs the caller's leg dials or is connected to, with their statuses.
    pub fn set_children(&self, call: &CallSid, legs: Vec<ChildLeg>) {
        self.lock().children.insert(call.clone(), legs);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<TelephonyRequest> {
        self.lock().requests.clone()
    }

    /// The redirects received so far, as (call, URL).
    pub fn redirects(&self) -> Vec<(CallSid, HttpUrl)> {
        self.lock()
            .requests
            .iter()
            .filter_map(|r| match r {
                TelephonyRequest::Redirect { call, url, .. } => Some((call.clone(), url.clone())),
                _ => None,
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.0.lock().expect("script lock")
    }

    fn answer(&self, call: &CallSid, request: TelephonyRequest) -> CallScript {
        let mut script = self.lock();
        script.requests.push(request);
        script.calls.get(call).copied().unwrap_or_default()
    }
}

fn scripted_failure(script: CallScript) -> Result<(), TelephonyError> {
    match script {
        CallScript::Live => Ok(()),
        CallScript::Gone => Err(TelephonyError::NotInProgress),
        CallScript::Unanswered => Err(TelephonyError::OutcomeUnknown("scripted timeout".into())),
        CallScript::Refusing | CallScript::RefusingRedirects => {
            Err(TelephonyError::NotProcessed("scripted refusal".into()))
        }
        CallScript::Unfound => Err(TelephonyError::NotFound),
    }
}

#[async_trait]
impl Telephony for ScriptedTelephony {
    async fn find_pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError> {
        let mut script = self.lock();
        script
            .requests
            .push(TelephonyRequest::FindPstnLeg(browser_leg.clone()));
        script
            .legs
            .get(browser_leg)
            .cloned()
            .ok_or(TelephonyError::NotFound)
    }

    async fn redirect(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: &HttpUrl,
    ) -> Result<(), TelephonyError> {
        let request = TelephonyRequest::Redirect {
            call: call.clone(),
            url: url.clone(),
            status_callback: status_callback.clone(),
        };
        scripted_failure(self.answer(call, request))
    }

    async fn call_status(&self, call: &CallSid) -> Result<CallStatus, TelephonyError> {
        match self.answer(call, TelephonyRequest::CallStatus(call.clone())) {
            CallScript::Gone => Ok(CallStatus::Completed),
            CallScript::Live | CallScript::Unanswered | CallScript::RefusingRedirects => {
                Ok(CallStatus::InProgress)
            }
            CallScript::Refusing => Err(TelephonyError::NotProcessed("scripted refusal".into())),
            CallScript::Unfound => Err(TelephonyError::NotFound),
        }
    }

    async fn child_legs(&self, caller_leg: &CallSid) -> Result<Vec<ChildLeg>, TelephonyError> {
        let mut script = self.lock();
        script
            .requests
            .push(TelephonyRequest::ChildLegs(caller_leg.clone()));
        Ok(script.children.get(caller_leg).cloned().unwrap_or_default())
    }

    async fn hang_up(&self, call: &CallSid) -> Result<(), TelephonyError> {
        scripted_failure(self.answer(call, TelephonyRequest::HangUp(call.clone())))
    }
}

/// [`WebhookUrls`] under `https://callpark.test`, with the parked call's id in the path.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaticUrls;

impl StaticUrls {
    fn url(path: &str) -> HttpUrl {
        HttpUrl::parse(&format!("https://callpark.test{path}")).expect("a well-formed URL")
    }
}

impl WebhookUrls for StaticUrls {
    fn park(&self, id: ParkedCallId) -> HttpUrl {
        Self::url(&format!("/park/{id}"))
    }

    fn retrieve(&self, id: ParkedCallId) -> HttpUrl {
        Self::url(&format!("/retrieve/{id}"))
    }

    fn voicemail(&self, id: ParkedCallId) -> HttpUrl {
        Self::url(&format!("/voicemail/{id}"))
    }

    fn call_status(&self) -> HttpUrl {
        Self::url("/call-status")
    }
}

/// A caller with a number and no name.
pub fn caller(n: u32) -> Caller {
    Caller {
        number: Some(phone(n)),
        name: None,
    }
}
