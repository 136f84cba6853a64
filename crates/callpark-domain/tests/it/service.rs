//! The use cases end to end on the in-memory store and scripted telephony: what agents and
//! callers see, and what the service asks of Twilio.

use callpark_domain::testkit::{
    CallScript, StaticUrls, TelephonyRequest, call_sid, caller, conference_sid, organisation,
};
use callpark_domain::{
    AfterDial, AgentStatus, CallStatus, CallStatusUpdate, ChildLeg, ClientIdentity,
    ConferenceEventKind, DEFAULT_RETRIEVE_RING_TIME, DialOutcome, HttpUrl, InboundCall,
    InboundError, LeaveReason, LotEventKind as E, ParkError, ParkState, ParkedCallId, PstnLeg,
    Retrieval, RetrieveError, Sequence, SweepReport, TelephonyFailure, TimeoutAction, WebhookUrls,
    retrieve_window,
};

use crate::support::{World, at, identity, park_url, retrieve_url, secs, slot, voicemail_url};

const PSTN: u128 = 1;
const BROWSER: u128 = 101;
const GRACE: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::test]
async fn park_join_retrieve_answer_frees_the_slot() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    assert_eq!(w.agent_now(&alice).await.status, AgentStatus::OnCall);

    let parked = w.park(&alice, BROWSER, Some(2)).await.expect("parked");
    assert_eq!(parked.state, ParkState::Parked);
    assert_eq!(parked.slot, slot(2));
    assert_eq!(parked.pstn_call, call_sid(PSTN));
    assert_eq!(parked.parked_by, alice.identity);
    assert_eq!(
        parked.conference_sid, None,
        "nothing waits for the conference SID"
    );
    assert_eq!(parked.deadline, Some(at(acme.max_park)));
    // The caller's leg, learnt from the webhooks, is redirected by URL: Twilio is not asked
    // to find it.
    assert_eq!(
        w.requests(),
        vec![TelephonyRequest::Redirect {
            call: call_sid(PSTN),
            url: StaticUrls.park(parked.id),
            status_callback: StaticUrls.call_status(),
        }]
    );
    let parker = w.agent_now(&alice).await;
    assert_eq!(
        (parker.status, parker.current_call),
        (AgentStatus::Available, None)
    );
    assert_eq!(w.occupied(&acme).await, vec![(2, parked.id)]);

    let joined = w
        .conference(parked.id, 9, ConferenceEventKind::ParticipantJoined)
        .await
        .expect("known conference");
    assert_eq!(joined.conference_sid, Some(conference_sid(9)));
    assert_eq!(joined.state, ParkState::Parked);

    w.advance(secs(30));
    let retrieving = w
        .service
        .retrieve(&bob, slot(2), None)
        .await
        .expect("retrieving");
    assert_eq!(retrieving.state, ParkState::Retrieving);
    assert_eq!(
        retrieving.retrieval,
        Some(Retrieval::ByAgent(bob.identity.clone()))
    );
    assert_eq!(retrieving.deadline, None);
    assert_eq!(w.redirects().last(), Some(&(PSTN, retrieve_url(parked.id))));
    assert!(matches!(
        w.service.retrieve(&alice, slot(2), None).await,
        Err(RetrieveError::AlreadyRetrieving(s)) if s == slot(2)
    ));

    let bob_leg = call_sid(202);
    let retrieved = w
        .service
        .on_dial_answered(parked.id, 1, Some(&bob_leg))
        .await
        .expect("answered")
        .expect("known call");
    assert_eq!(retrieved.state, ParkState::Retrieved);
    assert_eq!(retrieved.ended_at, Some(at(secs(30))));
    let bob_now = w.agent_now(&bob).await;
    assert_eq!(
        (bob_now.status, bob_now.current_call),
        (AgentStatus::OnCall, Some(bob_leg))
    );
    assert_eq!(w.occupied(&acme).await, vec![]);
    // The history stays.
    assert_eq!(w.record(parked.id).await.state, ParkState::Retrieved);

    let events = w.events(&acme.slug).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            E::Parked,
            E::Updated,
            E::Updated,
            E::Retrieving,
            E::Retrieved
        ]
    );
    let sequences: Vec<_> = events.iter().map(|e| e.sequence.get()).collect();
    assert_eq!(sequences, [1, 2, 3, 4, 5]);
    assert_eq!(
        w.service.lot(&acme).await.expect("lot").sequence,
        Sequence::new(5)
    );

    // The slot takes a new call.
    w.answered_call(&acme, 2, 102, &alice).await;
    let again = w.park(&alice, 102, Some(2)).await.expect("parked again");
    assert_ne!(again.id, parked.id);
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_parked_is_abandoned() {
    for by_conference in [false, true] {
        let acme = organisation("acme", 3);
        let w = World::new(std::slice::from_ref(&acme)).await;
        let alice = w.agent("acme", "alice", 1).await;
        w.answered_call(&acme, PSTN, BROWSER, &alice).await;
        let parked = w.park(&alice, BROWSER, None).await.expect("parked");
        assert_eq!(parked.slot, slot(1));
        w.advance(secs(5));

        if by_conference {
            let left = ConferenceEventKind::ParticipantLeft(LeaveReason::HungUp);
            w.conference(parked.id, 9, left).await;
        } else {
            w.caller_hangs_up(PSTN).await;
        }

        let after = w.record(parked.id).await;
        assert_eq!(
            after.state,
            ParkState::Abandoned,
            "by conference: {by_conference}"
        );
        assert_eq!(after.ended_at, Some(at(secs(5))));
        assert_eq!(after.deadline, None);
        assert_eq!(w.occupied(&acme).await, vec![]);
        assert_eq!(
            w.kinds(&acme.slug).await,
            [E::Parked, E::Updated, E::Abandoned]
        );
    }
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_being_retrieved_is_not_returned_to_the_lot() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    w.service
        .retrieve(&alice, parked.slot, None)
        .await
        .expect("retrieving");

    w.caller_hangs_up(PSTN).await;
    assert_eq!(w.record(parked.id).await.state, ParkState::Abandoned);
    // The dial's action follows: there is nobody to return.
    let after = w
        .service
        .on_dial_result(parked.id, 1, DialOutcome::NotAnswered)
        .await
        .expect("dial result");
    assert_eq!(after, AfterDial::Hangup);
    assert_eq!(w.occupied(&acme).await, vec![]);
}

