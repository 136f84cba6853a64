//! Entities: organisations, agents, call legs and parked calls, and the requests that create them.

use std::time::Duration;

use time::OffsetDateTime;

use crate::machine::ParkState;
use crate::values::{
    AgentIdentity, Announcement, CallSid, CallerName, ConferenceSid, DisplayName, HttpUrl,
    Language, LotSize, OrgSlug, ParkedCallId, PhoneNumber, SlotNumber, TokenHash, Voice,
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
    /// This slot, or nothing if it is taken.
    Requested(SlotNumber),
    /// Whichever free slot the organisation's policy chooses.
    Auto(AutoSlot),
}

/// The longest a call may be parked, whatever the organisation asks: Twilio ends a call after
/// 4 hours anyway.
pub const MAX_PARK_TIME: Duration = Duration::from_secs(4 * 60 * 60);

/// Twilio ends every call four hours after it started, parked or not (Calls resource,
/// `TimeLimit`: "The maximum duration of the call in seconds … The default is 4 hours", and
/// the same limit holds for calls that come in).
pub const CALL_TIME_LIMIT: Duration = Duration::from_secs(4 * 60 * 60);

/// How long before [`CALL_TIME_LIMIT`] a parked call's deadline must pass, so that what it
/// does still fits: a ring-back (its TwiML, the ring time and Twilio's 5 s buffer, well under a
/// minute by default), then voicemail (its prompt, a message of up to two minutes, the
/// goodbye), with room to spare for a sweep's interval and a slow callback.
pub const TIMEOUT_ACTION_TIME: Duration = Duration::from_secs(5 * 60);

/// How long a retrieve's `<Dial>` rings the agent's browser (its `timeout`) before the caller
/// goes back to the lot, unless configured otherwise.
pub const DEFAULT_RETRIEVE_RING_TIME: Duration = Duration::from_secs(20);

/// How long after a retrieve began its `<Dial>`, ringing for `ring_time`, may rightly still
/// ring: the TwiML fetched and the announcement said first (allowed 5 s), the ring time, and
/// the 5 seconds Twilio adds to every `<Dial timeout>` (TwiML `<Dial>`, attribute `timeout`:
/// "Twilio always adds a 5-second timeout buffer"). Reconciliation leaves a younger retrieve
/// alone.
pub fn retrieve_window(ring_time: Duration) -> Duration {
    Duration::from_secs(5) + ring_time + Duration::from_secs(5)
}

/// How many agents' browsers an inbound call rings at once: a `<Dial>` holds at most 10
/// `<Client>` nouns (TwiML `<Client>`). The longest idle are rung.
pub const MAX_CLIENTS_PER_DIAL: usize = 10;

/// A tenant with its own parking lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// The short name in URLs and logs; unique.
    pub slug: OrgSlug,
    /// The name shown to agents.
    pub name: DisplayName,
    /// How many slots the lot has.
    pub lot_size: LotSize,
    /// The phone numbers that route to this organisation.
    pub numbers: Vec<PhoneNumber>,
    /// What parked callers hear; `None` for the telephony's default.
    pub hold_music_url: Option<HttpUrl>,
    /// What a parked caller hears before the hold music.
    pub announcement: Announcement,
    /// The text-to-speech voice of what callers hear; `None` for the default.
    pub voice: Option<Voice>,
    /// The language of what callers hear; `None` for the voice's own.
    pub language: Option<Language>,
    /// How long a call may stay parked (capped at [`MAX_PARK_TIME`]).
    pub max_park: Duration,
    /// What happens when a parked call's deadline passes.
    pub timeout_action: TimeoutAction,
    /// How a slot is chosen when the parker names none.
    pub auto_slot: AutoSlot,
    /// Whether the organisation is in service. A deactivated one takes no new calls (its
    /// numbers answer "not in service") and its agents cannot sign in; calls parked before
    /// stay parked until they are retrieved, hung up or time out.
    pub active: bool,
}

/// What [`crate::ParkingStore::create_org`] takes; the same fields, validated by the caller.
pub type NewOrganisation = Organisation;

/// What changes about an organisation's settings: each field that is `Some` is set (its slug
/// stays).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgChange {
    /// The name shown to agents.
    pub name: Option<DisplayName>,
    /// The numbers that route to it, all of them: a number left out stops routing to it, and
    /// one that routes to another organisation is refused.
    pub numbers: Option<Vec<PhoneNumber>>,
    /// The language of what callers hear (`Some(None)`: the voice's own).
    pub language: Option<Option<Language>>,
    /// Deactivates (`Some(false)`) or reactivates it. Deactivating ends its agents' sessions
    /// and takes them offline at once; see [`Organisation::active`].
    pub active: Option<bool>,
    /// How many slots the lot has: growing always works, shrinking only while no call occupies
    /// a slot beyond the new size.
    pub lot_size: Option<LotSize>,
    /// The hold music (`Some(None)`: the telephony's default).
    pub hold_music_url: Option<Option<HttpUrl>>,
    /// What a parked caller hears before the hold music.
    pub announcement: Option<Announcement>,
    /// The announcement's voice (`Some(None)`: the default).
    pub voice: Option<Option<Voice>>,
    /// How long a call may stay parked (capped at [`MAX_PARK_TIME`]); calls parked already keep
    /// their deadline.
    pub max_park: Option<Duration>,
    /// What happens when a parked call's deadline passes.
    pub timeout_action: Option<TimeoutAction>,
    /// How a slot is chosen when the parker names none.
    pub auto_slot: Option<AutoSlot>,
}

