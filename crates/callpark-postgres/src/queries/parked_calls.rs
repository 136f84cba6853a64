//! Parked calls: claiming a slot, compare-and-set transitions, and the lookups of live calls
//! behind every retrieve, hang-up, deadline sweep and reconciliation.

use callpark_domain::{
    AgentIdentity, AgentStatusChange, CallSid, CasError, ClaimError, ConferenceSid, HttpUrl,
    LotEventKind, LotSize, LotSnapshot, NewParkedCall, OrgSlug, ParkState, ParkedCall,
    ParkedCallId, PhoneNumber, Retrieval, Sequence, SlotNumber, SlotRequest, StoreError,
};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::agents::agent_status_name;
use super::limit;
use super::lot_events::EventRow;
use super::organisations::auto_slot_name;
use crate::error::{self, UnexpectedAnswer, violated_constraint};
use crate::rows::{CorruptRow, caller, number, optional, unknown, valid, voicemail_handled};
use crate::schema::{org_lot_state, parked_calls};
use crate::states::{InFlight, Occupying, Parked};

/// How often a claim is retried after losing a race that the unique indexes decided. Claims of
/// one organisation are serialised by its lot-state row, so only claims of one caller's leg in
/// two organisations can race at all.
const CLAIM_ATTEMPTS: usize = 3;

// The Rust signatures mirror the SQL functions', argument for argument.
#[allow(clippy::too_many_arguments)]
mod sql {
    use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid};

    diesel::define_sql_function! {
        /// See `sql/functions.sql`.
        fn callpark_claim_slot(
            org: Text,
            policy: Text,
            slot: Nullable<Integer>,
            id: Uuid,
            pstn: Text,
            caller_number: Nullable<Text>,
            caller_name: Nullable<Text>,
            parked_by: Text,
            call_started_at: Timestamptz,
            now: Timestamptz,
        ) -> Jsonb;
    }

    diesel::define_sql_function! {
        /// See `sql/functions.sql`.
        fn callpark_apply(
            id: Uuid,
            state: Text,
            version: BigInt,
            next: Jsonb,
            kind: Text,
            at: Timestamptz,
        ) -> Jsonb;
    }

    diesel::define_sql_function! {
        /// See `sql/functions.sql`.
        fn callpark_apply_and_set_agent(
            id: Uuid,
            state: Text,
            version: BigInt,
            next: Jsonb,
            kind: Text,
            at: Timestamptz,
            agent_org: Text,
            agent: Text,
            agent_status: Text,
            agent_call: Nullable<Text>,
        ) -> Jsonb;
    }
}

/// A `parked_calls` row. It is read by diesel from the table, and as JSON from event snapshots
/// and the stored functions (`to_jsonb` of a row, so the keys are the column names); it is also
/// what `callpark_apply` takes as the record after a change.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = parked_calls, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ParkedRow {
    id: Uuid,
    org: String,
    slot: i32,
    state: String,
    pstn_sid: String,
    caller_number: Option<String>,
    caller_name: Option<String>,
    parked_by: String,
    #[serde(with = "time::serde::rfc3339")]
    parked_at: OffsetDateTime,
    conference_sid: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    deadline: Option<OffsetDateTime>,
    retrieval_kind: Option<String>,
    retrieval_agent: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    state_changed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    ended_at: Option<OffsetDateTime>,
    recording_url: Option<String>,
    version: i64,
    /// Absent from the snapshots of events stored before attempts were counted.
    #[serde(default)]
    attempt: i32,
    /// Always in the table; absent from the snapshots of events stored before it was kept
    /// (the call began no later than it was parked, which stands in).
    #[diesel(deserialize_as = OffsetDateTime)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    call_started_at: Option<OffsetDateTime>,
    /// Absent from the snapshots of events stored before ring-backs were counted.
    #[serde(default)]
    ringbacks: i32,
    /// Absent from the snapshots of events stored before voicemails were marked handled.
    #[serde(default)]
    voicemail_handled_by: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    voicemail_handled_at: Option<OffsetDateTime>,
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
            attempt: i32::try_from(call.attempt).unwrap_or(i32::MAX),
            call_started_at: Some(call.call_started_at),
            ringbacks: i32::try_from(call.ringbacks).unwrap_or(i32::MAX),
            voicemail_handled_by: call
                .voicemail_handled
                .as_ref()
                .map(|h| h.by.as_str().to_owned()),
            voicemail_handled_at: call.voicemail_handled.as_ref().map(|h| h.at),
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
            call_started_at: row.call_started_at.unwrap_or(row.parked_at),
            conference_sid: optional(
                "parked_calls.conference_sid",
                row.conference_sid.as_deref(),
                ConferenceSid::parse,
            )?,
            deadline: row.deadline,
            retrieval,
            attempt: u32::try_from(row.attempt)
                .map_err(|_| unknown("parked_calls.attempt", "negative"))?,
            ringbacks: u32::try_from(row.ringbacks)
                .map_err(|_| unknown("parked_calls.ringbacks", "negative"))?,
            state_changed_at: row.state_changed_at,
            ended_at: row.ended_at,
            recording_url: optional(
                "parked_calls.recording_url",
                row.recording_url.as_deref(),
                HttpUrl::parse,
            )?,
            voicemail_handled: voicemail_handled(
                row.voicemail_handled_by,
                row.voicemail_handled_at,
            )?,
            version: u64::try_from(row.version)
                .map_err(|_| unknown("parked_calls.version", "negative"))?,
        })
    }
}

