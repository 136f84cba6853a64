//! Organisations' settings changed; agents created, managed (name, role, deactivation), and
//! their presence.

use callpark_domain::{
    Agent, AgentChange, AgentIdentity, AgentStatus, ChangeOrgError, CreateAgentError, NewAgent,
    OrgChange, OrgSlug, Organisation,
};
use time::OffsetDateTime;

use crate::State;

impl State {
    /// Under the one lock every claim takes, so no claim slips in between check and change.
    pub(crate) fn change_org(
        &mut self,
        slug: &OrgSlug,
        change: &OrgChange,
    ) -> Result<Organisation, ChangeOrgError> {
        let org = self.orgs.get(slug).ok_or(ChangeOrgError::UnknownOrg)?;
        if let Some(size) = change.lot_size {
            let beyond = self
                .occupancy
                .keys()
                .filter(|(o, slot)| o == slug && !size.contains(*slot))
                .map(|(_, slot)| *slot)
                .max();
            if let Some(slot) = beyond {
                return Err(ChangeOrgError::SlotOccupied(slot));
            }
        }
        let numbers = change.numbers.as_deref().unwrap_or_default();
        if let Some(taken) = numbers
            .iter()
            .find(|n| self.numbers.get(*n).is_some_and(|owner| owner != slug))
        {
            return Err(ChangeOrgError::NumberTaken(taken.clone()));
        }
        let changed = change.applied_to(org);
        if change.numbers.is_some() {
            self.numbers.retain(|_, owner| owner != slug);
            for number in &changed.numbers {
                self.numbers.insert(number.clone(), slug.clone());
            }
        }
        if change.active == Some(false) {
            self.sign_out_org(slug);
        }
        self.orgs.insert(slug.clone(), changed.clone());
        Ok(changed)
    }

    /// A deactivated organisation's pages are signed out and its agents `offline`.
    fn sign_out_org(&mut self, slug: &OrgSlug) {
        self.access.end_sessions_in(slug);
        for agent in self.agents.values_mut().filter(|a| &a.org == slug) {
            agent.status = AgentStatus::Offline;
            agent.current_call = None;
        }
    }

    pub(crate) fn create_agent(&mut self, new: &NewAgent) -> Result<Agent, CreateAgentError> {
        if !self.orgs.contains_key(&new.org) {
            return Err(CreateAgentError::UnknownOrg);
        }
        let key = (new.org.clone(), new.identity.clone());
        if self.agents.contains_key(&key) {
            return Err(CreateAgentError::AlreadyExists);
        }
        let agent = Agent {
            org: new.org.clone(),
            identity: new.identity.clone(),
            display_name: new.display_name.clone(),
            status: AgentStatus::Offline,
            current_call: None,
            role: new.role,
            active: true,
        };
        self.access
            .set_token(key.clone(), &new.token_hash, new.token_expires_at);
        self.agents.insert(key, agent.clone());
        Ok(agent)
    }

    /// A sign of life; an earlier one never overwrites a later one.
    pub(crate) fn agent_seen(
        &mut self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) {
        let seen = self
            .seen
            .entry((org.clone(), identity.clone()))
            .or_insert(at);
        *seen = (*seen).max(at);
    }

    /// Every available agent not seen since `seen_before` goes offline.
    pub(crate) fn expire_presence(&mut self, seen_before: OffsetDateTime) -> Vec<Agent> {
        let mut gone = Vec::new();
        for (key, agent) in &mut self.agents {
            let seen = self.seen.get(key).is_some_and(|at| *at >= seen_before);
            if agent.status == AgentStatus::Available && !seen {
                agent.status = AgentStatus::Offline;
                agent.current_call = None;
                gone.push(agent.clone());
            }
        }
        gone
    }

    pub(crate) fn change_agent(
        &mut self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        change: &AgentChange,
    ) -> Option<Agent> {
        let agent = self.agents.get_mut(&(org.clone(), identity.clone()))?;
        if let Some(name) = &change.display_name {
            agent.display_name.clone_from(name);
        }
        if let Some(role) = change.role {
            agent.role = role;
        }
        Some(agent.clone())
    }

    pub(crate) fn deactivate_agent(
        &mut self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Option<Agent> {
        let key = (org.clone(), identity.clone());
        let agent = self.agents.get_mut(&key)?;
        agent.active = false;
        agent.status = AgentStatus::Offline;
        agent.current_call = None;
        let agent = agent.clone();
        self.access.expire_token_of(&key, at);
        self.access.end_sessions_of(&key);
        Some(agent)
    }
}
