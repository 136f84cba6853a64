//! `GET /api/events`: the organisation's lot as a live stream. A `snapshot` first (or, for a
//! client resuming with `Last-Event-ID`, exactly the events it missed), then every event in
//! sequence order, each with its sequence as the SSE `id`. Between them, an `agents` event
//! (without an `id`: it is not in the lot's sequence) whenever the organisation's agents or
//! their statuses change, and once at the start; and a fresh `snapshot` when the lot's size
//! changes (within [`SIGNED_IN_CHECK`] and the store's cache of organisations).
//!
//! The subscription to the live feed is taken before the snapshot or backlog is read, and the
//! stream keeps a cursor: an event at or below it is a duplicate and skipped, one beyond the
//! next expected sequence means events were missed (a lagging feed, another instance's
//! notification late), and the gap is filled from the store. So nothing is lost or repeated.

use std::time::Duration;

use actix_web::{HttpRequest, Responder, web};
use actix_web_lab::sse;
use callpark_domain::{
    AgentStatus, EventSubscription, LotEvent, Organisation, Sequence, SubscriptionError,
};
use tokio::sync::{mpsc, watch};

use crate::HttpContext;
use crate::auth::{AuthedAgent, Credential, credential};
use crate::dto::{EventDto, LotDto};
use crate::error::ApiError;
use crate::stream_limits::StreamSlot;
use crate::team::Team;

/// Events read from the store per round trip when catching up.
const PAGE: usize = 500;

/// How often a stream checks that its agent is still signed in (a stream of a session that
/// was signed out, or expired, or of a revoked token, ends within this), and tells the store
/// the agent's page is still there.
const SIGNED_IN_CHECK: Duration = Duration::from_secs(5);

pub(crate) async fn events(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let org = ctx
        .service
        .org(&agent.org)
        .await?
        .ok_or_else(|| ApiError::not_found("org_not_found", "no such organisation"))?;
    let slot = ctx.streams.open(&agent)?;
    // A page that reconnects (after its network went, say) is there again: a signed-in agent
    // whose page was gone long enough to be taken offline is available again.
    if agent.status == AgentStatus::Offline {
        ctx.service
            .set_presence(&agent, AgentStatus::Available)
            .await?;
    }
    let resume_from = last_event_id(&req);
    let credential = credential(&req).ok_or_else(ApiError::unauthorized)?;
    let feed = ctx.service.subscribe();
    let team = ctx.team.follow(&ctx.service, &org.slug);
    let (tx, rx) = mpsc::channel(256);
    let mut stream = Stream {
        org,
        tx,
        cursor: Sequence::ZERO,
        team,
        credential,
        ctx: ctx.clone(),
        _slot: slot,
    };
    match resume_from {
        Some(after) => stream.cursor = after,
        None => stream.snapshot().await?,
    }
    actix_web::rt::spawn(stream.run(feed, ctx.shutdown.clone()));
    Ok(sse::Sse::from_infallible_receiver(rx)
        // Often enough that a page that went away is noticed (its place freed, its agent no
        // longer seen) within seconds: a write is what finds a closed connection.
        .with_keep_alive(SIGNED_IN_CHECK)
        .with_retry_duration(Duration::from_secs(2)))
}

/// `Last-Event-ID` as the browser's `EventSource` sends it on reconnect, or `?lastEventId=`
/// for clients that cannot set headers on the first connection.
fn last_event_id(req: &HttpRequest) -> Option<Sequence> {
    let header = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let query = || {
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("lastEventId").cloned())
    };
    header
        .or_else(query)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Sequence::new)
}

struct Stream {
    org: Organisation,
    tx: mpsc::Sender<sse::Event>,
    cursor: Sequence,
    team: watch::Receiver<Team>,
    credential: Credential,
    ctx: web::Data<HttpContext>,
    /// This stream's place among the open ones, freed when the stream ends.
    _slot: StreamSlot,
}

/// The client went away, or the store failed: either way the stream ends (a client reconnects
/// with `Last-Event-ID` and loses nothing).
struct Closed;

impl Stream {
    async fn send(&self, event: sse::Event) -> Result<(), Closed> {
        self.tx.send(event).await.map_err(|_| Closed)
    }