#[tokio::test]
async fn the_agent_who_retrieved_a_call_is_free_again_when_the_caller_hangs_up() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, Some(1)).await.expect("parked");
    w.service
        .retrieve(&bob, slot(1), None)
        .await
        .expect("retrieving");
    w.service
        .on_dial_answered(parked.id, 1, Some(&call_sid(303)))
        .await
        .expect("answered");
    assert_eq!(w.agent_now(&bob).await.status, AgentStatus::OnCall);

    // Bob's leg reports only `answered`; the caller's end is what frees him, so he is rung for
    // the next call.
    w.caller_hangs_up(PSTN).await;
    let bob_now = w.agent_now(&bob).await;
    assert_eq!(
        (bob_now.status, bob_now.current_call),
        (AgentStatus::Available, None)
    );
    assert_eq!(
        w.agent_now(&alice).await.status,
        AgentStatus::Available,
        "alice was not touched"
    );
}

#[tokio::test]
async fn an_agent_who_does_not_answer_returns_the_caller_to_the_same_slot() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, Some(3)).await.expect("parked");
    w.conference(parked.id, 9, ConferenceEventKind::ParticipantJoined)
        .await;
    w.advance(secs(60));
    w.service
        .retrieve(&bob, slot(3), None)
        .await
        .expect("retrieving");
    w.advance(secs(30));

    let after = w
        .service
        .on_dial_result(parked.id, 1, DialOutcome::NotAnswered)
        .await
        .expect("dial result");
    let AfterDial::ReturnToLot(call, org) = after else {
        panic!("expected the caller back in the lot, got {after:?}")
    };
    assert_eq!(org.slug, acme.slug);
    assert_eq!(call.id, parked.id);
    assert_eq!(call.state, ParkState::Parked);
    assert_eq!(call.slot, slot(3));
    assert_eq!(call.retrieval, None);
    assert_eq!(call.deadline, Some(at(secs(90)) + acme.max_park));
    assert_eq!(w.occupied(&acme).await, vec![(3, parked.id)]);
    assert_eq!(
        w.kinds(&acme.slug).await,
        [
            E::Parked,
            E::Updated,
            E::Updated,
            E::Retrieving,
            E::Returned
        ]
    );

    // Back in a new conference, then retrieved by someone else.
    let rejoined = w
        .conference(parked.id, 10, ConferenceEventKind::ParticipantJoined)
        .await
        .expect("known");
    assert_eq!(rejoined.conference_sid, Some(conference_sid(10)));
    let again = w
        .service
        .retrieve(&alice, slot(3), None)
        .await
        .expect("retrieving again");
    assert_eq!(
        again.retrieval,
        Some(Retrieval::ByAgent(alice.identity.clone()))
    );
}

#[tokio::test]
async fn the_deadline_rings_the_parker_back_once_then_goes_to_voicemail() {
    let acme = organisation("acme", 3);
    assert_eq!(acme.timeout_action, TimeoutAction::Ringback);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");

    w.advance(acme.max_park - secs(1));
    let early = w.service.fire_due_deadlines(10).await.expect("sweep");
    assert_eq!(early, SweepReport::default());
    assert_eq!(w.record(parked.id).await.state, ParkState::Parked);

    w.advance(secs(1));
    let fired = w.service.fire_due_deadlines(10).await.expect("sweep");
    assert_eq!((fired.examined, fired.moved, fired.failed), (1, 1, 0));
    let ringing = w.record(parked.id).await;
    assert_eq!(ringing.state, ParkState::Retrieving);
    assert_eq!(
        ringing.retrieval,
        Some(Retrieval::Ringback(alice.identity.clone()))
    );
    // Fired once: a second sweep finds nothing, and the parker is rung once.
    assert_eq!(
        w.service.fire_due_deadlines(10).await.expect("sweep"),
        SweepReport::default()
    );
    let to_retrieve: Vec<_> = w
        .redirects()
        .into_iter()
        .filter(|r| r.1 == retrieve_url(parked.id))
        .collect();
    assert_eq!(to_retrieve, vec![(PSTN, retrieve_url(parked.id))]);

    let after = w
        .service
        .on_dial_result(parked.id, 1, DialOutcome::NotAnswered)
        .await
        .expect("dial result");
    let AfterDial::Voicemail(call, _) = after else {
        panic!("expected voicemail, got {after:?}")
    };
    assert_eq!(call.state, ParkState::Voicemail);
    assert_eq!(w.occupied(&acme).await, vec![]);
    assert_eq!(
        w.kinds(&acme.slug).await,
        [E::Parked, E::Updated, E::TimedOut, E::Voicemail]
    );
}

