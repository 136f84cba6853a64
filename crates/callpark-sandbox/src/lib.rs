//! # callpark-sandbox
//!
//! A simulated Twilio for trying callpark without an account: it plays Twilio's part against
//! the service's own webhooks. Simulated callers dial in; the TwiML the service answers is
//! followed (`<Dial><Client>`, `<Dial><Conference>`, `<Record>`, `<Redirect>`, `<Hangup>`);
//! the same call-status, conference and recording callbacks Twilio would send are sent,
//! signed with the sandbox's auth token, so every request goes through the real signature
//! check and handlers.
//!
//! It is as unkind as Twilio where callpark must cope ([`fidelity`]): a simulated agent may
//! decline or let its browser ring for the dial's whole timeout (and Twilio's 5 s more, in
//! sandbox time, [`Behaviour::clock_speed`]); status callbacks may come twice or late,
//! after later ones ([`Disorder`]); a REST request may fail as Twilio's do ([`Fault`]:
//! 20404, 20429, a 5xx, a stall), queued one by one or at a random rate; redirecting a call
//! that is over answers 21220; a `<Dial>` of more than 10 `<Client>`s is refused.
//!
//! Like a Twilio account, it is told only where a call to one of its numbers goes (the
//! number's Voice URL and status callback, [`Console`]); every other URL it requests comes from
//! the TwiML and REST parameters the service gives it.
//!
//! It implements the domain's [`Telephony`] port, so the service redirects simulated calls
//! exactly as it redirects real ones.

#![warn(missing_docs)]

mod conference;
pub mod fidelity;
mod follow;
mod network;
mod recording;
pub mod rest;
mod twiml;
mod world;

use std::sync::Arc;

use async_trait::async_trait;
use callpark_domain::{
    CallSid, CallStatus, ChildLeg, ClientIdentity, HttpUrl, PhoneNumber, PstnLeg, RecordingAudio,
    Telephony, TelephonyError,
};
use secrecy::SecretString;
use thiserror::Error;

pub use fidelity::{Disorder, Fault, Pickup};
use network::Network;
pub use rest::{CallRecord, CallUpdate, CallerState, RestFailure, Whereabouts};

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

/// What a Twilio console is configured with for the account's phone numbers: the webhooks a
/// new inbound call starts from.
#[derive(Debug, Clone)]
pub struct Console {
    /// The numbers' Voice URL ("A call comes in").
    pub voice_url: HttpUrl,
    /// The numbers' call status callback URL.
    pub status_callback_url: HttpUrl,
}

/// The sandbox's settings.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where inbound calls go.
    pub console: Console,
    /// The token the sandbox signs with; the service must verify with the same.
    pub auth_token: SecretString,
    /// How unkind it is.
    pub behaviour: Behaviour,
}

/// How unkind the sandbox is, and how fast its time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// How its callbacks misbehave.
    pub disorder: Disorder,
    /// How many times faster than real time sandbox time runs (1.0: as a person watches it;
    /// tests run it faster), for the time a browser rings.
    pub clock_speed: f64,
}

impl Default for Behaviour {
    /// Twilio on an ordinary day ([`Disorder::GENTLE`]), in real time.
    fn default() -> Self {
        Self {
            disorder: Disorder::GENTLE,
            clock_speed: 1.0,
        }
    }
}

/// A call that came in: the caller's leg, and the agent's leg that answered it (with the
/// agent's Client identity), if one did.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The caller's leg.
    pub caller: CallSid,
    /// Who answered, and on which leg.
    pub answered: Option<(ClientIdentity, CallSid)>,
}

