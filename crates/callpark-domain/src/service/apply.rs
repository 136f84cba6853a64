//! The one way a signal changes a parked call: [`ParkingService::apply_signal`].

use thiserror::Error;

use super::{ParkError, ParkingService, SignalError, TelephonyFailure, VoicemailError};
use crate::machine::{Effect, Refusal, Signal, Step, TransitionError, transition};
use crate::model::{AgentStatusChange, Organisation, ParkedCall};
use crate::ports::{CasError, StoreError, TelephonyError};
use crate::values::{HttpUrl, ParkedCallId};

/// How often a compare-and-set is retried after losing a race before giving up: each retry
/// re-reads the record, so only a record that changes continuously can exhaust it.
const CAS_ATTEMPTS: usize = 8;

/// The agent status that follows from the record a transition stores, if any.
pub(super) type AgentFollows<'a> = &'a (dyn Fn(&ParkedCall) -> Option<AgentStatusChange> + Sync);

/// What applying a signal did.
#[derive(Debug, Default)]
pub(super) struct Applied {
    /// The record after the signal and its effect: as stored, or as read when the signal
    /// needed nothing of it. `None` for an unknown id.
    pub(super) call: Option<ParkedCall>,
    /// The record as the signal's own transition stored it; `None` when it stored nothing.
    pub(super) stored: Option<ParkedCall>,
    /// Whether the agent status that followed from the transition was stored with it.
    pub(super) agent_set: bool,
    /// The redirect the transition's telephony effect made, if it asked for one.
    pub(super) effect: Option<Redirected>,
}

/// A redirect of the caller's leg: what its outcome means to the state machine, and the
/// failure to report if any.
#[derive(Debug)]
pub(super) struct Redirected {
    pub(super) signal: Signal,
    pub(super) failure: Option<TelephonyFailure>,
}

impl Redirected {
    /// Twilio says the caller is gone.
    pub(super) fn caller_gone(&self) -> bool {
        self.signal == Signal::RedirectRefused(Refusal::CallerGone)
    }
}

/// Why a signal was not applied.
#[derive(Debug, Error)]
pub(super) enum ApplyError {
    /// The state does not allow the command (only agents' commands can be refused).
    #[error(transparent)]
    Refused(#[from] TransitionError),
    /// The record changed on every attempt.
    #[error("the parked call kept changing")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ApplyError> for SignalError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Contended => Self::Contended,
            ApplyError::Store(e) => Self::Store(e),
            // Twilio's signals never fail a transition: a refusal here is a bug.
            ApplyError::Refused(e) => Self::Store(StoreError::Internal(e.into())),
        }
    }
}

impl From<ApplyError> for VoicemailError {
    fn from(e: ApplyError) -> Self {
        match SignalError::from(e) {
            SignalError::Contended => Self::Contended,
            SignalError::Store(e) => Self::Store(e),
        }
    }
}

impl From<ApplyError> for ParkError {
    fn from(e: ApplyError) -> Self {
        match SignalError::from(e) {
            SignalError::Contended => Self::Contended,
            SignalError::Store(e) => Self::Store(e),
        }
    }
}

/// What one compare-and-set loop ended with.
enum Outcome {
    Unknown,
    /// The signal needed nothing of the record (as read), or lost a race it is not retried on.
    Kept(Option<ParkedCall>),
    Stored {
        call: ParkedCall,
        effect: Option<Effect>,
        agent_set: bool,
    },
}

impl ParkingService {
    /// Applies a signal to a parked call: reads the record (unless the caller `known` it
    /// already: a stale one loses its compare-and-set and is re-read, as any loser is), decides
    /// with [`transition`], stores the move with a compare-and-set (with the agent status that
    /// `follows` derives from the stored record, in the same write), re-reads and re-decides
    /// when another writer won, publishes the event, and then carries out the move's telephony
    /// effect and applies what the redirect's outcome means.
    pub(super) async fn apply_signal(
        &self,
        id: ParkedCallId,
        known: Option<ParkedCall>,
        signal: &Signal,
        org: &Organisation,
        follows: Option<AgentFollows<'_>>,
    ) -> Result<Applied, ApplyError> {
        let (stored, effect, agent_set) =
            match self.store_move(id, known, signal, org, follows).await? {
                Outcome::Unknown => return Ok(Applied::default()),
                Outcome::Kept(call) => {
                    return Ok(Applied {
                        call,
                        ..Applied::default()
                    });
                }
                Outcome::Stored {
                    call,
                    effect,
                    agent_set,
                } => (call, effect, agent_set),
            };
        let mut applied = Applied {
            call: Some(stored.clone()),
            stored: Some(stored.clone()),
            agent_set,
            effect: None,
        };
        if let Some(effect) = effect {
            let urls = &self.ports.urls;
            let target = match effect {
                Effect::RingAgent => urls.retrieve(id),
                Effect::SendToVoicemail => urls.voicemail(id),
            };
            let redirected = self.redirect(&stored, &target).await;
            // A redirect's outcome asks for no further effect.
            applied.call = match self
                .store_move(id, Some(stored), &redirected.signal, org, None)
                .await?
            {
                Outcome::Unknown => None,
                Outcome::Kept(call) => call,
                Outcome::Stored { call, .. } => Some(call),
            };
            applied.effect = Some(redirected);
        }
        Ok(applied)
    }

