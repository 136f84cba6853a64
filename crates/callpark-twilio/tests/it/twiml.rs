//! The TwiML documents callpark serves, exactly; and that no input can make them malformed
//! or change their structure.

use callpark_twilio::twiml::documents::{
    Speech, VOICEMAIL_GOODBYE, hangup, has_words, hold_music, park, redirect, retrieve,
    return_to_lot, ring_agents, say_and_hangup, voicemail,
};
use callpark_twilio::twiml::{
    Beep, CallProgressEvent, Client, Conference, ConferenceEvent, Dial, Hangup, Method, Pause,
    Play, Record, Redirect, Response, Say, xml_safe,
};
use proptest::prelude::*;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
const CONFERENCE: &str = "park-0123456789abcdef0123456789abcdef";
const HOLD: &str = "https://callpark.example.com/twilio/hold-music?org=acme&slot=3";
const CONF_STATUS: &str = "https://callpark.example.com/twilio/conference-status";

/// `voice`, in its own language.
fn spoken(voice: Option<&str>) -> Speech<'_> {
    Speech {
        voice,
        language: None,
    }
}

#[test]
fn park_announces_then_joins_the_conference_alone() {
    assert_eq!(
        park(
            "Please hold while we find someone.",
            spoken(Some("Polly.Amy")),
            CONFERENCE,
            HOLD,
            CONF_STATUS
        ),
        [
            DECL,
            "<Response>",
            r#"<Say voice="Polly.Amy">Please hold while we find someone.</Say>"#,
            "<Dial>",
            r#"<Conference beep="false" waitUrl="https://callpark.example.com/twilio/hold-music?org=acme&amp;slot=3" waitMethod="POST" startConferenceOnEnter="true" endConferenceOnExit="true" statusCallback="https://callpark.example.com/twilio/conference-status" statusCallbackEvent="start end join leave" statusCallbackMethod="POST">park-0123456789abcdef0123456789abcdef</Conference>"#,
            "</Dial>",
            "</Response>",
        ]
        .concat()
    );
}

#[test]
fn park_without_voice_or_announcement() {
    assert_eq!(
        park("", Speech::default(), CONFERENCE, "https://h/m", "https://h/c"),
        [
            DECL,
            "<Response><Dial>",
            r#"<Conference beep="false" waitUrl="https://h/m" waitMethod="POST" startConferenceOnEnter="true" endConferenceOnExit="true" statusCallback="https://h/c" statusCallbackEvent="start end join leave" statusCallbackMethod="POST">park-0123456789abcdef0123456789abcdef</Conference>"#,
            "</Dial></Response>",
        ]
        .concat()
    );
    assert!(
        park(
            "Hold on",
            Speech::default(),
            CONFERENCE,
            "https://h/m",
            "https://h/c"
        )
        .contains("<Response><Say>Hold on</Say><Dial>")
    );
}

#[test]
fn hold_music_loops_the_music() {
    assert_eq!(
        hold_music("https://cdn.example.com/music/hold.mp3"),
        [
            DECL,
            r#"<Response><Play loop="0">https://cdn.example.com/music/hold.mp3</Play></Response>"#
        ]
        .concat()
    );
}

#[test]
fn retrieve_rings_the_agent_with_the_callers_details() {
    assert_eq!(
        retrieve(
            "Connecting you now.",
            spoken(Some("Polly.Amy")),
            "bob_2",
            Some("+14155550100"),
            &[
                ("callerNumber", "+14155550100"),
                ("callerName", "Ada & \"Lovelace\""),
                ("slot", "3"),
            ],
            20,
            "https://callpark.example.com/twilio/retrieve/7f9c/answered",
            "https://callpark.example.com/twilio/retrieve/7f9c/dial-ended",
        ),
        [
            DECL,
            "<Response>",
            r#"<Say voice="Polly.Amy">Connecting you now.</Say>"#,
            r#"<Dial timeout="20" callerId="+14155550100" action="https://callpark.example.com/twilio/retrieve/7f9c/dial-ended" method="POST">"#,
            r#"<Client statusCallback="https://callpark.example.com/twilio/retrieve/7f9c/answered" statusCallbackEvent="answered" statusCallbackMethod="POST">"#,
            "<Identity>bob_2</Identity>",
            r#"<Parameter name="callerNumber" value="+14155550100"/>"#,
            r#"<Parameter name="callerName" value="Ada &amp; &quot;Lovelace&quot;"/>"#,
            r#"<Parameter name="slot" value="3"/>"#,
            "</Client></Dial></Response>",
        ]
        .concat()
    );
}

