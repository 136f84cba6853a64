//! The use cases against mockall mocks of the ports: the exact requests the service makes of
//! the store and of Twilio.
//!
//! The [`Telephony`](callpark_domain::Telephony) port has no way to send inline TwiML at all:
//! the only way to move a call is `redirect(call, url, status_callback)`, which Twilio fetches
//! by URL. These tests pin the arguments of that one request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::mocks::{
    MockClock, MockEventPublisher, MockParkingStore, MockTelephony, MockWebhookUrls,
};
use callpark_domain::testkit::{agent_identity, call_sid, caller, epoch, new_agent, organisation};
use callpark_domain::{
    Agent, AgentChange, AgentIdentity, AgentStatus, AgentStatusChange, Call, CallSid, CasError,
    ChangeOrgError, ClaimError, CreateAgentError, CreateOrgError, HistoryCursor, HistoryFilter,
    HttpUrl, LotEvent, LotEventKind, LotSnapshot, NewAgent, NewOrganisation, NewParkedCall,
    NewSession, OrgChange, OrgSlug, Organisation, ParkError, ParkRequest, ParkState, ParkedCall,
    ParkedCallId, ParkingService, ParkingStore, PhoneNumber, Ports, Retrieval, RetrieveError, Role,
    Sequence, SlotNumber, SlotRequest, StoreError, TelephonyError, TokenHash,
};
use callpark_memory::MemoryStore;
use mockall::predicate::eq;
use time::OffsetDateTime;

use crate::support::{secs, slot};

fn url(path: &str) -> HttpUrl {
    HttpUrl::parse(&format!("https://mock.test{path}")).expect("a URL")
}

fn pstn() -> CallSid {
    call_sid(1)
}

fn browser() -> CallSid {
    call_sid(101)
}

fn acme() -> Organisation {
    organisation("acme", 3)
}

fn agent(identity: &str) -> Agent {
    Agent {
        org: acme().slug,
        identity: agent_identity(identity),
        display_name: None,
        status: AgentStatus::OnCall,
        current_call: Some(browser()),
        role: Role::Agent,
        active: true,
    }
}

fn record(state: ParkState, version: u64) -> ParkedCall {
    ParkedCall {
        id: ParkedCallId::from_uuid(uuid::Uuid::from_u128(7)),
        org: acme().slug,
        slot: slot(2),
        state,
        pstn_call: pstn(),
        caller: caller(1),
        parked_by: agent_identity("alice"),
        parked_at: epoch(),
        call_started_at: epoch(),
        conference_sid: None,
        deadline: None,
        retrieval: None,
        attempt: 0,
        ringbacks: 0,
        state_changed_at: epoch(),
        ended_at: None,
        recording_url: None,
        voicemail_handled: None,
        version,
    }
}

fn event(kind: LotEventKind, call: ParkedCall) -> LotEvent {
    LotEvent {
        org: call.org.clone(),
        sequence: Sequence::new(call.version),
        kind,
        at: call.state_changed_at,
        call,
    }
}

/// What a store's `apply` answers when the compare-and-set succeeds.
fn stored(current: &ParkedCall, next: &ParkedCall, kind: LotEventKind) -> LotEvent {
    let mut call = next.clone();
    call.version = current.version + 1;
    event(kind, call)
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(epoch);
    clock
}

/// URLs that are only asked for what the test expects.
fn urls() -> MockWebhookUrls {
    let mut urls = MockWebhookUrls::new();
    urls.expect_call_status().returning(|| url("/status"));
    urls
}

fn publisher(times: usize) -> MockEventPublisher {
    let mut events = MockEventPublisher::new();
    events.expect_publish().times(times).return_const(());
    events
}

fn service(
    store: impl ParkingStore + 'static,
    telephony: MockTelephony,
    events: MockEventPublisher,
    urls: MockWebhookUrls,
) -> ParkingService {
    ParkingService::new(Ports {
        store: Arc::new(store),
        telephony: Arc::new(telephony),
        events: Arc::new(events),
        clock: Arc::new(clock()),
        urls: Arc::new(urls),
    })
}

