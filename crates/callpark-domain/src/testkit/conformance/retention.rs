//! Retention: what is older than the cutoff is forgotten in batches (the caller and voicemail
//! of calls that ended before it, its events, its calls' legs), and nothing newer or live.

use std::time::Duration;

use super::{claim_request, slot, with_org};
use crate::events::{LotEvent, LotEventKind};
use crate::history::Forgotten;
use crate::machine::ParkState;
use crate::model::{Call, Caller, ParkedCall, SlotRequest};
use crate::ports::ParkingStore;
use crate::testkit::{call_sid, caller, epoch, org_slug};
use crate::values::{CallSid, HttpUrl, Sequence};

fn second(n: u64) -> time::OffsetDateTime {
    epoch() + Duration::from_secs(n)
}

/// A call that dialled in at `began` and was parked into `slot_n` then, with its leg and an
/// agent's browser leg recorded.
async fn parked(store: &dyn ParkingStore, slot_n: u32, pstn: u128, began: u64) -> ParkedCall {
    let call = Call {
        org: org_slug("acme"),
        pstn: call_sid(pstn),
        caller: caller(u32::try_from(pstn).expect("small")),
        started_at: second(began),
    };
    store.record_call(&call).await.expect("call recorded");
    let browser = call_sid(pstn + 100);
    store
        .link_browser_leg(&browser, &call.pstn, None)
        .await
        .expect("leg linked");
    let mut request = claim_request("acme", SlotRequest::Requested(slot(slot_n)), pstn);
    request.now = second(began);
    request.call_started_at = second(began);
    store.claim_slot(&request).await.expect("claimed").call
}

/// The call ends in voicemail `after` seconds, and its recording is stored.
async fn to_voicemail(store: &dyn ParkingStore, call: &ParkedCall, after: u64) -> ParkedCall {
    let mut next = call.clone();
    next.state = ParkState::Voicemail;
    next.state_changed_at = call.parked_at + Duration::from_secs(after);
    next.ended_at = Some(next.state_changed_at);
    let ended = store
        .apply(call, &next, LotEventKind::Voicemail, next.state_changed_at)
        .await
        .expect("applied")
        .call;
    let mut recorded = ended.clone();
    recorded.recording_url = Some(HttpUrl::parse("https://api.twilio.com/RE1").expect("URL"));
    store
        .apply(
            &ended,
            &recorded,
            LotEventKind::VoicemailRecorded,
            next.state_changed_at,
        )
        .await
        .expect("recording stored")
        .call
}

/// Batches of `limit` until one is not full: each holds at most `limit` of each kind.
async fn every_batch(
    store: &dyn ParkingStore,
    cutoff: time::OffsetDateTime,
    limit: usize,
) -> Vec<Forgotten> {
    let mut forgotten = Vec::new();
    loop {
        let batch = store.forget_before(cutoff, limit).await.expect("forgotten");
        assert!(batch.anonymised <= limit && batch.events <= limit && batch.calls <= limit);
        forgotten.push(batch);
        if !batch.filled(limit) {
            assert!(forgotten.len() > 1, "in batches: {forgotten:?}");
            return forgotten;
        }
    }
}

/// A call parked into `slot_n` at `at` that nobody recorded the legs of.
async fn parked_unseen(store: &dyn ParkingStore, slot_n: u32, pstn: u128, at: u64) -> LotEvent {
    let mut request = claim_request("acme", SlotRequest::Requested(slot(slot_n)), pstn);
    request.now = second(at);
    store.claim_slot(&request).await.expect("claimed")
}

/// `call`'s caller and recording are gone, and its call with the agent's leg `browser`; the
/// rest of the record stays, for the history and its figures.
async fn assert_anonymised(store: &dyn ParkingStore, call: &ParkedCall, browser: CallSid) {
    let now = store
        .parked_call(call.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        (now.caller.clone(), now.recording_url.clone()),
        (Caller::default(), None)
    );
    assert_eq!(
        (now.state, now.parked_at, now.ended_at),
        (call.state, call.parked_at, call.ended_at)
    );
    let gone = store.call_by_pstn(&call.pstn_call).await.expect("read");
    assert_eq!(gone, None);
    let leg = store.call_by_browser_leg(&browser).await.expect("read");
    assert_eq!(leg, None);
}

pub(super) async fn old_records_are_forgotten_in_batches_and_newer_ones_kept(
    store: &dyn ParkingStore,
) {
    with_org(store, "acme", 9).await;
    let mut old = Vec::new();
    for n in 1..=3 {
        let call = parked(store, n, u128::from(n), u64::from(n) * 10).await;
        old.push(to_voicemail(store, &call, 60).await);
    }
    // Parked before the cutoff, still in the lot: never forgotten.
    let live = parked_unseen(store, 4, 4, 100).await.call;
    let newer = parked(store, 5, 5, 1_000).await;
    let newer = to_voicemail(store, &newer, 60).await;
    let acme = org_slug("acme");
    let sequence = store.lot(&acme).await.expect("lot").sequence;

    // Everything of the old calls happened before second 500; everything of the newer after.
    let (cutoff, limit) = (second(500), 2);
    let forgotten = every_batch(store, cutoff, limit).await;
    let total = |f: fn(&Forgotten) -> usize| forgotten.iter().map(f).sum::<usize>();
    // Three calls of three events each (parked, voicemail, recorded) and the live call's one.
    assert_eq!(
        (
            total(|f| f.anonymised),
            total(|f| f.events),
            total(|f| f.calls)
        ),
        (3, 10, 3)
    );

    for (pstn, call) in (1u128..).zip(&old) {
        assert_anonymised(store, call, call_sid(pstn + 100)).await;
    }
    for call in [&live, &newer] {
        let now = store
            .parked_call(call.id)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(&now, call, "untouched");
    }
    assert!(
        store
            .call_by_pstn(&newer.pstn_call)
            .await
            .expect("read")
            .is_some()
    );
    let events = store
        .events_after(&acme, Sequence::ZERO, 100)
        .await
        .expect("events");
    assert!(events.iter().all(|e| e.at >= cutoff), "{events:?}");
    assert_eq!(events.len(), 3, "the newer call's three events");

    // The sequence goes on where it was; a second sweep has nothing left to forget.
    assert_eq!(store.lot(&acme).await.expect("lot").sequence, sequence);
    let again = store.forget_before(cutoff, limit).await.expect("forgotten");
    assert_eq!(again.total(), 0);
    let next = parked_unseen(store, 6, 6, 2_000).await;
    assert_eq!(next.sequence.get(), sequence.get() + 1);
}
