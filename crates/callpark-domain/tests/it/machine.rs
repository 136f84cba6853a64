//! The parked-call state machine, as a table: one row per (state, signal) pair, with the
//! outcome each must have. `the_table_covers_every_pair_once` fails when a state or a signal
//! (or a payload variant) is added without rows; `every_row_holds` checks each row against
//! [`transition`], comparing the whole next record.

use std::time::Duration;

use callpark_domain::testkit::{agent_identity, call_sid, caller, conference_sid, epoch, org_slug};
use callpark_domain::{
    DialOutcome, Effect, HttpUrl, LotEventKind, ParkState, ParkedCall, ParkedCallId, Refusal,
    Retrieval, Signal, SlotNumber, Step, TimeoutRoute, TransitionContext, TransitionError,
    VoicemailHandled, transition,
};
use time::OffsetDateTime;

// ----- the records a row starts from ---------------------------------------------------------

/// A state, and for `Retrieving` how it was entered (it decides what an unanswered dial does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Parking,
    Parked,
    /// An agent pressed "Retrieve".
    RetrievingByAgent,
    /// The deadline rang the parker back.
    RetrievingRingback,
    /// The deadline is sending the caller to voicemail.
    RetrievingToVoicemail,
    Retrieved,
    Abandoned,
    Failed,
    Voicemail,
}

impl Start {
    const ALL: [Self; 9] = [
        Self::Parking,
        Self::Parked,
        Self::RetrievingByAgent,
        Self::RetrievingRingback,
        Self::RetrievingToVoicemail,
        Self::Retrieved,
        Self::Abandoned,
        Self::Failed,
        Self::Voicemail,
    ];

    fn state(self) -> ParkState {
        match self {
            Self::Parking => ParkState::Parking,
            Self::Parked => ParkState::Parked,
            Self::RetrievingByAgent | Self::RetrievingRingback | Self::RetrievingToVoicemail => {
                ParkState::Retrieving
            }
            Self::Retrieved => ParkState::Retrieved,
            Self::Abandoned => ParkState::Abandoned,
            Self::Failed => ParkState::Failed,
            Self::Voicemail => ParkState::Voicemail,
        }
    }

    /// The ways a state can be entered that the table tells apart. Exhaustive: a new state
    /// does not compile until it has fixtures (and so rows).
    fn of(state: ParkState) -> &'static [Self] {
        match state {
            ParkState::Parking => &[Self::Parking],
            ParkState::Parked => &[Self::Parked],
            ParkState::Retrieving => &[
                Self::RetrievingByAgent,
                Self::RetrievingRingback,
                Self::RetrievingToVoicemail,
            ],
            ParkState::Retrieved => &[Self::Retrieved],
            ParkState::Abandoned => &[Self::Abandoned],
            ParkState::Failed => &[Self::Failed],
            ParkState::Voicemail => &[Self::Voicemail],
        }
    }
}

fn parker() -> callpark_domain::AgentIdentity {
    agent_identity("alice")
}

fn retriever() -> callpark_domain::AgentIdentity {
    agent_identity("bob")
}

fn at(secs: u64) -> OffsetDateTime {
    epoch() + Duration::from_secs(secs)
}

const MAX_PARK: Duration = Duration::from_secs(300);
/// How many times a fixture's caller has left the lot: the dial signals of a row are this
/// attempt's.
const ATTEMPT: u32 = 2;
/// When the transition happens; the record last changed at `at(10)`.
const NOW: u64 = 100;

fn ctx() -> TransitionContext {
    TransitionContext {
        now: at(NOW),
        max_park: MAX_PARK,
    }
}

/// A record in the fixture's state, as the service would have stored it, with the conference
/// SID the row asks for.
fn record(from: Start, sid: Option<u128>) -> ParkedCall {
    let mut call = ParkedCall {
        id: ParkedCallId::from_uuid(uuid_of(7)),
        org: org_slug("acme"),
        slot: SlotNumber::new(2).expect("a slot"),
        state: from.state(),
        pstn_call: call_sid(1),
        caller: caller(42),
        parked_by: parker(),
        parked_at: at(0),
        call_started_at: at(0) - Duration::from_secs(60),
        conference_sid: sid.map(conference_sid),
        deadline: None,
        retrieval: None,
        attempt: ATTEMPT,
        ringbacks: 0,
        state_changed_at: at(10),
        ended_at: None,
        recording_url: None,
        voicemail_handled: None,
        version: 3,
    };
    match from {
        Start::Parking | Start::Failed | Start::Abandoned => {}
        Start::Parked => call.deadline = Some(at(10) + MAX_PARK),
        Start::RetrievingByAgent | Start::Retrieved => {
            call.retrieval = Some(Retrieval::ByAgent(retriever()));
        }
        Start::RetrievingRingback | Start::Voicemail => {
            call.retrieval = Some(Retrieval::Ringback(parker()));
        }
        Start::RetrievingToVoicemail => call.retrieval = Some(Retrieval::ToVoicemail),
    }
    if from.state().is_terminal() {
        call.ended_at = Some(at(10));
    }
    call
}

