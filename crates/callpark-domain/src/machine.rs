//! The parked-call state machine: a pure function from (record, signal) to the next record, the
//! event to publish and the telephony effect to carry out. The service executes; this decides.
//!
//! ```text
//!             claim slot                redirect accepted
//!   (free) ───────────────▶ Parking ──────────────────────▶ Parked ◀──────────────┐
//!                             │  redirect refused             │  retrieve (CAS)  │ agent did not answer
//!                             ▼                               ▼                  │
//!                           Failed                         Retrieving ───────────┘
//!                                                             │ agent answered
//!    caller hangs up in Parking / Parked / Retrieving         ▼
//!    ─────────────▶ Abandoned                              Retrieved
//!    deadline passes in Parked ─▶ Retrieving(ring-back) ─▶ no answer ─▶ Voicemail
//! ```

use std::fmt;
use std::time::Duration;

use thiserror::Error;
use time::OffsetDateTime;

use crate::events::LotEventKind;
use crate::model::{ParkedCall, Retrieval};
use crate::values::{AgentIdentity, ConferenceSid};

/// Where a parked call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParkState {
    /// Slot claimed; the redirect into the conference is on its way.
    Parking,
    /// The caller is in the conference, hearing hold music.
    Parked,
    /// The caller is on the way out of the slot: being connected to an agent (a retrieve or a
    /// ring-back), or sent to voicemail after the deadline.
    Retrieving,
    /// Terminal: an agent answered.
    Retrieved,
    /// Terminal: the caller hung up.
    Abandoned,
    /// Terminal: the call could not be parked (it never reached the conference).
    Failed,
    /// Terminal: the caller reached voicemail after the deadline.
    Voicemail,
}

impl ParkState {
    pub const ALL: [Self; 7] = [
        Self::Parking,
        Self::Parked,
        Self::Retrieving,
        Self::Retrieved,
        Self::Abandoned,
        Self::Failed,
        Self::Voicemail,
    ];

    pub fn is_terminal(self) -> bool {
        !self.occupies_slot()
    }

    /// A slot is occupied while its parked call is parking, parked or being retrieved.
    pub fn occupies_slot(self) -> bool {
        matches!(self, Self::Parking | Self::Parked | Self::Retrieving)
    }

    /// The lowercase name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parking => "parking",
            Self::Parked => "parked",
            Self::Retrieving => "retrieving",
            Self::Retrieved => "retrieved",
            Self::Abandoned => "abandoned",
            Self::Failed => "failed",
            Self::Voicemail => "voicemail",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

impl fmt::Display for ParkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a redirect of the caller's leg did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Twilio says the call is not in progress, or does not exist: the caller is gone.
    CallerGone,
    /// Twilio did not act on the request (credentials, rate limit, unavailable): the caller is
    /// where it was.
    NotProcessed,
}

/// What the deadline does, decided by the service from the organisation's timeout action and
/// whether the parker can take a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TimeoutRoute {
    Ringback(AgentIdentity),
    Voicemail,
}

/// How a `<Dial>` to an agent's browser ended (its `action` callback's `DialCallStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialOutcome {
    /// `answered` or `completed`: the agent took the call.
    Answered,
    /// `no-answer`, `busy`, `failed` or `canceled`.
    NotAnswered,
}

/// Everything that can happen to a parked call: agents' commands and Twilio's signals.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Twilio accepted the redirect of the caller's leg.
    RedirectAccepted,
    /// Twilio refused the redirect.
    RedirectRefused(Refusal),
    /// The redirect timed out or failed on the server: it may or may not have happened.
    RedirectOutcomeUnknown,
    /// The caller joined the conference (or it started): Twilio told us the conference SID.
    ConferenceJoined(ConferenceSid),
    /// The caller hung up (call status `completed` and friends, or `participant_hung_up`).
    CallerHungUp,
    /// The caller left the conference because we redirected it, or the conference ended after
    /// that: expected, not an abandonment.
    LeftByRedirect,
    /// An agent asked to retrieve the call.
    RetrieveRequested(AgentIdentity),
    /// The parked call's deadline passed.
    DeadlinePassed(TimeoutRoute),
    /// The agent's browser answered (the `<Client>` status callback `answered`).
    DialAnswered,
    /// The `<Dial>` to the agent ended (its `action` callback).
    DialEnded(DialOutcome),
}

/// The telephony work a transition asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Redirect the caller's leg to the TwiML that dials the retrieving agent.
    RingAgent,
    /// Redirect the caller's leg to the voicemail TwiML.
    SendToVoicemail,
}

/// A change of a parked call: the record as it must be stored, the event to publish, and the
/// telephony effect to carry out once it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub next: ParkedCall,
    pub event: LotEventKind,
    pub effect: Option<Effect>,
}

/// The outcome of applying a signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The record is in a terminal state: late or duplicate signals change nothing.
    Absorbed,
    /// The record is live, and the signal needs nothing of it (an expected or stale signal).
    Unchanged,
    Moved(Box<Move>),
}

/// A command that the parked call's state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum TransitionError {
    #[error("the call is still being parked")]
    NotYetParked,
    #[error("the call is already being retrieved")]
    AlreadyRetrieving,
    #[error("the parked call has ended ({0})")]
    Ended(ParkState),
}

/// What a transition needs besides the record: the time, and the organisation's park time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionContext {
    pub now: OffsetDateTime,
    pub max_park: Duration,
}

