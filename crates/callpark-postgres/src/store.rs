//! [`PgStore`]: the [`ParkingStore`] on a diesel-async connection pool.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{
    Agent, AgentIdentity, AgentStatus, AgentStatusChange, Call, CallSid, CasError, ClaimError,
    CreateAgentError, CreateOrgError, LotEvent, LotEventKind, LotSize, LotSnapshot, NewAgent,
    NewOrganisation, NewParkedCall, OrgSlug, Organisation, ParkedCall, ParkedCallId, ParkingStore,
    PhoneNumber, Sequence, SlotNumber, SlotRequest, StoreError, TokenHash,
};
use deadpool::managed::{Hook, HookError, HookResult};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::Integer;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::{APPLICATION_NAME, PgConfig, establish};
use crate::error::{self, SetupError, TimedOut, UnexpectedAnswer, violated_constraint};
use crate::notifier::Notifier;
use crate::org_cache::OrgCache;
use crate::rows::{
    AgentRow, CallRow, EventRow, OrgRow, ParkedRow, agent_status_name, auto_slot_name,
};
use crate::schema::{
    agents, browser_legs, calls, lot_events, org_lot_state, org_numbers, organisations,
    parked_calls,
};
use crate::states::{InFlight, Occupying, Parked};

/// How often a claim is retried after losing a race that the unique indexes decided. Claims of
/// one organisation are serialised by its lot-state row, so only claims of one caller's leg in
/// two organisations can race at all.
const CLAIM_ATTEMPTS: usize = 3;

// The Rust signatures mirror the SQL functions', argument for argument.
#[allow(clippy::too_many_arguments)]
pub(crate) mod sql {
    use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid};

    diesel::define_sql_function! {
        /// See the migration that creates it.
        fn callpark_claim_slot(
            org: Text,
            policy: Text,
            slot: Nullable<Integer>,
            id: Uuid,
            pstn: Text,
            caller_number: Nullable<Text>,
            caller_name: Nullable<Text>,
            parked_by: Text,
            now: Timestamptz,
        ) -> Jsonb;
    }

    diesel::define_sql_function! {
        /// See the migration that creates it.
        fn callpark_apply_and_set_agent(
            id: Uuid,
            state: Text,
            version: BigInt,
            next: Jsonb,
            kind: Text,
            at: Timestamptz,
            agent_org: Text,
            agent: Text,
            agent_status: Text,
            agent_call: Nullable<Text>,
        ) -> Jsonb;
    }

    diesel::define_sql_function! {
        /// See the migration that creates it.
        fn callpark_notify_all(payloads: Array<Text>) -> Integer;
    }

    diesel::define_sql_function! {
        /// See the migration that creates it.
        fn callpark_set_agent_status(
            org: Text,
            identity: Text,
            status: Text,
            current_call: Nullable<Text>,
        ) -> Bool;
    }

    diesel::define_sql_function! {
        /// See the migration that creates it.
        fn callpark_record_call(
            pstn: Text,
            org: Text,
            caller_number: Nullable<Text>,
            caller_name: Nullable<Text>,
        ) -> Bool;
    }

    diesel::define_sql_function! {
        /// See the migration that creates it.
        fn callpark_link_browser_leg(browser: Text, pstn: Text, agent: Nullable<Text>) -> Bool;
    }

    diesel::define_sql_function! {
        /// See the migration that creates it.
        fn callpark_apply(
            id: Uuid,
            state: Text,
            version: BigInt,
            next: Jsonb,
            kind: Text,
            at: Timestamptz,
        ) -> Jsonb;
    }
}

/// What `callpark_claim_slot` answers.
#[derive(Debug, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ClaimOutcome {
    Claimed { event: EventRow },
    UnknownOrg,
    AlreadyParked { id: Uuid, slot: i32 },
    SlotOutOfRange { lot_size: i32 },
    SlotOccupied,
    LotFull,
}

/// What `callpark_apply` answers.
#[derive(Debug, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ApplyOutcome {
    Applied { event: EventRow },
    NotFound,
    Conflict,
}

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

