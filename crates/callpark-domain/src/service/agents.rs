//! Organisations and agents: administration, authentication, presence.

use std::time::Duration;

use time::OffsetDateTime;

use super::ParkingService;
use crate::model::{
    Agent, AgentChange, AgentStatus, NewAgent, NewOrganisation, NewSession, OrgChange, Organisation,
};
use crate::ports::{ChangeOrgError, CreateAgentError, CreateOrgError, StoreError};
use crate::values::{AgentIdentity, OrgSlug, TokenHash};

/// How long a signed-in page's session lives: it ends when unused for `idle`, and `absolute`
/// after it began however much it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// How long a session may go unused.
    pub idle: Duration,
    /// How long a session lives at most.
    pub absolute: Duration,
}

impl SessionLifetime {
    /// Fits a 12-hour shift: signed in once at its start, the page stays signed in to its end,
    /// and a page left unused for an hour is signed out.
    pub const SHIFT: Self = Self {
        idle: Duration::from_secs(60 * 60),
        absolute: Duration::from_secs(12 * 60 * 60),
    };
}

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

    /// The agent an API token belongs to, unless the token expired.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn authenticate(&self, token: &TokenHash) -> Result<Option<Agent>, StoreError> {
        self.ports.store.agent_by_token(token, self.now()).await
    }

    /// Gives an agent a new API token (its digest), expiring at `expires_at` if set; the old
    /// one stops working at once. `false` for an unknown agent.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn replace_token(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        hash: &TokenHash,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        self.ports
            .store
            .replace_token(org, identity, hash, expires_at)
            .await
    }

    /// Starts a session of a page the agent signed in on, identified by the digest of its
    /// secret.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn start_session(
        &self,
        agent: &Agent,
        hash: TokenHash,
        lifetime: SessionLifetime,
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.ports
            .store
            .start_session(&NewSession {
                hash,
                org: agent.org.clone(),
                identity: agent.identity.clone(),
                started_at: now,
                expires_at: now + lifetime.absolute,
            })
            .await
    }

    /// The agent of a live session, which this use keeps alive for another `lifetime.idle`.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn session_agent(
        &self,
        hash: &TokenHash,
        lifetime: SessionLifetime,
    ) -> Result<Option<Agent>, StoreError> {
        self.ports
            .store
            .agent_by_session(hash, self.now(), lifetime.idle)
            .await
    }

    /// Ends a session at once (sign-out).
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn end_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.ports.store.end_session(hash).await
    }

    /// Signs out every page of the agent at once.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn end_sessions_of(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<(), StoreError> {
        self.ports.store.end_agent_sessions(org, identity).await
    }

    /// # Errors
    /// [`StoreError`] only.
    pub async fn org(&self, slug: &OrgSlug) -> Result<Option<Organisation>, StoreError> {
        self.ports.store.org(slug).await
    }

    /// The organisation's active agents, by identity: its team as agents see it.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        let mut agents = self.ports.store.agents(org).await?;
        agents.retain(|a| a.active);
        Ok(agents)
    }

    /// Every agent of the organisation, deactivated ones too, by identity: for its managers.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn roster(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        self.ports.store.agents(org).await
    }

    /// Every organisation, by slug.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.ports.store.orgs().await
    }

    /// Changes an organisation's settings (see [`OrgChange`]).
    ///
    /// # Errors
    /// [`ChangeOrgError`]; nothing changed then.
    pub async fn change_org(
        &self,
        slug: &OrgSlug,
        change: &OrgChange,
    ) -> Result<Organisation, ChangeOrgError> {
        self.ports.store.change_org(slug, change).await
    }

    /// Changes an agent's name or role; `None` for an unknown agent.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn change_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        change: &AgentChange,
    ) -> Result<Option<Agent>, StoreError> {
        self.ports.store.change_agent(org, identity, change).await
    }

    /// Deactivates an agent now: its token and sessions are refused at once on every
    /// instance, it is never rung again; calls it parked stay parked and retrievable by others,
    /// and the history keeps its name. `None` for an unknown agent.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn deactivate_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<Option<Agent>, StoreError> {
        self.ports
            .store
            .deactivate_agent(org, identity, self.now())
            .await
    }

    /// Sets an agent's presence (sign-in, sign-out). Calls it parked stay parked. Signing in
    /// is a sign of life, as [`Self::seen`].
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn set_presence(
        &self,
        agent: &Agent,
        status: AgentStatus,
    ) -> Result<bool, StoreError> {
        if status == AgentStatus::Available {
            self.seen(agent).await?;
        }
        self.ports
            .store
            .set_agent_status(&agent.org, &agent.identity, status, None)
            .await
    }

    /// The agent showed signs of life now (its page's live stream is open, or it asked
    /// something): it stays `available` for another presence timeout.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn seen(&self, agent: &Agent) -> Result<(), StoreError> {
        self.ports
            .store
            .agent_seen(&agent.org, &agent.identity, self.now())
            .await
    }

    /// Presence from reality: every `available` agent not seen for `timeout` (its page closed,
    /// or its network went) goes `offline`, so no inbound call rings a page that is gone.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn expire_presence(&self, timeout: Duration) -> Result<Vec<Agent>, StoreError> {
        self.ports.store.expire_presence(self.now() - timeout).await
    }
}
