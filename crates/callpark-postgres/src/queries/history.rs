//! The history of parked calls: pages of an organisation's parked calls, newest first, read by
//! keyset on `(parked_at, id)` so that any page is an index range (`parked_calls_history*`).

use callpark_domain::{HistoryCursor, HistoryFilter, OrgSlug, ParkedCall, StoreError};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::limit;
use super::parked_calls::{ParkedRow, parked};
use crate::error;
use crate::schema::parked_calls;

/// Up to `max` of the organisation's parked calls that `filter` lets through and that come
/// after `after`, newest first.
pub(crate) async fn page(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    filter: &HistoryFilter,
    after: Option<HistoryCursor>,
    max: usize,
) -> Result<Vec<ParkedCall>, StoreError> {
    let mut query = parked_calls::table
        .filter(parked_calls::org.eq(org.as_str().to_owned()))
        .into_boxed();
    if let Some(from) = filter.parked_from {
        query = query.filter(parked_calls::parked_at.ge(from));
    }
    if let Some(before) = filter.parked_before {
        query = query.filter(parked_calls::parked_at.lt(before));
    }
    if let Some(outcome) = filter.outcome {
        // One state is an equality, which the (…, state, parked_at, id) indexes read in
        // order; `= ANY` is not (PostgreSQL would scan the whole history for it), so the live
        // states have a partial index of their own.
        query = match outcome.states() {
            [state] => query.filter(parked_calls::state.eq(state.as_str())),
            states => query.filter(parked_calls::state.eq_any(states.iter().map(|s| s.as_str()))),
        };
    }
    if let Some(slot) = filter.slot {
        query = query.filter(parked_calls::slot.eq(i32::from(slot.get())));
    }
    if let Some(agent) = &filter.agent {
        let agent = agent.as_str().to_owned();
        query = query.filter(
            parked_calls::parked_by
                .eq(agent.clone())
                .or(parked_calls::state
                    .eq("retrieved")
                    .and(parked_calls::retrieval_agent.eq(agent))),
        );
    }
    if let Some(cursor) = after {
        // A row comparison, which the index's (parked_at, id) range serves; diesel has no
        // typed form of it.
        query = query.filter(
            sql::<Bool>("(parked_calls.parked_at, parked_calls.id) < (")
                .bind::<Timestamptz, _>(cursor.parked_at())
                .sql(", ")
                .bind::<diesel::sql_types::Uuid, _>(cursor.id().as_uuid())
                .sql(")"),
        );
    }
    let rows: Vec<ParkedRow> = query
        .order((parked_calls::parked_at.desc(), parked_calls::id.desc()))
        .limit(limit(max))
        .select(ParkedRow::as_select())
        .load(conn)
        .await
        .map_err(error::query)?;
    rows.into_iter().map(parked).collect()
}
