//! Twilio's webhook forms into the domain's inputs: one `check` per parser, one line per case.

use std::fmt::Debug;

use callpark_domain::{
    AgentIdentity, CallSid, CallStatus, ClientIdentity, ConferenceEventKind, DialOutcome,
    LeaveReason, OrgSlug,
};
use callpark_twilio::webhook::{self, Answered, Form, WebhookError};

const CALLER: &str = "CA0000000000000000000000000000000a";
const AGENT_LEG: &str = "CA0000000000000000000000000000000b";
const CONFERENCE: &str = "CF0000000000000000000000000000000c";

/// A form as Twilio posts it, e.g. `"CallSid=CA…&CallStatus=ringing"`.
fn form(body: &str) -> Form {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap();
    params.into()
}

/// Reads `body` with `parse` and compares with `expected`.
fn check<T: PartialEq + Debug>(parse: impl Fn(&Form) -> T, body: &str, expected: T) {
    assert_eq!(parse(&form(body)), expected, "form: {body}");
}

fn sid(s: &str) -> CallSid {
    CallSid::parse(s).unwrap()
}

#[test]
fn call_status_reads_every_twilio_status_and_ignores_others() {
    let status = |f: &Form| webhook::call_status(f).unwrap().map(|u| u.status);
    for (text, expected) in [
        ("queued", Some(CallStatus::Queued)),
        ("initiated", Some(CallStatus::Initiated)),
        ("ringing", Some(CallStatus::Ringing)),
        ("in-progress", Some(CallStatus::InProgress)),
        ("completed", Some(CallStatus::Completed)),
        ("busy", Some(CallStatus::Busy)),
        ("failed", Some(CallStatus::Failed)),
        ("no-answer", Some(CallStatus::NoAnswer)),
        ("canceled", Some(CallStatus::Canceled)),
        // Not a call status (it is a `<Client>` status callback event): ignored, as the REST
        // client refuses it.
        ("answered", None),
        ("paused", None),
        ("", None),
    ] {
        check(
            status,
            &format!("CallSid={CALLER}&CallStatus={text}"),
            expected,
        );
    }
    check(status, &format!("CallSid={CALLER}"), None);
}

#[test]
fn call_status_names_the_parent_leg_and_the_ringing_agent() {
    let update = webhook::call_status(&form(&format!(
        "CallSid={AGENT_LEG}&ParentCallSid={CALLER}&CallStatus=ringing&To=client%3Aacme.alice"
    )))
    .unwrap()
    .unwrap();
    assert_eq!(update.call, sid(AGENT_LEG));
    assert_eq!(update.parent, Some(sid(CALLER)));
    assert_eq!(
        update.agent,
        Some(ClientIdentity::of(
            &OrgSlug::parse("acme").unwrap(),
            &AgentIdentity::parse("alice").unwrap()
        ))
    );

    let parties = |f: &Form| {
        let u = webhook::call_status(f).unwrap().unwrap();
        (u.parent, u.agent)
    };
    check(
        parties,
        &format!("CallSid={CALLER}&CallStatus=completed&To=%2B15550100100"),
        (None, None),
    );
    // A Client identity that names no organisation is no agent of ours.
    check(
        parties,
        &format!("CallSid={AGENT_LEG}&ParentCallSid={CALLER}&CallStatus=ringing&To=client%3Aalice"),
        (Some(sid(CALLER)), None),
    );
    check(
        parties,
        &format!("CallSid={CALLER}&CallStatus=completed&ParentCallSid=nonsense"),
        (None, None),
    );
}