impl OrgChange {
    /// `org` with the change made.
    pub fn applied_to(&self, org: &Organisation) -> Organisation {
        Organisation {
            slug: org.slug.clone(),
            name: self.name.clone().unwrap_or_else(|| org.name.clone()),
            lot_size: self.lot_size.unwrap_or(org.lot_size),
            numbers: self.numbers.clone().unwrap_or_else(|| org.numbers.clone()),
            hold_music_url: self
                .hold_music_url
                .clone()
                .unwrap_or_else(|| org.hold_music_url.clone()),
            announcement: self
                .announcement
                .clone()
                .unwrap_or_else(|| org.announcement.clone()),
            voice: self.voice.clone().unwrap_or_else(|| org.voice.clone()),
            max_park: self.max_park.unwrap_or(org.max_park),
            timeout_action: self.timeout_action.unwrap_or(org.timeout_action),
            auto_slot: self.auto_slot.unwrap_or(org.auto_slot),
            language: self
                .language
                .clone()
                .unwrap_or_else(|| org.language.clone()),
            active: self.active.unwrap_or(org.active),
        }
    }
}

/// Whether an agent can take a call now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    /// Signed in and free: may be rung.
    Available,
    /// On a call: not rung.
    OnCall,
    /// Not signed in: not rung.
    Offline,
}

/// What an agent may do in its organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Role {
    /// Parks, retrieves, takes calls.
    #[default]
    Agent,
    /// An agent who also manages the organisation: its agents and their access.
    Supervisor,
}

/// What changes about an agent: each field that is `Some` is set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentChange {
    /// The name shown to other agents (`Some(None)` removes it).
    pub display_name: Option<Option<DisplayName>>,
    /// Its role.
    pub role: Option<Role>,
}

/// A person who parks and retrieves calls, inside one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The organisation the agent belongs to.
    pub org: OrgSlug,
    /// Its identity inside the organisation.
    pub identity: AgentIdentity,
    /// The name shown to other agents.
    pub display_name: Option<DisplayName>,
    /// Whether it can take a call now.
    pub status: AgentStatus,
    /// The agent's browser leg, while on a call.
    pub current_call: Option<CallSid>,
    /// What it may do.
    pub role: Role,
    /// `false` once deactivated: it cannot sign in and is never rung, and its name stays in
    /// the history of the calls it handled.
    pub active: bool,
}

/// An agent's new status, set together with a parked call's transition (see
/// [`crate::ParkingStore::apply_and_set_agent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStatusChange {
    /// The organisation of the agent.
    pub org: OrgSlug,
    /// The agent.
    pub identity: AgentIdentity,
    /// Its new status.
    pub status: AgentStatus,
    /// The agent's browser leg, while on a call.
    pub current_call: Option<CallSid>,
}

/// What [`crate::ParkingStore::create_agent`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgent {
    /// The organisation the agent joins.
    pub org: OrgSlug,
    /// Its identity inside the organisation.
    pub identity: AgentIdentity,
    /// The name shown to other agents.
    pub display_name: Option<DisplayName>,
    /// The digest of the agent's API token.
    pub token_hash: TokenHash,
    /// When the token stops working, if ever.
    pub token_expires_at: Option<OffsetDateTime>,
    /// What it may do.
    pub role: Role,
}

/// A signed-in page's session as the store keeps it: the digest of its secret, whose it is,
/// and when it ends at the latest (it also ends when unused for a while, or signed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The digest of the session's secret (the page's cookie holds the secret).
    pub hash: TokenHash,
    /// The organisation of the agent.
    pub org: OrgSlug,
    /// The agent signed in.
    pub identity: AgentIdentity,
    /// When it began.
    pub started_at: OffsetDateTime,
    /// When it ends however much it is used.
    pub expires_at: OffsetDateTime,
}

/// Who is on the other end of a parked call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// The caller's number, when the network gives it.
    pub number: Option<PhoneNumber>,
    /// The caller's name, when caller name lookup gives it.
    pub name: Option<CallerName>,
}

/// A caller's (PSTN) leg the service knows, with the organisation its number routes to.
/// Agents' browser legs are linked to it as they are dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The organisation the dialled number routes to.
    pub org: OrgSlug,
    /// The caller's leg.
    pub pstn: CallSid,
    /// Who is calling.
    pub caller: Caller,
    /// When the call began (Twilio ends it [`CALL_TIME_LIMIT`] later).
    pub started_at: OffsetDateTime,
}

