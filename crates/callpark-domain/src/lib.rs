//! # callpark-domain
//!
//! Call parking without the I/O: the park/retrieve state machine, the value types, the use
//! cases, and the ports an application implements to give them a telephony, a store, an event
//! feed, a clock and URLs. An agent parks the call it is on into a slot of its organisation's
//! lot; any agent of the organisation retrieves it; a caller who hangs up frees the slot; a call
//! nobody retrieves before its deadline rings its parker back, then goes to voicemail.
//!
//! callpark's own service embeds it behind HTTP and Twilio; another telephony app (a different
//! carrier, a PBX's API) embeds it the same way. A complete, runnable embedding with a
//! simulated switch of its own is `examples/embed/` (the script in `main.rs`, the telephony port in `switch.rs`)
//! (`cargo run -p callpark-domain --example embed`).
//!
//! ## The state machine
//!
//! One parked call is one occupancy of one slot. [`transition`] is a pure function from the
//! record and a [`Signal`] to a [`Step`]; [`ParkingService`] stores each move with a
//! compare-and-set, publishes its [`LotEvent`] and carries out its telephony [`Effect`].
//!
//! ```text
//!             claim slot                redirect accepted
//!   (free) ───────────────▶ Parking ──────────────────────▶ Parked ◀──────────────┐
//!                             │  redirect refused             │  retrieve (CAS)  │ agent did not answer
//!                             ▼                               ▼                  │
//!                           Failed                         Retrieving ───────────┘
//!                                                             │ agent answered
//!    caller hangs up in Parking / Parked / Retrieving         ▼
//!    ─────────────▶ Abandoned                              Retrieved
//!    deadline passes in Parked ─▶ Retrieving(ring-back) ─▶ no answer ─▶ Voicemail
//! ```
//!
//! A slot is occupied while its call is `Parking`, `Parked` or `Retrieving`. Terminal records
//! (`Retrieved`, `Abandoned`, `Failed`, `Voicemail`) are kept as history and absorb late or
//! duplicate signals. Every event carries a per-organisation [`Sequence`] without gaps: a live
//! view is [`ParkingService::lot`] at sequence N plus every event after N.
//!
//! ## The ports and their contracts
//!
//! - [`Telephony`]: moves the caller's leg **only by redirecting it to a URL** (there is no way
//!   to send inline instructions); reports a caller who is gone as
//!   [`TelephonyError::NotInProgress`], and a call it does not find as
//!   [`TelephonyError::NotFound`] (taken for a caller gone only once the call's four-hour limit
//!   has passed: before, nothing was done and the caller is where it was); reports a request that
//!   may or may not have taken effect (a timeout) as [`TelephonyError::OutcomeUnknown`], which
//!   keeps the record in flight until [`ParkingService::reconcile`] asks again; and
//!   [`TelephonyError::NotProcessed`] for one that surely did nothing.
//! - [`ParkingStore`]: durable state, each method one short atomic operation. Slot claims are
//!   atomic (of concurrent claims of one slot exactly one wins) and [`ParkingStore::apply`] is
//!   a compare-and-set on state and version that writes the record and its event together.
//! - [`EventPublisher`]: fans the stored events out to live subscribers (every instance's, for
//!   a shared store); a subscriber that falls behind is told [`SubscriptionError::Lagged`] and
//!   re-reads with [`ParkingService::events_after`].
//! - [`Clock`]: the time; [`SystemClock`] in production.
//! - [`WebhookUrls`]: the URLs of the embedder's front end that the caller's leg is redirected
//!   to, and where the telephony reports a hang-up. The front end turns the telephony's
//!   callbacks into the service's `on_*` calls.
//!
//! ## Quickstart
//!
//! The service over the in-memory store (`callpark-memory`) and the test doubles of the
//! `testkit` feature: a call is answered, parked, listed and retrieved.
//!
//! ```
//! # #[cfg(feature = "testkit")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use callpark_domain::testkit::{ManualClock, ScriptedTelephony, StaticUrls, epoch};
//! use callpark_domain::testkit::{call_sid, new_agent, organisation};
//! use callpark_domain::{AgentStatus, CallStatus, CallStatusUpdate, Caller, ClientIdentity, InboundCall};
//! use callpark_domain::{ParkRequest, ParkState, ParkingService, Ports, SlotNumber};
//! use callpark_memory::{MemoryEvents, MemoryStore};
//!
//! let service = ParkingService::new(Ports {
//!     store: Arc::new(MemoryStore::new()),
//!     telephony: Arc::new(ScriptedTelephony::new()),
//!     events: Arc::new(MemoryEvents::new()),
//!     clock: Arc::new(ManualClock::new(epoch())),
//!     urls: Arc::new(StaticUrls),
//! });
//! let org = service.create_org(&organisation("acme", 3)).await?;
//! let alice = service.create_agent(&new_agent("acme", "alice", 1)).await?;
//! service.set_presence(&alice, AgentStatus::Available).await?;
//!
//! // A caller dials in and alice's browser answers: the front end reports both.
//! let (pstn, browser) = (call_sid(1), call_sid(2));
//! let inbound = InboundCall { pstn: pstn.clone(), dialled: org.numbers[0].clone(), caller: Caller::default() };
//! service.on_inbound_call(inbound).await?;
//! service.on_call_status(&CallStatusUpdate {
//!     call: browser.clone(),
//!     parent: Some(pstn),
//!     status: CallStatus::InProgress,
//!     agent: Some(ClientIdentity::of(&alice.org, &alice.identity)),
//!     sequence: None,
//! }).await?;
//!
//! let parked = service.park(&alice, ParkRequest { call: browser, slot: None }).await?;
//! assert_eq!((parked.slot.get(), parked.state), (1, ParkState::Parked));
//! let lot = service.lot(&org).await?;
//! assert_eq!(lot.slots[0].call.as_ref().map(|c| c.id), Some(parked.id));
//!
//! let retrieving = service.retrieve(&alice, SlotNumber::new(1)?, None).await?;
//! assert_eq!(retrieving.state, ParkState::Retrieving);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Running the store conformance kit against your own store
//!
//! With the `testkit` feature, [`testkit::conformance`] holds the behavioural contract of
//! [`ParkingStore`] as checks that take a fresh, empty store. In your store's tests (with
//! `tokio` as a dev-dependency), one line makes each check a `#[tokio::test]`; the expression
//! is a future evaluated afresh per test, yielding anything that dereferences to the store:
//!
//! ```ignore
//! callpark_domain::store_conformance_tests!(async { Box::new(MyStore::connect_fresh().await) });
//! ```
//!
//! `callpark-memory` and `callpark-postgres` run exactly this.
//!
//! ## Features
//!
//! - `testkit`: the conformance kit and deterministic doubles ([`testkit`]).
//! - `mocks`: mockall mocks of every port (`mocks`).

