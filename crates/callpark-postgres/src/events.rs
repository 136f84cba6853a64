//! [`PgEvents`]: live events across instances, through `LISTEN/NOTIFY`.
//!
//! Every event row is written in the transaction that makes the change; after it commits, the
//! store's notifier sends `NOTIFY callpark_events, '<global id>:<org>:<sequence>'` (in a
//! transaction of its own, batched: see `notifier.rs` and `callpark_notify_all` in
//! `sql/functions.sql` for why). One background task per
//! [`PgEvents`] keeps a dedicated connection that LISTENs, and remembers, per organisation, the
//! last sequence it delivered. Whenever it learns of something newer (a notification, a local
//! [`EventPublisher::publish`], a reconnect, or a periodic check) it reads the organisation's
//! event rows after that sequence and broadcasts them in order.
//!
//! Why per-organisation sequences and not the global id as the cursor: global ids are handed out
//! when rows are inserted, but transactions of different organisations commit in any order, so
//! reading "id > last seen" can step over a row that commits a moment later. Sequences of one
//! organisation are gap-free and commit in order (every writer of the organisation's lot takes
//! its sequence from the lot-state row and holds that row's lock until it commits), so "sequence > last delivered" never misses one. A lost
//! notification or a dropped connection therefore loses nothing: the next read finds it.
//!
//! The notification of an event this instance wrote reaches the listener around the time the
//! writer hands the event itself to [`EventPublisher::publish`]. Reading it from the table then
//! would cost a query per event for nothing, so a notification only marks its
//! organisation as behind; the local event delivers it, and whatever is still behind after
//! [`LOCAL_GRACE`] (other instances' events) is read then, one query per organisation for all
//! the events notified meanwhile.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{BoxError, EventPublisher, EventSubscription, LotEvent, SubscriptionError};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use tokio::sync::{broadcast, mpsc, watch};

use crate::config::{LISTENER_APPLICATION_NAME, PgConfig, error_chain, establish};
use crate::queries::lot_events;

/// The notification channel the stored functions notify on.
pub const CHANNEL: &str = "callpark_events";

/// Rows read per query while catching up.
const BATCH: i64 = 500;
/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The longest a listener read may take when the configuration sets no statement timeout.
const MAX_READ: Duration = Duration::from_secs(60);
/// How often the listener checks for events it was not told about (a writer that died between
/// its commit and its notification), which also proves its connection alive (one that died
/// silently shows up here). One small query per check.
const CHECK_EVERY: Duration = Duration::from_secs(10);
/// How long a notified event may wait for its writer's local publish before it is read from
/// the table: the most another instance's event is delayed by, beside the read itself.
const LOCAL_GRACE: Duration = Duration::from_millis(5);

/// Live events from every instance that writes to the database. Dropping it stops its listener;
/// subscriptions then end with [`SubscriptionError::Closed`].
#[derive(Debug)]
pub struct PgEvents {
    sender: broadcast::Sender<LotEvent>,
    local: mpsc::UnboundedSender<LotEvent>,
    listening: watch::Receiver<bool>,
    listener: tokio::task::AbortHandle,
}

impl PgEvents {
    /// How many events a subscriber may fall behind before it is told it lagged.
    pub const CAPACITY: usize = 4096;

    /// Starts the listener task on the current tokio runtime (actix's included). Subscribers
    /// get the events committed after the listener first connects; until then, and while it
    /// reconnects (with backoff), [`PgEvents::is_listening`] is false.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(config: &PgConfig) -> Self {
        let (sender, _) = broadcast::channel(Self::CAPACITY);
        let (local, local_rx) = mpsc::unbounded_channel();
        let (listening_tx, listening) = watch::channel(false);
        let listener = Listener {
            config: config.clone(),
            sender: sender.clone(),
            local: local_rx,
            listening: listening_tx,
            delivered: None,
            behind: HashMap::new(),
            behind_until: None,
        };
        let listener = tokio::spawn(listener.run()).abort_handle();
        Self {
            sender,
            local,
            listening,
            listener,
        }
    }

    /// Whether the listener is connected and caught up (for readiness probes).
    pub fn is_listening(&self) -> bool {
        *self.listening.borrow()
    }

    /// Waits until the listener is connected and caught up. Events committed from then on
    /// reach every subscriber.
    pub async fn listening(&self) {
        let mut listening = self.listening.clone();
        // An error means the listener is gone, which only dropping `self` does.
        let _ = listening.wait_for(|listening| *listening).await;
    }
}

