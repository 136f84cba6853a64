//! Reconciliation with what Twilio knows: a ring-back whose outcome Twilio left unknown (the
//! caller is still on hold, and must never be taken for one in voicemail before Twilio has
//! accepted to take it there: the chaos run lost a caller in a conference that way), and
//! agents left on a call whose end was never heard.

use callpark_domain::testkit::{CallScript, call_sid, organisation};
use callpark_domain::{
    AgentStatus, DEFAULT_RETRIEVE_RING_TIME, LotEventKind as E, ParkState, Retrieval,
    TimeoutAction, retrieve_window,
};

use crate::support::{World, secs, voicemail_url};

const PSTN: u128 = 1;
const BROWSER: u128 = 101;
const GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// Alice's parked call times out and rings her back, and Twilio's answer to that redirect is
/// lost; no leg of the ring-back ever rang. Reconciliation sends the caller to voicemail, and
/// `voicemail_redirect` is how Twilio answers that: the record must say where the caller is.
async fn check(
    voicemail_redirect: CallScript,
    state: ParkState,
    retrieval: Option<Retrieval>,
    events_after_time_out: &[E],
) {
    let acme = organisation("acme", 3);
    assert_eq!(acme.timeout_action, TimeoutAction::Ringback);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");

    w.telephony.script(&call_sid(PSTN), CallScript::Unanswered);
    w.advance(acme.max_park);
    w.service.fire_due_deadlines(10).await.expect("sweep");
    let ringing = w.record(parked.id).await;
    assert_eq!(
        (ringing.state, ringing.retrieval),
        (
            ParkState::Retrieving,
            Some(Retrieval::Ringback(alice.identity.clone()))
        )
    );

    w.telephony.script(&call_sid(PSTN), voicemail_redirect);
    w.advance(retrieve_window(DEFAULT_RETRIEVE_RING_TIME).max(GRACE) + secs(1));
    w.service
        .reconcile(GRACE, DEFAULT_RETRIEVE_RING_TIME, 10)
        .await
        .expect("reconciled");

    let after = w.record(parked.id).await;
    let label = format!("{voicemail_redirect:?}");
    assert_eq!(
        (after.state, after.retrieval),
        (state, retrieval),
        "{label}"
    );
    assert!(
        w.redirects().contains(&(PSTN, voicemail_url(parked.id))),
        "{label}: the caller is sent to voicemail"
    );
    // Until the caller is in voicemail, its slot is held: it is on hold there.
    let held = if state == ParkState::Voicemail {
        vec![]
    } else {
        vec![(parked.slot.get(), parked.id)]
    };
    assert_eq!(w.occupied(&acme).await, held, "{label}");
    let kinds = w.kinds(&acme.slug).await;
    let timed_out = kinds
        .iter()
        .position(|k| *k == E::TimedOut)
        .expect("timed out");
    assert_eq!(&kinds[timed_out + 1..], events_after_time_out, "{label}");
}

#[tokio::test]
async fn a_ring_back_that_never_rang_holds_its_slot_until_twilio_takes_the_caller_to_voicemail() {
    // Twilio takes the caller to voicemail: the slot is free.
    check(
        CallScript::Live,
        ParkState::Voicemail,
        Some(Retrieval::ToVoicemail),
        &[E::Updated, E::Voicemail],
    )
    .await;
    // Twilio's answer is lost again: the caller is on its way, its slot held, and the next
    // reconciliation sends it again.
    check(
        CallScript::Unanswered,
        ParkState::Retrieving,
        Some(Retrieval::ToVoicemail),
        &[E::Updated],
    )
    .await;
    // Twilio refuses: the caller is still on hold, so back in the lot, retrievable.
    check(
        CallScript::RefusingRedirects,
        ParkState::Parked,
        None,
        &[E::Updated, E::Returned],
    )
    .await;
}

/// Alice's call ended and none of its callbacks was heard (her leg's, her caller's): she is
/// left on a call, and nothing but asking Twilio would ever free her. Bob's call goes on.
#[tokio::test]
async fn an_agent_left_on_a_call_twilio_has_ended_is_available_again() {
    for (alices_leg, freed) in [
        (CallScript::Gone, true),
        // Twilio cannot say, or does not find it: she is left as she is, and asked again.
        (CallScript::Unanswered, false),
        (CallScript::Unfound, false),
    ] {
        let acme = organisation("acme", 3);
        let w = World::new(std::slice::from_ref(&acme)).await;
        let alice = w.agent("acme", "alice", 1).await;
        let bob = w.agent("acme", "bob", 2).await;
        w.answered_call(&acme, PSTN, BROWSER, &alice).await;
        w.answered_call(&acme, PSTN + 1, BROWSER + 1, &bob).await;
        w.telephony.script(&call_sid(BROWSER), alices_leg);

        let report = w
            .service
            .release_agents_of_ended_calls()
            .await
            .expect("checked");
        assert_eq!((report.examined, report.moved), (2, usize::from(freed)));
        let (alice_now, bob_now) = (w.agent_now(&alice).await, w.agent_now(&bob).await);
        let expected = if freed {
            (AgentStatus::Available, None)
        } else {
            (AgentStatus::OnCall, Some(call_sid(BROWSER)))
        };
        assert_eq!(
            (alice_now.status, alice_now.current_call),
            expected,
            "{alices_leg:?}"
        );
        assert_eq!(
            (bob_now.status, bob_now.current_call),
            (AgentStatus::OnCall, Some(call_sid(BROWSER + 1)))
        );
    }
}