/// The simulated Twilio. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox(Arc<Network>);

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("console", &self.0.config.console)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// # Panics
    /// If the TLS-less HTTP client cannot be built (it always can).
    pub fn new(config: SandboxConfig) -> Self {
        Self(Arc::new(Network::new(config)))
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
        answered_by: &ClientIdentity,
    ) -> Result<CallSid, SandboxError> {
        let wanted = answered_by.to_string();
        let pick = move |rung: &[String]| rung.contains(&wanted).then(|| wanted.clone());
        Ok(self.incoming_call_picked(to, from, &pick).await?.caller)
    }

    /// A caller from `from` dials `to`; of the browsers the service rings, the one `pick`
    /// chooses (from their Client identities) answers, if any. Returns once the service has
    /// answered the call and the browsers have rung.
    ///
    /// # Errors
    /// [`SandboxError`] when the service cannot be reached or answers an error (the call then
    /// ends, as on Twilio).
    pub async fn incoming_call_picked(
        &self,
        to: &PhoneNumber,
        from: &PhoneNumber,
        pick: &(dyn Fn(&[String]) -> Option<String> + Send + Sync),
    ) -> Result<Incoming, SandboxError> {
        let network = &self.0;
        let sid = network.dial_in(to, from);
        let mut params = network.call_params(&sid);
        network::set(&mut params, "CallStatus", "ringing");
        let voice_url = network.config.console.voice_url.as_str();
        let twiml = network.fetch_twiml(&sid, voice_url, &params).await?;
        network.execute(&sid, &twiml, Some(pick)).await?;
        let answered = self.answered_leg(&sid);
        Ok(Incoming {
            caller: sid,
            answered,
        })
    }

    /// The caller on `call` hangs up.
    ///
    /// # Errors
    /// [`SandboxError::UnknownCall`] or [`SandboxError::CallEnded`].
    pub async fn caller_hangs_up(&self, call: &CallSid) -> Result<(), SandboxError> {
        self.0.end_call(call, "participant_hung_up").await
    }

    /// What `client`'s browser does from now on when it is rung alone (a retrieve, a
    /// ring-back).
    pub fn set_pickup(&self, client: &ClientIdentity, pickup: Pickup) {
        self.0.mischief.set_pickup(&client.to_string(), pickup);
    }

    /// What `client`'s browser does when it is rung alone.
    pub fn pickup(&self, client: &ClientIdentity) -> Pickup {
        self.0.mischief.pickup(&client.to_string())
    }

    /// The next `times` REST requests fail with `fault`.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.0.mischief.queue(fault, times);
    }

    /// From now on, this share of REST requests fails, with a fault of any kind.
    pub fn set_fault_rate(&self, rate: f64) {
        self.0.mischief.set_fault_rate(rate);
    }

    /// Every fault and disordered callback so far, by kind.
    pub fn mischief(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.0.mischief.report()
    }

    /// A REST request as the domain's port sees it: an injected fault is the error Twilio's
    /// client would report.
    async fn fault<T, F>(&self, act: F) -> Result<T, TelephonyError>
    where
        F: std::future::Future<Output = Result<T, TelephonyError>>,
    {
        self.rest(act).await.map_err(|failure| match failure {
            RestFailure::Injected(fault) => fault.error(),
            RestFailure::Refused(error) => error,
        })
    }
}

#[async_trait]
impl Telephony for Sandbox {
    async fn find_pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError> {
        self.fault(self.pstn_leg(browser_leg)).await
    }

    async fn redirect(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: &HttpUrl,
    ) -> Result<(), TelephonyError> {
        self.fault(self.follow(call, url, Some(status_callback)))
            .await
    }

    async fn call_status(&self, call: &CallSid) -> Result<CallStatus, TelephonyError> {
        self.fault(self.status_of(call)).await
    }

    async fn child_legs(&self, caller_leg: &CallSid) -> Result<Vec<ChildLeg>, TelephonyError> {
        self.fault(self.children(caller_leg)).await
    }

    async fn hang_up(&self, call: &CallSid) -> Result<(), TelephonyError> {
        self.fault(self.end(call)).await
    }

    async fn recording(&self, url: &HttpUrl) -> Result<RecordingAudio, TelephonyError> {
        self.fault(async { self.0.recording_audio(url) }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sandbox whose console points at a port nobody listens on: its callbacks fail, which
    /// these tests do not need.
    fn sandbox() -> Sandbox {
        let nowhere = HttpUrl::parse("http://127.0.0.1:9/twilio").expect("a URL");
        Sandbox::new(SandboxConfig {
            console: Console {
                voice_url: nowhere.clone(),
                status_callback_url: nowhere,
            },
            auth_token: SecretString::from("token"),
            behaviour: Behaviour {
                disorder: Disorder::NONE,
                clock_speed: 1.0,
            },
        })
    }

    fn caller_leg(sandbox: &Sandbox) -> CallSid {
        let number = |n| PhoneNumber::parse(n).expect("a number");
        sandbox
            .0
            .dial_in(&number("+15550100100"), &number("+15550100199"))
    }

    #[tokio::test]
    async fn rest_requests_fail_as_twilios_do_and_a_stall_still_acts() {
        let sandbox = sandbox();
        let call = caller_leg(&sandbox);
        sandbox.inject(Fault::NotFound, 1);
        sandbox.inject(Fault::RateLimited, 1);
        sandbox.inject(Fault::ServerError, 1);
        assert!(matches!(
            sandbox.call_status(&call).await,
            Err(TelephonyError::NotFound)
        ));
        assert!(matches!(
            sandbox.hang_up(&call).await,
            Err(TelephonyError::NotProcessed(_))
        ));
        assert!(matches!(
            sandbox.hang_up(&call).await,
            Err(TelephonyError::OutcomeUnknown(_))
        ));
        assert_eq!(
            sandbox.call_status(&call).await.expect("answered"),
            CallStatus::InProgress,
            "none of the three acted"
        );

        // A stalled hang-up is carried out; only its answer is lost.
        sandbox.inject(Fault::Stall, 1);
        assert!(matches!(
            sandbox.hang_up(&call).await,
            Err(TelephonyError::OutcomeUnknown(_))
        ));
        assert_eq!(
            sandbox.call_status(&call).await.expect("answered"),
            CallStatus::Completed
        );
        // Twilio's 21220: a call that is over cannot be redirected.
        let url = HttpUrl::parse("http://127.0.0.1:9/twilio/park").expect("a URL");
        assert!(matches!(
            sandbox.redirect(&call, &url, &url).await,
            Err(TelephonyError::NotInProgress)
        ));
        let report = sandbox.mischief();
        for kind in ["20404", "20429", "5xx", "stall"] {
            assert_eq!(report[kind], 1, "{kind}");
        }
    }
}