#[tokio::test]
async fn a_caller_the_deadline_cannot_send_to_voicemail_stays_in_the_lot() {
    let mut acme = organisation("acme", 3);
    acme.timeout_action = TimeoutAction::Voicemail;
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");

    // Twilio refuses the voicemail redirect: the caller is still on hold, so still in the lot,
    // retrievable, with a fresh deadline.
    w.telephony.script(&call_sid(PSTN), CallScript::Refusing);
    w.advance(acme.max_park);
    w.service.fire_due_deadlines(10).await.expect("sweep");
    let after = w.record(parked.id).await;
    assert_eq!(after.state, ParkState::Parked);
    assert_eq!(after.retrieval, None);
    assert_eq!(
        w.occupied(&acme).await,
        vec![(parked.slot.get(), parked.id)]
    );
    assert_eq!(
        w.kinds(&acme.slug).await,
        [E::Parked, E::Updated, E::TimedOut, E::Returned]
    );

    // Next time the redirect times out: the slot is held while the outcome is unknown, and
    // reconciliation sends the caller to voicemail once Twilio answers again.
    w.telephony.script(&call_sid(PSTN), CallScript::Unanswered);
    w.advance(acme.max_park);
    w.service.fire_due_deadlines(10).await.expect("sweep");
    let after = w.record(parked.id).await;
    assert_eq!(
        (after.state, after.retrieval.clone()),
        (ParkState::Retrieving, Some(Retrieval::ToVoicemail))
    );
    assert_eq!(
        w.occupied(&acme).await,
        vec![(parked.slot.get(), parked.id)]
    );
    w.telephony.script(&call_sid(PSTN), CallScript::Live);
    w.advance(secs(60));
    w.service
        .reconcile(secs(30), DEFAULT_RETRIEVE_RING_TIME, 10)
        .await
        .expect("reconciled");
    assert_eq!(w.record(parked.id).await.state, ParkState::Voicemail);
    assert_eq!(w.occupied(&acme).await, vec![]);
    assert_eq!(
        w.redirects().last(),
        Some(&(PSTN, voicemail_url(parked.id)))
    );
}

#[tokio::test]
async fn the_deadline_goes_to_voicemail_when_the_parker_is_offline_or_the_org_says_so() {
    // (timeout action, parker signed out, organisation out of service)
    for (action, parker_offline, out_of_service) in [
        (TimeoutAction::Ringback, true, false),
        (TimeoutAction::Voicemail, false, false),
        (TimeoutAction::Ringback, false, true),
    ] {
        let mut acme = organisation("acme", 3);
        acme.timeout_action = action;
        let w = World::new(std::slice::from_ref(&acme)).await;
        let alice = w.agent("acme", "alice", 1).await;
        w.answered_call(&acme, PSTN, BROWSER, &alice).await;
        let parked = w.park(&alice, BROWSER, None).await.expect("parked");
        if parker_offline {
            w.service
                .set_presence(&alice, AgentStatus::Offline)
                .await
                .expect("signed out");
        }
        if out_of_service {
            let out = callpark_domain::OrgChange {
                active: Some(false),
                ..Default::default()
            };
            w.service.change_org(&acme.slug, &out).await.expect("out");
            // Even were its parker's browser still registered and marked available, nobody
            // of an organisation out of service is rung.
            w.service
                .set_presence(&alice, AgentStatus::Available)
                .await
                .expect("status");
        }

        w.advance(acme.max_park);
        let fired = w.service.fire_due_deadlines(10).await.expect("sweep");
        assert_eq!(fired.moved, 1);

        let after = w.record(parked.id).await;
        assert_eq!(after.state, ParkState::Voicemail, "{action:?}");
        assert_eq!(after.retrieval, Some(Retrieval::ToVoicemail));
        assert_eq!(
            w.redirects().last(),
            Some(&(PSTN, voicemail_url(parked.id)))
        );
        assert!(
            !w.redirects().iter().any(|r| r.1 == retrieve_url(parked.id)),
            "nobody is rung"
        );
        assert_eq!(w.occupied(&acme).await, vec![]);
        assert_eq!(
            w.kinds(&acme.slug).await,
            [E::Parked, E::Updated, E::TimedOut, E::Voicemail]
        );
    }
}

#[tokio::test]
async fn a_voicemail_recording_is_stored_once_with_its_event() {
    let mut acme = organisation("acme", 3);
    acme.timeout_action = TimeoutAction::Voicemail;
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    let url = HttpUrl::parse("https://api.twilio.com/recordings/RE1").expect("a URL");

    // A recording for a call still in the lot changes nothing.
    assert!(
        w.service
            .on_recording(parked.id, &url)
            .await
            .expect("ignored")
    );
    assert_eq!(w.record(parked.id).await, parked);

    w.advance(acme.max_park);
    w.service.fire_due_deadlines(10).await.expect("sweep");
    let voicemail = w.record(parked.id).await;
    assert_eq!(voicemail.state, ParkState::Voicemail);

    assert!(
        w.service
            .on_recording(parked.id, &url)
            .await
            .expect("stored")
    );
    // Twilio repeats its callbacks: the same recording again is absorbed.
    assert!(
        w.service
            .on_recording(parked.id, &url)
            .await
            .expect("repeated")
    );
    let recorded = w.record(parked.id).await;
    assert_eq!(recorded.recording_url, Some(url.clone()));
    assert_eq!(recorded.state, ParkState::Voicemail);
    assert_eq!(recorded.ended_at, voicemail.ended_at);
    assert_eq!(recorded.version, voicemail.version + 1);
    assert_eq!(
        w.kinds(&acme.slug).await,
        [
            E::Parked,
            E::Updated,
            E::TimedOut,
            E::Voicemail,
            E::VoicemailRecorded
        ]
    );
    assert!(
        !w.service
            .on_recording(ParkedCallId::random(), &url)
            .await
            .expect("unknown call")
    );
}