/// A store that knows acme, and alice's browser leg as bridged to the caller's leg.
fn store_with_call() -> MockParkingStore {
    let mut store = MockParkingStore::new();
    store
        .expect_org()
        .with(eq(acme().slug))
        .returning(|_| Ok(Some(acme())));
    store
        .expect_call_by_browser_leg()
        .with(eq(browser()))
        .returning(|_| {
            Ok(Some(Call {
                org: acme().slug,
                pstn: pstn(),
                caller: caller(1),
                started_at: epoch(),
            }))
        });
    store
        .expect_claim_slot()
        .times(1)
        .withf(|claim| {
            claim.pstn_call == pstn()
                && claim.parked_by == agent_identity("alice")
                && claim.request == SlotRequest::Requested(slot(2))
                && claim.now == epoch()
        })
        .returning(|_| Ok(event(LotEventKind::Parked, record(ParkState::Parking, 1))));
    store
        .expect_parked_call()
        .with(eq(record(ParkState::Parking, 1).id))
        .returning(|_| Ok(Some(record(ParkState::Parking, 1))));
    store
}

fn park_request() -> ParkRequest {
    ParkRequest {
        call: browser(),
        slot: Some(slot(2)),
    }
}

#[tokio::test]
async fn park_redirects_the_caller_leg_by_url_with_a_status_callback() {
    let id = record(ParkState::Parking, 1).id;
    let mut store = store_with_call();
    // The call's move to parked and its parker's release are one write.
    store
        .expect_apply_and_set_agent()
        .times(1)
        .withf(|current, next, kind, at, agent| {
            current.state == ParkState::Parking
                && next.state == ParkState::Parked
                && next.deadline == Some(epoch() + acme().max_park)
                && *kind == LotEventKind::Updated
                && *at == epoch()
                && *agent
                    == AgentStatusChange {
                        org: acme().slug,
                        identity: agent_identity("alice"),
                        status: AgentStatus::Available,
                        current_call: None,
                    }
        })
        .returning(|current, next, kind, _, _| Ok(stored(current, next, kind)));
    store.expect_apply().never();
    store.expect_set_agent_status().never();
    // The parker's browser leg dropped with the park: it has ended.
    store
        .expect_record_leg_status()
        .times(1)
        .withf(|leg, caller, agent, sequence, ended| {
            *leg == browser()
                && *caller == pstn()
                && *agent == Some(&agent_identity("alice"))
                && sequence.is_none()
                && *ended
        })
        .returning(|_, _, _, _, _| Ok(true));

    let mut telephony = MockTelephony::new();
    // The caller's (PSTN) leg, not the agent's browser leg; by URL, with a status callback.
    telephony
        .expect_redirect()
        .times(1)
        .withf(|call, target, status_callback| {
            *call == pstn() && *target == url("/park/7") && *status_callback == url("/status")
        })
        .returning(|_, _, _| Ok(()));
    telephony.expect_find_pstn_leg().never();

    let mut urls = urls();
    urls.expect_park()
        .with(eq(id))
        .times(1)
        .returning(|_| url("/park/7"));
    urls.expect_retrieve().never();
    urls.expect_voicemail().never();

    let service = service(store, telephony, publisher(2), urls);
    let parked = service
        .park(&agent("alice"), park_request())
        .await
        .expect("parked");
    assert_eq!(parked.state, ParkState::Parked);
    assert_eq!(parked.version, 2);
}

