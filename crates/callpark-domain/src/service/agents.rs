//! Organisations and agents: administration, authentication, presence.

use super::ParkingService;
use crate::model::{Agent, AgentStatus, NewAgent, NewOrganisation, Organisation};
use crate::ports::{CreateAgentError, CreateOrgError, StoreError};
use crate::values::{OrgSlug, TokenHash};

impl ParkingService {
    /// # Errors
    /// As [`crate::ParkingStore::create_org`].
    pub async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError> {
        self.ports.store.create_org(org).await
    }

    /// # Errors
    /// As [`crate::ParkingStore::create_agent`].
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
}