/// A transaction's failure: the caller's own refusal, or the database's.
enum TxError<E> {
    Refused(E),
    Db(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
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

    async fn conn(&self) -> Result<Object<AsyncPgConnection>, StoreError> {
        self.pool.get().await.map_err(error::pool)
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

    async fn org_where(
        conn: &mut AsyncPgConnection,
        slug: &str,
    ) -> Result<Option<Organisation>, StoreError> {
        // Both queries go out at once (diesel-async pipelines futures polled together).
        let conn = &*conn;
        let org = organisations::table
            .find(slug)
            .select(OrgRow::as_select())
            .get_result(&mut &*conn);
        let numbers = org_numbers::table
            .filter(org_numbers::org.eq(slug))
            .order(org_numbers::position)
            .select(org_numbers::number)
            .load::<String>(&mut &*conn);
        let (org, numbers) = futures_util::future::join(org, numbers).await;
        let Some(org) = org.optional().map_err(error::query)? else {
            return Ok(None);
        };
        let numbers = numbers.map_err(error::query)?;
        org.into_domain(numbers).map(Some).map_err(error::corrupt)
    }

    /// `callpark_apply`, or `callpark_apply_and_set_agent` when an agent's status goes with it.
    async fn apply_and_maybe_set_agent(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
        agent: Option<&AgentStatusChange>,
    ) -> Result<LotEvent, CasError> {
        let next = serde_json::to_value(ParkedRow::new(next))
            .map_err(|e| CasError::Store(StoreError::Internal(Box::new(e))))?;
        // A version beyond i64 cannot be stored, so it cannot match: -1 never does.
        let version = i64::try_from(current.version).unwrap_or(-1);
        let (id, state, kind) = (current.id.as_uuid(), current.state.as_str(), kind.as_str());
        self.bounded(async {
            let mut conn = self.conn().await?;
            let (function, answer) = match agent {
                None => (
                    "callpark_apply",
                    diesel::select(sql::callpark_apply(id, state, version, next, kind, at))
                        .get_result::<serde_json::Value>(&mut *conn)
                        .await,
                ),
                Some(agent) => (
                    "callpark_apply_and_set_agent",
                    diesel::select(sql::callpark_apply_and_set_agent(
                        id,
                        state,
                        version,
                        next,
                        kind,
                        at,
                        agent.org.as_str(),
                        agent.identity.as_str(),
                        agent_status_name(agent.status),
                        agent.current_call.as_ref().map(CallSid::as_str),
                    ))
                    .get_result::<serde_json::Value>(&mut *conn)
                    .await,
                ),
            };
            let outcome: ApplyOutcome = serde_json::from_value(answer.map_err(error::query)?)
                .map_err(|source| {
                    StoreError::Internal(Box::new(UnexpectedAnswer { function, source }))
                })?;
            match outcome {
                ApplyOutcome::Applied { event: row } => {
                    self.notifier.committed(&row);
                    Ok(event(row)?)
                }
                ApplyOutcome::NotFound => Err(CasError::NotFound),
                ApplyOutcome::Conflict => Err(CasError::Conflict),
            }
        })
        .await
    }

    async fn try_claim(
        conn: &mut AsyncPgConnection,
        request: &NewParkedCall,
    ) -> Result<ClaimOutcome, diesel::result::Error> {
        let (policy, slot) = match request.request {
            SlotRequest::Requested(slot) => ("requested", Some(i32::from(slot.get()))),
            SlotRequest::Auto(policy) => (auto_slot_name(policy), None),
        };
        let answer = diesel::select(sql::callpark_claim_slot(
            request.org.as_str(),
            policy,
            slot,
            ParkedCallId::random().as_uuid(),
            request.pstn_call.as_str(),
            request.caller.number.as_ref().map(PhoneNumber::as_str),
            request.caller.name.as_ref().map(|n| n.as_str()),
            request.parked_by.as_str(),
            request.now,
        ))
        .get_result::<serde_json::Value>(conn)
        .await?;
        serde_json::from_value(answer).map_err(|source| {
            diesel::result::Error::DeserializationError(Box::new(UnexpectedAnswer {
                function: "callpark_claim_slot",
                source,
            }))
        })
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

fn event(row: EventRow) -> Result<LotEvent, StoreError> {
    LotEvent::try_from(row).map_err(error::corrupt)
}

fn parked(row: ParkedRow) -> Result<ParkedCall, StoreError> {
    ParkedCall::try_from(row).map_err(error::corrupt)
}

fn parked_all(rows: Vec<ParkedRow>) -> Result<Vec<ParkedCall>, StoreError> {
    rows.into_iter().map(parked).collect()
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl ParkingStore for PgStore {
    async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError> {
        let row = OrgRow::new(org);
        let numbers: Vec<_> = org
            .numbers
            .iter()
            .zip(0..)
            .map(|(number, position)| {
                (
                    org_numbers::number.eq(number.as_str()),
                    org_numbers::org.eq(org.slug.as_str()),
                    org_numbers::position.eq(position),
                )
            })
            .collect();
        self.bounded(async {
            let mut conn = self.conn().await?;
            let created = conn
                .transaction::<_, TxError<CreateOrgError>, _>(async |conn| {
                    let inserted = diesel::insert_into(organisations::table)
                        .values(&row)
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                    if inserted == 0 {
                        return Err(TxError::Refused(CreateOrgError::AlreadyExists));
                    }
                    // ON CONFLICT DO NOTHING waits for a concurrent insert of the same number
                    // and then skips it, so a number is never claimed twice.
                    let routed: Vec<String> = if numbers.is_empty() {
                        Vec::new()
                    } else {
                        diesel::insert_into(org_numbers::table)
                            .values(&numbers)
                            .on_conflict_do_nothing()
                            .returning(org_numbers::number)
                            .get_results(conn)
                            .await?
                    };
                    if let Some(taken) = org
                        .numbers
                        .iter()
                        .find(|n| !routed.iter().any(|r| r == n.as_str()))
                    {
                        return Err(TxError::Refused(CreateOrgError::NumberTaken(taken.clone())));
                    }
                    diesel::insert_into(org_lot_state::table)
                        .values(org_lot_state::org.eq(org.slug.as_str()))
                        .execute(conn)
                        .await?;
                    Ok(())
                })
                .await;
            match created {
                Ok(()) => {}
                Err(TxError::Refused(e)) => return Err(e),
                Err(TxError::Db(e)) => return Err(error::query(e).into()),
            }
            // Read back what was stored, so that what create returns is what `org` returns.
            let created = Self::org_where(&mut conn, org.slug.as_str())
                .await?
                .ok_or_else(|| {
                    StoreError::Internal("the organisation vanished after it was created".into())
                })?;
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
            let mut conn = self.conn().await?;
            let org = Self::org_where(&mut conn, slug.as_str()).await?;
            if let Some(org) = &org {
                self.orgs.put(org);
            }
            Ok(org)
        })
        .await
    }

    async fn org_by_number(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<Organisation>, StoreError> {
        if let Some(org) = self
            .orgs
            .slug_of_number(number.as_str())
            .and_then(|slug| self.orgs.get(&slug))
        {
            return Ok(Some(org));
        }
        self.bounded(async {
            let mut conn = self.conn().await?;
            let slug = org_numbers::table
                .find(number.as_str())
                .select(org_numbers::org)
                .get_result::<String>(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?;
            let org = match slug {
                Some(slug) => Self::org_where(&mut conn, &slug).await?,
                None => None,
            };
            if let Some(org) = &org {
                self.orgs.put(org);
            }
            Ok(org)
        })
        .await
    }

    async fn create_agent(&self, agent: &NewAgent) -> Result<Agent, CreateAgentError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let inserted = diesel::insert_into(agents::table)
                .values((
                    agents::org.eq(agent.org.as_str()),
                    agents::identity.eq(agent.identity.as_str()),
                    agents::display_name.eq(agent.display_name.as_ref().map(|n| n.as_str())),
                    agents::status.eq(agent_status_name(AgentStatus::Offline)),
                    agents::token_hash.eq(agent.token_hash.as_bytes().as_slice()),
                ))
                .returning(AgentRow::as_returning())
                .get_result(&mut *conn)
                .await;
            match inserted {
                Ok(row) => Agent::try_from(row).map_err(|e| error::corrupt(e).into()),
                Err(e)
                    if violated_constraint(&e, DatabaseErrorKind::ForeignKeyViolation)
                        .is_some() =>
                {
                    Err(CreateAgentError::UnknownOrg)
                }
                Err(e)
                    if violated_constraint(&e, DatabaseErrorKind::UniqueViolation)
                        == Some("agents_pkey") =>
                {
                    Err(CreateAgentError::AlreadyExists)
                }
                // A token hash shared by two agents is a bug of the token issuer, not a
                // refusal the caller can act on.
                Err(e) => Err(error::query(e).into()),
            }
        })
        .await
    }

    async fn agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<Option<Agent>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            agents::table
                .find((org.as_str(), identity.as_str()))
                .select(AgentRow::as_select())
                .get_result(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?
                .map(|row| Agent::try_from(row).map_err(error::corrupt))
                .transpose()
        })
        .await
    }

    async fn agent_by_token(&self, hash: &TokenHash) -> Result<Option<Agent>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            agents::table
                .filter(agents::token_hash.eq(hash.as_bytes().as_slice()))
                .select(AgentRow::as_select())
                .get_result(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?
                .map(|row| Agent::try_from(row).map_err(error::corrupt))
                .transpose()
        })
        .await
    }