// The modules are private: every item an embedder uses is re-exported here, so each has one
// path, `callpark_domain::Item`. Test support has its own modules, behind its features.
#![deny(missing_docs)]

mod events;
mod history;
mod machine;
mod model;
mod ports;
mod presence;
mod service;
mod stats;
#[cfg(feature = "testkit")]
pub mod testkit;
mod values;

/// mockall mocks of every port (feature `mocks`), for embedders' own tests of code that
/// drives the service.
#[cfg(feature = "mocks")]
pub mod mocks {
    pub use crate::ports::{
        MockClock, MockEventPublisher, MockParkingStore, MockTelephony, MockWebhookUrls,
    };
}

pub use events::{LotEvent, LotEventKind};
pub use history::{Forgotten, HistoryCursor, HistoryFilter, HistoryPage, HistoryQuery, Outcome};
pub use machine::{
    DialOutcome, Effect, Move, ParkState, Refusal, Signal, Step, TimeoutRoute, TransitionContext,
    TransitionError, transition,
};
pub use model::{
    Agent, AgentChange, AgentStatus, AgentStatusChange, AutoSlot, CALL_TIME_LIMIT, Call, Caller,
    DEFAULT_RETRIEVE_RING_TIME, MAX_CLIENTS_PER_DIAL, MAX_PARK_TIME, NewAgent, NewOrganisation,
    NewParkedCall, NewSession, OrgChange, Organisation, ParkedCall, Retrieval, Role, SlotRequest,
    TIMEOUT_ACTION_TIME, TimeoutAction, VoicemailHandled, retrieve_window,
};
pub use ports::{
    BoxError, CallStatus, CasError, ChangeOrgError, ChildLeg, ClaimError, Clock, CreateAgentError,
    CreateOrgError, EventPublisher, EventSubscription, LotSnapshot, ParkingStore, PstnLeg,
    RecordingAudio, StoreError, SubscriptionError, SystemClock, Telephony, TelephonyError,
    WebhookUrls,
};
pub use presence::AgentCall;
pub use service::{
    AfterDial, CallStatusUpdate, ConferenceEvent, ConferenceEventKind, InboundCall, InboundError,
    InboundRouting, LeaveReason, LotView, ParkError, ParkRequest, ParkedCallContext,
    ParkingService, Ports, RetrieveError, SessionLifetime, SignalError, SlotView, SweepReport,
    TelephonyFailure, VoicemailError,
};
pub use stats::{
    AgentStats, Bucket, BucketStats, Figures, ParkStats, Percentiles, StatsRange, StatsRangeError,
};
pub use values::{
    AgentIdentity, Announcement, CallSid, CallerName, ClientIdentity, ConferenceSid, DisplayName,
    HttpUrl, InvalidValue, Language, LotSize, MAX_SLOTS, OrgSlug, PageLimit, ParkedCallId,
    PhoneNumber, Sequence, SlotNumber, TokenHash, Voice,
};
