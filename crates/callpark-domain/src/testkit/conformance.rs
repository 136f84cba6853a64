//! The behavioural contract of [`ParkingStore`]. Each check takes a fresh, empty store; run
//! them all with [`store_conformance_tests!`](crate::store_conformance_tests).
//!
//! Timestamps used here are whole seconds: stores need keep no more than microseconds.

use std::time::Duration;

use futures_util::future::join_all;

use super::{
    agent_identity, call_sid, caller, conference_sid, epoch, new_agent, org_slug, organisation,
    phone, token_hash,
};
use crate::events::{LotEvent, LotEventKind};
use crate::machine::ParkState;
use crate::model::{
    AgentStatus, AgentStatusChange, AutoSlot, Call, NewParkedCall, ParkedCall, Retrieval,
    SlotRequest,
};
use crate::ports::{CasError, ClaimError, CreateAgentError, CreateOrgError, ParkingStore};
use crate::values::{CallerName, HttpUrl, ParkedCallId, Sequence, SlotNumber};

/// Expands to one `#[tokio::test]` per conformance check. `$make` is an expression evaluated
/// afresh for each test, a future that yields something that dereferences to the store
/// (`Box<Store>`, `Arc<Store>`, or a guard that drops a test database).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@each $make;
            orgs_are_created_once_and_found_by_slug_and_number,
            agents_are_created_once_and_found_by_identity_and_token,
            agent_status_is_stored,
            call_legs_are_linked,
            a_requested_slot_is_claimed_once,
            claims_outside_the_lot_or_org_are_refused,
            a_parked_call_cannot_be_parked_twice,
            first_free_takes_the_lowest_free_slot,
            next_after_last_used_wraps_around,
            apply_is_a_compare_and_set,
            an_agent_status_is_set_with_its_transition_or_not_at_all,
            every_field_survives_a_round_trip,
            terminal_states_free_the_slot_and_keep_history,
            the_lot_and_its_sequence_are_consistent,
            events_after_resumes_in_order,
            sequences_are_per_organisation,
            due_deadlines_are_parked_calls_past_their_deadline,
            in_flight_since_finds_stale_parking_and_retrieving,
            a_recording_is_stored_with_its_event,
            concurrent_claims_of_one_slot_have_one_winner,
            concurrent_applies_have_one_winner,
        );
    };
    (@each $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let store = $make.await;
                $crate::testkit::conformance::$check(&*store).await;
            }
        )*
    };
}

fn slot(n: u32) -> SlotNumber {
    SlotNumber::new(n).expect("a slot")
}

fn claim_request(org: &str, request: SlotRequest, pstn: u128) -> NewParkedCall {
    NewParkedCall {
        org: org_slug(org),
        request,
        pstn_call: call_sid(pstn),
        caller: caller(u32::try_from(pstn % 1000).expect("small")),
        parked_by: agent_identity("alice"),
        now: epoch(),
    }
}

async fn claim(
    store: &dyn ParkingStore,
    org: &str,
    request: SlotRequest,
    pstn: u128,
) -> Result<ParkedCall, ClaimError> {
    store
        .claim_slot(&claim_request(org, request, pstn))
        .await
        .map(|e| e.call)
}

async fn claim_slot_n(store: &dyn ParkingStore, org: &str, n: u32, pstn: u128) -> ParkedCall {
    claim(store, org, SlotRequest::Requested(slot(n)), pstn)
        .await
        .expect("slot claimed")
}

async fn move_to(
    store: &dyn ParkingStore,
    call: &ParkedCall,
    state: ParkState,
    kind: LotEventKind,
) -> LotEvent {
    let mut next = call.clone();
    next.state = state;
    next.state_changed_at = epoch() + Duration::from_secs(1);
    if state.is_terminal() {
        next.ended_at = Some(next.state_changed_at);
    }
    store
        .apply(call, &next, kind, next.state_changed_at)
        .await
        .expect("applied")
}

