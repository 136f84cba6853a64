//! Identifiers: Twilio's SIDs, callpark's parked-call ids, API token digests.

use std::fmt;

use super::InvalidValue;

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

            /// The SID as Twilio writes it.
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

/// The identity of one parked call (one occupancy of one slot), assigned by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParkedCallId(uuid::Uuid);

impl ParkedCallId {
    /// A fresh random id, for stores that assign ids themselves.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// The id stored as this UUID.
    pub fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }

    /// The id as a UUID, for storing it.
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

/// A digest of an agent's API token. Stores keep only this; the token itself is shown once.
/// Computing it is the front end's business (the domain does not hash).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The digest as computed by the front end.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest, for storing it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}
