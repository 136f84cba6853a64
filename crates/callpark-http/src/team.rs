//! The organisations' agents and their statuses, for the live stream's `agents` events.
//!
//! An agent's status changes in many places (a park, an answered retrieve, a hang-up, a
//! sign-in, on any instance), and none of them is a lot event. So each instance reads the
//! agents of every organisation someone follows, every [`POLL`], and tells the organisation's
//! streams when the list changed: the Team panel follows within a second, and an
//! organisation nobody watches costs nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use callpark_domain::{OrgSlug, ParkingService};
use tokio::sync::watch;

use crate::dto::AgentDto;

/// How often a followed organisation's agents are read.
pub const POLL: Duration = Duration::from_millis(500);

/// The latest agent list of each followed organisation (`None` until first read).
pub type Team = Option<Arc<Vec<AgentDto>>>;

/// One reader per followed organisation, shared by its streams on this instance.
#[derive(Debug, Default)]
pub struct TeamWatch {
    orgs: Mutex<HashMap<OrgSlug, watch::Sender<Team>>>,
}

impl TeamWatch {
    /// Follows `org`'s agents: the receiver sees every change of the list. The first follower
    /// starts the organisation's reader; it stops once the last one has gone.
    pub fn follow(
        self: &Arc<Self>,
        service: &ParkingService,
        org: &OrgSlug,
    ) -> watch::Receiver<Team> {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = orgs.get(org) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        orgs.insert(org.clone(), sender.clone());
        actix_web::rt::spawn(Arc::clone(self).read(service.clone(), org.clone(), sender));
        receiver
    }

    async fn read(
        self: Arc<Self>,
        service: ParkingService,
        org: OrgSlug,
        sender: watch::Sender<Team>,
    ) {
        let mut ticker = tokio::time::interval(POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if sender.receiver_count() == 0 && self.forget_unfollowed(&org, &sender) {
                return;
            }
            // A failed read keeps the last list: the next tick tries again.
            let Ok(agents) = service.agents(&org).await else {
                continue;
            };
            let agents: Vec<AgentDto> = agents.iter().map(AgentDto::from).collect();
            sender.send_if_modified(|team| {
                let changed = team.as_deref() != Some(&agents);
                if changed {
                    *team = Some(Arc::new(agents));
                }
                changed
            });
        }
    }

    /// Drops the organisation's reader if nobody follows it (checked under the lock, so a
    /// follower arriving now gets a new reader instead of a dead one).
    fn forget_unfollowed(&self, org: &OrgSlug, sender: &watch::Sender<Team>) -> bool {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        if sender.receiver_count() > 0 {
            return false;
        }
        orgs.remove(org);
        true
    }
}