#[test]
fn call_status_reads_the_callbacks_sequence_number() {
    let sequence = |f: &Form| webhook::call_status(f).map(|u| u.unwrap().sequence).ok();
    let base = format!("CallSid={AGENT_LEG}&CallStatus=in-progress");
    check(sequence, &format!("{base}&SequenceNumber=0"), Some(Some(0)));
    check(sequence, &format!("{base}&SequenceNumber=3"), Some(Some(3)));
    // Absent (a callback without status events) or empty: no order to keep.
    check(sequence, &base, Some(None));
    check(sequence, &format!("{base}&SequenceNumber="), Some(None));
    for nonsense in ["-1", "two", "1.5", "99999999999"] {
        assert!(
            matches!(
                webhook::call_status(&form(&format!("{base}&SequenceNumber={nonsense}"))),
                Err(WebhookError::NotANumber("SequenceNumber"))
            ),
            "{nonsense}"
        );
    }
}

#[test]
fn call_status_needs_a_valid_call_sid() {
    let error = |f: &Form| webhook::call_status(f).err().map(|e| e.to_string());
    check(
        error,
        "CallStatus=completed",
        Some("missing parameter CallSid".to_owned()),
    );
    check(
        error,
        "CallSid=&CallStatus=completed",
        Some("missing parameter CallSid".to_owned()),
    );
    assert!(matches!(
        webhook::call_status(&form("CallSid=XY12&CallStatus=completed")),
        Err(WebhookError::Invalid(_))
    ));
}

#[test]
fn an_inbound_call_keeps_what_the_caller_sent_that_is_valid() {
    let inbound = |f: &Form| {
        let call = webhook::inbound_call(f).unwrap();
        (
            call.pstn.to_string(),
            call.dialled.to_string(),
            call.caller.number.map(|n| n.to_string()),
            call.caller.name.map(|n| n.as_str().to_owned()),
        )
    };
    let base = format!("CallSid={CALLER}&To=%2B15550100100");
    let expected = |number: Option<&str>, name: Option<&str>| {
        (
            CALLER.to_owned(),
            "+15550100100".to_owned(),
            number.map(str::to_owned),
            name.map(str::to_owned),
        )
    };
    check(inbound, &base, expected(None, None));
    check(
        inbound,
        &format!("{base}&From=%2B15550100123&CallerName=Ada"),
        expected(Some("+15550100123"), Some("Ada")),
    );
    check(
        inbound,
        &format!("{base}&From=anonymous&CallerName="),
        expected(None, None),
    );
}

#[test]
fn an_inbound_call_needs_its_sid_and_the_dialled_number() {
    let error = |f: &Form| webhook::inbound_call(f).err().map(|e| e.to_string());
    check(
        error,
        "To=%2B15550100100",
        Some("missing parameter CallSid".to_owned()),
    );
    check(
        error,
        &format!("CallSid={CALLER}"),
        Some("missing parameter To".to_owned()),
    );
    assert!(matches!(
        webhook::inbound_call(&form(&format!("CallSid={CALLER}&To=not-a-number"))),
        Err(WebhookError::Invalid(_))
    ));
}

#[test]
fn dial_call_status_decides_the_retrieve_and_the_inbound_dial() {
    for (text, outcome, nobody) in [
        ("completed", DialOutcome::Answered, false),
        ("answered", DialOutcome::Answered, false),
        ("busy", DialOutcome::NotAnswered, true),
        ("no-answer", DialOutcome::NotAnswered, true),
        ("failed", DialOutcome::NotAnswered, true),
        ("canceled", DialOutcome::NotAnswered, false),
        ("something-new", DialOutcome::NotAnswered, false),
    ] {
        let body = format!("CallSid={CALLER}&DialCallStatus={text}");
        check(webhook::dial_outcome, &body, outcome);
        check(webhook::nobody_answered, &body, nobody);
    }
    check(webhook::dial_outcome, "", DialOutcome::NotAnswered);
    check(webhook::nobody_answered, "", false);
}

