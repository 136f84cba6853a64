//! Rows as diesel reads them, and their conversion to and from the domain's types. Everything
//! read from the database is validated again on the way in: a row that breaks a domain rule is a
//! [`CorruptRow`], never a panic.

use std::time::Duration;

use callpark_domain::{
    Agent, AgentIdentity, AgentStatus, Announcement, AutoSlot, Call, CallSid, Caller, CallerName,
    ConferenceSid, DisplayName, HttpUrl, InvalidValue, LotEvent, LotEventKind, LotSize, OrgSlug,
    Organisation, ParkState, ParkedCall, ParkedCallId, PhoneNumber, Retrieval, Sequence,
    SlotNumber, TimeoutAction, Voice,
};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::schema::{agents, calls, lot_events, organisations, parked_calls};

/// A row that the domain refuses: written by something other than this crate, or by a newer
/// version of it.
#[derive(Debug, Error)]
pub(crate) enum CorruptRow {
    #[error("{column} holds an invalid value")]
    Invalid {
        column: &'static str,
        #[source]
        source: InvalidValue,
    },
    #[error("{column} holds the unknown value {value:?}")]
    Unknown { column: &'static str, value: String },
    #[error("the parked-call snapshot of an event is not readable")]
    Snapshot(#[source] serde_json::Error),
}

fn valid<T>(column: &'static str, parsed: Result<T, InvalidValue>) -> Result<T, CorruptRow> {
    parsed.map_err(|source| CorruptRow::Invalid { column, source })
}

fn unknown(column: &'static str, value: &str) -> CorruptRow {
    CorruptRow::Unknown {
        column,
        value: value.to_owned(),
    }
}

fn number(column: &'static str, n: impl TryInto<u32>) -> Result<u32, CorruptRow> {
    n.try_into().map_err(|_| unknown(column, "out of range"))
}

fn optional<T>(
    column: &'static str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, InvalidValue>,
) -> Result<Option<T>, CorruptRow> {
    value.map(|v| valid(column, parse(v))).transpose()
}

// ---------------------------------------------------------------------------------------------
// Enumerations, stored as text.

pub(crate) fn agent_status_name(status: AgentStatus) -> &'static str {
    match status {
        AgentStatus::Available => "available",
        AgentStatus::OnCall => "on_call",
        AgentStatus::Offline => "offline",
    }
}

fn agent_status(name: &str) -> Result<AgentStatus, CorruptRow> {
    match name {
        "available" => Ok(AgentStatus::Available),
        "on_call" => Ok(AgentStatus::OnCall),
        "offline" => Ok(AgentStatus::Offline),
        other => Err(unknown("agents.status", other)),
    }
}

pub(crate) fn timeout_action_name(action: TimeoutAction) -> &'static str {
    match action {
        TimeoutAction::Ringback => "ringback",
        TimeoutAction::Voicemail => "voicemail",
    }
}

pub(crate) fn auto_slot_name(policy: AutoSlot) -> &'static str {
    match policy {
        AutoSlot::FirstFree => "first_free",
        AutoSlot::NextAfterLastUsed => "next_after_last_used",
    }
}

// ---------------------------------------------------------------------------------------------
// Organisations

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrgRow {
    pub(crate) slug: String,
    pub(crate) name: String,
    pub(crate) lot_size: i32,
    pub(crate) hold_music_url: Option<String>,
    pub(crate) announcement: String,
    pub(crate) voice: Option<String>,
    pub(crate) max_park_seconds: i64,
    pub(crate) timeout_action: String,
    pub(crate) auto_slot: String,
}

