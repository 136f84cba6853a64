//! The history of an organisation's parked calls: every one, live or ended, newest first, read
//! in pages that a keyset cursor strings together (so a later page costs what the first does,
//! and a call parked meanwhile never shifts one).

use time::OffsetDateTime;

use crate::machine::ParkState;
use crate::model::ParkedCall;
use crate::values::{AgentIdentity, PageLimit, ParkedCallId, SlotNumber};

/// How a parked call ended, or that it has not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Still in the lot: being parked, parked, or being retrieved.
    Live,
    /// An agent took it (a retrieve, or the parker answering a ring-back).
    Retrieved,
    /// The caller hung up.
    Abandoned,
    /// It went to voicemail.
    Voicemail,
    /// It could not be parked.
    Failed,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::Live,
        Self::Retrieved,
        Self::Abandoned,
        Self::Voicemail,
        Self::Failed,
    ];

    /// The outcome of a call in `state`.
    pub fn of(state: ParkState) -> Self {
        match state {
            ParkState::Parking | ParkState::Parked | ParkState::Retrieving => Self::Live,
            ParkState::Retrieved => Self::Retrieved,
            ParkState::Abandoned => Self::Abandoned,
            ParkState::Voicemail => Self::Voicemail,
            ParkState::Failed => Self::Failed,
        }
    }

    /// The states of the calls with this outcome.
    pub fn states(self) -> &'static [ParkState] {
        match self {
            Self::Live => &[ParkState::Parking, ParkState::Parked, ParkState::Retrieving],
            Self::Retrieved => &[ParkState::Retrieved],
            Self::Abandoned => &[ParkState::Abandoned],
            Self::Voicemail => &[ParkState::Voicemail],
            Self::Failed => &[ParkState::Failed],
        }
    }

    /// The snake-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Retrieved => "retrieved",
            Self::Abandoned => "abandoned",
            Self::Voicemail => "voicemail",
            Self::Failed => "failed",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// Where a page of history goes on: with the calls parked before this one (newest first, the
/// id breaking ties of the same instant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryCursor {
    parked_at: OffsetDateTime,
    id: ParkedCallId,
}

impl HistoryCursor {
    /// The cursor of the page after the one that ends with `call`.
    pub fn after(call: &ParkedCall) -> Self {
        Self::new(call.parked_at, call.id)
    }

    /// A cursor read back from what a client was handed.
    pub fn new(parked_at: OffsetDateTime, id: ParkedCallId) -> Self {
        Self { parked_at, id }
    }

    /// The park time of the last call of the page before.
    pub fn parked_at(&self) -> OffsetDateTime {
        self.parked_at
    }

    /// The id of the last call of the page before.
    pub fn id(&self) -> ParkedCallId {
        self.id
    }

    /// Whether `call` comes after the cursor, newest first: it is on a later page.
    pub fn admits(&self, call: &ParkedCall) -> bool {
        (call.parked_at, call.id.as_uuid()) < (self.parked_at, self.id.as_uuid())
    }
}

/// Which of an organisation's parked calls a history page holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryFilter {
    /// Parked at or after this instant.
    pub parked_from: Option<OffsetDateTime>,
    /// Parked before this instant.
    pub parked_before: Option<OffsetDateTime>,
    /// Only the calls with this outcome.
    pub outcome: Option<Outcome>,
    /// Only the calls parked in this slot.
    pub slot: Option<SlotNumber>,
    /// Only the calls this agent parked or retrieved.
    pub agent: Option<AgentIdentity>,
}

impl HistoryFilter {
    /// Whether `call` is one of the calls the filter lets through.
    pub fn matches(&self, call: &ParkedCall) -> bool {
        self.parked_from.is_none_or(|from| call.parked_at >= from)
            && self
                .parked_before
                .is_none_or(|before| call.parked_at < before)
            && self.outcome.is_none_or(|o| o == Outcome::of(call.state))
            && self.slot.is_none_or(|slot| slot == call.slot)
            && self
                .agent
                .as_ref()
                .is_none_or(|agent| call.parked_by == *agent || call.retrieved_by() == Some(agent))
    }
}

/// A page of history to read: the filter, where the page starts, and how long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Which calls.
    pub filter: HistoryFilter,
    /// `None` for the first page; else the previous page's [`HistoryPage::next`].
    pub after: Option<HistoryCursor>,
    /// At most this many calls.
    pub limit: PageLimit,
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    /// The calls, newest first.
    pub calls: Vec<ParkedCall>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<HistoryCursor>,
    /// When it was read: how long a live call has been on hold is counted to then.
    pub read_at: OffsetDateTime,
}

/// What one batch of forgetting old records did ([`crate::ParkingStore::forget_before`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Forgotten {
    /// Ended parked calls whose caller (number and name) and voicemail recording were erased.
    pub anonymised: usize,
    /// Lot events deleted.
    pub events: usize,
    /// Calls, with their agents' legs, deleted.
    pub calls: usize,
}

impl Forgotten {
    /// Everything it forgot.
    pub fn total(&self) -> usize {
        self.anonymised + self.events + self.calls
    }

    /// Whether a batch of `limit` was full of some kind: more may be left to forget.
    pub fn filled(&self, limit: usize) -> bool {
        [self.anonymised, self.events, self.calls]
            .into_iter()
            .any(|n| n >= limit)
    }
}
