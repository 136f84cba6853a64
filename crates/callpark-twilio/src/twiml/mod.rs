//! TwiML: the XML documents that tell Twilio what to do with a call.
//!
//! Documents are built from typed verbs and nouns that borrow their strings, then rendered into
//! one pre-sized `String`. Every text and attribute value is escaped, and characters XML 1.0
//! cannot carry are dropped, so whatever the input, the output is well-formed and holds exactly
//! the verbs that were built.
//!
//! ```
//! use callpark_twilio::twiml::{Dial, Method, Response, Say};
//!
//! let xml = Response::new()
//!     .verb(Say::new("Connecting you now").voice("Polly.Amy"))
//!     .verb(Dial::new().timeout(20).action("https://example.com/after-dial").method(Method::Post))
//!     .render();
//! assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="Polly.Amy">"#));
//! ```
//!
//! [`documents`] holds the ready-made documents callpark serves.

mod dial;
pub mod documents;
mod escape;
mod render;
mod verbs;

pub use dial::{Client, Conference, Dial, DialNoun};
use render::len;
pub use render::xml_safe;
pub use verbs::{Hangup, Pause, Play, Record, Redirect, Say};

/// The XML declaration every document starts with.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The HTTP method Twilio uses for a URL it requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// When a conference beeps (`<Conference beep>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Beep {
    /// On every entry and exit.
    True,
    /// Never.
    False,
    /// Only when someone enters.
    OnEnter,
    /// Only when someone leaves.
    OnExit,
}

impl Beep {
    fn as_str(self) -> &'static str {
        match self {
            Self::True => "true",
            Self::False => "false",
            Self::OnEnter => "onEnter",
            Self::OnExit => "onExit",
        }
    }
}

/// A conference event Twilio reports to `<Conference statusCallback>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConferenceEvent {
    /// `start`
    Start,
    /// `end`
    End,
    /// `join`
    Join,
    /// `leave`
    Leave,
    /// `mute`
    Mute,
    /// `hold`
    Hold,
    /// `modify`
    Modify,
    /// `speaker`
    Speaker,
    /// `announcement`
    Announcement,
}

impl ConferenceEvent {
    fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::End => "end",
            Self::Join => "join",
            Self::Leave => "leave",
            Self::Mute => "mute",
            Self::Hold => "hold",
            Self::Modify => "modify",
            Self::Speaker => "speaker",
            Self::Announcement => "announcement",
        }
    }
}

/// A call-progress event Twilio reports to a dialled `<Client statusCallback>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallProgressEvent {
    /// `initiated`
    Initiated,
    /// `ringing`
    Ringing,
    /// `answered`
    Answered,
    /// `completed`
    Completed,
}

impl CallProgressEvent {
    fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::Answered => "answered",
            Self::Completed => "completed",
        }
    }
}

/// A whole TwiML document: `<Response>` and its verbs, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response<'a> {
    verbs: Vec<Verb<'a>>,
}

impl<'a> Response<'a> {
    /// An empty `<Response/>`: Twilio hangs up.
    pub fn new() -> Self {
        Self { verbs: Vec::new() }
    }

    /// An empty response with room for `verbs` verbs.
    pub fn with_capacity(verbs: usize) -> Self {
        Self {
            verbs: Vec::with_capacity(verbs),
        }
    }

    /// Appends a verb.
    #[must_use]
    pub fn verb(mut self, verb: impl Into<Verb<'a>>) -> Self {
        self.verbs.push(verb.into());
        self
    }

    /// Appends a verb in place.
    pub fn push(&mut self, verb: impl Into<Verb<'a>>) -> &mut Self {
        self.verbs.push(verb.into());
        self
    }

    /// The document as a string, starting with the XML declaration.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.size_hint());
        self.write_to(&mut out);
        out
    }

    /// Appends the document to `out`.
    pub fn write_to(&self, out: &mut String) {
        out.push_str(XML_DECLARATION);
        if self.verbs.is_empty() {
            out.push_str("<Response/>");
            return;
        }
        out.push_str("<Response>");
        for verb in &self.verbs {
            verb.write_to(out);
        }
        out.push_str("</Response>");
    }

    /// About how long the rendered document is: the raw strings plus a generous allowance
    /// for markup, so that rendering rarely has to grow the buffer.
    fn size_hint(&self) -> usize {
        XML_DECLARATION.len() + 21 + self.verbs.iter().map(Verb::size_hint).sum::<usize>()
    }
}

