//! The errors of the use cases, one enum per use case.

use thiserror::Error;

use crate::ports::{StoreError, TelephonyError};
use crate::values::{AgentIdentity, PhoneNumber, SlotNumber};

/// The telephony provider failed a request the use case needed.
#[derive(Debug, Error)]
pub enum TelephonyFailure {
    /// The provider did not act: nothing changed on the call.
    #[error("the telephony provider refused the request")]
    Rejected(#[source] TelephonyError),
    /// The provider did not answer in time: the record stays in flight until reconciled.
    #[error("the telephony provider did not answer in time")]
    OutcomeUnknown(#[source] TelephonyError),
}

#[derive(Debug, Error)]
pub enum ParkError {
    /// Neither callpark nor the provider knows a caller's leg for this call in the agent's
    /// organisation.
    #[error("no call of yours with this SID is in progress")]
    CallNotFound,
    #[error("the call is already parked in slot {0}")]
    AlreadyParked(SlotNumber),
    #[error("slot {slot} is outside the lot of {lot_size} slots")]
    SlotOutOfRange { slot: SlotNumber, lot_size: u16 },
    #[error("slot {0} is occupied")]
    SlotOccupied(SlotNumber),
    #[error("every slot of the lot is occupied")]
    LotFull,
    /// The caller hung up before the call reached the lot.
    #[error("the caller has hung up")]
    CallerGone,
    /// The parked call changed on every attempt to store the redirect's outcome.
    #[error("the parked call kept changing; try again")]
    Contended,
    #[error(transparent)]
    Telephony(#[from] TelephonyFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum RetrieveError {
    #[error("slot {slot} is outside the lot of {lot_size} slots")]
    SlotOutOfRange { slot: SlotNumber, lot_size: u16 },
    #[error("no call is parked in slot {0}")]
    SlotEmpty(SlotNumber),
    #[error("no agent {0} in this organisation")]
    UnknownAgent(AgentIdentity),
    /// The agent to connect is on a call: ringing them would cost a caller (the browser does
    /// not present a second call, and connecting would drop the first). The parked call stays
    /// parked; park the current call first.
    #[error("{0} is on a call: park or end that call first")]
    AgentBusy(AgentIdentity),
    #[error("the call in slot {0} is still being parked")]
    NotYetParked(SlotNumber),
    #[error("the call in slot {0} is already being retrieved")]
    AlreadyRetrieving(SlotNumber),
    /// The caller hung up; the slot is free now.
    #[error("the caller in slot {0} has hung up")]
    CallerGone(SlotNumber),
    /// The parked call changed on every attempt to store the retrieve or its outcome.
    #[error("the parked call kept changing; try again")]
    Contended,
    #[error(transparent)]
    Telephony(#[from] TelephonyFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A failure handling a Twilio webhook: only the store's, since every Twilio signal is
/// acknowledged, whatever state it finds.
#[derive(Debug, Error)]
pub enum SignalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record changed on every attempt to apply the signal.
    #[error("the parked call kept changing; the signal was not applied")]
    Contended,
}

#[derive(Debug, Error)]
pub enum InboundError {
    #[error("no organisation answers {0}")]
    UnknownNumber(PhoneNumber),
    #[error(transparent)]
    Store(#[from] StoreError),
}
