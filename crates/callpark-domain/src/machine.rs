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
//!    recording ready in Voicemail ─▶ Voicemail (with its recording)
//! ```

use std::fmt;
use std::time::Duration;

use thiserror::Error;
use time::OffsetDateTime;

use crate::events::LotEventKind;
use crate::model::{ParkedCall, Retrieval, VoicemailHandled};
use crate::values::{AgentIdentity, ConferenceSid, HttpUrl};

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
    /// Every state, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::Parking,
        Self::Parked,
        Self::Retrieving,
        Self::Retrieved,
        Self::Abandoned,
        Self::Failed,
        Self::Voicemail,
    ];

    /// The parked call is over (retrieved, abandoned, failed, voicemail): its slot is free.
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
    /// Ring the agent who parked it.
    Ringback(AgentIdentity),
    /// Send the caller to voicemail.
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
    /// The agent's browser answered (the `<Client>` status callback `answered`), in the
    /// caller's `attempt`-th time out of the lot (see [`ParkedCall::attempt`]): an earlier
    /// attempt's answer changes nothing.
    DialAnswered {
        /// The attempt the callback's URL was handed out for.
        attempt: u32,
    },
    /// The `<Dial>` to the agent ended (its `action` callback), in the `attempt`-th time out of
    /// the lot: an earlier attempt's result changes nothing.
    DialEnded {
        /// The attempt the callback's URL was handed out for.
        attempt: u32,
        /// How the dial ended.
        outcome: DialOutcome,
    },
    /// Reconciliation found none of the `attempt`-th dial's agent legs connected or ringing,
    /// with the caller still in progress: the dial is over unanswered, and no `<Dial>` action
    /// waits for TwiML, so the caller is wherever Twilio last put it. A retrieve's caller goes
    /// back to the lot; a ring-back's is redirected to voicemail, its slot held until Twilio
    /// accepts (a [`Self::DialEnded`] can answer the voicemail TwiML itself, this cannot).
    DialLapsed {
        /// The attempt whose legs were looked at.
        attempt: u32,
    },
    /// The caller's voicemail recording is ready at this URL.
    RecordingAvailable(HttpUrl),
    /// This agent took care of the voicemail.
    VoicemailHandled(AgentIdentity),
}

impl Signal {
    /// Whether a signal that lost its compare-and-set is decided again on the record as it is
    /// now. A deadline is not: whoever changed the record meanwhile (another instance firing
    /// it, the caller hanging up) made it not this sweep's to fire, and a record back in the
    /// lot has a deadline of its own.
    pub(crate) fn retried_after_lost_race(&self) -> bool {
        !matches!(self, Self::DeadlinePassed(_))
    }
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
    /// The record as it must be stored.
    pub next: ParkedCall,
    /// The event the store writes with it.
    pub event: LotEventKind,
    /// The telephony work to carry out once the record is stored.
    pub effect: Option<Effect>,
}

/// The outcome of applying a signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The record is in a terminal state: late or duplicate signals change nothing.
    Absorbed,
    /// The record is live, and the signal needs nothing of it (an expected or stale signal).
    Unchanged,
    /// The record changes, as the move says.
    Moved(Box<Move>),
}

/// A command that the parked call's state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum TransitionError {
    #[error("the call is still being parked")]
    /// A retrieve of a call still being parked.
    NotYetParked,
    #[error("the call is already being retrieved")]
    /// A retrieve of a call another retrieve (or a ring-back) is moving.
    AlreadyRetrieving,
    #[error("the parked call has ended ({0})")]
    /// A retrieve of a call in a terminal state.
    Ended(ParkState),
}

/// What a transition needs besides the record: the time, and the organisation's park time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionContext {
    /// The time of the transition.
    pub now: OffsetDateTime,
    /// How long a call may stay parked before its deadline fires.
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
    let from = Before { call, ctx };
    let moved = match call.state {
        ParkState::Parking => from.parking(signal)?,
        ParkState::Parked => from.parked(signal),
        ParkState::Retrieving => from.retrieving(signal)?,
        ParkState::Voicemail => return from.voicemail(signal),
        ParkState::Retrieved | ParkState::Abandoned | ParkState::Failed => {
            return from.ended(signal);
        }
    };
    Ok(moved.map_or(Step::Unchanged, |m| Step::Moved(Box::new(m))))
}

/// The record a transition starts from, and what it needs besides: one method per state, each
/// answering every signal (`None`: the signal needs nothing of the record).
struct Before<'a> {
    call: &'a ParkedCall,
    ctx: TransitionContext,
}

