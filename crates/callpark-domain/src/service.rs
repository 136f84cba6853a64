//! The use cases. The service decides (through [`crate::machine::transition`]); the ports act.

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use time::OffsetDateTime;

use crate::events::LotEvent;
use crate::machine::{
    DialOutcome, Effect, ParkState, Refusal, Signal, Step, TimeoutRoute, TransitionContext,
    TransitionError, transition,
};
use crate::model::{
    Agent, AgentStatus, AgentStatusChange, Call, Caller, MAX_PARK_TIME, NewAgent, NewOrganisation,
    NewParkedCall, Organisation, ParkedCall, Retrieval, SlotRequest, TimeoutAction,
};
use crate::ports::{
    CallStatus, CasError, ClaimError, Clock, CreateAgentError, CreateOrgError, EventPublisher,
    EventSubscription, ParkingStore, StoreError, Telephony, TelephonyError, WebhookUrls,
};
use crate::values::{
    AgentIdentity, CallSid, ConferenceSid, HttpUrl, OrgSlug, ParkedCallId, PhoneNumber, Sequence,
    SlotNumber, TokenHash,
};

/// How often a compare-and-set is retried after losing a race before giving up: each retry
/// re-reads the record, so only a record that changes continuously can exhaust it.
const CAS_ATTEMPTS: usize = 8;

/// The ports the service works through.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn ParkingStore>,
    pub telephony: Arc<dyn Telephony>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    pub urls: Arc<dyn WebhookUrls>,
}

/// The call-parking use cases.
#[derive(Clone)]
pub struct ParkingService {
    pub(crate) ports: Ports,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ParkingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParkingService").finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Errors, one enum per use case.

/// The telephony provider failed a request the use case needed.
#[derive(Debug, Error)]
pub enum TelephonyFailure {
    /// The provider did not act: nothing changed on the call.
    #[error("the telephony provider refused the request")]
    Rejected(#[source] TelephonyError),
    /// The provider did not answer in time: the record stays in flight until reconciled.
    #[error("the telephony provider did not answer in time")]
    OutcomeUnknown(#[source] TelephonyError),
}

#[derive(Debug, Error)]
pub enum ParkError {
    /// Neither callpark nor the provider knows a caller's leg for this call in the agent's
    /// organisation.
    #[error("no call of yours with this SID is in progress")]
    CallNotFound,
    #[error("the call is already parked in slot {0}")]
    AlreadyParked(SlotNumber),
    #[error("slot {slot} is outside the lot of {lot_size} slots")]
    SlotOutOfRange { slot: SlotNumber, lot_size: u16 },
    #[error("slot {0} is occupied")]
    SlotOccupied(SlotNumber),
    #[error("every slot of the lot is occupied")]
    LotFull,
    /// The caller hung up before the call reached the lot.
    #[error("the caller has hung up")]
    CallerGone,
    #[error(transparent)]
    Telephony(#[from] TelephonyFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum RetrieveError {
    #[error("slot {slot} is outside the lot of {lot_size} slots")]
    SlotOutOfRange { slot: SlotNumber, lot_size: u16 },
    #[error("no call is parked in slot {0}")]
    SlotEmpty(SlotNumber),
    #[error("no agent {0} in this organisation")]
    UnknownAgent(AgentIdentity),
    #[error("the call in slot {0} is still being parked")]
    NotYetParked(SlotNumber),
    #[error("the call in slot {0} is already being retrieved")]
    AlreadyRetrieving(SlotNumber),
    /// The caller hung up; the slot is free now.
    #[error("the caller in slot {0} has hung up")]
    CallerGone(SlotNumber),
    #[error(transparent)]
    Telephony(#[from] TelephonyFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A failure handling a Twilio webhook: only the store's, since every Twilio signal is
/// acknowledged, whatever state it finds.
#[derive(Debug, Error)]
pub enum SignalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record changed on every attempt to apply the signal.
    #[error("the parked call kept changing; the signal was not applied")]
    Contended,
}

#[derive(Debug, Error)]
pub enum InboundError {
    #[error("no organisation answers {0}")]
    UnknownNumber(PhoneNumber),
    #[error(transparent)]
    Store(#[from] StoreError),
}

// ---------------------------------------------------------------------------------------------
// Requests and results.

/// An agent's request to park the call it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkRequest {
    /// The agent's own leg (its browser's call SID), or the caller's leg if the agent knows it.
    pub call: CallSid,
    /// The slot to park in; `None` lets the organisation's policy choose.
    pub slot: Option<SlotNumber>,
}

/// A Twilio conference status callback, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceEvent {
    pub conference_name: String,
    pub conference_sid: ConferenceSid,
    pub kind: ConferenceEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConferenceEventKind {
    Started,
    Ended,
    ParticipantJoined,
    ParticipantLeft(LeaveReason),
    /// Any other event (mute, hold, announcement…): nothing to do.
    Other,
}

/// `ReasonParticipantLeft`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    HungUp,
    UpdatedViaApi,
    Other,
}

/// A call status callback, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStatusUpdate {
    pub call: CallSid,
    /// Set for a child leg (an agent's browser dialled from the caller's leg).
    pub parent: Option<CallSid>,
    pub status: CallStatus,
    /// The agent whose browser the leg rings (`To=client:identity`).
    pub agent: Option<AgentIdentity>,
}

/// A new inbound call, from the voice webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundCall {
    pub pstn: CallSid,
    pub dialled: PhoneNumber,
    pub caller: Caller,
}

/// Where an inbound call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRouting {
    pub org: Organisation,
    /// The agents to ring, all at once. Empty when nobody is available.
    pub agents: Vec<AgentIdentity>,
}

/// What the TwiML answering a retrieve `<Dial>`'s `action` must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterDial {
    /// The agent did not answer: back to the conference of the same slot.
    ReturnToLot(ParkedCall, Organisation),
    /// A ring-back went unanswered: record a voicemail.
    Voicemail(ParkedCall, Organisation),
    /// The call was answered (or is over): nothing more for the caller's leg here.
    Hangup,
}