#[test]
fn retrieve_of_an_anonymous_caller_has_no_caller_id() {
    assert_eq!(
        retrieve("Connecting you now.", Speech::default(), "bob", None, &[], 15, "https://h/a", "https://h/d"),
        [
            DECL,
            "<Response><Say>Connecting you now.</Say>",
            r#"<Dial timeout="15" action="https://h/d" method="POST">"#,
            r#"<Client statusCallback="https://h/a" statusCallbackEvent="answered" statusCallbackMethod="POST"><Identity>bob</Identity></Client>"#,
            "</Dial></Response>",
        ]
        .concat()
    );
}

#[test]
fn return_to_lot_puts_the_caller_back_into_the_same_conference() {
    let announcement = "Sorry, nobody could take your call. Please continue to hold.";
    let expected = [
        DECL,
        "<Response>",
        r#"<Say voice="Polly.Amy">Sorry, nobody could take your call. Please continue to hold.</Say>"#,
        "<Dial>",
        r#"<Conference beep="false" waitUrl="https://callpark.example.com/twilio/hold-music?org=acme&amp;slot=3" waitMethod="POST" startConferenceOnEnter="true" endConferenceOnExit="true" statusCallback="https://callpark.example.com/twilio/conference-status" statusCallbackEvent="start end join leave" statusCallbackMethod="POST">park-0123456789abcdef0123456789abcdef</Conference>"#,
        "</Dial></Response>",
    ]
    .concat();
    assert_eq!(
        return_to_lot(
            announcement,
            spoken(Some("Polly.Amy")),
            CONFERENCE,
            HOLD,
            CONF_STATUS
        ),
        expected
    );
}

#[test]
fn voicemail_records_then_says_goodbye_and_hangs_up() {
    assert_eq!(
        voicemail(
            "Nobody is available. Please leave a message after the beep.",
            Speech {
                voice: Some("Polly.Amy"),
                language: Some("en-GB"),
            },
            "https://callpark.example.com/twilio/voicemail/7f9c/done",
            "https://callpark.example.com/twilio/voicemail/7f9c/recording",
            120,
        ),
        [
            DECL,
            "<Response>",
            r#"<Say voice="Polly.Amy" language="en-GB">Nobody is available. Please leave a message after the beep.</Say>"#,
            r#"<Record action="https://callpark.example.com/twilio/voicemail/7f9c/done" method="POST" maxLength="120" playBeep="true" recordingStatusCallback="https://callpark.example.com/twilio/voicemail/7f9c/recording" recordingStatusCallbackMethod="POST"/>"#,
            r#"<Say voice="Polly.Amy" language="en-GB">Thank you. Goodbye.</Say>"#,
            "<Hangup/>",
            "</Response>",
        ]
        .concat()
    );
}

#[test]
fn ring_agents_dials_every_agent_with_progress_callbacks() {
    assert_eq!(
        ring_agents(
            &["alice", "bob"],
            "https://h/agent-leg",
            25,
            "https://h/inbound-ended",
            Some("+14155550100")
        ),
        [
            DECL,
            "<Response>",
            r#"<Dial timeout="25" callerId="+14155550100" action="https://h/inbound-ended" method="POST">"#,
            r#"<Client statusCallback="https://h/agent-leg" statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="POST"><Identity>alice</Identity></Client>"#,
            r#"<Client statusCallback="https://h/agent-leg" statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="POST"><Identity>bob</Identity></Client>"#,
            "</Dial></Response>",
        ]
        .concat()
    );
}

#[test]
fn say_and_hangup_and_hangup() {
    assert_eq!(
        say_and_hangup("Sorry, nobody is available.", spoken(Some("alice"))),
        [
            DECL,
            r#"<Response><Say voice="alice">Sorry, nobody is available.</Say><Hangup/></Response>"#
        ]
        .concat()
    );
    assert_eq!(hangup(), [DECL, "<Response><Hangup/></Response>"].concat());
}

