//! Domain events: every change of a parked call, numbered per organisation, so that the live
//! lot view is "snapshot at sequence N + every event after N" and a client that reconnects
//! misses nothing.

use std::fmt;

use time::OffsetDateTime;

use crate::model::ParkedCall;
use crate::values::{OrgSlug, Sequence};

/// What happened to a parked call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LotEventKind {
    /// A slot was claimed: the call is being parked.
    Parked,
    /// A parked call's details changed (it reached the conference, its SID became known).
    Updated,
    /// An agent started retrieving it.
    Retrieving,
    /// An agent answered it: the slot is free.
    Retrieved,
    /// The agent did not answer: the caller is back in the same slot.
    Returned,
    /// The caller hung up: the slot is free.
    Abandoned,
    /// The deadline passed: the call rings back its parker, or goes to voicemail.
    TimedOut,
    /// A ring-back went unanswered: the caller is leaving a voicemail, the slot is free.
    Voicemail,
    /// The call could not be parked: the slot is free.
    Failed,
    /// The caller's voicemail recording is stored with the call.
    VoicemailRecorded,
    /// An agent marked the voicemail handled.
    VoicemailHandled,
}

impl LotEventKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 11] = [
        Self::Parked,
        Self::Updated,
        Self::Retrieving,
        Self::Retrieved,
        Self::Returned,
        Self::Abandoned,
        Self::TimedOut,
        Self::Voicemail,
        Self::Failed,
        Self::VoicemailRecorded,
        Self::VoicemailHandled,
    ];

    /// The snake-case name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parked => "parked",
            Self::Updated => "updated",
            Self::Retrieving => "retrieving",
            Self::Retrieved => "retrieved",
            Self::Returned => "returned",
            Self::Abandoned => "abandoned",
            Self::TimedOut => "timed_out",
            Self::Voicemail => "voicemail",
            Self::Failed => "failed",
            Self::VoicemailRecorded => "voicemail_recorded",
            Self::VoicemailHandled => "voicemail_handled",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }
}

impl fmt::Display for LotEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change of one organisation's lot, with the parked call as it is after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotEvent {
    /// The organisation whose lot changed.
    pub org: OrgSlug,
    /// The event's number in the organisation's sequence, one more than the previous one's.
    pub sequence: Sequence,
    /// What happened.
    pub kind: LotEventKind,
    /// When it happened (the service clock).
    pub at: OffsetDateTime,
    /// The parked call as it is after the change.
    pub call: ParkedCall,
}
