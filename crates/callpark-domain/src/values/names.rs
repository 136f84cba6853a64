//! Names: agents' identities, organisations' slugs, texts shown to agents.

use std::fmt;

use super::InvalidValue;

/// An agent's identity inside its organisation; also its Twilio Client identity, so it follows
/// the mobile SDKs' rule: letters, digits and underscore, 1..=64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentIdentity(String);

impl AgentIdentity {
    /// # Errors
    /// [`InvalidValue`] when empty, longer than 64, or with a character other than
    /// ASCII letters, digits and `_`.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() || s.len() > 64 {
            return Err(InvalidValue::new(
                "agent identity",
                "must be 1 to 64 characters",
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(InvalidValue::new(
                "agent identity",
                "may contain only letters, digits and underscore",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The identity as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An agent's Twilio Client identity. Client identities are account-wide and every
/// organisation shares one Twilio account, so it is the organisation and the agent together,
/// `<org>.<agent>`: two organisations that each have an `alice` never share a Client. The `.`
/// appears in neither part, so the identity reads back unambiguously, and it stays within what
/// Twilio allows (at most 256 characters, none of them control, space, delimiter or "unwise"
/// ones: <https://www.twilio.com/docs/api/errors/31105>).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientIdentity {
    org: OrgSlug,
    agent: AgentIdentity,
}

impl ClientIdentity {
    /// The Client identity of `agent` of `org`.
    pub fn of(org: &OrgSlug, agent: &AgentIdentity) -> Self {
        Self {
            org: org.clone(),
            agent: agent.clone(),
        }
    }

    /// Reads a Client identity back, as Twilio reports it (`To=client:<identity>`).
    ///
    /// # Errors
    /// [`InvalidValue`] when it is not `<org>.<agent>` with both parts valid.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let (org, agent) = s.split_once('.').ok_or_else(|| {
            InvalidValue::new("client identity", "must be <organisation>.<agent>")
        })?;
        Ok(Self {
            org: OrgSlug::parse(org)?,
            agent: AgentIdentity::parse(agent)?,
        })
    }

    /// The organisation whose agent this is.
    pub fn org(&self) -> &OrgSlug {
        &self.org
    }

    /// The agent's name inside its organisation.
    pub fn agent(&self) -> &AgentIdentity {
        &self.agent
    }
}

impl fmt::Display for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.org, self.agent)
    }
}

/// An organisation's short name: lowercase letters, digits and `-`, 1..=63 characters,
/// starting with a letter or digit (it appears in URLs and logs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgSlug(String);

impl OrgSlug {
    /// # Errors
    /// [`InvalidValue`] when the input breaks the rule above.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() || s.len() > 63 {
            return Err(InvalidValue::new(
                "organisation slug",
                "must be 1 to 63 characters",
            ));
        }
        if s.starts_with('-')
            || !s
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(InvalidValue::new(
                "organisation slug",
                "may contain only lowercase letters, digits and '-', and may not start with '-'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short human-readable text shown to agents: a caller's display name, an agent's or an
/// organisation's name. Trimmed, 1..=`max` characters, no control characters.
fn display_text(s: &str, kind: &'static str, max: usize) -> Result<String, InvalidValue> {
    let t = s.trim();
    if t.is_empty() {
        return Err(InvalidValue::new(kind, "must not be blank"));
    }
    if t.chars().count() > max {
        return Err(InvalidValue::new(kind, "is too long"));
    }
    if t.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            kind,
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Trims the input; it must then hold 1 to ", stringify!($max), " characters and no control character.")]
            ///
            /// # Errors
            /// [`InvalidValue`] otherwise.
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                display_text(s, $kind, $max).map(Self)
            }

            /// The trimmed text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// The caller's name as the network gave it (CNAM) or as an agent typed it.
    CallerName,
    "caller name",
    64
);
text_type!(
    /// A person's or an organisation's name shown in the UI.
    DisplayName,
    "display name",
    100
);
text_type!(
    /// What the parked caller hears before the hold music.
    Announcement,
    "announcement",
    500
);
text_type!(
    /// A text-to-speech voice name as Twilio's `<Say voice>` takes it, e.g. `Polly.Amy`.
    Voice,
    "voice",
    64
);

/// The language of what callers hear, as Twilio's `<Say language>` takes it: a language tag
/// such as `en-GB`, `fr-CA` or `cmn-CN` (TwiML `<Say>`, attribute `language`). A primary
/// subtag of 2 or 3 letters, then subtags of 2 to 8 letters or digits, `-`-separated, at most
/// 35 characters in all. Which tags a voice speaks is Twilio's to decide; callpark checks only
/// the shape, so a typing error is caught here rather than in a caller's ear.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Language(String);

impl Language {
    /// # Errors
    /// [`InvalidValue`] when the input is not shaped as above.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let mut subtags = s.split('-');
        let primary = subtags.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = subtags
            .all(|t| (2..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()));
        if s.len() > 35 || !primary_ok || !rest_ok {
            return Err(InvalidValue::new(
                "language",
                "must be a language tag such as en-US, en-GB or fr-FR",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The tag as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