#[test]
fn redirect_carries_on_at_a_url_with_a_post() {
    assert_eq!(
        redirect("https://park.example.com/twilio/retrieve/x?a=1&b=2"),
        [
            DECL,
            r#"<Response><Redirect method="POST">https://park.example.com/twilio/retrieve/x?a=1&amp;b=2</Redirect></Response>"#
        ]
        .concat()
    );
}

// ---------------------------------------------------------------------------------------------
// Parsing the output back

/// One element as a parser sees it: depth, name, attributes in order, text content.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    depth: usize,
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
}

fn node(depth: usize, name: &str, attrs: &[(&str, &str)], text: &str) -> Node {
    Node {
        depth,
        name: name.to_owned(),
        attrs: attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), xml_safe(v)))
            .collect(),
        text: xml_safe(text),
    }
}

/// Parses a document as a conforming XML 1.0 parser would (attribute-value normalisation,
/// end-of-line handling, entity and character references), and refuses anything but
/// elements and text: a comment, processing instruction or DOCTYPE would be injected markup.
fn parse(xml: &str) -> Vec<Node> {
    assert_eq!(xml_safe(xml), xml, "characters XML 1.0 cannot carry");
    assert!(xml.starts_with(DECL));
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut nodes: Vec<Node> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let element = |e: &quick_xml::events::BytesStart<'_>, depth: usize| Node {
        depth,
        name: e.name().as_ref().to_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap_or_else(|err| panic!("{err} in {xml}"));
                (
                    a.key.as_ref().to_owned(),
                    a.normalized_value(XmlVersion::Explicit1_0)
                        .unwrap_or_else(|err| panic!("{err} in {xml}"))
                        .into_owned(),
                )
            })
            .collect(),
        text: String::new(),
    };
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|err| panic!("{err} in {xml}"))
        {
            Event::Decl(_) => assert!(nodes.is_empty()),
            Event::Start(e) => {
                nodes.push(element(&e, open.len()));
                open.push(nodes.len() - 1);
            }
            Event::Empty(e) => nodes.push(element(&e, open.len())),
            Event::End(_) => {
                open.pop().expect("an end tag without a start");
            }
            Event::Text(t) => {
                let &current = open
                    .last()
                    .unwrap_or_else(|| panic!("text outside the root: {xml}"));
                nodes[current].text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                let &current = open
                    .last()
                    .unwrap_or_else(|| panic!("text outside the root: {xml}"));
                match r
                    .resolve_char_ref()
                    .unwrap_or_else(|err| panic!("{err} in {xml}"))
                {
                    Some(c) => nodes[current].text.push(c),
                    None => nodes[current].text.push_str(
                        resolve_predefined_entity(&r)
                            .unwrap_or_else(|| panic!("unknown entity {:?} in {xml}", &*r)),
                    ),
                }
            }
            Event::Eof => break,
            other => panic!("unexpected {other:?} in {xml}"),
        }
    }
    assert!(open.is_empty(), "unclosed elements in {xml}");
    nodes
}

/// Strings with everything that could break XML: markup, entities, CDATA ends, line breaks,
/// controls, non-characters, and any other Unicode.
fn nasty() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => any::<char>().prop_map(String::from),
        2 => prop::sample::select(vec![
            '<', '>', '&', '"', '\'', ']', ';', '#', '\r', '\n', '\t', ' ', '\u{0}', '\u{8}',
            '\u{b}', '\u{1b}', '\u{7f}', '\u{85}', '\u{2028}', '\u{fffd}', '\u{fffe}',
            '\u{ffff}', '\u{10ffff}',
        ])
        .prop_map(String::from),
        1 => prop::sample::select(vec![
            "]]>", "<![CDATA[", "</Say>", "<Hangup/>", "&amp;", "&#0;", "&#x1F600;", "\r\n",
            "\"/><Hangup/><Say a=\"", "<!--", "-->", "<?xml", "?>", "<!DOCTYPE x>",
        ])
        .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

