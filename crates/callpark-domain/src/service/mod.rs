//! The use cases. The service decides (through [`crate::machine::transition`]); the ports act.
//!
//! Every change of a parked call goes through one function, [`ParkingService::apply_signal`]
//! (in `apply`): read, decide, compare-and-set, retry a lost race, publish, carry out the
//! telephony effect. The use cases around it: `park`, `retrieve`, `signals` (Twilio's webhooks)
//! and `sweeps` (deadlines and reconciliation).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::events::LotEvent;
use crate::machine::TransitionContext;
use crate::model::{
    Agent, AgentStatus, MAX_PARK_TIME, NewAgent, NewOrganisation, Organisation, ParkedCall,
};
use crate::ports::{
    Clock, CreateAgentError, CreateOrgError, EventPublisher, EventSubscription, ParkingStore,
    StoreError, Telephony, WebhookUrls,
};
use crate::values::{OrgSlug, ParkedCallId, Sequence, TokenHash};

mod apply;
mod errors;
mod park;
mod requests;
mod retrieve;
mod signals;
mod sweeps;

pub use errors::{InboundError, ParkError, RetrieveError, SignalError, TelephonyFailure};
pub use requests::{
    AfterDial, CallStatusUpdate, ConferenceEvent, ConferenceEventKind, InboundCall, InboundRouting,
    LeaveReason, LotView, ParkRequest, ParkedCallContext, SlotView,
};
pub use sweeps::SweepReport;

/// The ports the service works through.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn ParkingStore>,
    pub telephony: Arc<dyn Telephony>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
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
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// A live feed of every organisation's events (filter by organisation yourself).
    pub fn subscribe(&self) -> Box<dyn EventSubscription> {
        self.ports.events.subscribe()
    }

    // ----- administration -----

    /// # Errors
    /// As [`ParkingStore::create_org`].
    pub async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError> {
        self.ports.store.create_org(org).await
    }

    /// # Errors
    /// As [`ParkingStore::create_agent`].
    pub async fn create_agent(&self, agent: &NewAgent) -> Result<Agent, CreateAgentError> {
        self.ports.store.create_agent(agent).await
    }

    /// The agent an API token belongs to.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn authenticate(&self, token: &TokenHash) -> Result<Option<Agent>, StoreError> {
        self.ports.store.agent_by_token(token).await
    }

    /// # Errors
    /// [`StoreError`] only.
    pub async fn org(&self, slug: &OrgSlug) -> Result<Option<Organisation>, StoreError> {
        self.ports.store.org(slug).await
    }

    /// # Errors
    /// [`StoreError`] only.
    pub async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        self.ports.store.agents(org).await
    }

    /// Sets an agent's presence (sign-in, sign-out). Calls it parked stay parked.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn set_presence(
        &self,
        agent: &Agent,
        status: AgentStatus,
    ) -> Result<bool, StoreError> {
        self.ports
            .store
            .set_agent_status(&agent.org, &agent.identity, status, None)
            .await
    }

    // ----- reads -----

    /// The whole lot of an organisation, free slots included.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn lot(&self, org: &Organisation) -> Result<LotView, StoreError> {
        let mut snapshot = self.ports.store.lot(&org.slug).await?;
        snapshot.occupied.sort_by_key(|c| c.slot);
        let mut occupied = snapshot.occupied.into_iter().peekable();
        let slots = org
            .lot_size
            .slots()
            .map(|slot| SlotView {
                slot,
                call: occupied.next_if(|c| c.slot == slot),
            })
            .collect();
        Ok(LotView {
            org: org.clone(),
            slots,
            sequence: snapshot.sequence,
        })
    }

    /// Events of an organisation after `after`, for a client that resumes.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        limit: usize,
    ) -> Result<Vec<LotEvent>, StoreError> {
        self.ports.store.events_after(org, after, limit).await
    }

    /// A parked call with its organisation, for rendering its TwiML.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn parked_call(
        &self,
        id: ParkedCallId,
    ) -> Result<Option<ParkedCallContext>, StoreError> {
        let Some(call) = self.ports.store.parked_call(id).await? else {
            return Ok(None);
        };
        let Some(org) = self.ports.store.org(&call.org).await? else {
            return Ok(None);
        };
        Ok(Some(ParkedCallContext { call, org }))
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