#[tokio::test]
async fn reconcile_fails_a_stale_parking_whose_caller_is_gone() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    w.telephony.script(&call_sid(PSTN), CallScript::Unanswered);

    let result = w.park(&alice, BROWSER, Some(2)).await;
    assert!(matches!(
        result,
        Err(ParkError::Telephony(TelephonyFailure::OutcomeUnknown(_)))
    ));
    let [(2, id)] = w.occupied(&acme).await[..] else {
        panic!("the slot stays claimed while the outcome is unknown")
    };
    assert_eq!(w.record(id).await.state, ParkState::Parking);

    // Within the grace period, nothing is touched.
    w.advance(GRACE - secs(1));
    let early = w
        .service
        .reconcile(GRACE, DEFAULT_RETRIEVE_RING_TIME, 10)
        .await
        .expect("sweep");
    assert_eq!(early, SweepReport::default());

    w.telephony.script(&call_sid(PSTN), CallScript::Gone);
    w.advance(secs(1));
    let report = w
        .service
        .reconcile(GRACE, DEFAULT_RETRIEVE_RING_TIME, 10)
        .await
        .expect("sweep");
    assert_eq!((report.examined, report.moved, report.failed), (1, 1, 0));
    assert_eq!(w.record(id).await.state, ParkState::Failed);
    assert_eq!(w.occupied(&acme).await, vec![]);
    assert_eq!(w.kinds(&acme.slug).await, [E::Parked, E::Failed]);
    assert!(
        w.requests()
            .contains(&TelephonyRequest::CallStatus(call_sid(PSTN)))
    );
}

#[tokio::test]
async fn reconcile_parks_a_stale_parking_whose_caller_is_live() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    w.telephony.script(&call_sid(PSTN), CallScript::Unanswered);
    assert!(w.park(&alice, BROWSER, Some(2)).await.is_err());
    let [(2, id)] = w.occupied(&acme).await[..] else {
        panic!("the slot stays claimed")
    };

    w.telephony.script(&call_sid(PSTN), CallScript::Live);
    w.advance(GRACE);
    let report = w
        .service
        .reconcile(GRACE, DEFAULT_RETRIEVE_RING_TIME, 10)
        .await
        .expect("sweep");
    assert_eq!((report.examined, report.moved, report.failed), (1, 1, 0));
    let after = w.record(id).await;
    assert_eq!(after.state, ParkState::Parked);
    assert_eq!(after.deadline, Some(at(GRACE) + acme.max_park));
    assert_eq!(
        w.redirects(),
        vec![(PSTN, park_url(id)), (PSTN, park_url(id))],
        "the park redirect is issued again"
    );
    assert_eq!(w.occupied(&acme).await, vec![(2, id)]);
}