/// Applies `signal` to `call`.
///
/// # Errors
/// [`TransitionError`] for a retrieve the state does not allow; Twilio's signals never fail.
pub fn transition(
    call: &ParkedCall,
    signal: &Signal,
    ctx: TransitionContext,
) -> Result<Step, TransitionError> {
    use ParkState as S;
    use Signal as G;

    let moved = |state: ParkState, event: LotEventKind| {
        let mut next = call.clone();
        next.state = state;
        next.state_changed_at = ctx.now;
        if state.is_terminal() {
            next.ended_at = Some(ctx.now);
            next.deadline = None;
        }
        Move {
            next,
            event,
            effect: None,
        }
    };
    let parked_again = |event: LotEventKind| {
        let mut m = moved(S::Parked, event);
        m.next.deadline = Some(ctx.now + ctx.max_park);
        m
    };

    let step = match (call.state, signal) {
        (S::Retrieved | S::Abandoned | S::Failed | S::Voicemail, G::RetrieveRequested(_)) => {
            return Err(TransitionError::Ended(call.state));
        }
        (S::Retrieved | S::Abandoned | S::Failed | S::Voicemail, _) => return Ok(Step::Absorbed),

        (S::Parking, G::RedirectAccepted) => Some(parked_again(LotEventKind::Updated)),
        // The caller is on its way to voicemail: Twilio has taken it there.
        (S::Retrieving, G::RedirectAccepted) if call.retrieval == Some(Retrieval::ToVoicemail) => {
            Some(moved(S::Voicemail, LotEventKind::Voicemail))
        }
        (S::Parked | S::Retrieving, G::RedirectAccepted) => None,

        (S::Parking, G::RedirectRefused(_)) => Some(moved(S::Failed, LotEventKind::Failed)),
        (S::Parked | S::Retrieving, G::RedirectRefused(Refusal::CallerGone)) => {
            Some(moved(S::Abandoned, LotEventKind::Abandoned))
        }
        (S::Retrieving, G::RedirectRefused(Refusal::NotProcessed)) => {
            let mut m = parked_again(LotEventKind::Returned);
            m.next.retrieval = None;
            Some(m)
        }
        (S::Parked, G::RedirectRefused(Refusal::NotProcessed)) => None,

        (_, G::RedirectOutcomeUnknown) => None,

        (S::Parking, G::ConferenceJoined(sid)) => {
            let mut m = parked_again(LotEventKind::Updated);
            m.next.conference_sid = Some(sid.clone());
            Some(m)
        }
        (S::Parked | S::Retrieving, G::ConferenceJoined(sid)) => {
            (call.conference_sid.as_ref() != Some(sid)).then(|| {
                let mut m = moved(call.state, LotEventKind::Updated);
                m.next.state_changed_at = call.state_changed_at;
                m.next.conference_sid = Some(sid.clone());
                m
            })
        }

        (_, G::CallerHungUp) => Some(moved(S::Abandoned, LotEventKind::Abandoned)),

        (_, G::LeftByRedirect) => None,

        (S::Parking, G::RetrieveRequested(_)) => return Err(TransitionError::NotYetParked),
        (S::Retrieving, G::RetrieveRequested(_)) => {
            return Err(TransitionError::AlreadyRetrieving);
        }
        (S::Parked, G::RetrieveRequested(agent)) => {
            let mut m = moved(S::Retrieving, LotEventKind::Retrieving);
            m.next.deadline = None;
            m.next.retrieval = Some(Retrieval::ByAgent(agent.clone()));
            m.effect = Some(Effect::RingAgent);
            Some(m)
        }

        (S::Parked, G::DeadlinePassed(route)) => Some(match route {
            TimeoutRoute::Ringback(parker) => {
                let mut m = moved(S::Retrieving, LotEventKind::TimedOut);
                m.next.deadline = None;
                m.next.retrieval = Some(Retrieval::Ringback(parker.clone()));
                m.effect = Some(Effect::RingAgent);
                m
            }
            // The slot is held until Twilio accepts the redirect: if it refuses, the caller
            // is back in the lot, not lost in a conference nobody sees.
            TimeoutRoute::Voicemail => {
                let mut m = moved(S::Retrieving, LotEventKind::TimedOut);
                m.next.deadline = None;
                m.next.retrieval = Some(Retrieval::ToVoicemail);
                m.effect = Some(Effect::SendToVoicemail);
                m
            }
        }),
        (S::Parking | S::Retrieving, G::DeadlinePassed(_)) => None,

        // No dial is ringing on the way to voicemail.
        (S::Retrieving, G::DialAnswered | G::DialEnded(DialOutcome::Answered))
            if call.retrieval == Some(Retrieval::ToVoicemail) =>
        {
            None
        }
        (S::Retrieving, G::DialAnswered | G::DialEnded(DialOutcome::Answered)) => {
            Some(moved(S::Retrieved, LotEventKind::Retrieved))
        }
        (S::Retrieving, G::DialEnded(DialOutcome::NotAnswered)) => Some(match call.retrieval {
            Some(Retrieval::Ringback(_) | Retrieval::ToVoicemail) => {
                moved(S::Voicemail, LotEventKind::Voicemail)
            }
            _ => {
                let mut m = parked_again(LotEventKind::Returned);
                m.next.retrieval = None;
                m
            }
        }),
        (S::Parking | S::Parked, G::DialAnswered | G::DialEnded(_)) => None,
    };
    Ok(step.map_or(Step::Unchanged, |m| Step::Moved(Box::new(m))))
}