/// One slot of the lot view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotView {
    pub slot: SlotNumber,
    pub call: Option<ParkedCall>,
}

/// An organisation's whole lot at one sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotView {
    pub org: Organisation,
    pub slots: Vec<SlotView>,
    pub sequence: Sequence,
}

/// What one sweep of due deadlines or in-flight records did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepReport {
    /// Records examined.
    pub examined: usize,
    /// Records this instance moved (others may have been moved by another instance).
    pub moved: usize,
    /// Records whose handling failed (the store or provider erred); the next sweep retries.
    pub failed: usize,
}

impl SweepReport {
    fn of(examined: usize) -> Self {
        Self {
            examined,
            ..Self::default()
        }
    }

    /// Counts one record's outcome. A sweep goes on past one record's failure (the next sweep
    /// retries it), so the failure is logged here rather than returned.
    fn count(&mut self, outcome: Result<bool, SignalError>, what: &'static str) {
        match outcome {
            Ok(true) => self.moved += 1,
            Ok(false) => {}
            Err(e) => {
                self.failed += 1;
                tracing::warn!(error = &e as &dyn std::error::Error, "{what}");
            }
        }
    }
}

/// A parked call and the organisation it belongs to: what the TwiML endpoints render from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedCallContext {
    pub call: ParkedCall,
    pub org: Organisation,
}

// ---------------------------------------------------------------------------------------------

impl ParkingService {
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// A live feed of every organisation's events (filter by organisation yourself).
    pub fn subscribe(&self) -> Box<dyn EventSubscription> {
        self.ports.events.subscribe()
    }

    // ----- administration -----

    /// # Errors
    /// As [`ParkingStore::create_org`].
    pub async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError> {
        self.ports.store.create_org(org).await
    }

    /// # Errors
    /// As [`ParkingStore::create_agent`].
    pub async fn create_agent(&self, agent: &NewAgent) -> Result<Agent, CreateAgentError> {
        self.ports.store.create_agent(agent).await
    }