/// A TwiML verb: one step of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb<'a> {
    /// `<Say>`
    Say(Say<'a>),
    /// `<Play>`
    Play(Play<'a>),
    /// `<Pause>`
    Pause(Pause),
    /// `<Redirect>`
    Redirect(Redirect<'a>),
    /// `<Hangup>`
    Hangup(Hangup),
    /// `<Record>`
    Record(Record<'a>),
    /// `<Dial>`
    Dial(Dial<'a>),
}

impl Verb<'_> {
    fn write_to(&self, out: &mut String) {
        match self {
            Self::Say(v) => v.write_to(out),
            Self::Play(v) => v.write_to(out),
            Self::Pause(v) => v.write_to(out),
            Self::Redirect(v) => v.write_to(out),
            Self::Hangup(v) => v.write_to(out),
            Self::Record(v) => v.write_to(out),
            Self::Dial(v) => v.write_to(out),
        }
    }

    fn size_hint(&self) -> usize {
        match self {
            Self::Say(v) => 48 + len(Some(v.text)) + len(v.voice) + len(v.language),
            Self::Play(v) => 32 + v.url.len(),
            Self::Pause(_) | Self::Hangup(_) => 24,
            Self::Redirect(v) => 40 + v.url.len(),
            Self::Record(v) => 160 + len(v.action) + len(v.recording_status_callback),
            Self::Dial(v) => v.size_hint(),
        }
    }
}

macro_rules! into_verb {
    ($($name:ident),*) => {$(
        impl<'a> From<$name<'a>> for Verb<'a> {
            fn from(v: $name<'a>) -> Self {
                Self::$name(v)
            }
        }
    )*};
}
into_verb!(Say, Play, Redirect, Record, Dial);

impl From<Pause> for Verb<'_> {
    fn from(v: Pause) -> Self {
        Self::Pause(v)
    }
}

impl From<Hangup> for Verb<'_> {
    fn from(v: Hangup) -> Self {
        Self::Hangup(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_response_hangs_up() {
        assert_eq!(
            Response::new().render(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
        );
    }

    #[test]
    fn numbers_render_in_decimal() {
        for n in [0, 7, 10, 1000, u32::MAX] {
            let xml = Response::new().verb(Pause::new().length(n)).render();
            assert!(xml.contains(&format!(r#"<Pause length="{n}"/>"#)), "{xml}");
        }
    }

    #[test]
    fn every_verb_renders_its_attributes_in_order() {
        let params = [("a", "1")];
        let xml = Response::new()
            .verb(Say::new("hi").voice("alice").language("en-GB"))
            .verb(Play::new("https://x/m.mp3").loops(0))
            .verb(Pause::new())
            .verb(Redirect::new("https://x/r").method(Method::Get))
            .verb(
                Record::new()
                    .action("https://x/a")
                    .method(Method::Post)
                    .max_length(60)
                    .play_beep(false)
                    .recording_status_callback("https://x/s")
                    .recording_status_callback_method(Method::Get),
            )
            .verb(
                Dial::new()
                    .timeout(5)
                    .caller_id("+15550001111")
                    .action("https://x/d")
                    .method(Method::Get)
                    .noun(
                        Conference::new("room")
                            .beep(Beep::OnEnter)
                            .wait_url("https://x/w")
                            .wait_method(Method::Get)
                            .start_conference_on_enter(false)
                            .end_conference_on_exit(false)
                            .status_callback("https://x/c")
                            .status_callback_event(&[ConferenceEvent::Join, ConferenceEvent::Mute])
                            .status_callback_method(Method::Get),
                    )
                    .noun(
                        Client::new("bob")
                            .parameters(&params)
                            .status_callback("https://x/cs")
                            .status_callback_event(&[CallProgressEvent::Ringing])
                            .status_callback_method(Method::Get),
                    ),
            )
            .verb(Hangup)
            .render();
        assert_eq!(
            xml,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
                r#"<Say voice="alice" language="en-GB">hi</Say>"#,
                r#"<Play loop="0">https://x/m.mp3</Play>"#,
                r#"<Pause/>"#,
                r#"<Redirect method="GET">https://x/r</Redirect>"#,
                r#"<Record action="https://x/a" method="POST" maxLength="60" playBeep="false" recordingStatusCallback="https://x/s" recordingStatusCallbackMethod="GET"/>"#,
                r#"<Dial timeout="5" callerId="+15550001111" action="https://x/d" method="GET">"#,
                r#"<Conference beep="onEnter" waitUrl="https://x/w" waitMethod="GET" startConferenceOnEnter="false" endConferenceOnExit="false" statusCallback="https://x/c" statusCallbackEvent="join mute" statusCallbackMethod="GET">room</Conference>"#,
                r#"<Client statusCallback="https://x/cs" statusCallbackEvent="ringing" statusCallbackMethod="GET"><Identity>bob</Identity><Parameter name="a" value="1"/></Client>"#,
                r#"</Dial><Hangup/></Response>"#,
            )
        );
    }

    #[test]
    fn hostile_text_stays_inside_its_element() {
        let xml = Response::new()
            .verb(Say::new("</Say><Hangup/><Say>").voice("\"><Hangup/>"))
            .render();
        assert_eq!(
            xml,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
                r#"<Say voice="&quot;&gt;&lt;Hangup/&gt;">&lt;/Say&gt;&lt;Hangup/&gt;&lt;Say&gt;</Say>"#,
                r#"</Response>"#
            )
        );
    }

    #[test]
    fn rendering_the_usual_documents_needs_no_regrowth() {
        let doc = Response::new()
            .verb(Say::new("Please hold").voice("Polly.Amy"))
            .verb(
                Dial::new().noun(
                    Conference::new("park-0123456789abcdef0123456789abcdef")
                        .beep(Beep::False)
                        .wait_url("https://callpark.example.com/twilio/hold-music")
                        .wait_method(Method::Post)
                        .start_conference_on_enter(true)
                        .end_conference_on_exit(true)
                        .status_callback("https://callpark.example.com/twilio/conference-status")
                        .status_callback_event(&[
                            ConferenceEvent::Start,
                            ConferenceEvent::End,
                            ConferenceEvent::Join,
                            ConferenceEvent::Leave,
                        ])
                        .status_callback_method(Method::Post),
                ),
            );
        let hint = doc.size_hint();
        let xml = doc.render();
        assert!(xml.len() <= hint, "{} > {hint}", xml.len());
    }
}
