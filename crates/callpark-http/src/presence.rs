//! Presence from reality: an agent stays `available` only while it shows signs of life — its
//! page's live stream is open (the stream says so every few seconds), or it makes requests.
//! Requests are many, so each instance tells the store at most once per [`SEEN_EVERY`] per
//! agent.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use callpark_domain::{Agent, AgentIdentity, OrgSlug, ParkingService};

/// How often an agent's signs of life reach the store, at most, from one instance.
pub const SEEN_EVERY: Duration = Duration::from_secs(5);

/// When this instance last told the store that each agent was seen.
#[derive(Debug, Default)]
pub struct SeenRecently {
    told: Mutex<HashMap<(OrgSlug, AgentIdentity), Instant>>,
}

impl SeenRecently {
    /// Tells the store that `agent` was seen, unless this instance did within [`SEEN_EVERY`].
    /// A store that cannot take it now is no reason to refuse the request that showed it.
    pub(crate) async fn note(&self, service: &ParkingService, agent: &Agent) {
        let now = Instant::now();
        let due = {
            let mut told = self.told.lock().unwrap_or_else(PoisonError::into_inner);
            let key = (agent.org.clone(), agent.identity.clone());
            let due = told
                .get(&key)
                .is_none_or(|at| now.duration_since(*at) >= SEEN_EVERY);
            if due {
                told.insert(key, now);
            }
            due
        };
        if due && let Err(e) = service.seen(agent).await {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "could not note that an agent was seen"
            );
        }
    }
}
