//! An organisation's lifecycle after it is created: its numbers and language change, it is put
//! out of service and back.

use std::time::Duration;

use super::{claim_slot_n, with_org};
use crate::model::{AgentStatus, NewSession, OrgChange};
use crate::ports::{ChangeOrgError, ParkingStore};
use crate::testkit::{agent_identity, epoch, new_agent, org_slug, organisation, phone, token_hash};
use crate::values::{DisplayName, Language};

pub(super) async fn an_orgs_numbers_are_replaced_and_never_shared(store: &dyn ParkingStore) {
    let (acme, globex) = (organisation("acme", 3), organisation("globex", 3));
    for org in [&acme, &globex] {
        store.create_org(org).await.expect("created");
    }
    let routes_to = |n| async move { store.org_by_number(&n).await.expect("read").map(|o| o.slug) };
    let (old, new) = (acme.numbers[0].clone(), [phone(1001), phone(1002)]);

    let change = OrgChange {
        numbers: Some(new.to_vec()),
        language: Some(Some(Language::parse("en-GB").expect("a tag"))),
        ..OrgChange::default()
    };
    let changed = store
        .change_org(&acme.slug, &change)
        .await
        .expect("changed");
    assert_eq!(changed, change.applied_to(&acme));
    assert_eq!(changed.numbers, new, "the new numbers, in their order");
    assert_eq!(
        store.org(&acme.slug).await.expect("read"),
        Some(changed.clone())
    );
    assert_eq!(
        routes_to(old).await,
        None,
        "a number left out no longer routes"
    );
    for n in &new {
        assert_eq!(routes_to(n.clone()).await, Some(acme.slug.clone()));
    }

    // Another organisation's number is refused, and nothing of the change is made.
    let grab = OrgChange {
        name: Some(DisplayName::parse("Acme Grabbing").expect("a name")),
        numbers: Some(vec![phone(1003), globex.numbers[0].clone()]),
        language: Some(None),
        ..OrgChange::default()
    };
    assert!(matches!(
        store.change_org(&acme.slug, &grab).await,
        Err(ChangeOrgError::NumberTaken(n)) if n == globex.numbers[0]
    ));
    assert_eq!(
        store.org(&acme.slug).await.expect("read"),
        Some(changed.clone())
    );
    assert_eq!(routes_to(phone(1003)).await, None);
    assert_eq!(
        routes_to(globex.numbers[0].clone()).await,
        Some(globex.slug)
    );

    // No numbers at all, and the language back to the voice's own.
    let cleared = store
        .change_org(
            &acme.slug,
            &OrgChange {
                numbers: Some(Vec::new()),
                language: Some(None),
                ..OrgChange::default()
            },
        )
        .await
        .expect("changed");
    assert!(cleared.numbers.is_empty());
    assert_eq!(cleared.language, None);
    assert_eq!(routes_to(new[0].clone()).await, None);
}

/// acme's alice and bob and globex's gail, available, with tokens 1, 2 and 3; alice and gail
/// signed in on pages with sessions 11 and 13.
async fn two_teams_signed_in(store: &dyn ParkingStore) {
    with_org(store, "acme", 3).await;
    with_org(store, "globex", 3).await;
    for (org, name, token) in [
        ("acme", "alice", 1),
        ("acme", "bob", 2),
        ("globex", "gail", 3),
    ] {
        store
            .create_agent(&new_agent(org, name, token))
            .await
            .expect("created");
        store
            .set_agent_status(
                &org_slug(org),
                &agent_identity(name),
                AgentStatus::Available,
                None,
            )
            .await
            .expect("available");
    }
    let session = |hash, org: &str, name| NewSession {
        hash: token_hash(hash),
        org: org_slug(org),
        identity: agent_identity(name),
        started_at: epoch(),
        expires_at: epoch() + Duration::from_secs(3600),
    };
    store
        .start_session(&session(11, "acme", "alice"))
        .await
        .expect("started");
    store
        .start_session(&session(13, "globex", "gail"))
        .await
        .expect("started");
}

pub(super) async fn a_deactivated_org_signs_its_agents_out_and_keeps_its_calls(
    store: &dyn ParkingStore,
) {
    two_teams_signed_in(store).await;
    let (acme, globex) = (org_slug("acme"), org_slug("globex"));
    let parked = claim_slot_n(store, "acme", 2, 1).await;
    let by_token = |n| async move {
        store
            .agent_by_token(&token_hash(n), epoch())
            .await
            .expect("read")
    };
    let by_session = |n| async move {
        store
            .agent_by_session(&token_hash(n), epoch(), Duration::from_secs(600))
            .await
            .expect("read")
    };

    let out = OrgChange {
        active: Some(false),
        ..OrgChange::default()
    };
    let deactivated = store.change_org(&acme, &out).await.expect("deactivated");
    assert!(!deactivated.active);
    assert_eq!(by_token(1).await, None, "its agents' tokens are refused");
    assert_eq!(by_token(2).await, None);
    assert_eq!(by_session(11).await, None, "its pages are signed out");
    for agent in store.agents(&acme).await.expect("read") {
        assert_eq!(
            agent.status,
            AgentStatus::Offline,
            "{} is offline",
            agent.identity
        );
    }
    let still = store.occupant(&acme, parked.slot).await.expect("read");
    assert_eq!(
        still.map(|c| c.id),
        Some(parked.id),
        "its parked call stays parked"
    );
    let number = organisation("acme", 3).numbers[0].clone();
    let routed = store.org_by_number(&number).await.expect("read");
    assert_eq!(
        routed.map(|o| o.active),
        Some(false),
        "its number still names it"
    );
    // Another organisation is untouched.
    assert!(by_token(3).await.is_some());
    assert!(by_session(13).await.is_some());
    assert!(
        store
            .agents(&globex)
            .await
            .expect("read")
            .iter()
            .all(|a| a.status == AgentStatus::Available)
    );

    // Back in service, the tokens work again; the ended sessions stay ended.
    let back = OrgChange {
        active: Some(true),
        ..OrgChange::default()
    };
    assert!(
        store
            .change_org(&acme, &back)
            .await
            .expect("reactivated")
            .active
    );
    assert_eq!(
        by_token(1).await.map(|a| a.identity),
        Some(agent_identity("alice"))
    );
    assert_eq!(by_session(11).await, None);
}
