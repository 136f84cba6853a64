//! Live streams are capped, per agent and in all, on each instance: each open stream holds a
//! task, a feed subscription and a connection, so one agent (or one leaked token) opening
//! thousands could starve everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix_web::http::StatusCode;
use callpark_domain::{Agent, AgentIdentity, OrgSlug};

use crate::error::ApiError;

/// Open streams one agent may have on one instance (its tabs and devices).
pub const PER_AGENT: usize = 8;
/// Open streams one instance serves at most, unless configured otherwise.
pub const DEFAULT_TOTAL: usize = 10_000;

type Key = (OrgSlug, AgentIdentity);

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_agent: HashMap<Key, usize>,
}

/// The open streams, counted.
#[derive(Debug)]
pub struct StreamLimits {
    total: usize,
    counts: Mutex<Counts>,
}

impl StreamLimits {
    /// Serves at most `total` streams, [`PER_AGENT`] per agent.
    pub fn new(total: usize) -> Self {
        Self {
            total: total.max(1),
            counts: Mutex::default(),
        }
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for one more stream of `agent`, held until the guard drops; 429 when full.
    pub(crate) fn open(self: &Arc<Self>, agent: &Agent) -> Result<StreamSlot, ApiError> {
        let key = (agent.org.clone(), agent.identity.clone());
        let mut counts = self.counts();
        let mine = counts.by_agent.get(&key).copied().unwrap_or(0);
        if mine >= PER_AGENT {
            return Err(full(format!(
                "this agent already has {PER_AGENT} live streams open: close a tab"
            )));
        }
        if counts.total >= self.total {
            return Err(full(
                "the service has as many live streams open as it serves".to_owned(),
            ));
        }
        counts.total += 1;
        *counts.by_agent.entry(key.clone()).or_default() += 1;
        Ok(StreamSlot {
            limits: Arc::clone(self),
            key,
        })
    }
}

fn full(message: String) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_streams", message).retry_after(5)
}

/// One open stream's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    limits: Arc<StreamLimits>,
    key: Key,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut counts = self.limits.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(mine) = counts.by_agent.get_mut(&self.key) {
            *mine -= 1;
            if *mine == 0 {
                counts.by_agent.remove(&self.key);
            }
        }
    }
}
