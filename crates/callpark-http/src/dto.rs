//! The JSON the API speaks. The front end owns these shapes; the domain types know nothing of
//! them.

use callpark_domain::{
    Agent, AgentCall, AgentStatus, LotEvent, LotView, ParkState, ParkedCall, Retrieval,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// RFC 3339 in UTC, e.g. `2026-11-24T10:15:00Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn slot_state(state: Option<ParkState>) -> &'static str {
    match state {
        Some(ParkState::Parking) => "parking",
        Some(ParkState::Parked) => "parked",
        Some(ParkState::Retrieving) => "retrieving",
        _ => "free",
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallDto {
    pub id: String,
    pub state: &'static str,
    pub caller_number: Option<String>,
    pub caller_name: Option<String>,
    pub parked_by: String,
    pub parked_at: String,
    pub conference_sid: Option<String>,
    pub pstn_call_sid: String,
    pub deadline: Option<String>,
    /// The agent being connected while `retrieving`.
    pub retrieving_agent: Option<String>,
    /// Whether the retrieve is a ring-back to the parker after the deadline.
    pub ringback: bool,
    /// Whether the deadline is sending the caller to voicemail (the slot is held until it
    /// gets there).
    pub to_voicemail: bool,
    pub ended_at: Option<String>,
}

impl From<&ParkedCall> for CallDto {
    fn from(c: &ParkedCall) -> Self {
        Self {
            id: c.id.to_string(),
            state: c.state.as_str(),
            caller_number: c.caller.number.as_ref().map(ToString::to_string),
            caller_name: c.caller.name.as_ref().map(ToString::to_string),
            parked_by: c.parked_by.to_string(),
            parked_at: rfc3339(c.parked_at),
            conference_sid: c.conference_sid.as_ref().map(ToString::to_string),
            pstn_call_sid: c.pstn_call.to_string(),
            deadline: c.deadline.map(rfc3339),
            retrieving_agent: c
                .retrieval
                .as_ref()
                .and_then(Retrieval::agent)
                .map(ToString::to_string),
            ringback: matches!(c.retrieval, Some(Retrieval::Ringback(_))),
            to_voicemail: c.retrieval == Some(Retrieval::ToVoicemail),
            ended_at: c.ended_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SlotDto {
    pub slot: u16,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<CallDto>,
}

#[derive(Debug, Serialize)]
pub struct LotDto {
    pub org: String,
    pub slots: Vec<SlotDto>,
    pub sequence: u64,
}

impl From<&LotView> for LotDto {
    fn from(lot: &LotView) -> Self {
        Self {
            org: lot.org.slug.to_string(),
            slots: lot
                .slots
                .iter()
                .map(|s| SlotDto {
                    slot: s.slot.get(),
                    state: slot_state(s.call.as_ref().map(|c| c.state)),
                    call: s.call.as_ref().map(CallDto::from),
                })
                .collect(),
            sequence: lot.sequence.get(),
        }
    }
}

/// One live event: what happened, and the slot as it is afterwards.
#[derive(Debug, Serialize)]
pub struct EventDto {
    pub sequence: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub at: String,
    pub slot: u16,
    /// The slot's state after the event: `free` once the call has left the lot.
    pub state: &'static str,
    pub call: CallDto,
}

impl From<&LotEvent> for EventDto {
    fn from(e: &LotEvent) -> Self {
        Self {
            sequence: e.sequence.get(),
            kind: e.kind.as_str(),
            at: rfc3339(e.at),
            slot: e.call.slot.get(),
            state: slot_state(Some(e.call.state)),
            call: CallDto::from(&e.call),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkedDto {
    pub id: String,
    pub slot: u16,
    pub conference_name: String,
    pub pstn_call_sid: String,
    pub parked_at: String,
    pub state: &'static str,
}

impl From<&ParkedCall> for ParkedDto {
    fn from(c: &ParkedCall) -> Self {
        Self {
            id: c.id.to_string(),
            slot: c.slot.get(),
            conference_name: c.conference_name(),
            pstn_call_sid: c.pstn_call.to_string(),
            parked_at: rfc3339(c.parked_at),
            state: c.state.as_str(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RetrievedDto {
    pub id: String,
    pub slot: u16,
    pub agent: String,
}

pub fn agent_status(status: AgentStatus) -> &'static str {
    match status {
        AgentStatus::Available => "available",
        AgentStatus::OnCall => "on_call",
        AgentStatus::Offline => "offline",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentDto {
    pub identity: String,
    pub display_name: Option<String>,
    pub org: String,
    pub status: &'static str,
    pub role: &'static str,
}

impl From<&Agent> for AgentDto {
    fn from(a: &Agent) -> Self {
        Self {
            identity: a.identity.to_string(),
            display_name: a.display_name.as_ref().map(ToString::to_string),
            org: a.org.to_string(),
            status: agent_status(a.status),
            role: role_name(a.role),
        }
    }
}

/// The wire name of a role.
pub fn role_name(role: callpark_domain::Role) -> &'static str {
    match role {
        callpark_domain::Role::Agent => "agent",
        callpark_domain::Role::Supervisor => "supervisor",
    }
}

/// An agent as its managers see it: whether it is still active, too.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedAgentDto {
    #[serde(flatten)]
    pub agent: AgentDto,
    pub active: bool,
}

impl From<&Agent> for ManagedAgentDto {
    fn from(a: &Agent) -> Self {
        Self {
            agent: AgentDto::from(a),
            active: a.active,
        }
    }
}

/// A change of an agent (`PATCH …/agents/{identity}`): each field sent is set.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentChangeBody {
    /// `null` removes the display name; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<Option<String>>,
    pub role: Option<String>,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentCallDto {
    /// The agent's own leg: what `POST /api/park` takes.
    pub call_sid: String,
    pub pstn_call_sid: String,
    pub caller_number: Option<String>,
    pub caller_name: Option<String>,
}

impl From<&AgentCall> for CurrentCallDto {
    fn from(c: &AgentCall) -> Self {
        Self {
            call_sid: c.browser_leg.to_string(),
            pstn_call_sid: c.call.pstn.to_string(),
            caller_number: c.call.caller.number.as_ref().map(ToString::to_string),
            caller_name: c.call.caller.name.as_ref().map(ToString::to_string),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeDto {
    #[serde(flatten)]
    pub agent: AgentDto,
    pub current_call: Option<CurrentCallDto>,
    /// Whether this service runs the sandbox (simulated calls) rather than real Twilio.
    pub sandbox: bool,
    /// Whether `GET /api/token` can issue Twilio Voice SDK tokens.
    pub voice: bool,
    /// What the organisation does with a parked call nobody retrieved: `ringback` (the
    /// parker, if available, else voicemail) or `voicemail`.
    pub timeout_action: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParkBody {
    pub call_sid: String,
    pub slot: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrieveBody {
    pub agent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOrgBody {
    pub slug: String,
    pub name: String,
    pub slots: u32,
    #[serde(default)]
    pub numbers: Vec<String>,
    pub hold_music_url: Option<String>,
    pub announcement: Option<String>,
    pub voice: Option<String>,
    pub language: Option<String>,
    pub max_park_seconds: Option<u64>,
    pub timeout_action: Option<String>,
    pub slot_policy: Option<String>,
}

/// A change of an organisation's settings (`PATCH /admin/orgs/{slug}`): each field sent is
/// set; `null` hold music, voice or language goes back to the default. `numbers` replaces
/// them all; `active` is the administrator's alone.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgChangeBody {
    pub name: Option<String>,
    pub slots: Option<u32>,
    pub numbers: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub language: Option<Option<String>>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub hold_music_url: Option<Option<String>>,
    pub announcement: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub voice: Option<Option<String>>,
    pub max_park_seconds: Option<u64>,
    pub timeout_action: Option<String>,
    pub slot_policy: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgDto {
    pub slug: String,
    pub name: String,
    pub slots: u16,
    pub numbers: Vec<String>,
    pub hold_music_url: Option<String>,
    pub announcement: String,
    pub voice: Option<String>,
    pub language: Option<String>,
    pub max_park_seconds: u64,
    pub timeout_action: &'static str,
    pub slot_policy: &'static str,
    pub active: bool,
}

impl From<&callpark_domain::Organisation> for OrgDto {
    fn from(o: &callpark_domain::Organisation) -> Self {
        Self {
            slug: o.slug.to_string(),
            name: o.name.to_string(),
            slots: o.lot_size.get(),
            numbers: o.numbers.iter().map(ToString::to_string).collect(),
            hold_music_url: o.hold_music_url.as_ref().map(ToString::to_string),
            announcement: o.announcement.to_string(),
            voice: o.voice.as_ref().map(ToString::to_string),
            language: o.language.as_ref().map(ToString::to_string),
            max_park_seconds: o.max_park.as_secs(),
            timeout_action: timeout_action_name(o.timeout_action),
            slot_policy: match o.auto_slot {
                callpark_domain::AutoSlot::FirstFree => "first_free",
                callpark_domain::AutoSlot::NextAfterLastUsed => "next",
            },
            active: o.active,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAgentBody {
    pub identity: String,
    pub display_name: Option<String>,
    /// The token stops working this long after it is issued; absent, never.
    pub token_expires_in_seconds: Option<u64>,
    /// `agent` (the default) or `supervisor`.
    pub role: Option<String>,
}

/// A new API token for an agent (`POST …/agents/{identity}/token`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTokenBody {
    /// The token stops working this long after it is issued; absent, never.
    pub expires_in_seconds: Option<u64>,
}

/// An agent's new API token.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAgentDto {
    pub identity: String,
    /// Shown once: only its hash is stored.
    pub token: String,
    /// RFC 3339, or null: the token never expires.
    pub token_expires_at: Option<String>,
}

/// The wire name of a timeout action.
pub fn timeout_action_name(action: callpark_domain::TimeoutAction) -> &'static str {
    match action {
        callpark_domain::TimeoutAction::Ringback => "ringback",
        callpark_domain::TimeoutAction::Voicemail => "voicemail",
    }
}
