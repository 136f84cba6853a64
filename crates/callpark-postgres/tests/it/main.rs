//! Integration tests against a real PostgreSQL (see `support` for where it comes from).

mod availability;
mod concurrency;
mod conformance;
mod events;
mod functions;
mod migrations;
mod plans;
mod schema;
mod support;
