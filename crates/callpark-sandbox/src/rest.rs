//! Twilio's Calls resource, as the sandbox keeps it: what the domain's [`Telephony`] port asks
//! of it, and the same requests for a REST facade that puts the sandbox behind Twilio's wire
//! format (the chaos run's, in `tools/callpark-loadtest`), so that several callpark processes
//! can share one simulated Twilio. A census of the callers says, at the end of such a run,
//! where every caller is.
//!
//! [`Telephony`]: callpark_domain::Telephony

use std::sync::Arc;

use callpark_domain::{
    CallSid, CallStatus, Caller, ChildLeg, ClientIdentity, HttpUrl, PhoneNumber, PstnLeg,
    TelephonyError,
};
use time::OffsetDateTime;

use crate::world::{Location, SimCall, World};
use crate::{Fault, Sandbox};

/// A call as Twilio's Calls resource describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The call's SID.
    pub sid: CallSid,
    /// The leg that dialled it, for an agent's leg.
    pub parent: Option<CallSid>,
    /// Its `From`: a phone number, or `client:…`.
    pub from: String,
    /// Its `To`.
    pub to: String,
    /// `inbound` (a caller's leg) or `outbound-dial` (a leg a `<Dial>` placed).
    pub direction: &'static str,
    /// Where the call is in its life.
    pub status: CallStatus,
    /// When it began.
    pub started_at: OffsetDateTime,
}

/// What a REST update of a call asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallUpdate {
    /// `Url` (and `StatusCallback`): leave the current TwiML and follow the new one.
    Redirect {
        /// The TwiML to follow.
        url: HttpUrl,
        /// Where the call's status goes from now on.
        status_callback: Option<HttpUrl>,
    },
    /// `Status=completed`: hang up.
    Complete,
}

/// Why a REST request failed.
#[derive(Debug)]
pub enum RestFailure {
    /// A fault the sandbox was told to inject ([`Sandbox::inject`],
    /// [`Sandbox::set_fault_rate`]); a [`Fault::Stall`] was carried out all the same.
    Injected(Fault),
    /// What Twilio itself answers: [`TelephonyError::NotFound`] (20404),
    /// [`TelephonyError::NotInProgress`] (21220), or another refusal.
    Refused(TelephonyError),
}

/// Where a caller is, at a census.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whereabouts {
    /// Nowhere: between documents, or hung up.
    Nowhere,
    /// In the named conference (a parking slot's).
    Conference(String),
    /// Being rung through to agents.
    Dialing,
    /// Bridged to an agent's leg, which may have ended.
    WithAgent {
        /// The agent's leg.
        leg: CallSid,
        /// Whether that leg is still up.
        live: bool,
    },
}

/// A caller's leg at a census.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerState {
    /// The caller's leg.
    pub sid: CallSid,
    /// The caller's number.
    pub from: String,
    /// Whether the call is still up.
    pub live: bool,
    /// Where the caller is.
    pub whereabouts: Whereabouts,
}

fn status(call: &SimCall) -> CallStatus {
    match (call.live, call.ringing) {
        (true, true) => CallStatus::Ringing,
        (true, false) => CallStatus::InProgress,
        (false, _) => CallStatus::Completed,
    }
}

fn record(sid: &CallSid, call: &SimCall) -> CallRecord {
    CallRecord {
        sid: sid.clone(),
        parent: call.parent.clone(),
        from: call.from.clone(),
        to: call.to.clone(),
        direction: if call.parent.is_some() {
            "outbound-dial"
        } else {
            "inbound"
        },
        status: status(call),
        started_at: call.started_at,
    }
}

fn census(world: &World, sid: &CallSid, call: &SimCall) -> CallerState {
    CallerState {
        sid: sid.clone(),
        from: call.from.clone(),
        live: call.live,
        whereabouts: match &call.location {
            Location::Idle => Whereabouts::Nowhere,
            Location::Conference { name, .. } => Whereabouts::Conference(name.clone()),
            Location::Dialing { child: None, .. } => Whereabouts::Dialing,
            Location::Dialing {
                child: Some(leg), ..
            } => Whereabouts::WithAgent {
                leg: leg.clone(),
                live: world.calls.get(leg).is_some_and(|l| l.live),
            },
        },
    }
}

/// The REST requests a facade forwards. Each meets the same injected faults as the port's.
impl Sandbox {
    /// `GET …/Calls/{sid}.json`.
    ///
    /// # Errors
    /// [`RestFailure`].
    pub async fn fetch_call(&self, sid: &CallSid) -> Result<CallRecord, RestFailure> {
        self.rest(async {
            let call = self.0.call(sid).ok_or(TelephonyError::NotFound)?;
            Ok(record(sid, &call))
        })
        .await
    }

