//! The history: an organisation's parked calls, live or ended, newest first, in pages that a
//! cursor strings together, and filtered as [`HistoryFilter`] says.

use std::time::Duration;

use super::{claim_request, slot, with_org};
use crate::events::LotEventKind;
use crate::history::{HistoryCursor, HistoryFilter, Outcome};
use crate::machine::ParkState;
use crate::model::{ParkedCall, Retrieval, SlotRequest};
use crate::ports::ParkingStore;
use crate::testkit::{agent_identity, epoch, org_slug};
use crate::values::ParkedCallId;

async fn park_at(
    store: &dyn ParkingStore,
    org: &str,
    (slot_n, pstn, second): (u32, u128, u64),
    parker: &str,
) -> ParkedCall {
    let mut request = claim_request(org, SlotRequest::Requested(slot(slot_n)), pstn);
    request.now = epoch() + Duration::from_secs(second);
    request.parked_by = agent_identity(parker);
    store.claim_slot(&request).await.expect("claimed").call
}

async fn moved(
    store: &dyn ParkingStore,
    call: &ParkedCall,
    state: ParkState,
    retrieval: Option<Retrieval>,
) -> ParkedCall {
    let mut next = call.clone();
    next.state = state;
    next.retrieval = retrieval;
    next.state_changed_at = call.parked_at + Duration::from_secs(30);
    if state.is_terminal() {
        next.ended_at = Some(next.state_changed_at);
    }
    store
        .apply(call, &next, LotEventKind::Updated, next.state_changed_at)
        .await
        .expect("applied")
        .call
}

/// Every page of the history, `page` calls at a time, strung together by their cursors.
async fn every_page(
    store: &dyn ParkingStore,
    filter: &HistoryFilter,
    page: usize,
) -> Vec<ParkedCallId> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let calls = store
            .history(&org_slug("acme"), filter, after, page)
            .await
            .expect("history read");
        assert!(calls.len() <= page, "a page holds at most its limit");
        ids.extend(calls.iter().map(|c| c.id));
        match calls.last() {
            Some(last) if calls.len() == page => after = Some(HistoryCursor::after(last)),
            _ => return ids,
        }
    }
}

/// Seven calls of acme (two parked in the same second) in every outcome, and one of globex.
async fn lives(store: &dyn ParkingStore) -> Vec<ParkedCall> {
    with_org(store, "acme", 5).await;
    with_org(store, "globex", 5).await;
    let _other = park_at(store, "globex", (1, 90, 3), "alice").await;
    let c1 = park_at(store, "acme", (1, 1, 1), "alice").await;
    let bob = Some(Retrieval::ByAgent(agent_identity("bob")));
    let c1 = moved(store, &c1, ParkState::Retrieved, bob.clone()).await;
    let c2 = park_at(store, "acme", (2, 2, 2), "alice").await;
    let c2 = moved(store, &c2, ParkState::Abandoned, None).await;
    let c3 = park_at(store, "acme", (1, 3, 3), "alice").await;
    let c3 = moved(
        store,
        &c3,
        ParkState::Voicemail,
        Some(Retrieval::ToVoicemail),
    )
    .await;
    let c4 = park_at(store, "acme", (2, 4, 4), "alice").await;
    let c4 = moved(store, &c4, ParkState::Failed, None).await;
    let c5 = park_at(store, "acme", (1, 5, 5), "bob").await;
    let c5 = moved(store, &c5, ParkState::Parked, None).await;
    let c6 = park_at(store, "acme", (2, 6, 5), "alice").await;
    // Being retrieved by bob is not retrieved by bob.
    let c6 = moved(store, &c6, ParkState::Retrieving, bob).await;
    let c7 = park_at(store, "acme", (3, 7, 6), "carol").await;
    vec![c1, c2, c3, c4, c5, c6, c7]
}

fn newest_first(mut calls: Vec<&ParkedCall>) -> Vec<ParkedCallId> {
    calls.sort_by_key(|c| std::cmp::Reverse((c.parked_at, c.id.as_uuid())));
    calls.into_iter().map(|c| c.id).collect()
}

pub(super) async fn history_pages_are_newest_first_filtered_and_complete(store: &dyn ParkingStore) {
    let calls = lives(store).await;
    let [c1, c2, c3, c4, c5, c6, c7] = &calls[..] else {
        unreachable!("seven lives")
    };
    let all = HistoryFilter::default();
    let everything = newest_first(calls.iter().collect());
    assert_eq!(everything[0], c7.id);
    assert_eq!(everything[3..], [c4.id, c3.id, c2.id, c1.id]);
    // Whatever the page size, the pages hold every call once, in order; another
    // organisation's calls are never among them.
    for page in [1, 2, 3, 7, 100] {
        assert_eq!(
            every_page(store, &all, page).await,
            everything,
            "pages of {page}"
        );
    }

    let checks: Vec<(&str, HistoryFilter, Vec<&ParkedCall>)> = vec![
        ("live", outcome(Outcome::Live), vec![c5, c6, c7]),
        ("retrieved", outcome(Outcome::Retrieved), vec![c1]),
        ("abandoned", outcome(Outcome::Abandoned), vec![c2]),
        ("voicemail", outcome(Outcome::Voicemail), vec![c3]),
        ("failed", outcome(Outcome::Failed), vec![c4]),
        (
            "slot 2",
            HistoryFilter {
                slot: Some(slot(2)),
                ..all.clone()
            },
            vec![c2, c4, c6],
        ),
        ("bob parked or retrieved", agent("bob"), vec![c1, c5]),
        ("carol", agent("carol"), vec![c7]),
        ("nobody", agent("dave"), vec![]),
        (
            "from second 3, before second 5",
            HistoryFilter {
                parked_from: Some(epoch() + Duration::from_secs(3)),
                parked_before: Some(epoch() + Duration::from_secs(5)),
                ..all.clone()
            },
            vec![c3, c4],
        ),
        (
            "alice's live calls in slot 2",
            HistoryFilter {
                slot: Some(slot(2)),
                ..HistoryFilter {
                    outcome: Some(Outcome::Live),
                    ..agent("alice")
                }
            },
            vec![c6],
        ),
    ];
    for (what, filter, expected) in checks {
        assert_eq!(
            every_page(store, &filter, 2).await,
            newest_first(expected),
            "{what}"
        );
    }
}

fn outcome(outcome: Outcome) -> HistoryFilter {
    HistoryFilter {
        outcome: Some(outcome),
        ..HistoryFilter::default()
    }
}

fn agent(identity: &str) -> HistoryFilter {
    HistoryFilter {
        agent: Some(agent_identity(identity)),
        ..HistoryFilter::default()
    }
}
