//! The ports: what the domain needs from the world. Adapters implement them and convert their
//! own errors into these, exactly once.

use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;
use time::OffsetDateTime;

use crate::events::{LotEvent, LotEventKind};
use crate::history::{Forgotten, HistoryCursor, HistoryFilter};
use crate::model::{
    Agent, AgentChange, AgentStatus, AgentStatusChange, Call, NewAgent, NewOrganisation,
    NewParkedCall, NewSession, OrgChange, Organisation, ParkedCall,
};
use crate::values::{
    AgentIdentity, CallSid, LotSize, OrgSlug, ParkedCallId, PhoneNumber, Sequence, SlotNumber,
    TokenHash,
};

mod telephony;

pub use telephony::{
    CallStatus, ChildLeg, PstnLeg, RecordingAudio, Telephony, TelephonyError, WebhookUrls,
};
#[cfg(feature = "mocks")]
pub use telephony::{MockTelephony, MockWebhookUrls};

/// The cause behind an adapter's error, kept for logs and `source()` chains.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

// ---------------------------------------------------------------------------------------------
// Storage

/// A store failure that is no fault of the request.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store cannot be reached now (connection refused, pool exhausted, timeout): retry
    /// later. The HTTP layer answers 503.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
    /// The store answered, but with something unexpected (a corrupt row, a failed query).
    #[error("the store failed")]
    Internal(#[source] BoxError),
}

#[derive(Debug, Error)]
/// Why [`ParkingStore::create_org`] failed.
pub enum CreateOrgError {
    #[error("an organisation with this slug exists")]
    /// The slug is taken.
    AlreadyExists,
    #[error("the number {0} already routes to another organisation")]
    /// The number routes to another organisation.
    NumberTaken(PhoneNumber),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
/// Why [`ParkingStore::change_org`] failed; nothing changed.
pub enum ChangeOrgError {
    #[error("no such organisation")]
    /// There is no organisation with the slug.
    UnknownOrg,
    #[error("slot {0} is occupied: the lot cannot shrink below it")]
    /// A call occupies a slot beyond the new lot size (the highest such slot).
    SlotOccupied(SlotNumber),
    #[error("the number {0} already routes to another organisation")]
    /// One of the new numbers routes to another organisation.
    NumberTaken(PhoneNumber),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
/// Why [`ParkingStore::create_agent`] failed.
pub enum CreateAgentError {
    #[error("no such organisation")]
    /// The organisation does not exist.
    UnknownOrg,
    #[error("an agent with this identity exists in the organisation")]
    /// The identity is taken in the organisation.
    AlreadyExists,
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
/// Why [`ParkingStore::claim_slot`] failed.
pub enum ClaimError {
    #[error("no such organisation")]
    /// The organisation does not exist.
    UnknownOrg,
    #[error("slot {slot} is outside the lot of {} slots", .lot_size.get())]
    /// The requested slot is not in the lot.
    SlotOutOfRange {
        /// The slot asked for.
        slot: SlotNumber,
        /// The size of the lot.
        lot_size: LotSize,
    },
    #[error("slot {0} is occupied")]
    /// The requested slot is taken.
    SlotOccupied(SlotNumber),
    #[error("every slot of the lot is occupied")]
    /// No slot is free.
    LotFull,
    /// The call is parked already (in this slot of the same organisation).
    #[error("the call is already parked in slot {1}")]
    AlreadyParked(ParkedCallId, SlotNumber),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
/// Why [`ParkingStore::apply`] failed.
pub enum CasError {
    /// The record is no longer in the state and version the change was computed from.
    #[error("the parked call changed meanwhile")]
    Conflict,
    #[error("no such parked call")]
    /// No parked call has this id.
    NotFound,
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

/// The occupied slots of one lot, and the sequence of the last event they reflect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotSnapshot {
    /// The parked calls occupying a slot, in no particular order.
    pub occupied: Vec<ParkedCall>,
    /// The sequence of the last event the snapshot reflects.
    pub sequence: Sequence,
}

/// Durable state. Every method is one short, atomic operation.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ParkingStore: Send + Sync {
    /// # Errors
    /// [`CreateOrgError::AlreadyExists`] for a taken slug, [`CreateOrgError::NumberTaken`] for a
    /// number that routes elsewhere.
    async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError>;

    /// # Errors
    /// [`StoreError`] only; an unknown slug is `Ok(None)`.
    async fn org(&self, slug: &OrgSlug) -> Result<Option<Organisation>, StoreError>;

    /// The organisation a dialled number routes to, deactivated or not.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn org_by_number(&self, number: &PhoneNumber)
    -> Result<Option<Organisation>, StoreError>;

    /// # Errors
    /// [`CreateAgentError::UnknownOrg`], [`CreateAgentError::AlreadyExists`].
    async fn create_agent(&self, agent: &NewAgent) -> Result<Agent, CreateAgentError>;