pub(super) fn parked(row: ParkedRow) -> Result<ParkedCall, StoreError> {
    ParkedCall::try_from(row).map_err(error::corrupt)
}

/// The parked call a lookup of at most one row found.
fn found(row: QueryResult<ParkedRow>) -> Result<Option<ParkedCall>, StoreError> {
    row.optional()
        .map_err(error::query)?
        .map(parked)
        .transpose()
}

fn parked_all(rows: Vec<ParkedRow>) -> Result<Vec<ParkedCall>, StoreError> {
    rows.into_iter().map(parked).collect()
}

/// What `callpark_claim_slot` answers.
#[derive(Debug, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ClaimOutcome {
    Claimed { event: EventRow },
    UnknownOrg,
    AlreadyParked { id: Uuid, slot: i32 },
    SlotOutOfRange { lot_size: i32 },
    SlotOccupied,
    LotFull,
}

/// What `callpark_apply` answers.
#[derive(Debug, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ApplyOutcome {
    Applied { event: EventRow },
    NotFound,
    Conflict,
}

/// Claims a slot for a new parked call (`callpark_claim_slot`), and returns its `parked` event.
pub(crate) async fn claim(
    conn: &mut AsyncPgConnection,
    request: &NewParkedCall,
) -> Result<EventRow, ClaimError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_claim(conn, request).await {
            Ok(ClaimOutcome::Claimed { event }) => return Ok(event),
            Ok(refused) => return Err(refusal(refused, request.request)?),
            Err(e) => {
                let Some(constraint) = violated_constraint(&e, DatabaseErrorKind::UniqueViolation)
                else {
                    return Err(error::query(e).into());
                };
                // A unique index decided a race. A requested slot is simply taken; otherwise
                // look again with what has been committed since.
                match (constraint, request.request) {
                    ("parked_calls_one_per_slot", SlotRequest::Requested(slot)) => {
                        return Err(ClaimError::SlotOccupied(slot));
                    }
                    _ if attempt < CLAIM_ATTEMPTS => {}
                    _ => return Err(StoreError::Unavailable(Box::new(e)).into()),
                }
            }
        }
    }
}

async fn try_claim(
    conn: &mut AsyncPgConnection,
    request: &NewParkedCall,
) -> Result<ClaimOutcome, diesel::result::Error> {
    let (policy, slot) = match request.request {
        SlotRequest::Requested(slot) => ("requested", Some(i32::from(slot.get()))),
        SlotRequest::Auto(policy) => (auto_slot_name(policy), None),
    };
    let answer = diesel::select(sql::callpark_claim_slot(
        request.org.as_str(),
        policy,
        slot,
        ParkedCallId::random().as_uuid(),
        request.pstn_call.as_str(),
        request.caller.number.as_ref().map(PhoneNumber::as_str),
        request.caller.name.as_ref().map(|n| n.as_str()),
        request.parked_by.as_str(),
        request.call_started_at,
        request.now,
    ))
    .get_result::<serde_json::Value>(conn)
    .await?;
    serde_json::from_value(answer).map_err(|source| {
        diesel::result::Error::DeserializationError(Box::new(UnexpectedAnswer {
            function: "callpark_claim_slot",
            source,
        }))
    })
}