#[tokio::test]
async fn a_redirect_refused_as_not_in_progress_frees_the_slot_and_says_the_caller_is_gone() {
    let mut store = store_with_call();
    store
        .expect_apply()
        .times(1)
        .withf(|current, next, kind, _| {
            current.state == ParkState::Parking
                && next.state == ParkState::Failed
                && !next.occupies_slot()
                && next.ended_at == Some(epoch())
                && *kind == LotEventKind::Failed
        })
        .returning(|current, next, kind, _| Ok(stored(current, next, kind)));
    // Whatever the agent's status: it is not part of this contract.
    store
        .expect_set_agent_status()
        .times(0..=1)
        .returning(|_, _, _, _| Ok(true));

    let mut telephony = MockTelephony::new();
    telephony
        .expect_redirect()
        .times(1)
        .withf(|call, _, _| *call == pstn())
        .returning(|_, _, _| Err(TelephonyError::NotInProgress));

    let mut urls = urls();
    urls.expect_park().returning(|_| url("/park/7"));

    let service = service(store, telephony, publisher(2), urls);
    let result = service.park(&agent("alice"), park_request()).await;
    assert!(matches!(result, Err(ParkError::CallerGone)), "{result:?}");
}

#[tokio::test]
async fn park_of_a_call_nobody_knows_claims_no_slot() {
    let mut store = MockParkingStore::new();
    store.expect_org().returning(|_| Ok(Some(acme())));
    store
        .expect_call_by_browser_leg()
        .with(eq(browser()))
        .returning(|_| Ok(None));
    store
        .expect_call_by_pstn()
        .with(eq(browser()))
        .returning(|_| Ok(None));
    store.expect_claim_slot().never();
    store.expect_record_call().never();
    store.expect_apply().never();

    let mut telephony = MockTelephony::new();
    telephony
        .expect_find_pstn_leg()
        .with(eq(browser()))
        .times(1)
        .returning(|_| Err(TelephonyError::NotFound));
    telephony.expect_redirect().never();

    let service = service(store, telephony, publisher(0), urls());
    let result = service.park(&agent("alice"), park_request()).await;
    assert!(matches!(result, Err(ParkError::CallNotFound)), "{result:?}");
}

#[tokio::test]
async fn a_retrieve_that_loses_the_compare_and_set_is_already_retrieving() {
    let mut parked = record(ParkState::Parked, 2);
    parked.deadline = Some(epoch() + secs(300));
    let mut won = record(ParkState::Retrieving, 3);
    won.retrieval = Some(Retrieval::ByAgent(agent_identity("carol")));

    let mut store = MockParkingStore::new();
    store.expect_org().returning(|_| Ok(Some(acme())));
    // Bob is free to take the call.
    store.expect_agent().returning(|_, _| {
        Ok(Some(Agent {
            status: AgentStatus::Available,
            current_call: None,
            ..agent("bob")
        }))
    });
    let occupant = parked.clone();
    store
        .expect_occupant()
        .with(eq(acme().slug), eq(slot(2)))
        .returning(move |_, _| Ok(Some(occupant.clone())));
    // The occupant's read sees it parked; after the lost compare-and-set, the re-read sees the
    // winner's retrieve.
    let second = won.clone();
    store
        .expect_parked_call()
        .times(1)
        .returning(move |_| Ok(Some(second.clone())));
    store
        .expect_apply()
        .times(1)
        .withf(|current, next, kind, _| {
            current.state == ParkState::Parked
                && current.version == 2
                && next.state == ParkState::Retrieving
                && *kind == LotEventKind::Retrieving
        })
        .returning(|_, _, _, _| Err(CasError::Conflict));

    let mut telephony = MockTelephony::new();
    telephony.expect_redirect().never();
    let mut urls = urls();
    urls.expect_retrieve().never();

    let service = service(store, telephony, publisher(0), urls);
    let result = service.retrieve(&agent("bob"), slot(2), None).await;
    assert!(
        matches!(result, Err(RetrieveError::AlreadyRetrieving(s)) if s == slot(2)),
        "{result:?}"
    );
}

/// The in-memory store, yielding to the runtime before every operation, so that two use cases
/// run under `join` interleave between their reads and their writes.
struct YieldingStore {
    inner: MemoryStore,
    conflicts: Arc<AtomicUsize>,
}

