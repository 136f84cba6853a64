//! [`PgStore`]: the [`ParkingStore`] on a diesel-async connection pool. Each method takes a
//! pooled connection, runs its query (in [`crate::queries`]) under the configured timeouts, and
//! adds what the port promises around it: the organisation cache, and the notification of each
//! committed event.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{
    Agent, AgentChange, AgentIdentity, AgentStatus, AgentStatusChange, Call, CallSid, CasError,
    ChangeOrgError, ClaimError, CreateAgentError, CreateOrgError, Forgotten, HistoryCursor,
    HistoryFilter, LotEvent, LotEventKind, LotSnapshot, NewAgent, NewOrganisation, NewParkedCall,
    NewSession, OrgChange, OrgSlug, Organisation, ParkedCall, ParkedCallId, ParkingStore,
    PhoneNumber, Sequence, SlotNumber, StoreError, TokenHash,
};
use deadpool::managed::{Hook, HookError, HookResult};
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::config::{APPLICATION_NAME, PgConfig, establish};
use crate::error::{self, SetupError, TimedOut};
use crate::notifier::Notifier;
use crate::org_cache::OrgCache;
use crate::queries::lot_events::{EventRow, event};
use crate::queries::{self, agents, calls, lot_events, organisations, sessions};

/// The Postgres [`ParkingStore`]. Cheap to clone (the pool is shared); every method is one short
/// transaction on a pooled connection, most of them one round trip.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool<AsyncPgConnection>,
    config: PgConfig,
    orgs: Arc<OrgCache>,
    notifier: Arc<Notifier>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("config", &self.config)
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PgStore {
    /// A store on a pool that opens connections when first needed: nothing is checked here
    /// but the URL. Use [`PgStore::connect`] to fail early when the database is unreachable.
    /// Starts the task that notifies listeners of committed events on the current runtime.
    ///
    /// # Errors
    /// [`SetupError::InvalidUrl`], [`SetupError::Pool`] for a pool size of zero.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn new(config: &PgConfig) -> Result<Self, SetupError> {
        config
            .postgres_config(APPLICATION_NAME)
            .map_err(SetupError::InvalidUrl)?;
        let for_setup = config.clone();
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        manager_config.custom_setup = Box::new(move |_url| establish(&for_setup, APPLICATION_NAME));
        // A connection the server closed (restart, failover, idle kill) is noticed when it is
        // recycled (`Fast` still drops a connection whose socket has closed). One that sat idle
        // for a while is also checked with a `SELECT 1` before it is handed out, so that a
        // silently dead one is replaced rather than failing the request; one in use a moment
        // ago is not: under load, that check was every other round trip to the database.
        manager_config.recycling_method = RecyclingMethod::Fast;
        let manager =
            AsyncDieselConnectionManager::new_with_config(config.url.clone(), manager_config);
        let verify_timeout = config.connect_timeout;
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(Some(config.connect_timeout))
            // The most recently used connection first: at low traffic one warm connection
            // serves, and the others age out of use instead of each needing a check.
            .queue_mode(deadpool::managed::QueueMode::Lifo)
            .pre_recycle(Hook::async_fn(move |conn, metrics| {
                Box::pin(verify_if_idle(conn, metrics.last_used(), verify_timeout))
            }))
            .build()
            .map_err(SetupError::Pool)?;
        Ok(Self {
            notifier: Arc::new(Notifier::start(pool.clone())),
            pool,
            config: config.clone(),
            orgs: Arc::new(OrgCache::new(config.org_cache_ttl)),
        })
    }

    /// A store whose database answered a [`PgStore::ping`].
    ///
    /// # Errors
    /// As [`PgStore::new`], and [`SetupError::Unavailable`] when the database cannot be reached
    /// within the connect timeout.
    pub async fn connect(config: &PgConfig) -> Result<Self, SetupError> {
        let store = Self::new(config)?;
        store.ping().await.map_err(SetupError::Unavailable)?;
        Ok(store)
    }

    /// Readiness: gets a pooled connection and runs `SELECT 1`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached in time.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            diesel::select(1.into_sql::<Integer>())
                .execute(&mut *conn)
                .await
                .map_err(error::query)?;
            Ok(())
        })
        .await
    }

    /// The configuration the store was made with.
    pub fn config(&self) -> &PgConfig {
        &self.config
    }

    /// A pooled connection. A database that refuses connections (restarting, failing over)
    /// is tried again until the connect timeout has passed, so that a restart shorter than
    /// that is a pause rather than an error: opening a connection sends no query, so trying
    /// again never does anything twice.
    async fn conn(&self) -> Result<Object<AsyncPgConnection>, StoreError> {
        let until = tokio::time::Instant::now() + self.config.connect_timeout;
        let mut pause = Duration::from_millis(20);
        loop {
            match self.pool.get().await {
                Ok(conn) => return Ok(conn),
                Err(deadpool::managed::PoolError::Backend(PoolError::ConnectionError(_)))
                    if tokio::time::Instant::now() + pause < until =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                Err(e) => return Err(error::pool(e)),
            }
        }
    }

    /// Runs one operation under the configured timeouts, so that a server that accepts
    /// connections but stopped answering cannot hang the caller.
    async fn bounded<T, E: From<StoreError>>(
        &self,
        operation: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let Some(limit) = self.config.operation_timeout() else {
            return operation.await;
        };
        tokio::time::timeout(limit, operation)
            .await
            .unwrap_or_else(|_| Err(E::from(StoreError::Unavailable(Box::new(TimedOut(limit))))))
    }

    /// Hands a committed event to the notifier, and returns it.
    fn committed(&self, row: EventRow) -> Result<LotEvent, StoreError> {
        self.notifier.committed(&row);
        event(row)
    }

    /// Caches the organisation read, if there is one.
    fn cached(&self, org: Option<Organisation>) -> Option<Organisation> {
        if let Some(org) = &org {
            self.orgs.put(org);
        }
        org
    }

    /// A transition, with the agent's status when one goes with it.
    async fn transition(
        &self,
        change: (&ParkedCall, &ParkedCall),
        kind: LotEventKind,
        at: OffsetDateTime,
        agent: Option<&AgentStatusChange>,
    ) -> Result<LotEvent, CasError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let row = queries::parked_calls::apply(&mut conn, change, kind, at, agent).await?;
            Ok(self.committed(row)?)
        })
        .await
    }
}