async fn with_org(store: &dyn ParkingStore, slug: &str, slots: u32) {
    store
        .create_org(&organisation(slug, slots))
        .await
        .expect("org created");
}

pub async fn orgs_are_created_once_and_found_by_slug_and_number(store: &dyn ParkingStore) {
    let acme = organisation("acme", 10);
    assert_eq!(store.create_org(&acme).await.expect("created"), acme);
    assert_eq!(
        store.org(&acme.slug).await.expect("read"),
        Some(acme.clone())
    );
    assert_eq!(
        store.org_by_number(&acme.numbers[0]).await.expect("read"),
        Some(acme.clone())
    );
    assert_eq!(store.org(&org_slug("nobody")).await.expect("read"), None);
    assert_eq!(store.org_by_number(&phone(1)).await.expect("read"), None);

    assert!(matches!(
        store.create_org(&acme).await,
        Err(CreateOrgError::AlreadyExists)
    ));
    let mut thief = organisation("thief", 3);
    thief.numbers = acme.numbers.clone();
    assert!(
        matches!(store.create_org(&thief).await, Err(CreateOrgError::NumberTaken(n)) if n == acme.numbers[0])
    );
    assert_eq!(
        store.org(&thief.slug).await.expect("read"),
        None,
        "a refused org is not half-created"
    );
}

pub async fn agents_are_created_once_and_found_by_identity_and_token(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    assert!(matches!(
        store.create_agent(&new_agent("nobody", "alice", 1)).await,
        Err(CreateAgentError::UnknownOrg)
    ));
    let bob = store
        .create_agent(&new_agent("acme", "bob", 2))
        .await
        .expect("created");
    let alice = store
        .create_agent(&new_agent("acme", "alice", 1))
        .await
        .expect("created");
    assert_eq!(alice.identity, agent_identity("alice"));
    assert_eq!(
        alice.status,
        AgentStatus::Offline,
        "new agents are offline until they sign in"
    );
    assert_eq!(alice.current_call, None);
    assert!(matches!(
        store.create_agent(&new_agent("acme", "alice", 3)).await,
        Err(CreateAgentError::AlreadyExists)
    ));

    assert_eq!(
        store
            .agent(&org_slug("acme"), &agent_identity("alice"))
            .await
            .expect("read"),
        Some(alice.clone())
    );
    assert_eq!(
        store.agent_by_token(&token_hash(2)).await.expect("read"),
        Some(bob.clone())
    );
    assert_eq!(
        store.agent_by_token(&token_hash(9)).await.expect("read"),
        None
    );
    assert_eq!(
        store.agents(&org_slug("acme")).await.expect("read"),
        vec![alice, bob],
        "ordered by identity"
    );

    // The same identity may exist in another organisation.
    with_org(store, "other", 5).await;
    store
        .create_agent(&new_agent("other", "alice", 4))
        .await
        .expect("created");
    assert_eq!(
        store.agents(&org_slug("acme")).await.expect("read").len(),
        2
    );
}

pub async fn agent_status_is_stored(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    store
        .create_agent(&new_agent("acme", "alice", 1))
        .await
        .expect("created");
    let (org, alice) = (org_slug("acme"), agent_identity("alice"));
    let leg = call_sid(7);
    assert!(
        store
            .set_agent_status(&org, &alice, AgentStatus::OnCall, Some(&leg))
            .await
            .expect("set")
    );
    let read = store
        .agent(&org, &alice)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (read.status, read.current_call),
        (AgentStatus::OnCall, Some(leg))
    );
    assert!(
        store
            .set_agent_status(&org, &alice, AgentStatus::Available, None)
            .await
            .expect("set")
    );
    let read = store
        .agent(&org, &alice)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (read.status, read.current_call),
        (AgentStatus::Available, None)
    );
    assert!(
        !store
            .set_agent_status(&org, &agent_identity("ghost"), AgentStatus::Available, None)
            .await
            .expect("set")
    );
}