    async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            agents::table
                .filter(agents::org.eq(org.as_str()))
                .order(agents::identity)
                .select(AgentRow::as_select())
                .load(&mut *conn)
                .await
                .map_err(error::query)?
                .into_iter()
                .map(|row| Agent::try_from(row).map_err(error::corrupt))
                .collect()
        })
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
            diesel::select(sql::callpark_set_agent_status(
                org.as_str(),
                identity.as_str(),
                agent_status_name(status),
                current_call.map(CallSid::as_str),
            ))
            .get_result(&mut *conn)
            .await
            .map_err(error::query)
        })
        .await
    }

    async fn record_call(&self, call: &Call) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            diesel::select(sql::callpark_record_call(
                call.pstn.as_str(),
                call.org.as_str(),
                call.caller.number.as_ref().map(PhoneNumber::as_str),
                call.caller.name.as_ref().map(|n| n.as_str()),
            ))
            .execute(&mut *conn)
            .await
            .map_err(error::query)?;
            Ok(())
        })
        .await
    }

    async fn link_browser_leg<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        agent: Option<&'a AgentIdentity>,
    ) -> Result<bool, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            diesel::select(sql::callpark_link_browser_leg(
                browser.as_str(),
                pstn.as_str(),
                agent.map(AgentIdentity::as_str),
            ))
            .get_result(&mut *conn)
            .await
            .map_err(error::query)
        })
        .await
    }

    async fn call_by_browser_leg(&self, browser: &CallSid) -> Result<Option<Call>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            browser_legs::table
                .inner_join(calls::table)
                .filter(browser_legs::browser_sid.eq(browser.as_str()))
                .select(CallRow::as_select())
                .get_result(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?
                .map(|row| Call::try_from(row).map_err(error::corrupt))
                .transpose()
        })
        .await
    }

    async fn call_by_pstn(&self, pstn: &CallSid) -> Result<Option<Call>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            calls::table
                .find(pstn.as_str())
                .select(CallRow::as_select())
                .get_result(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?
                .map(|row| Call::try_from(row).map_err(error::corrupt))
                .transpose()
        })
        .await
    }

    async fn claim_slot(&self, request: &NewParkedCall) -> Result<LotEvent, ClaimError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let outcome = match Self::try_claim(&mut conn, request).await {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        let Some(constraint) =
                            violated_constraint(&e, DatabaseErrorKind::UniqueViolation)
                        else {
                            return Err(error::query(e).into());
                        };
                        // A unique index decided a race. A requested slot is simply taken;
                        // otherwise look again with what has been committed since.
                        match (constraint, request.request) {
                            ("parked_calls_one_per_slot", SlotRequest::Requested(slot)) => {
                                return Err(ClaimError::SlotOccupied(slot));
                            }
                            _ if attempt < CLAIM_ATTEMPTS => continue,
                            _ => return Err(StoreError::Unavailable(Box::new(e)).into()),
                        }
                    }
                };
                return match outcome {
                    ClaimOutcome::Claimed { event: row } => {
                        self.notifier.committed(&row);
                        Ok(event(row)?)
                    }
                    ClaimOutcome::UnknownOrg => Err(ClaimError::UnknownOrg),
                    ClaimOutcome::AlreadyParked { id, slot } => Err(ClaimError::AlreadyParked(
                        ParkedCallId::from_uuid(id),
                        stored_slot(slot)?,
                    )),
                    ClaimOutcome::SlotOutOfRange { lot_size } => {
                        let SlotRequest::Requested(slot) = request.request else {
                            return Err(StoreError::Internal(
                                "an automatic slot came back out of range".into(),
                            )
                            .into());
                        };
                        Err(ClaimError::SlotOutOfRange {
                            slot,
                            lot_size: stored_lot_size(lot_size)?,
                        })
                    }
                    ClaimOutcome::SlotOccupied => match request.request {
                        SlotRequest::Requested(slot) => Err(ClaimError::SlotOccupied(slot)),
                        SlotRequest::Auto(_) => Err(ClaimError::LotFull),
                    },
                    ClaimOutcome::LotFull => Err(ClaimError::LotFull),
                };
            }
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
        self.apply_and_maybe_set_agent(current, next, kind, at, None)
            .await
    }

    async fn apply_and_set_agent(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
        agent: &AgentStatusChange,
    ) -> Result<LotEvent, CasError> {
        self.apply_and_maybe_set_agent(current, next, kind, at, Some(agent))
            .await
    }

    async fn parked_call(&self, id: ParkedCallId) -> Result<Option<ParkedCall>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            parked_calls::table
                .find(id.as_uuid())
                .select(ParkedRow::as_select())
                .get_result(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?
                .map(parked)
                .transpose()
        })
        .await
    }

    async fn occupant(
        &self,
        org: &OrgSlug,
        slot: SlotNumber,
    ) -> Result<Option<ParkedCall>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            parked_calls::table
                .filter(parked_calls::org.eq(org.as_str()))
                .filter(parked_calls::slot.eq(i32::from(slot.get())))
                .filter(Occupying)
                .select(ParkedRow::as_select())
                .get_result(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?
                .map(parked)
                .transpose()
        })
        .await
    }

    async fn occupant_by_pstn(&self, pstn: &CallSid) -> Result<Option<ParkedCall>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            parked_calls::table
                .filter(parked_calls::pstn_sid.eq(pstn.as_str()))
                .filter(Occupying)
                .select(ParkedRow::as_select())
                .get_result(&mut *conn)
                .await
                .optional()
                .map_err(error::query)?
                .map(parked)
                .transpose()
        })
        .await
    }

    async fn lot(&self, org: &OrgSlug) -> Result<LotSnapshot, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            // One statement, so one snapshot: the occupants and the sequence agree.
            let rows: Vec<(i64, Option<ParkedRow>)> = org_lot_state::table
                .left_join(
                    parked_calls::table.on(parked_calls::org.eq(org_lot_state::org).and(Occupying)),
                )
                .filter(org_lot_state::org.eq(org.as_str()))
                .order(parked_calls::slot)
                // ParkedRow's fields are in the table's column order.
                .select((
                    org_lot_state::last_sequence,
                    parked_calls::all_columns.nullable(),
                ))
                .load(&mut *conn)
                .await
                .map_err(error::query)?;
            let sequence = rows.as_slice().first().map_or(0, |(sequence, _)| *sequence);
            Ok(LotSnapshot {
                occupied: parked_all(rows.into_iter().filter_map(|(_, row)| row).collect())?,
                sequence: Sequence::new(u64::try_from(sequence).unwrap_or_default()),
            })
        })
        .await
    }

    async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        max: usize,
    ) -> Result<Vec<LotEvent>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            lot_events::table
                .filter(lot_events::org.eq(org.as_str()))
                .filter(lot_events::sequence.gt(i64::try_from(after.get()).unwrap_or(i64::MAX)))
                .order(lot_events::sequence)
                .limit(limit(max))
                .select(EventRow::as_select())
                .load(&mut *conn)
                .await
                .map_err(error::query)?
                .into_iter()
                .map(event)
                .collect()
        })
        .await
    }

    async fn due_deadlines(
        &self,
        now: OffsetDateTime,
        max: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            // SKIP LOCKED: a row another sweeper is firing right now (its apply holds the row)
            // is skipped rather than waited for. Exactly-once firing is the compare-and-set's
            // job, not this lock's.
            let rows = parked_calls::table
                .filter(Parked)
                .filter(parked_calls::deadline.le(now))
                .order((parked_calls::deadline, parked_calls::id))
                .limit(limit(max))
                .select(ParkedRow::as_select())
                .for_update()
                .skip_locked()
                .load(&mut *conn)
                .await
                .map_err(error::query)?;
            parked_all(rows)
        })
        .await
    }

    async fn in_flight_since(
        &self,
        before: OffsetDateTime,
        max: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let rows = parked_calls::table
                .filter(InFlight)
                .filter(parked_calls::state_changed_at.le(before))
                .order((parked_calls::state_changed_at, parked_calls::id))
                .limit(limit(max))
                .select(ParkedRow::as_select())
                .load(&mut *conn)
                .await
                .map_err(error::query)?;
            parked_all(rows)
        })
        .await
    }
}

fn stored_slot(slot: i32) -> Result<SlotNumber, StoreError> {
    u32::try_from(slot)
        .ok()
        .and_then(|s| SlotNumber::new(s).ok())
        .ok_or_else(|| StoreError::Internal(format!("stored slot {slot} is out of range").into()))
}

fn stored_lot_size(size: i32) -> Result<LotSize, StoreError> {
    u32::try_from(size)
        .ok()
        .and_then(|s| LotSize::new(s).ok())
        .ok_or_else(|| {
            StoreError::Internal(format!("stored lot size {size} is out of range").into())
        })
}
