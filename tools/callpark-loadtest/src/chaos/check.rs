//! The invariants a chaos run ends on, checked over the database (through the storage port,
//! as the service reads it) and the simulated Twilio's side.

use std::collections::{BTreeMap, HashMap, HashSet};

use callpark_domain::{
    AgentStatus, CallSid, LotEvent, LotEventKind, OrgSlug, ParkState, ParkedCallId, ParkingStore,
    Sequence, SlotNumber,
};
use callpark_sandbox::{Sandbox, Whereabouts};
use time::OffsetDateTime;

use crate::Error;

/// One invariant: its name, what breaks it (0 when it holds), and an example.
#[derive(Debug)]
pub(crate) struct Finding {
    pub(crate) invariant: &'static str,
    pub(crate) violations: u64,
    pub(crate) example: Option<String>,
}

#[derive(Debug, Default)]
struct Tally {
    violations: u64,
    example: Option<String>,
}

impl Tally {
    fn add(&mut self, example: impl FnOnce() -> String) {
        self.violations += 1;
        if self.example.is_none() {
            self.example = Some(example());
        }
    }
}

/// Where the callers are, by kind, and the findings.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) callers: BTreeMap<&'static str, u64>,
    pub(crate) events: u64,
    pub(crate) findings: Vec<Finding>,
}

/// Checks every invariant for the organisations `orgs`.
pub(crate) async fn check(
    store: &dyn ParkingStore,
    sandbox: &Sandbox,
    orgs: &[OrgSlug],
) -> Result<Verdict, Error> {
    let mut occupants = HashMap::new();
    let mut in_flight = Tally::default();
    for org in orgs {
        for call in store.lot(org).await?.occupied {
            if matches!(call.state, ParkState::Parking | ParkState::Retrieving) {
                in_flight.add(|| format!("{} in slot {} is {:?}", org, call.slot, call.state));
            }
            occupants.insert(call.pstn_call.clone(), call);
        }
    }
    let mut log = EventLog::default();
    let mut on_a_call = Tally::default();
    for org in orgs {
        log.replay(store, org).await?;
        // Every caller's life has ended: an agent still on a call would never be rung again.
        for agent in store.agents(org).await? {
            if agent.status == AgentStatus::OnCall {
                let leg = match &agent.current_call {
                    Some(sid) => sandbox.fetch_call(sid).await.ok(),
                    None => None,
                };
                let caller = leg.as_ref().and_then(|l| l.parent.clone());
                let events = caller.as_ref().and_then(|c| log.last.get(c)).cloned();
                on_a_call.add(|| {
                    format!(
                        "{org}/{} on {:?}: Twilio has {leg:?}; its caller's events: {events:?}",
                        agent.identity, agent.current_call
                    )
                });
            }
        }
    }
    let (callers, lost, ghosts) = census(sandbox, &occupants, &log.last);
    Ok(Verdict {
        callers,
        events: log.events,
        findings: vec![
            finding("lost callers", lost),
            finding("parked calls whose caller is gone", ghosts),
            finding("slots that held two calls at once", log.double),
            finding("deadlines that fired twice", log.timed_out_twice),
            finding("gaps in an organisation's event sequence", log.gaps),
            finding("calls left parking or retrieving", in_flight),
            finding("agents left on a call that ended", on_a_call),
        ],
    })
}

fn finding(invariant: &'static str, tally: Tally) -> Finding {
    Finding {
        invariant,
        violations: tally.violations,
        example: tally.example,
    }
}

/// Every caller is retrieved (with an agent), ended (hung up, or after voicemail), or in a
/// conference the lot shows parked; every parked call's caller is still there.
fn census(
    sandbox: &Sandbox,
    occupants: &HashMap<CallSid, callpark_domain::ParkedCall>,
    last: &HashMap<CallSid, Vec<LotEventKind>>,
) -> (BTreeMap<&'static str, u64>, Tally, Tally) {
    let mut kinds = BTreeMap::new();
    let mut lost = Tally::default();
    let mut live_callers = HashSet::new();
    for caller in sandbox.callers() {
        let parked = occupants
            .get(&caller.sid)
            .filter(|p| p.state == ParkState::Parked);
        let kind = match (&caller.whereabouts, caller.live) {
            (_, false) => "ended (hung up, or after voicemail)",
            (Whereabouts::WithAgent { live: true, .. }, true) => "with an agent",
            (Whereabouts::Conference(name), true)
                if parked.is_some_and(|p| p.conference_name() == *name) =>
            {
                "parked, and shown in the lot"
            }
            (whereabouts, true) => {
                lost.add(|| {
                    let events = last.get(&caller.sid);
                    format!("{} is {whereabouts:?}; its events: {events:?}", caller.sid)
                });
                "lost"
            }
        };
        if caller.live {
            live_callers.insert(caller.sid.clone());
        }
        *kinds.entry(kind).or_default() += 1;
    }
    let mut ghosts = Tally::default();
    for (sid, call) in occupants {
        if !live_callers.contains(sid) {
            ghosts.add(|| format!("{} in slot {} ({:?})", call.org, call.slot, call.state));
        }
    }
    (kinds, lost, ghosts)
}

/// An organisation's events, replayed in order.
#[derive(Debug, Default)]
struct EventLog {
    events: u64,
    gaps: Tally,
    double: Tally,
    timed_out_twice: Tally,
    /// Each caller's events, in order.
    last: HashMap<CallSid, Vec<LotEventKind>>,
}

impl EventLog {
    async fn replay(&mut self, store: &dyn ParkingStore, org: &OrgSlug) -> Result<(), Error> {
        let mut after = Sequence::ZERO;
        let mut holders: HashMap<SlotNumber, ParkedCallId> = HashMap::new();
        // Each call's deadline as its latest event left it, and the deadlines that fired: a
        // deadline is one `(call, time)`; a caller back in the lot has a new one.
        let mut armed: HashMap<ParkedCallId, Option<OffsetDateTime>> = HashMap::new();
        let mut fired: HashSet<(ParkedCallId, Option<OffsetDateTime>)> = HashSet::new();
        loop {
            let page = store.events_after(org, after, 1000).await?;
            if page.is_empty() {
                return Ok(());
            }
            for event in page {
                if event.sequence.get() != after.get() + 1 {
                    self.gaps
                        .add(|| format!("{org}: {} after {}", event.sequence.get(), after.get()));
                }
                after = event.sequence;
                self.events += 1;
                self.occupy(&mut holders, &event);
                self.last
                    .entry(event.call.pstn_call.clone())
                    .or_default()
                    .push(event.kind);
                let before = armed.insert(event.call.id, event.call.deadline).flatten();
                if event.kind == LotEventKind::TimedOut && !fired.insert((event.call.id, before)) {
                    self.timed_out_twice
                        .add(|| format!("{org}: call {} at {before:?}", event.call.id));
                }
            }
        }
    }

    fn occupy(&mut self, holders: &mut HashMap<SlotNumber, ParkedCallId>, event: &LotEvent) {
        let call = &event.call;
        if call.occupies_slot() {
            if let Some(other) = holders.insert(call.slot, call.id)
                && other != call.id
            {
                self.double.add(|| {
                    format!(
                        "{}: slot {} held by {other} when {} arrived",
                        call.org, call.slot, call.id
                    )
                });
            }
        } else if holders.get(&call.slot) == Some(&call.id) {
            holders.remove(&call.slot);
        }
    }
}
