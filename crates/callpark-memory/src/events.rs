//! The in-process live feed.

use async_trait::async_trait;
use callpark_domain::{EventPublisher, EventSubscription, LotEvent, SubscriptionError};
use tokio::sync::broadcast;

/// In-process event fan-out on a bounded broadcast channel: a subscriber that falls more than
/// [`MemoryEvents::CAPACITY`] events behind is told it lagged, and re-reads from the store.
#[derive(Debug)]
pub struct MemoryEvents {
    sender: broadcast::Sender<LotEvent>,
}

impl MemoryEvents {
    pub const CAPACITY: usize = 4096;

    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(Self::CAPACITY).0,
        }
    }
}

impl Default for MemoryEvents {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventPublisher for MemoryEvents {
    async fn publish(&self, event: &LotEvent) {
        // No subscriber is not an error: nobody is watching the lot.
        let _ = self.sender.send(event.clone());
    }

    fn subscribe(&self) -> Box<dyn EventSubscription> {
        Box::new(MemorySubscription(self.sender.subscribe()))
    }
}

struct MemorySubscription(broadcast::Receiver<LotEvent>);

#[async_trait]
impl EventSubscription for MemorySubscription {
    async fn next(&mut self) -> Result<LotEvent, SubscriptionError> {
        self.0.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(_) => SubscriptionError::Lagged,
            broadcast::error::RecvError::Closed => SubscriptionError::Closed,
        })
    }
}