/// Alice parks a call and retrieves it, and Twilio's answer to the retrieve's redirect is lost:
/// the record is `Retrieving`, the caller still there, and only reconciliation can tell.
async fn retrieve_with_an_unknown_outcome(
    acme: &callpark_domain::Organisation,
) -> (World, callpark_domain::ParkedCall) {
    let w = World::new(std::slice::from_ref(acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    w.telephony.script(&call_sid(PSTN), CallScript::Unanswered);
    let result = w.service.retrieve(&alice, parked.slot, None).await;
    assert!(matches!(
        result,
        Err(RetrieveError::Telephony(TelephonyFailure::OutcomeUnknown(
            _
        )))
    ));
    assert_eq!(w.record(parked.id).await.state, ParkState::Retrieving);
    w.telephony.script(&call_sid(PSTN), CallScript::Live);
    (w, parked)
}

#[tokio::test]
async fn reconcile_settles_a_stale_retrieve_from_the_connected_legs() {
    for answered in [false, true] {
        let acme = organisation("acme", 3);
        let (w, parked) = retrieve_with_an_unknown_outcome(&acme).await;
        if answered {
            let bob = ChildLeg {
                sid: call_sid(303),
                status: CallStatus::InProgress,
            };
            w.telephony.set_children(&call_sid(PSTN), vec![bob]);
        }
        w.advance(GRACE);
        let report = w
            .service
            .reconcile(GRACE, DEFAULT_RETRIEVE_RING_TIME, 10)
            .await
            .expect("sweep");
        assert_eq!(report.moved, 1);
        let after = w.record(parked.id).await;
        if answered {
            assert_eq!(after.state, ParkState::Retrieved);
            assert_eq!(w.occupied(&acme).await, vec![]);
        } else {
            assert_eq!(after.state, ParkState::Parked);
            assert_eq!(w.redirects().last(), Some(&(PSTN, park_url(parked.id))));
            assert_eq!(w.occupied(&acme).await, vec![(1, parked.id)]);
        }
    }
}

/// Twilio rings a `<Dial>` for its timeout plus 5 s, after the retrieve's announcement: a
/// retrieve is not reconciled within its `retrieve_window`, whatever the configured grace, nor
/// while the agent's leg still rings.
#[tokio::test]
async fn reconcile_leaves_a_retrieve_alone_while_it_may_still_ring() {
    let old_grace = secs(30);
    // A service whose retrieves ring for a minute.
    let ring = secs(60);
    let acme = organisation("acme", 3);
    let (w, parked) = retrieve_with_an_unknown_outcome(&acme).await;

    // Past the old fixed grace, within the ring window: not even examined.
    w.advance(old_grace + secs(1));
    assert!(retrieve_window(ring) > old_grace + secs(1));
    let report = w
        .service
        .reconcile(old_grace, ring, 10)
        .await
        .expect("sweep");
    assert_eq!(report, SweepReport::default());
    assert_eq!(w.record(parked.id).await.state, ParkState::Retrieving);

    // Past the window, but alice's browser still rings: left to its own callbacks.
    w.advance(retrieve_window(ring));
    let ringing = ChildLeg {
        sid: call_sid(303),
        status: CallStatus::Ringing,
    };
    w.telephony.set_children(&call_sid(PSTN), vec![ringing]);
    let report = w
        .service
        .reconcile(old_grace, ring, 10)
        .await
        .expect("sweep");
    assert_eq!((report.examined, report.moved), (1, 0));
    assert_eq!(w.record(parked.id).await.state, ParkState::Retrieving);

    // The ringing stopped without an answer: back to the lot.
    w.telephony.set_children(&call_sid(PSTN), vec![]);
    let report = w
        .service
        .reconcile(old_grace, ring, 10)
        .await
        .expect("sweep");
    assert_eq!(report.moved, 1);
    assert_eq!(w.record(parked.id).await.state, ParkState::Parked);
}

#[tokio::test]
async fn signals_after_the_end_are_absorbed() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    w.caller_hangs_up(PSTN).await;
    let ended = w.record(parked.id).await;
    let events = w.events(&acme.slug).await;
    w.advance(acme.max_park * 2);

    // Duplicates and late deliveries of every kind.
    w.caller_hangs_up(PSTN).await;
    for kind in [
        ConferenceEventKind::ParticipantJoined,
        ConferenceEventKind::Started,
        ConferenceEventKind::ParticipantLeft(LeaveReason::HungUp),
        ConferenceEventKind::ParticipantLeft(LeaveReason::UpdatedViaApi),
        ConferenceEventKind::Ended,
    ] {
        let seen = w.conference(parked.id, 9, kind).await;
        assert_eq!(seen.as_ref(), Some(&ended), "{kind:?}");
    }
    let answered = w
        .service
        .on_dial_answered(parked.id, 1, Some(&call_sid(202)))
        .await
        .expect("handled");
    assert_eq!(answered.as_ref(), Some(&ended));
    for outcome in [DialOutcome::Answered, DialOutcome::NotAnswered] {
        let after = w
            .service
            .on_dial_result(parked.id, 1, outcome)
            .await
            .expect("handled");
        assert_eq!(after, AfterDial::Hangup);
    }
    assert_eq!(
        w.service.fire_due_deadlines(10).await.expect("sweep"),
        SweepReport::default()
    );
    assert_eq!(
        w.service
            .reconcile(GRACE, DEFAULT_RETRIEVE_RING_TIME, 10)
            .await
            .expect("sweep"),
        SweepReport::default()
    );
    assert!(matches!(
        w.service.retrieve(&alice, parked.slot, None).await,
        Err(RetrieveError::SlotEmpty(_))
    ));

    assert_eq!(w.record(parked.id).await, ended);
    assert_eq!(w.events(&acme.slug).await, events, "no new event");
    assert_eq!(w.redirects().len(), 1, "only the park redirect");
}

#[tokio::test]
async fn another_organisations_call_is_not_found() {
    let acme = organisation("acme", 3);
    let globex = organisation("globex", 3);
    let w = World::new(&[acme.clone(), globex.clone()]).await;
    let alice = w.agent("acme", "alice", 1).await;
    let carol = w.agent("globex", "carol", 3).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    // Carol's browser leg is unknown to the store, but Twilio says it bridges to acme's caller.
    w.telephony.add_leg(
        &call_sid(301),
        PstnLeg {
            sid: call_sid(PSTN),
            caller: caller(1),
            dialled: Some(acme.numbers[0].clone()),
            client: Some(ClientIdentity::of(&carol.org, &carol.identity)),
            started_at: None,
        },
    );

    for leg in [BROWSER, PSTN, 301] {
        assert!(
            matches!(
                w.park(&carol, leg, None).await,
                Err(ParkError::CallNotFound)
            ),
            "leg {leg}"
        );
    }
    assert_eq!(w.occupied(&globex).await, vec![]);
    assert_eq!(w.occupied(&acme).await, vec![]);
    assert_eq!(w.events(&globex.slug).await, vec![]);
    assert_eq!(w.redirects(), vec![]);

    // The call is still acme's to park.
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    assert_eq!(parked.org, acme.slug);
    // And globex cannot retrieve from acme's lot: its own slot 1 is empty.
    assert!(matches!(
        w.service.retrieve(&carol, slot(1), None).await,
        Err(RetrieveError::SlotEmpty(_))
    ));
    assert_eq!(w.record(parked.id).await.state, ParkState::Parked);
}

#[tokio::test]
async fn park_asks_twilio_for_the_caller_leg_it_has_not_learnt() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.telephony.add_leg(
        &call_sid(BROWSER),
        PstnLeg {
            sid: call_sid(PSTN),
            caller: caller(77),
            dialled: None,
            client: Some(ClientIdentity::of(&alice.org, &alice.identity)),
            started_at: None,
        },
    );

    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    assert_eq!(parked.pstn_call, call_sid(PSTN));
    assert_eq!(parked.caller, caller(77));
    assert_eq!(
        w.requests()[0],
        TelephonyRequest::FindPstnLeg(call_sid(BROWSER))
    );
    // The browser leg is never redirected: the caller's leg is.
    assert_eq!(w.redirects(), vec![(PSTN, park_url(parked.id))]);

    // The same call cannot take a second slot, whichever leg names it.
    for leg in [BROWSER, PSTN] {
        assert!(matches!(
            w.park(&alice, leg, Some(3)).await,
            Err(ParkError::AlreadyParked(s)) if s == parked.slot
        ));
    }
    // An unknown call is not found, and claims nothing.
    assert!(matches!(
        w.park(&alice, 999, None).await,
        Err(ParkError::CallNotFound)
    ));
    assert_eq!(w.occupied(&acme).await, vec![(1, parked.id)]);
}

