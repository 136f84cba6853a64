//! # callpark-memory
//!
//! An in-memory [`ParkingStore`] and [`EventPublisher`]: the store `callpark serve` uses when
//! no database is configured, and what embedders use in their own tests.
//!
//! Everything sits behind one mutex, which is what makes a slot claim atomic: of any number of
//! concurrent claims of one slot exactly one succeeds. Nothing survives a restart, and history
//! (terminal parked calls, events) is kept for the life of the process, up to
//! [`EVENTS_KEPT_PER_ORG`] events per organisation.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{
    Agent, AgentChange, AgentIdentity, AgentStatus, AgentStatusChange, AutoSlot, Call, CallSid,
    CasError, ChangeOrgError, ClaimError, CreateAgentError, CreateOrgError, Forgotten,
    HistoryCursor, HistoryFilter, LotEvent, LotEventKind, LotSnapshot, NewAgent, NewOrganisation,
    NewParkedCall, NewSession, OrgChange, OrgSlug, Organisation, ParkState, ParkedCall,
    ParkedCallId, ParkingStore, PhoneNumber, Sequence, SlotNumber, SlotRequest, StoreError,
    TokenHash,
};
use time::OffsetDateTime;

mod access;
mod events;
mod legs;
mod parked;
mod roster;

pub use events::MemoryEvents;

/// How many events per organisation are kept for clients that resume; older ones are dropped
/// (a client that far behind reloads the lot).
pub const EVENTS_KEPT_PER_ORG: usize = 10_000;

#[derive(Debug, Default)]
struct State {
    orgs: HashMap<OrgSlug, Organisation>,
    numbers: HashMap<PhoneNumber, OrgSlug>,
    agents: BTreeMap<(OrgSlug, AgentIdentity), Agent>,
    access: access::Access,
    /// When each agent last showed signs of life.
    seen: HashMap<(OrgSlug, AgentIdentity), OffsetDateTime>,
    calls: HashMap<CallSid, Call>,
    browser_legs: HashMap<CallSid, legs::BrowserLeg>,
    parked: HashMap<ParkedCallId, ParkedCall>,
    occupancy: HashMap<(OrgSlug, SlotNumber), ParkedCallId>,
    occupying_pstn: HashMap<CallSid, ParkedCallId>,
    last_claimed: HashMap<OrgSlug, SlotNumber>,
    events: HashMap<OrgSlug, VecDeque<LotEvent>>,
    sequences: HashMap<OrgSlug, Sequence>,
    /// When each available agent became available, in the order of the counter below.
    available_since: HashMap<(OrgSlug, AgentIdentity), u64>,
    available_counter: u64,
}

impl State {
    fn apply(
        &mut self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
    ) -> Result<LotEvent, CasError> {
        let stored = self.parked.get(&current.id).ok_or(CasError::NotFound)?;
        if stored.state != current.state || stored.version != current.version {
            return Err(CasError::Conflict);
        }
        let mut next = next.clone();
        // Identity and history fields are the store's, whatever `next` says.
        next.id = stored.id;
        next.org = stored.org.clone();
        next.slot = stored.slot;
        next.pstn_call = stored.pstn_call.clone();
        next.version = stored.version + 1;
        if !next.state.occupies_slot() {
            self.occupancy.remove(&(next.org.clone(), next.slot));
            self.occupying_pstn.remove(&next.pstn_call);
        }
        self.parked.insert(next.id, next.clone());
        Ok(self.record_event(kind, &next, at))
    }

    fn set_agent_status(
        &mut self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        status: AgentStatus,
        current_call: Option<&CallSid>,
    ) -> bool {
        let key = (org.clone(), identity.clone());
        match self.agents.get_mut(&key) {
            // A deactivated agent stays offline, whatever a late callback says.
            Some(agent) if !agent.active => true,
            Some(agent) => {
                if status == AgentStatus::Available && agent.status != AgentStatus::Available {
                    self.available_counter += 1;
                    self.available_since.insert(key, self.available_counter);
                }
                agent.status = status;
                agent.current_call = current_call.cloned();
                true
            }
            None => false,
        }
    }

