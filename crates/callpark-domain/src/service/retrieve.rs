//! Retrieving a parked call.

use super::apply::ApplyError;
use super::{ParkingService, RetrieveError, SignalError};
use crate::machine::{Signal, TransitionError};
use crate::model::{Agent, Organisation, ParkedCall};
use crate::values::{AgentIdentity, SlotNumber};

impl ParkingService {
    /// Connects the call parked in `slot` to `target` (by default, the asking agent).
    ///
    /// # Errors
    /// See [`RetrieveError`]. Of concurrent retrieves of one slot exactly one succeeds; the
    /// others get [`RetrieveError::AlreadyRetrieving`]. An agent to connect who is on a call
    /// (see [`ParkingService::current_call`]) gets [`RetrieveError::AgentBusy`], and the call
    /// stays parked.
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
        let target = self.retrieving_agent(&org, agent, target).await?;
        let occupant = store
            .occupant(&org.slug, slot)
            .await?
            .ok_or(RetrieveError::SlotEmpty(slot))?;
        if self.current_call(&target).await?.is_some() {
            return Err(RetrieveError::AgentBusy(target.identity));
        }
        let target = target.identity;

        let retrieve = Signal::RetrieveRequested(target);
        let applied = self
            .apply_signal(occupant.id, Some(occupant), &retrieve, &org, None)
            .await
            .map_err(|e| refused(e, slot))?;
        // A retrieve that is not refused rings the agent, or finds the record gone.
        let (Some(retrieving), Some(redirected)) = (applied.stored, applied.effect) else {
            return Err(RetrieveError::SlotEmpty(slot));
        };
        let caller_gone = redirected.caller_gone();
        match redirected.failure {
            None => Ok(retrieving),
            Some(_) if caller_gone => Err(RetrieveError::CallerGone(slot)),
            Some(failure) => Err(failure.into()),
        }
    }

    /// The agent to connect: `target` if it is another agent of the organisation, else the
    /// asking agent.
    async fn retrieving_agent(
        &self,
        org: &Organisation,
        agent: &Agent,
        target: Option<AgentIdentity>,
    ) -> Result<Agent, RetrieveError> {
        Ok(match target {
            Some(identity) if identity != agent.identity => self
                .ports
                .store
                .agent(&org.slug, &identity)
                .await?
                .ok_or(RetrieveError::UnknownAgent(identity))?,
            _ => agent.clone(),
        })
    }
}

/// A retrieve the record's state refused, or that could not be stored.
fn refused(e: ApplyError, slot: SlotNumber) -> RetrieveError {
    match e {
        ApplyError::Refused(TransitionError::AlreadyRetrieving) => {
            RetrieveError::AlreadyRetrieving(slot)
        }
        ApplyError::Refused(TransitionError::NotYetParked) => RetrieveError::NotYetParked(slot),
        ApplyError::Refused(TransitionError::Ended(_)) => RetrieveError::SlotEmpty(slot),
        e => match SignalError::from(e) {
            SignalError::Contended => RetrieveError::Contended,
            SignalError::Store(e) => RetrieveError::Store(e),
        },
    }
}