fn recording() -> HttpUrl {
    HttpUrl::parse("https://api.twilio.com/recordings/RE1").expect("a URL")
}

fn uuid_of(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

// ----- the signals ---------------------------------------------------------------------------

/// The conference SID a record has before `ConferenceJoined`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// None yet.
    Missing,
    /// The one the signal carries (a duplicate join).
    Same,
    /// Another one (the caller is back in a new conference after a return).
    Other,
}

/// Every signal, with each payload variant that can change the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    RedirectAccepted,
    RefusedCallerGone,
    RefusedNotProcessed,
    RedirectOutcomeUnknown,
    Joined(Prev),
    CallerHungUp,
    LeftByRedirect,
    /// `bob` asks to retrieve.
    Retrieve,
    /// The deadline rings back `alice`, the parker.
    DeadlineRingback,
    DeadlineVoicemail,
    DialAnswered,
    DialEndedAnswered,
    DialEndedNotAnswered,
    /// Reconciliation found no leg of the attempt's dial connected or ringing.
    DialLapsed,
    /// A voicemail recording is ready, and the record has none yet.
    RecordingNew,
    /// The same recording again (a repeated callback).
    RecordingRepeated,
    /// An agent takes care of the voicemail.
    Handled,
}

impl On {
    const ALL: [Self; 19] = [
        Self::RedirectAccepted,
        Self::RefusedCallerGone,
        Self::RefusedNotProcessed,
        Self::RedirectOutcomeUnknown,
        Self::Joined(Prev::Missing),
        Self::Joined(Prev::Same),
        Self::Joined(Prev::Other),
        Self::CallerHungUp,
        Self::LeftByRedirect,
        Self::Retrieve,
        Self::DeadlineRingback,
        Self::DeadlineVoicemail,
        Self::DialAnswered,
        Self::DialEndedAnswered,
        Self::DialEndedNotAnswered,
        Self::DialLapsed,
        Self::RecordingNew,
        Self::RecordingRepeated,
        Self::Handled,
    ];

    /// The recording the record has before this signal.
    fn previous_recording(self) -> Option<HttpUrl> {
        (self == Self::RecordingRepeated).then(recording)
    }

    /// The conference SID the record has before this signal, given the fixture's usual one.
    fn previous_sid(self, from: Start) -> Option<u128> {
        match self {
            Self::Joined(Prev::Missing) => None,
            Self::Joined(Prev::Same | Prev::Other) => Some(1),
            // A record has a SID once the caller reached the conference.
            _ if from == Start::Parking || from == Start::Failed => None,
            _ => Some(1),
        }
    }

    fn signal(self) -> Signal {
        match self {
            Self::RedirectAccepted => Signal::RedirectAccepted,
            Self::RefusedCallerGone => Signal::RedirectRefused(Refusal::CallerGone),
            Self::RefusedNotProcessed => Signal::RedirectRefused(Refusal::NotProcessed),
            Self::RedirectOutcomeUnknown => Signal::RedirectOutcomeUnknown,
            Self::Joined(Prev::Missing | Prev::Same) => Signal::ConferenceJoined(conference_sid(1)),
            Self::Joined(Prev::Other) => Signal::ConferenceJoined(conference_sid(2)),
            Self::CallerHungUp => Signal::CallerHungUp,
            Self::LeftByRedirect => Signal::LeftByRedirect,
            Self::Retrieve => Signal::RetrieveRequested(retriever()),
            Self::DeadlineRingback => Signal::DeadlinePassed(TimeoutRoute::Ringback(parker())),
            Self::DeadlineVoicemail => Signal::DeadlinePassed(TimeoutRoute::Voicemail),
            Self::DialAnswered => Signal::DialAnswered { attempt: ATTEMPT },
            Self::DialEndedAnswered => dial_ended(ATTEMPT, DialOutcome::Answered),
            Self::DialEndedNotAnswered => dial_ended(ATTEMPT, DialOutcome::NotAnswered),
            Self::DialLapsed => Signal::DialLapsed { attempt: ATTEMPT },
            Self::RecordingNew | Self::RecordingRepeated => Signal::RecordingAvailable(recording()),
            Self::Handled => Signal::VoicemailHandled(retriever()),
        }
    }

