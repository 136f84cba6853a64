//! The sweeps every instance runs: due deadlines, records whose telephony outcome is
//! unknown, and the retention of old records.

use std::time::Duration;

use super::ParkingService;
use super::SignalError;
use crate::history::Forgotten;
use crate::machine::{ParkState, Refusal, Signal, TimeoutRoute};
use crate::model::{
    AgentStatus, CALL_TIME_LIMIT, Organisation, ParkedCall, Retrieval, TIMEOUT_ACTION_TIME,
    TimeoutAction, retrieve_window,
};
use crate::ports::{CallStatus, StoreError, TelephonyError};

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

impl ParkingService {
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
        let route = self.timeout_route(&org, &call).await?;
        let deadline = Signal::DeadlinePassed(route);
        // A deadline that lost its race was fired by another instance, or the caller moved
        // meanwhile: not ours to fire.
        let applied = self
            .apply_signal(call.id, Some(call), &deadline, &org, None)
            .await?;
        Ok(applied.stored.is_some())
    }

    /// Where a passed deadline sends the caller.
    async fn timeout_route(
        &self,
        org: &Organisation,
        call: &ParkedCall,
    ) -> Result<TimeoutRoute, StoreError> {
        Ok(match org.timeout_action {
            TimeoutAction::Voicemail => TimeoutRoute::Voicemail,
            TimeoutAction::Ringback => {
                let parker = self.ports.store.agent(&org.slug, &call.parked_by).await?;
                // A deactivated organisation's agents are signed out: none is rung.
                if org.active && parker.is_some_and(|p| p.status == AgentStatus::Available) {
                    TimeoutRoute::Ringback(call.parked_by.clone())
                } else {
                    // Nobody to ring: a parked caller is never dropped, it leaves a message.
                    TimeoutRoute::Voicemail
                }
            }
        })
    }

    /// Resolves records whose telephony outcome is unknown: `Parking` for longer than `grace`
    /// (a timeout, a crash between the claim and Twilio's answer), `Retrieving` for longer than
    /// that and than [`retrieve_window`] of the retrieves' `ring_time` (its `<Dial>` may
    /// rightly ring that long). The caller's
    /// leg is fetched: gone → abandoned (or failed, if never parked); still there → parked, or
    /// the retrieve is settled from the agents' legs: connected → retrieved, still ringing →
    /// left alone, none → back to the lot (or voicemail after a ring-back).
    ///
    /// # Errors
    /// [`StoreError`] when the records cannot be read.
    pub async fn reconcile(
        &self,
        grace: Duration,
        ring_time: Duration,
        limit: usize,
    ) -> Result<SweepReport, StoreError> {
        let now = self.now();
        let retrieving_before = now - grace.max(retrieve_window(ring_time));
        let mut stale = self.ports.store.in_flight_since(now - grace, limit).await?;
        stale.retain(|c| {
            c.state != ParkState::Retrieving || c.state_changed_at <= retrieving_before
        });
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
            // Twilio keeps the calls it ended (see `redirected`): a 20404 proves the call over
            // only once its four-hour limit has passed; before, the next sweep asks again.
            Err(TelephonyError::NotFound) if call.twilio_has_ended(self.now()) => {
                CallStatus::Completed
            }
            // The provider cannot tell us now: the next sweep asks again.
            Err(_) => return Ok(false),
        };
        let urls = &self.ports.urls;
        let after = match (call.state, status.is_final()) {
            (ParkState::Parking, true) => {
                let refused = Signal::RedirectRefused(Refusal::CallerGone);
                self.apply_signal(call.id, None, &refused, &org, None)
                    .await?
                    .call
            }
            (_, true) => {
                self.apply_signal(call.id, None, &Signal::CallerHungUp, &org, None)
                    .await?
                    .call
            }
            (ParkState::Parking, false) => {
                // Redirecting again is safe: the caller lands in the conference either way.
                self.report_redirect(call, &urls.park(call.id), &org)
                    .await?
            }
            (_, false) if call.retrieval == Some(Retrieval::ToVoicemail) => {
                // Sending the caller to voicemail again is safe: it is not there yet, or it
                // starts its message over.
                self.report_redirect(call, &urls.voicemail(call.id), &org)
                    .await?
            }
            (_, false) => match self.settle_retrieve(call, &org).await? {
                Some(after) => after,
                None => return Ok(false),
            },
        };
        Ok(after.is_some_and(|after| after.version != call.version))
    }

    /// Frees the agents left on a call that is over: an agent on a call whose leg Twilio says
    /// has ended is available again. The callbacks that end an agent's call (its leg's final
    /// status, its caller's) can be lost — a 5xx while the database restarts, an instance killed
    /// mid-request — and nothing else would ever free it: it would never be rung again. One
    /// call-status request per agent on a call; an agent whose call changed meanwhile is left
    /// as it is.
    ///
    /// # Errors
    /// [`StoreError`] when the agents cannot be read.
    pub async fn release_agents_of_ended_calls(&self) -> Result<SweepReport, StoreError> {
        let store = &self.ports.store;
        let mut on_calls = Vec::new();
        for org in store.orgs().await? {
            for agent in store.agents(&org.slug).await? {
                if let (AgentStatus::OnCall, Some(leg)) = (agent.status, agent.current_call) {
                    on_calls.push((org.slug.clone(), agent.identity, leg));
                }
            }
        }
        let mut report = SweepReport::of(on_calls.len());
        for (org, identity, leg) in on_calls {
            let ended = matches!(
                self.ports.telephony.call_status(&leg).await,
                Ok(status) if status.is_final()
            );
            if !ended {
                continue;
            }
            let freed = self.free_agent_on(&org, &identity, &leg).await;
            report.count(freed.map_err(SignalError::from), "freeing an agent failed");
        }
        Ok(report)
    }

    /// A retrieve whose caller is still there, settled from the agents' legs: connected →
    /// retrieved, none → back to the lot, or on its way to voicemail for a ring-back (the slot
    /// held until Twilio accepts that redirect: the caller is still on hold). `None` while an
    /// agent's leg still rings (its own callbacks will settle it) or the provider cannot say.
    async fn settle_retrieve(
        &self,
        call: &ParkedCall,
        org: &Organisation,
    ) -> Result<Option<Option<ParkedCall>>, SignalError> {
        let Ok(legs) = self.ports.telephony.child_legs(&call.pstn_call).await else {
            return Ok(None);
        };
        let connected = legs.iter().any(|l| l.status == CallStatus::InProgress);
        let ringing = legs.iter().any(|l| {
            matches!(
                l.status,
                CallStatus::Queued | CallStatus::Initiated | CallStatus::Ringing
            )
        });
        if connected {
            let answered = Signal::DialAnswered {
                attempt: call.attempt,
            };
            return Ok(Some(
                self.apply_signal(call.id, None, &answered, org, None)
                    .await?
                    .call,
            ));
        }
        if ringing {
            return Ok(None);
        }
        // A ring-back's way to voicemail is the move's own redirect; a caller back in the lot
        // is redirected to its conference, which is safe whether it left it or not.
        let lapsed = Signal::DialLapsed {
            attempt: call.attempt,
        };
        let after = self
            .apply_signal(call.id, None, &lapsed, org, None)
            .await?
            .call;
        Ok(Some(match after {
            Some(after) if after.state == ParkState::Parked => {
                self.report_redirect(&after, &self.ports.urls.park(call.id), org)
                    .await?
            }
            after => after,
        }))
    }
}

impl ParkingService {
    /// Forgets one batch of what is older than `retention` (at most `limit` rows of each
    /// kind, see [`crate::ParkingStore::forget_before`]): the caller of a call that ended
    /// before then, its voicemail recording, the lot events and the calls' legs. Call it
    /// again while [`Forgotten::filled`] says more may be left. A retention shorter than a
    /// call's four-hour limit is taken as that limit: a call that may still be live is never
    /// forgotten.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn forget_older_than(
        &self,
        retention: Duration,
        limit: usize,
    ) -> Result<Forgotten, StoreError> {
        let cutoff = self.now() - retention.max(CALL_TIME_LIMIT + TIMEOUT_ACTION_TIME);
        self.ports.store.forget_before(cutoff, limit).await
    }
}
