//! The crate's contract tests, in one binary so they link once.

mod dependencies;
mod hostile;
mod rest;
mod signature;
mod token;
mod twiml;
mod webhook;
