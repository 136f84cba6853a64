//! The store's queries, grouped by table (crates.io's style): each is a function that takes a
//! connection, next to the row it reads or writes. They answer in the domain's types and
//! errors, so that [`crate::PgStore`] only adds what a port needs around them: a pooled
//! connection, the timeouts, the organisation cache and the notifier.
//!
//! Writes that diesel would not cache as prepared statements (an `UPDATE`, an `INSERT … ON
//! CONFLICT`) are stored functions (`sql/functions.sql`) called from a `SELECT`, which diesel
//! prepares once per connection; predicates on a parked call's state are the typed ones of
//! [`crate::states`], which the partial indexes can serve.

pub(crate) mod agents;
pub(crate) mod calls;
pub(crate) mod history;
pub(crate) mod lot_events;
pub(crate) mod organisations;
pub(crate) mod parked_calls;
pub(crate) mod retention;
pub(crate) mod sessions;

/// A row count as SQL's `LIMIT` takes it.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