pub async fn call_legs_are_linked(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let call = Call {
        org: org_slug("acme"),
        pstn: call_sid(1),
        caller: caller(1),
    };
    store.record_call(&call).await.expect("recorded");
    assert_eq!(
        store.call_by_pstn(&call.pstn).await.expect("read"),
        Some(call.clone())
    );
    assert!(
        store
            .link_browser_leg(&call_sid(2), &call.pstn, Some(&agent_identity("alice")))
            .await
            .expect("linked")
    );
    assert!(
        store
            .link_browser_leg(&call_sid(3), &call.pstn, None)
            .await
            .expect("linked")
    );
    assert_eq!(
        store.call_by_browser_leg(&call_sid(2)).await.expect("read"),
        Some(call.clone())
    );
    assert_eq!(
        store.call_by_browser_leg(&call_sid(3)).await.expect("read"),
        Some(call.clone())
    );
    assert!(
        !store
            .link_browser_leg(&call_sid(4), &call_sid(99), None)
            .await
            .expect("no such call")
    );
    assert_eq!(
        store.call_by_browser_leg(&call_sid(4)).await.expect("read"),
        None
    );

    // Recording a known call again updates its caller.
    let named = Call {
        caller: crate::model::Caller {
            name: Some(CallerName::parse("Ada").expect("name")),
            ..caller(1)
        },
        ..call.clone()
    };
    store.record_call(&named).await.expect("recorded");
    assert_eq!(
        store.call_by_pstn(&call.pstn).await.expect("read"),
        Some(named)
    );
}

pub async fn a_requested_slot_is_claimed_once(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let event = store
        .claim_slot(&claim_request("acme", SlotRequest::Requested(slot(2)), 1))
        .await
        .expect("claimed");
    assert_eq!(event.kind, LotEventKind::Parked);
    assert_eq!(event.sequence, Sequence::new(1));
    assert_eq!(event.org, org_slug("acme"));
    let call = &event.call;
    assert_eq!(
        (call.slot, call.state, call.version),
        (slot(2), ParkState::Parking, 1)
    );
    assert_eq!(call.pstn_call, call_sid(1));
    assert_eq!(call.parked_by, agent_identity("alice"));
    assert_eq!((call.parked_at, call.state_changed_at), (epoch(), epoch()));
    assert_eq!(
        (
            call.conference_sid.clone(),
            call.deadline,
            call.retrieval.clone(),
            call.ended_at
        ),
        (None, None, None, None)
    );

    assert!(
        matches!(claim(store, "acme", SlotRequest::Requested(slot(2)), 2).await, Err(ClaimError::SlotOccupied(s)) if s == slot(2))
    );
    assert_eq!(
        store
            .occupant(&org_slug("acme"), slot(2))
            .await
            .expect("read"),
        Some(call.clone())
    );
    assert_eq!(
        store.occupant_by_pstn(&call_sid(1)).await.expect("read"),
        Some(call.clone())
    );
    assert_eq!(
        store.parked_call(call.id).await.expect("read"),
        Some(call.clone())
    );
    assert_eq!(
        store
            .occupant(&org_slug("acme"), slot(3))
            .await
            .expect("read"),
        None
    );
}

pub async fn claims_outside_the_lot_or_org_are_refused(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    assert!(matches!(
        claim(store, "acme", SlotRequest::Requested(slot(6)), 1).await,
        Err(ClaimError::SlotOutOfRange { slot: s, lot_size }) if s == slot(6) && lot_size.get() == 5
    ));
    assert!(matches!(
        claim(store, "nobody", SlotRequest::Auto(AutoSlot::FirstFree), 1).await,
        Err(ClaimError::UnknownOrg)
    ));
    assert_eq!(
        store.lot(&org_slug("acme")).await.expect("read").occupied,
        vec![],
        "refused claims leave nothing behind"
    );
    assert_eq!(
        store
            .events_after(&org_slug("acme"), Sequence::ZERO, 10)
            .await
            .expect("read"),
        vec![]
    );
}