    /// # Errors
    /// [`StoreError`] only.
    async fn agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<Option<Agent>, StoreError>;

    /// The agent whose API token hashes to `hash`, unless the token expired by `now`, or the
    /// agent or its organisation is deactivated.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn agent_by_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError>;

    /// Gives the agent a new API token (its digest), expiring at `expires_at` if set: the old
    /// token stops working at once. `false` for an unknown agent.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn replace_token(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        hash: &TokenHash,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;

    /// Keeps a new session of a signed-in page (its digest, never the secret), and forgets
    /// sessions that expired.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn start_session(&self, session: &NewSession) -> Result<(), StoreError>;

    /// The agent of a live session, marking it used at `now`. `None` when the session is
    /// unknown or ended, was last used `idle` or longer before `now`, or reached its expiry, or
    /// the agent or its organisation is deactivated.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn agent_by_session(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<Agent>, StoreError>;

    /// Ends a session at once; ending one that is not there is no error.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn end_session(&self, hash: &TokenHash) -> Result<(), StoreError>;

    /// Notes that the agent showed signs of life at `at`: its page's live stream is open, or it
    /// made a request.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn agent_seen(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Every `available` agent not seen since `seen_before` goes `offline` (its page is gone);
    /// an agent on a call stays on it. Returns the agents it changed.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn expire_presence(&self, seen_before: OffsetDateTime) -> Result<Vec<Agent>, StoreError>;

    /// Ends every session of the agent at once (a revoked token, a deactivated agent).
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn end_agent_sessions(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<(), StoreError>;

    /// Every organisation, by slug.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn orgs(&self) -> Result<Vec<Organisation>, StoreError>;

    /// Changes an organisation's settings, atomically with slot claims: a lot shrinks only
    /// while no call occupies a slot beyond the new size. New numbers replace the old ones.
    /// Deactivating it ends its agents' sessions and takes them `offline` in the same change;
    /// from then on [`Self::agent_by_token`] and [`Self::agent_by_session`] find none of its
    /// agents. Returns the organisation as it is now.
    ///
    /// # Errors
    /// [`ChangeOrgError`]; nothing changed then.
    async fn change_org(
        &self,
        slug: &OrgSlug,
        change: &OrgChange,
    ) -> Result<Organisation, ChangeOrgError>;

    /// Changes an agent's name or role; `None` for an unknown agent.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn change_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        change: &AgentChange,
    ) -> Result<Option<Agent>, StoreError>;

    /// Deactivates an agent at `at`, at once: its token expires, its sessions end, it is
    /// `offline` and stays so (no status change takes it out of `offline` again), so it is never
    /// rung. The record stays, for the history. `None` for an unknown agent.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn deactivate_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError>;

    /// Every agent of the organisation, by identity.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError>;

    /// The agents an inbound call rings: up to `limit` of the organisation's available agents,
    /// those waiting longest for a call first (by when they became available, or were last
    /// rung). They go to the back of that queue, so the next call rings the others first.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn agents_to_ring(
        &self,
        org: &OrgSlug,
        limit: usize,
    ) -> Result<Vec<AgentIdentity>, StoreError>;

    /// Sets an agent's status and current browser leg; `Ok(false)` for an unknown agent.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn set_agent_status<'a>(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        status: AgentStatus,
        current_call: Option<&'a CallSid>,
    ) -> Result<bool, StoreError>;

    /// Records a caller's leg (inserts, or updates the caller details of a known one, whose
    /// start stays the earlier of the two).
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn record_call(&self, call: &Call) -> Result<(), StoreError>;

    /// Records that `browser` is an agent's leg bridged to the caller's leg `pstn`;
    /// `Ok(false)` when `pstn` is not a recorded call.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn link_browser_leg<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        agent: Option<&'a AgentIdentity>,
    ) -> Result<bool, StoreError>;

