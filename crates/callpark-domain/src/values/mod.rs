//! Validated value types. Every constructor checks its input, so a value that exists is valid;
//! fields are private so nothing can build an invalid one around the check.

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

mod addresses;
mod ids;
mod names;
mod numbers;
#[cfg(test)]
mod tests;

pub use addresses::{HttpUrl, PhoneNumber};
pub use ids::{CallSid, ConferenceSid, ParkedCallId, TokenHash};
pub use names::{
    AgentIdentity, Announcement, CallerName, ClientIdentity, DisplayName, Language, OrgSlug, Voice,
};
pub use numbers::{LotSize, MAX_SLOTS, PageLimit, Sequence, SlotNumber};
