//! The `NOTIFY` of committed events, sent in batches by a task of the store's own.
//!
//! A writer hands its committed event to the [`Notifier`] and returns at once: its request
//! does not wait for a second round trip, and its pooled connection goes back to the pool.
//! The task sends whatever accumulated while its previous batch was on the way, in one
//! statement (`callpark_notify_all`), and only the newest event of each organisation, because
//! a listener that learns of sequence `n` reads every row of the organisation up to it.
//! Under load, that is one notification round trip for many events instead of one each.
//!
//! A notification that is never sent (the task's database call failed, or the process ended
//! with a batch pending) loses no event: listeners also catch up on the organisation's next
//! notification, on reconnect, and periodically.

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use tokio::sync::mpsc;

use crate::queries::lot_events::{self, EventRow};

/// The most events taken off the queue for one batch.
const BATCH: usize = 1024;

/// An event committed, as its notification names it.
#[derive(Debug)]
struct Committed {
    id: i64,
    org: String,
    sequence: i64,
}

/// The sending half; cheap to share. Dropping the last one ends the task.
#[derive(Debug)]
pub(crate) struct Notifier {
    queue: mpsc::UnboundedSender<Committed>,
}

impl Notifier {
    /// Starts the task on the current tokio runtime; it takes a pooled connection for each
    /// batch.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub(crate) fn start(pool: Pool<AsyncPgConnection>) -> Self {
        let (queue, pending) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, pending));
        Self { queue }
    }

    /// Queues the notification of a committed event.
    pub(crate) fn committed(&self, row: &EventRow) {
        // An error means the task is gone, which only a panic in it can cause; the listeners
        // catch up on their own (see the module's documentation).
        let _ = self.queue.send(Committed {
            id: row.id,
            org: row.org.clone(),
            sequence: row.sequence,
        });
    }
}

async fn run(pool: Pool<AsyncPgConnection>, mut pending: mpsc::UnboundedReceiver<Committed>) {
    let mut batch = Vec::with_capacity(BATCH);
    while pending.recv_many(&mut batch, BATCH).await > 0 {
        let payloads = newest_per_org(batch.drain(..));
        if let Err(e) = send(&pool, &payloads).await {
            tracing::warn!(
                error = &*e as &dyn std::error::Error,
                notifications = payloads.len(),
                "notifying the event listeners failed; they will catch up"
            );
        }
    }
}

async fn send(
    pool: &Pool<AsyncPgConnection>,
    payloads: &[String],
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = pool.get().await?;
    lot_events::notify(&mut conn, payloads).await?;
    Ok(())
}

/// The payloads `'<global id>:<org>:<sequence>'` of the newest event of each organisation.
fn newest_per_org(events: impl Iterator<Item = Committed>) -> Vec<String> {
    let mut newest: HashMap<String, (i64, i64)> = HashMap::new();
    for event in events {
        let entry = newest
            .entry(event.org)
            .or_insert((event.id, event.sequence));
        if event.sequence > entry.1 {
            *entry = (event.id, event.sequence);
        }
    }
    newest
        .into_iter()
        .map(|(org, (id, sequence))| format!("{id}:{org}:{sequence}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(id: i64, org: &str, sequence: i64) -> Committed {
        Committed {
            id,
            org: org.to_owned(),
            sequence,
        }
    }

    #[test]
    fn a_batch_names_the_newest_event_of_each_organisation_whatever_the_order() {
        let mut payloads = newest_per_org(
            [
                committed(7, "acme", 3),
                committed(9, "beta", 1),
                committed(8, "acme", 5),
                committed(6, "acme", 4),
            ]
            .into_iter(),
        );
        payloads.sort();
        assert_eq!(payloads, ["8:acme:5", "9:beta:1"]);
    }
}
