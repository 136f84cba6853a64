//! Claiming slots: one winner per slot, the organisation's slot policies.

use futures_util::future::join_all;

use super::{claim, claim_request, claim_slot_n, move_to, slot, with_org};
use crate::events::LotEventKind;
use crate::machine::ParkState;
use crate::model::{AutoSlot, OrgChange, SlotRequest, TimeoutAction};
use crate::ports::{ChangeOrgError, ClaimError, ParkingStore};
use crate::testkit::{agent_identity, call_sid, epoch, org_slug, organisation};
use crate::values::{DisplayName, LotSize, Sequence};

pub(super) async fn a_requested_slot_is_claimed_once(store: &dyn ParkingStore) {
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
        call.call_started_at,
        epoch() - std::time::Duration::from_secs(90),
        "when the call began, which Twilio's four hours count from"
    );
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

pub(super) async fn claims_outside_the_lot_or_org_are_refused(store: &dyn ParkingStore) {
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

pub(super) async fn a_parked_call_cannot_be_parked_twice(store: &dyn ParkingStore) {
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

pub(super) async fn first_free_takes_the_lowest_free_slot(store: &dyn ParkingStore) {
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

pub(super) async fn next_after_last_used_wraps_around(store: &dyn ParkingStore) {
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

pub(super) async fn concurrent_claims_of_one_slot_have_one_winner(store: &dyn ParkingStore) {
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

pub(super) async fn a_lot_grows_always_and_shrinks_only_above_its_occupied_slots(
    store: &dyn ParkingStore,
) {
    with_org(store, "acme", 5).await;
    let acme = organisation("acme", 5);
    claim(store, "acme", SlotRequest::Requested(slot(4)), 1)
        .await
        .expect("claimed");
    let shrink = |size: u32| OrgChange {
        lot_size: Some(LotSize::new(size).expect("a size")),
        ..OrgChange::default()
    };
    assert!(matches!(
        store.change_org(&acme.slug, &shrink(3)).await,
        Err(ChangeOrgError::SlotOccupied(s)) if s == slot(4)
    ));
    let unchanged = store.org(&acme.slug).await.expect("read").expect("there");
    assert_eq!(unchanged, acme, "a refused change changes nothing");

    let mut change = shrink(4);
    change.name = Some(DisplayName::parse("Acme Care").expect("a name"));
    change.timeout_action = Some(TimeoutAction::Voicemail);
    change.voice = Some(None);
    let changed = store
        .change_org(&acme.slug, &change)
        .await
        .expect("changed");
    assert_eq!(changed, change.applied_to(&acme));
    assert_eq!(
        store.org(&acme.slug).await.expect("read"),
        Some(changed.clone())
    );
    // The new size holds for claims: slot 5 is gone, and the lot grows again at will.
    assert!(matches!(
        claim(store, "acme", SlotRequest::Requested(slot(5)), 2).await,
        Err(ClaimError::SlotOutOfRange { .. })
    ));
    store
        .change_org(&acme.slug, &shrink(9))
        .await
        .expect("grown");
    claim(store, "acme", SlotRequest::Requested(slot(9)), 3)
        .await
        .expect("claimed in the grown lot");
    assert!(matches!(
        store.change_org(&org_slug("nobody"), &shrink(3)).await,
        Err(ChangeOrgError::UnknownOrg)
    ));
}
