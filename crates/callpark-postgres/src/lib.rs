//! # callpark-postgres
//!
//! The PostgreSQL adapter of callpark: Postgres is the single source of truth when several
//! instances run behind a load balancer.
//!
//! ## What the app wires
//!
//! ```no_run
//! # async fn wire() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use callpark_postgres::{PgConfig, PgEvents, PgStore, run_migrations};
//!
//! let config = PgConfig::new("postgres://callpark@db/callpark");
//! run_migrations(&config).await?;            // idempotent; instances take turns
//! let store = Arc::new(PgStore::connect(&config).await?);
//! let events = Arc::new(PgEvents::start(&config)); // spawns its LISTEN task on this runtime
//! // readiness: store.ping().await.is_ok() && events.is_listening()
//! # Ok(()) }
//! ```
//!
//! - [`PgConfig`]: URL, pool size, connect and statement timeouts.
//! - [`run_migrations`]: applies the embedded migrations ([`MIGRATIONS`]).
//! - [`PgStore`]: the [`callpark_domain::ParkingStore`]; [`PgStore::ping`] for readiness.
//! - [`PgEvents`]: the [`callpark_domain::EventPublisher`], fed by `LISTEN/NOTIFY`.
//!
//! ## How it keeps its promises
//!
//! - **One occupant per slot.** Partial unique indexes allow one occupying record per
//!   `(org, slot)` and per caller's leg (`WHERE state IN ('parking','parked','retrieving')`).
//! - **One round trip, one transaction per change.** Claims and transitions are stored
//!   functions (`callpark_claim_slot`, `callpark_apply`: `sql/functions.sql`) called as prepared
//!   statements. A claim locks its organisation's lot-state row first, so claims of one
//!   organisation are serialised and the slot chosen sees every committed claim; a transition
//!   locks its record, then the lot-state row only to take its event's sequence, so the
//!   organisation's writers queue for the event insert and commit alone. (Why this order cannot
//!   deadlock is in `sql/functions.sql`.)
//! - **Compare-and-set.** A transition is `UPDATE … WHERE id = $1 AND state = $2 AND version =
//!   $3`; no row means someone else won ([`callpark_domain::CasError::Conflict`]).
//! - **Gap-free events.** The event row and its per-organisation sequence (from the lot-state
//!   row, `UPDATE … RETURNING`) are part of the change's transaction. The `NOTIFY` is not (a
//!   notifying transaction holds a database-wide lock through its WAL flush, which would
//!   serialise every writer): the store's notifier task sends it after the commit, batched with
//!   whatever else committed meanwhile. Listeners read rows by sequence, so a lost notification
//!   delays an event but never loses it.
//! - **Deadlines fire once.** `due_deadlines` reads with `FOR UPDATE SKIP LOCKED`; the
//!   compare-and-set of the transition is what makes firing exactly-once.
//! - **503, not a hang.** Pool and connection failures are
//!   [`callpark_domain::StoreError::Unavailable`], within the configured timeouts; query
//!   failures are `Internal`. Both keep the cause as their `source()`.

mod config;
mod error;
mod events;
mod migrations;
mod notifier;
mod org_cache;
mod queries;
mod rows;
/// The tables as diesel sees them: `diesel print-schema` output (see `diesel.toml`), which a
/// test checks against the migrations. Regenerate it after changing them rather than editing
/// it by hand.
pub mod schema;
mod states;
mod store;
#[cfg(feature = "test-db")]
pub mod testdb;

pub use config::{APPLICATION_NAME, LISTENER_APPLICATION_NAME, PgConfig};
pub use error::SetupError;
pub use events::{CHANNEL, PgEvents};
pub use migrations::{MIGRATIONS, run_migrations};
pub use store::PgStore;
