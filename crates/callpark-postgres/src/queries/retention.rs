//! The retention's batches: what is older than the window is forgotten a few hundred rows at
//! a time, each statement short, so that the lot never waits for it.

use callpark_domain::{Forgotten, StoreError};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use super::limit;
use crate::error;
use crate::schema::{calls, lot_events, parked_calls};

/// One batch of [`callpark_domain::ParkingStore::forget_before`]: at most `max` rows of each
/// kind.
pub(crate) async fn forget_before(
    conn: &mut AsyncPgConnection,
    cutoff: OffsetDateTime,
    max: usize,
) -> Result<Forgotten, StoreError> {
    use parked_calls::{caller_name, caller_number, ended_at, recording_url};
    // The rows of the partial index `parked_calls_to_forget`, oldest end first.
    let remembered = parked_calls::table
        .select(parked_calls::id)
        .filter(ended_at.lt(cutoff))
        .filter(
            caller_number
                .is_not_null()
                .or(caller_name.is_not_null())
                .or(recording_url.is_not_null()),
        )
        .order(ended_at)
        .limit(limit(max))
        .load::<uuid::Uuid>(conn)
        .await
        .map_err(error::query)?;
    let anonymised =
        diesel::update(parked_calls::table.filter(parked_calls::id.eq_any(remembered)))
            .set((
                caller_number.eq(None::<String>),
                caller_name.eq(None::<String>),
                recording_url.eq(None::<String>),
            ))
            .execute(conn)
            .await
            .map_err(error::query)?;
    // Events are numbered as they are written, so the oldest are the first ids: looking at
    // those alone finds every event older than the cutoff without an index on `at`.
    let oldest: Vec<(i64, OffsetDateTime)> = lot_events::table
        .select((lot_events::id, lot_events::at))
        .order(lot_events::id)
        .limit(limit(max))
        .load(conn)
        .await
        .map_err(error::query)?;
    let before: Vec<i64> = oldest
        .into_iter()
        .filter(|(_, at)| *at < cutoff)
        .map(|(id, _)| id)
        .collect();
    let events = diesel::delete(lot_events::table.filter(lot_events::id.eq_any(before)))
        .execute(conn)
        .await
        .map_err(error::query)?;
    // A call's agents' legs go with it (ON DELETE CASCADE).
    let began_before = calls::table
        .select(calls::pstn_sid)
        .filter(calls::recorded_at.lt(cutoff))
        .order(calls::recorded_at)
        .limit(limit(max))
        .load::<String>(conn)
        .await
        .map_err(error::query)?;
    let calls = diesel::delete(calls::table.filter(calls::pstn_sid.eq_any(began_before)))
        .execute(conn)
        .await
        .map_err(error::query)?;
    Ok(Forgotten {
        anonymised,
        events,
        calls,
    })
}