pub async fn a_parked_call_cannot_be_parked_twice(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let first = claim_slot_n(store, "acme", 1, 1).await;
    assert!(matches!(
        claim(store, "acme", SlotRequest::Requested(slot(3)), 1).await,
        Err(ClaimError::AlreadyParked(id, s)) if id == first.id && s == slot(1)
    ));
    // Once it has left the lot, the same caller's leg can be parked again.
    move_to(store, &first, ParkState::Retrieved, LotEventKind::Retrieved).await;
    claim_slot_n(store, "acme", 3, 1).await;
}

pub async fn first_free_takes_the_lowest_free_slot(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    let first_free = SlotRequest::Auto(AutoSlot::FirstFree);
    let one = claim(store, "acme", first_free, 1).await.expect("claimed");
    assert_eq!(one.slot, slot(1));
    claim_slot_n(store, "acme", 3, 2).await;
    assert_eq!(
        claim(store, "acme", first_free, 3)
            .await
            .expect("claimed")
            .slot,
        slot(2)
    );
    assert!(matches!(
        claim(store, "acme", first_free, 4).await,
        Err(ClaimError::LotFull)
    ));
    move_to(store, &one, ParkState::Abandoned, LotEventKind::Abandoned).await;
    assert_eq!(
        claim(store, "acme", first_free, 5)
            .await
            .expect("claimed")
            .slot,
        slot(1)
    );
}

pub async fn next_after_last_used_wraps_around(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    let next = SlotRequest::Auto(AutoSlot::NextAfterLastUsed);
    let one = claim(store, "acme", next, 1).await.expect("claimed");
    assert_eq!(one.slot, slot(1));
    assert_eq!(
        claim(store, "acme", next, 2).await.expect("claimed").slot,
        slot(2)
    );
    move_to(store, &one, ParkState::Retrieved, LotEventKind::Retrieved).await;
    // Slot 1 is free again, but the next slot after the last used one (2) is 3.
    assert_eq!(
        claim(store, "acme", next, 3).await.expect("claimed").slot,
        slot(3)
    );
    // Then it wraps around to the free slot 1.
    assert_eq!(
        claim(store, "acme", next, 4).await.expect("claimed").slot,
        slot(1)
    );
    assert!(matches!(
        claim(store, "acme", next, 5).await,
        Err(ClaimError::LotFull)
    ));
}