/// A pooled connection idle for longer than this is checked before it is used again.
const VERIFY_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool's pre-recycle check: `SELECT 1` on a connection idle for [`VERIFY_AFTER_IDLE`] or
/// more, bounded by `timeout`; a failure discards the connection (the pool takes or opens
/// another).
async fn verify_if_idle(
    conn: &mut AsyncPgConnection,
    idle: Duration,
    timeout: Duration,
) -> HookResult<PoolError> {
    if idle < VERIFY_AFTER_IDLE {
        return Ok(());
    }
    let check = diesel::select(1.into_sql::<Integer>()).execute(conn);
    match tokio::time::timeout(timeout, check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(HookError::Backend(PoolError::QueryError(e))),
        Err(_) => Err(HookError::message(
            "the connection did not answer its check",
        )),
    }
}

#[async_trait]
impl ParkingStore for PgStore {
    async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError> {
        self.bounded(async {
            let created = organisations::create(&mut *self.conn().await?, org).await?;
            self.orgs.put(&created);
            Ok(created)
        })
        .await
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<Organisation>, StoreError> {
        if let Some(org) = self.orgs.get(slug.as_str()) {
            return Ok(Some(org));
        }
        self.bounded(async {
            let org = organisations::find(&mut *self.conn().await?, slug.as_str()).await?;
            Ok(self.cached(org))
        })
        .await
    }

    async fn org_by_number(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<Organisation>, StoreError> {
        // A cached organisation whose numbers changed since no longer answers the number.
        if let Some(org) = self
            .orgs
            .slug_of_number(number.as_str())
            .and_then(|slug| self.orgs.get(&slug))
            .filter(|org| org.numbers.contains(number))
        {
            return Ok(Some(org));
        }
        self.bounded(async {
            let mut conn = self.conn().await?;
            let org = match organisations::slug_of_number(&mut conn, number).await? {
                Some(slug) => organisations::find(&mut conn, &slug).await?,
                None => None,
            };
            Ok(self.cached(org))
        })
        .await
    }

    async fn create_agent(&self, agent: &NewAgent) -> Result<Agent, CreateAgentError> {
        self.bounded(async { agents::create(&mut *self.conn().await?, agent).await })
            .await
    }

    async fn agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<Option<Agent>, StoreError> {
        self.bounded(async { agents::find(&mut *self.conn().await?, org, identity).await })
            .await
    }

    async fn agent_by_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError> {
        self.bounded(async { agents::find_by_token(&mut *self.conn().await?, hash, now).await })
            .await
    }

    async fn replace_token(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        hash: &TokenHash,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        self.bounded(async {
            agents::replace_token(&mut *self.conn().await?, org, identity, hash, expires_at).await
        })
        .await
    }

    async fn start_session(&self, session: &NewSession) -> Result<(), StoreError> {
        self.bounded(async { sessions::start(&mut *self.conn().await?, session).await })
            .await
    }

    async fn agent_by_session(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<Agent>, StoreError> {
        self.bounded(async { sessions::agent(&mut *self.conn().await?, hash, now, idle).await })
            .await
    }

    async fn end_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.bounded(async { sessions::end(&mut *self.conn().await?, hash).await })
            .await
    }

    async fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.bounded(async { organisations::all(&mut *self.conn().await?).await })
            .await
    }

    async fn change_org(
        &self,
        slug: &OrgSlug,
        change: &OrgChange,
    ) -> Result<Organisation, ChangeOrgError> {
        self.bounded(async {
            let conn = &mut *self.conn().await?;
            organisations::change(conn, slug, change).await?;
            let changed = organisations::find(conn, slug.as_str())
                .await?
                .ok_or(ChangeOrgError::UnknownOrg)?;
            // This instance sees the change at once; the others within the cache's lifetime.
            self.orgs.put(&changed);
            Ok(changed)
        })
        .await
    }

    async fn change_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        change: &AgentChange,
    ) -> Result<Option<Agent>, StoreError> {
        self.bounded(async {
            agents::change(&mut *self.conn().await?, org, identity, change).await
        })
        .await
    }