#[test]
fn a_dialled_browser_answers_when_its_callback_says_so_or_says_nothing() {
    let leg = Some(Answered {
        leg: Some(sid(AGENT_LEG)),
    });
    check(
        webhook::dial_answered,
        &format!("CallSid={AGENT_LEG}&CallStatus=in-progress"),
        leg.clone(),
    );
    check(
        webhook::dial_answered,
        &format!("CallSid={AGENT_LEG}&CallStatus=answered"),
        leg.clone(),
    );
    check(webhook::dial_answered, &format!("CallSid={AGENT_LEG}"), leg);
    check(
        webhook::dial_answered,
        "CallStatus=in-progress",
        Some(Answered { leg: None }),
    );
    check(
        webhook::dial_answered,
        "CallSid=nonsense",
        Some(Answered { leg: None }),
    );
    check(
        webhook::dial_answered,
        &format!("CallSid={AGENT_LEG}&CallStatus=ringing"),
        None,
    );
    check(
        webhook::dial_answered,
        &format!("CallSid={AGENT_LEG}&CallStatus=completed"),
        None,
    );
}

#[test]
fn conference_events_and_why_a_participant_left() {
    let kind = |f: &Form| webhook::conference_event(f).unwrap().kind;
    let base = format!("ConferenceSid={CONFERENCE}&FriendlyName=park-1&CallSid={CALLER}");
    for (event, expected) in [
        ("conference-start", ConferenceEventKind::Started),
        ("conference-end", ConferenceEventKind::Ended),
        ("participant-join", ConferenceEventKind::ParticipantJoined),
        (
            "participant-leave",
            ConferenceEventKind::ParticipantLeft(LeaveReason::Other),
        ),
        ("participant-mute", ConferenceEventKind::Other),
    ] {
        check(
            kind,
            &format!("{base}&StatusCallbackEvent={event}"),
            expected,
        );
    }
    check(kind, &base, ConferenceEventKind::Other);
    for (reason, expected) in [
        ("participant_hung_up", LeaveReason::HungUp),
        ("participant_updated_via_api", LeaveReason::UpdatedViaApi),
        ("conference_ended_via_api", LeaveReason::Other),
        ("moderator_ended_conference", LeaveReason::Other),
        ("participant_add_failed", LeaveReason::Other),
    ] {
        check(
            kind,
            &format!("{base}&StatusCallbackEvent=participant-leave&ReasonParticipantLeft={reason}"),
            ConferenceEventKind::ParticipantLeft(expected),
        );
    }
    let event = webhook::conference_event(&form(&format!(
        "{base}&StatusCallbackEvent=participant-join"
    )))
    .unwrap();
    assert_eq!(event.conference_name, "park-1");
    assert_eq!(event.conference_sid.to_string(), CONFERENCE);
}

#[test]
fn a_conference_event_needs_its_name_and_sid() {
    let error = |f: &Form| webhook::conference_event(f).err().map(|e| e.to_string());
    check(
        error,
        &format!("ConferenceSid={CONFERENCE}"),
        Some("missing parameter FriendlyName".to_owned()),
    );
    check(
        error,
        "FriendlyName=park-1",
        Some("missing parameter ConferenceSid".to_owned()),
    );
    assert!(matches!(
        webhook::conference_event(&form("FriendlyName=park-1&ConferenceSid=CA00")),
        Err(WebhookError::Invalid(_))
    ));
}

#[test]
fn a_recording_counts_once_it_is_complete() {
    let url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1";
    let recording = |f: &Form| webhook::recording(f).unwrap().map(|u| u.to_string());
    let with_url = format!(
        "RecordingUrl={}",
        url.replace('/', "%2F").replace(':', "%3A")
    );
    check(
        recording,
        &format!("{with_url}&RecordingStatus=completed"),
        Some(url.to_owned()),
    );
    check(recording, &with_url, Some(url.to_owned()));
    check(
        recording,
        &format!("{with_url}&RecordingStatus=in-progress"),
        None,
    );
    check(
        recording,
        &format!("{with_url}&RecordingStatus=absent"),
        None,
    );
    check(recording, "RecordingStatus=completed", None);
    assert!(matches!(
        webhook::recording(&form(
            "RecordingStatus=completed&RecordingUrl=not%20a%20url"
        )),
        Err(WebhookError::Invalid(_))
    ));
}
