//! End-to-end tests of the `callpark` service: the app on port 0, wiremock as Twilio, a real
//! PostgreSQL, and correctly signed webhooks.

mod attempts;
mod bad_input;
mod crash;
mod db;
mod edges;
mod helpers;
mod history;
mod life;
mod limits;
mod mutations;
mod operations;
mod presence;
mod reliability;
mod retention;
mod roles;
mod sandbox;
mod sessions;
mod settings;
mod sse;
mod tenants;
mod voicemail;
