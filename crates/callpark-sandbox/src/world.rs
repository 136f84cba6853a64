//! The simulated network's state: its calls and where each one is.

use std::collections::HashMap;

use callpark_domain::CallSid;

/// Where a simulated caller is.
#[derive(Debug, Clone, Default)]
pub(crate) enum Location {
    #[default]
    Idle,
    Conference {
        name: String,
        sid: String,
        callback: Option<String>,
        events: Vec<String>,
    },
    /// Bridged by a `<Dial>` to an agent's leg.
    Dialing {
        child: Option<CallSid>,
        action: Option<String>,
    },
}

/// One leg: a caller's, or an agent's browser dialled from it.
#[derive(Debug, Clone)]
pub(crate) struct SimCall {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) parent: Option<CallSid>,
    pub(crate) live: bool,
    /// Where this leg's status goes: set by a redirect's `StatusCallback`, or (for a caller)
    /// the number's status callback; for an agent's leg, its `<Client statusCallback>`.
    pub(crate) status_callback: Option<String>,
    pub(crate) status_events: Vec<String>,
    pub(crate) location: Location,
    /// When the leg began (Twilio's `start_time`).
    pub(crate) started_at: time::OffsetDateTime,
    /// An agent's leg that rings and is not answered yet (Twilio's `ringing`).
    pub(crate) ringing: bool,
}

/// Every call the sandbox has placed, live or ended.
#[derive(Debug, Default)]
pub(crate) struct World {
    next_id: u128,
    pub(crate) calls: HashMap<CallSid, SimCall>,
    /// The SIDs of the voicemail recordings `<Record>` left.
    pub(crate) recordings: Vec<String>,
    sequence: u64,
}

impl World {
    /// A fresh SID with Twilio's two-letter `prefix` (`CA`, `CF`, `RE`).
    pub(crate) fn new_sid(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:032x}", self.next_id)
    }

    /// A fresh call SID, for a leg the sandbox places.
    pub(crate) fn new_call_sid(&mut self) -> CallSid {
        CallSid::parse(&self.new_sid("CA")).expect("a well-formed SID")
    }

    /// The next conference callback's `SequenceNumber`.
    pub(crate) fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}