/// Why a parked call is on its way out of its slot: an agent asked, the deadline rang the
/// parker back, or the deadline is sending the caller to voicemail. Until the caller gets there
/// the slot stays occupied, so a caller whose move fails is never lost from the lot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Retrieval {
    /// An agent asked to retrieve the call: that agent is rung.
    ByAgent(AgentIdentity),
    /// The deadline passed: the agent who parked it is rung back.
    Ringback(AgentIdentity),
    /// The deadline passed and nobody can be rung: the caller goes to voicemail.
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
    /// Assigned by the store when the slot is claimed.
    pub id: ParkedCallId,
    /// The organisation whose lot the slot is in.
    pub org: OrgSlug,
    /// The slot it occupies (or occupied, once terminal).
    pub slot: SlotNumber,
    /// Where it is in its life.
    pub state: ParkState,
    /// The caller's leg, the one that is redirected.
    pub pstn_call: CallSid,
    /// Who is on hold.
    pub caller: Caller,
    /// The agent who parked it (and whom a ring-back rings).
    pub parked_by: AgentIdentity,
    /// When the slot was claimed.
    pub parked_at: OffsetDateTime,
    /// When the caller's call began: Twilio ends it [`CALL_TIME_LIMIT`] later, so every
    /// deadline passes [`TIMEOUT_ACTION_TIME`] before that.
    pub call_started_at: OffsetDateTime,
    /// `None` until Twilio tells us; nothing waits for it.
    pub conference_sid: Option<ConferenceSid>,
    /// Set while `Parked`: when the timeout action fires.
    pub deadline: Option<OffsetDateTime>,
    /// Set from `Retrieving` on: who is (or was) being connected.
    pub retrieval: Option<Retrieval>,
    /// How many times the caller has left the lot (a retrieve, a ring-back, the way to
    /// voicemail): 0 until the first. While `Retrieving`, the number of the attempt under way.
    /// The callback URLs of a retrieve carry it, so that a late or replayed callback of an
    /// earlier attempt never moves a newer one.
    pub attempt: u32,
    /// How many times the deadline rang the parker back.
    pub ringbacks: u32,
    /// When the record last changed state.
    pub state_changed_at: OffsetDateTime,
    /// When it reached a terminal state.
    pub ended_at: Option<OffsetDateTime>,
    /// A voicemail recording left after a timeout.
    pub recording_url: Option<HttpUrl>,
    /// Who took care of the voicemail (listened, called back), and when.
    pub voicemail_handled: Option<VoicemailHandled>,
    /// Optimistic-concurrency version, bumped by every stored transition.
    pub version: u64,
}

impl ParkedCall {
    /// The conference the caller waits in: see [`ParkedCallId::conference_name`](crate::ParkedCallId::conference_name).
    pub fn conference_name(&self) -> String {
        self.id.conference_name()
    }

    /// The latest its deadline may be: [`TIMEOUT_ACTION_TIME`] before Twilio ends the call, so
    /// that a ring-back and voicemail still happen.
    pub fn latest_deadline(&self) -> OffsetDateTime {
        self.call_started_at + CALL_TIME_LIMIT - TIMEOUT_ACTION_TIME
    }

    /// Whether Twilio has surely ended the call at `now`: [`CALL_TIME_LIMIT`] after it began.
    pub fn twilio_has_ended(&self, now: OffsetDateTime) -> bool {
        now >= self.call_started_at + CALL_TIME_LIMIT
    }

    /// Whether its slot is occupied (parking, parked or being retrieved).
    pub fn occupies_slot(&self) -> bool {
        self.state.occupies_slot()
    }

    /// The agent who took the call out of the lot, once one has (`Retrieved`): the retriever,
    /// or the parker who answered a ring-back.
    pub fn retrieved_by(&self) -> Option<&AgentIdentity> {
        (self.state == ParkState::Retrieved)
            .then(|| self.retrieval.as_ref().and_then(Retrieval::agent))
            .flatten()
    }

    /// How long the caller has been (or was, once it ended) in the lot at `now`.
    pub fn time_on_hold(&self, now: OffsetDateTime) -> Duration {
        let until = self.ended_at.unwrap_or(now);
        Duration::try_from(until - self.parked_at).unwrap_or(Duration::ZERO)
    }
}

/// An agent took care of a voicemail: who, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailHandled {
    /// The agent who marked it handled.
    pub by: AgentIdentity,
    /// When.
    pub at: OffsetDateTime,
}

/// What [`crate::ParkingStore::claim_slot`] takes: the store assigns id, slot and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParkedCall {
    /// The organisation whose lot to park in.
    pub org: OrgSlug,
    /// Which slot to claim.
    pub request: SlotRequest,
    /// The caller's leg to park.
    pub pstn_call: CallSid,
    /// Who is calling.
    pub caller: Caller,
    /// The agent who parks it.
    pub parked_by: AgentIdentity,
    /// When the caller's call began.
    pub call_started_at: OffsetDateTime,
    /// The time of the claim.
    pub now: OffsetDateTime,
}