    /// The table's name for a signal. Exhaustive, nested payloads included: a new signal or
    /// payload variant does not compile until the table knows it.
    fn of(signal: &Signal, previous: Option<u128>, recorded: Option<&HttpUrl>) -> Self {
        match signal {
            Signal::RedirectAccepted => Self::RedirectAccepted,
            Signal::RedirectRefused(Refusal::CallerGone) => Self::RefusedCallerGone,
            Signal::RedirectRefused(Refusal::NotProcessed) => Self::RefusedNotProcessed,
            Signal::RedirectOutcomeUnknown => Self::RedirectOutcomeUnknown,
            Signal::ConferenceJoined(sid) => Self::Joined(match previous {
                None => Prev::Missing,
                Some(p) if conference_sid(p) == *sid => Prev::Same,
                Some(_) => Prev::Other,
            }),
            Signal::CallerHungUp => Self::CallerHungUp,
            Signal::LeftByRedirect => Self::LeftByRedirect,
            Signal::RetrieveRequested(_) => Self::Retrieve,
            Signal::DeadlinePassed(TimeoutRoute::Ringback(_)) => Self::DeadlineRingback,
            Signal::DeadlinePassed(TimeoutRoute::Voicemail) => Self::DeadlineVoicemail,
            Signal::DialAnswered { .. } => Self::DialAnswered,
            Signal::DialEnded {
                outcome: DialOutcome::Answered,
                ..
            } => Self::DialEndedAnswered,
            Signal::DialEnded {
                outcome: DialOutcome::NotAnswered,
                ..
            } => Self::DialEndedNotAnswered,
            Signal::DialLapsed { .. } => Self::DialLapsed,
            Signal::RecordingAvailable(url) if recorded == Some(url) => Self::RecordingRepeated,
            Signal::RecordingAvailable(_) => Self::RecordingNew,
            Signal::VoicemailHandled(_) => Self::Handled,
        }
    }
}

fn dial_ended(attempt: u32, outcome: DialOutcome) -> Signal {
    Signal::DialEnded { attempt, outcome }
}