/// A call callpark has not seen is parked only by an agent of the organisation it belongs to:
/// it came in on one of its numbers, or one of its agents' browsers is on it.
#[tokio::test]
async fn an_unseen_call_of_another_organisation_cannot_be_parked() {
    let (acme, globex) = (organisation("acme", 3), organisation("globex", 3));
    let acme_alice = ClientIdentity::of(
        &acme.slug,
        &callpark_domain::testkit::agent_identity("alice"),
    );
    let check = |dialled: Option<&callpark_domain::PhoneNumber>,
                 client: Option<&ClientIdentity>,
                 parks: bool| {
        let (acme, globex) = (acme.clone(), globex.clone());
        let (dialled, client) = (dialled.cloned(), client.cloned());
        async move {
            let w = World::new(&[acme.clone(), globex]).await;
            let mallory = w.agent("globex", "mallory", 9).await;
            w.telephony.add_leg(
                &call_sid(BROWSER),
                PstnLeg {
                    sid: call_sid(PSTN),
                    caller: caller(5),
                    dialled: dialled.clone(),
                    client: client.clone(),
                    started_at: None,
                },
            );
            let parked = w.park(&mallory, BROWSER, None).await;
            let case = format!("dialled {dialled:?}, client {client:?}");
            if parks {
                assert!(parked.is_ok(), "{case}: {parked:?}");
            } else {
                assert!(
                    matches!(parked, Err(ParkError::CallNotFound)),
                    "{case}: {parked:?}"
                );
                assert!(w.redirects().is_empty(), "{case}: nothing redirected");
                assert!(w.occupied(&acme).await.is_empty(), "{case}");
            }
        }
    };
    let globex_mallory = ClientIdentity::of(
        &globex.slug,
        &callpark_domain::testkit::agent_identity("mallory"),
    );
    // acme's caller, acme's agent on it, or both: not globex's to park.
    check(Some(&acme.numbers[0]), None, false).await;
    check(None, Some(&acme_alice), false).await;
    check(Some(&acme.numbers[0]), Some(&acme_alice), false).await;
    check(None, None, false).await;
    // Dialled to globex, or globex's own agent on it: globex's.
    check(Some(&globex.numbers[0]), None, true).await;
    check(None, Some(&globex_mallory), true).await;
}

#[tokio::test]
async fn park_refuses_taken_missing_and_full_slots() {
    let acme = organisation("acme", 2);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    for n in 1..=3 {
        w.answered_call(&acme, n, 100 + n, &alice).await;
    }
    let first = w.park(&alice, 101, Some(2)).await.expect("parked");
    assert!(matches!(
        w.park(&alice, 102, Some(2)).await,
        Err(ParkError::SlotOccupied(s)) if s == slot(2)
    ));
    assert!(matches!(
        w.park(&alice, 102, Some(3)).await,
        Err(ParkError::SlotOutOfRange { slot: s, lot_size: 2 }) if s == slot(3)
    ));
    let second = w.park(&alice, 102, None).await.expect("parked");
    assert_eq!(second.slot, slot(1));
    assert!(matches!(
        w.park(&alice, 103, None).await,
        Err(ParkError::LotFull)
    ));
    assert_eq!(w.occupied(&acme).await, vec![(1, second.id), (2, first.id)]);
    assert_eq!(w.redirects().len(), 2, "refused parks redirect nothing");
}

#[tokio::test]
async fn a_refused_park_redirect_frees_the_slot() {
    for (script, gone) in [
        (CallScript::Gone, true),
        (CallScript::Refusing, false),
        (CallScript::Unfound, false),
    ] {
        let acme = organisation("acme", 3);
        let w = World::new(std::slice::from_ref(&acme)).await;
        let alice = w.agent("acme", "alice", 1).await;
        w.answered_call(&acme, PSTN, BROWSER, &alice).await;
        w.telephony.script(&call_sid(PSTN), script);

        let result = w.park(&alice, BROWSER, None).await;
        if gone {
            assert!(matches!(result, Err(ParkError::CallerGone)), "{result:?}");
        } else {
            assert!(
                matches!(
                    result,
                    Err(ParkError::Telephony(TelephonyFailure::Rejected(_)))
                ),
                "{result:?}"
            );
            // Twilio did nothing: the agent is still on the call.
            assert_eq!(w.agent_now(&alice).await.status, AgentStatus::OnCall);
        }
        assert_eq!(w.occupied(&acme).await, vec![]);
        assert_eq!(w.kinds(&acme.slug).await, [E::Parked, E::Failed]);
        let failed = &w.events(&acme.slug).await[1].call;
        assert_eq!(failed.state, ParkState::Failed);
    }
}

