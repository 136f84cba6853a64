//! Compare-and-set transitions, with the agent status and the event they store.

use std::time::Duration;

use futures_util::future::join_all;

use super::{claim_slot_n, move_to, slot, with_org};
use crate::events::LotEventKind;
use crate::machine::ParkState;
use crate::model::{AgentStatus, AgentStatusChange, Call, ParkedCall, Retrieval};
use crate::ports::{CasError, ParkingStore};
use crate::testkit::{
    agent_identity, call_sid, caller, conference_sid, epoch, new_agent, org_slug,
};
use crate::values::{AgentIdentity, CallSid, CallerName, HttpUrl, OrgSlug, ParkedCallId, Sequence};

pub(super) async fn apply_is_a_compare_and_set(store: &dyn ParkingStore) {
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

pub(super) async fn an_agent_status_is_set_with_its_transition_or_not_at_all(
    store: &dyn ParkingStore,
) {
    let f = AgentOnCall::new(store).await;

    // Lost: neither the call nor the agent changes.
    let mut stale = f.parking.clone();
    stale.version += 1;
    let mut next = f.parking.clone();
    next.state = ParkState::Parked;
    assert!(matches!(
        store
            .apply_and_set_agent(&stale, &next, LotEventKind::Updated, epoch(), &f.free)
            .await,
        Err(CasError::Conflict)
    ));
    assert_eq!(
        f.status(store).await,
        (AgentStatus::OnCall, Some(f.leg.clone()))
    );
    assert_eq!(
        store.parked_call(f.parking.id).await.expect("read"),
        Some(f.parking.clone())
    );

    // Stored: both change, with one event.
    let event = store
        .apply_and_set_agent(&f.parking, &next, LotEventKind::Updated, epoch(), &f.free)
        .await
        .expect("applied");
    assert_eq!(
        (event.call.state, event.call.version, event.sequence),
        (ParkState::Parked, 2, Sequence::new(2))
    );
    assert_eq!(f.status(store).await, (AgentStatus::Available, None));

    let retrieved =
        an_agent_put_on_a_browser_leg_is_bridged_to_the_caller(store, &f, event.call).await;
    an_unknown_agent_does_not_refuse_the_transition(store, &f, retrieved).await;
}

/// An agent on a call (`leg`), and a call being parked whose caller's leg is recorded.
struct AgentOnCall {
    org: OrgSlug,
    alice: AgentIdentity,
    leg: CallSid,
    parking: ParkedCall,
    call: Call,
    /// Alice, free again.
    free: AgentStatusChange,
}

impl AgentOnCall {
    async fn new(store: &dyn ParkingStore) -> Self {
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
            started_at: epoch(),
        };
        store.record_call(&call).await.expect("recorded");
        let free = AgentStatusChange {
            org: org.clone(),
            identity: alice.clone(),
            status: AgentStatus::Available,
            current_call: None,
        };
        Self {
            org,
            alice,
            leg,
            parking,
            call,
            free,
        }
    }

    async fn status(&self, store: &dyn ParkingStore) -> (AgentStatus, Option<CallSid>) {
        let agent = store.agent(&self.org, &self.alice).await.expect("read");
        agent.map(|a| (a.status, a.current_call)).expect("exists")
    }
}

/// Put on a browser leg: the leg is bridged to the call's caller. Returns the record after.
async fn an_agent_put_on_a_browser_leg_is_bridged_to_the_caller(
    store: &dyn ParkingStore,
    f: &AgentOnCall,
    parked: ParkedCall,
) -> ParkedCall {
    let answered_leg = call_sid(10);
    let mut retrieved = parked.clone();
    retrieved.state = ParkState::Retrieved;
    let on_call = AgentStatusChange {
        status: AgentStatus::OnCall,
        current_call: Some(answered_leg.clone()),
        ..f.free.clone()
    };
    let event = store
        .apply_and_set_agent(
            &parked,
            &retrieved,
            LotEventKind::Retrieved,
            epoch(),
            &on_call,
        )
        .await
        .expect("applied");
    assert_eq!(
        f.status(store).await,
        (AgentStatus::OnCall, Some(answered_leg.clone()))
    );
    assert_eq!(
        store
            .call_by_browser_leg(&answered_leg)
            .await
            .expect("read"),
        Some(f.call.clone())
    );
    event.call
}

/// An agent the store does not know is no reason to refuse the transition.
async fn an_unknown_agent_does_not_refuse_the_transition(
    store: &dyn ParkingStore,
    f: &AgentOnCall,
    current: ParkedCall,
) {
    let ghost = AgentStatusChange {
        identity: agent_identity("ghost"),
        ..f.free.clone()
    };
    let mut ended = current.clone();
    ended.state = ParkState::Abandoned;
    store
        .apply_and_set_agent(&current, &ended, LotEventKind::Abandoned, epoch(), &ghost)
        .await
        .expect("applied without the agent");
    assert!(
        store
            .agent(&f.org, &ghost.identity)
            .await
            .expect("read")
            .is_none()
    );
}

pub(super) async fn every_field_survives_a_round_trip(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let parking = claim_slot_n(store, "acme", 4, 1).await;
    let mut next = parking.clone();
    next.state = ParkState::Retrieving;
    next.conference_sid = Some(conference_sid(42));
    next.deadline = Some(epoch() + Duration::from_secs(300));
    next.retrieval = Some(Retrieval::Ringback(agent_identity("bob")));
    next.ringbacks = 2;
    next.state_changed_at = epoch() + Duration::from_secs(5);
    next.caller.name = Some(CallerName::parse("Grace Hopper").expect("name"));
    next.voicemail_handled = Some(crate::model::VoicemailHandled {
        by: agent_identity("dave"),
        at: epoch() + Duration::from_secs(6),
    });
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

pub(super) async fn terminal_states_free_the_slot_and_keep_history(store: &dyn ParkingStore) {
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

/// A terminal record still takes a detail: a voicemail's recording is stored by a transition
/// from `voicemail` to `voicemail`, with its version bumped and its event written.
pub(super) async fn a_recording_is_stored_with_its_event(store: &dyn ParkingStore) {
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

pub(super) async fn concurrent_applies_have_one_winner(store: &dyn ParkingStore) {
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
