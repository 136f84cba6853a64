//! Reads: the lot, the events, due deadlines and in-flight records.

use std::time::Duration;

use super::{claim_request, claim_slot_n, move_to, slot, with_org};
use crate::events::LotEventKind;
use crate::machine::ParkState;
use crate::model::SlotRequest;
use crate::ports::ParkingStore;
use crate::testkit::{epoch, org_slug};
use crate::values::Sequence;

pub(super) async fn the_lot_and_its_sequence_are_consistent(store: &dyn ParkingStore) {
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

pub(super) async fn events_after_resumes_in_order(store: &dyn ParkingStore) {
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

pub(super) async fn sequences_are_per_organisation(store: &dyn ParkingStore) {
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

pub(super) async fn due_deadlines_are_parked_calls_past_their_deadline(store: &dyn ParkingStore) {
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

pub(super) async fn in_flight_since_finds_stale_parking_and_retrieving(store: &dyn ParkingStore) {
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