#[tokio::test]
async fn retrieve_refuses_what_it_cannot_do() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    w.telephony.script(&call_sid(PSTN), CallScript::Unanswered);
    let _ = w.park(&alice, BROWSER, Some(1)).await;

    assert!(matches!(
        w.service.retrieve(&bob, slot(1), None).await,
        Err(RetrieveError::NotYetParked(s)) if s == slot(1)
    ));
    assert!(matches!(
        w.service.retrieve(&bob, slot(2), None).await,
        Err(RetrieveError::SlotEmpty(s)) if s == slot(2)
    ));
    assert!(matches!(
        w.service.retrieve(&bob, slot(4), None).await,
        Err(RetrieveError::SlotOutOfRange { lot_size: 3, .. })
    ));
    assert!(matches!(
        w.service.retrieve(&bob, slot(1), Some(identity("nobody"))).await,
        Err(RetrieveError::UnknownAgent(a)) if a == identity("nobody")
    ));
    assert_eq!(w.redirects().len(), 1, "only the park redirect");
}

#[tokio::test]
async fn an_agent_on_a_call_cannot_retrieve_and_both_callers_stay() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, Some(2)).await.expect("parked");
    // Bob is talking to another caller.
    w.answered_call(&acme, 2, 102, &bob).await;
    let redirects = w.redirects().len();

    for (asking, target) in [(&bob, None), (&alice, Some(bob.identity.clone()))] {
        assert!(matches!(
            w.service.retrieve(asking, parked.slot, target).await,
            Err(RetrieveError::AgentBusy(a)) if a == bob.identity
        ));
    }
    // Nothing moved: the parked caller is still parked, Bob's caller still with Bob.
    assert_eq!(
        w.redirects().len(),
        redirects,
        "no redirect of either caller"
    );
    let still = w.record(parked.id).await;
    assert_eq!((still.state, still.retrieval), (ParkState::Parked, None));
    assert_eq!(w.occupied(&acme).await, vec![(2, parked.id)]);
    let bob_now = w.agent_now(&bob).await;
    assert_eq!(
        (bob_now.status, bob_now.current_call),
        (AgentStatus::OnCall, Some(call_sid(102)))
    );
    assert_eq!(
        w.service
            .current_call(&bob)
            .await
            .expect("read")
            .map(|c| c.call.pstn),
        Some(call_sid(2))
    );

    // Once Bob has parked his caller, the retrieve goes through.
    w.park(&bob, 102, None).await.expect("bob parks his caller");
    let retrieving = w
        .service
        .retrieve(&bob, parked.slot, None)
        .await
        .expect("retrieving");
    assert_eq!(retrieving.retrieval, Some(Retrieval::ByAgent(bob.identity)));
}

#[tokio::test]
async fn retrieve_when_the_caller_has_gone_frees_the_slot() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    w.telephony.script(&call_sid(PSTN), CallScript::Gone);

    assert!(matches!(
        w.service.retrieve(&alice, parked.slot, None).await,
        Err(RetrieveError::CallerGone(s)) if s == parked.slot
    ));
    assert_eq!(w.record(parked.id).await.state, ParkState::Abandoned);
    assert_eq!(w.occupied(&acme).await, vec![]);
}

/// Twilio refused the retrieve's redirect, or did not find the call (a 20404 for a call it told
/// us of is not a caller gone: a finished call answers 21220): the caller is still in its slot.
#[tokio::test]
async fn a_retrieve_twilio_refuses_leaves_the_call_parked() {
    for script in [CallScript::Refusing, CallScript::Unfound] {
        let acme = organisation("acme", 3);
        let w = World::new(std::slice::from_ref(&acme)).await;
        let alice = w.agent("acme", "alice", 1).await;
        w.answered_call(&acme, PSTN, BROWSER, &alice).await;
        let parked = w.park(&alice, BROWSER, None).await.expect("parked");
        w.telephony.script(&call_sid(PSTN), script);

        let refused = w.service.retrieve(&alice, parked.slot, None).await;
        assert!(
            matches!(
                refused,
                Err(RetrieveError::Telephony(TelephonyFailure::Rejected(_)))
            ),
            "{script:?}: {refused:?}"
        );
        let after = w.record(parked.id).await;
        assert_eq!(after.state, ParkState::Parked, "{script:?}");
        assert_eq!(after.retrieval, None);
        assert_eq!(w.occupied(&acme).await, vec![(1, parked.id)]);
        // Another try once Twilio answers again.
        w.telephony.script(&call_sid(PSTN), CallScript::Live);
        w.service
            .retrieve(&alice, parked.slot, None)
            .await
            .expect("retrieving");
    }
}

#[tokio::test]
async fn inbound_calls_ring_the_available_agents_of_the_dialled_organisation() {
    let acme = organisation("acme", 3);
    let globex = organisation("globex", 3);
    let w = World::new(&[acme.clone(), globex.clone()]).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.agent("globex", "carol", 3).await;
    w.service
        .set_presence(&bob, AgentStatus::Offline)
        .await
        .expect("signed out");

    let routing = w
        .service
        .on_inbound_call(InboundCall {
            pstn: call_sid(PSTN),
            dialled: acme.numbers[0].clone(),
            caller: caller(1),
        })
        .await
        .expect("routed");
    assert_eq!(routing.org.slug, acme.slug);
    assert_eq!(
        routing.agents,
        vec![ClientIdentity::of(&acme.slug, &alice.identity)]
    );

    let unknown = callpark_domain::testkit::phone(4242);
    assert!(matches!(
        w.service
            .on_inbound_call(InboundCall {
                pstn: call_sid(2),
                dialled: unknown.clone(),
                caller: caller(2),
            })
            .await,
        Err(InboundError::UnknownNumber(n)) if n == unknown
    ));
}

