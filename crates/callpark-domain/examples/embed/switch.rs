//! The example's telephony and front-end URLs: what an embedder writes for its own carrier or
//! PBX. Kept apart from the script so that this is the one file to read when writing a port.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use callpark_domain::{
    CallSid, CallStatus, Caller, ChildLeg, ConferenceSid, HttpUrl, ParkedCallId, PstnLeg,
    Telephony, TelephonyError, WebhookUrls,
};

// ---------------------------------------------------------------------------------------------
// The telephony: a simulated switch

/// One leg of a call on the switch.
#[derive(Debug, Clone)]
struct Leg {
    caller: Caller,
    /// The caller's leg this agent leg was dialled from.
    parent: Option<CallSid>,
    live: bool,
    /// The URL whose instructions the leg follows since its last redirect.
    following: Option<HttpUrl>,
    /// Where the leg reports its status (a hang-up) since its last redirect.
    status_callback: Option<HttpUrl>,
}

#[derive(Debug, Default)]
struct SwitchState {
    legs: HashMap<CallSid, Leg>,
    next_sid: u128,
    /// The next redirect happens, but its answer is lost on the way back.
    lose_next_answer: bool,
}

/// An in-process switch: callers' legs, agents' legs dialled from them, redirects by URL.
#[derive(Debug, Default)]
pub(crate) struct Switch(Mutex<SwitchState>);

impl Switch {
    fn lock(&self) -> MutexGuard<'_, SwitchState> {
        self.0.lock().expect("switch lock")
    }

    fn new_sid(state: &mut SwitchState) -> u128 {
        state.next_sid += 1;
        state.next_sid
    }

    /// A caller dials in.
    pub(crate) fn incoming(&self, caller: Caller) -> CallSid {
        let mut state = self.lock();
        let n = Self::new_sid(&mut state);
        let sid = CallSid::parse(&format!("CA{n:032x}")).expect("a call SID");
        let leg = Leg {
            caller,
            parent: None,
            live: true,
            following: None,
            status_callback: None,
        };
        state.legs.insert(sid.clone(), leg);
        sid
    }

    /// An agent's leg dialled from the caller's leg `pstn` answers.
    pub(crate) fn agent_answers(&self, pstn: &CallSid) -> CallSid {
        let mut state = self.lock();
        let n = Self::new_sid(&mut state);
        let sid = CallSid::parse(&format!("CA{n:032x}")).expect("a call SID");
        let caller = state.legs[pstn].caller.clone();
        let leg = Leg {
            caller,
            parent: Some(pstn.clone()),
            live: true,
            following: None,
            status_callback: None,
        };
        state.legs.insert(sid.clone(), leg);
        sid
    }

    /// A conference SID for a conference the switch starts.
    pub(crate) fn new_conference(&self) -> ConferenceSid {
        let n = Self::new_sid(&mut self.lock());
        ConferenceSid::parse(&format!("CF{n:032x}")).expect("a conference SID")
    }

    /// The caller hangs up: the leg and the agent legs bridged to it end. Returns where the
    /// switch reports it, if anywhere.
    pub(crate) fn caller_hangs_up(&self, pstn: &CallSid) -> Option<HttpUrl> {
        let mut state = self.lock();
        Self::end(&mut state, pstn);
        state.legs[pstn].status_callback.clone()
    }

    fn end(state: &mut SwitchState, sid: &CallSid) {
        for leg in state.legs.values_mut() {
            if leg.parent.as_ref() == Some(sid) {
                leg.live = false;
            }
        }
        if let Some(leg) = state.legs.get_mut(sid) {
            leg.live = false;
        }
    }

    pub(crate) fn lose_next_answer(&self) {
        self.lock().lose_next_answer = true;
    }

    /// The URL the leg follows now.
    pub(crate) fn following(&self, sid: &CallSid) -> Option<HttpUrl> {
        self.lock().legs.get(sid).and_then(|l| l.following.clone())
    }

    pub(crate) fn is_live(&self, sid: &CallSid) -> bool {
        self.lock().legs.get(sid).is_some_and(|l| l.live)
    }
}