    /// [`Self::apply_signal`] on the record with this id, read with its organisation; `None`
    /// for an unknown id.
    pub(super) async fn apply_by_id(
        &self,
        id: ParkedCallId,
        signal: &Signal,
        follows: Option<AgentFollows<'_>>,
    ) -> Result<Option<(Applied, Organisation)>, ApplyError> {
        let Some(ctx) = self.parked_call(id).await? else {
            return Ok(None);
        };
        let applied = self
            .apply_signal(id, Some(ctx.call), signal, &ctx.org, follows)
            .await?;
        Ok(Some((applied, ctx.org)))
    }

    /// Redirects the caller's leg and applies what the outcome means.
    pub(super) async fn report_redirect(
        &self,
        call: &ParkedCall,
        target: &HttpUrl,
        org: &Organisation,
    ) -> Result<Option<ParkedCall>, ApplyError> {
        let redirected = self.redirect(call, target).await;
        let applied = self
            .apply_signal(call.id, None, &redirected.signal, org, None)
            .await?;
        Ok(applied.call)
    }

    /// Redirects the caller's leg to `target`, reporting its status to callpark.
    pub(super) async fn redirect(&self, call: &ParkedCall, target: &HttpUrl) -> Redirected {
        let result = self
            .ports
            .telephony
            .redirect(&call.pstn_call, target, &self.ports.urls.call_status())
            .await;
        redirected(result, call.twilio_has_ended(self.now()))
    }

    /// Read → transition → compare-and-set → retry on a lost race → publish.
    async fn store_move(
        &self,
        id: ParkedCallId,
        mut known: Option<ParkedCall>,
        signal: &Signal,
        org: &Organisation,
        follows: Option<AgentFollows<'_>>,
    ) -> Result<Outcome, ApplyError> {
        let store = &self.ports.store;
        for _ in 0..CAS_ATTEMPTS {
            let current = match known.take() {
                Some(current) => current,
                None => match store.parked_call(id).await? {
                    Some(current) => current,
                    None => return Ok(Outcome::Unknown),
                },
            };
            let ctx = self.context(org);
            let change = match transition(&current, signal, ctx)? {
                Step::Absorbed | Step::Unchanged => return Ok(Outcome::Kept(Some(current))),
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
                    return Ok(Outcome::Stored {
                        call: event.call,
                        effect: change.effect,
                        agent_set: agent.is_some(),
                    });
                }
                Err(CasError::Conflict) if !signal.retried_after_lost_race() => {
                    return Ok(Outcome::Kept(None));
                }
                Err(CasError::Conflict) => {}
                Err(CasError::NotFound) => return Ok(Outcome::Unknown),
                Err(CasError::Store(e)) => return Err(e.into()),
            }
        }
        Err(ApplyError::Contended)
    }
}

/// What a redirect's outcome means, and the failure to report if any.
///
/// A call Twilio told us of is never deleted by it (a finished one answers 21220, "not in
/// progress"), so its 20404 says only that this request was not processed — the caller is still
/// where it was — until Twilio's four-hour limit (`past_limit`) has surely ended the call.
fn redirected(result: Result<(), TelephonyError>, past_limit: bool) -> Redirected {
    let (signal, failure) = match result {
        Ok(()) => (Signal::RedirectAccepted, None),
        Err(e @ TelephonyError::NotFound) if !past_limit => (
            Signal::RedirectRefused(Refusal::NotProcessed),
            Some(TelephonyFailure::Rejected(e)),
        ),
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
    };
    Redirected { signal, failure }
}
