//! The TwiML documents callpark serves, from plain parameters: the front end decides the URLs
//! and texts, this module only writes them down correctly.
//!
//! Every callback and action URL is requested with `POST`, so that Twilio signs its parameters
//! in the body and the front end validates all webhooks the same way. A `<Say>` with nothing to
//! say is left out: Twilio reports an empty `<Say>` as an error.

use super::{
    Beep, CallProgressEvent, Client, Conference, ConferenceEvent, Dial, Hangup, Method, Play,
    Record, Redirect, Response, Say,
};

/// The conference events callpark follows: a conference that starts and ends, and the
/// participants who join and leave (a lone parked caller produces no `start`, see DESIGN §3).
const PARK_EVENTS: &[ConferenceEvent] = &[
    ConferenceEvent::Start,
    ConferenceEvent::End,
    ConferenceEvent::Join,
    ConferenceEvent::Leave,
];

/// Every progress event of a ringing agent leg: its `CallSid`/`ParentCallSid` pair is how
/// callpark learns which browser leg belongs to which caller.
const RING_EVENTS: &[CallProgressEvent] = &[
    CallProgressEvent::Initiated,
    CallProgressEvent::Ringing,
    CallProgressEvent::Answered,
    CallProgressEvent::Completed,
];

/// Only `answered`: it is what tells callpark that a retrieve succeeded, long before the
/// `<Dial action>` arrives at the end of the whole conversation.
const ANSWERED: &[CallProgressEvent] = &[CallProgressEvent::Answered];

/// What the parked caller hears at the end of voicemail.
pub const VOICEMAIL_GOODBYE: &str = "Thank you. Goodbye.";

/// Whether `text` holds anything to say once what XML cannot carry is dropped.
pub fn has_words(text: &str) -> bool {
    text.chars()
        .any(|c| !c.is_whitespace() && super::escape::is_xml_char(c))
}

/// How what callers hear is spoken: `<Say>`'s `voice` and `language`, each `None` for
/// Twilio's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Speech<'a> {
    /// The text-to-speech voice, e.g. `Polly.Amy`.
    pub voice: Option<&'a str>,
    /// The language, e.g. `en-GB`.
    pub language: Option<&'a str>,
}

fn push_say<'a>(response: &mut Response<'a>, text: &'a str, speech: Speech<'a>) {
    if has_words(text) {
        response.push(
            Say::new(text)
                .voice_opt(speech.voice)
                .language_opt(speech.language),
        );
    }
}

/// Parks the caller: announces, then puts them alone into the conference `conference_name`
/// with hold music from `wait_url`, ending the conference when they leave, and reporting its
/// events to `conference_status_url`.
///
/// ```text
/// <Say voice language>announcement</Say>
/// <Dial><Conference beep="false" waitUrl waitMethod="POST" startConferenceOnEnter="true"
///   endConferenceOnExit="true" statusCallback statusCallbackEvent="start end join leave"
///   statusCallbackMethod="POST">conference_name</Conference></Dial>
/// ```
pub fn park(
    announcement: &str,
    speech: Speech<'_>,
    conference_name: &str,
    wait_url: &str,
    conference_status_url: &str,
) -> String {
    let mut response = Response::with_capacity(2);
    push_say(&mut response, announcement, speech);
    response.push(
        Dial::new().noun(
            Conference::new(conference_name)
                .beep(Beep::False)
                .wait_url(wait_url)
                .wait_method(Method::Post)
                .start_conference_on_enter(true)
                .end_conference_on_exit(true)
                .status_callback(conference_status_url)
                .status_callback_event(PARK_EVENTS)
                .status_callback_method(Method::Post),
        ),
    );
    response.render()
}

/// Puts a caller whom nobody answered back into the conference of the same slot: the same
/// document as [`park`], with an announcement such as "Sorry, nobody could take your call.
/// Please continue to hold."
pub fn return_to_lot(
    announcement: &str,
    speech: Speech<'_>,
    conference_name: &str,
    wait_url: &str,
    conference_status_url: &str,
) -> String {
    park(
        announcement,
        speech,
        conference_name,
        wait_url,
        conference_status_url,
    )
}

/// Twilio's own hold music, for organisations that set none.
pub const TWILIO_HOLD_MUSIC: &str =
    "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3";

/// What a parked caller hears while waiting (the conference's `waitUrl`): the music at
/// `music_url`, looped. `waitUrl` documents may hold only `<Say>`, `<Play>`, `<Pause>` and
/// `<Redirect>`.
///
/// ```text
/// <Play loop="0">music_url</Play>
/// ```
pub fn hold_music(music_url: &str) -> String {
    Response::with_capacity(1)
        .verb(Play::new(music_url).loops(0))
        .render()
}

