//! Entities: organisations, agents, call legs and parked calls, and the requests that create them.

use std::time::Duration;

use time::OffsetDateTime;

use crate::machine::ParkState;
use crate::values::{
    AgentIdentity, Announcement, CallSid, CallerName, ConferenceSid, DisplayName, HttpUrl, LotSize,
    OrgSlug, ParkedCallId, PhoneNumber, SlotNumber, TokenHash, Voice,
};

/// What happens to a parked call nobody retrieved before its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutAction {
    /// Ring the agent who parked it; if that agent is offline or does not answer, voicemail.
    Ringback,
    /// Straight to voicemail.
    Voicemail,
}

/// How a slot is chosen when the parking agent does not name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoSlot {
    /// The lowest free slot.
    FirstFree,
    /// The first free slot after the one most recently claimed, wrapping around (Asterisk's
    /// `findslot=next`): a freshly freed slot is not reused at once, so agents calling out a
    /// slot number do not collide.
    NextAfterLastUsed,
}

/// Which slot a park asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotRequest {
    Requested(SlotNumber),
    Auto(AutoSlot),
}

/// The longest a call may be parked, whatever the organisation asks: Twilio ends a call after
/// 4 hours anyway.
pub const MAX_PARK_TIME: Duration = Duration::from_secs(4 * 60 * 60);

/// A tenant with its own parking lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub slug: OrgSlug,
    pub name: DisplayName,
    pub lot_size: LotSize,
    pub numbers: Vec<PhoneNumber>,
    pub hold_music_url: Option<HttpUrl>,
    pub announcement: Announcement,
    pub voice: Option<Voice>,
    pub max_park: Duration,
    pub timeout_action: TimeoutAction,
    pub auto_slot: AutoSlot,
}

/// What [`crate::ParkingStore::create_org`] takes; the same fields, validated by the caller.
pub type NewOrganisation = Organisation;

/// Whether an agent can take a call now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    Available,
    OnCall,
    Offline,
}

/// A person who parks and retrieves calls, inside one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub org: OrgSlug,
    pub identity: AgentIdentity,
    pub display_name: Option<DisplayName>,
    pub status: AgentStatus,
    /// The agent's browser leg, while on a call.
    pub current_call: Option<CallSid>,
}

/// An agent's new status, set together with a parked call's transition (see
/// [`crate::ParkingStore::apply_and_set_agent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStatusChange {
    pub org: OrgSlug,
    pub identity: AgentIdentity,
    pub status: AgentStatus,
    /// The agent's browser leg, while on a call.
    pub current_call: Option<CallSid>,
}

/// What [`crate::ParkingStore::create_agent`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgent {
    pub org: OrgSlug,
    pub identity: AgentIdentity,
    pub display_name: Option<DisplayName>,
    pub token_hash: TokenHash,
}

/// Who is on the other end of a parked call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    pub number: Option<PhoneNumber>,
    pub name: Option<CallerName>,
}

/// A caller's (PSTN) leg the service knows, with the organisation its number routes to.
/// Agents' browser legs are linked to it as they are dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub org: OrgSlug,
    pub pstn: CallSid,
    pub caller: Caller,
}

/// Why a parked call is on its way out of its slot: an agent asked, the deadline rang the
/// parker back, or the deadline is sending the caller to voicemail. Until the caller gets there
/// the slot stays occupied, so a caller whose move fails is never lost from the lot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Retrieval {
    ByAgent(AgentIdentity),
    Ringback(AgentIdentity),
    ToVoicemail,
}

impl Retrieval {
    /// The agent being rung, if any.
    pub fn agent(&self) -> Option<&AgentIdentity> {
        match self {
            Self::ByAgent(a) | Self::Ringback(a) => Some(a),
            Self::ToVoicemail => None,
        }
    }
}

/// One occupancy of one slot. Records in a terminal state are kept as history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedCall {
    pub id: ParkedCallId,
    pub org: OrgSlug,
    pub slot: SlotNumber,
    pub state: ParkState,
    pub pstn_call: CallSid,
    pub caller: Caller,
    pub parked_by: AgentIdentity,
    pub parked_at: OffsetDateTime,
    /// `None` until Twilio tells us; nothing waits for it.
    pub conference_sid: Option<ConferenceSid>,
    /// Set while `Parked`: when the timeout action fires.
    pub deadline: Option<OffsetDateTime>,
    /// Set from `Retrieving` on: who is (or was) being connected.
    pub retrieval: Option<Retrieval>,
    /// When the record last changed state.
    pub state_changed_at: OffsetDateTime,
    /// When it reached a terminal state.
    pub ended_at: Option<OffsetDateTime>,
    /// A voicemail recording left after a timeout.
    pub recording_url: Option<HttpUrl>,
    /// Optimistic-concurrency version, bumped by every stored transition.
    pub version: u64,
}

impl ParkedCall {
    pub fn conference_name(&self) -> String {
        self.id.conference_name()
    }

    pub fn occupies_slot(&self) -> bool {
        self.state.occupies_slot()
    }
}

/// What [`crate::ParkingStore::claim_slot`] takes: the store assigns id, slot and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParkedCall {
    pub org: OrgSlug,
    pub request: SlotRequest,
    pub pstn_call: CallSid,
    pub caller: Caller,
    pub parked_by: AgentIdentity,
    pub now: OffsetDateTime,
}
