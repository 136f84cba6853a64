//! The domain's integration tests, one binary (needs the `testkit` and `mocks` features):
//!
//! - [`machine`]: the state machine as a table of every (state, signal) pair;
//! - [`service`]: the use cases on the in-memory store and scripted telephony;
//! - [`reconcile`]: a ring-back whose outcome Twilio left unknown, settled without losing the
//!   caller;
//! - [`call_limit`]: Twilio's four-hour limit on a call, from its start, and the deadlines;
//! - [`mocks`]: the use cases against mockall mocks of the ports;
//! - [`properties`]: random interleavings, with the lot's invariants after every step;
//! - [`stats`]: park analytics agree with the history they summarise, on generated lives;
//! - [`public_api`]: the public API is the checked-in `public-api.txt`;
//! - [`dependencies`]: the domain depends on no runtime, web, SQL or serde crate.

mod call_limit;
mod dependencies;
mod machine;
mod mocks;
mod properties;
mod public_api;
mod reconcile;
mod service;
mod stats;
mod support;
