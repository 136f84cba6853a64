//! `<Dial>` and the nouns it connects to: a `<Conference>` or agents' `<Client>`s.

use super::render::{
    attr, attr_bool_opt, attr_events, attr_method, attr_num_opt, attr_opt, attr_raw, len,
};
use super::{Beep, CallProgressEvent, ConferenceEvent, Method, escape};

/// `<Dial>`: connects the call to its nouns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Dial<'a> {
    pub(super) timeout: Option<u32>,
    pub(super) caller_id: Option<&'a str>,
    pub(super) action: Option<&'a str>,
    pub(super) method: Option<Method>,
    pub(super) nouns: Vec<DialNoun<'a>>,
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

    pub(super) fn write_to(&self, out: &mut String) {
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

    pub(super) fn size_hint(&self) -> usize {
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
    pub(super) name: &'a str,
    pub(super) beep: Option<Beep>,
    pub(super) wait_url: Option<&'a str>,
    pub(super) wait_method: Option<Method>,
    pub(super) start_conference_on_enter: Option<bool>,
    pub(super) end_conference_on_exit: Option<bool>,
    pub(super) status_callback: Option<&'a str>,
    pub(super) status_callback_event: &'a [ConferenceEvent],
    pub(super) status_callback_method: Option<Method>,
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

    pub(super) fn write_to(&self, out: &mut String) {
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
    pub(super) identity: &'a str,
    pub(super) parameters: &'a [(&'a str, &'a str)],
    pub(super) status_callback: Option<&'a str>,
    pub(super) status_callback_event: &'a [CallProgressEvent],
    pub(super) status_callback_method: Option<Method>,
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

    pub(super) fn write_to(&self, out: &mut String) {
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
