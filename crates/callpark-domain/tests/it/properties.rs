//! Random interleavings of everything agents, Twilio and time can do to two organisations'
//! lots, run against the real service on the in-memory store, with the lot's invariants
//! checked after every step:
//!
//! - a slot never has two occupancies (in the store's lot, nor replaying the event log);
//! - every parked call ever created either occupies its slot, and then is `Parking`, `Parked`
//!   or `Retrieving`, or is in a terminal state and its slot's occupant is not it; a terminal
//!   record never changes again;
//! - event sequences are 1, 2, 3… per organisation, in the store and on the live feed, and the
//!   feed carries exactly the stored events.
//!
//! 10,000 cases by default; set `CALLPARK_PROPTEST_CASES` for more (or fewer).

use std::collections::HashMap;

use callpark_domain::testkit::{CallScript, call_sid, caller, conference_sid, organisation};
use callpark_domain::{
    Agent, AgentStatus, AutoSlot, CallStatus, CallStatusUpdate, ChildLeg, ClientIdentity,
    ConferenceEvent, ConferenceEventKind, DEFAULT_RETRIEVE_RING_TIME, DialOutcome,
    EventSubscription, InboundCall, LeaveReason, LotEvent, OrgSlug, Organisation, ParkError,
    ParkRequest, ParkState, ParkedCall, ParkedCallId, ParkingStore, PstnLeg, RetrieveError,
    Sequence, SlotNumber, TimeoutAction,
};
use futures_util::FutureExt;
use proptest::prelude::*;

use crate::support::{self, identity, secs};

const ORGS: u8 = 2;
const AGENTS: u8 = 3;
const CALLERS: u8 = 3;
const SLOTS: u8 = 3;
const GRACE: std::time::Duration = std::time::Duration::from_secs(60);

