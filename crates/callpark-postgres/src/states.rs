//! Predicates on `parked_calls.state` that the partial indexes can serve.
//!
//! The partial indexes (one occupant per slot and per caller's leg, the deadline sweep, the
//! reconciler) are declared `WHERE state IN (...constants...)`. A query that binds the states as
//! a parameter (`state = ANY($1)`) cannot use them once PostgreSQL settles on a generic plan
//! (from the sixth execution of a prepared statement on): the planner cannot prove the index's
//! predicate from an unknown parameter, and reads the organisation's whole history instead, a
//! cost that grows with every call ever parked. These predicates are written with the same
//! constants as the indexes. Each is its own type, so the statement cache (which keys on the
//! query's type) can never confuse two of them.

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;

use crate::schema::parked_calls;

macro_rules! state_predicate {
    ($(#[$doc:meta])* $name:ident => $sql:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, QueryId, ValidGrouping)]
        pub(crate) struct $name;

        impl Expression for $name {
            type SqlType = Bool;
        }

        impl<QS> AppearsOnTable<QS> for $name where parked_calls::state: AppearsOnTable<QS> {}

        impl<QS> SelectableExpression<QS> for $name where
            parked_calls::state: SelectableExpression<QS>
        {
        }

        impl QueryFragment<Pg> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
                out.push_sql(concat!("\"parked_calls\".\"state\" ", $sql));
                Ok(())
            }
        }
    };
}

state_predicate! {
    /// The call holds its slot (`parked_calls_one_per_slot`, `parked_calls_one_per_pstn`).
    Occupying => "IN ('parking', 'parked', 'retrieving')"
}

state_predicate! {
    /// Waiting for Twilio to confirm a redirect (`parked_calls_in_flight`).
    InFlight => "IN ('parking', 'retrieving')"
}

state_predicate! {
    /// Parked, so its deadline may be due (`parked_calls_due`).
    Parked => "= 'parked'"
}
