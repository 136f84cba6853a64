//! Organisations, agents and call legs.

use super::with_org;
use crate::model::{AgentStatus, Call};
use crate::ports::{CreateAgentError, CreateOrgError, ParkingStore};
use crate::testkit::{
    agent_identity, call_sid, caller, epoch, new_agent, org_slug, organisation, phone, token_hash,
};
use crate::values::CallerName;

pub(super) async fn orgs_are_created_once_and_found_by_slug_and_number(store: &dyn ParkingStore) {
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

pub(super) async fn agents_are_created_once_and_found_by_identity_and_token(
    store: &dyn ParkingStore,
) {
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
        store
            .agent_by_token(&token_hash(2), epoch())
            .await
            .expect("read"),
        Some(bob.clone())
    );
    assert_eq!(
        store
            .agent_by_token(&token_hash(9), epoch())
            .await
            .expect("read"),
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

pub(super) async fn agent_status_is_stored(store: &dyn ParkingStore) {
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

pub(super) async fn call_legs_are_linked(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let call = Call {
        org: org_slug("acme"),
        pstn: call_sid(1),
        caller: caller(1),
        started_at: epoch(),
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

    // Recording a known call again updates its caller; it began when it was first seen.
    let named = Call {
        caller: crate::model::Caller {
            name: Some(CallerName::parse("Ada").expect("name")),
            ..caller(1)
        },
        started_at: epoch() + std::time::Duration::from_secs(60),
        ..call.clone()
    };
    store.record_call(&named).await.expect("recorded");
    assert_eq!(
        store.call_by_pstn(&call.pstn).await.expect("read"),
        Some(Call {
            started_at: epoch(),
            ..named
        })
    );
}

pub(super) async fn browser_leg_statuses_are_ordered_and_end(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let call = Call {
        org: org_slug("acme"),
        pstn: call_sid(1),
        caller: caller(1),
        started_at: epoch(),
    };
    store.record_call(&call).await.expect("recorded");
    let (leg, alice) = (call_sid(2), agent_identity("alice"));
    let status =
        |sequence, ended| store.record_leg_status(&leg, &call.pstn, Some(&alice), sequence, ended);
    // (sequence, ended) → news?
    let seen = [
        (Some(1), false, true),
        (Some(3), false, true),
        // Older than one seen, or the same again: not news.
        (Some(2), false, false),
        (Some(3), false, false),
        // Without a sequence number there is nothing to compare with.
        (None, false, true),
        (Some(4), true, true),
        // After the end, nothing is news, whatever its number.
        (Some(5), false, false),
        (None, true, false),
    ];
    for (sequence, ended, news) in seen {
        let got = status(sequence, ended).await.expect("recorded");
        assert_eq!(got, news, "{sequence:?}, ended: {ended}");
    }
    // Recording a status links the leg to its caller's leg.
    assert_eq!(
        store.call_by_browser_leg(&leg).await.expect("read"),
        Some(call.clone())
    );
    // Linking the leg again does not forget that it ended.
    store
        .link_browser_leg(&leg, &call.pstn, Some(&alice))
        .await
        .expect("linked");
    assert!(!status(Some(9), false).await.expect("recorded"));
    // A leg of an unknown caller's leg is not linked, and so always news.
    let stray = call_sid(7);
    for (sequence, ended) in [(Some(1), true), (Some(0), false)] {
        let got = store
            .record_leg_status(&stray, &call_sid(99), None, sequence, ended)
            .await
            .expect("recorded");
        assert!(got, "{sequence:?}");
    }
    assert_eq!(store.call_by_browser_leg(&stray).await.expect("read"), None);
}

pub(super) async fn inbound_calls_ring_the_longest_idle_agents_in_turn(store: &dyn ParkingStore) {
    with_org(store, "acme", 5).await;
    let org = org_slug("acme");
    let names: Vec<String> = (1..=12).map(|n| format!("a{n:02}")).collect();
    for (n, name) in names.iter().enumerate() {
        let token = u8::try_from(n + 1).expect("a small number");
        store
            .create_agent(&new_agent("acme", name, token))
            .await
            .expect("created");
    }
    // They become available last to first: a12 has waited longest.
    for name in names.iter().rev() {
        let set = store
            .set_agent_status(&org, &agent_identity(name), AgentStatus::Available, None)
            .await;
        assert!(set.expect("set"));
    }
    let idle_order: Vec<_> = names.iter().rev().map(|n| agent_identity(n)).collect();
    let first = store.agents_to_ring(&org, 10).await.expect("read");
    assert_eq!(
        first,
        idle_order[..10],
        "the ten longest idle, longest first"
    );

    // The next call rings the two left out first, then the longest idle of the others.
    let second = store.agents_to_ring(&org, 10).await.expect("read");
    assert_eq!(second.len(), 10);
    assert_eq!(second[..2], idle_order[10..], "the two not rung last time");
    assert!(second[2..].iter().all(|a| first.contains(a)));

    // Agents on a call or offline are not rung; one back from a call waits at the back.
    let busy = agent_identity("a12");
    let back = agent_identity("a01");
    store
        .set_agent_status(&org, &busy, AgentStatus::OnCall, Some(&call_sid(5)))
        .await
        .expect("set");
    store
        .set_agent_status(&org, &back, AgentStatus::OnCall, Some(&call_sid(6)))
        .await
        .expect("set");
    store
        .set_agent_status(&org, &back, AgentStatus::Available, None)
        .await
        .expect("set");
    let ring = store.agents_to_ring(&org, 20).await.expect("read");
    assert_eq!(ring.len(), 11);
    assert!(!ring.contains(&busy));
    assert_eq!(
        ring.last(),
        Some(&back),
        "back from a call: the shortest idle"
    );
    assert_eq!(
        store
            .agents_to_ring(&org_slug("nobody"), 10)
            .await
            .expect("read"),
        vec![]
    );
}