fn cases() -> u32 {
    std::env::var("CALLPARK_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

// ----- the world -----------------------------------------------------------------------------

fn org_config(o: u8) -> Organisation {
    let mut org = organisation(["acme", "globex"][usize::from(o)], u32::from(SLOTS));
    if o == 1 {
        org.auto_slot = AutoSlot::NextAfterLastUsed;
        org.timeout_action = TimeoutAction::Voicemail;
    }
    org
}

fn agent_name(a: u8) -> String {
    format!("agent{a}")
}

/// The caller's leg of caller `c` of organisation `o`.
fn pstn(o: u8, c: u8) -> u128 {
    1 + u128::from(o) * 10 + u128::from(c)
}

/// The organisation and caller numbers of a parked call's caller's leg.
fn caller_of(call: &ParkedCall) -> (u8, u8) {
    let n = crate::support::sid_number(call.pstn_call.as_str()) - 1;
    let number = |x: u128| u8::try_from(x).expect("a small number");
    (number(n / 10), number(n % 10))
}

/// Agent `a` of organisation `ao`'s browser leg, bridged to caller `c` of organisation `co`.
fn browser(ao: u8, a: u8, co: u8, c: u8) -> u128 {
    10_000 + u128::from(ao) * 1000 + u128::from(a) * 100 + u128::from(co) * 10 + u128::from(c)
}

/// The shared test world, with two organisations' agents and callers.
struct World {
    base: support::World,
    orgs: Vec<Organisation>,
    agents: Vec<Vec<Agent>>,
}

impl std::ops::Deref for World {
    type Target = support::World;

    fn deref(&self) -> &support::World {
        &self.base
    }
}

async fn world() -> World {
    let orgs: Vec<_> = (0..ORGS).map(org_config).collect();
    let base = support::World::new(&orgs).await;
    let mut agents = Vec::new();
    for (o, org) in (0..ORGS).zip(&orgs) {
        let mut of_org = Vec::new();
        for a in 0..AGENTS {
            of_org.push(
                base.agent(org.slug.as_str(), &agent_name(a), o * AGENTS + a)
                    .await,
            );
        }
        for c in 0..CALLERS {
            base.service
                .on_inbound_call(InboundCall {
                    pstn: call_sid(pstn(o, c)),
                    dialled: org.numbers[0].clone(),
                    caller: caller(u32::from(c)),
                })
                .await
                .expect("inbound call");
        }
        agents.push(of_org);
    }
    // Twilio knows every browser leg's caller's leg, across organisations too.
    for ao in 0..ORGS {
        for a in 0..AGENTS {
            for co in 0..ORGS {
                for c in 0..CALLERS {
                    base.telephony.add_leg(
                        &call_sid(browser(ao, a, co, c)),
                        PstnLeg {
                            sid: call_sid(pstn(co, c)),
                            caller: caller(u32::from(c)),
                            dialled: Some(org_config(co).numbers[0].clone()),
                            client: None,
                            started_at: None,
                        },
                    );
                }
            }
        }
    }
    World { base, orgs, agents }
}

// ----- what can happen -----------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Leg {
    /// The agent's browser leg (learnt from a webhook, or found through Twilio).
    Browser,
    /// The caller's leg itself.
    Pstn,
}

#[derive(Debug, Clone)]
enum Op {
    /// Agent `agent` of `org` parks its call with caller `caller` of `caller_org`.
    Park {
        org: u8,
        agent: u8,
        caller_org: u8,
        caller: u8,
        leg: Leg,
        slot: Option<u8>,
    },
    Retrieve {
        org: u8,
        agent: u8,
        slot: u8,
        target: Option<u8>,
    },
    /// A child leg's status: an agent's browser bridged to a caller (or hanging up).
    AgentLeg {
        org: u8,
        agent: u8,
        caller: u8,
        status: CallStatus,
    },
    /// Signals about a parked call: `pick` chooses among every call ever parked, so stale
    /// calls get them too.
    Conference {
        pick: u8,
        sid: u8,
        kind: ConferenceEventKind,
    },
    CallerStatus {
        org: u8,
        caller: u8,
        status: CallStatus,
    },
    DialAnswered {
        pick: u8,
        agent_leg: Option<u8>,
    },
    DialResult {
        pick: u8,
        outcome: DialOutcome,
    },
    /// Delivers again a Twilio signal delivered before: a duplicate, and often a late one.
    Replay {
        pick: u8,
    },
    Script {
        org: u8,
        caller: u8,
        script: CallScript,
    },
    Connected {
        org: u8,
        caller: u8,
        connected: bool,
        /// Another agent's leg still rings.
        ringing: bool,
    },
    Presence {
        org: u8,
        agent: u8,
        available: bool,
    },
    Advance {
        secs: u16,
    },
    FireDeadlines,
    Reconcile,
}

impl Op {
    fn is_twilio_signal(&self) -> bool {
        matches!(
            self,
            Self::AgentLeg { .. }
                | Self::Conference { .. }
                | Self::CallerStatus { .. }
                | Self::DialAnswered { .. }
                | Self::DialResult { .. }
        )
    }
}

fn org() -> impl Strategy<Value = u8> {
    0..ORGS
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let leave = prop_oneof![
        Just(LeaveReason::HungUp),
        Just(LeaveReason::UpdatedViaApi),
        Just(LeaveReason::Other),
    ];
    let conference_kind = prop_oneof![
        Just(ConferenceEventKind::Started),
        Just(ConferenceEventKind::Ended),
        Just(ConferenceEventKind::ParticipantJoined),
        leave.prop_map(ConferenceEventKind::ParticipantLeft),
        Just(ConferenceEventKind::Other),
    ];
    let caller_status = prop_oneof![
        Just(CallStatus::Completed),
        Just(CallStatus::Busy),
        Just(CallStatus::NoAnswer),
        Just(CallStatus::InProgress),
    ];
    let agent_status = prop_oneof![Just(CallStatus::InProgress), Just(CallStatus::Completed)];
    let script = prop_oneof![
        3 => Just(CallScript::Live),
        1 => Just(CallScript::Gone),
        1 => Just(CallScript::Unanswered),
        1 => Just(CallScript::Refusing),
    ];
    let outcome = prop_oneof![Just(DialOutcome::Answered), Just(DialOutcome::NotAnswered)];
    let leg = prop_oneof![3 => Just(Leg::Browser), 1 => Just(Leg::Pstn)];
    // Slot 4 is outside the lots.
    let requested_slot = prop::option::weighted(0.6, 1..=SLOTS + 1);
    let advance = prop_oneof![
        Just(1u16),
        Just(30),
        Just(59),
        Just(61),
        Just(299),
        Just(301),
        1..400u16,
    ];

    let op = prop_oneof![
        // One park in five names a caller of either organisation, often another's.
        6 => (org(), 0..AGENTS, prop::bool::weighted(0.2), org(), 0..CALLERS, leg, requested_slot)
            .prop_map(|(org, agent, any_org, other, caller, leg, slot)| Op::Park {
                org,
                agent,
                caller_org: if any_org { other } else { org },
                caller,
                leg,
                slot,
            }),
        5 => (org(), 0..AGENTS, 1..=SLOTS + 1, prop::option::weighted(0.3, 0..=AGENTS))
            .prop_map(|(org, agent, slot, target)| Op::Retrieve { org, agent, slot, target }),
        2 => (org(), 0..AGENTS, 0..CALLERS, agent_status)
            .prop_map(|(org, agent, caller, status)| Op::AgentLeg { org, agent, caller, status }),
        4 => (any::<u8>(), 0..3u8, conference_kind)
            .prop_map(|(pick, sid, kind)| Op::Conference { pick, sid, kind }),
        2 => (org(), 0..CALLERS, caller_status)
            .prop_map(|(org, caller, status)| Op::CallerStatus { org, caller, status }),
        2 => (any::<u8>(), prop::option::of(0..AGENTS))
            .prop_map(|(pick, agent_leg)| Op::DialAnswered { pick, agent_leg }),
        3 => (any::<u8>(), outcome).prop_map(|(pick, outcome)| Op::DialResult { pick, outcome }),
        2 => any::<u8>().prop_map(|pick| Op::Replay { pick }),
        2 => (org(), 0..CALLERS, script)
            .prop_map(|(org, caller, script)| Op::Script { org, caller, script }),
        1 => (org(), 0..CALLERS, any::<bool>(), any::<bool>())
            .prop_map(|(org, caller, connected, ringing)| Op::Connected {
                org,
                caller,
                connected,
                ringing
            }),
        1 => (org(), 0..AGENTS, any::<bool>())
            .prop_map(|(org, agent, available)| Op::Presence { org, agent, available }),
        3 => advance.prop_map(|secs| Op::Advance { secs }),
        2 => Just(Op::FireDeadlines),
        2 => Just(Op::Reconcile),
    ];
    prop::collection::vec(op, 1..40)
}

// ----- running it ----------------------------------------------------------------------------

fn slot(n: u8) -> SlotNumber {
    support::slot(u32::from(n))
}

/// What the run has observed so far.
struct Observed {
    subscription: Box<dyn EventSubscription>,
    /// Every event the live feed delivered, by organisation.
    published: HashMap<OrgSlug, Vec<LotEvent>>,
    /// Every parked call ever created, in order.
    ids: Vec<ParkedCallId>,
    /// The last record seen of each.
    last: HashMap<ParkedCallId, ParkedCall>,
    /// Twilio signals delivered, for replays.
    delivered: Vec<Op>,
}

fn pick<T: Copy>(items: &[T], pick: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[usize::from(pick) % items.len()])
}