/// Connects a parked caller to the retrieving agent's browser: says `say`, then rings the
/// agent's client for `timeout_secs`, showing `caller_id` (the caller's E.164 number) and
/// handing the client `parameters`. The agent answering is reported to
/// `answered_callback_url`; the dial's end to `dial_action_url`.
///
/// ```text
/// <Say voice language>say</Say>
/// <Dial timeout callerId action="dial_action_url" method="POST">
///   <Client statusCallback="answered_callback_url" statusCallbackEvent="answered"
///     statusCallbackMethod="POST"><Identity>agent_identity</Identity>
///     <Parameter name value/>…</Client></Dial>
/// ```
#[expect(
    clippy::too_many_arguments,
    reason = "the HTTP crate's agreed plain-parameter signature"
)]
pub fn retrieve(
    say: &str,
    speech: Speech<'_>,
    agent_identity: &str,
    caller_id: Option<&str>,
    parameters: &[(&str, &str)],
    timeout_secs: u32,
    answered_callback_url: &str,
    dial_action_url: &str,
) -> String {
    let mut response = Response::with_capacity(2);
    push_say(&mut response, say, speech);
    response.push(
        Dial::new()
            .timeout(timeout_secs)
            .caller_id_opt(caller_id)
            .action(dial_action_url)
            .method(Method::Post)
            .noun(
                Client::new(agent_identity)
                    .parameters(parameters)
                    .status_callback(answered_callback_url)
                    .status_callback_event(ANSWERED)
                    .status_callback_method(Method::Post),
            ),
    );
    response.render()
}

/// Takes a voicemail: says `prompt`, records up to `max_length_secs` after a beep, posts the
/// caller on to `record_action_url` and the finished recording to `recording_status_url`. If
/// the caller records nothing, Twilio goes on past `<Record>`: a goodbye and a hang-up.
///
/// ```text
/// <Say voice language>prompt</Say>
/// <Record action method="POST" maxLength playBeep="true" recordingStatusCallback
///   recordingStatusCallbackMethod="POST"/>
/// <Say voice language>Thank you. Goodbye.</Say><Hangup/>
/// ```
pub fn voicemail(
    prompt: &str,
    speech: Speech<'_>,
    record_action_url: &str,
    recording_status_url: &str,
    max_length_secs: u32,
) -> String {
    let mut response = Response::with_capacity(4);
    push_say(&mut response, prompt, speech);
    response.push(
        Record::new()
            .action(record_action_url)
            .method(Method::Post)
            .max_length(max_length_secs)
            .play_beep(true)
            .recording_status_callback(recording_status_url)
            .recording_status_callback_method(Method::Post),
    );
    push_say(&mut response, VOICEMAIL_GOODBYE, speech);
    response.push(Hangup);
    response.render()
}

/// Rings every agent's browser at once for an inbound call; the first to answer gets it.
/// Each agent leg reports `initiated ringing answered completed` to `status_callback_url`;
/// the dial's end goes to `action_url`.
///
/// ```text
/// <Dial timeout callerId action method="POST">
///   <Client statusCallback statusCallbackEvent="initiated ringing answered completed"
///     statusCallbackMethod="POST"><Identity>agent</Identity></Client>…</Dial>
/// ```
pub fn ring_agents(
    agent_identities: &[&str],
    status_callback_url: &str,
    timeout_secs: u32,
    action_url: &str,
    caller_id: Option<&str>,
) -> String {
    let mut dial = Dial::new()
        .timeout(timeout_secs)
        .caller_id_opt(caller_id)
        .action(action_url)
        .method(Method::Post)
        .reserve(agent_identities.len());
    for identity in agent_identities {
        dial.push(
            Client::new(identity)
                .status_callback(status_callback_url)
                .status_callback_event(RING_EVENTS)
                .status_callback_method(Method::Post),
        );
    }
    Response::with_capacity(1).verb(dial).render()
}

/// Says `text`, then hangs up (e.g. when no agent is available).
pub fn say_and_hangup(text: &str, speech: Speech<'_>) -> String {
    let mut response = Response::with_capacity(2);
    push_say(&mut response, text, speech);
    response.push(Hangup);
    response.render()
}

/// Hangs up at once.
pub fn hangup() -> String {
    Response::with_capacity(1).verb(Hangup).render()
}

/// Carries on with the TwiML at `url` (fetched with a POST, as Twilio's default).
///
/// ```text
/// <Redirect method="POST">url</Redirect>
/// ```
pub fn redirect(url: &str) -> String {
    Response::with_capacity(1)
        .verb(Redirect::new(url).method(Method::Post))
        .render()
}
