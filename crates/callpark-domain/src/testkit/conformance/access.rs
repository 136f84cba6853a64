//! API tokens and sessions: who may act, and until when.

use std::time::Duration;

use super::with_org;
use crate::model::{AgentChange, AgentStatus, NewSession, Role};
use crate::ports::ParkingStore;
use crate::testkit::{agent_identity, epoch, new_agent, org_slug, token_hash};
use crate::values::DisplayName;

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

pub(super) async fn agents_not_seen_lately_go_offline_unless_on_a_call(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    let org = org_slug("acme");
    for (name, token) in [("alice", 1), ("bob", 2), ("carol", 3), ("dave", 4)] {
        store
            .create_agent(&new_agent("acme", name, token))
            .await
            .expect("created");
    }
    let set = |name: &'static str, status| {
        let org = org.clone();
        async move {
            store
                .set_agent_status(&org, &agent_identity(name), status, None)
                .await
                .expect("set")
        }
    };
    let seen = |name: &'static str, minutes: u32| {
        let org = org.clone();
        async move {
            store
                .agent_seen(&org, &agent_identity(name), epoch() + MINUTE * minutes)
                .await
                .expect("seen")
        }
    };
    set("alice", AgentStatus::Available).await;
    set("bob", AgentStatus::Available).await;
    set("carol", AgentStatus::OnCall).await;
    seen("alice", 10).await;
    seen("alice", 5).await; // a late, earlier sign of life changes nothing
    seen("bob", 2).await;
    // dave is offline and never seen; carol is on a call and never seen.
    let expire = |minutes: u32| async move {
        let mut gone: Vec<String> = store
            .expire_presence(epoch() + MINUTE * minutes)
            .await
            .expect("expired")
            .into_iter()
            .map(|a| {
                assert_eq!(a.status, AgentStatus::Offline);
                a.identity.to_string()
            })
            .collect();
        gone.sort();
        gone
    };
    assert_eq!(
        expire(2).await,
        Vec::<String>::new(),
        "seen at the limit is still here"
    );
    assert_eq!(expire(8).await, ["bob"]);
    assert_eq!(expire(8).await, Vec::<String>::new(), "once");
    assert_eq!(expire(11).await, ["alice"]);
    let status = |name: &'static str| {
        let org = org.clone();
        async move {
            store
                .agent(&org, &agent_identity(name))
                .await
                .expect("read")
                .expect("there")
                .status
        }
    };
    assert_eq!(status("carol").await, AgentStatus::OnCall);
    assert_eq!(status("dave").await, AgentStatus::Offline);
    assert_eq!(status("bob").await, AgentStatus::Offline);
}

pub(super) async fn agents_change_role_and_name(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    with_org(store, "globex", 3).await;
    let orgs: Vec<String> = store
        .orgs()
        .await
        .expect("read")
        .iter()
        .map(|o| o.slug.to_string())
        .collect();
    assert_eq!(orgs, ["acme", "globex"]);
    let (org, alice) = (org_slug("acme"), agent_identity("alice"));
    let mut supervisor = new_agent("acme", "alice", 1);
    supervisor.role = Role::Supervisor;
    let created = store.create_agent(&supervisor).await.expect("created");
    assert_eq!((created.role, created.active), (Role::Supervisor, true));

    let changed = store
        .change_agent(
            &org,
            &alice,
            &AgentChange {
                display_name: Some(Some(DisplayName::parse("Alice A.").expect("a name"))),
                role: Some(Role::Agent),
            },
        )
        .await
        .expect("changed")
        .expect("there");
    assert_eq!(changed.role, Role::Agent);
    assert_eq!(
        changed.display_name.as_ref().map(DisplayName::as_str),
        Some("Alice A.")
    );
    let unchanged = store
        .change_agent(&org, &alice, &AgentChange::default())
        .await
        .expect("changed")
        .expect("there");
    assert_eq!(unchanged, changed, "nothing asked, nothing changed");
    let nobody = store
        .change_agent(&org_slug("globex"), &alice, &AgentChange::default())
        .await
        .expect("answered");
    assert_eq!(nobody, None, "another organisation's alice is nobody here");
}

pub(super) async fn deactivated_agents_are_shut_out_and_stay_offline(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    let (org, alice) = (org_slug("acme"), agent_identity("alice"));
    let mut named = new_agent("acme", "alice", 1);
    named.display_name = Some(DisplayName::parse("Alice A.").expect("a name"));
    store.create_agent(&named).await.expect("created");

    // Deactivated: token and sessions refused at once, offline, and kept offline.
    store
        .set_agent_status(&org, &alice, AgentStatus::Available, None)
        .await
        .expect("set");
    store
        .start_session(&NewSession {
            hash: token_hash(5),
            org: org.clone(),
            identity: alice.clone(),
            started_at: epoch(),
            expires_at: epoch() + MINUTE * 60,
        })
        .await
        .expect("started");
    let gone = store
        .deactivate_agent(&org, &alice, epoch())
        .await
        .expect("deactivated")
        .expect("there");
    assert_eq!((gone.active, gone.status), (false, AgentStatus::Offline));
    assert_eq!(
        store
            .agent_by_token(&token_hash(1), epoch())
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .agent_by_session(&token_hash(5), epoch(), MINUTE)
            .await
            .expect("read"),
        None
    );
    store
        .set_agent_status(&org, &alice, AgentStatus::Available, None)
        .await
        .expect("set");
    let kept = store
        .agent(&org, &alice)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        kept.status,
        AgentStatus::Offline,
        "a late status does not revive it"
    );
    assert!(
        store
            .agents_to_ring(&org, 10)
            .await
            .expect("read")
            .is_empty()
    );
    assert_eq!(
        kept.display_name, named.display_name,
        "the history keeps its name"
    );
}