async fn run(w: &World, seen: &mut Observed, op: &Op) {
    let service = &w.service;
    match op {
        Op::Park {
            org,
            agent,
            caller_org,
            caller,
            leg,
            slot: requested,
        } => {
            let call = match leg {
                Leg::Browser => browser(*org, *agent, *caller_org, *caller),
                Leg::Pstn => pstn(*caller_org, *caller),
            };
            let agent = &w.agents[usize::from(*org)][usize::from(*agent)];
            let result = service
                .park(
                    agent,
                    ParkRequest {
                        call: call_sid(call),
                        slot: requested.map(slot),
                    },
                )
                .await;
            let cross = org != caller_org;
            match &result {
                Ok(parked) => {
                    assert!(!cross, "parked another organisation's call: {parked:?}");
                    assert_eq!(parked.org, agent.org);
                    assert_eq!(parked.pstn_call, call_sid(pstn(*caller_org, *caller)));
                }
                Err(ParkError::CallNotFound) => {
                    assert!(cross, "a known call of the agent's organisation not found");
                }
                Err(ParkError::Store(e)) => panic!("store failed: {e}"),
                // One caller at a time cannot keep a record changing.
                Err(ParkError::Contended) => panic!("the park was contended"),
                Err(ParkError::SlotOutOfRange { slot: s, .. }) => {
                    assert!(s.get() > u16::from(SLOTS));
                }
                Err(
                    ParkError::AlreadyParked(_)
                    | ParkError::SlotOccupied(_)
                    | ParkError::LotFull
                    | ParkError::CallerGone
                    | ParkError::Telephony(_),
                ) => assert!(!cross, "{result:?} for another organisation's call"),
            }
        }
        Op::Retrieve {
            org,
            agent,
            slot: n,
            target,
        } => {
            let agent = &w.agents[usize::from(*org)][usize::from(*agent)];
            let target = target.map(|t| identity(&agent_name(t)));
            let result = service.retrieve(agent, slot(*n), target).await;
            match result {
                Ok(call) => {
                    assert_eq!(call.org, agent.org);
                    assert_eq!(call.state, ParkState::Retrieving);
                }
                Err(RetrieveError::Store(e)) => panic!("store failed: {e}"),
                Err(RetrieveError::Contended) => panic!("the retrieve was contended"),
                Err(_) => {}
            }
        }
        Op::AgentLeg {
            org,
            agent,
            caller,
            status,
        } => {
            service
                .on_call_status(&CallStatusUpdate {
                    call: call_sid(browser(*org, *agent, *org, *caller)),
                    parent: Some(call_sid(pstn(*org, *caller))),
                    status: *status,
                    agent: Some(ClientIdentity::of(
                        &org_config(*org).slug,
                        &identity(&agent_name(*agent)),
                    )),
                    sequence: None,
                })
                .await
                .expect("agent leg status handled");
        }
        Op::Conference { pick: p, sid, kind } => {
            if let Some(id) = pick(&seen.ids, *p) {
                service
                    .on_conference_event(&ConferenceEvent {
                        conference_name: id.conference_name(),
                        conference_sid: conference_sid(u128::from(*sid)),
                        kind: *kind,
                    })
                    .await
                    .expect("conference event handled");
            }
        }
        Op::CallerStatus {
            org,
            caller,
            status,
        } => {
            service
                .on_call_status(&CallStatusUpdate {
                    call: call_sid(pstn(*org, *caller)),
                    parent: None,
                    status: *status,
                    agent: None,
                    sequence: None,
                })
                .await
                .expect("caller status handled");
        }
        Op::DialAnswered { pick: p, agent_leg } => {
            if let Some(id) = pick(&seen.ids, *p) {
                // The answering agent's browser leg bridged to this call's caller.
                let (o, c) = caller_of(&seen.last[&id]);
                let leg = agent_leg.map(|a| call_sid(browser(o, a, o, c)));
                // The attempt the record was last seen in: maybe an earlier one by now.
                let attempt = seen.last[&id].attempt;
                service
                    .on_dial_answered(id, attempt, leg.as_ref())
                    .await
                    .expect("dial answered handled");
            }
        }
        Op::DialResult { pick: p, outcome } => {
            if let Some(id) = pick(&seen.ids, *p) {
                let attempt = seen.last[&id].attempt;
                service
                    .on_dial_result(id, attempt, *outcome)
                    .await
                    .expect("dial result handled");
            }
        }
        Op::Replay { pick: p } => {
            if let Some(again) = seen
                .delivered
                .get(usize::from(*p) % seen.delivered.len().max(1))
            {
                let again = again.clone();
                Box::pin(run(w, seen, &again)).await;
            }
        }
        Op::Script {
            org,
            caller,
            script,
        } => w.telephony.script(&call_sid(pstn(*org, *caller)), *script),
        Op::Connected {
            org,
            caller,
            connected,
            ringing,
        } => {
            let leg = |agent, status| ChildLeg {
                sid: call_sid(browser(*org, agent, *org, *caller)),
                status,
            };
            let legs = [
                connected.then(|| leg(0, CallStatus::InProgress)),
                ringing.then(|| leg(1, CallStatus::Ringing)),
            ];
            w.telephony.set_children(
                &call_sid(pstn(*org, *caller)),
                legs.into_iter().flatten().collect(),
            );
        }
        Op::Presence {
            org,
            agent,
            available,
        } => {
            let agent = &w.agents[usize::from(*org)][usize::from(*agent)];
            let status = if *available {
                AgentStatus::Available
            } else {
                AgentStatus::Offline
            };
            service.set_presence(agent, status).await.expect("presence");
        }
        Op::Advance { secs: s } => w.clock.advance(secs(u64::from(*s))),
        Op::FireDeadlines => {
            let report = service
                .fire_due_deadlines(10)
                .await
                .expect("deadlines read");
            assert_eq!(report.failed, 0, "{report:?}");
            assert!(report.moved <= report.examined);
        }
        Op::Reconcile => {
            let report = service
                .reconcile(GRACE, DEFAULT_RETRIEVE_RING_TIME, 10)
                .await
                .expect("in-flight read");
            assert_eq!(report.failed, 0, "{report:?}");
            assert!(report.moved <= report.examined);
        }
    }
    if op.is_twilio_signal() {
        seen.delivered.push(op.clone());
    }
}