    fn record_event(
        &mut self,
        kind: LotEventKind,
        call: &ParkedCall,
        at: OffsetDateTime,
    ) -> LotEvent {
        let sequence = self.sequences.entry(call.org.clone()).or_default();
        *sequence = sequence.next();
        let event = LotEvent {
            org: call.org.clone(),
            sequence: *sequence,
            kind,
            at,
            call: call.clone(),
        };
        let log = self.events.entry(call.org.clone()).or_default();
        if log.len() == EVENTS_KEPT_PER_ORG {
            log.pop_front();
        }
        log.push_back(event.clone());
        event
    }

    fn occupied(&self, org: &OrgSlug, slot: SlotNumber) -> bool {
        self.occupancy.contains_key(&(org.clone(), slot))
    }

    fn choose_slot(
        &self,
        org: &Organisation,
        request: SlotRequest,
    ) -> Result<SlotNumber, ClaimError> {
        let free = |slot: &SlotNumber| !self.occupied(&org.slug, *slot);
        match request {
            SlotRequest::Requested(slot) if !org.lot_size.contains(slot) => {
                Err(ClaimError::SlotOutOfRange {
                    slot,
                    lot_size: org.lot_size,
                })
            }
            SlotRequest::Requested(slot) if free(&slot) => Ok(slot),
            SlotRequest::Requested(slot) => Err(ClaimError::SlotOccupied(slot)),
            SlotRequest::Auto(AutoSlot::FirstFree) => {
                org.lot_size.slots().find(free).ok_or(ClaimError::LotFull)
            }
            SlotRequest::Auto(AutoSlot::NextAfterLastUsed) => {
                let last = self.last_claimed.get(&org.slug).map_or(0, |s| s.get());
                let (before, after): (Vec<_>, Vec<_>) =
                    org.lot_size.slots().partition(|s| s.get() <= last);
                after
                    .into_iter()
                    .chain(before)
                    .find(free)
                    .ok_or(ClaimError::LotFull)
            }
        }
    }
}

