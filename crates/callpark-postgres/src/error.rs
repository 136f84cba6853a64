//! How database failures become the domain's [`StoreError`], exactly once: anything about
//! reaching the server is `Unavailable` (the HTTP layer answers 503), anything the server
//! answered wrongly is `Internal`. The original error is always kept as the source.

use callpark_domain::StoreError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use thiserror::Error;

use crate::rows::CorruptRow;

/// Why [`crate::PgStore::connect`] or [`crate::run_migrations`] failed.
#[derive(Debug, Error)]
pub enum SetupError {
    /// The URL is not a valid connection string.
    #[error("invalid database URL")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// The pool could not be built (an invalid pool size).
    #[error("the connection pool could not be built")]
    Pool(#[source] deadpool::managed::BuildError),
    /// The database could not be reached.
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    /// A migration failed.
    #[error("migrating the database failed")]
    Migration(#[source] callpark_domain::BoxError),
}

/// The operation did not finish within the configured timeouts.
#[derive(Debug, Error)]
#[error("the database did not answer within {0:?}")]
pub(crate) struct TimedOut(pub(crate) std::time::Duration);

/// A query's failure as a [`StoreError`].
pub(crate) fn query(error: DieselError) -> StoreError {
    match &error {
        // No SQLSTATE: the request never got an answer (connection closed or broken).
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        )
        | DieselError::BrokenTransactionManager => StoreError::Unavailable(Box::new(error)),
        // The server gave up waiting (statement_timeout, usually behind a lock under load):
        // the request may well succeed later. diesel keeps no SQLSTATE (57014), only the
        // message.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if info
                .message()
                .starts_with("canceling statement due to statement timeout") =>
        {
            StoreError::Unavailable(Box::new(error))
        }
        _ => StoreError::Internal(Box::new(error)),
    }
}

/// A pool failure (no connection in time, or opening one failed) as a [`StoreError`].
pub(crate) fn pool(error: diesel_async::pooled_connection::deadpool::PoolError) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

pub(crate) fn corrupt(error: CorruptRow) -> StoreError {
    StoreError::Internal(Box::new(error))
}

/// A result the stored functions should never give.
#[derive(Debug, Error)]
#[error("unexpected answer from {function}")]
pub(crate) struct UnexpectedAnswer {
    pub(crate) function: &'static str,
    #[source]
    pub(crate) source: serde_json::Error,
}

/// The name of the constraint a unique or foreign-key violation broke, if it is one.
pub(crate) fn violated_constraint(error: &DieselError, kind: DatabaseErrorKind) -> Option<&str> {
    match error {
        DieselError::DatabaseError(k, info) if *k == kind => {
            Some(info.constraint_name().unwrap_or(""))
        }
        _ => None,
    }
}
