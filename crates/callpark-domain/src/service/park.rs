//! Parking the call an agent is on.

use super::apply::AgentFollows;
use super::{ParkError, ParkRequest, ParkingService, TelephonyFailure};
use crate::model::{
    Agent, AgentStatus, AgentStatusChange, Call, NewParkedCall, Organisation, ParkedCall,
    SlotRequest,
};
use crate::ports::{ClaimError, TelephonyError};
use crate::values::CallSid;

impl ParkingService {
    /// Parks the call `agent` is on.
    ///
    /// # Errors
    /// See [`ParkError`]: the call unknown, the slot taken or out of range, the lot full, the
    /// caller gone, the provider failing, the store unavailable, the record contended.
    pub async fn park(&self, agent: &Agent, request: ParkRequest) -> Result<ParkedCall, ParkError> {
        let org = self
            .ports
            .store
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
        let parking = self.claim(agent, &org, &request, call).await?;

        let redirected = self
            .redirect(&parking, &self.ports.urls.park(parking.id))
            .await;
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
        let follows: Option<AgentFollows<'_>> =
            redirected.failure.is_none().then_some(&parker_free);
        let after = self
            .apply_signal(
                parking.id,
                Some(parking.clone()),
                &redirected.signal,
                &org,
                follows,
            )
            .await?;
        let caller_gone = redirected.caller_gone();
        if let Some(failure) = redirected.failure {
            return Err(if caller_gone {
                ParkError::CallerGone
            } else {
                ParkError::Telephony(failure)
            });
        }
        // The parker's browser leg dropped as its caller left it: a late status of it must
        // not put the parker back on the call.
        if request.call != parking.pstn_call {
            self.ports
                .store
                .record_leg_status(
                    &request.call,
                    &parking.pstn_call,
                    Some(&agent.identity),
                    None,
                    true,
                )
                .await?;
        }
        // No transition to store it with (the conference's callback got there first).
        if !after.agent_set {
            self.ports
                .store
                .set_agent_status(&agent.org, &agent.identity, AgentStatus::Available, None)
                .await?;
        }
        Ok(after.call.unwrap_or(parking))
    }

    /// Claims the requested slot (or one the organisation's policy chooses) for the caller's
    /// leg, and publishes the claim.
    async fn claim(
        &self,
        agent: &Agent,
        org: &Organisation,
        request: &ParkRequest,
        call: Call,
    ) -> Result<ParkedCall, ParkError> {
        let claim = NewParkedCall {
            org: org.slug.clone(),
            request: request
                .slot
                .map_or(SlotRequest::Auto(org.auto_slot), SlotRequest::Requested),
            pstn_call: call.pstn,
            caller: call.caller,
            parked_by: agent.identity.clone(),
            call_started_at: call.started_at,
            now: self.now(),
        };
        let event = self
            .ports
            .store
            .claim_slot(&claim)
            .await
            .map_err(|e| match e {
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
        Ok(event.call)
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
            // A call neither dialled to the organisation nor with one of its agents on it is
            // someone else's (organisations share one Twilio account): as good as unknown.
            Ok(leg) if !leg.belongs_to(org) => return Err(ParkError::CallNotFound),
            Ok(leg) => leg,
            Err(TelephonyError::NotFound | TelephonyError::NotInProgress) => {
                return Err(ParkError::CallNotFound);
            }
            Err(e @ TelephonyError::OutcomeUnknown(_)) => {
                return Err(TelephonyFailure::OutcomeUnknown(e).into());
            }
            Err(e) => return Err(TelephonyFailure::Rejected(e).into()),
        };
        let recorded = store.call_by_pstn(&leg.sid).await?;
        if recorded.as_ref().is_some_and(|call| call.org != org.slug) {
            return Err(ParkError::CallNotFound);
        }
        // The call began when Twilio says, else when callpark first saw it; at the latest, now.
        let started_at = leg
            .started_at
            .into_iter()
            .chain(recorded.map(|call| call.started_at))
            .min()
            .unwrap_or_else(|| self.now());
        let call = Call {
            org: org.slug.clone(),
            pstn: leg.sid,
            caller: leg.caller,
            started_at,
        };
        store.record_call(&call).await?;
        store.link_browser_leg(sid, &call.pstn, None).await?;
        Ok(call)
    }
}