/// The in-memory store. Cheap to create; share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves no half-done change behind (every operation
        // checks before it writes), so the state is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl ParkingStore for MemoryStore {
    async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError> {
        let mut state = self.lock();
        if state.orgs.contains_key(&org.slug) {
            return Err(CreateOrgError::AlreadyExists);
        }
        if let Some(taken) = org.numbers.iter().find(|n| state.numbers.contains_key(*n)) {
            return Err(CreateOrgError::NumberTaken(taken.clone()));
        }
        for number in &org.numbers {
            state.numbers.insert(number.clone(), org.slug.clone());
        }
        state.orgs.insert(org.slug.clone(), org.clone());
        Ok(org.clone())
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<Organisation>, StoreError> {
        Ok(self.lock().orgs.get(slug).cloned())
    }

    async fn org_by_number(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<Organisation>, StoreError> {
        let state = self.lock();
        Ok(state
            .numbers
            .get(number)
            .and_then(|slug| state.orgs.get(slug))
            .cloned())
    }

    async fn create_agent(&self, new: &NewAgent) -> Result<Agent, CreateAgentError> {
        self.lock().create_agent(new)
    }

    async fn agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<Option<Agent>, StoreError> {
        Ok(self
            .lock()
            .agents
            .get(&(org.clone(), identity.clone()))
            .cloned())
    }

    async fn agent_by_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError> {
        let state = self.lock();
        let key = state.access.token_agent(hash, now);
        Ok(access::agent_of(&state.agents, &state.orgs, key))
    }

    async fn replace_token(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        hash: &TokenHash,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let key = (org.clone(), identity.clone());
        if !state.agents.contains_key(&key) {
            return Ok(false);
        }
        state.access.set_token(key, hash, expires_at);
        Ok(true)
    }

    async fn start_session(&self, session: &NewSession) -> Result<(), StoreError> {
        self.lock().access.start_session(session);
        Ok(())
    }

    async fn agent_by_session(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<Agent>, StoreError> {
        let state = &mut *self.lock();
        let key = state.access.session_agent(hash, now, idle);
        Ok(access::agent_of(&state.agents, &state.orgs, key))
    }

    async fn end_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.lock().access.end_session(hash);
        Ok(())
    }

    async fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let mut orgs: Vec<Organisation> = self.lock().orgs.values().cloned().collect();
        orgs.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(orgs)
    }

    async fn change_org(
        &self,
        slug: &OrgSlug,
        change: &OrgChange,
    ) -> Result<Organisation, ChangeOrgError> {
        self.lock().change_org(slug, change)
    }

    async fn change_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        change: &AgentChange,
    ) -> Result<Option<Agent>, StoreError> {
        Ok(self.lock().change_agent(org, identity, change))
    }

    async fn deactivate_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError> {
        Ok(self.lock().deactivate_agent(org, identity, at))
    }

    async fn agent_seen(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.lock().agent_seen(org, identity, at);
        Ok(())
    }

    async fn expire_presence(&self, seen_before: OffsetDateTime) -> Result<Vec<Agent>, StoreError> {
        Ok(self.lock().expire_presence(seen_before))
    }

    async fn end_agent_sessions(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<(), StoreError> {
        let agent = (org.clone(), identity.clone());
        self.lock().access.end_sessions_of(&agent);
        Ok(())
    }

    async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        Ok(self
            .lock()
            .agents
            .values()
            .filter(|a| &a.org == org)
            .cloned()
            .collect())
    }

    async fn agents_to_ring(
        &self,
        org: &OrgSlug,
        limit: usize,
    ) -> Result<Vec<AgentIdentity>, StoreError> {
        let mut state = self.lock();
        let mut available: Vec<(u64, Agent)> = state
            .agents
            .iter()
            .filter(|(_, a)| &a.org == org && a.status == AgentStatus::Available)
            .map(|(key, a)| {
                (
                    state.available_since.get(key).copied().unwrap_or(0),
                    a.clone(),
                )
            })
            .collect();
        available.sort_by_key(|(since, _)| *since);
        available.truncate(limit);
        for (_, agent) in &available {
            state.available_counter += 1;
            let counter = state.available_counter;
            state
                .available_since
                .insert((agent.org.clone(), agent.identity.clone()), counter);
        }
        Ok(available.into_iter().map(|(_, a)| a.identity).collect())
    }

    async fn set_agent_status<'a>(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        status: AgentStatus,
        current_call: Option<&'a CallSid>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .set_agent_status(org, identity, status, current_call))
    }

    async fn record_call(&self, call: &Call) -> Result<(), StoreError> {
        let mut state = self.lock();
        let started_at = state.calls.get(&call.pstn).map(|known| known.started_at);
        let mut call = call.clone();
        call.started_at = started_at.map_or(call.started_at, |s| s.min(call.started_at));
        state.calls.insert(call.pstn.clone(), call);
        Ok(())
    }

    async fn link_browser_leg<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        _agent: Option<&'a AgentIdentity>,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().link_browser_leg(browser, pstn))
    }

    async fn record_leg_status<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        _agent: Option<&'a AgentIdentity>,
        sequence: Option<u32>,
        ended: bool,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .record_leg_status(browser, pstn, sequence, ended))
    }

    async fn call_by_browser_leg(&self, browser: &CallSid) -> Result<Option<Call>, StoreError> {
        let state = self.lock();
        Ok(state
            .browser_legs
            .get(browser)
            .and_then(|leg| state.calls.get(&leg.pstn))
            .cloned())
    }

    async fn call_by_pstn(&self, pstn: &CallSid) -> Result<Option<Call>, StoreError> {
        Ok(self.lock().calls.get(pstn).cloned())
    }

    async fn claim_slot(&self, request: &NewParkedCall) -> Result<LotEvent, ClaimError> {
        let mut state = self.lock();
        let org = state
            .orgs
            .get(&request.org)
            .cloned()
            .ok_or(ClaimError::UnknownOrg)?;
        if let Some(id) = state.occupying_pstn.get(&request.pstn_call) {
            let slot = state.parked[id].slot;
            return Err(ClaimError::AlreadyParked(*id, slot));
        }
        let slot = state.choose_slot(&org, request.request)?;
        let call = ParkedCall {
            id: ParkedCallId::random(),
            org: org.slug.clone(),
            slot,
            state: ParkState::Parking,
            pstn_call: request.pstn_call.clone(),
            caller: request.caller.clone(),
            parked_by: request.parked_by.clone(),
            parked_at: request.now,
            call_started_at: request.call_started_at,
            conference_sid: None,
            deadline: None,
            retrieval: None,
            attempt: 0,
            ringbacks: 0,
            state_changed_at: request.now,
            ended_at: None,
            recording_url: None,
            voicemail_handled: None,
            version: 1,
        };
        state.occupancy.insert((org.slug.clone(), slot), call.id);
        state.occupying_pstn.insert(call.pstn_call.clone(), call.id);
        state.last_claimed.insert(org.slug.clone(), slot);
        state.parked.insert(call.id, call.clone());
        Ok(state.record_event(LotEventKind::Parked, &call, request.now))
    }

    async fn apply(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
    ) -> Result<LotEvent, CasError> {
        self.lock().apply(current, next, kind, at)
    }

    async fn apply_and_set_agent(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
        agent: &AgentStatusChange,
    ) -> Result<LotEvent, CasError> {
        let mut state = self.lock();
        let event = state.apply(current, next, kind, at)?;
        state.set_agent_status(
            &agent.org,
            &agent.identity,
            agent.status,
            agent.current_call.as_ref(),
        );
        if let Some(leg) = &agent.current_call {
            state.link_browser_leg(leg, &event.call.pstn_call);
        }
        Ok(event)
    }

    async fn parked_call(&self, id: ParkedCallId) -> Result<Option<ParkedCall>, StoreError> {
        Ok(self.lock().parked.get(&id).cloned())
    }

    async fn occupant(
        &self,
        org: &OrgSlug,
        slot: SlotNumber,
    ) -> Result<Option<ParkedCall>, StoreError> {
        let state = self.lock();
        Ok(state
            .occupancy
            .get(&(org.clone(), slot))
            .and_then(|id| state.parked.get(id))
            .cloned())
    }

    async fn occupant_by_pstn(&self, pstn: &CallSid) -> Result<Option<ParkedCall>, StoreError> {
        let state = self.lock();
        Ok(state
            .occupying_pstn
            .get(pstn)
            .and_then(|id| state.parked.get(id))
            .cloned())
    }

    async fn lot(&self, org: &OrgSlug) -> Result<LotSnapshot, StoreError> {
        let state = self.lock();
        let mut occupied: Vec<ParkedCall> = state
            .occupancy
            .iter()
            .filter(|((o, _), _)| o == org)
            .filter_map(|(_, id)| state.parked.get(id).cloned())
            .collect();
        occupied.sort_by_key(|c| c.slot);
        Ok(LotSnapshot {
            occupied,
            sequence: state.sequences.get(org).copied().unwrap_or_default(),
        })
    }

    async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        limit: usize,
    ) -> Result<Vec<LotEvent>, StoreError> {
        let state = self.lock();
        let Some(log) = state.events.get(org) else {
            return Ok(Vec::new());
        };
        // Sequences are contiguous, so the first wanted event's index is computed, not searched.
        let first = log.front().map_or(0, |e| e.sequence.get());
        let skip = usize::try_from((after.get() + 1).saturating_sub(first)).unwrap_or(usize::MAX);
        Ok(log.iter().skip(skip).take(limit).cloned().collect())
    }

    async fn due_deadlines(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        Ok(self.lock().due_deadlines(now, limit))
    }

    async fn in_flight_since(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        Ok(self.lock().in_flight_since(before, limit))
    }

    async fn history(
        &self,
        org: &OrgSlug,
        filter: &HistoryFilter,
        after: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        Ok(self.lock().history(org, filter, after, limit))
    }

    async fn forget_before(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<Forgotten, StoreError> {
        Ok(self.lock().forget_before(cutoff, limit))
    }
}
