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

pub mod documents;
mod escape;

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

fn len(s: Option<&str>) -> usize {
    s.map_or(0, str::len)
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

/// `<Say>`: reads text aloud.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Say<'a> {
    text: &'a str,
    voice: Option<&'a str>,
    language: Option<&'a str>,
}

impl<'a> Say<'a> {
    /// Says `text` in Twilio's default voice.
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            voice: None,
            language: None,
        }
    }

    /// The voice, e.g. `Polly.Amy`.
    pub fn voice(mut self, voice: &'a str) -> Self {
        self.voice = Some(voice);
        self
    }

    /// The voice, if any.
    pub fn voice_opt(mut self, voice: Option<&'a str>) -> Self {
        self.voice = voice;
        self
    }

    /// The language, e.g. `en-GB`.
    pub fn language(mut self, language: &'a str) -> Self {
        self.language = Some(language);
        self
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("<Say");
        attr_opt(out, "voice", self.voice);
        attr_opt(out, "language", self.language);
        out.push('>');
        escape::text(out, self.text);
        out.push_str("</Say>");
    }
}

/// `<Play>`: plays an audio file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Play<'a> {
    url: &'a str,
    loops: Option<u32>,
}

impl<'a> Play<'a> {
    /// Plays the audio at `url` once.
    pub fn new(url: &'a str) -> Self {
        Self { url, loops: None }
    }

    /// How often to play it (`loop`); 0 repeats it as long as Twilio allows (1000 times).
    pub fn loops(mut self, loops: u32) -> Self {
        self.loops = Some(loops);
        self
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("<Play");
        attr_num_opt(out, "loop", self.loops);
        out.push('>');
        escape::text(out, self.url);
        out.push_str("</Play>");
    }
}

/// `<Pause>`: silence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Pause {
    length: Option<u32>,
}

impl Pause {
    /// Pauses for Twilio's default of one second.
    pub fn new() -> Self {
        Self { length: None }
    }

    /// Pauses for `seconds`.
    pub fn length(mut self, seconds: u32) -> Self {
        self.length = Some(seconds);
        self
    }

    fn write_to(self, out: &mut String) {
        out.push_str("<Pause");
        attr_num_opt(out, "length", self.length);
        out.push_str("/>");
    }
}

/// `<Redirect>`: continues with the TwiML at another URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Redirect<'a> {
    url: &'a str,
    method: Option<Method>,
}

impl<'a> Redirect<'a> {
    /// Continues with the TwiML at `url`.
    pub fn new(url: &'a str) -> Self {
        Self { url, method: None }
    }

    /// How Twilio requests `url` (default `POST`).
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("<Redirect");
        attr_method(out, "method", self.method);
        out.push('>');
        escape::text(out, self.url);
        out.push_str("</Redirect>");
    }
}

/// `<Hangup>`: ends the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hangup;

impl Hangup {
    fn write_to(self, out: &mut String) {
        out.push_str("<Hangup/>");
    }
}

/// `<Record>`: records the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Record<'a> {
    action: Option<&'a str>,
    method: Option<Method>,
    max_length: Option<u32>,
    play_beep: Option<bool>,
    recording_status_callback: Option<&'a str>,
    recording_status_callback_method: Option<Method>,
}

impl<'a> Record<'a> {
    /// Records with Twilio's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where Twilio goes when the recording ends (`action`).
    pub fn action(mut self, url: &'a str) -> Self {
        self.action = Some(url);
        self
    }

    /// How Twilio requests `action`.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// The longest recording, in seconds (`maxLength`).
    pub fn max_length(mut self, seconds: u32) -> Self {
        self.max_length = Some(seconds);
        self
    }

    /// Whether a beep marks the start (`playBeep`).
    pub fn play_beep(mut self, beep: bool) -> Self {
        self.play_beep = Some(beep);
        self
    }

    /// Where Twilio reports that the recording is ready (`recordingStatusCallback`).
    pub fn recording_status_callback(mut self, url: &'a str) -> Self {
        self.recording_status_callback = Some(url);
        self
    }

    /// How Twilio requests `recordingStatusCallback`.
    pub fn recording_status_callback_method(mut self, method: Method) -> Self {
        self.recording_status_callback_method = Some(method);
        self
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("<Record");
        attr_opt(out, "action", self.action);
        attr_method(out, "method", self.method);
        attr_num_opt(out, "maxLength", self.max_length);
        attr_bool_opt(out, "playBeep", self.play_beep);
        attr_opt(
            out,
            "recordingStatusCallback",
            self.recording_status_callback,
        );
        attr_method(
            out,
            "recordingStatusCallbackMethod",
            self.recording_status_callback_method,
        );
        out.push_str("/>");
    }
}

