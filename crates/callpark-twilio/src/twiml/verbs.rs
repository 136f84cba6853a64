//! The verbs that take no nouns: `<Say>`, `<Play>`, `<Pause>`, `<Redirect>`, `<Hangup>` and
//! `<Record>`.

use super::render::{attr_bool_opt, attr_method, attr_num_opt, attr_opt};
use super::{Method, escape};

/// `<Say>`: reads text aloud.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Say<'a> {
    pub(super) text: &'a str,
    pub(super) voice: Option<&'a str>,
    pub(super) language: Option<&'a str>,
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

    /// The language, if any.
    pub fn language_opt(mut self, language: Option<&'a str>) -> Self {
        self.language = language;
        self
    }

    pub(super) fn write_to(&self, out: &mut String) {
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
    pub(super) url: &'a str,
    pub(super) loops: Option<u32>,
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

    pub(super) fn write_to(&self, out: &mut String) {
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
    pub(super) length: Option<u32>,
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

    pub(super) fn write_to(self, out: &mut String) {
        out.push_str("<Pause");
        attr_num_opt(out, "length", self.length);
        out.push_str("/>");
    }
}

/// `<Redirect>`: continues with the TwiML at another URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Redirect<'a> {
    pub(super) url: &'a str,
    pub(super) method: Option<Method>,
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

    pub(super) fn write_to(&self, out: &mut String) {
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
    pub(super) fn write_to(self, out: &mut String) {
        out.push_str("<Hangup/>");
    }
}

/// `<Record>`: records the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Record<'a> {
    pub(super) action: Option<&'a str>,
    pub(super) method: Option<Method>,
    pub(super) max_length: Option<u32>,
    pub(super) play_beep: Option<bool>,
    pub(super) recording_status_callback: Option<&'a str>,
    pub(super) recording_status_callback_method: Option<Method>,
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

    pub(super) fn write_to(&self, out: &mut String) {
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