pub async fn an_agent_status_is_set_with_its_transition_or_not_at_all(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let org = org_slug("acme");
    let alice = agent_identity("alice");
    store
        .create_agent(&new_agent("acme", "alice", 1))
        .await
        .expect("agent created");
    let leg = call_sid(9);
    store
        .set_agent_status(&org, &alice, AgentStatus::OnCall, Some(&leg))
        .await
        .expect("set");
    let parking = claim_slot_n(store, "acme", 1, 1).await;
    let call = Call {
        org: org.clone(),
        pstn: parking.pstn_call.clone(),
        caller: caller(1),
    };
    store.record_call(&call).await.expect("recorded");
    let free = AgentStatusChange {
        org: org.clone(),
        identity: alice.clone(),
        status: AgentStatus::Available,
        current_call: None,
    };
    let status = |agent: Option<crate::model::Agent>| {
        agent.map(|a| (a.status, a.current_call)).expect("exists")
    };

    // Lost: neither the call nor the agent changes.
    let mut stale = parking.clone();
    stale.version += 1;
    let mut next = parking.clone();
    next.state = ParkState::Parked;
    assert!(matches!(
        store
            .apply_and_set_agent(&stale, &next, LotEventKind::Updated, epoch(), &free)
            .await,
        Err(CasError::Conflict)
    ));
    assert_eq!(
        status(store.agent(&org, &alice).await.expect("read")),
        (AgentStatus::OnCall, Some(leg))
    );
    assert_eq!(
        store.parked_call(parking.id).await.expect("read"),
        Some(parking.clone())
    );

    // Stored: both change, with one event.
    let event = store
        .apply_and_set_agent(&parking, &next, LotEventKind::Updated, epoch(), &free)
        .await
        .expect("applied");
    assert_eq!(
        (event.call.state, event.call.version, event.sequence),
        (ParkState::Parked, 2, Sequence::new(2))
    );
    assert_eq!(
        status(store.agent(&org, &alice).await.expect("read")),
        (AgentStatus::Available, None)
    );

    // Put on a browser leg: the leg is bridged to the call's caller.
    let answered_leg = call_sid(10);
    let mut retrieved = event.call.clone();
    retrieved.state = ParkState::Retrieved;
    let on_call = AgentStatusChange {
        status: AgentStatus::OnCall,
        current_call: Some(answered_leg.clone()),
        ..free.clone()
    };
    let event = store
        .apply_and_set_agent(
            &event.call,
            &retrieved,
            LotEventKind::Retrieved,
            epoch(),
            &on_call,
        )
        .await
        .expect("applied");
    assert_eq!(
        status(store.agent(&org, &alice).await.expect("read")),
        (AgentStatus::OnCall, Some(answered_leg.clone()))
    );
    assert_eq!(
        store
            .call_by_browser_leg(&answered_leg)
            .await
            .expect("read"),
        Some(call)
    );

    // An agent the store does not know is no reason to refuse the transition.
    let ghost = AgentStatusChange {
        identity: agent_identity("ghost"),
        ..free
    };
    let mut ended = event.call.clone();
    ended.state = ParkState::Abandoned;
    store
        .apply_and_set_agent(
            &event.call,
            &ended,
            LotEventKind::Abandoned,
            epoch(),
            &ghost,
        )
        .await
        .expect("applied without the agent");
    assert!(
        store
            .agent(&org, &ghost.identity)
            .await
            .expect("read")
            .is_none()
    );
}

pub async fn apply_is_a_compare_and_set(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let parking = claim_slot_n(store, "acme", 1, 1).await;
    let event = move_to(store, &parking, ParkState::Parked, LotEventKind::Updated).await;
    assert_eq!(event.kind, LotEventKind::Updated);
    assert_eq!(event.sequence, Sequence::new(2));
    assert_eq!(
        (event.call.state, event.call.version),
        (ParkState::Parked, 2)
    );
    assert_eq!(
        store.parked_call(parking.id).await.expect("read"),
        Some(event.call.clone())
    );

    // The same change computed from the old record loses.
    let mut stale_next = parking.clone();
    stale_next.state = ParkState::Abandoned;
    assert!(matches!(
        store
            .apply(&parking, &stale_next, LotEventKind::Abandoned, epoch())
            .await,
        Err(CasError::Conflict)
    ));
    // A record whose state matches but version does not, too.
    let mut wrong_version = event.call.clone();
    wrong_version.version = 1;
    assert!(matches!(
        store
            .apply(
                &wrong_version,
                &stale_next,
                LotEventKind::Abandoned,
                epoch()
            )
            .await,
        Err(CasError::Conflict)
    ));
    assert_eq!(
        store.parked_call(parking.id).await.expect("read"),
        Some(event.call.clone()),
        "a lost race changes nothing"
    );
    assert_eq!(
        store
            .events_after(&org_slug("acme"), Sequence::new(2), 10)
            .await
            .expect("read"),
        vec![],
        "and writes no event"
    );

    let mut unknown = parking.clone();
    unknown.id = ParkedCallId::random();
    assert!(matches!(
        store
            .apply(&unknown, &stale_next, LotEventKind::Abandoned, epoch())
            .await,
        Err(CasError::NotFound)
    ));
}