#[async_trait]
impl ParkingStore for YieldingStore {
    async fn create_org(&self, org: &NewOrganisation) -> Result<Organisation, CreateOrgError> {
        tokio::task::yield_now().await;
        self.inner.create_org(org).await
    }
    async fn org(&self, slug: &OrgSlug) -> Result<Option<Organisation>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.org(slug).await
    }
    async fn org_by_number(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<Organisation>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.org_by_number(number).await
    }
    async fn create_agent(&self, agent: &NewAgent) -> Result<Agent, CreateAgentError> {
        tokio::task::yield_now().await;
        self.inner.create_agent(agent).await
    }
    async fn agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<Option<Agent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.agent(org, identity).await
    }
    async fn agent_by_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.agent_by_token(hash, now).await
    }
    async fn replace_token(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        hash: &TokenHash,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.inner
            .replace_token(org, identity, hash, expires_at)
            .await
    }
    async fn start_session(&self, session: &NewSession) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.start_session(session).await
    }
    async fn agent_by_session(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<Agent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.agent_by_session(hash, now, idle).await
    }
    async fn end_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.end_session(hash).await
    }
    async fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.orgs().await
    }
    async fn change_org(
        &self,
        slug: &OrgSlug,
        change: &OrgChange,
    ) -> Result<Organisation, ChangeOrgError> {
        tokio::task::yield_now().await;
        self.inner.change_org(slug, change).await
    }
    async fn change_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        change: &AgentChange,
    ) -> Result<Option<Agent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.change_agent(org, identity, change).await
    }
    async fn deactivate_agent(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<Option<Agent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.deactivate_agent(org, identity, at).await
    }
    async fn agent_seen(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.agent_seen(org, identity, at).await
    }
    async fn expire_presence(&self, seen_before: OffsetDateTime) -> Result<Vec<Agent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.expire_presence(seen_before).await
    }
    async fn end_agent_sessions(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
    ) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.end_agent_sessions(org, identity).await
    }
    async fn agents(&self, org: &OrgSlug) -> Result<Vec<Agent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.agents(org).await
    }
    async fn agents_to_ring(
        &self,
        org: &OrgSlug,
        limit: usize,
    ) -> Result<Vec<AgentIdentity>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.agents_to_ring(org, limit).await
    }
    async fn set_agent_status<'a>(
        &self,
        org: &OrgSlug,
        identity: &AgentIdentity,
        status: AgentStatus,
        current_call: Option<&'a CallSid>,
    ) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.inner
            .set_agent_status(org, identity, status, current_call)
            .await
    }
    async fn record_call(&self, call: &Call) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.record_call(call).await
    }
    async fn link_browser_leg<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        agent: Option<&'a AgentIdentity>,
    ) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.inner.link_browser_leg(browser, pstn, agent).await
    }
    async fn record_leg_status<'a>(
        &self,
        browser: &CallSid,
        pstn: &CallSid,
        agent: Option<&'a AgentIdentity>,
        sequence: Option<u32>,
        ended: bool,
    ) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.inner
            .record_leg_status(browser, pstn, agent, sequence, ended)
            .await
    }
    async fn call_by_browser_leg(&self, browser: &CallSid) -> Result<Option<Call>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.call_by_browser_leg(browser).await
    }
    async fn call_by_pstn(&self, pstn: &CallSid) -> Result<Option<Call>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.call_by_pstn(pstn).await
    }
    async fn claim_slot(&self, request: &NewParkedCall) -> Result<LotEvent, ClaimError> {
        tokio::task::yield_now().await;
        self.inner.claim_slot(request).await
    }
    async fn apply(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
    ) -> Result<LotEvent, CasError> {
        tokio::task::yield_now().await;
        let result = self.inner.apply(current, next, kind, at).await;
        if matches!(result, Err(CasError::Conflict)) {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    async fn apply_and_set_agent(
        &self,
        current: &ParkedCall,
        next: &ParkedCall,
        kind: LotEventKind,
        at: OffsetDateTime,
        agent: &AgentStatusChange,
    ) -> Result<LotEvent, CasError> {
        tokio::task::yield_now().await;
        let result = self
            .inner
            .apply_and_set_agent(current, next, kind, at, agent)
            .await;
        if matches!(result, Err(CasError::Conflict)) {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    async fn parked_call(&self, id: ParkedCallId) -> Result<Option<ParkedCall>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.parked_call(id).await
    }
    async fn occupant(
        &self,
        org: &OrgSlug,
        slot: SlotNumber,
    ) -> Result<Option<ParkedCall>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.occupant(org, slot).await
    }
    async fn occupant_by_pstn(&self, pstn: &CallSid) -> Result<Option<ParkedCall>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.occupant_by_pstn(pstn).await
    }
    async fn lot(&self, org: &OrgSlug) -> Result<LotSnapshot, StoreError> {
        tokio::task::yield_now().await;
        self.inner.lot(org).await
    }
    async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        limit: usize,
    ) -> Result<Vec<LotEvent>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.events_after(org, after, limit).await
    }
    async fn due_deadlines(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.due_deadlines(now, limit).await
    }
    async fn in_flight_since(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.in_flight_since(before, limit).await
    }

    async fn history(
        &self,
        org: &OrgSlug,
        filter: &HistoryFilter,
        after: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<ParkedCall>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.history(org, filter, after, limit).await
    }

    async fn forget_before(
        &self,
        cutoff: time::OffsetDateTime,
        limit: usize,
    ) -> Result<callpark_domain::Forgotten, StoreError> {
        tokio::task::yield_now().await;
        self.inner.forget_before(cutoff, limit).await
    }
}

