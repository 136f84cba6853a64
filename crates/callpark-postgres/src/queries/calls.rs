//! Callers' (PSTN) legs the service has seen, and the agents' browser legs bridged to them.

use callpark_domain::{AgentIdentity, Call, CallSid, OrgSlug, PhoneNumber, StoreError};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::error;
use crate::rows::{CorruptRow, caller, valid};
use crate::schema::{browser_legs, calls};

diesel::define_sql_function! {
    /// See `sql/functions.sql`.
    fn callpark_record_call(
        pstn: Text,
        org: Text,
        caller_number: Nullable<Text>,
        caller_name: Nullable<Text>,
        started_at: Timestamptz,
    ) -> Bool;
}

diesel::define_sql_function! {
    /// See `sql/functions.sql`.
    fn callpark_link_browser_leg(browser: Text, pstn: Text, agent: Nullable<Text>) -> Bool;
}

diesel::define_sql_function! {
    /// See `sql/functions.sql`.
    fn callpark_record_leg_status(
        browser: Text,
        pstn: Text,
        agent: Nullable<Text>,
        sequence: Nullable<Integer>,
        ended: Bool,
    ) -> Bool;
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = calls, check_for_backend(diesel::pg::Pg))]
struct CallRow {
    pstn_sid: String,
    org: String,
    caller_number: Option<String>,
    caller_name: Option<String>,
    recorded_at: OffsetDateTime,
}

impl TryFrom<CallRow> for Call {
    type Error = CorruptRow;

    fn try_from(row: CallRow) -> Result<Self, CorruptRow> {
        Ok(Call {
            org: valid("calls.org", OrgSlug::parse(&row.org))?,
            pstn: valid("calls.pstn_sid", CallSid::parse(&row.pstn_sid))?,
            caller: caller(row.caller_number.as_deref(), row.caller_name.as_deref())?,
            started_at: row.recorded_at,
        })
    }
}

/// The call a lookup of at most one row found.
fn found(row: QueryResult<CallRow>) -> Result<Option<Call>, StoreError> {
    row.optional()
        .map_err(error::query)?
        .map(|row| Call::try_from(row).map_err(error::corrupt))
        .transpose()
}

/// Records the caller's leg, or updates it to what it is now.
pub(crate) async fn record(conn: &mut AsyncPgConnection, call: &Call) -> Result<(), StoreError> {
    diesel::select(callpark_record_call(
        call.pstn.as_str(),
        call.org.as_str(),
        call.caller.number.as_ref().map(PhoneNumber::as_str),
        call.caller.name.as_ref().map(|n| n.as_str()),
        call.started_at,
    ))
    .execute(conn)
    .await
    .map_err(error::query)?;
    Ok(())
}

/// Links a browser leg to a recorded caller's leg; false when the caller's leg is unknown.
pub(crate) async fn link_browser_leg(
    conn: &mut AsyncPgConnection,
    browser: &CallSid,
    pstn: &CallSid,
    agent: Option<&AgentIdentity>,
) -> Result<bool, StoreError> {
    diesel::select(callpark_link_browser_leg(
        browser.as_str(),
        pstn.as_str(),
        agent.map(AgentIdentity::as_str),
    ))
    .get_result(conn)
    .await
    .map_err(error::query)
}

/// Links a browser leg and records one of its statuses; true when it is news (see
/// `ParkingStore::record_leg_status`).
pub(crate) async fn record_leg_status(
    conn: &mut AsyncPgConnection,
    browser: &CallSid,
    pstn: &CallSid,
    agent: Option<&AgentIdentity>,
    sequence: Option<u32>,
    ended: bool,
) -> Result<bool, StoreError> {
    // Twilio's sequence numbers are small; one beyond i32 is as good as the largest.
    let sequence = sequence.map(|s| i32::try_from(s).unwrap_or(i32::MAX));
    diesel::select(callpark_record_leg_status(
        browser.as_str(),
        pstn.as_str(),
        agent.map(AgentIdentity::as_str),
        sequence,
        ended,
    ))
    .get_result(conn)
    .await
    .map_err(error::query)
}

/// The caller's leg a browser leg is bridged to.
pub(crate) async fn by_browser_leg(
    conn: &mut AsyncPgConnection,
    browser: &CallSid,
) -> Result<Option<Call>, StoreError> {
    let row = browser_legs::table
        .inner_join(calls::table)
        .filter(browser_legs::browser_sid.eq(browser.as_str()))
        .select(CallRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}

pub(crate) async fn by_pstn(
    conn: &mut AsyncPgConnection,
    pstn: &CallSid,
) -> Result<Option<Call>, StoreError> {
    let row = calls::table
        .find(pstn.as_str())
        .select(CallRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}