/// The invariants, checked after every step.
async fn check(w: &World, seen: &mut Observed, step: usize, op: &Op) {
    let at = format!("after step {step} ({op:?})");

    // The live feed: per organisation, sequences 1, 2, 3…
    while let Some(next) = seen.subscription.next().now_or_never() {
        let event = next.unwrap_or_else(|e| panic!("{at}: the feed failed: {e}"));
        let published = seen.published.entry(event.org.clone()).or_default();
        let expected = published.last().map_or(1, |e| e.sequence.get() + 1);
        assert_eq!(
            event.sequence.get(),
            expected,
            "{at}: published out of sequence"
        );
        published.push(event);
    }

    for org in &w.orgs {
        let events = w
            .service
            .events_after(&org.slug, Sequence::ZERO, usize::MAX)
            .await
            .expect("events");
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event.sequence.get(), i as u64 + 1, "{at}: stored sequences");
            assert_eq!(event.org, org.slug);
            assert_eq!(event.call.org, org.slug, "{at}: an event of another lot");
        }
        let published = seen.published.get(&org.slug).map_or(&[][..], Vec::as_slice);
        assert_eq!(
            published,
            &events[..],
            "{at}: the feed is not the stored log"
        );

        // Replaying the log: a slot is taken by one call at a time.
        let mut replayed: HashMap<SlotNumber, ParkedCallId> = HashMap::new();
        for event in &events {
            let call = &event.call;
            if event.kind == callpark_domain::LotEventKind::Parked {
                assert_eq!(call.state, ParkState::Parking);
                if !seen.ids.contains(&call.id) {
                    seen.ids.push(call.id);
                }
            }
            if call.occupies_slot() {
                if let Some(other) = replayed.insert(call.slot, call.id) {
                    assert_eq!(
                        other, call.id,
                        "{at}: slot {} occupied twice in the log",
                        call.slot
                    );
                }
            } else if replayed.get(&call.slot) == Some(&call.id) {
                replayed.remove(&call.slot);
            }
        }

        // The store's lot agrees with the log, one call per slot.
        let snapshot = w.store.lot(&org.slug).await.expect("lot");
        assert_eq!(
            snapshot.sequence.get(),
            events.len() as u64,
            "{at}: lot sequence"
        );
        let mut in_lot: HashMap<SlotNumber, ParkedCallId> = HashMap::new();
        for call in &snapshot.occupied {
            assert!(call.occupies_slot(), "{at}: {call:?} in the lot");
            assert!(
                in_lot.insert(call.slot, call.id).is_none(),
                "{at}: slot {} has two occupants",
                call.slot
            );
        }
        assert_eq!(in_lot, replayed, "{at}: the lot is not what the log says");
        let view = w.service.lot(org).await.expect("lot view");
        assert_eq!(view.slots.len(), usize::from(SLOTS));
        for s in &view.slots {
            assert_eq!(s.call.as_ref().map(|c| c.id), in_lot.get(&s.slot).copied());
        }

        // The last event of each call is the call as stored.
        let mut last_event: HashMap<ParkedCallId, &ParkedCall> = HashMap::new();
        for event in &events {
            last_event.insert(event.call.id, &event.call);
        }
        for (id, call) in last_event {
            let stored = w.store.parked_call(id).await.expect("store").expect("kept");
            assert_eq!(&stored, call, "{at}: the store and the log disagree");
        }
    }

    // Every call ever parked: occupying and live, or ended and gone from its slot.
    let mut occupying_legs = HashMap::new();
    for &id in &seen.ids {
        let call = w
            .store
            .parked_call(id)
            .await
            .expect("store")
            .unwrap_or_else(|| panic!("{at}: parked call {id} lost"));
        let occupant = w.store.occupant(&call.org, call.slot).await.expect("store");
        let occupies = occupant.as_ref().map(|o| o.id) == Some(id);
        assert_eq!(
            occupies,
            matches!(
                call.state,
                ParkState::Parking | ParkState::Parked | ParkState::Retrieving
            ),
            "{at}: {call:?} (occupant {occupant:?})"
        );
        match call.state {
            ParkState::Parking => assert_eq!((call.deadline, call.ended_at), (None, None)),
            ParkState::Parked => {
                assert!(call.deadline.is_some(), "{at}: parked without deadline");
                assert_eq!((&call.retrieval, call.ended_at), (&None, None), "{at}");
            }
            ParkState::Retrieving => {
                assert!(call.retrieval.is_some(), "{at}: retrieving nobody");
                assert_eq!((call.deadline, call.ended_at), (None, None), "{at}");
            }
            ParkState::Retrieved
            | ParkState::Abandoned
            | ParkState::Failed
            | ParkState::Voicemail => {
                assert!(call.ended_at.is_some(), "{at}: ended without ended_at");
                assert_eq!(call.deadline, None, "{at}: an ended call with a deadline");
            }
        }
        if occupies {
            assert!(
                occupying_legs.insert(call.pstn_call.clone(), id).is_none(),
                "{at}: one caller in two slots"
            );
        }
        if let Some(before) = seen.last.get(&id)
            && before.state.is_terminal()
        {
            assert_eq!(before, &call, "{at}: a terminal record changed");
        }
        seen.last.insert(id, call);
    }
}

fn run_case(ops: &[Op]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let w = world().await;
        let mut seen = Observed {
            // Subscribed before anything happens to a lot.
            subscription: w.service.subscribe(),
            published: HashMap::new(),
            ids: Vec::new(),
            last: HashMap::new(),
            delivered: Vec::new(),
        };
        for (step, op) in ops.iter().enumerate() {
            run(&w, &mut seen, op).await;
            check(&w, &mut seen, step, op).await;
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn random_interleavings_keep_the_lot_consistent(ops in ops()) {
        run_case(&ops);
    }
}