    async fn snapshot(&mut self) -> Result<(), ApiError> {
        let lot = self.ctx.service.lot(&self.org).await?;
        let data = sse::Data::new_json(LotDto::from(&lot))
            .map_err(|e| ApiError::invalid("unserialisable lot").with_cause(e))?
            .event("snapshot")
            .id(lot.sequence.to_string());
        self.cursor = lot.sequence;
        // A client that went away is noticed by the caller's next send.
        let _ = self.tx.send(data.into()).await;
        Ok(())
    }

    /// The organisation's agents as they are now, if read yet.
    async fn send_team(&mut self) -> Result<(), Closed> {
        let team = self.team.borrow_and_update().clone();
        let Some(agents) = team else {
            return Ok(());
        };
        let Ok(data) = sse::Data::new_json(&*agents) else {
            return Ok(());
        };
        self.send(data.event("agents").into()).await
    }

    async fn send_event(&mut self, event: &LotEvent) -> Result<(), Closed> {
        let Ok(data) = sse::Data::new_json(EventDto::from(event)) else {
            return Ok(());
        };
        self.send(
            data.event(event.kind.as_str())
                .id(event.sequence.to_string())
                .into(),
        )
        .await?;
        self.cursor = event.sequence;
        Ok(())
    }

    /// Sends every stored event after the cursor. If the store no longer has the next one
    /// (history trimmed), or the cursor is ahead of the store (a client from before a restart
    /// of an in-memory service), a fresh snapshot replaces them.
    async fn catch_up(&mut self) -> Result<(), Closed> {
        loop {
            let page = self
                .ctx
                .service
                .events_after(&self.org.slug, self.cursor, PAGE)
                .await
                .map_err(|_| Closed)?;
            let first = page.first().map(|e| e.sequence);
            if first.is_some_and(|s| s > self.cursor.next())
                || (first.is_none() && self.ahead().await?)
            {
                return self.fresh_snapshot().await;
            }
            let full = page.len() == PAGE;
            for event in &page {
                self.send_event(event).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    async fn ahead(&self) -> Result<bool, Closed> {
        let lot = self.ctx.service.lot(&self.org).await.map_err(|_| Closed)?;
        Ok(lot.sequence < self.cursor)
    }

    async fn fresh_snapshot(&mut self) -> Result<(), Closed> {
        self.snapshot().await.map_err(|_| Closed)
    }

    /// Takes up the organisation's settings as they are now. A lot that grew or shrank is no
    /// lot event (no call moved), so the page is sent a fresh snapshot of its new size.
    async fn follow_settings(&mut self) -> Result<(), Closed> {
        // A store that cannot answer now keeps the settings the stream has.
        let Ok(Some(org)) = self.ctx.service.org(&self.org.slug).await else {
            return Ok(());
        };
        let resized = org.lot_size != self.org.lot_size;
        self.org = org;
        if resized {
            self.fresh_snapshot().await?;
        }
        Ok(())
    }

    async fn run(
        mut self,
        mut feed: Box<dyn EventSubscription>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let _ = self.follow(&mut *feed, &mut shutdown).await;
    }

    async fn follow(
        &mut self,
        feed: &mut dyn EventSubscription,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), Closed> {
        self.catch_up().await?;
        self.send_team().await?;
        let mut check = tokio::time::interval_at(
            tokio::time::Instant::now() + SIGNED_IN_CHECK,
            SIGNED_IN_CHECK,
        );
        loop {
            let next = tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                () = self.tx.closed() => return Ok(()),
                _ = check.tick() => {
                    // An open stream is its agent's sign of life; a store that cannot answer
                    // now is no reason to end it.
                    match self.credential.agent(&self.ctx).await {
                        Ok(None) => return Ok(()),
                        Ok(Some(agent)) => {
                            let _ = self.ctx.service.seen(&agent).await;
                        }
                        Err(_) => {}
                    }
                    self.follow_settings().await?;
                    continue;
                }
                // The reader lives while this stream follows it: an error cannot happen.
                Ok(()) = self.team.changed() => {
                    self.send_team().await?;
                    continue;
                }
                next = feed.next() => next,
            };
            match next {
                Ok(event) if event.org != self.org.slug || event.sequence <= self.cursor => {}
                Ok(event) if event.sequence == self.cursor.next() => {
                    self.send_event(&event).await?
                }
                Ok(_) | Err(SubscriptionError::Lagged) => self.catch_up().await?,
                Err(SubscriptionError::Closed) => return Ok(()),
            }
        }
    }
}