// ----- the expected outcomes -----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    /// As it was.
    Kept,
    /// `now + max_park`: the record (re-)enters `Parked`.
    Set,
    Cleared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retrieving {
    Kept,
    Cleared,
    /// `ByAgent(bob)`, the agent who asked.
    ByAgent,
    /// `Ringback(alice)`, the parker.
    Ringback,
    /// On the way to voicemail.
    ToVoicemail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sid {
    Kept,
    /// The SID the signal carries.
    FromSignal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Changed {
    /// `state_changed_at` = now.
    Now,
    /// A detail changed, not the state: `state_changed_at` stays.
    Kept,
}

/// A move: the next record, the event and the effect.
#[derive(Debug, Clone, PartialEq, Eq)]
struct To {
    state: ParkState,
    event: LotEventKind,
    effect: Option<Effect>,
    deadline: Deadline,
    retrieval: Retrieving,
    sid: Sid,
    /// `recording_url` = the signal's.
    recorded: bool,
    /// `voicemail_handled` = the signal's agent, now.
    handled: bool,
    changed: Changed,
    /// `ended_at` = now.
    ends: bool,
}

impl To {
    const fn deadline(self, deadline: Deadline) -> Self {
        Self { deadline, ..self }
    }
    const fn retrieval(self, retrieval: Retrieving) -> Self {
        Self { retrieval, ..self }
    }
    const fn effect(self, effect: Effect) -> Self {
        Self {
            effect: Some(effect),
            ..self
        }
    }
    const fn sid_from_signal(self) -> Self {
        Self {
            sid: Sid::FromSignal,
            ..self
        }
    }
    const fn recorded(self) -> Self {
        Self {
            recorded: true,
            ..self
        }
    }
    const fn handled(self) -> Self {
        Self {
            handled: true,
            ..self
        }
    }
    const fn state_kept(self) -> Self {
        Self {
            changed: Changed::Kept,
            ..self
        }
    }
}

/// A move to a live state: only what the modifiers say changes.
const fn goes(state: ParkState, event: LotEventKind) -> To {
    To {
        state,
        event,
        effect: None,
        deadline: Deadline::Kept,
        retrieval: Retrieving::Kept,
        sid: Sid::Kept,
        recorded: false,
        handled: false,
        changed: Changed::Now,
        ends: false,
    }
}

/// A move to a terminal state: it ends now and has no deadline.
const fn ends(state: ParkState, event: LotEventKind) -> To {
    To {
        deadline: Deadline::Cleared,
        ends: true,
        ..goes(state, event)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// A terminal record: the signal is acknowledged and changes nothing.
    Absorbed,
    /// A live record the signal needs nothing of.
    Unchanged,
    Fails(TransitionError),
    Moves(To),
}

#[derive(Debug, Clone)]
struct Row {
    from: Start,
    on: On,
    outcome: Outcome,
}

const fn row(from: Start, on: On, outcome: Outcome) -> Row {
    Row { from, on, outcome }
}

const fn mv(from: Start, on: On, to: To) -> Row {
    row(from, on, Outcome::Moves(to))
}

use Deadline::{Cleared as DeadlineCleared, Set as DeadlineSet};
use Effect::{RingAgent, SendToVoicemail};
use LotEventKind as E;
use On::*;
use Outcome::{Absorbed, Unchanged};
use ParkState as S;
use Prev::{Missing, Other, Same};
use Start as F;

/// The state machine, one row per (state, signal) pair.
#[rustfmt::skip]
const TABLE: &[Row] = &[
    // ----- Parking: the redirect into the conference is on its way.
    mv(F::Parking, RedirectAccepted,                   goes(S::Parked, E::Updated).deadline(DeadlineSet)),
    mv(F::Parking, RefusedCallerGone,                  ends(S::Failed, E::Failed)),
    mv(F::Parking, RefusedNotProcessed,                ends(S::Failed, E::Failed)),
    row(F::Parking, RedirectOutcomeUnknown,            Unchanged),
    mv(F::Parking, Joined(Missing),                    goes(S::Parked, E::Updated).deadline(DeadlineSet).sid_from_signal()),
    mv(F::Parking, Joined(Same),                       goes(S::Parked, E::Updated).deadline(DeadlineSet).sid_from_signal()),
    mv(F::Parking, Joined(Other),                      goes(S::Parked, E::Updated).deadline(DeadlineSet).sid_from_signal()),
    mv(F::Parking, CallerHungUp,                       ends(S::Abandoned, E::Abandoned)),
    row(F::Parking, LeftByRedirect,                    Unchanged),
    row(F::Parking, Retrieve,                          Outcome::Fails(TransitionError::NotYetParked)),
    row(F::Parking, DeadlineRingback,                  Unchanged),
    row(F::Parking, DeadlineVoicemail,                 Unchanged),
    row(F::Parking, DialAnswered,                      Unchanged),
    row(F::Parking, DialEndedAnswered,                 Unchanged),
    row(F::Parking, DialEndedNotAnswered,              Unchanged),
    row(F::Parking, DialLapsed,                        Unchanged),
    row(F::Parking, RecordingNew,                      Unchanged),
    row(F::Parking, RecordingRepeated,                 Unchanged),
    row(F::Parking, Handled,                    Unchanged),

    // ----- Parked: in the conference, hearing hold music.
    row(F::Parked, RedirectAccepted,                   Unchanged),
    mv(F::Parked, RefusedCallerGone,                   ends(S::Abandoned, E::Abandoned)),
    row(F::Parked, RefusedNotProcessed,                Unchanged),
    row(F::Parked, RedirectOutcomeUnknown,             Unchanged),
    mv(F::Parked, Joined(Missing),                     goes(S::Parked, E::Updated).sid_from_signal().state_kept()),
    row(F::Parked, Joined(Same),                       Unchanged),
    mv(F::Parked, Joined(Other),                       goes(S::Parked, E::Updated).sid_from_signal().state_kept()),
    mv(F::Parked, CallerHungUp,                        ends(S::Abandoned, E::Abandoned)),
    row(F::Parked, LeftByRedirect,                     Unchanged),
    mv(F::Parked, Retrieve,                            goes(S::Retrieving, E::Retrieving).deadline(DeadlineCleared).retrieval(Retrieving::ByAgent).effect(RingAgent)),
    mv(F::Parked, DeadlineRingback,                    goes(S::Retrieving, E::TimedOut).deadline(DeadlineCleared).retrieval(Retrieving::Ringback).effect(RingAgent)),
    mv(F::Parked, DeadlineVoicemail,                   goes(S::Retrieving, E::TimedOut).deadline(DeadlineCleared).retrieval(Retrieving::ToVoicemail).effect(SendToVoicemail)),
    row(F::Parked, DialAnswered,                       Unchanged),
    row(F::Parked, DialEndedAnswered,                  Unchanged),
    row(F::Parked, DialEndedNotAnswered,               Unchanged),
    row(F::Parked, DialLapsed,                         Unchanged),
    row(F::Parked, RecordingNew,                       Unchanged),
    row(F::Parked, RecordingRepeated,                  Unchanged),
    row(F::Parked, Handled,                     Unchanged),

    // ----- Retrieving, because an agent asked.
    row(F::RetrievingByAgent, RedirectAccepted,        Unchanged),
    mv(F::RetrievingByAgent, RefusedCallerGone,        ends(S::Abandoned, E::Abandoned)),
    mv(F::RetrievingByAgent, RefusedNotProcessed,      goes(S::Parked, E::Returned).deadline(DeadlineSet).retrieval(Retrieving::Cleared)),
    row(F::RetrievingByAgent, RedirectOutcomeUnknown,  Unchanged),
    mv(F::RetrievingByAgent, Joined(Missing),          goes(S::Retrieving, E::Updated).sid_from_signal().state_kept()),
    row(F::RetrievingByAgent, Joined(Same),            Unchanged),
    mv(F::RetrievingByAgent, Joined(Other),            goes(S::Retrieving, E::Updated).sid_from_signal().state_kept()),
    mv(F::RetrievingByAgent, CallerHungUp,             ends(S::Abandoned, E::Abandoned)),
    row(F::RetrievingByAgent, LeftByRedirect,          Unchanged),
    row(F::RetrievingByAgent, Retrieve,                Outcome::Fails(TransitionError::AlreadyRetrieving)),
    row(F::RetrievingByAgent, DeadlineRingback,        Unchanged),
    row(F::RetrievingByAgent, DeadlineVoicemail,       Unchanged),
    mv(F::RetrievingByAgent, DialAnswered,             ends(S::Retrieved, E::Retrieved)),
    mv(F::RetrievingByAgent, DialEndedAnswered,        ends(S::Retrieved, E::Retrieved)),
    mv(F::RetrievingByAgent, DialEndedNotAnswered,     goes(S::Parked, E::Returned).deadline(DeadlineSet).retrieval(Retrieving::Cleared)),
    mv(F::RetrievingByAgent, DialLapsed,               goes(S::Parked, E::Returned).deadline(DeadlineSet).retrieval(Retrieving::Cleared)),
    row(F::RetrievingByAgent, RecordingNew,            Unchanged),
    row(F::RetrievingByAgent, RecordingRepeated,       Unchanged),
    row(F::RetrievingByAgent, Handled,          Unchanged),

    // ----- Retrieving, because the deadline rang the parker back.
    row(F::RetrievingRingback, RedirectAccepted,       Unchanged),
    mv(F::RetrievingRingback, RefusedCallerGone,       ends(S::Abandoned, E::Abandoned)),
    mv(F::RetrievingRingback, RefusedNotProcessed,     goes(S::Parked, E::Returned).deadline(DeadlineSet).retrieval(Retrieving::Cleared)),
    row(F::RetrievingRingback, RedirectOutcomeUnknown, Unchanged),
    mv(F::RetrievingRingback, Joined(Missing),         goes(S::Retrieving, E::Updated).sid_from_signal().state_kept()),
    row(F::RetrievingRingback, Joined(Same),           Unchanged),
    mv(F::RetrievingRingback, Joined(Other),           goes(S::Retrieving, E::Updated).sid_from_signal().state_kept()),
    mv(F::RetrievingRingback, CallerHungUp,            ends(S::Abandoned, E::Abandoned)),
    row(F::RetrievingRingback, LeftByRedirect,         Unchanged),
    row(F::RetrievingRingback, Retrieve,               Outcome::Fails(TransitionError::AlreadyRetrieving)),
    row(F::RetrievingRingback, DeadlineRingback,       Unchanged),
    row(F::RetrievingRingback, DeadlineVoicemail,      Unchanged),
    mv(F::RetrievingRingback, DialAnswered,            ends(S::Retrieved, E::Retrieved)),
    mv(F::RetrievingRingback, DialEndedAnswered,       ends(S::Retrieved, E::Retrieved)),
    mv(F::RetrievingRingback, DialEndedNotAnswered,    ends(S::Voicemail, E::Voicemail)),
    mv(F::RetrievingRingback, DialLapsed,              goes(S::Retrieving, E::Updated).retrieval(Retrieving::ToVoicemail).effect(SendToVoicemail).state_kept()),
    row(F::RetrievingRingback, RecordingNew,           Unchanged),
    row(F::RetrievingRingback, RecordingRepeated,      Unchanged),
    row(F::RetrievingRingback, Handled,         Unchanged),

    // ----- Retrieving, because the deadline is sending the caller to voicemail: the slot is
    //       held until Twilio takes the caller there.
    mv(F::RetrievingToVoicemail, RedirectAccepted,       ends(S::Voicemail, E::Voicemail)),
    mv(F::RetrievingToVoicemail, RefusedCallerGone,      ends(S::Abandoned, E::Abandoned)),
    mv(F::RetrievingToVoicemail, RefusedNotProcessed,    goes(S::Parked, E::Returned).deadline(DeadlineSet).retrieval(Retrieving::Cleared)),
    row(F::RetrievingToVoicemail, RedirectOutcomeUnknown, Unchanged),
    mv(F::RetrievingToVoicemail, Joined(Missing),        goes(S::Retrieving, E::Updated).sid_from_signal().state_kept()),
    row(F::RetrievingToVoicemail, Joined(Same),          Unchanged),
    mv(F::RetrievingToVoicemail, Joined(Other),          goes(S::Retrieving, E::Updated).sid_from_signal().state_kept()),
    mv(F::RetrievingToVoicemail, CallerHungUp,           ends(S::Abandoned, E::Abandoned)),
    row(F::RetrievingToVoicemail, LeftByRedirect,        Unchanged),
    row(F::RetrievingToVoicemail, Retrieve,              Outcome::Fails(TransitionError::AlreadyRetrieving)),
    row(F::RetrievingToVoicemail, DeadlineRingback,      Unchanged),
    row(F::RetrievingToVoicemail, DeadlineVoicemail,     Unchanged),
    row(F::RetrievingToVoicemail, DialAnswered,          Unchanged),
    row(F::RetrievingToVoicemail, DialEndedAnswered,     Unchanged),
    mv(F::RetrievingToVoicemail, DialEndedNotAnswered,   ends(S::Voicemail, E::Voicemail)),
    row(F::RetrievingToVoicemail, DialLapsed,            Unchanged),
    row(F::RetrievingToVoicemail, RecordingNew,          Unchanged),
    row(F::RetrievingToVoicemail, RecordingRepeated,     Unchanged),
    row(F::RetrievingToVoicemail, Handled,      Unchanged),

    // ----- Retrieved (terminal): everything is absorbed; a retrieve is refused.
    row(F::Retrieved, RedirectAccepted,                Absorbed),
    row(F::Retrieved, RefusedCallerGone,               Absorbed),
    row(F::Retrieved, RefusedNotProcessed,             Absorbed),
    row(F::Retrieved, RedirectOutcomeUnknown,          Absorbed),
    row(F::Retrieved, Joined(Missing),                 Absorbed),
    row(F::Retrieved, Joined(Same),                    Absorbed),
    row(F::Retrieved, Joined(Other),                   Absorbed),
    row(F::Retrieved, CallerHungUp,                    Absorbed),
    row(F::Retrieved, LeftByRedirect,                  Absorbed),
    row(F::Retrieved, Retrieve,                        Outcome::Fails(TransitionError::Ended(S::Retrieved))),
    row(F::Retrieved, DeadlineRingback,                Absorbed),
    row(F::Retrieved, DeadlineVoicemail,               Absorbed),
    row(F::Retrieved, DialAnswered,                    Absorbed),
    row(F::Retrieved, DialEndedAnswered,               Absorbed),
    row(F::Retrieved, DialEndedNotAnswered,            Absorbed),
    row(F::Retrieved, DialLapsed,                      Absorbed),
    row(F::Retrieved, RecordingNew,                    Absorbed),
    row(F::Retrieved, RecordingRepeated,               Absorbed),
    row(F::Retrieved, Handled,                  Absorbed),

    // ----- Abandoned (terminal).
    row(F::Abandoned, RedirectAccepted,                Absorbed),
    row(F::Abandoned, RefusedCallerGone,               Absorbed),
    row(F::Abandoned, RefusedNotProcessed,             Absorbed),
    row(F::Abandoned, RedirectOutcomeUnknown,          Absorbed),
    row(F::Abandoned, Joined(Missing),                 Absorbed),
    row(F::Abandoned, Joined(Same),                    Absorbed),
    row(F::Abandoned, Joined(Other),                   Absorbed),
    row(F::Abandoned, CallerHungUp,                    Absorbed),
    row(F::Abandoned, LeftByRedirect,                  Absorbed),
    row(F::Abandoned, Retrieve,                        Outcome::Fails(TransitionError::Ended(S::Abandoned))),
    row(F::Abandoned, DeadlineRingback,                Absorbed),
    row(F::Abandoned, DeadlineVoicemail,               Absorbed),
    row(F::Abandoned, DialAnswered,                    Absorbed),
    row(F::Abandoned, DialEndedAnswered,               Absorbed),
    row(F::Abandoned, DialEndedNotAnswered,            Absorbed),
    row(F::Abandoned, DialLapsed,                      Absorbed),
    row(F::Abandoned, RecordingNew,                    Absorbed),
    row(F::Abandoned, RecordingRepeated,               Absorbed),
    row(F::Abandoned, Handled,                  Absorbed),

    // ----- Failed (terminal).
    row(F::Failed, RedirectAccepted,                   Absorbed),
    row(F::Failed, RefusedCallerGone,                  Absorbed),
    row(F::Failed, RefusedNotProcessed,                Absorbed),
    row(F::Failed, RedirectOutcomeUnknown,             Absorbed),
    row(F::Failed, Joined(Missing),                    Absorbed),
    row(F::Failed, Joined(Same),                       Absorbed),
    row(F::Failed, Joined(Other),                      Absorbed),
    row(F::Failed, CallerHungUp,                       Absorbed),
    row(F::Failed, LeftByRedirect,                     Absorbed),
    row(F::Failed, Retrieve,                           Outcome::Fails(TransitionError::Ended(S::Failed))),
    row(F::Failed, DeadlineRingback,                   Absorbed),
    row(F::Failed, DeadlineVoicemail,                  Absorbed),
    row(F::Failed, DialAnswered,                       Absorbed),
    row(F::Failed, DialEndedAnswered,                  Absorbed),
    row(F::Failed, DialEndedNotAnswered,               Absorbed),
    row(F::Failed, DialLapsed,                         Absorbed),
    row(F::Failed, RecordingNew,                       Absorbed),
    row(F::Failed, RecordingRepeated,                  Absorbed),
    row(F::Failed, Handled,                     Absorbed),

    // ----- Voicemail (terminal).
    row(F::Voicemail, RedirectAccepted,                Absorbed),
    row(F::Voicemail, RefusedCallerGone,               Absorbed),
    row(F::Voicemail, RefusedNotProcessed,             Absorbed),
    row(F::Voicemail, RedirectOutcomeUnknown,          Absorbed),
    row(F::Voicemail, Joined(Missing),                 Absorbed),
    row(F::Voicemail, Joined(Same),                    Absorbed),
    row(F::Voicemail, Joined(Other),                   Absorbed),
    row(F::Voicemail, CallerHungUp,                    Absorbed),
    row(F::Voicemail, LeftByRedirect,                  Absorbed),
    row(F::Voicemail, Retrieve,                        Outcome::Fails(TransitionError::Ended(S::Voicemail))),
    row(F::Voicemail, DeadlineRingback,                Absorbed),
    row(F::Voicemail, DeadlineVoicemail,               Absorbed),
    row(F::Voicemail, DialAnswered,                    Absorbed),
    row(F::Voicemail, DialEndedAnswered,               Absorbed),
    row(F::Voicemail, DialEndedNotAnswered,            Absorbed),
    row(F::Voicemail, DialLapsed,                      Absorbed),
    mv(F::Voicemail, RecordingNew,                     goes(S::Voicemail, E::VoicemailRecorded).recorded().state_kept()),
    row(F::Voicemail, RecordingRepeated,               Absorbed),
    mv(F::Voicemail, Handled,                          goes(S::Voicemail, E::VoicemailHandled).handled().state_kept()),
];

// ----- the checks ----------------------------------------------------------------------------

/// The record a move must produce from `before`.
fn expected_next(before: &ParkedCall, signal: &Signal, to: &To) -> ParkedCall {
    let mut next = before.clone();
    next.state = to.state;
    next.deadline = match to.deadline {
        Deadline::Kept => before.deadline,
        Deadline::Set => Some(at(NOW) + MAX_PARK),
        Deadline::Cleared => None,
    };
    next.retrieval = match to.retrieval {
        Retrieving::Kept => before.retrieval.clone(),
        Retrieving::Cleared => None,
        Retrieving::ByAgent => Some(Retrieval::ByAgent(retriever())),
        Retrieving::Ringback => Some(Retrieval::Ringback(parker())),
        Retrieving::ToVoicemail => Some(Retrieval::ToVoicemail),
    };
    if to.recorded {
        let Signal::RecordingAvailable(url) = signal else {
            panic!("only a recording carries a recording")
        };
        next.recording_url = Some(url.clone());
    }
    if to.handled {
        let Signal::VoicemailHandled(agent) = signal else {
            panic!("only a handling carries its agent")
        };
        next.voicemail_handled = Some(VoicemailHandled {
            by: agent.clone(),
            at: at(NOW),
        });
    }
    if to.sid == Sid::FromSignal {
        let Signal::ConferenceJoined(sid) = signal else {
            panic!("only a join carries a SID")
        };
        next.conference_sid = Some(sid.clone());
    }
    if to.changed == Changed::Now {
        next.state_changed_at = at(NOW);
    }
    if to.state == ParkState::Retrieving && before.state != ParkState::Retrieving {
        // Each time out of the lot is a new attempt.
        next.attempt = before.attempt + 1;
        // A ring-back is counted with the call.
        if to.retrieval == Retrieving::Ringback {
            next.ringbacks = before.ringbacks + 1;
        }
    }
    if to.ends {
        next.ended_at = Some(at(NOW));
    }
    next
}

fn check(row: &Row) {
    let previous = row.on.previous_sid(row.from);
    let mut before = record(row.from, previous);
    before.recording_url = row.on.previous_recording();
    let signal = row.on.signal();
    let what = format!("{:?} + {:?}", row.from, row.on);
    let result = transition(&before, &signal, ctx());
    match &row.outcome {
        Outcome::Absorbed => assert_eq!(result, Ok(Step::Absorbed), "{what}"),
        Outcome::Unchanged => assert_eq!(result, Ok(Step::Unchanged), "{what}"),
        Outcome::Fails(error) => assert_eq!(result, Err(*error), "{what}"),
        Outcome::Moves(to) => {
            let Ok(Step::Moved(change)) = result else {
                panic!("{what}: expected a move to {:?}, got {result:?}", to.state)
            };
            assert_eq!(change.event, to.event, "{what}: event");
            assert_eq!(change.effect, to.effect, "{what}: effect");
            assert_eq!(
                change.next,
                expected_next(&before, &signal, to),
                "{what}: next record"
            );
        }
    }
}

#[test]
fn every_row_holds() {
    for row in TABLE {
        check(row);
    }
}

#[test]
fn the_table_covers_every_pair_once() {
    for state in ParkState::ALL {
        for &from in Start::of(state) {
            assert_eq!(from.state(), state);
            assert!(
                Start::ALL.contains(&from),
                "{from:?} missing from Start::ALL"
            );
            for on in On::ALL {
                let rows = TABLE
                    .iter()
                    .filter(|r| r.from == from && r.on == on)
                    .count();
                assert_eq!(rows, 1, "{from:?} + {on:?} has {rows} rows");
            }
        }
    }
    // On::ALL names every signal and payload variant: each maps back to itself through the
    // exhaustive `On::of`, and they are all different.
    for (i, on) in On::ALL.iter().enumerate() {
        for from in Start::ALL {
            let previous = on.previous_sid(from);
            let recorded = on.previous_recording();
            assert_eq!(On::of(&on.signal(), previous, recorded.as_ref()), *on);
        }
        assert!(!On::ALL[..i].contains(on), "{on:?} twice");
    }
    assert_eq!(TABLE.len(), Start::ALL.len() * On::ALL.len());
}

/// Cross-checks of the table against the design's rules, so that a wrong row is caught too.
#[test]
fn the_table_follows_the_design_rules() {
    for row in TABLE {
        let what = format!("{:?} + {:?}", row.from, row.on);
        let state = row.from.state();
        if state == S::Voicemail && row.on == Handled {
            // A voicemail is handled once, as a detail.
            assert_eq!(
                row.outcome,
                Outcome::Moves(
                    goes(S::Voicemail, E::VoicemailHandled)
                        .handled()
                        .state_kept()
                ),
                "{what}"
            );
        } else if state == S::Voicemail && row.on == RecordingNew {
            // A voicemail takes its recording, as a detail: it ended already.
            assert_eq!(
                row.outcome,
                Outcome::Moves(
                    goes(S::Voicemail, E::VoicemailRecorded)
                        .recorded()
                        .state_kept()
                ),
                "{what}"
            );
        } else if state.is_terminal() {
            // Terminal states absorb every signal; only an agent's retrieve is refused.
            let expected = if row.on == Retrieve {
                Outcome::Fails(TransitionError::Ended(state))
            } else {
                Absorbed
            };
            assert_eq!(row.outcome, expected, "{what}");
        }
        if row.on == CallerHungUp && !state.is_terminal() {
            assert!(
                matches!(&row.outcome, Outcome::Moves(to) if to.state == S::Abandoned),
                "{what}: a hang-up abandons"
            );
        }
        if let Outcome::Moves(to) = &row.outcome {
            // A record ends once.
            let ends = to.state.is_terminal() && !state.is_terminal();
            assert_eq!(to.ends, ends, "{what}: ended_at");
            if ends {
                assert_eq!(to.deadline, DeadlineCleared, "{what}");
            }
            if to.state == S::Parked && state != S::Parked {
                assert_eq!(to.deadline, DeadlineSet, "{what}: entering Parked");
            }
            if to.state == S::Retrieving && state != S::Retrieving {
                assert_eq!(to.deadline, DeadlineCleared, "{what}: leaving Parked");
                // Leaving the lot needs the caller moved: to an agent, or to voicemail.
                let expected = if to.retrieval == Retrieving::ToVoicemail {
                    SendToVoicemail
                } else {
                    RingAgent
                };
                assert_eq!(to.effect, Some(expected), "{what}");
            }
        }
    }
}

/// A dial callback of an earlier attempt than the record's (late, or replayed) changes
/// nothing, in every state: a live record is unchanged, a terminal one absorbs it.
#[test]
fn an_earlier_attempts_dial_callbacks_change_nothing() {
    let earlier = [
        Signal::DialAnswered {
            attempt: ATTEMPT - 1,
        },
        dial_ended(ATTEMPT - 1, DialOutcome::Answered),
        dial_ended(ATTEMPT - 1, DialOutcome::NotAnswered),
        Signal::DialLapsed {
            attempt: ATTEMPT - 1,
        },
    ];
    for from in Start::ALL {
        let before = record(from, Some(1));
        for signal in &earlier {
            let expected = if from == Start::Voicemail || from.state().is_terminal() {
                Step::Absorbed
            } else {
                Step::Unchanged
            };
            assert_eq!(
                transition(&before, signal, ctx()),
                Ok(expected),
                "{from:?} + {signal:?}"
            );
        }
    }
}
