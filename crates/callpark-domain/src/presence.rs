//! Reads about agents and the store that the front end needs besides the lot.

use crate::model::{Agent, Call};
use crate::ports::StoreError;
use crate::service::ParkingService;
use crate::values::{CallSid, OrgSlug};

/// The call an agent's browser is on: its own leg, and the caller's leg it bridges to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCall {
    /// The agent's own (browser) leg.
    pub browser_leg: CallSid,
    /// The caller's leg it is bridged to.
    pub call: Call,
}

impl ParkingService {
    /// The call `agent` is on now, if callpark knows it.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn current_call(&self, agent: &Agent) -> Result<Option<AgentCall>, StoreError> {
        let store = &self.ports.store;
        let Some(agent) = store.agent(&agent.org, &agent.identity).await? else {
            return Ok(None);
        };
        let Some(browser_leg) = agent.current_call else {
            return Ok(None);
        };
        Ok(store
            .call_by_browser_leg(&browser_leg)
            .await?
            .filter(|call| call.org == agent.org)
            .map(|call| AgentCall { browser_leg, call }))
    }

    /// Checks that the store answers (readiness): one cheap read.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not.
    pub async fn check_store(&self) -> Result<(), StoreError> {
        let probe =
            OrgSlug::parse("readiness-probe").map_err(|e| StoreError::Internal(e.into()))?;
        self.ports.store.org(&probe).await.map(|_| ())
    }
}