#[tokio::test]
async fn of_two_concurrent_retrieves_one_wins_and_one_is_already_retrieving() {
    // A call parked in slot 2 of a real store.
    let inner = MemoryStore::new();
    inner.create_org(&acme()).await.expect("org");
    for (identity, token) in [("alice", 1), ("bob", 2), ("carol", 3)] {
        inner
            .create_agent(&new_agent("acme", identity, token))
            .await
            .expect("agent");
    }
    let claimed = inner
        .claim_slot(&NewParkedCall {
            org: acme().slug,
            request: SlotRequest::Requested(slot(2)),
            pstn_call: pstn(),
            caller: caller(1),
            parked_by: agent_identity("alice"),
            call_started_at: epoch(),
            now: epoch(),
        })
        .await
        .expect("claimed")
        .call;
    let mut parked = claimed.clone();
    parked.state = ParkState::Parked;
    parked.deadline = Some(epoch() + secs(300));
    inner
        .apply(&claimed, &parked, LotEventKind::Updated, epoch())
        .await
        .expect("parked");
    let id = claimed.id;

    let conflicts = Arc::new(AtomicUsize::new(0));
    let store = YieldingStore {
        inner,
        conflicts: conflicts.clone(),
    };
    let mut telephony = MockTelephony::new();
    // Exactly one agent's retrieve reaches Twilio.
    telephony
        .expect_redirect()
        .times(1)
        .withf(|call, target, _| *call == pstn() && *target == url("/retrieve"))
        .returning(|_, _, _| Ok(()));
    let mut urls = urls();
    urls.expect_retrieve()
        .with(eq(id))
        .returning(|_| url("/retrieve"));
    let service = service(store, telephony, publisher(1), urls);

    let (bob, carol) = (agent("bob"), agent("carol"));
    let (a, b) = futures_util::future::join(
        service.retrieve(&bob, slot(2), None),
        service.retrieve(&carol, slot(2), None),
    )
    .await;
    let (winner, loser) = match (a, b) {
        (Ok(call), Err(e)) => (call, e),
        (Err(e), Ok(call)) => (call, e),
        other => panic!("expected one winner and one loser, got {other:?}"),
    };
    assert!(
        matches!(loser, RetrieveError::AlreadyRetrieving(s) if s == slot(2)),
        "{loser:?}"
    );
    assert_eq!(winner.state, ParkState::Retrieving);
    // Both read the call as parked: the store's compare-and-set decided.
    assert_eq!(conflicts.load(Ordering::SeqCst), 1);
    let stored = service
        .parked_call(id)
        .await
        .expect("store")
        .expect("exists")
        .call;
    assert_eq!(stored.retrieval, winner.retrieval);
    // Claimed, parked, retrieving: one stored change per winner.
    assert_eq!(stored.version, claimed.version + 2);
}