pub async fn every_field_survives_a_round_trip(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let parking = claim_slot_n(store, "acme", 4, 1).await;
    let mut next = parking.clone();
    next.state = ParkState::Retrieving;
    next.conference_sid = Some(conference_sid(42));
    next.deadline = Some(epoch() + Duration::from_secs(300));
    next.retrieval = Some(Retrieval::Ringback(agent_identity("bob")));
    next.state_changed_at = epoch() + Duration::from_secs(5);
    next.caller.name = Some(CallerName::parse("Grace Hopper").expect("name"));
    let event = store
        .apply(
            &parking,
            &next,
            LotEventKind::TimedOut,
            next.state_changed_at,
        )
        .await
        .expect("applied");
    let mut expected = next.clone();
    expected.version = 2;
    assert_eq!(event.call, expected);
    assert_eq!(event.at, next.state_changed_at);
    assert_eq!(
        store.parked_call(parking.id).await.expect("read"),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .events_after(&org_slug("acme"), Sequence::new(1), 10)
            .await
            .expect("read"),
        vec![event]
    );

    let mut by_agent = expected.clone();
    by_agent.retrieval = Some(Retrieval::ByAgent(agent_identity("carol")));
    let event = store
        .apply(&expected, &by_agent, LotEventKind::Updated, epoch())
        .await
        .expect("applied");
    assert_eq!(
        event.call.retrieval,
        Some(Retrieval::ByAgent(agent_identity("carol")))
    );

    let mut to_voicemail = event.call.clone();
    to_voicemail.retrieval = Some(Retrieval::ToVoicemail);
    let event = store
        .apply(&event.call, &to_voicemail, LotEventKind::TimedOut, epoch())
        .await
        .expect("applied");
    assert_eq!(event.call.retrieval, Some(Retrieval::ToVoicemail));
    assert_eq!(
        store
            .parked_call(parking.id)
            .await
            .expect("read")
            .expect("exists")
            .retrieval,
        Some(Retrieval::ToVoicemail)
    );
}

pub async fn terminal_states_free_the_slot_and_keep_history(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    for (n, terminal) in [
        ParkState::Retrieved,
        ParkState::Abandoned,
        ParkState::Failed,
        ParkState::Voicemail,
    ]
    .into_iter()
    .enumerate()
    {
        let pstn = 100 + n as u128;
        let call = claim_slot_n(store, "acme", 2, pstn).await;
        let ended = move_to(store, &call, terminal, LotEventKind::Retrieved)
            .await
            .call;
        assert_eq!(
            store
                .occupant(&org_slug("acme"), slot(2))
                .await
                .expect("read"),
            None,
            "{terminal} frees the slot"
        );
        assert_eq!(
            store.occupant_by_pstn(&call_sid(pstn)).await.expect("read"),
            None
        );
        assert_eq!(
            store.parked_call(call.id).await.expect("read"),
            Some(ended),
            "{terminal} is kept as history"
        );
    }
    assert_eq!(
        store.lot(&org_slug("acme")).await.expect("read").occupied,
        vec![]
    );
}

pub async fn the_lot_and_its_sequence_are_consistent(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    with_org(store, "other", 5).await;
    let empty = store.lot(&org_slug("acme")).await.expect("read");
    assert_eq!((empty.occupied, empty.sequence), (vec![], Sequence::ZERO));
    let three = claim_slot_n(store, "acme", 3, 1).await;
    let one = claim_slot_n(store, "acme", 1, 2).await;
    let gone = claim_slot_n(store, "acme", 2, 3).await;
    move_to(store, &gone, ParkState::Abandoned, LotEventKind::Abandoned).await;
    claim_slot_n(store, "other", 1, 4).await;
    let lot = store.lot(&org_slug("acme")).await.expect("read");
    assert_eq!(
        lot.occupied,
        vec![one, three],
        "occupied slots only, by slot"
    );
    assert_eq!(lot.sequence, Sequence::new(4));
    assert_eq!(
        store.lot(&org_slug("nobody")).await.expect("read").occupied,
        vec![]
    );
}