fn say_node(depth: usize, text: &str, voice: Option<&str>) -> Option<Node> {
    has_words(text).then(|| match voice {
        Some(v) => node(depth, "Say", &[("voice", v)], text),
        None => node(depth, "Say", &[], text),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_text_and_attribute_of_every_verb_round_trips(s in prop::collection::vec(nasty(), 21)) {
        let params = [(s[19].as_str(), s[20].as_str())];
        let xml = Response::new()
            .verb(Say::new(&s[0]).voice(&s[1]).language(&s[2]))
            .verb(Play::new(&s[3]).loops(3))
            .verb(Pause::new().length(2))
            .verb(Redirect::new(&s[4]).method(Method::Post))
            .verb(
                Record::new()
                    .action(&s[5])
                    .method(Method::Post)
                    .max_length(30)
                    .play_beep(true)
                    .recording_status_callback(&s[6])
                    .recording_status_callback_method(Method::Get),
            )
            .verb(
                Dial::new()
                    .timeout(10)
                    .caller_id(&s[7])
                    .action(&s[8])
                    .method(Method::Get)
                    .noun(
                        Conference::new(&s[9])
                            .beep(Beep::OnExit)
                            .wait_url(&s[10])
                            .wait_method(Method::Post)
                            .start_conference_on_enter(true)
                            .end_conference_on_exit(false)
                            .status_callback(&s[11])
                            .status_callback_event(&[ConferenceEvent::Start, ConferenceEvent::Leave])
                            .status_callback_method(Method::Post),
                    )
                    .noun(
                        Client::new(&s[12])
                            .parameters(&params)
                            .status_callback(&s[13])
                            .status_callback_event(&[CallProgressEvent::Answered])
                            .status_callback_method(Method::Post),
                    ),
            )
            .verb(Hangup)
            .render();

        let expected = vec![
            node(0, "Response", &[], ""),
            node(1, "Say", &[("voice", &s[1]), ("language", &s[2])], &s[0]),
            node(1, "Play", &[("loop", "3")], &s[3]),
            node(1, "Pause", &[("length", "2")], ""),
            node(1, "Redirect", &[("method", "POST")], &s[4]),
            node(1, "Record", &[
                ("action", &s[5]),
                ("method", "POST"),
                ("maxLength", "30"),
                ("playBeep", "true"),
                ("recordingStatusCallback", &s[6]),
                ("recordingStatusCallbackMethod", "GET"),
            ], ""),
            node(1, "Dial", &[
                ("timeout", "10"),
                ("callerId", &s[7]),
                ("action", &s[8]),
                ("method", "GET"),
            ], ""),
            node(2, "Conference", &[
                ("beep", "onExit"),
                ("waitUrl", &s[10]),
                ("waitMethod", "POST"),
                ("startConferenceOnEnter", "true"),
                ("endConferenceOnExit", "false"),
                ("statusCallback", &s[11]),
                ("statusCallbackEvent", "start leave"),
                ("statusCallbackMethod", "POST"),
            ], &s[9]),
            node(2, "Client", &[
                ("statusCallback", &s[13]),
                ("statusCallbackEvent", "answered"),
                ("statusCallbackMethod", "POST"),
            ], ""),
            node(3, "Identity", &[], &s[12]),
            node(3, "Parameter", &[("name", &s[19]), ("value", &s[20])], ""),
            node(1, "Hangup", &[], ""),
        ];
        prop_assert_eq!(parse(&xml), expected);
    }

    #[test]
    fn park_and_return_to_lot_round_trip(s in prop::collection::vec(nasty(), 5), voiced: bool) {
        let voice = voiced.then_some(s[1].as_str());
        for xml in [
            park(&s[0], spoken(voice), &s[2], &s[3], &s[4]),
            return_to_lot(&s[0], spoken(voice), &s[2], &s[3], &s[4]),
        ] {
            let mut expected = vec![node(0, "Response", &[], "")];
            expected.extend(say_node(1, &s[0], voice));
            expected.push(node(1, "Dial", &[], ""));
            expected.push(node(2, "Conference", &[
                ("beep", "false"),
                ("waitUrl", &s[3]),
                ("waitMethod", "POST"),
                ("startConferenceOnEnter", "true"),
                ("endConferenceOnExit", "true"),
                ("statusCallback", &s[4]),
                ("statusCallbackEvent", "start end join leave"),
                ("statusCallbackMethod", "POST"),
            ], &s[2]));
            prop_assert_eq!(parse(&xml), expected);
        }
    }

    #[test]
    fn hold_music_round_trips(url in nasty()) {
        prop_assert_eq!(
            parse(&hold_music(&url)),
            vec![node(0, "Response", &[], ""), node(1, "Play", &[("loop", "0")], &url)]
        );
    }

    #[test]
    fn retrieve_round_trips(
        s in prop::collection::vec(nasty(), 10),
        voiced: bool,
        with_caller_id: bool,
        timeout in any::<u32>(),
    ) {
        let voice = voiced.then_some(s[1].as_str());
        let caller_id = with_caller_id.then_some(s[3].as_str());
        let params = [(s[4].as_str(), s[5].as_str()), (s[6].as_str(), s[7].as_str())];
        let xml = retrieve(&s[0], spoken(voice), &s[2], caller_id, &params, timeout, &s[8], &s[9]);

        let timeout = timeout.to_string();
        let mut expected = vec![node(0, "Response", &[], "")];
        expected.extend(say_node(1, &s[0], voice));
        let mut dial = vec![("timeout", timeout.as_str())];
        dial.extend(caller_id.map(|c| ("callerId", c)));
        dial.extend([("action", s[9].as_str()), ("method", "POST")]);
        expected.push(node(1, "Dial", &dial, ""));
        expected.push(node(2, "Client", &[
            ("statusCallback", &s[8]),
            ("statusCallbackEvent", "answered"),
            ("statusCallbackMethod", "POST"),
        ], ""));
        expected.push(node(3, "Identity", &[], &s[2]));
        expected.push(node(3, "Parameter", &[("name", &s[4]), ("value", &s[5])], ""));
        expected.push(node(3, "Parameter", &[("name", &s[6]), ("value", &s[7])], ""));
        prop_assert_eq!(parse(&xml), expected);
    }

    #[test]
    fn voicemail_round_trips(s in prop::collection::vec(nasty(), 4), max_length in any::<u32>()) {
        let xml = voicemail(&s[0], spoken(Some(&s[1])), &s[2], &s[3], max_length);

        let max_length = max_length.to_string();
        let mut expected = vec![node(0, "Response", &[], "")];
        expected.extend(say_node(1, &s[0], Some(&s[1])));
        expected.push(node(1, "Record", &[
            ("action", &s[2]),
            ("method", "POST"),
            ("maxLength", &max_length),
            ("playBeep", "true"),
            ("recordingStatusCallback", &s[3]),
            ("recordingStatusCallbackMethod", "POST"),
        ], ""));
        expected.extend(say_node(1, VOICEMAIL_GOODBYE, Some(&s[1])));
        expected.push(node(1, "Hangup", &[], ""));
        prop_assert_eq!(parse(&xml), expected);
    }

    #[test]
    fn ring_agents_and_say_and_hangup_round_trip(
        agents in prop::collection::vec(nasty(), 0..4),
        s in prop::collection::vec(nasty(), 5),
    ) {
        let identities: Vec<&str> = agents.iter().map(String::as_str).collect();
        let xml = ring_agents(&identities, &s[0], 30, &s[1], Some(&s[2]));

        let mut expected = vec![
            node(0, "Response", &[], ""),
            node(1, "Dial", &[
                ("timeout", "30"),
                ("callerId", &s[2]),
                ("action", &s[1]),
                ("method", "POST"),
            ], ""),
        ];
        for agent in &agents {
            expected.push(node(2, "Client", &[
                ("statusCallback", &s[0]),
                ("statusCallbackEvent", "initiated ringing answered completed"),
                ("statusCallbackMethod", "POST"),
            ], ""));
            expected.push(node(3, "Identity", &[], agent));
        }
        prop_assert_eq!(parse(&xml), expected);

        let mut expected = vec![node(0, "Response", &[], "")];
        expected.extend(say_node(1, &s[3], Some(&s[4])));
        expected.push(node(1, "Hangup", &[], ""));
        prop_assert_eq!(parse(&say_and_hangup(&s[3], spoken(Some(&s[4])))), expected);
    }
}

#[test]
fn the_parser_in_these_tests_does_catch_injection() {
    // Guards the guard: a document with a smuggled verb parses to a different tree.
    let injected = format!("{DECL}<Response><Say>hi</Say><Hangup/></Response>");
    assert_ne!(
        parse(&injected),
        vec![
            node(0, "Response", &[], ""),
            node(1, "Say", &[], "hi</Say><Hangup/>")
        ]
    );
    let result =
        std::panic::catch_unwind(|| parse(&format!("{DECL}<Response><!--x--></Response>")));
    assert!(result.is_err());
}