impl Drop for PgEvents {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

#[async_trait]
impl EventPublisher for PgEvents {
    /// A fast path for events this instance wrote: delivered at once when it is the next of its
    /// organisation, and otherwise (or if already delivered) left to the listener, which reads
    /// the rows, so nothing is delivered twice or out of order.
    async fn publish(&self, event: &LotEvent) {
        // An error means the listener is gone; the subscribers have been told (Closed).
        let _ = self.local.send(event.clone());
    }

    fn subscribe(&self) -> Box<dyn EventSubscription> {
        Box::new(PgSubscription(self.sender.subscribe()))
    }
}

struct PgSubscription(broadcast::Receiver<LotEvent>);

#[async_trait]
impl EventSubscription for PgSubscription {
    async fn next(&mut self) -> Result<LotEvent, SubscriptionError> {
        self.0.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(_) => SubscriptionError::Lagged,
            broadcast::error::RecvError::Closed => SubscriptionError::Closed,
        })
    }
}

/// Whether the listener goes on after handling a wake-up.
enum Done {
    Continue,
    /// The PgEvents is gone.
    Stop,
}

/// What woke the listener.
enum Wake {
    Notification(Option<diesel::QueryResult<diesel::pg::PgNotification>>),
    Local(Option<Box<LotEvent>>),
    Check,
    /// The organisations notified as behind have waited [`LOCAL_GRACE`].
    Behind,
}

struct Listener {
    config: PgConfig,
    sender: broadcast::Sender<LotEvent>,
    local: mpsc::UnboundedReceiver<LotEvent>,
    listening: watch::Sender<bool>,
    /// The last sequence delivered, per organisation; `None` until the first connection, whose
    /// snapshot of the counters is "now".
    delivered: Option<HashMap<String, i64>>,
    /// Organisations notified of events not delivered yet: the highest sequence notified.
    behind: HashMap<String, i64>,
    /// When those are read from the table, unless delivered locally first.
    behind_until: Option<tokio::time::Instant>,
}