pub async fn events_after_resumes_in_order(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let mut written = Vec::new();
    for n in 1..=4 {
        written.push(
            store
                .claim_slot(&claim_request(
                    "acme",
                    SlotRequest::Requested(slot(n)),
                    u128::from(n),
                ))
                .await
                .expect("claimed"),
        );
    }
    written.push(
        move_to(
            store,
            &written[0].call.clone(),
            ParkState::Parked,
            LotEventKind::Updated,
        )
        .await,
    );
    let org = org_slug("acme");
    assert_eq!(
        store
            .events_after(&org, Sequence::ZERO, 100)
            .await
            .expect("read"),
        written
    );
    assert_eq!(
        store
            .events_after(&org, Sequence::new(2), 100)
            .await
            .expect("read"),
        written[2..]
    );
    assert_eq!(
        store
            .events_after(&org, Sequence::new(2), 2)
            .await
            .expect("read"),
        written[2..4],
        "limit honoured"
    );
    assert_eq!(
        store
            .events_after(&org, Sequence::new(5), 100)
            .await
            .expect("read"),
        vec![]
    );
    let sequences: Vec<u64> = written.iter().map(|e| e.sequence.get()).collect();
    assert_eq!(sequences, [1, 2, 3, 4, 5]);
}

pub async fn sequences_are_per_organisation(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    with_org(store, "other", 5).await;
    let a1 = store
        .claim_slot(&claim_request("acme", SlotRequest::Requested(slot(1)), 1))
        .await
        .expect("claimed");
    let o1 = store
        .claim_slot(&claim_request("other", SlotRequest::Requested(slot(1)), 2))
        .await
        .expect("claimed");
    let a2 = store
        .claim_slot(&claim_request("acme", SlotRequest::Requested(slot(2)), 3))
        .await
        .expect("claimed");
    assert_eq!(
        (a1.sequence.get(), o1.sequence.get(), a2.sequence.get()),
        (1, 1, 2)
    );
    assert_eq!(
        store
            .events_after(&org_slug("other"), Sequence::ZERO, 10)
            .await
            .expect("read"),
        vec![o1]
    );
}

pub async fn due_deadlines_are_parked_calls_past_their_deadline(store: &dyn ParkingStore) {
    with_org(store, "acme", 9).await;
    with_org(store, "other", 9).await;
    let park_with_deadline = async |org: &str, n: u32, secs: u64| {
        let call = claim_slot_n(
            store,
            org,
            n,
            u128::from(n) + if org == "acme" { 0 } else { 100 },
        )
        .await;
        let mut next = call.clone();
        next.state = ParkState::Parked;
        next.deadline = Some(epoch() + Duration::from_secs(secs));
        store
            .apply(&call, &next, LotEventKind::Updated, epoch())
            .await
            .expect("applied")
            .call
    };
    let late = park_with_deadline("acme", 1, 20).await;
    let later = park_with_deadline("other", 2, 30).await;
    let earliest = park_with_deadline("acme", 3, 10).await;
    let future = park_with_deadline("acme", 4, 100).await;
    claim_slot_n(store, "acme", 5, 5).await; // still parking: no deadline
    let retrieving = park_with_deadline("acme", 6, 5).await;
    move_to(
        store,
        &retrieving,
        ParkState::Retrieving,
        LotEventKind::Retrieving,
    )
    .await;

    let now = epoch() + Duration::from_secs(30);
    let due = store.due_deadlines(now, 10).await.expect("read");
    assert_eq!(
        due,
        vec![earliest.clone(), late, later],
        "parked, deadline at or before now, earliest first, every org"
    );
    assert_eq!(
        store.due_deadlines(now, 1).await.expect("read"),
        vec![earliest]
    );
    assert!(
        !store
            .due_deadlines(now, 10)
            .await
            .expect("read")
            .contains(&future)
    );
}

