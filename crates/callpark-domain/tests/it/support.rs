//! A whole service on test doubles: the in-memory store and events, scripted telephony, a
//! manual clock and static URLs.

use std::sync::Arc;
use std::time::Duration;

use callpark_domain::testkit::{
    ManualClock, ScriptedTelephony, StaticUrls, TelephonyRequest, agent_identity, call_sid, caller,
    conference_sid, epoch, new_agent,
};
use callpark_domain::{
    Agent, AgentStatus, CallStatus, CallStatusUpdate, ClientIdentity, ConferenceEvent,
    ConferenceEventKind, InboundCall, LotEvent, LotEventKind, OrgSlug, Organisation, ParkError,
    ParkRequest, ParkedCall, ParkedCallId, ParkingService, Ports, Sequence, SlotNumber,
    WebhookUrls,
};
use callpark_memory::{MemoryEvents, MemoryStore};

pub(crate) fn slot(n: u32) -> SlotNumber {
    SlotNumber::new(n).expect("a slot number")
}

pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(crate) struct World {
    pub(crate) service: ParkingService,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) telephony: Arc<ScriptedTelephony>,
    pub(crate) clock: Arc<ManualClock>,
}

impl World {
    /// A service whose clock reads [`epoch`], with these organisations created.
    pub(crate) async fn new(orgs: &[Organisation]) -> Self {
        let store = Arc::new(MemoryStore::new());
        let telephony = Arc::new(ScriptedTelephony::new());
        let clock = Arc::new(ManualClock::new(epoch()));
        let service = ParkingService::new(Ports {
            store: store.clone(),
            telephony: telephony.clone(),
            events: Arc::new(MemoryEvents::new()),
            clock: clock.clone(),
            urls: Arc::new(StaticUrls),
        });
        for org in orgs {
            service.create_org(org).await.expect("organisation created");
        }
        Self {
            service,
            store,
            telephony,
            clock,
        }
    }

    /// A signed-in (available) agent.
    pub(crate) async fn agent(&self, org: &str, identity: &str, token: u8) -> Agent {
        let agent = self
            .service
            .create_agent(&new_agent(org, identity, token))
            .await
            .expect("agent created");
        self.service
            .set_presence(&agent, AgentStatus::Available)
            .await
            .expect("presence set");
        self.agent_now(&agent).await
    }

    /// The agent as stored now.
    pub(crate) async fn agent_now(&self, agent: &Agent) -> Agent {
        use callpark_domain::ParkingStore;
        self.store
            .agent(&agent.org, &agent.identity)
            .await
            .expect("store")
            .expect("agent exists")
    }

    /// Caller `pstn` dials `org`'s number and `agent`'s browser (leg `browser`) answers: the
    /// service learns the legs from the webhooks, as in production.
    pub(crate) async fn answered_call(
        &self,
        org: &Organisation,
        pstn: u128,
        browser: u128,
        agent: &Agent,
    ) {
        let routing = self
            .service
            .on_inbound_call(InboundCall {
                pstn: call_sid(pstn),
                dialled: org.numbers[0].clone(),
                caller: caller(u32::try_from(pstn).expect("small")),
            })
            .await
            .expect("inbound call routed");
        assert_eq!(routing.org.slug, org.slug);
        self.service
            .on_call_status(&CallStatusUpdate {
                call: call_sid(browser),
                parent: Some(call_sid(pstn)),
                status: CallStatus::InProgress,
                agent: Some(ClientIdentity::of(&agent.org, &agent.identity)),
                sequence: None,
            })
            .await
            .expect("child leg status handled");
    }

    pub(crate) async fn park(
        &self,
        agent: &Agent,
        leg: u128,
        slot_number: Option<u32>,
    ) -> Result<ParkedCall, ParkError> {
        self.service
            .park(
                agent,
                ParkRequest {
                    call: call_sid(leg),
                    slot: slot_number.map(slot),
                },
            )
            .await
    }

    pub(crate) async fn record(&self, id: ParkedCallId) -> ParkedCall {
        self.service
            .parked_call(id)
            .await
            .expect("store")
            .expect("parked call exists")
            .call
    }

    pub(crate) async fn events(&self, org: &OrgSlug) -> Vec<LotEvent> {
        self.service
            .events_after(org, Sequence::ZERO, usize::MAX)
            .await
            .expect("events")
    }

    pub(crate) async fn kinds(&self, org: &OrgSlug) -> Vec<LotEventKind> {
        self.events(org).await.iter().map(|e| e.kind).collect()
    }

    /// The parked calls occupying the lot, by slot.
    pub(crate) async fn occupied(&self, org: &Organisation) -> Vec<(u16, ParkedCallId)> {
        self.service
            .lot(org)
            .await
            .expect("lot")
            .slots
            .into_iter()
            .filter_map(|s| s.call.map(|c| (s.slot.get(), c.id)))
            .collect()
    }

    pub(crate) async fn conference(
        &self,
        id: ParkedCallId,
        sid: u128,
        kind: ConferenceEventKind,
    ) -> Option<ParkedCall> {
        self.service
            .on_conference_event(&ConferenceEvent {
                conference_name: id.conference_name(),
                conference_sid: conference_sid(sid),
                kind,
            })
            .await
            .expect("conference event handled")
    }

    /// The caller's leg reports its end.
    pub(crate) async fn caller_hangs_up(&self, pstn: u128) {
        self.service
            .on_call_status(&CallStatusUpdate {
                call: call_sid(pstn),
                parent: None,
                status: CallStatus::Completed,
                agent: None,
                sequence: None,
            })
            .await
            .expect("call status handled");
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub(crate) fn redirects(&self) -> Vec<(u128, String)> {
        self.telephony
            .redirects()
            .into_iter()
            .map(|(call, url)| (sid_number(call.as_str()), url.as_str().to_owned()))
            .collect()
    }

    pub(crate) fn requests(&self) -> Vec<TelephonyRequest> {
        self.telephony.requests()
    }
}

/// The number a test SID was made from.
pub(crate) fn sid_number(sid: &str) -> u128 {
    u128::from_str_radix(&sid[2..], 16).expect("a test SID")
}

pub(crate) fn park_url(id: ParkedCallId) -> String {
    StaticUrls.park(id).as_str().to_owned()
}

pub(crate) fn retrieve_url(id: ParkedCallId) -> String {
    StaticUrls.retrieve(id).as_str().to_owned()
}

pub(crate) fn voicemail_url(id: ParkedCallId) -> String {
    StaticUrls.voicemail(id).as_str().to_owned()
}

pub(crate) fn identity(s: &str) -> callpark_domain::AgentIdentity {
    agent_identity(s)
}

pub(crate) fn at(offset: Duration) -> time::OffsetDateTime {
    epoch() + offset
}
