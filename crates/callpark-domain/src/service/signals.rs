//! Twilio's signals: the voice webhook's inbound calls, conference and call status callbacks,
//! a retrieve's dial answered and ended, a voicemail recording ready.

use super::{
    AfterDial, CallStatusUpdate, ConferenceEvent, ConferenceEventKind, InboundCall, InboundError,
    InboundRouting, LeaveReason, ParkingService, SignalError,
};
use crate::machine::{DialOutcome, ParkState, Signal};
use crate::model::{
    AgentStatus, AgentStatusChange, Call, MAX_CLIENTS_PER_DIAL, ParkedCall, Retrieval,
};
use crate::ports::{CallStatus, StoreError};
use crate::values::{AgentIdentity, CallSid, ClientIdentity, HttpUrl, OrgSlug, ParkedCallId};

impl ParkingService {
    /// A caller dialled one of the organisations' numbers: remember the call and say which
    /// agents to ring.
    ///
    /// # Errors
    /// [`InboundError::UnknownNumber`] when no organisation in service answers the number (a
    /// deactivated one's numbers are not in service).
    pub async fn on_inbound_call(&self, call: InboundCall) -> Result<InboundRouting, InboundError> {
        let store = &self.ports.store;
        let org = store
            .org_by_number(&call.dialled)
            .await?
            .filter(|org| org.active)
            .ok_or_else(|| InboundError::UnknownNumber(call.dialled.clone()))?;
        store
            .record_call(&Call {
                org: org.slug.clone(),
                pstn: call.pstn,
                caller: call.caller,
                started_at: self.now(),
            })
            .await?;
        // A `<Dial>` rings at most 10 `<Client>`s (TwiML `<Client>` docs: "You can include up
        // to 10 <Client> nouns within a <Dial>"): the longest idle, so that every agent gets
        // calls in turn.
        let agents = store
            .agents_to_ring(&org.slug, MAX_CLIENTS_PER_DIAL)
            .await?
            .iter()
            .map(|agent| ClientIdentity::of(&org.slug, agent))
            .collect();
        Ok(InboundRouting { org, agents })
    }

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
        let applied = self.apply_by_id(id, &signal, None).await?;
        Ok(applied.and_then(|(applied, _)| applied.call))
    }

    /// A call status callback: a child leg teaches which browser leg bridges to which caller's
    /// leg and whether its agent is on a call; a caller's leg that ended frees its slot.
    ///
    /// # Errors
    /// [`SignalError`] when the store fails.
    pub async fn on_call_status(&self, update: &CallStatusUpdate) -> Result<(), SignalError> {
        let store = &self.ports.store;
        if let Some(parent) = &update.parent {
            // A late status of a leg that ended, or was overtaken, says nothing about its agent
            // now: a late `in-progress` must not put an agent who is free back on a call.
            let news = store
                .record_leg_status(
                    &update.call,
                    parent,
                    update.agent.as_ref().map(ClientIdentity::agent),
                    update.sequence,
                    update.status.is_final(),
                )
                .await?;
            // Only an agent of the caller's own organisation can be on its call.
            if news
                && let (Some(client), Some(call)) =
                    (&update.agent, store.call_by_pstn(parent).await?)
                && client.org() == &call.org
            {
                self.track_agent_leg(&call.org, client.agent(), &update.call, update.status)
                    .await?;
            }
        }
        // A caller's leg can itself be a child (a call the browser placed), so a hang-up is
        // looked for whatever the parent.
        if update.status.is_final() {
            if let Some(parked) = store.occupant_by_pstn(&update.call).await? {
                let org = self.org_of(&parked).await?;
                self.apply_signal(parked.id, Some(parked), &Signal::CallerHungUp, &org, None)
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
                // The agent's leg ended with its caller: a late or repeated callback of it
                // (`in-progress`, a retrieve's `answered`) is no longer news.
                store
                    .record_leg_status(leg, pstn, Some(&agent.identity), None, true)
                    .await?;
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
                self.free_agent_on(org, identity, leg).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The retrieving agent's browser answered (its `<Client>` status callback), in the
    /// parked call's `attempt`-th time out of the lot (see [`ParkedCall::attempt`]).
    ///
    /// # Errors
    /// [`SignalError`] when the store fails.
    pub async fn on_dial_answered(
        &self,
        id: ParkedCallId,
        attempt: u32,
        browser_leg: Option<&CallSid>,
    ) -> Result<Option<ParkedCall>, SignalError> {
        // Only an answer that connected the caller puts the agent on the call: after a
        // hang-up (callbacks out of order) there is nobody on the line, and an earlier
        // attempt's answer is not this attempt's agent's.
        let on_call = |call: &ParkedCall| {
            let agent = call.retrieval.as_ref().and_then(Retrieval::agent)?;
            let leg = browser_leg?;
            let answered = call.state == ParkState::Retrieved && call.attempt == attempt;
            answered.then(|| AgentStatusChange {
                org: call.org.clone(),
                identity: agent.clone(),
                status: AgentStatus::OnCall,
                current_call: Some(leg.clone()),
            })
        };
        let Some((after, _)) = self
            .apply_by_id(id, &Signal::DialAnswered { attempt }, Some(&on_call))
            .await?
        else {
            return Ok(None);
        };
        // A repeated answer, or one that comes after the dial's result or reconciliation
        // settled the retrieve: no transition to store it with.
        if !after.agent_set
            && let (Some(call), Some(leg)) = (&after.call, browser_leg)
            && let Some(change) = on_call(call)
        {
            self.on_call_after_the_fact(call, &change.identity, leg)
                .await?;
        }
        Ok(after.call)
    }

    /// Makes the agent available if it is still on `leg`, and says whether it was: a leg's end
    /// frees only the agent still on that leg, not one that has moved on to another call.
    pub(super) async fn free_agent_on(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        leg: &CallSid,
    ) -> Result<bool, StoreError> {
        let store = &self.ports.store;
        let agent = store.agent(org, identity).await?;
        let on_it = agent.is_some_and(|a| a.current_call.as_ref() == Some(leg));
        if on_it {
            store
                .set_agent_status(org, identity, AgentStatus::Available, None)
                .await?;
        }
        Ok(on_it)
    }

    /// Puts the agent who answered a retrieve on its call after the retrieve was settled
    /// without it, unless it is there already or the call is over: an answer held back until
    /// after the caller hung up must not leave the agent on a call nothing will end (the
    /// caller's end, which frees the agents on its call, came before it).
    async fn on_call_after_the_fact(
        &self,
        call: &ParkedCall,
        agent: &AgentIdentity,
        leg: &CallSid,
    ) -> Result<(), StoreError> {
        let store = &self.ports.store;
        let now = store.agent(&call.org, agent).await?;
        if now
            .is_none_or(|a| a.status == AgentStatus::OnCall && a.current_call.as_ref() == Some(leg))
        {
            return Ok(());
        }
        // Twilio knows whether the caller is still there; when it cannot say, the answer is
        // taken at its word.
        let over = matches!(
            self.ports.telephony.call_status(&call.pstn_call).await,
            Ok(status) if status.is_final()
        );
        let news = store
            .record_leg_status(leg, &call.pstn_call, Some(agent), None, over)
            .await?;
        if news && !over {
            store
                .set_agent_status(&call.org, agent, AgentStatus::OnCall, Some(leg))
                .await?;
        }
        Ok(())
    }

    /// The retrieve `<Dial>` of the parked call's `attempt`-th time out of the lot ended (its
    /// `action` callback): says what the caller's leg does next.
    ///
    /// # Errors
    /// [`SignalError`] when the store fails.
    pub async fn on_dial_result(
        &self,
        id: ParkedCallId,
        attempt: u32,
        outcome: DialOutcome,
    ) -> Result<AfterDial, SignalError> {
        let applied = self
            .apply_by_id(id, &Signal::DialEnded { attempt, outcome }, None)
            .await?;
        let Some((Some(after), org)) = applied.map(|(applied, org)| (applied.call, org)) else {
            return Ok(AfterDial::Hangup);
        };
        if after.attempt != attempt && after.occupies_slot() {
            // An earlier attempt's result: whoever asks about it, the caller belongs where
            // the record's own attempt has it.
            return Ok(AfterDial::Current(after, org));
        }
        Ok(match after.state {
            ParkState::Parked => AfterDial::ReturnToLot(after, org),
            ParkState::Voicemail if after.recording_url.is_none() => {
                AfterDial::Voicemail(after, org)
            }
            _ => AfterDial::Hangup,
        })
    }

    /// A voicemail recording is ready: it is stored with the parked call, and its event
    /// published. `Ok(false)` for an unknown parked call.
    ///
    /// # Errors
    /// [`SignalError`] when the store fails or the record keeps changing.
    pub async fn on_recording(&self, id: ParkedCallId, url: &HttpUrl) -> Result<bool, SignalError> {
        let signal = Signal::RecordingAvailable(url.clone());
        Ok(self.apply_by_id(id, &signal, None).await?.is_some())
    }
}
