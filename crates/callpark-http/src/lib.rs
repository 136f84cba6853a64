//! # callpark-http
//!
//! The actix-web front end of callpark: Twilio's webhooks (signature-checked), the agents' API
//! and live event stream, the admin API, operations endpoints and the embedded web page. The
//! only crate that knows HTTP and JSON.
//!
//! Mount it with [`configure`] on an [`HttpContext`]; the `callpark` binary does the wiring.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use async_trait::async_trait;
use callpark_domain::{
    BoxError, CallSid, ClientIdentity, ParkingService, PhoneNumber, SessionLifetime,
};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;
use time::OffsetDateTime;
use tokio::sync::watch;

mod admin;
mod api;
pub mod auth;
pub mod body;
pub mod dto;
pub mod error;
mod history;
mod idempotency;
mod live;
pub mod manager;
pub mod metrics;
mod ops;
pub mod presence;
mod roster;
pub mod routes;
mod sandbox;
mod sse;
mod stats;
mod stream_limits;
pub mod team;
pub mod throttle;

pub use stream_limits::{
    DEFAULT_TOTAL as DEFAULT_MAX_STREAMS, PER_AGENT as MAX_STREAMS_PER_AGENT, StreamLimits,
};
mod ui;
mod voicemail;
pub mod webhooks;

pub use admin::{DEFAULT_ANNOUNCEMENT, DEFAULT_MAX_PARK, new_organisation};
pub use idempotency::IdempotencyKeys;
pub use live::LiveCalls;
pub use routes::Routes;

/// What the Twilio Voice JavaScript SDK's access tokens are made of.
#[derive(Debug, Clone)]
pub struct VoiceSettings {
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_key_secret: SecretString,
    pub twiml_app_sid: String,
    pub ttl: Duration,
}

impl VoiceSettings {
    /// A signed token for the browser of `client`, valid for `ttl` from `now`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn token_for(
        &self,
        client: &ClientIdentity,
        now: OffsetDateTime,
    ) -> Result<String, BoxError> {
        callpark_twilio::access_token::voice_token_at(
            &self.account_sid,
            &self.api_key_sid,
            &self.api_key_secret,
            &client.to_string(),
            &self.twiml_app_sid,
            self.ttl,
            now.into(),
        )
        .map_err(Into::into)
    }
}

/// The front end's settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Verifies `X-Twilio-Signature` (in the sandbox, the sandbox's own token).
    pub twilio_auth_token: SecretString,
    /// Enables the admin API.
    pub admin_token: Option<SecretString>,
    /// Enables `/metrics`, for whoever presents it.
    pub metrics_token: Option<SecretString>,
    /// Enables `GET /api/token`.
    pub voice: Option<VoiceSettings>,
    /// How long a retrieve's `<Dial>` rings the agent (its `timeout`).
    pub ring_time: Duration,
    /// How long a signed-in page's session lives.
    pub sessions: SessionLifetime,
}

/// The simulated telephone network of the sandbox, as the agents' page drives it.
#[async_trait]
pub trait SandboxControl: Send + Sync {
    /// A caller from `from` dials `to`; the browser of `answered_by` answers. Returns the
    /// caller's leg.
    async fn incoming_call(
        &self,
        to: &PhoneNumber,
        from: &PhoneNumber,
        answered_by: &ClientIdentity,
    ) -> Result<CallSid, BoxError>;

    /// The caller on `call` hangs up.
    async fn caller_hangs_up(&self, call: &CallSid) -> Result<(), BoxError>;

    /// A made-up caller's number.
    fn random_caller(&self) -> PhoneNumber;

    /// What `client`'s simulated browser does when it is rung alone (a retrieve, a ring-back).
    fn pickup(&self, client: &ClientIdentity) -> Pickup;

    /// Chooses what `client`'s simulated browser does from now on when it is rung alone.
    fn set_pickup(&self, client: &ClientIdentity, pickup: Pickup);
}

/// What a simulated agent's browser does when a retrieve or a ring-back rings it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pickup {
    /// It answers at once.
    #[default]
    Answer,
    /// It declines.
    Decline,
    /// It rings for the whole ring time, unanswered.
    LetRing,
}

/// Everything the handlers share.
pub struct HttpContext {
    pub service: ParkingService,
    pub settings: HttpSettings,
    pub routes: Routes,
    pub sandbox: Option<Arc<dyn SandboxControl>>,
    /// Flips to `true` when the service shuts down: live streams end so shutdown is not held up.
    pub shutdown: watch::Receiver<bool>,
    pub metrics: Option<PrometheusHandle>,
    pub idempotency: IdempotencyKeys,
    /// The calls occupying a slot, from the live feed: the park and hold TwiML is rendered
    /// from it (and the cached organisation) without the database. Feed it with
    /// [`LiveCalls::follow`].
    pub live: Arc<LiveCalls>,
    /// The followed organisations' agents, for the live stream's `agents` events.
    pub team: Arc<team::TeamWatch>,
    /// Which agents this instance told the store it saw, and when.
    pub seen: Arc<presence::SeenRecently>,
    /// Wrong credentials per client, to throttle guessing.
    pub failed_logins: Arc<throttle::FailedLogins>,
    /// The open live streams, capped per agent and in all.
    pub streams: Arc<StreamLimits>,
}

impl std::fmt::Debug for HttpContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpContext")
            .field("routes", &self.routes)
            .field("sandbox", &self.sandbox.is_some())
            .finish_non_exhaustive()
    }
}

/// Mounts every route on an actix `App`.
pub fn configure(ctx: web::Data<HttpContext>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg| {
        cfg.app_data(ctx.clone())
            .configure(ops::configure)
            .configure(ui::configure)
            .configure(api::configure)
            .configure(admin::configure)
            .configure(webhooks::configure)
            .default_service(error::unknown_path());
    }
}
