//! Telephony: what callpark asks of the phone network (Twilio, the sandbox, a test's script).

use async_trait::async_trait;
use thiserror::Error;
use time::OffsetDateTime;

use super::BoxError;
use crate::model::{Caller, Organisation};
use crate::values::{CallSid, ClientIdentity, HttpUrl, ParkedCallId, PhoneNumber};

/// The caller's leg of a call, as the telephony provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PstnLeg {
    /// The caller's leg.
    pub sid: CallSid,
    /// Who is calling.
    pub caller: Caller,
    /// The number the caller dialled, for a call that came in.
    pub dialled: Option<PhoneNumber>,
    /// The agent's browser on the call (the Client it rang, or that placed it), if any.
    pub client: Option<ClientIdentity>,
    /// When the caller's call began, if the telephony says.
    pub started_at: Option<OffsetDateTime>,
}

impl PstnLeg {
    /// Whether the call is `org`'s: it came in on one of its numbers, or one of its agents'
    /// browsers is on it. Only then may an agent of `org` park it.
    pub fn belongs_to(&self, org: &Organisation) -> bool {
        self.dialled
            .as_ref()
            .is_some_and(|n| org.numbers.contains(n))
            || self.client.as_ref().is_some_and(|c| c.org() == &org.slug)
    }
}

/// A child leg of a caller's leg (an agent's browser it dials), and the leg's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildLeg {
    /// The child leg.
    pub sid: CallSid,
    /// Its status now.
    pub status: CallStatus,
}

/// A call's status as the telephony provider reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    /// Waiting to be placed.
    Queued,
    /// Being placed.
    Initiated,
    /// Ringing.
    Ringing,
    /// Answered and connected.
    InProgress,
    /// Ended after being answered.
    Completed,
    /// The called party was busy.
    Busy,
    /// Could not be placed.
    Failed,
    /// Nobody answered.
    NoAnswer,
    /// Ended before it was answered.
    Canceled,
}

impl CallStatus {
    /// The call has ended, for whatever reason.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

/// Why a telephony request failed.
#[derive(Debug, Error)]
pub enum TelephonyError {
    /// The call exists but is not in progress (Twilio 21220): the caller is gone.
    #[error("the call is not in progress")]
    NotInProgress,
    /// No such call (Twilio 20404).
    #[error("the call was not found")]
    NotFound,
    /// The provider rejected our credentials (Twilio 20003): nothing was done.
    #[error("the telephony provider rejected the credentials")]
    CredentialsRejected,
    /// The provider did not act on the request (rate limited past our retries, refused it, or
    /// could not be reached before it was sent): nothing was done.
    #[error("the telephony provider did not process the request")]
    NotProcessed(#[source] BoxError),
    /// The request may or may not have taken effect (a timeout or server error on an update):
    /// keep the state and reconcile by fetching the call.
    #[error("the outcome of the telephony request is unknown")]
    OutcomeUnknown(#[source] BoxError),
}

/// What callpark asks of the telephony provider.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Telephony: Send + Sync {
    /// Finds the caller's (PSTN) leg of an agent's browser leg: the browser leg's parent, or for
    /// a call the browser placed itself, its in-progress child.
    ///
    /// # Errors
    /// [`TelephonyError::NotFound`] when the browser leg does not exist or has no caller's leg;
    /// the transport errors otherwise.
    async fn find_pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError>;

    /// Redirects a live call to the TwiML at `url` (fetched with POST), and has the call's
    /// status reported to `status_callback` from now on. Never sends inline TwiML.
    ///
    /// # Errors
    /// [`TelephonyError::NotInProgress`] when the caller is gone, [`TelephonyError::NotFound`]
    /// when the provider does not find the call; [`TelephonyError::OutcomeUnknown`] when the
    /// redirect may have happened.
    async fn redirect(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: &HttpUrl,
    ) -> Result<(), TelephonyError>;

    /// Fetches a call's current status.
    ///
    /// # Errors
    /// [`TelephonyError::NotFound`] for an unknown call; transport errors otherwise.
    async fn call_status(&self, call: &CallSid) -> Result<CallStatus, TelephonyError>;

    /// The child legs of a caller's leg that have not ended: the agents' legs it is dialling
    /// (queued, ringing) or connected to (in progress). Used to learn whether a retrieve was
    /// answered, or still rings, when its callbacks were lost.
    ///
    /// # Errors
    /// Transport errors.
    async fn child_legs(&self, caller_leg: &CallSid) -> Result<Vec<ChildLeg>, TelephonyError>;

    /// Ends a call.
    ///
    /// # Errors
    /// As [`Telephony::redirect`].
    async fn hang_up(&self, call: &CallSid) -> Result<(), TelephonyError>;

    /// The audio of a recording the provider made (a caller's voicemail), fetched with the
    /// account's credentials so that it can be handed to an agent's browser, which never
    /// sees them. A telephony that keeps no recordings need not implement it: by default
    /// none is found.
    ///
    /// # Errors
    /// [`TelephonyError::NotFound`] for a recording it does not have (or that is not its
    /// own); transport errors.
    async fn recording(&self, _url: &HttpUrl) -> Result<RecordingAudio, TelephonyError> {
        Err(TelephonyError::NotFound)
    }
}

/// A recording's audio, as the telephony provider serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingAudio {
    /// Its media type (`audio/mpeg`, `audio/wav`).
    pub media_type: String,
    /// The audio.
    pub bytes: Vec<u8>,
}

/// The URLs the service hands to the telephony provider. The front end that serves them
/// implements this, so the domain knows no routes.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait WebhookUrls: Send + Sync {
    /// TwiML that announces and puts the caller into the parked call's conference.
    fn park(&self, id: ParkedCallId) -> HttpUrl;
    /// TwiML that connects the caller to the retrieving agent (or rings back the parker).
    fn retrieve(&self, id: ParkedCallId) -> HttpUrl;
    /// TwiML that records a voicemail.
    fn voicemail(&self, id: ParkedCallId) -> HttpUrl;
    /// Where the caller's leg reports its status (a hang-up).
    fn call_status(&self) -> HttpUrl;
}