impl Before<'_> {
    fn parking(&self, signal: &Signal) -> Result<Option<Move>, TransitionError> {
        Ok(match signal {
            Signal::RedirectAccepted => Some(self.parked_again(LotEventKind::Updated)),
            Signal::RedirectRefused(_) => Some(self.ends(ParkState::Failed, LotEventKind::Failed)),
            Signal::ConferenceJoined(sid) => {
                let mut m = self.parked_again(LotEventKind::Updated);
                m.next.conference_sid = Some(sid.clone());
                Some(m)
            }
            Signal::CallerHungUp => Some(self.abandoned()),
            Signal::RetrieveRequested(_) => return Err(TransitionError::NotYetParked),
            Signal::RedirectOutcomeUnknown
            | Signal::LeftByRedirect
            | Signal::DeadlinePassed(_)
            | Signal::DialAnswered { .. }
            | Signal::DialEnded { .. }
            | Signal::DialLapsed { .. }
            | Signal::RecordingAvailable(_)
            | Signal::VoicemailHandled(_) => None,
        })
    }

    fn parked(&self, signal: &Signal) -> Option<Move> {
        match signal {
            Signal::RedirectRefused(Refusal::CallerGone) | Signal::CallerHungUp => {
                Some(self.abandoned())
            }
            Signal::ConferenceJoined(sid) => self.conference_changed(sid),
            Signal::RetrieveRequested(agent) => Some(self.leaves_lot(
                LotEventKind::Retrieving,
                Retrieval::ByAgent(agent.clone()),
                Effect::RingAgent,
            )),
            Signal::DeadlinePassed(TimeoutRoute::Ringback(parker)) => Some(self.leaves_lot(
                LotEventKind::TimedOut,
                Retrieval::Ringback(parker.clone()),
                Effect::RingAgent,
            )),
            // The slot is held until Twilio accepts the redirect: if it refuses, the caller
            // is back in the lot, not lost in a conference nobody sees.
            Signal::DeadlinePassed(TimeoutRoute::Voicemail) => Some(self.leaves_lot(
                LotEventKind::TimedOut,
                Retrieval::ToVoicemail,
                Effect::SendToVoicemail,
            )),
            Signal::RedirectAccepted
            | Signal::RedirectRefused(Refusal::NotProcessed)
            | Signal::RedirectOutcomeUnknown
            | Signal::LeftByRedirect
            | Signal::DialAnswered { .. }
            | Signal::DialEnded { .. }
            | Signal::DialLapsed { .. }
            | Signal::RecordingAvailable(_)
            | Signal::VoicemailHandled(_) => None,
        }
    }

    fn retrieving(&self, signal: &Signal) -> Result<Option<Move>, TransitionError> {
        let to_voicemail = self.call.retrieval == Some(Retrieval::ToVoicemail);
        Ok(match signal {
            // The caller is on its way to voicemail: Twilio has taken it there.
            Signal::RedirectAccepted if to_voicemail => Some(self.reaches_voicemail()),
            Signal::RedirectRefused(Refusal::CallerGone) | Signal::CallerHungUp => {
                Some(self.abandoned())
            }
            Signal::RedirectRefused(Refusal::NotProcessed) => Some(self.returned()),
            Signal::ConferenceJoined(sid) => self.conference_changed(sid),
            Signal::RetrieveRequested(_) => return Err(TransitionError::AlreadyRetrieving),
            // A late or replayed callback of an earlier time out of the lot: this attempt is
            // not its business (the caller went back to the lot since, and left it again).
            Signal::DialAnswered { attempt }
            | Signal::DialEnded { attempt, .. }
            | Signal::DialLapsed { attempt }
                if *attempt != self.call.attempt =>
            {
                None
            }
            Signal::DialLapsed { .. } => match self.call.retrieval {
                Some(Retrieval::Ringback(_)) => Some(self.on_the_way_to_voicemail()),
                Some(Retrieval::ToVoicemail) => None,
                Some(Retrieval::ByAgent(_)) | None => Some(self.returned()),
            },
            // No dial is ringing on the way to voicemail.
            Signal::DialAnswered { .. }
            | Signal::DialEnded {
                outcome: DialOutcome::Answered,
                ..
            } if to_voicemail => None,
            Signal::DialAnswered { .. }
            | Signal::DialEnded {
                outcome: DialOutcome::Answered,
                ..
            } => Some(self.ends(ParkState::Retrieved, LotEventKind::Retrieved)),
            Signal::DialEnded {
                outcome: DialOutcome::NotAnswered,
                ..
            } => Some(match self.call.retrieval {
                Some(Retrieval::Ringback(_) | Retrieval::ToVoicemail) => self.reaches_voicemail(),
                _ => self.returned(),
            }),
            Signal::RedirectAccepted
            | Signal::RedirectOutcomeUnknown
            | Signal::LeftByRedirect
            | Signal::DeadlinePassed(_)
            | Signal::RecordingAvailable(_)
            | Signal::VoicemailHandled(_) => None,
        })
    }

    /// A caller who reached voicemail leaves a recording: stored with the record, once per
    /// recording; an agent takes care of it, once. Everything else is late or duplicate.
    fn voicemail(&self, signal: &Signal) -> Result<Step, TransitionError> {
        match signal {
            Signal::VoicemailHandled(agent) if self.call.voicemail_handled.is_none() => {
                let mut next = self.call.clone();
                next.voicemail_handled = Some(VoicemailHandled {
                    by: agent.clone(),
                    at: self.ctx.now,
                });
                Ok(Step::Moved(Box::new(Move {
                    next,
                    event: LotEventKind::VoicemailHandled,
                    effect: None,
                })))
            }
            Signal::RecordingAvailable(url) if self.call.recording_url.as_ref() != Some(url) => {
                let mut next = self.call.clone();
                next.recording_url = Some(url.clone());
                Ok(Step::Moved(Box::new(Move {
                    next,
                    event: LotEventKind::VoicemailRecorded,
                    effect: None,
                })))
            }
            _ => self.ended(signal),
        }
    }

    /// A terminal record: late or duplicate signals change nothing; a retrieve is refused.
    fn ended(&self, signal: &Signal) -> Result<Step, TransitionError> {
        match signal {
            Signal::RetrieveRequested(_) => Err(TransitionError::Ended(self.call.state)),
            _ => Ok(Step::Absorbed),
        }
    }

    fn moved(&self, state: ParkState, event: LotEventKind) -> Move {
        let mut next = self.call.clone();
        next.state = state;
        next.state_changed_at = self.ctx.now;
        Move {
            next,
            event,
            effect: None,
        }
    }

    /// A move to a terminal state: it ends now and has no deadline.
    fn ends(&self, state: ParkState, event: LotEventKind) -> Move {
        let mut m = self.moved(state, event);
        m.next.ended_at = Some(self.ctx.now);
        m.next.deadline = None;
        m
    }

    fn abandoned(&self) -> Move {
        self.ends(ParkState::Abandoned, LotEventKind::Abandoned)
    }

    fn reaches_voicemail(&self) -> Move {
        self.ends(ParkState::Voicemail, LotEventKind::Voicemail)
    }

    /// Back in the lot, with a fresh deadline: the organisation's park time from now, but never
    /// so late that Twilio's four-hour limit on the call would cut its ring-back or voicemail
    /// short (a deadline already due then fires at the next sweep).
    fn parked_again(&self, event: LotEventKind) -> Move {
        let mut m = self.moved(ParkState::Parked, event);
        let latest = self.call.latest_deadline().max(self.ctx.now);
        m.next.deadline = Some((self.ctx.now + self.ctx.max_park).min(latest));
        m
    }

    /// A ring-back nobody answered whose caller Twilio still holds where it was: redirected to
    /// voicemail, and the slot stays held until Twilio accepts (refused, the caller is back in
    /// the lot). Still the same time out of the lot, so it keeps its attempt and its start.
    fn on_the_way_to_voicemail(&self) -> Move {
        let mut m = self.moved(ParkState::Retrieving, LotEventKind::Updated);
        m.next.state_changed_at = self.call.state_changed_at;
        m.next.retrieval = Some(Retrieval::ToVoicemail);
        m.effect = Some(Effect::SendToVoicemail);
        m
    }

    /// Back in the lot after a retrieve that did not connect.
    fn returned(&self) -> Move {
        let mut m = self.parked_again(LotEventKind::Returned);
        m.next.retrieval = None;
        m
    }

    /// Out of the lot: the caller's leg is being moved (to an agent, or to voicemail).
    fn leaves_lot(&self, event: LotEventKind, retrieval: Retrieval, effect: Effect) -> Move {
        let mut m = self.moved(ParkState::Retrieving, event);
        m.next.deadline = None;
        if matches!(retrieval, Retrieval::Ringback(_)) {
            m.next.ringbacks = self.call.ringbacks.saturating_add(1);
        }
        m.next.retrieval = Some(retrieval);
        m.next.attempt = self.call.attempt.saturating_add(1);
        m.effect = Some(effect);
        m
    }

    /// The caller is in a conference other than the one recorded: a detail, not a new state.
    fn conference_changed(&self, sid: &ConferenceSid) -> Option<Move> {
        (self.call.conference_sid.as_ref() != Some(sid)).then(|| {
            let mut m = self.moved(self.call.state, LotEventKind::Updated);
            m.next.state_changed_at = self.call.state_changed_at;
            m.next.conference_sid = Some(sid.clone());
            m
        })
    }
}
