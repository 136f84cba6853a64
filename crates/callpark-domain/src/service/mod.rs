//! The use cases. The service decides (through [`crate::machine::transition`]); the ports act.
//!
//! Every change of a parked call goes through one function, [`ParkingService::apply_signal`]
//! (in `apply`): read, decide, compare-and-set, retry a lost race, publish, carry out the
//! telephony effect. The use cases around it: `park`, `retrieve`, `signals` (Twilio's webhooks),
//! `sweeps` (deadlines and reconciliation), `agents` (administration and presence) and `lot`
//! (reads).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::machine::TransitionContext;
use crate::model::{MAX_PARK_TIME, Organisation, ParkedCall};
use crate::ports::{
    Clock, EventPublisher, EventSubscription, ParkingStore, StoreError, Telephony, WebhookUrls,
};

mod agents;
mod apply;
mod errors;
mod lot;
mod park;
mod requests;
mod retrieve;
mod signals;
mod sweeps;
mod voicemail;

pub use agents::SessionLifetime;
pub use errors::{
    InboundError, ParkError, RetrieveError, SignalError, TelephonyFailure, VoicemailError,
};
pub use requests::{
    AfterDial, CallStatusUpdate, ConferenceEvent, ConferenceEventKind, InboundCall, InboundRouting,
    LeaveReason, LotView, ParkRequest, ParkedCallContext, SlotView,
};
pub use sweeps::SweepReport;

/// The ports the service works through.
#[derive(Clone)]
pub struct Ports {
    /// Durable state.
    pub store: Arc<dyn ParkingStore>,
    /// The telephony that moves the calls.
    pub telephony: Arc<dyn Telephony>,
    /// The live event feed.
    pub events: Arc<dyn EventPublisher>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The front end's URLs handed to the telephony.
    pub urls: Arc<dyn WebhookUrls>,
}

/// The call-parking use cases.
#[derive(Clone)]
pub struct ParkingService {
    pub(crate) ports: Ports,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ParkingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParkingService").finish_non_exhaustive()
    }
}

impl ParkingService {
    /// The use cases over these ports.
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// The time, by the service's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// A live feed of every organisation's events (filter by organisation yourself).
    pub fn subscribe(&self) -> Box<dyn EventSubscription> {
        self.ports.events.subscribe()
    }

    fn context(&self, org: &Organisation) -> TransitionContext {
        TransitionContext {
            now: self.now(),
            // Twilio ends a call after four hours: a longer park would drop the caller before
            // the timeout action could ring back or take a message.
            max_park: org.max_park.min(MAX_PARK_TIME),
        }
    }

    async fn org_of(&self, call: &ParkedCall) -> Result<Organisation, StoreError> {
        self.ports.store.org(&call.org).await?.ok_or_else(|| {
            StoreError::Internal(format!("parked call {} has no organisation", call.id).into())
        })
    }
}