    /// One status of an agent's browser leg `browser`, bridged to the caller's leg `pstn`:
    /// links the two (as [`ParkingStore::link_browser_leg`] does) and says whether the status
    /// is news. It is not when the leg has ended already (a final status was seen, or the leg
    /// was ended because its caller was parked) or when a later status of it was seen
    /// (Twilio's `SequenceNumber`, `sequence`): a late callback never moves an agent
    /// backwards. `ended` (a final status) ends the leg. A leg that cannot be linked (an
    /// unknown caller's leg) has nothing to compare with: news.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn record_leg_status<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        agent: Option<&'a AgentIdentity>,
        sequence: Option<u32>,
        ended: bool,
    ) -> Result<bool, StoreError>;

    /// The caller's leg that `browser` is bridged to, if recorded.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn call_by_browser_leg(&self, browser: &CallSid) -> Result<Option<Call>, StoreError>;

    /// A recorded caller's leg.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn call_by_pstn(&self, pstn: &CallSid) -> Result<Option<Call>, StoreError>;

    /// Atomically claims a slot for a new parked call in state `Parking` and writes its
    /// `parked` event. Of any number of concurrent claims of one slot exactly one succeeds.
    ///
    /// # Errors
    /// [`ClaimError::SlotOccupied`] for a requested slot that is taken, [`ClaimError::LotFull`]
    /// when no slot is free, [`ClaimError::SlotOutOfRange`], [`ClaimError::AlreadyParked`]
    /// when the caller's leg already occupies a slot, [`ClaimError::UnknownOrg`].
    async fn claim_slot(&self, request: &NewParkedCall) -> Result<LotEvent, ClaimError>;

    /// Compare-and-set: stores `next` (with the version bumped) and its event, only if the
    /// record still has `current`'s state and version.
    ///
    /// # Errors
    /// [`CasError::Conflict`] when it changed meanwhile, [`CasError::NotFound`].
    async fn apply(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
    ) -> Result<LotEvent, CasError>;

    /// [`ParkingStore::apply`] and [`ParkingStore::set_agent_status`] in one transaction: the
    /// agent's status changes only if the transition is stored (an unknown agent is left
    /// alone). A park frees its parker, and an answered retrieve puts its agent on the call,
    /// in the same write as the call's transition: never one without the other. An agent put
    /// on a browser leg (`current_call`) is on a leg bridged to the call's caller, which is
    /// recorded as [`ParkingStore::link_browser_leg`] does.
    ///
    /// # Errors
    /// As [`ParkingStore::apply`]; on any error the agent is unchanged too.
    async fn apply_and_set_agent(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
        agent: &AgentStatusChange,
    ) -> Result<LotEvent, CasError>;

    /// # Errors
    /// [`StoreError`] only.
    async fn parked_call(&self, id: ParkedCallId) -> Result<Option<ParkedCall>, StoreError>;

    /// The parked call occupying a slot, if any.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn occupant(
        &self,
        org: &OrgSlug,
        slot: SlotNumber,
    ) -> Result<Option<ParkedCall>, StoreError>;

    /// The parked call occupying a slot with this caller's leg, if any.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn occupant_by_pstn(&self, pstn: &CallSid) -> Result<Option<ParkedCall>, StoreError>;

    /// The occupied slots and the last event's sequence, read consistently.
    ///
    /// # Errors
    /// [`StoreError`] only; an unknown organisation has an empty lot.
    async fn lot(&self, org: &OrgSlug) -> Result<LotSnapshot, StoreError>;

    /// Up to `limit` events of the organisation after `after`, in sequence order.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        limit: usize,
    ) -> Result<Vec<LotEvent>, StoreError>;

    /// Up to `limit` `Parked` calls whose deadline is at or before `now`, earliest first.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn due_deadlines(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError>;

    /// Up to `limit` `Parking` or `Retrieving` calls whose state last changed at or before
    /// `before`: their telephony outcome may be unknown.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn in_flight_since(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError>;

    /// Up to `limit` of the organisation's parked calls, live or ended, that `filter` lets
    /// through and that come after `after` (when given): newest first, by park time and then
    /// id, both descending.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn history(
        &self,
        org: &OrgSlug,
        filter: &HistoryFilter,
        after: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError>;

    /// Forgets, in one short batch of at most `limit` rows of each kind, what is older than
    /// `cutoff`: the caller's number and name and the voicemail recording of the parked calls
    /// that ended before it (the rest of each record stays, so the history and its figures
    /// still count the call), the lot events that happened before it, and the calls (with
    /// their agents' legs) that began before it. The service asks only for a cutoff more than
    /// a call's four-hour limit ago, so every such call has ended; a call still in the lot is
    /// never touched, and the organisations' event sequences go on where they were.
    ///
    /// # Errors
    /// [`StoreError`] only.
    async fn forget_before(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<Forgotten, StoreError>;
}

// ---------------------------------------------------------------------------------------------
// Events

/// Why a subscription yielded no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SubscriptionError {
    /// The subscriber fell behind and events were dropped: re-read from the store after the
    /// last sequence it saw.
    #[error("the subscriber fell behind")]
    Lagged,
    /// The publisher is gone.
    #[error("the event feed closed")]
    Closed,
}

/// A live feed of every organisation's events.
#[async_trait]
pub trait EventSubscription: Send {
    /// The next event.
    ///
    /// # Errors
    /// [`SubscriptionError::Lagged`] after dropped events, [`SubscriptionError::Closed`].
    async fn next(&mut self) -> Result<LotEvent, SubscriptionError>;
}

/// Fans stored events out to live subscribers (on every instance, for a shared store).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes an event the store has written.
    async fn publish(&self, event: &LotEvent);

    /// A feed of events published from now on.
    fn subscribe(&self) -> Box<dyn EventSubscription>;
}

// ---------------------------------------------------------------------------------------------
// Clock

#[cfg_attr(feature = "mocks", mockall::automock)]
/// The time, for deadlines and event timestamps. [`SystemClock`] in production; a manual clock in tests.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