impl Listener {
    async fn run(mut self) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let mut listened = false;
            let Err(error) = self.session(&mut listened).await else {
                // The local channel closed: the PgEvents is gone.
                return;
            };
            self.listening.send_replace(false);
            if listened {
                backoff = MIN_BACKOFF;
            }
            tracing::warn!(
                error = %error_chain(&*error),
                retry_in = ?backoff,
                "the event listener lost its database connection"
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection's life: Ok when the PgEvents is gone, Err when the connection is.
    async fn session(&mut self, listened: &mut bool) -> Result<(), BoxError> {
        let mut conn = tokio::time::timeout(
            self.config.connect_timeout,
            establish(&self.config, LISTENER_APPLICATION_NAME),
        )
        .await??;
        // LISTEN before reading: whatever commits after the read is notified.
        diesel::sql_query(format!("LISTEN {CHANNEL}"))
            .execute(&mut conn)
            .await?;
        tokio::time::timeout(
            self.config.operation_timeout().unwrap_or(MAX_READ),
            self.catch_up(&mut conn),
        )
        .await??;
        *listened = true;
        self.listening.send_replace(true);
        tracing::debug!("the event listener is listening");

        let mut check = tokio::time::interval(CHECK_EVERY);
        check.reset();
        loop {
            let behind_until = self.behind_until;
            let wake = {
                let mut notifications = std::pin::pin!(conn.notifications_stream());
                tokio::select! {
                    n = notifications.next() => Wake::Notification(n),
                    event = self.local.recv() => Wake::Local(event.map(Box::new)),
                    _ = check.tick() => Wake::Check,
                    () = tokio::time::sleep_until(
                        behind_until.unwrap_or_else(tokio::time::Instant::now)
                    ), if behind_until.is_some() => Wake::Behind,
                }
            };
            // Reads are bounded on our side too: a server that stopped answering would
            // otherwise hold the listener forever; timing out reconnects instead.
            let limit = self.config.operation_timeout().unwrap_or(MAX_READ);
            let read = async {
                match wake {
                    Wake::Notification(Some(Ok(n))) => self.notified(&mut conn, &n.payload).await,
                    Wake::Notification(Some(Err(e))) => Err(e.into()),
                    Wake::Notification(None) => Err("the connection closed".into()),
                    Wake::Local(Some(event)) => self.published(&mut conn, *event).await,
                    Wake::Local(None) => Ok(Done::Stop),
                    Wake::Check => self.catch_up(&mut conn).await,
                    Wake::Behind => self.fetch_behind(&mut conn).await.map(|()| Done::Continue),
                }
            };
            match tokio::time::timeout(limit, read).await {
                Ok(Ok(Done::Continue)) => {}
                Ok(Ok(Done::Stop)) => return Ok(()),
                Ok(Err(e)) => return Err(e),
                Err(elapsed) => return Err(Box::new(elapsed)),
            }
        }
    }

    /// Reads every organisation's counter and fetches what is newer than what was delivered.
    /// The first time, only records the counters: subscribers get events from now on.
    async fn catch_up(&mut self, conn: &mut AsyncPgConnection) -> Result<Done, BoxError> {
        let counters = lot_events::last_sequences(conn).await?;
        let Some(delivered) = &self.delivered else {
            self.delivered = Some(counters.into_iter().collect());
            return Ok(Done::Continue);
        };
        let behind: Vec<String> = counters
            .into_iter()
            .filter(|(org, last)| *last > delivered.get(org).copied().unwrap_or(0))
            .map(|(org, _)| org)
            .collect();
        for org in behind {
            self.fetch(conn, &org).await?;
        }
        self.forget_delivered();
        Ok(Done::Continue)
    }

    /// Reads the organisations still behind after the grace.
    async fn fetch_behind(&mut self, conn: &mut AsyncPgConnection) -> Result<(), BoxError> {
        self.behind_until = None;
        let behind: Vec<String> = std::mem::take(&mut self.behind)
            .into_iter()
            .filter(|(org, notified)| *notified > self.last_delivered(org))
            .map(|(org, _)| org)
            .collect();
        for org in behind {
            self.fetch(conn, &org).await?;
        }
        Ok(())
    }

    /// Drops the organisations no longer behind; with none left, nothing waits for the grace.
    fn forget_delivered(&mut self) {
        if self.behind.is_empty() {
            return;
        }
        let (behind, delivered) = (&mut self.behind, &self.delivered);
        behind.retain(|org, notified| {
            *notified
                > delivered
                    .as_ref()
                    .and_then(|d| d.get(org))
                    .copied()
                    .unwrap_or(0)
        });
        if self.behind.is_empty() {
            self.behind_until = None;
        }
    }

    async fn notified(
        &mut self,
        conn: &mut AsyncPgConnection,
        payload: &str,
    ) -> Result<Done, BoxError> {
        let mut parts = payload.splitn(3, ':');
        let (Some(_id), Some(org), Some(Ok(sequence))) = (
            parts.next(),
            parts.next(),
            parts.next().map(str::parse::<i64>),
        ) else {
            tracing::warn!(
                payload,
                "unexpected notification payload; checking every lot"
            );
            return self.catch_up(conn).await;
        };
        if sequence > self.last_delivered(org) {
            let notified = self.behind.entry(org.to_owned()).or_insert(sequence);
            *notified = (*notified).max(sequence);
            self.behind_until
                .get_or_insert_with(|| tokio::time::Instant::now() + LOCAL_GRACE);
        }
        Ok(Done::Continue)
    }

    async fn published(
        &mut self,
        conn: &mut AsyncPgConnection,
        event: LotEvent,
    ) -> Result<Done, BoxError> {
        let sequence = i64::try_from(event.sequence.get()).unwrap_or(i64::MAX);
        let last = self.last_delivered(event.org.as_str());
        if sequence == last + 1 {
            self.deliver(event.org.as_str().to_owned(), sequence, event);
        } else if sequence > last {
            // Events of other instances come first: read them all, this one included.
            self.fetch(conn, event.org.as_str()).await?;
        }
        self.forget_delivered();
        Ok(Done::Continue)
    }

    fn last_delivered(&self, org: &str) -> i64 {
        self.delivered
            .as_ref()
            .and_then(|d| d.get(org))
            .copied()
            .unwrap_or(0)
    }

    /// Delivers the organisation's stored events after the last one delivered, in order.
    async fn fetch(&mut self, conn: &mut AsyncPgConnection, org: &str) -> Result<(), BoxError> {
        loop {
            let rows = lot_events::rows_after(conn, org, self.last_delivered(org), BATCH).await?;
            let complete = i64::try_from(rows.len()).unwrap_or(i64::MAX) < BATCH;
            for row in rows {
                let (id, sequence) = (row.id, row.sequence);
                match LotEvent::try_from(row) {
                    Ok(event) => self.deliver(org.to_owned(), sequence, event),
                    Err(e) => {
                        // Nothing a subscriber could do with it: skip it, loudly.
                        tracing::error!(
                            error = %error_chain(&e),
                            id,
                            org,
                            sequence,
                            "an event row is unreadable and was not delivered"
                        );
                        self.delivered
                            .get_or_insert_with(HashMap::new)
                            .insert(org.to_owned(), sequence);
                    }
                }
            }
            if complete {
                return Ok(());
            }
        }
    }

    fn deliver(&mut self, org: String, sequence: i64, event: LotEvent) {
        self.delivered
            .get_or_insert_with(HashMap::new)
            .insert(org, sequence);
        // No subscriber is not an error: nobody is watching.
        let _ = self.sender.send(event);
    }
}