#[tokio::test]
async fn an_answer_that_arrives_after_the_caller_hung_up_leaves_the_agent_free() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    let bob = w.agent("acme", "bob", 2).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    w.service
        .retrieve(&bob, parked.slot, None)
        .await
        .expect("retrieving");
    // Callbacks arrive out of order: the caller's hang-up before bob's `answered`.
    w.caller_hangs_up(PSTN).await;
    let late = w
        .service
        .on_dial_answered(parked.id, 1, Some(&call_sid(202)))
        .await
        .expect("handled")
        .expect("known call");

    assert_eq!(late.state, ParkState::Abandoned);
    let bob_now = w.agent_now(&bob).await;
    assert_eq!(
        (bob_now.status, bob_now.current_call),
        (AgentStatus::Available, None),
        "nobody is on the line: bob must still be offered calls"
    );
}

/// A callback repeated or held back until after the caller hung up — a retrieve's
/// `answered`, an agent leg's `in-progress` — must not put the agent back on a call that is
/// over: nothing would ever free them, and no caller would ring them again (the chaos run
/// found agents left on a call this way).
#[tokio::test]
async fn a_callback_repeated_after_the_caller_hung_up_leaves_the_agent_free() {
    for repeated in [
        "the retrieve's answered",
        "the agent leg's in-progress",
        "an answered held back behind the dial's result",
    ] {
        let acme = organisation("acme", 3);
        let w = World::new(std::slice::from_ref(&acme)).await;
        let alice = w.agent("acme", "alice", 1).await;
        let bob = w.agent("acme", "bob", 2).await;
        w.answered_call(&acme, PSTN, BROWSER, &alice).await;
        let parked = w.park(&alice, BROWSER, None).await.expect("parked");
        w.service
            .retrieve(&bob, parked.slot, None)
            .await
            .expect("retrieving");
        let bob_leg = call_sid(202);
        let answered = || w.service.on_dial_answered(parked.id, 1, Some(&bob_leg));
        let in_progress = CallStatusUpdate {
            call: bob_leg.clone(),
            parent: Some(call_sid(PSTN)),
            status: CallStatus::InProgress,
            agent: Some(ClientIdentity::of(&bob.org, &bob.identity)),
            sequence: None,
        };
        if repeated == "an answered held back behind the dial's result" {
            // The dial's result says answered first: the call is retrieved, with nobody on it
            // yet as far as the agents' statuses go.
            w.service
                .on_dial_result(parked.id, 1, DialOutcome::Answered)
                .await
                .expect("dial result");
        } else {
            answered().await.expect("answered");
            w.service
                .on_call_status(&in_progress)
                .await
                .expect("status");
            assert_eq!(w.agent_now(&bob).await.status, AgentStatus::OnCall);
        }

        // The caller hangs up (Twilio knows); bob's leg's own end is never heard.
        w.caller_hangs_up(PSTN).await;
        w.telephony.script(&call_sid(PSTN), CallScript::Gone);
        assert_eq!(w.agent_now(&bob).await.status, AgentStatus::Available);
        if repeated == "the agent leg's in-progress" {
            w.service
                .on_call_status(&in_progress)
                .await
                .expect("status again");
        } else {
            answered().await.expect("answered late");
        }
        let bob_now = w.agent_now(&bob).await;
        assert_eq!(
            (bob_now.status, bob_now.current_call),
            (AgentStatus::Available, None),
            "{repeated} after the hang-up"
        );
    }
}

#[tokio::test]
async fn leaving_the_conference_after_our_retrieve_redirect_is_not_an_abandonment() {
    let acme = organisation("acme", 3);
    let w = World::new(std::slice::from_ref(&acme)).await;
    let alice = w.agent("acme", "alice", 1).await;
    w.answered_call(&acme, PSTN, BROWSER, &alice).await;
    let parked = w.park(&alice, BROWSER, None).await.expect("parked");
    w.conference(parked.id, 9, ConferenceEventKind::ParticipantJoined)
        .await;
    let retrieving = w
        .service
        .retrieve(&alice, parked.slot, None)
        .await
        .expect("retrieving");

    // What Twilio sends as our redirect takes the caller out of the conference.
    for kind in [
        ConferenceEventKind::ParticipantLeft(LeaveReason::UpdatedViaApi),
        ConferenceEventKind::ParticipantLeft(LeaveReason::Other),
        ConferenceEventKind::Ended,
    ] {
        let after = w.conference(parked.id, 9, kind).await.expect("known");
        assert_eq!(after, retrieving, "{kind:?}");
    }
    assert_eq!(w.occupied(&acme).await, vec![(1, parked.id)]);
    assert_eq!(
        w.kinds(&acme.slug).await,
        [E::Parked, E::Updated, E::Updated, E::Retrieving]
    );

    // The same leave with `participant_hung_up` is the caller hanging up.
    let hung_up = ConferenceEventKind::ParticipantLeft(LeaveReason::HungUp);
    let after = w.conference(parked.id, 9, hung_up).await.expect("known");
    assert_eq!(after.state, ParkState::Abandoned);
    assert_eq!(w.occupied(&acme).await, vec![]);
}