    /// `GET …/Calls.json?ParentCallSid={parent}`: the legs `parent` dialled, ended ones too.
    ///
    /// # Errors
    /// [`RestFailure`] (only injected ones).
    pub async fn child_calls(&self, parent: &CallSid) -> Result<Vec<CallRecord>, RestFailure> {
        self.rest(async {
            let world = self.0.world();
            Ok(world
                .calls
                .iter()
                .filter(|(_, c)| c.parent.as_ref() == Some(parent))
                .map(|(sid, c)| record(sid, c))
                .collect())
        })
        .await
    }

    /// `POST …/Calls/{sid}.json`.
    ///
    /// # Errors
    /// [`RestFailure`]; a call that is over is [`TelephonyError::NotInProgress`] (21220).
    pub async fn update_call(&self, sid: &CallSid, update: CallUpdate) -> Result<(), RestFailure> {
        self.rest(async {
            match update {
                CallUpdate::Redirect {
                    url,
                    status_callback,
                } => self.follow(sid, &url, status_callback.as_ref()).await,
                CallUpdate::Complete => self.end(sid).await,
            }
        })
        .await
    }

    /// Where every caller the sandbox has placed is, now.
    pub fn callers(&self) -> Vec<CallerState> {
        let world = self.0.world();
        world
            .calls
            .iter()
            .filter(|(_, c)| c.parent.is_none())
            .map(|(sid, c)| census(&world, sid, c))
            .collect()
    }

    /// Where the caller on `sid` is, now.
    pub fn caller(&self, sid: &CallSid) -> Option<CallerState> {
        let world = self.0.world();
        let call = world.calls.get(sid).filter(|c| c.parent.is_none())?;
        Some(census(&world, sid, call))
    }

    /// The fault the next REST request meets; a stall is acted on first.
    pub(crate) async fn rest<T, F>(&self, act: F) -> Result<T, RestFailure>
    where
        F: std::future::Future<Output = Result<T, TelephonyError>>,
    {
        match self.0.mischief.next_fault() {
            None => act.await.map_err(RestFailure::Refused),
            Some(fault) if fault.acts() => {
                let _ = act.await;
                Err(RestFailure::Injected(fault))
            }
            Some(fault) => Err(RestFailure::Injected(fault)),
        }
    }

    /// The agent's leg a caller was put through to.
    pub(crate) fn answered_leg(&self, caller: &CallSid) -> Option<(ClientIdentity, CallSid)> {
        let world = self.0.world();
        let Location::Dialing {
            child: Some(leg), ..
        } = &world.calls.get(caller)?.location
        else {
            return None;
        };
        let client = world.calls.get(leg)?.to.strip_prefix("client:")?;
        Some((ClientIdentity::parse(client).ok()?, leg.clone()))
    }
}

/// What each request of the domain's port does when no fault meets it.
impl Sandbox {
    pub(crate) async fn pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError> {
        let leg = self.0.call(browser_leg).ok_or(TelephonyError::NotFound)?;
        let parent = leg.parent.ok_or(TelephonyError::NotFound)?;
        let caller = self.0.call(&parent).ok_or(TelephonyError::NotFound)?;
        Ok(PstnLeg {
            sid: parent,
            caller: Caller {
                number: PhoneNumber::parse(&caller.from).ok(),
                name: None,
            },
            dialled: PhoneNumber::parse(&caller.to).ok(),
            client: leg
                .to
                .strip_prefix("client:")
                .and_then(|c| ClientIdentity::parse(c).ok()),
            started_at: Some(caller.started_at),
        })
    }

    pub(crate) async fn follow(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: Option<&HttpUrl>,
    ) -> Result<(), TelephonyError> {
        self.0.check_live(call)?;
        if let Some(callback) = status_callback
            && let Some(c) = self.0.world().calls.get_mut(call)
        {
            c.status_callback = Some(callback.to_string());
        }
        // Like Twilio, accept now and follow the new TwiML after answering.
        let network = Arc::clone(&self.0);
        let (call, url) = (call.clone(), url.to_string());
        tokio::spawn(async move {
            if let Err(e) = network.follow_redirect(&call, &url).await {
                tracing::warn!(error = &e as &dyn std::error::Error, call = %call, "the sandbox could not follow a redirect");
            }
        });
        Ok(())
    }

    pub(crate) async fn status_of(&self, call: &CallSid) -> Result<CallStatus, TelephonyError> {
        let call = self.0.call(call).ok_or(TelephonyError::NotFound)?;
        Ok(status(&call))
    }

    pub(crate) async fn children(
        &self,
        caller_leg: &CallSid,
    ) -> Result<Vec<ChildLeg>, TelephonyError> {
        let world = self.0.world();
        Ok(world
            .calls
            .iter()
            .filter(|(_, c)| c.live && c.parent.as_ref() == Some(caller_leg))
            .map(|(sid, c)| ChildLeg {
                sid: sid.clone(),
                status: status(c),
            })
            .collect())
    }

    pub(crate) async fn end(&self, call: &CallSid) -> Result<(), TelephonyError> {
        self.0.check_live(call)?;
        self.0
            .end_call(call, "participant_hung_up")
            .await
            .map_err(|e| TelephonyError::OutcomeUnknown(e.into()))
    }
}
