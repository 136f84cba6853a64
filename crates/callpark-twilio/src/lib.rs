//! # callpark-twilio
//!
//! callpark's Twilio adapter: the REST client behind the domain's
//! [`Telephony`](callpark_domain::Telephony) port, the TwiML documents callpark serves,
//! `X-Twilio-Signature` validation for its webhooks, their forms read into domain inputs
//! ([`webhook`], which owns every Twilio string table), and Voice SDK access tokens.
//!
//! ## Public API
//!
//! **REST client** ([`TwilioClient`], implements `Telephony`):
//! ```text
//! TwilioConfig::new(account_sid: AccountSid, auth_token: SecretString) -> TwilioConfig
//! TwilioConfig::with_api_base(self, api_base: impl Into<String>) -> TwilioConfig
//! AccountSid::parse(&str) -> Result<AccountSid, ConfigError>
//! TwilioClient::new(config: TwilioConfig) -> Result<TwilioClient, ClientError>
//! ```
//! The config's public fields hold the timeouts and the retry budget.
//!
//! **TwiML documents** ([`twiml::documents`], each returns the whole document as a `String`):
//! ```text
//! park(announcement: &str, speech: Speech, conference_name: &str,
//!      wait_url: &str, conference_status_url: &str) -> String
//! return_to_lot(announcement: &str, speech: Speech, conference_name: &str,
//!      wait_url: &str, conference_status_url: &str) -> String
//! hold_music(music_url: &str) -> String
//! retrieve(say: &str, speech: Speech, agent_identity: &str, caller_id: Option<&str>,
//!      parameters: &[(&str, &str)], timeout_secs: u32,
//!      answered_callback_url: &str, dial_action_url: &str) -> String
//! voicemail(prompt: &str, speech: Speech, record_action_url: &str,
//!      recording_status_url: &str, max_length_secs: u32) -> String
//! ring_agents(agent_identities: &[&str], status_callback_url: &str, timeout_secs: u32,
//!      action_url: &str, caller_id: Option<&str>) -> String
//! say_and_hangup(text: &str, speech: Speech) -> String
//! TWILIO_HOLD_MUSIC: &str   (for organisations that set no hold music)
//! hangup() -> String
//! Speech { voice: Option<&str>, language: Option<&str> }   (<Say>'s voice and language)
//! ```
//! [`twiml`] itself has the typed builder ([`twiml::Response`], [`twiml::Say`], …) for anything
//! else.
//!
//! **Webhook signatures** ([`signature`]; `K`, `V` are `&str` or `String`):
//! ```text
//! signature::HEADER == "X-Twilio-Signature"
//! validate_form(auth_token: &SecretString, url: &str, params: &[(K, V)],
//!      signature: Option<&str>) -> Result<(), SignatureError>
//! validate_json(auth_token: &SecretString, url: &str, body: &[u8],
//!      signature: Option<&str>) -> Result<(), SignatureError>
//! compute(auth_token: &SecretString, url: &str, params: &[(K, V)]) -> String
//! ```
//!
//! **Webhook forms** ([`webhook`]; each reads a verified [`webhook::Form`], built from the
//! form's `Vec<(String, String)>`):
//! ```text
//! inbound_call(&Form) -> Result<InboundCall, WebhookError>
//! call_status(&Form) -> Result<Option<CallStatusUpdate>, WebhookError>
//! conference_event(&Form) -> Result<ConferenceEvent, WebhookError>
//! dial_outcome(&Form) -> DialOutcome          nobody_answered(&Form) -> bool
//! dial_answered(&Form) -> Option<Answered>
//! recording(&Form) -> Result<Option<HttpUrl>, WebhookError>
//! parse_call_status(&str) -> Option<CallStatus>   (shared with the REST client)
//! ```
//!
//! **Access tokens** ([`access_token`]):
//! ```text
//! voice_token(account_sid: &str, api_key_sid: &str, api_key_secret: &SecretString,
//!      identity: &str, outgoing_application_sid: &str, ttl: Duration)
//!      -> Result<String, AccessTokenError>
//! ```
//!
//! ## Errors
//!
//! The client reports [`TelephonyError`](callpark_domain::TelephonyError)s; their
//! `NotProcessed` and `OutcomeUnknown` causes are [`RestError`]s, which keep Twilio's error
//! code and message ([`ApiError`]) or the transport error as their source.

#![warn(missing_docs)]

pub mod access_token;
mod client;
mod config;
mod error;
mod sid;
pub mod signature;
pub mod twiml;
pub mod webhook;

pub use client::{ClientError, TwilioClient, USER_AGENT};
pub use config::{AccountSid, ConfigError, TwilioConfig};
pub use error::{ApiError, RestError};