/// `<Dial>`: connects the call to its nouns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Dial<'a> {
    timeout: Option<u32>,
    caller_id: Option<&'a str>,
    action: Option<&'a str>,
    method: Option<Method>,
    nouns: Vec<DialNoun<'a>>,
}

impl<'a> Dial<'a> {
    /// A dial with no noun yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long to ring, in seconds.
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// The caller ID the dialled party sees (`callerId`).
    pub fn caller_id(mut self, caller_id: &'a str) -> Self {
        self.caller_id = Some(caller_id);
        self
    }

    /// The caller ID, if any.
    pub fn caller_id_opt(mut self, caller_id: Option<&'a str>) -> Self {
        self.caller_id = caller_id;
        self
    }

    /// Where Twilio goes when the dial ends (`action`).
    pub fn action(mut self, url: &'a str) -> Self {
        self.action = Some(url);
        self
    }

    /// How Twilio requests `action`.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Adds a noun (a conference or a client).
    pub fn noun(mut self, noun: impl Into<DialNoun<'a>>) -> Self {
        self.nouns.push(noun.into());
        self
    }

    /// Adds a noun in place.
    pub fn push(&mut self, noun: impl Into<DialNoun<'a>>) -> &mut Self {
        self.nouns.push(noun.into());
        self
    }

    /// Makes room for `nouns` more nouns.
    pub fn reserve(mut self, nouns: usize) -> Self {
        self.nouns.reserve(nouns);
        self
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("<Dial");
        attr_num_opt(out, "timeout", self.timeout);
        attr_opt(out, "callerId", self.caller_id);
        attr_opt(out, "action", self.action);
        attr_method(out, "method", self.method);
        out.push('>');
        for noun in &self.nouns {
            match noun {
                DialNoun::Conference(c) => c.write_to(out),
                DialNoun::Client(c) => c.write_to(out),
            }
        }
        out.push_str("</Dial>");
    }

    fn size_hint(&self) -> usize {
        let nouns: usize = self
            .nouns
            .iter()
            .map(|noun| match noun {
                DialNoun::Conference(c) => {
                    300 + c.name.len() + len(c.wait_url) + len(c.status_callback)
                }
                DialNoun::Client(c) => {
                    140 + c.identity.len()
                        + len(c.status_callback)
                        + c.parameters
                            .iter()
                            .map(|(n, v)| 30 + n.len() + v.len())
                            .sum::<usize>()
                }
            })
            .sum();
        80 + len(self.caller_id) + len(self.action) + nouns
    }
}

/// What a `<Dial>` connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialNoun<'a> {
    /// `<Conference>`
    Conference(Conference<'a>),
    /// `<Client>`
    Client(Client<'a>),
}

impl<'a> From<Conference<'a>> for DialNoun<'a> {
    fn from(c: Conference<'a>) -> Self {
        Self::Conference(c)
    }
}

impl<'a> From<Client<'a>> for DialNoun<'a> {
    fn from(c: Client<'a>) -> Self {
        Self::Client(c)
    }
}

/// `<Conference>`: a named room.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Conference<'a> {
    name: &'a str,
    beep: Option<Beep>,
    wait_url: Option<&'a str>,
    wait_method: Option<Method>,
    start_conference_on_enter: Option<bool>,
    end_conference_on_exit: Option<bool>,
    status_callback: Option<&'a str>,
    status_callback_event: &'a [ConferenceEvent],
    status_callback_method: Option<Method>,
}

impl<'a> Conference<'a> {
    /// The conference called `name` (Twilio forbids personal data in it).
    pub fn new(name: &'a str) -> Self {
        Self {
            name,
            beep: None,
            wait_url: None,
            wait_method: None,
            start_conference_on_enter: None,
            end_conference_on_exit: None,
            status_callback: None,
            status_callback_event: &[],
            status_callback_method: None,
        }
    }

    /// When it beeps.
    pub fn beep(mut self, beep: Beep) -> Self {
        self.beep = Some(beep);
        self
    }

    /// What a participant hears while waiting for the conference to start (`waitUrl`).
    pub fn wait_url(mut self, url: &'a str) -> Self {
        self.wait_url = Some(url);
        self
    }

    /// How Twilio requests `waitUrl`.
    pub fn wait_method(mut self, method: Method) -> Self {
        self.wait_method = Some(method);
        self
    }

    /// Whether this participant's entry starts the conference.
    pub fn start_conference_on_enter(mut self, start: bool) -> Self {
        self.start_conference_on_enter = Some(start);
        self
    }

    /// Whether this participant's exit ends the conference.
    pub fn end_conference_on_exit(mut self, end: bool) -> Self {
        self.end_conference_on_exit = Some(end);
        self
    }

    /// Where Twilio reports conference events (`statusCallback`).
    pub fn status_callback(mut self, url: &'a str) -> Self {
        self.status_callback = Some(url);
        self
    }