    /// The agent an API token belongs to.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn authenticate(&self, token: &TokenHash) -> Result<Option<Agent>, StoreError> {
        self.ports.store.agent_by_token(token).await
    }

    /// # Errors
    /// [`StoreError`] only.
    pub async fn org(&self, slug: &OrgSlug) -> Result<Option<Organisation>, StoreError> {
        self.ports.store.org(slug).await
    }

    /// # Errors
    /// [`StoreError`] only.
    pub async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        self.ports.store.agents(org).await
    }

    /// Sets an agent's presence (sign-in, sign-out). Calls it parked stay parked.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn set_presence(
        &self,
        agent: &Agent,
        status: AgentStatus,
    ) -> Result<bool, StoreError> {
        self.ports
            .store
            .set_agent_status(&agent.org, &agent.identity, status, None)
            .await
    }

    // ----- reads -----

    /// The whole lot of an organisation, free slots included.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn lot(&self, org: &Organisation) -> Result<LotView, StoreError> {
        let mut snapshot = self.ports.store.lot(&org.slug).await?;
        snapshot.occupied.sort_by_key(|c| c.slot);
        let mut occupied = snapshot.occupied.into_iter().peekable();
        let slots = org
            .lot_size
            .slots()
            .map(|slot| SlotView {
                slot,
                call: occupied.next_if(|c| c.slot == slot),
            })
            .collect();
        Ok(LotView {
            org: org.clone(),
            slots,
            sequence: snapshot.sequence,
        })
    }

    /// Events of an organisation after `after`, for a client that resumes.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        limit: usize,
    ) -> Result<Vec<LotEvent>, StoreError> {
        self.ports.store.events_after(org, after, limit).await
    }

    /// A parked call with its organisation, for rendering its TwiML.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn parked_call(
        &self,
        id: ParkedCallId,
    ) -> Result<Option<ParkedCallContext>, StoreError> {
        let Some(call) = self.ports.store.parked_call(id).await? else {
            return Ok(None);
        };
        let Some(org) = self.ports.store.org(&call.org).await? else {
            return Ok(None);
        };
        Ok(Some(ParkedCallContext { call, org }))
    }

    // ----- inbound -----

    /// A caller dialled one of the organisations' numbers: remember the call and say which
    /// agents to ring.
    ///
    /// # Errors
    /// [`InboundError::UnknownNumber`] when no organisation answers the number.
    pub async fn on_inbound_call(&self, call: InboundCall) -> Result<InboundRouting, InboundError> {
        let store = &self.ports.store;
        let org = store
            .org_by_number(&call.dialled)
            .await?
            .ok_or_else(|| InboundError::UnknownNumber(call.dialled.clone()))?;
        store
            .record_call(&Call {
                org: org.slug.clone(),
                pstn: call.pstn,
                caller: call.caller,
            })
            .await?;
        let agents = store
            .agents(&org.slug)
            .await?
            .into_iter()
            .filter(|a| a.status == AgentStatus::Available)
            .map(|a| a.identity)
            .collect();
        Ok(InboundRouting { org, agents })
    }

    // ----- park -----

    /// Parks the call `agent` is on.
    ///
    /// # Errors
    /// See [`ParkError`]: the call unknown, the slot taken or out of range, the lot full, the
    /// caller gone, the provider failing, the store unavailable.
    pub async fn park(&self, agent: &Agent, request: ParkRequest) -> Result<ParkedCall, ParkError> {
        let store = &self.ports.store;
        let org = store
            .org(&agent.org)
            .await?
            .ok_or(ParkError::CallNotFound)?;
        if let Some(slot) = request.slot
            && !org.lot_size.contains(slot)
        {
            return Err(ParkError::SlotOutOfRange {
                slot,
                lot_size: org.lot_size.get(),
            });
        }
        let call = self.caller_leg_of(&org, &request.call).await?;
        let claim = NewParkedCall {
            org: org.slug.clone(),
            request: request
                .slot
                .map_or(SlotRequest::Auto(org.auto_slot), SlotRequest::Requested),
            pstn_call: call.pstn.clone(),
            caller: call.caller,
            parked_by: agent.identity.clone(),
            now: self.now(),
        };
        let event = store.claim_slot(&claim).await.map_err(|e| match e {
            ClaimError::UnknownOrg => ParkError::CallNotFound,
            ClaimError::SlotOutOfRange { slot, lot_size } => ParkError::SlotOutOfRange {
                slot,
                lot_size: lot_size.get(),
            },
            ClaimError::SlotOccupied(slot) => ParkError::SlotOccupied(slot),
            ClaimError::LotFull => ParkError::LotFull,
            ClaimError::AlreadyParked(_, slot) => ParkError::AlreadyParked(slot),
            ClaimError::Store(e) => ParkError::Store(e),
        })?;
        self.ports.events.publish(&event).await;
        let parking = event.call;

        let urls = &self.ports.urls;
        let redirect = self
            .ports
            .telephony
            .redirect(
                &parking.pstn_call,
                &urls.park(parking.id),
                &urls.call_status(),
            )
            .await;
        let (signal, failure) = redirect_signal(redirect);
        // The browser leg drops as the caller's leg leaves it: once Twilio has taken the
        // caller, the parker is free again, stored with the call's move to `parked`.
        let parker_free = |_: &ParkedCall| {
            Some(AgentStatusChange {
                org: agent.org.clone(),
                identity: agent.identity.clone(),
                status: AgentStatus::Available,
                current_call: None,
            })
        };
        let follows: Option<AgentFollows<'_>> = failure.is_none().then_some(&parker_free);
        let after = self
            .signal_setting_agent(parking.id, Some(parking.clone()), &signal, &org, follows)
            .await
            .map_err(|e| match e {
                SignalError::Store(e) => ParkError::Store(e),
                SignalError::Contended => ParkError::Store(StoreError::Internal(e.into())),
            })?;
        if let Some(failure) = failure {
            return Err(match signal {
                Signal::RedirectRefused(Refusal::CallerGone) => ParkError::CallerGone,
                _ => ParkError::Telephony(failure),
            });
        }
        // No transition to store it with (the conference's callback got there first).
        if !after.agent_set {
            store
                .set_agent_status(&agent.org, &agent.identity, AgentStatus::Available, None)
                .await?;
        }
        Ok(after.call.unwrap_or(parking))
    }

    /// The caller's leg behind the SID an agent sent: its own browser leg (as learnt from the
    /// child legs' status callbacks, else from the provider), or the caller's leg itself.
    async fn caller_leg_of(&self, org: &Organisation, sid: &CallSid) -> Result<Call, ParkError> {
        let store = &self.ports.store;
        let known = match store.call_by_browser_leg(sid).await? {
            Some(call) => Some(call),
            None => store.call_by_pstn(sid).await?,
        };
        if let Some(call) = known {
            // Another organisation's call is as good as unknown: say nothing about it.
            return if call.org == org.slug {
                Ok(call)
            } else {
                Err(ParkError::CallNotFound)
            };
        }
        let leg = match self.ports.telephony.find_pstn_leg(sid).await {
            Ok(leg) => leg,
            Err(TelephonyError::NotFound | TelephonyError::NotInProgress) => {
                return Err(ParkError::CallNotFound);
            }
            Err(e @ TelephonyError::OutcomeUnknown(_)) => {
                return Err(TelephonyFailure::OutcomeUnknown(e).into());
            }
            Err(e) => return Err(TelephonyFailure::Rejected(e).into()),
        };
        if let Some(call) = store.call_by_pstn(&leg.sid).await?
            && call.org != org.slug
        {
            return Err(ParkError::CallNotFound);
        }
        let call = Call {
            org: org.slug.clone(),
            pstn: leg.sid,
            caller: leg.caller,
        };
        store.record_call(&call).await?;
        store.link_browser_leg(sid, &call.pstn, None).await?;
        Ok(call)
    }

    // ----- retrieve -----

    /// Connects the call parked in `slot` to `target` (by default, the asking agent).
    ///
    /// # Errors
    /// See [`RetrieveError`]. Of concurrent retrieves of one slot exactly one succeeds; the
    /// others get [`RetrieveError::AlreadyRetrieving`].
    pub async fn retrieve(
        &self,
        agent: &Agent,
        slot: SlotNumber,
        target: Option<AgentIdentity>,
    ) -> Result<ParkedCall, RetrieveError> {
        let store = &self.ports.store;
        let org = store
            .org(&agent.org)
            .await?
            .ok_or(RetrieveError::SlotEmpty(slot))?;
        if !org.lot_size.contains(slot) {
            return Err(RetrieveError::SlotOutOfRange {
                slot,
                lot_size: org.lot_size.get(),
            });
        }
        let target = match target {
            Some(identity) if identity != agent.identity => {
                store
                    .agent(&org.slug, &identity)
                    .await?
                    .ok_or(RetrieveError::UnknownAgent(identity))?
                    .identity
            }
            _ => agent.identity.clone(),
        };
        let occupant = store
            .occupant(&org.slug, slot)
            .await?
            .ok_or(RetrieveError::SlotEmpty(slot))?;

        let retrieving = match self
            .apply_command(
                occupant.id,
                Some(occupant),
                &Signal::RetrieveRequested(target),
                &org,
            )
            .await
        {
            Ok(Some(call)) => call,
            Ok(None) => return Err(RetrieveError::SlotEmpty(slot)),
            Err(CommandError::Transition(TransitionError::AlreadyRetrieving)) => {
                return Err(RetrieveError::AlreadyRetrieving(slot));
            }
            Err(CommandError::Transition(TransitionError::NotYetParked)) => {
                return Err(RetrieveError::NotYetParked(slot));
            }
            Err(CommandError::Transition(TransitionError::Ended(_))) => {
                return Err(RetrieveError::SlotEmpty(slot));
            }
            Err(CommandError::Signal(SignalError::Store(e))) => return Err(e.into()),
            Err(CommandError::Signal(e @ SignalError::Contended)) => {
                return Err(StoreError::Internal(e.into()).into());
            }
        };

        let urls = &self.ports.urls;
        let redirect = self
            .ports
            .telephony
            .redirect(
                &retrieving.pstn_call,
                &urls.retrieve(retrieving.id),
                &urls.call_status(),
            )
            .await;
        let (signal, failure) = redirect_signal(redirect);
        self.signal_from(retrieving.clone(), &signal, &org)
            .await
            .map_err(|e| match e {
                SignalError::Store(e) => RetrieveError::Store(e),
                SignalError::Contended => RetrieveError::Store(StoreError::Internal(e.into())),
            })?;
        match failure {
            None => Ok(retrieving),
            Some(_) if signal == Signal::RedirectRefused(Refusal::CallerGone) => {
                Err(RetrieveError::CallerGone(slot))
            }
            Some(failure) => Err(failure.into()),
        }
    }

    // ----- Twilio's signals -----

    /// A conference status callback.
    ///
    /// # Errors
    /// [`SignalError`] when the store fails.
    pub async fn on_conference_event(
        &self,
        event: &ConferenceEvent,
    ) -> Result<Option<ParkedCall>, SignalError> {
        let Some(id) = ParkedCallId::from_conference_name(&event.conference_name) else {
            return Ok(None);
        };
        let signal = match event.kind {
            ConferenceEventKind::Started | ConferenceEventKind::ParticipantJoined => {
                Signal::ConferenceJoined(event.conference_sid.clone())
            }
            ConferenceEventKind::ParticipantLeft(LeaveReason::HungUp) => Signal::CallerHungUp,
            ConferenceEventKind::ParticipantLeft(
                LeaveReason::UpdatedViaApi | LeaveReason::Other,
            )
            | ConferenceEventKind::Ended => Signal::LeftByRedirect,
            ConferenceEventKind::Other => return Ok(None),
        };
        self.signal_by_id(id, &signal).await
    }

    /// A call status callback: a child leg teaches which browser leg bridges to which caller's
    /// leg and whether its agent is on a call; a caller's leg that ended frees its slot.
    ///
    /// # Errors
    /// [`SignalError`] when the store fails.
    pub async fn on_call_status(&self, update: &CallStatusUpdate) -> Result<(), SignalError> {
        let store = &self.ports.store;
        if let Some(parent) = &update.parent {
            store
                .link_browser_leg(&update.call, parent, update.agent.as_ref())
                .await?;
            if let (Some(identity), Some(call)) = (&update.agent, store.call_by_pstn(parent).await?)
            {
                self.track_agent_leg(&call.org, identity, &update.call, update.status)
                    .await?;
            }
        }
        // A caller's leg can itself be a child (a call the browser placed), so a hang-up is
        // looked for whatever the parent.
        if update.status.is_final() {
            if let Some(parked) = store.occupant_by_pstn(&update.call).await? {
                let org = self.org_of(&parked).await?;
                self.signal_from(parked, &Signal::CallerHungUp, &org)
                    .await?;
            }
            self.release_agents_of(&update.call).await?;
        }
        Ok(())
    }

    /// The caller's leg `pstn` ended: every agent still on a call bridged to it is free again.
    /// An agent's own leg does not always report its end (a retrieve's `<Client>` reports only
    /// `answered`), so the caller's end is what frees the agent.
    async fn release_agents_of(&self, pstn: &CallSid) -> Result<(), StoreError> {
        let store = &self.ports.store;
        let Some(call) = store.call_by_pstn(pstn).await? else {
            return Ok(());
        };
        for agent in store.agents(&call.org).await? {
            let Some(leg) = agent
                .current_call
                .as_ref()
                .filter(|_| agent.status == AgentStatus::OnCall)
            else {
                continue;
            };
            let bridged = leg == pstn
                || store
                    .call_by_browser_leg(leg)
                    .await?
                    .is_some_and(|c| &c.pstn == pstn);
            if bridged {
                store
                    .set_agent_status(&agent.org, &agent.identity, AgentStatus::Available, None)
                    .await?;
            }
        }
        Ok(())
    }

    async fn track_agent_leg(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        leg: &CallSid,
        status: CallStatus,
    ) -> Result<(), StoreError> {
        let store = &self.ports.store;
        match status {
            CallStatus::InProgress => {
                store
                    .set_agent_status(org, identity, AgentStatus::OnCall, Some(leg))
                    .await?;
            }
            s if s.is_final() => {
                let agent = store.agent(org, identity).await?;
                if agent.is_some_and(|a| a.current_call.as_ref() == Some(leg)) {
                    store
                        .set_agent_status(org, identity, AgentStatus::Available, None)
                        .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The retrieving agent's browser answered (its `<Client>` status callback).
    ///
    /// # Errors
    /// [`SignalError`] when the store fails.
    pub async fn on_dial_answered(
        &self,
        id: ParkedCallId,
        browser_leg: Option<&CallSid>,
    ) -> Result<Option<ParkedCall>, SignalError> {
        // Only an answer that connected the caller puts the agent on the call: after a
        // hang-up (callbacks out of order) there is nobody on the line.
        let on_call = |call: &ParkedCall| {
            let agent = call.retrieval.as_ref().and_then(Retrieval::agent)?;
            let leg = browser_leg?;
            (call.state == ParkState::Retrieved).then(|| AgentStatusChange {
                org: call.org.clone(),
                identity: agent.clone(),
                status: AgentStatus::OnCall,
                current_call: Some(leg.clone()),
            })
        };
        let Some(ctx) = self.parked_call(id).await? else {
            return Ok(None);
        };
        let after = self
            .signal_setting_agent(
                id,
                Some(ctx.call),
                &Signal::DialAnswered,
                &ctx.org,
                Some(&on_call),
            )
            .await?;
        // A repeated answer: no transition to store it with.
        if !after.agent_set
            && let (Some(call), Some(leg)) = (&after.call, browser_leg)
            && let Some(change) = on_call(call)
        {
            let store = &self.ports.store;
            store
                .link_browser_leg(leg, &call.pstn_call, Some(&change.identity))
                .await?;
            store
                .set_agent_status(&call.org, &change.identity, AgentStatus::OnCall, Some(leg))
                .await?;
        }
        Ok(after.call)
    }

    /// The retrieve `<Dial>` ended (its `action` callback): says what the caller's leg does
    /// next.
    ///
    /// # Errors
    /// [`SignalError`] when the store fails.
    pub async fn on_dial_result(
        &self,
        id: ParkedCallId,
        outcome: DialOutcome,
    ) -> Result<AfterDial, SignalError> {
        let Some(after) = self.signal_by_id(id, &Signal::DialEnded(outcome)).await? else {
            return Ok(AfterDial::Hangup);
        };
        let org = self.org_of(&after).await?;
        Ok(match after.state {
            ParkState::Parked => AfterDial::ReturnToLot(after, org),
            ParkState::Voicemail if after.recording_url.is_none() => {
                AfterDial::Voicemail(after, org)
            }
            _ => AfterDial::Hangup,
        })
    }

    /// A voicemail recording is ready.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn on_recording(&self, id: ParkedCallId, url: &HttpUrl) -> Result<bool, StoreError> {
        self.ports.store.attach_recording(id, url).await
    }

    // ----- sweeps -----

    /// Fires the timeout action of up to `limit` parked calls whose deadline has passed. Safe
    /// to run on every instance at once: each deadline fires exactly once (compare-and-set).
    ///
    /// # Errors
    /// [`StoreError`] when the due deadlines cannot be read.
    pub async fn fire_due_deadlines(&self, limit: usize) -> Result<SweepReport, StoreError> {
        let due = self.ports.store.due_deadlines(self.now(), limit).await?;
        let mut report = SweepReport::of(due.len());
        for call in due {
            report.count(self.fire_deadline(call).await, "firing a deadline failed");
        }
        Ok(report)
    }

    async fn fire_deadline(&self, call: ParkedCall) -> Result<bool, SignalError> {
        let org = self.org_of(&call).await?;
        let route = match org.timeout_action {
            TimeoutAction::Voicemail => TimeoutRoute::Voicemail,
            TimeoutAction::Ringback => {
                let parker = self.ports.store.agent(&org.slug, &call.parked_by).await?;
                if parker.is_some_and(|p| p.status == AgentStatus::Available) {
                    TimeoutRoute::Ringback(call.parked_by.clone())
                } else {
                    // Nobody to ring: a parked caller is never dropped, it leaves a message.
                    TimeoutRoute::Voicemail
                }
            }
        };
        let ctx = self.context(&org);
        let Ok(Step::Moved(change)) = transition(&call, &Signal::DeadlinePassed(route), ctx) else {
            return Ok(false);
        };
        let event = match self
            .ports
            .store
            .apply(&call, &change.next, change.event, ctx.now)
            .await
        {
            Ok(event) => event,
            // Another instance fired it, or the caller moved meanwhile: not ours to fire.
            Err(CasError::Conflict | CasError::NotFound) => return Ok(false),
            Err(CasError::Store(e)) => return Err(e.into()),
        };
        self.ports.events.publish(&event).await;
        let target = match change.effect {
            Some(Effect::SendToVoicemail) => self.ports.urls.voicemail(call.id),
            _ => self.ports.urls.retrieve(call.id),
        };
        self.redirect_and_report(&event.call, &target, &org).await?;
        Ok(true)
    }

    /// Resolves records whose telephony outcome is unknown: `Parking` or `Retrieving` for longer
    /// than `grace` (a timeout, a crash between the claim and Twilio's answer). The caller's
    /// leg is fetched: gone → abandoned (or failed, if never parked); still there → parked, or
    /// the retrieve is issued again.
    ///
    /// # Errors
    /// [`StoreError`] when the records cannot be read.
    pub async fn reconcile(
        &self,
        grace: Duration,
        limit: usize,
    ) -> Result<SweepReport, StoreError> {
        let before = self.now() - grace;
        let stale = self.ports.store.in_flight_since(before, limit).await?;
        let mut report = SweepReport::of(stale.len());
        for call in stale {
            report.count(self.reconcile_one(&call).await, "reconciling a call failed");
        }
        Ok(report)
    }

    async fn reconcile_one(&self, call: &ParkedCall) -> Result<bool, SignalError> {
        let org = self.org_of(call).await?;
        let telephony = &self.ports.telephony;
        let status = match telephony.call_status(&call.pstn_call).await {
            Ok(status) => status,
            Err(TelephonyError::NotFound) => CallStatus::Completed,
            // The provider cannot tell us now: the next sweep asks again.
            Err(_) => return Ok(false),
        };
        let urls = &self.ports.urls;
        let after = match (call.state, status.is_final()) {
            (ParkState::Parking, true) => {
                let refused = Signal::RedirectRefused(Refusal::CallerGone);
                self.signal(call.id, &refused, &org).await?
            }
            (_, true) => self.signal(call.id, &Signal::CallerHungUp, &org).await?,
            (ParkState::Parking, false) => {
                // Redirecting again is safe: the caller lands in the conference either way.
                self.redirect_and_report(call, &urls.park(call.id), &org)
                    .await?
            }
            (_, false) if call.retrieval == Some(Retrieval::ToVoicemail) => {
                // Sending the caller to voicemail again is safe: it is not there yet, or it
                // starts its message over.
                self.redirect_and_report(call, &urls.voicemail(call.id), &org)
                    .await?
            }
            (_, false) => {
                let connected = match telephony.connected_legs(&call.pstn_call).await {
                    Ok(legs) => legs,
                    Err(_) => return Ok(false),
                };
                if connected.is_empty() {
                    // Nobody took it: back to the lot (or voicemail, for a ring-back).
                    let not_answered = Signal::DialEnded(DialOutcome::NotAnswered);
                    match self.signal(call.id, &not_answered, &org).await? {
                        Some(after) if after.state == ParkState::Parked => {
                            self.redirect_and_report(&after, &urls.park(call.id), &org)
                                .await?
                        }
                        Some(after) if after.state == ParkState::Voicemail => {
                            self.redirect_and_report(&after, &urls.voicemail(call.id), &org)
                                .await?
                        }
                        after => after,
                    }
                } else {
                    self.signal(call.id, &Signal::DialAnswered, &org).await?
                }
            }
        };
        Ok(after.is_some_and(|after| after.version != call.version))
    }

    // ----- the machinery -----

    fn context(&self, org: &Organisation) -> TransitionContext {
        TransitionContext {
            now: self.now(),
            // Twilio ends a call after four hours: a longer park would drop the caller before
            // the timeout action could ring back or take a message.
            max_park: org.max_park.min(MAX_PARK_TIME),
        }
    }

    async fn org_of(&self, call: &ParkedCall) -> Result<Organisation, StoreError> {
        self.ports.store.org(&call.org).await?.ok_or_else(|| {
            StoreError::Internal(format!("parked call {} has no organisation", call.id).into())
        })
    }

    async fn signal_by_id(
        &self,
        id: ParkedCallId,
        signal: &Signal,
    ) -> Result<Option<ParkedCall>, SignalError> {
        let Some(ctx) = self.parked_call(id).await? else {
            return Ok(None);
        };
        self.signal_from(ctx.call, signal, &ctx.org).await
    }

    /// Applies a Twilio signal; returns the record after it (`None` for an unknown id).
    async fn signal(
        &self,
        id: ParkedCallId,
        signal: &Signal,
        org: &Organisation,
    ) -> Result<Option<ParkedCall>, SignalError> {
        self.signal_with(id, None, signal, org).await
    }

    /// [`Self::signal`] on a record the caller has just read or written: the first
    /// compare-and-set is tried on it without reading it again (a stale one loses and is
    /// re-read, as any loser is).
    async fn signal_from(
        &self,
        current: ParkedCall,
        signal: &Signal,
        org: &Organisation,
    ) -> Result<Option<ParkedCall>, SignalError> {
        self.signal_with(current.id, Some(current), signal, org)
            .await
    }

    async fn signal_with(
        &self,
        id: ParkedCallId,
        known: Option<ParkedCall>,
        signal: &Signal,
        org: &Organisation,
    ) -> Result<Option<ParkedCall>, SignalError> {
        self.signal_setting_agent(id, known, signal, org, None)
            .await
            .map(|applied| applied.call)
    }

    /// [`Self::signal_with`], and the agent status that `follows` derives from the record a
    /// transition stores, set in the same write.
    async fn signal_setting_agent(
        &self,
        id: ParkedCallId,
        known: Option<ParkedCall>,
        signal: &Signal,
        org: &Organisation,
        follows: Option<AgentFollows<'_>>,
    ) -> Result<Applied, SignalError> {
        match self
            .apply_command_with(id, known, signal, org, follows)
            .await
        {
            Ok(applied) => Ok(applied),
            Err(CommandError::Signal(e)) => Err(e),
            // Twilio's signals never fail a transition; only agents' commands do.
            Err(CommandError::Transition(_)) => Err(SignalError::Contended),
        }
    }

    /// Reads the record (unless the caller `known` it already), applies the signal, and stores
    /// the result with a compare-and-set, re-reading and re-applying when another writer won.
    /// The signals with a telephony effect (a retrieve, a deadline) are carried out by their
    /// use cases, which report the outcome.
    async fn apply_command(
        &self,
        id: ParkedCallId,
        known: Option<ParkedCall>,
        signal: &Signal,
        org: &Organisation,
    ) -> Result<Option<ParkedCall>, CommandError> {
        self.apply_command_with(id, known, signal, org, None)
            .await
            .map(|applied| applied.call)
    }

    /// [`Self::apply_command`], with the agent status that `follows` derives from the stored
    /// record written in the same transaction.
    async fn apply_command_with(
        &self,
        id: ParkedCallId,
        mut known: Option<ParkedCall>,
        signal: &Signal,
        org: &Organisation,
        follows: Option<AgentFollows<'_>>,
    ) -> Result<Applied, CommandError> {
        let store = &self.ports.store;
        for _ in 0..CAS_ATTEMPTS {
            let current = match known.take() {
                Some(current) => current,
                None => match store.parked_call(id).await.map_err(SignalError::from)? {
                    Some(current) => current,
                    None => return Ok(Applied::nothing(None)),
                },
            };
            let ctx = self.context(org);
            let change =
                match transition(&current, signal, ctx).map_err(CommandError::Transition)? {
                    Step::Absorbed | Step::Unchanged => return Ok(Applied::nothing(Some(current))),
                    Step::Moved(change) => change,
                };
            let agent = follows.and_then(|follows| follows(&change.next));
            let stored = match &agent {
                Some(agent) => {
                    store
                        .apply_and_set_agent(&current, &change.next, change.event, ctx.now, agent)
                        .await
                }
                None => {
                    store
                        .apply(&current, &change.next, change.event, ctx.now)
                        .await
                }
            };
            match stored {
                Ok(event) => {
                    self.ports.events.publish(&event).await;
                    return Ok(Applied {
                        call: Some(event.call),
                        agent_set: agent.is_some(),
                    });
                }
                Err(CasError::Conflict) => {}
                Err(CasError::NotFound) => return Ok(Applied::nothing(None)),
                Err(CasError::Store(e)) => return Err(SignalError::Store(e).into()),
            }
        }
        Err(SignalError::Contended.into())
    }

    /// Redirects the caller's leg and feeds the outcome back into the state machine.
    async fn redirect_and_report(
        &self,
        call: &ParkedCall,
        target: &HttpUrl,
        org: &Organisation,
    ) -> Result<Option<ParkedCall>, SignalError> {
        let redirect = self
            .ports
            .telephony
            .redirect(&call.pstn_call, target, &self.ports.urls.call_status())
            .await;
        let (signal, _) = redirect_signal(redirect);
        self.signal(call.id, &signal, org).await
    }
}

/// The agent status that follows from the record a transition stores, if any.
type AgentFollows<'a> = &'a (dyn Fn(&ParkedCall) -> Option<AgentStatusChange> + Sync);

/// A signal or command applied: the record after it, and whether an agent status that
/// followed from it was stored with it.
struct Applied {
    call: Option<ParkedCall>,
    agent_set: bool,
}

impl Applied {
    /// Nothing stored: the record as it was (`None` for an unknown one).
    fn nothing(call: Option<ParkedCall>) -> Self {
        Self {
            call,
            agent_set: false,
        }
    }
}

#[derive(Debug, Error)]
enum CommandError {
    #[error(transparent)]
    Transition(TransitionError),
    #[error(transparent)]
    Signal(#[from] SignalError),
}

/// The signal a redirect's outcome means, and the failure to report if any.
fn redirect_signal(result: Result<(), TelephonyError>) -> (Signal, Option<TelephonyFailure>) {
    match result {
        Ok(()) => (Signal::RedirectAccepted, None),
        Err(e @ (TelephonyError::NotInProgress | TelephonyError::NotFound)) => (
            Signal::RedirectRefused(Refusal::CallerGone),
            Some(TelephonyFailure::Rejected(e)),
        ),
        Err(e @ TelephonyError::OutcomeUnknown(_)) => (
            Signal::RedirectOutcomeUnknown,
            Some(TelephonyFailure::OutcomeUnknown(e)),
        ),
        Err(e @ (TelephonyError::CredentialsRejected | TelephonyError::NotProcessed(_))) => (
            Signal::RedirectRefused(Refusal::NotProcessed),
            Some(TelephonyFailure::Rejected(e)),
        ),
    }
}