pub async fn in_flight_since_finds_stale_parking_and_retrieving(store: &dyn ParkingStore) {
    with_org(store, "acme", 9).await;
    let stale_parking = claim_slot_n(store, "acme", 1, 1).await; // state changed at epoch
    let parked = claim_slot_n(store, "acme", 2, 2).await;
    let parked = move_to(store, &parked, ParkState::Parked, LotEventKind::Updated)
        .await
        .call;
    let retrieving = move_to(
        store,
        &parked,
        ParkState::Retrieving,
        LotEventKind::Retrieving,
    )
    .await
    .call; // at epoch + 1 s
    let mut fresh = claim_request("acme", SlotRequest::Requested(slot(3)), 3);
    fresh.now = epoch() + Duration::from_secs(60);
    store.claim_slot(&fresh).await.expect("claimed");

    let before = epoch() + Duration::from_secs(1);
    assert_eq!(
        store.in_flight_since(before, 10).await.expect("read"),
        vec![stale_parking.clone(), retrieving]
    );
    assert_eq!(
        store.in_flight_since(before, 1).await.expect("read"),
        vec![stale_parking]
    );
    assert_eq!(
        store
            .in_flight_since(epoch() - Duration::from_secs(1), 10)
            .await
            .expect("read"),
        vec![]
    );
}

/// A terminal record still takes a detail: a voicemail's recording is stored by a transition
/// from `voicemail` to `voicemail`, with its version bumped and its event written.
pub async fn a_recording_is_stored_with_its_event(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let call = claim_slot_n(store, "acme", 1, 1).await;
    let ended = move_to(store, &call, ParkState::Voicemail, LotEventKind::Voicemail)
        .await
        .call;
    let url = HttpUrl::parse("https://api.twilio.com/recordings/RE1").expect("URL");
    let mut recorded = ended.clone();
    recorded.recording_url = Some(url.clone());
    let at = epoch() + Duration::from_secs(2);
    let event = store
        .apply(&ended, &recorded, LotEventKind::VoicemailRecorded, at)
        .await
        .expect("recording stored");
    assert_eq!(event.kind, LotEventKind::VoicemailRecorded);
    assert_eq!(event.call.recording_url, Some(url.clone()));
    assert_eq!(event.call.version, ended.version + 1);
    let read = store
        .parked_call(call.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read, event.call);
    assert_eq!(read.state, ParkState::Voicemail);
    let events = store
        .events_after(
            &org_slug("acme"),
            Sequence::new(event.sequence.get() - 1),
            10,
        )
        .await
        .expect("read");
    assert_eq!(events, vec![event]);
}

pub async fn concurrent_claims_of_one_slot_have_one_winner(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let claims = (1..=20).map(|n| claim(store, "acme", SlotRequest::Requested(slot(1)), n));
    let results = join_all(claims).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let occupied = results
        .iter()
        .filter(|r| matches!(r, Err(ClaimError::SlotOccupied(_))))
        .count();
    assert_eq!((won, occupied), (1, 19));
    let lot = store.lot(&org_slug("acme")).await.expect("read");
    assert_eq!(lot.occupied.len(), 1);
    assert_eq!(
        lot.sequence,
        Sequence::new(1),
        "only the winner wrote an event"
    );
}

pub async fn concurrent_applies_have_one_winner(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let parked = claim_slot_n(store, "acme", 1, 1).await;
    let parked = move_to(store, &parked, ParkState::Parked, LotEventKind::Updated)
        .await
        .call;
    let attempts = (0..10).map(|n| {
        let mut next = parked.clone();
        next.state = ParkState::Retrieving;
        next.retrieval = Some(Retrieval::ByAgent(agent_identity(&format!("agent{n}"))));
        let parked = parked.clone();
        async move {
            store
                .apply(&parked, &next, LotEventKind::Retrieving, epoch())
                .await
        }
    });
    let results = join_all(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(CasError::Conflict)))
    );
    let events = store
        .events_after(&org_slug("acme"), Sequence::new(2), 10)
        .await
        .expect("read");
    assert_eq!(events.len(), 1, "one retrieving event");
}