    /// Which events Twilio reports (`statusCallbackEvent`); none means Twilio's default.
    pub fn status_callback_event(mut self, events: &'a [ConferenceEvent]) -> Self {
        self.status_callback_event = events;
        self
    }

    /// How Twilio requests `statusCallback`.
    pub fn status_callback_method(mut self, method: Method) -> Self {
        self.status_callback_method = Some(method);
        self
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("<Conference");
        if let Some(beep) = self.beep {
            attr_raw(out, "beep", beep.as_str());
        }
        attr_opt(out, "waitUrl", self.wait_url);
        attr_method(out, "waitMethod", self.wait_method);
        attr_bool_opt(
            out,
            "startConferenceOnEnter",
            self.start_conference_on_enter,
        );
        attr_bool_opt(out, "endConferenceOnExit", self.end_conference_on_exit);
        attr_opt(out, "statusCallback", self.status_callback);
        attr_events(
            out,
            "statusCallbackEvent",
            self.status_callback_event.iter().map(|e| e.as_str()),
        );
        attr_method(out, "statusCallbackMethod", self.status_callback_method);
        out.push('>');
        escape::text(out, self.name);
        out.push_str("</Conference>");
    }
}

/// `<Client>`: a Voice SDK endpoint, by identity, with custom parameters for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Client<'a> {
    identity: &'a str,
    parameters: &'a [(&'a str, &'a str)],
    status_callback: Option<&'a str>,
    status_callback_event: &'a [CallProgressEvent],
    status_callback_method: Option<Method>,
}

impl<'a> Client<'a> {
    /// The client registered as `identity` (written as `<Identity>`).
    pub fn new(identity: &'a str) -> Self {
        Self {
            identity,
            parameters: &[],
            status_callback: None,
            status_callback_event: &[],
            status_callback_method: None,
        }
    }

    /// Custom parameters handed to the client with the call, as `<Parameter name value>`s
    /// in this order.
    pub fn parameters(mut self, parameters: &'a [(&'a str, &'a str)]) -> Self {
        self.parameters = parameters;
        self
    }

    /// Where Twilio reports the dialled leg's progress (`statusCallback`).
    pub fn status_callback(mut self, url: &'a str) -> Self {
        self.status_callback = Some(url);
        self
    }

    /// Which events Twilio reports (`statusCallbackEvent`); none means Twilio's default.
    pub fn status_callback_event(mut self, events: &'a [CallProgressEvent]) -> Self {
        self.status_callback_event = events;
        self
    }

    /// How Twilio requests `statusCallback`.
    pub fn status_callback_method(mut self, method: Method) -> Self {
        self.status_callback_method = Some(method);
        self
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("<Client");
        attr_opt(out, "statusCallback", self.status_callback);
        attr_events(
            out,
            "statusCallbackEvent",
            self.status_callback_event.iter().map(|e| e.as_str()),
        );
        attr_method(out, "statusCallbackMethod", self.status_callback_method);
        out.push_str("><Identity>");
        escape::text(out, self.identity);
        out.push_str("</Identity>");
        for (name, value) in self.parameters {
            out.push_str("<Parameter");
            attr(out, "name", name);
            attr(out, "value", value);
            out.push_str("/>");
        }
        out.push_str("</Client>");
    }
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape::attribute(out, value);
    out.push('"');
}

/// An attribute whose value is one of our own constants, which need no escaping.
fn attr_raw(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(value);
    out.push('"');
}

fn attr_opt(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        attr(out, name, value);
    }
}

fn attr_method(out: &mut String, name: &str, method: Option<Method>) {
    if let Some(method) = method {
        attr_raw(out, name, method.as_str());
    }
}

fn attr_bool_opt(out: &mut String, name: &str, value: Option<bool>) {
    if let Some(value) = value {
        attr_raw(out, name, if value { "true" } else { "false" });
    }
}

fn attr_num_opt(out: &mut String, name: &str, value: Option<u32>) {
    if let Some(value) = value {
        // Formatting through `fmt` would be fine too; this keeps rendering free of it.
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut n = value;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        for &d in &digits[at..] {
            out.push(char::from(d));
        }
        out.push('"');
    }
}

fn attr_events<'e>(out: &mut String, name: &str, events: impl Iterator<Item = &'e str>) {
    let mut events = events.peekable();
    if events.peek().is_none() {
        return;
    }
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for (i, event) in events.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(event);
    }
    out.push('"');
}

/// Drops the characters XML 1.0 cannot carry, as rendering does: what a parser reads back
/// from a rendered document is exactly this.
pub fn xml_safe(s: &str) -> String {
    s.chars().filter(|&c| escape::is_xml_char(c)).collect()
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