impl OrgRow {
    /// The row for a new organisation. Park time is kept in whole seconds (the domain caps it
    /// at four hours); sub-second parts are dropped.
    pub(crate) fn new(org: &Organisation) -> Self {
        Self {
            slug: org.slug.as_str().to_owned(),
            name: org.name.as_str().to_owned(),
            lot_size: i32::from(org.lot_size.get()),
            hold_music_url: org.hold_music_url.as_ref().map(|u| u.as_str().to_owned()),
            announcement: org.announcement.as_str().to_owned(),
            voice: org.voice.as_ref().map(|v| v.as_str().to_owned()),
            max_park_seconds: i64::try_from(org.max_park.as_secs()).unwrap_or(i64::MAX),
            timeout_action: timeout_action_name(org.timeout_action).to_owned(),
            auto_slot: auto_slot_name(org.auto_slot).to_owned(),
        }
    }

    pub(crate) fn into_domain(self, numbers: Vec<String>) -> Result<Organisation, CorruptRow> {
        Ok(Organisation {
            slug: valid("organisations.slug", OrgSlug::parse(&self.slug))?,
            name: valid("organisations.name", DisplayName::parse(&self.name))?,
            lot_size: valid(
                "organisations.lot_size",
                LotSize::new(number("organisations.lot_size", self.lot_size)?),
            )?,
            numbers: numbers
                .iter()
                .map(|n| valid("org_numbers.number", PhoneNumber::parse(n)))
                .collect::<Result<_, _>>()?,
            hold_music_url: optional(
                "organisations.hold_music_url",
                self.hold_music_url.as_deref(),
                HttpUrl::parse,
            )?,
            announcement: valid(
                "organisations.announcement",
                Announcement::parse(&self.announcement),
            )?,
            voice: optional("organisations.voice", self.voice.as_deref(), Voice::parse)?,
            max_park: Duration::from_secs(
                u64::try_from(self.max_park_seconds)
                    .map_err(|_| unknown("organisations.max_park_seconds", "negative"))?,
            ),
            timeout_action: match self.timeout_action.as_str() {
                "ringback" => TimeoutAction::Ringback,
                "voicemail" => TimeoutAction::Voicemail,
                other => return Err(unknown("organisations.timeout_action", other)),
            },
            auto_slot: match self.auto_slot.as_str() {
                "first_free" => AutoSlot::FirstFree,
                "next_after_last_used" => AutoSlot::NextAfterLastUsed,
                other => return Err(unknown("organisations.auto_slot", other)),
            },
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Agents and calls

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = agents, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AgentRow {
    pub(crate) org: String,
    pub(crate) identity: String,
    pub(crate) display_name: Option<String>,
    pub(crate) status: String,
    pub(crate) current_call: Option<String>,
}

impl TryFrom<AgentRow> for Agent {
    type Error = CorruptRow;

    fn try_from(row: AgentRow) -> Result<Self, CorruptRow> {
        Ok(Agent {
            org: valid("agents.org", OrgSlug::parse(&row.org))?,
            identity: valid("agents.identity", AgentIdentity::parse(&row.identity))?,
            display_name: optional(
                "agents.display_name",
                row.display_name.as_deref(),
                DisplayName::parse,
            )?,
            status: agent_status(&row.status)?,
            current_call: optional(
                "agents.current_call",
                row.current_call.as_deref(),
                CallSid::parse,
            )?,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = calls, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CallRow {
    pub(crate) pstn_sid: String,
    pub(crate) org: String,
    pub(crate) caller_number: Option<String>,
    pub(crate) caller_name: Option<String>,
}

impl TryFrom<CallRow> for Call {
    type Error = CorruptRow;

    fn try_from(row: CallRow) -> Result<Self, CorruptRow> {
        Ok(Call {
            org: valid("calls.org", OrgSlug::parse(&row.org))?,
            pstn: valid("calls.pstn_sid", CallSid::parse(&row.pstn_sid))?,
            caller: caller(row.caller_number.as_deref(), row.caller_name.as_deref())?,
        })
    }
}

fn caller(number: Option<&str>, name: Option<&str>) -> Result<Caller, CorruptRow> {
    Ok(Caller {
        number: optional("caller_number", number, PhoneNumber::parse)?,
        name: optional("caller_name", name, CallerName::parse)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Parked calls

/// A `parked_calls` row. It is read by diesel from the table, and as JSON from event snapshots
/// and the stored functions (`to_jsonb` of a row, so the keys are the column names); it is also
/// what `callpark_apply` takes as the record after a change.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = parked_calls, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ParkedRow {
    pub(crate) id: Uuid,
    pub(crate) org: String,
    pub(crate) slot: i32,
    pub(crate) state: String,
    pub(crate) pstn_sid: String,
    pub(crate) caller_number: Option<String>,
    pub(crate) caller_name: Option<String>,
    pub(crate) parked_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) parked_at: OffsetDateTime,
    pub(crate) conference_sid: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) deadline: Option<OffsetDateTime>,
    pub(crate) retrieval_kind: Option<String>,
    pub(crate) retrieval_agent: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) state_changed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) ended_at: Option<OffsetDateTime>,
    pub(crate) recording_url: Option<String>,
    pub(crate) version: i64,
}

impl ParkedRow {
    pub(crate) fn new(call: &ParkedCall) -> Self {
        let (retrieval_kind, retrieval_agent) = match &call.retrieval {
            None => (None, None),
            Some(Retrieval::ByAgent(agent)) => (Some("by_agent"), Some(agent)),
            Some(Retrieval::Ringback(agent)) => (Some("ringback"), Some(agent)),
            Some(Retrieval::ToVoicemail) => (Some("to_voicemail"), None),
        };
        Self {
            id: call.id.as_uuid(),
            org: call.org.as_str().to_owned(),
            slot: i32::from(call.slot.get()),
            state: call.state.as_str().to_owned(),
            pstn_sid: call.pstn_call.as_str().to_owned(),
            caller_number: call.caller.number.as_ref().map(|n| n.as_str().to_owned()),
            caller_name: call.caller.name.as_ref().map(|n| n.as_str().to_owned()),
            parked_by: call.parked_by.as_str().to_owned(),
            parked_at: call.parked_at,
            conference_sid: call.conference_sid.as_ref().map(|s| s.as_str().to_owned()),
            deadline: call.deadline,
            retrieval_kind: retrieval_kind.map(str::to_owned),
            retrieval_agent: retrieval_agent.map(|a| a.as_str().to_owned()),
            state_changed_at: call.state_changed_at,
            ended_at: call.ended_at,
            recording_url: call.recording_url.as_ref().map(|u| u.as_str().to_owned()),
            version: i64::try_from(call.version).unwrap_or(i64::MAX),
        }
    }
}

impl TryFrom<ParkedRow> for ParkedCall {
    type Error = CorruptRow;

    fn try_from(row: ParkedRow) -> Result<Self, CorruptRow> {
        let retrieval = match (
            row.retrieval_kind.as_deref(),
            row.retrieval_agent.as_deref(),
        ) {
            (None, None) => None,
            (Some("to_voicemail"), None) => Some(Retrieval::ToVoicemail),
            (Some(kind), Some(agent)) => {
                let agent = valid("parked_calls.retrieval_agent", AgentIdentity::parse(agent))?;
                Some(match kind {
                    "by_agent" => Retrieval::ByAgent(agent),
                    "ringback" => Retrieval::Ringback(agent),
                    other => return Err(unknown("parked_calls.retrieval_kind", other)),
                })
            }
            _ => return Err(unknown("parked_calls.retrieval_kind", "half set")),
        };
        Ok(ParkedCall {
            id: ParkedCallId::from_uuid(row.id),
            org: valid("parked_calls.org", OrgSlug::parse(&row.org))?,
            slot: valid(
                "parked_calls.slot",
                SlotNumber::new(number("parked_calls.slot", row.slot)?),
            )?,
            state: ParkState::from_name(&row.state)
                .ok_or_else(|| unknown("parked_calls.state", &row.state))?,
            pstn_call: valid("parked_calls.pstn_sid", CallSid::parse(&row.pstn_sid))?,
            caller: caller(row.caller_number.as_deref(), row.caller_name.as_deref())?,
            parked_by: valid(
                "parked_calls.parked_by",
                AgentIdentity::parse(&row.parked_by),
            )?,
            parked_at: row.parked_at,
            conference_sid: optional(
                "parked_calls.conference_sid",
                row.conference_sid.as_deref(),
                ConferenceSid::parse,
            )?,
            deadline: row.deadline,
            retrieval,
            state_changed_at: row.state_changed_at,
            ended_at: row.ended_at,
            recording_url: optional(
                "parked_calls.recording_url",
                row.recording_url.as_deref(),
                HttpUrl::parse,
            )?,
            version: u64::try_from(row.version)
                .map_err(|_| unknown("parked_calls.version", "negative"))?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Events

/// A `lot_events` row, read by diesel or as JSON from the stored functions.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = lot_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EventRow {
    /// The global id: names the row in notifications and logs, orders nothing.
    pub(crate) id: i64,
    pub(crate) org: String,
    pub(crate) sequence: i64,
    pub(crate) kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
    pub(crate) call: serde_json::Value,
}

impl TryFrom<EventRow> for LotEvent {
    type Error = CorruptRow;

    fn try_from(row: EventRow) -> Result<Self, CorruptRow> {
        let call: ParkedRow = serde_json::from_value(row.call).map_err(CorruptRow::Snapshot)?;
        Ok(LotEvent {
            org: valid("lot_events.org", OrgSlug::parse(&row.org))?,
            sequence: Sequence::new(
                u64::try_from(row.sequence)
                    .map_err(|_| unknown("lot_events.sequence", "negative"))?,
            ),
            kind: LotEventKind::from_name(&row.kind)
                .ok_or_else(|| unknown("lot_events.kind", &row.kind))?,
            at: row.at,
            call: ParkedCall::try_from(call)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use callpark_domain::testkit::{agent_identity, call_sid, caller, conference_sid, epoch};

    use super::*;

    fn sample() -> ParkedCall {
        ParkedCall {
            id: ParkedCallId::random(),
            org: OrgSlug::parse("acme").unwrap(),
            slot: SlotNumber::new(7).unwrap(),
            state: ParkState::Retrieving,
            pstn_call: call_sid(1),
            caller: caller(3),
            parked_by: agent_identity("alice"),
            parked_at: epoch(),
            conference_sid: Some(conference_sid(9)),
            deadline: Some(epoch() + Duration::from_millis(1500)),
            retrieval: Some(Retrieval::Ringback(agent_identity("bob"))),
            state_changed_at: epoch(),
            ended_at: None,
            recording_url: None,
            version: 3,
        }
    }

    #[test]
    fn a_parked_call_survives_the_json_snapshot() {
        let call = sample();
        let json = serde_json::to_value(ParkedRow::new(&call)).unwrap();
        let back: ParkedRow = serde_json::from_value(json).unwrap();
        assert_eq!(ParkedCall::try_from(back).unwrap(), call);
    }

    #[test]
    fn postgres_timestamps_in_json_are_read() {
        // to_jsonb(timestamptz) writes an explicit offset and microseconds.
        let mut json = serde_json::to_value(ParkedRow::new(&sample())).unwrap();
        json["parked_at"] = "2027-01-15T08:00:00.123456+00:00".into();
        let row: ParkedRow = serde_json::from_value(json).unwrap();
        assert_eq!(row.parked_at.microsecond(), 123_456);
    }

    #[test]
    fn a_half_set_retrieval_is_corrupt() {
        let mut row = ParkedRow::new(&sample());
        row.retrieval_agent = None;
        assert!(matches!(
            ParkedCall::try_from(row),
            Err(CorruptRow::Unknown { .. })
        ));
    }
}
