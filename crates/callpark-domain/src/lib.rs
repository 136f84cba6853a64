//! # callpark-domain
//!
//! Call parking for Twilio Programmable Voice, without the I/O: an agent parks the call it is on
//! into a slot of its organisation's lot; any agent of the organisation retrieves it; a caller
//! who hangs up frees the slot; a call nobody retrieves rings back or goes to voicemail.
//!
//! - [`values`]: validated value types ([`CallSid`], [`SlotNumber`], …).
//! - [`machine`]: the parked-call state machine, a pure function.
//! - [`events`]: domain events, numbered per organisation.
//! - [`ports`]: what the domain needs from the world ([`Telephony`], [`ParkingStore`],
//!   [`EventPublisher`], [`Clock`], [`WebhookUrls`]).
//! - [`service`]: the use cases ([`ParkingService`]).
//!
//! With the `testkit` feature, [`testkit`] holds the behavioural tests every
//! [`ParkingStore`] must pass, and test doubles. With `mocks`, every port has a `mockall` mock.

pub mod events;
pub mod machine;
pub mod model;
pub mod ports;
pub mod presence;
pub mod service;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod values;

pub use events::{LotEvent, LotEventKind};
pub use machine::{
    DialOutcome, Effect, Move, ParkState, Refusal, Signal, Step, TimeoutRoute, TransitionContext,
    TransitionError, transition,
};
pub use model::{
    Agent, AgentStatus, AgentStatusChange, AutoSlot, Call, Caller, MAX_PARK_TIME, NewAgent,
    NewOrganisation, NewParkedCall, Organisation, ParkedCall, Retrieval, SlotRequest,
    TimeoutAction,
};
pub use ports::{
    BoxError, CallStatus, CasError, ClaimError, Clock, CreateAgentError, CreateOrgError,
    EventPublisher, EventSubscription, LotSnapshot, ParkingStore, PstnLeg, StoreError,
    SubscriptionError, SystemClock, Telephony, TelephonyError, WebhookUrls,
};
pub use presence::AgentCall;
pub use service::{
    AfterDial, CallStatusUpdate, ConferenceEvent, ConferenceEventKind, InboundCall, InboundError,
    InboundRouting, LeaveReason, LotView, ParkError, ParkRequest, ParkedCallContext,
    ParkingService, Ports, RetrieveError, SignalError, SlotView, SweepReport, TelephonyFailure,
};
pub use values::{
    AgentIdentity, Announcement, CallSid, CallerName, ConferenceSid, DisplayName, HttpUrl,
    InvalidValue, LotSize, MAX_SLOTS, OrgSlug, ParkedCallId, PhoneNumber, Sequence, SlotNumber,
    TokenHash, Voice,
};