#[async_trait]
impl Telephony for Switch {
    async fn find_pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError> {
        let state = self.lock();
        let leg = state
            .legs
            .get(browser_leg)
            .ok_or(TelephonyError::NotFound)?;
        let pstn = match &leg.parent {
            Some(parent) => parent.clone(),
            // A call the agent placed itself: the caller's leg is its in-progress child.
            None => state
                .legs
                .iter()
                .find(|(_, l)| l.live && l.parent.as_ref() == Some(browser_leg))
                .map(|(sid, _)| sid.clone())
                .ok_or(TelephonyError::NotFound)?,
        };
        let caller = state.legs[&pstn].caller.clone();
        // The switch dials no browsers of other organisations: every leg is the example's own.
        Ok(PstnLeg {
            sid: pstn,
            caller,
            dialled: None,
            client: None,
            started_at: None,
        })
    }

    async fn redirect(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: &HttpUrl,
    ) -> Result<(), TelephonyError> {
        let mut state = self.lock();
        let leg = state.legs.get_mut(call).ok_or(TelephonyError::NotFound)?;
        if !leg.live {
            return Err(TelephonyError::NotInProgress);
        }
        leg.following = Some(url.clone());
        leg.status_callback = Some(status_callback.clone());
        // The caller's leg leaves whatever it was bridged to: the agent's leg drops.
        for other in state.legs.values_mut() {
            if other.parent.as_ref() == Some(call) {
                other.live = false;
            }
        }
        if std::mem::take(&mut state.lose_next_answer) {
            return Err(TelephonyError::OutcomeUnknown(
                "the switch's answer was lost".into(),
            ));
        }
        Ok(())
    }

    async fn call_status(&self, call: &CallSid) -> Result<CallStatus, TelephonyError> {
        let state = self.lock();
        let leg = state.legs.get(call).ok_or(TelephonyError::NotFound)?;
        Ok(if leg.live {
            CallStatus::InProgress
        } else {
            CallStatus::Completed
        })
    }

    async fn child_legs(&self, caller_leg: &CallSid) -> Result<Vec<ChildLeg>, TelephonyError> {
        let state = self.lock();
        // This switch's agents answer at once: a live child is in progress.
        Ok(state
            .legs
            .iter()
            .filter(|(_, l)| l.live && l.parent.as_ref() == Some(caller_leg))
            .map(|(sid, _)| ChildLeg {
                sid: sid.clone(),
                status: CallStatus::InProgress,
            })
            .collect())
    }

    async fn hang_up(&self, call: &CallSid) -> Result<(), TelephonyError> {
        let mut state = self.lock();
        match state.legs.get(call) {
            None => Err(TelephonyError::NotFound),
            Some(leg) if !leg.live => Err(TelephonyError::NotInProgress),
            Some(_) => {
                Self::end(&mut state, call);
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The front end's URLs

/// The app's own routes, under its public base URL.
#[derive(Debug, Clone)]
pub(crate) struct AppUrls {
    pub(crate) base: &'static str,
}

impl AppUrls {
    fn url(&self, path: &str) -> HttpUrl {
        HttpUrl::parse(&format!("{}{path}", self.base)).expect("a URL")
    }
}

impl WebhookUrls for AppUrls {
    fn park(&self, id: ParkedCallId) -> HttpUrl {
        self.url(&format!("/parked/{id}/hold"))
    }

    fn retrieve(&self, id: ParkedCallId) -> HttpUrl {
        self.url(&format!("/parked/{id}/connect"))
    }

    fn voicemail(&self, id: ParkedCallId) -> HttpUrl {
        self.url(&format!("/parked/{id}/voicemail"))
    }

    fn call_status(&self) -> HttpUrl {
        self.url("/switch/call-status")
    }
}
