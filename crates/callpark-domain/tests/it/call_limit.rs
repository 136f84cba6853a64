//! Twilio ends every call four hours after it **started** (`CALL_TIME_LIMIT`), parked or not: a
//! parked call's deadline passes `TIMEOUT_ACTION_TIME` before that, counting from the call's
//! start, so that its ring-back and voicemail still happen. And only past that limit is a call
//! Twilio does not find (20404) taken for a call that is over.

use std::time::Duration;

use callpark_domain::testkit::{CallScript, call_sid, organisation};
use callpark_domain::{
    CALL_TIME_LIMIT, DEFAULT_RETRIEVE_RING_TIME, DialOutcome, MAX_PARK_TIME, ParkState,
    TIMEOUT_ACTION_TIME,
};

use crate::support::{World, at};

const PSTN: u128 = 1;
const BROWSER: u128 = 101;
const MINUTE: Duration = Duration::from_secs(60);

/// The last moment a deadline may pass, for a call that began at the world's epoch.
fn latest() -> Duration {
    CALL_TIME_LIMIT - TIMEOUT_ACTION_TIME
}

/// (minutes from the call's start to its park, the organisation's park time in minutes) → the
/// deadline, in minutes from the call's start.
#[tokio::test]
async fn a_deadline_is_the_park_time_from_now_but_never_past_four_hours_from_the_start() {
    let check = |talked: u64, max_park: u64, deadline: Duration| async move {
        let mut acme = organisation("acme", 3);
        acme.max_park = MINUTE * u32::try_from(max_park).unwrap();
        let w = World::new(std::slice::from_ref(&acme)).await;
        let alice = w.agent("acme", "alice", 1).await;
        w.answered_call(&acme, PSTN, BROWSER, &alice).await;
        w.advance(MINUTE * u32::try_from(talked).unwrap());
        let parked = w.park(&alice, BROWSER, None).await.expect("parked");
        assert_eq!(
            parked.deadline,
            Some(at(deadline)),
            "parked {talked} min into the call, for {max_park} min"
        );
        assert_eq!(parked.call_started_at, at(Duration::ZERO));
    };
    // Early in the call: the organisation's park time.
    check(0, 5, MINUTE * 5).await;
    check(60, 30, MINUTE * 90).await;
    // An organisation that asks for more than Twilio keeps a call: cut to the limit.
    check(0, 2 * MAX_PARK_TIME.as_secs() / 60, latest()).await;
    // Late in the call: the limit comes first, however short the park time.
    check(230, 5, latest()).await;
    // Past the mark: due at once, so the next sweep rings back while there is time.
    check(238, 5, MINUTE * 238).await;
}

#[tokio::test]
async fn a_call_parked_late_in_its_life_rings_back_before_twilio_would_end_it() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    // Three hours and fifty-two minutes on the phone with alice, then parked for 5 minutes.
    w.advance(MINUTE * 232);
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    assert_eq!(parked.deadline, Some(at(latest())));

    w.advance(MINUTE * 3);
    assert_eq!(
        w.service.fire_due_deadlines(10).await.expect("sweep").moved,
        1,
        "fired at 3 h 55 min, not at 3 h 57 min"
    );
    assert_eq!(w.record(parked.id).await.state, ParkState::Retrieving);
}

#[tokio::test]
async fn a_caller_nobody_answered_returns_with_a_deadline_still_inside_the_limit() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    w.advance(MINUTE * 200);
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    assert_eq!(parked.deadline, Some(at(MINUTE * 205)));

    // Bob retrieves it at 3 h 52 min and does not answer: back in the lot, where a fresh 5
    // minutes would outlast the call.
    w.advance(MINUTE * 32);
    w.service
        .retrieve(&bob, parked.slot, None)
        .await
        .expect("retrieving");
    w.service
        .on_dial_result(parked.id, 1, DialOutcome::NotAnswered)
        .await
        .expect("dial result");
    let returned = w.record(parked.id).await;
    assert_eq!(returned.state, ParkState::Parked);
    assert_eq!(returned.deadline, Some(at(latest())));
}

/// A ring-back whose redirect and status checks Twilio answers 20404: the caller is kept in its
/// slot, and reconciliation asks again, until the four-hour limit has surely ended the call.
#[tokio::test]
async fn a_call_twilio_does_not_find_is_kept_until_the_limit_has_ended_it() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    w.telephony.script(&call_sid(PSTN), CallScript::Unfound);

    w.advance(acme.max_park);
    w.service.fire_due_deadlines(10).await.expect("sweep");
    let kept = w.record(parked.id).await;
    assert_eq!(kept.state, ParkState::Parked, "the ring-back was not made");
    assert_eq!(w.occupied(&acme).await, vec![(1, parked.id)]);

    // Caught in flight (its ring-back's redirect went unanswered), then not found.
    w.telephony.script(&call_sid(PSTN), CallScript::Unanswered);
    w.advance(acme.max_park);
    w.service.fire_due_deadlines(10).await.expect("sweep");
    assert_eq!(w.record(parked.id).await.state, ParkState::Retrieving);
    w.telephony.script(&call_sid(PSTN), CallScript::Unfound);
    let reconcile = || w.service.reconcile(MINUTE, DEFAULT_RETRIEVE_RING_TIME, 10);
    w.advance(MINUTE * 2);
    reconcile().await.expect("reconcile");
    assert_eq!(
        w.record(parked.id).await.state,
        ParkState::Retrieving,
        "asked again later"
    );
    w.advance(CALL_TIME_LIMIT);
    reconcile().await.expect("reconcile");
    assert_eq!(
        w.record(parked.id).await.state,
        ParkState::Abandoned,
        "Twilio has ended it"
    );
    assert_eq!(w.occupied(&acme).await, vec![]);
}
