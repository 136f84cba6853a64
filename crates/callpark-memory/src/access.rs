//! Who may act: agents' API tokens (with their expiry) and signed-in pages' sessions.

use std::collections::HashMap;
use std::time::Duration;

use callpark_domain::{Agent, AgentIdentity, NewSession, OrgSlug, Organisation, TokenHash};
use time::OffsetDateTime;

type AgentKey = (OrgSlug, AgentIdentity);

/// An API token: whose it is, and when it stops working.
#[derive(Debug)]
struct Token {
    agent: AgentKey,
    expires_at: Option<OffsetDateTime>,
}

#[derive(Debug)]
struct Session {
    agent: AgentKey,
    last_used: OffsetDateTime,
    expires_at: OffsetDateTime,
}

/// Tokens and sessions, by digest.
#[derive(Debug, Default)]
pub(crate) struct Access {
    tokens: HashMap<TokenHash, Token>,
    sessions: HashMap<TokenHash, Session>,
}

impl Access {
    /// Gives `agent` the token `hash` in place of any it had.
    pub(crate) fn set_token(
        &mut self,
        agent: AgentKey,
        hash: &TokenHash,
        expires_at: Option<OffsetDateTime>,
    ) {
        self.tokens.retain(|_, t| t.agent != agent);
        self.tokens
            .insert(hash.clone(), Token { agent, expires_at });
    }

    /// The agent's token stops working at `at`.
    pub(crate) fn expire_token_of(&mut self, agent: &AgentKey, at: OffsetDateTime) {
        for token in self.tokens.values_mut().filter(|t| &t.agent == agent) {
            token.expires_at = Some(token.expires_at.map_or(at, |e| e.min(at)));
        }
    }

    /// The agent a token that has not expired by `now` belongs to.
    pub(crate) fn token_agent(&self, hash: &TokenHash, now: OffsetDateTime) -> Option<&AgentKey> {
        self.tokens
            .get(hash)
            .filter(|t| t.expires_at.is_none_or(|at| now < at))
            .map(|t| &t.agent)
    }

    pub(crate) fn start_session(&mut self, session: &NewSession) {
        let now = session.started_at;
        self.sessions.retain(|_, s| now < s.expires_at);
        self.sessions.insert(
            session.hash.clone(),
            Session {
                agent: (session.org.clone(), session.identity.clone()),
                last_used: now,
                expires_at: session.expires_at,
            },
        );
    }

    /// The agent of a session still live at `now`, which is marked used.
    pub(crate) fn session_agent(
        &mut self,
        hash: &TokenHash,
        now: OffsetDateTime,
        idle: Duration,
    ) -> Option<&AgentKey> {
        let session = self
            .sessions
            .get_mut(hash)
            .filter(|s| now < s.last_used + idle && now < s.expires_at)?;
        session.last_used = session.last_used.max(now);
        Some(&session.agent)
    }

    pub(crate) fn end_session(&mut self, hash: &TokenHash) {
        self.sessions.remove(hash);
    }

    pub(crate) fn end_sessions_of(&mut self, agent: &AgentKey) {
        self.sessions.retain(|_, s| &s.agent != agent);
    }

    /// Signs out every page of the organisation's agents.
    pub(crate) fn end_sessions_in(&mut self, org: &OrgSlug) {
        self.sessions.retain(|_, s| &s.agent.0 != org);
    }
}

/// The agent behind `key`, from the agents and organisations kept elsewhere in the store,
/// while both are active.
pub(crate) fn agent_of(
    agents: &std::collections::BTreeMap<AgentKey, Agent>,
    orgs: &HashMap<OrgSlug, Organisation>,
    key: Option<&AgentKey>,
) -> Option<Agent> {
    key.and_then(|k| agents.get(k))
        .filter(|a| a.active && orgs.get(&a.org).is_some_and(|o| o.active))
        .cloned()
}
