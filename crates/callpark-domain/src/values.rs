//! Validated value types. Every constructor checks its input, so a value that exists is valid;
//! fields are private so nothing can build an invalid one around the check.

use std::fmt;

use thiserror::Error;

/// Why a string was refused as a value type. The `kind` names the type, `reason` the rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {kind}: {reason}")]
pub struct InvalidValue {
    kind: &'static str,
    reason: &'static str,
}

impl InvalidValue {
    const fn new(kind: &'static str, reason: &'static str) -> Self {
        Self { kind, reason }
    }

    /// The value type that refused the input, e.g. `"call SID"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The rule the input broke.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34
        && s.starts_with(prefix)
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

macro_rules! sid_type {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses a SID: the prefix followed by 32 lowercase hex digits.
            ///
            /// # Errors
            /// [`InvalidValue`] when the input is not of that form.
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                if is_sid(s, $prefix) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidValue::new(
                        $kind,
                        concat!("expected \"", $prefix, "\" followed by 32 lowercase hex digits"),
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

sid_type!(
    /// A Twilio call SID (`CA` + 32 hex digits): one leg of a call.
    CallSid,
    "CA",
    "call SID"
);
sid_type!(
    /// A Twilio conference SID (`CF` + 32 hex digits).
    ConferenceSid,
    "CF",
    "conference SID"
);

/// The most slots one parking lot may have.
pub const MAX_SLOTS: u16 = 999;

/// A slot of a parking lot, 1..=999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotNumber(u16);

impl SlotNumber {
    /// # Errors
    /// [`InvalidValue`] outside 1..=999.
    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        match u16::try_from(n) {
            Ok(n) if (1..=MAX_SLOTS).contains(&n) => Ok(Self(n)),
            _ => Err(InvalidValue::new(
                "slot number",
                "must be between 1 and 999",
            )),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for SlotNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How many slots an organisation's lot has, 1..=999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LotSize(u16);

impl LotSize {
    /// # Errors
    /// [`InvalidValue`] outside 1..=999.
    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        match u16::try_from(n) {
            Ok(n) if (1..=MAX_SLOTS).contains(&n) => Ok(Self(n)),
            _ => Err(InvalidValue::new("lot size", "must be between 1 and 999")),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    pub fn contains(self, slot: SlotNumber) -> bool {
        slot.0 <= self.0
    }

    /// Every slot of the lot, in order.
    pub fn slots(self) -> impl Iterator<Item = SlotNumber> {
        (1..=self.0).map(SlotNumber)
    }
}

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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164: `+`, then 2 to 15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// # Errors
    /// [`InvalidValue`] when not in E.164 form.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let digits = s.strip_prefix('+').ok_or(InvalidValue::new(
            "phone number",
            "must start with '+' (E.164)",
        ))?;
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new(
                "phone number",
                "must be '+' and 2 to 15 digits, the first not zero (E.164)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
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

/// An absolute `http` or `https` URL: hold music, and every URL handed to Twilio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// # Errors
    /// [`InvalidValue`] unless the input starts with `http://` or `https://` followed by a host,
    /// and holds no whitespace or control characters.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or(InvalidValue::new(
                "URL",
                "must start with http:// or https://",
            ))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(InvalidValue::new("URL", "must name a host"));
        }
        if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new(
                "URL",
                "must be at most 2048 characters without whitespace",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identity of one parked call (one occupancy of one slot), assigned by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParkedCallId(uuid::Uuid);

impl ParkedCallId {
    /// A fresh random id, for stores that assign ids themselves.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    pub fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }

    /// # Errors
    /// [`InvalidValue`] when the input is not a UUID.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        uuid::Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| InvalidValue::new("parked call id", "must be a UUID"))
    }

    /// The Twilio conference the caller waits in. It carries no personal data (Twilio forbids
    /// it in conference names), only this id, so a conference callback leads back here.
    pub fn conference_name(&self) -> String {
        format!("park-{}", self.0.as_simple())
    }

    /// Reads the id back from a conference name made by [`Self::conference_name`].
    pub fn from_conference_name(name: &str) -> Option<Self> {
        let hex = name.strip_prefix("park-")?;
        if hex.len() != 32 {
            return None;
        }
        uuid::Uuid::try_parse(hex).ok().map(Self)
    }
}

impl fmt::Display for ParkedCallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A per-organisation event sequence number; strictly increasing, starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sequence(u64);

impl Sequence {
    /// Before the first event.
    pub const ZERO: Self = Self(0);

    pub fn new(n: u64) -> Self {
        Self(n)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    #[must_use]
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A digest of an agent's API token. Stores keep only this; the token itself is shown once.
/// Computing it is the front end's business (the domain does not hash).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID_HEX: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn sids_need_their_prefix_and_32_lowercase_hex_digits() {
        assert!(CallSid::parse(&format!("CA{SID_HEX}")).is_ok());
        assert!(ConferenceSid::parse(&format!("CF{SID_HEX}")).is_ok());
        for bad in [
            format!("CF{SID_HEX}"),
            format!("ca{SID_HEX}"),
            format!("CA{}", &SID_HEX[1..]),
            format!("CA{SID_HEX}0"),
            format!("CA{}", SID_HEX.to_uppercase()),
            "CA".to_owned(),
            String::new(),
            format!("CA{}g", &SID_HEX[1..]),
        ] {
            assert!(CallSid::parse(&bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(CallSid::parse("x").unwrap_err().kind(), "call SID");
    }

    #[test]
    fn slot_numbers_are_1_to_999() {
        assert!(SlotNumber::new(0).is_err());
        assert_eq!(SlotNumber::new(1).unwrap().get(), 1);
        assert_eq!(SlotNumber::new(999).unwrap().get(), 999);
        assert!(SlotNumber::new(1000).is_err());
        assert!(SlotNumber::new(65_537).is_err());
        let lot = LotSize::new(3).unwrap();
        assert!(lot.contains(SlotNumber::new(3).unwrap()));
        assert!(!lot.contains(SlotNumber::new(4).unwrap()));
        assert_eq!(
            lot.slots().map(SlotNumber::get).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn agent_identities_follow_the_mobile_sdk_rule() {
        assert!(AgentIdentity::parse("alice_01").is_ok());
        assert!(AgentIdentity::parse(&"a".repeat(64)).is_ok());
        for bad in [
            "",
            "alice smith",
            "alice-b",
            "élodie",
            "a.b",
            &"a".repeat(65),
        ] {
            assert!(AgentIdentity::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn org_slugs_are_lowercase_url_safe() {
        assert!(OrgSlug::parse("acme-support").is_ok());
        for bad in [
            "",
            "Acme",
            "-acme",
            "acme_x",
            "acme support",
            &"a".repeat(64),
        ] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn phone_numbers_are_e164() {
        assert!(PhoneNumber::parse("+14155550100").is_ok());
        for bad in [
            "14155550100",
            "+",
            "+0123",
            "+1415555010012345",
            "+1 415",
            "+1a",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn display_texts_are_trimmed_and_bounded() {
        assert_eq!(
            CallerName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(CallerName::parse("   ").is_err());
        assert!(CallerName::parse("a\u{0007}b").is_err());
        assert!(CallerName::parse(&"é".repeat(64)).is_ok());
        assert!(CallerName::parse(&"é".repeat(65)).is_err());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(HttpUrl::parse("https://example.com/hold.mp3").is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "https:///x",
            "example.com",
            "https://a b",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn conference_names_lead_back_to_the_parked_call_and_carry_no_personal_data() {
        let id = ParkedCallId::random();
        let name = id.conference_name();
        assert!(name.starts_with("park-") && name.len() == 37);
        assert_eq!(ParkedCallId::from_conference_name(&name), Some(id));
        assert_eq!(
            ParkedCallId::from_conference_name("park-+14155550100"),
            None
        );
        assert_eq!(ParkedCallId::from_conference_name("other"), None);
    }
}
