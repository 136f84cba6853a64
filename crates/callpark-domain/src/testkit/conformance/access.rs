//! API tokens and sessions: who may act, and until when.

use std::time::Duration;

use super::with_org;
use crate::model::NewSession;
use crate::ports::ParkingStore;
use crate::testkit::{agent_identity, epoch, new_agent, org_slug, token_hash};

const MINUTE: Duration = Duration::from_secs(60);

pub(super) async fn api_tokens_expire_and_are_replaced_at_once(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    let mut expiring = new_agent("acme", "alice", 1);
    expiring.token_expires_at = Some(epoch() + MINUTE);
    let alice = store.create_agent(&expiring).await.expect("created");
    let found = |hash, at| async move { store.agent_by_token(&token_hash(hash), at).await };
    assert_eq!(found(1, epoch()).await.expect("read"), Some(alice.clone()));
    assert_eq!(
        found(1, epoch() + MINUTE).await.expect("read"),
        None,
        "a token is refused from its expiry on"
    );

    // A new token replaces the old one at once, and may never expire.
    let (org, identity) = (org_slug("acme"), agent_identity("alice"));
    assert!(
        store
            .replace_token(&org, &identity, &token_hash(2), None)
            .await
            .expect("replaced")
    );
    assert_eq!(found(1, epoch()).await.expect("read"), None);
    assert_eq!(
        found(2, epoch() + MINUTE * 60 * 24 * 365)
            .await
            .expect("read"),
        Some(alice)
    );
    assert!(
        !store
            .replace_token(&org, &agent_identity("nobody"), &token_hash(3), None)
            .await
            .expect("answered"),
        "an unknown agent gets no token"
    );
    assert_eq!(found(3, epoch()).await.expect("read"), None);
}

pub(super) async fn sessions_live_while_used_and_end_at_once(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    let alice = store
        .create_agent(&new_agent("acme", "alice", 1))
        .await
        .expect("created");
    let start = |hash| NewSession {
        hash: token_hash(hash),
        org: org_slug("acme"),
        identity: agent_identity("alice"),
        started_at: epoch(),
        expires_at: epoch() + MINUTE * 60,
    };
    let idle = MINUTE * 10;
    let at = |minutes: u32| epoch() + MINUTE * minutes;
    let agent = |hash, minutes| async move {
        store
            .agent_by_session(&token_hash(hash), at(minutes), idle)
            .await
            .expect("read")
    };
    store.start_session(&start(7)).await.expect("started");
    store.start_session(&start(8)).await.expect("started");
    assert_eq!(agent(7, 0).await, Some(alice.clone()));
    assert_eq!(
        store
            .agent_by_token(&token_hash(7), epoch())
            .await
            .expect("read"),
        None,
        "a session is not an API token"
    );

    // Each use keeps it alive for another idle period, up to its expiry.
    for minutes in [9, 18, 27, 36, 45, 54] {
        assert_eq!(
            agent(7, minutes).await,
            Some(alice.clone()),
            "{minutes} min"
        );
    }
    assert_eq!(agent(7, 60).await, None, "a session ends at its expiry");
    // Unused for the idle period, it is over, and a later use does not revive it.
    assert_eq!(agent(8, 10).await, None);
    assert_eq!(agent(8, 11).await, None);

    // Ending a session refuses it at once; ending it again is no error.
    store.start_session(&start(9)).await.expect("started");
    store.end_session(&token_hash(9)).await.expect("ended");
    store
        .end_session(&token_hash(9))
        .await
        .expect("ended again");
    assert_eq!(agent(9, 0).await, None);
    assert_eq!(agent(6, 0).await, None, "an unknown session is nobody");

    // Ending all of an agent's sessions leaves other agents' alone.
    store
        .create_agent(&new_agent("acme", "bob", 2))
        .await
        .expect("created");
    let mut bobs = start(10);
    bobs.identity = agent_identity("bob");
    store.start_session(&bobs).await.expect("started");
    store.start_session(&start(11)).await.expect("started");
    store
        .end_agent_sessions(&org_slug("acme"), &agent_identity("alice"))
        .await
        .expect("ended");
    assert_eq!(agent(11, 1).await, None);
    assert_eq!(agent(7, 1).await, None);
    assert_eq!(
        agent(10, 1).await.map(|a| a.identity),
        Some(agent_identity("bob"))
    );
}