/// The refusal a claim's outcome other than `claimed` means; `Err` when the answer itself is
/// wrong.
fn refusal(outcome: ClaimOutcome, request: SlotRequest) -> Result<ClaimError, StoreError> {
    Ok(match outcome {
        ClaimOutcome::Claimed { .. } => {
            return Err(StoreError::Internal(
                "a claim was refused as claimed".into(),
            ));
        }
        ClaimOutcome::UnknownOrg => ClaimError::UnknownOrg,
        ClaimOutcome::AlreadyParked { id, slot } => {
            ClaimError::AlreadyParked(ParkedCallId::from_uuid(id), stored_slot(slot)?)
        }
        ClaimOutcome::SlotOutOfRange { lot_size } => {
            let SlotRequest::Requested(slot) = request else {
                return Err(StoreError::Internal(
                    "an automatic slot came back out of range".into(),
                ));
            };
            ClaimError::SlotOutOfRange {
                slot,
                lot_size: stored_lot_size(lot_size)?,
            }
        }
        ClaimOutcome::SlotOccupied => match request {
            SlotRequest::Requested(slot) => ClaimError::SlotOccupied(slot),
            SlotRequest::Auto(_) => ClaimError::LotFull,
        },
        ClaimOutcome::LotFull => ClaimError::LotFull,
    })
}

/// The compare-and-set of `current` into `next` (`callpark_apply`), with the agent's status
/// set in the same transaction when one goes with it (`callpark_apply_and_set_agent`); returns
/// the change's event.
pub(crate) async fn apply(
    conn: &mut AsyncPgConnection,
    (current, next): (&ParkedCall, &ParkedCall),
    kind: LotEventKind,
    at: OffsetDateTime,
    agent: Option<&AgentStatusChange>,
) -> Result<EventRow, CasError> {
    let next = serde_json::to_value(ParkedRow::new(next))
        .map_err(|e| CasError::Store(StoreError::Internal(Box::new(e))))?;
    // A version beyond i64 cannot be stored, so it cannot match: -1 never does.
    let version = i64::try_from(current.version).unwrap_or(-1);
    let (id, state, kind) = (current.id.as_uuid(), current.state.as_str(), kind.as_str());
    let (function, answer) = match agent {
        None => (
            "callpark_apply",
            diesel::select(sql::callpark_apply(id, state, version, next, kind, at))
                .get_result::<serde_json::Value>(conn)
                .await,
        ),
        Some(agent) => (
            "callpark_apply_and_set_agent",
            diesel::select(sql::callpark_apply_and_set_agent(
                id,
                state,
                version,
                next,
                kind,
                at,
                agent.org.as_str(),
                agent.identity.as_str(),
                agent_status_name(agent.status),
                agent.current_call.as_ref().map(CallSid::as_str),
            ))
            .get_result::<serde_json::Value>(conn)
            .await,
        ),
    };
    let outcome: ApplyOutcome = serde_json::from_value(answer.map_err(error::query)?)
        .map_err(|source| StoreError::Internal(Box::new(UnexpectedAnswer { function, source })))?;
    match outcome {
        ApplyOutcome::Applied { event } => Ok(event),
        ApplyOutcome::NotFound => Err(CasError::NotFound),
        ApplyOutcome::Conflict => Err(CasError::Conflict),
    }
}

pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    id: ParkedCallId,
) -> Result<Option<ParkedCall>, StoreError> {
    let row = parked_calls::table
        .find(id.as_uuid())
        .select(ParkedRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}

/// The call occupying the slot.
pub(crate) async fn occupant(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    slot: SlotNumber,
) -> Result<Option<ParkedCall>, StoreError> {
    let row = parked_calls::table
        .filter(parked_calls::org.eq(org.as_str()))
        .filter(parked_calls::slot.eq(i32::from(slot.get())))
        .filter(Occupying)
        .select(ParkedRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}

/// The call the caller's leg occupies a slot with.
pub(crate) async fn occupant_by_pstn(
    conn: &mut AsyncPgConnection,
    pstn: &CallSid,
) -> Result<Option<ParkedCall>, StoreError> {
    let row = parked_calls::table
        .filter(parked_calls::pstn_sid.eq(pstn.as_str()))
        .filter(Occupying)
        .select(ParkedRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}

/// The organisation's occupied slots and the sequence of its last event, as one snapshot.
pub(crate) async fn lot(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
) -> Result<LotSnapshot, StoreError> {
    // One statement, so one snapshot: the occupants and the sequence agree.
    let rows: Vec<(i64, Option<ParkedRow>)> = org_lot_state::table
        .left_join(parked_calls::table.on(parked_calls::org.eq(org_lot_state::org).and(Occupying)))
        .filter(org_lot_state::org.eq(org.as_str()))
        .order(parked_calls::slot)
        // ParkedRow's fields are in the table's column order.
        .select((
            org_lot_state::last_sequence,
            parked_calls::all_columns.nullable(),
        ))
        .load(conn)
        .await
        .map_err(error::query)?;
    let sequence = rows.as_slice().first().map_or(0, |(sequence, _)| *sequence);
    Ok(LotSnapshot {
        occupied: parked_all(rows.into_iter().filter_map(|(_, row)| row).collect())?,
        sequence: Sequence::new(u64::try_from(sequence).unwrap_or_default()),
    })
}

/// Parked calls whose deadline is `now` or earlier, the earliest first.
pub(crate) async fn due(
    conn: &mut AsyncPgConnection,
    now: OffsetDateTime,
    max: usize,
) -> Result<Vec<ParkedCall>, StoreError> {
    // SKIP LOCKED: a row another sweeper is firing right now (its apply holds the row) is
    // skipped rather than waited for. Exactly-once firing is the compare-and-set's job, not
    // this lock's.
    let rows = parked_calls::table
        .filter(Parked)
        .filter(parked_calls::deadline.le(now))
        .order((parked_calls::deadline, parked_calls::id))
        .limit(limit(max))
        .select(ParkedRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
        .map_err(error::query)?;
    parked_all(rows)
}

/// Calls waiting for Twilio since `before` or earlier, the longest waiting first.
pub(crate) async fn in_flight_since(
    conn: &mut AsyncPgConnection,
    before: OffsetDateTime,
    max: usize,
) -> Result<Vec<ParkedCall>, StoreError> {
    let rows = parked_calls::table
        .filter(InFlight)
        .filter(parked_calls::state_changed_at.le(before))
        .order((parked_calls::state_changed_at, parked_calls::id))
        .limit(limit(max))
        .select(ParkedRow::as_select())
        .load(conn)
        .await
        .map_err(error::query)?;
    parked_all(rows)
}

fn stored_slot(slot: i32) -> Result<SlotNumber, StoreError> {
    u32::try_from(slot)
        .ok()
        .and_then(|s| SlotNumber::new(s).ok())
        .ok_or_else(|| StoreError::Internal(format!("stored slot {slot} is out of range").into()))
}

fn stored_lot_size(size: i32) -> Result<LotSize, StoreError> {
    u32::try_from(size)
        .ok()
        .and_then(|s| LotSize::new(s).ok())
        .ok_or_else(|| {
            StoreError::Internal(format!("stored lot size {size} is out of range").into())
        })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
            call_started_at: epoch() - Duration::from_secs(600),
            conference_sid: Some(conference_sid(9)),
            deadline: Some(epoch() + Duration::from_millis(1500)),
            retrieval: Some(Retrieval::Ringback(agent_identity("bob"))),
            attempt: 2,
            ringbacks: 1,
            state_changed_at: epoch(),
            ended_at: None,
            recording_url: None,
            voicemail_handled: None,
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
