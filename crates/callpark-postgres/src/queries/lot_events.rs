//! The event log: each organisation's events by sequence, the counters of `org_lot_state`, and
//! the notification that events are committed.

use callpark_domain::{LotEvent, LotEventKind, OrgSlug, ParkedCall, Sequence, StoreError};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use time::OffsetDateTime;

use super::limit;
use super::parked_calls::ParkedRow;
use crate::error;
use crate::rows::{CorruptRow, unknown, valid};
use crate::schema::{lot_events, org_lot_state};

diesel::define_sql_function! {
    /// See `sql/functions.sql`.
    fn callpark_notify_all(payloads: Array<Text>) -> Integer;
}

/// A `lot_events` row, read by diesel or as JSON from the stored functions.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = lot_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EventRow {
    /// The global id: names the row in notifications and logs, orders nothing.
    pub(crate) id: i64,
    pub(crate) org: String,
    pub(crate) sequence: i64,
    kind: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    call: serde_json::Value,
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

/// The event a row holds.
pub(crate) fn event(row: EventRow) -> Result<LotEvent, StoreError> {
    LotEvent::try_from(row).map_err(error::corrupt)
}

/// At most `max` of the organisation's event rows after sequence `after`, in order.
pub(crate) async fn rows_after(
    conn: &mut AsyncPgConnection,
    org: &str,
    after: i64,
    max: i64,
) -> QueryResult<Vec<EventRow>> {
    lot_events::table
        .filter(lot_events::org.eq(org))
        .filter(lot_events::sequence.gt(after))
        .order(lot_events::sequence)
        .limit(max)
        .select(EventRow::as_select())
        .load(conn)
        .await
}

/// At most `max` of the organisation's events after `after`, in order.
pub(crate) async fn after(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    after: Sequence,
    max: usize,
) -> Result<Vec<LotEvent>, StoreError> {
    let after = i64::try_from(after.get()).unwrap_or(i64::MAX);
    rows_after(conn, org.as_str(), after, limit(max))
        .await
        .map_err(error::query)?
        .into_iter()
        .map(event)
        .collect()
}

/// Every organisation's last event sequence.
pub(crate) async fn last_sequences(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(String, i64)>> {
    org_lot_state::table
        .select((org_lot_state::org, org_lot_state::last_sequence))
        .load(conn)
        .await
}

/// `NOTIFY`s each payload on [`crate::CHANNEL`], in one round trip.
pub(crate) async fn notify(conn: &mut AsyncPgConnection, payloads: &[String]) -> QueryResult<()> {
    diesel::select(callpark_notify_all(payloads))
        .execute(conn)
        .await
        .map(drop)
}