    async fn deactivate_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError> {
        self.bounded(async {
            let conn = &mut *self.conn().await?;
            let agent = agents::deactivate(conn, org, identity, at).await?;
            if agent.is_some() {
                sessions::end_all_of(conn, org, identity).await?;
            }
            Ok(agent)
        })
        .await
    }

    async fn agent_seen(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.bounded(async { agents::seen(&mut *self.conn().await?, org, identity, at).await })
            .await
    }

    async fn expire_presence(&self, seen_before: OffsetDateTime) -> Result<Vec<Agent>, StoreError> {
        self.bounded(async { agents::expire_presence(&mut *self.conn().await?, seen_before).await })
            .await
    }

    async fn end_agent_sessions(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<(), StoreError> {
        self.bounded(async { sessions::end_all_of(&mut *self.conn().await?, org, identity).await })
            .await
    }

    async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        self.bounded(async { agents::of_org(&mut *self.conn().await?, org).await })
            .await
    }

    async fn agents_to_ring(
        &self,
        org: &OrgSlug,
        limit: usize,
    ) -> Result<Vec<AgentIdentity>, StoreError> {
        self.bounded(async { agents::to_ring(&mut *self.conn().await?, org, limit).await })
            .await
    }

    async fn set_agent_status<'a>(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        status: AgentStatus,
        current_call: Option<&'a CallSid>,
    ) -> Result<bool, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            agents::set_status(&mut conn, org, identity, status, current_call).await
        })
        .await
    }

    async fn record_call(&self, call: &Call) -> Result<(), StoreError> {
        self.bounded(async { calls::record(&mut *self.conn().await?, call).await })
            .await
    }

    async fn link_browser_leg<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        agent: Option<&'a AgentIdentity>,
    ) -> Result<bool, StoreError> {
        self.bounded(async {
            calls::link_browser_leg(&mut *self.conn().await?, browser, pstn, agent).await
        })
        .await
    }

    async fn record_leg_status<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        agent: Option<&'a AgentIdentity>,
        sequence: Option<u32>,
        ended: bool,
    ) -> Result<bool, StoreError> {
        self.bounded(async {
            let conn = &mut *self.conn().await?;
            calls::record_leg_status(conn, browser, pstn, agent, sequence, ended).await
        })
        .await
    }

    async fn call_by_browser_leg(&self, browser: &CallSid) -> Result<Option<Call>, StoreError> {
        self.bounded(async { calls::by_browser_leg(&mut *self.conn().await?, browser).await })
            .await
    }

    async fn call_by_pstn(&self, pstn: &CallSid) -> Result<Option<Call>, StoreError> {
        self.bounded(async { calls::by_pstn(&mut *self.conn().await?, pstn).await })
            .await
    }

    async fn claim_slot(&self, request: &NewParkedCall) -> Result<LotEvent, ClaimError> {
        self.bounded(async {
            let row = queries::parked_calls::claim(&mut *self.conn().await?, request).await?;
            Ok(self.committed(row)?)
        })
        .await
    }

    async fn apply(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
    ) -> Result<LotEvent, CasError> {
        self.transition((current, next), kind, at, None).await
    }

    async fn apply_and_set_agent(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
        agent: &AgentStatusChange,
    ) -> Result<LotEvent, CasError> {
        self.transition((current, next), kind, at, Some(agent))
            .await
    }

    async fn parked_call(&self, id: ParkedCallId) -> Result<Option<ParkedCall>, StoreError> {
        self.bounded(async { queries::parked_calls::find(&mut *self.conn().await?, id).await })
            .await
    }

    async fn occupant(
        &self,
        org: &OrgSlug,
        slot: SlotNumber,
    ) -> Result<Option<ParkedCall>, StoreError> {
        self.bounded(async {
            queries::parked_calls::occupant(&mut *self.conn().await?, org, slot).await
        })
        .await
    }

    async fn occupant_by_pstn(&self, pstn: &CallSid) -> Result<Option<ParkedCall>, StoreError> {
        self.bounded(async {
            queries::parked_calls::occupant_by_pstn(&mut *self.conn().await?, pstn).await
        })
        .await
    }

    async fn lot(&self, org: &OrgSlug) -> Result<LotSnapshot, StoreError> {
        self.bounded(async { queries::parked_calls::lot(&mut *self.conn().await?, org).await })
            .await
    }

    async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        max: usize,
    ) -> Result<Vec<LotEvent>, StoreError> {
        self.bounded(async { lot_events::after(&mut *self.conn().await?, org, after, max).await })
            .await
    }

    async fn due_deadlines(
        &self,
        now: OffsetDateTime,
        max: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        self.bounded(async { queries::parked_calls::due(&mut *self.conn().await?, now, max).await })
            .await
    }

    async fn in_flight_since(
        &self,
        before: OffsetDateTime,
        max: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        self.bounded(async {
            queries::parked_calls::in_flight_since(&mut *self.conn().await?, before, max).await
        })
        .await
    }

    async fn history(
        &self,
        org: &OrgSlug,
        filter: &HistoryFilter,
        after: Option<HistoryCursor>,
        max: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        self.bounded(async {
            queries::history::page(&mut *self.conn().await?, org, filter, after, max).await
        })
        .await
    }

    async fn forget_before(
        &self,
        cutoff: OffsetDateTime,
        max: usize,
    ) -> Result<Forgotten, StoreError> {
        self.bounded(async {
            queries::retention::forget_before(&mut *self.conn().await?, cutoff, max).await
        })
        .await
    }
}
