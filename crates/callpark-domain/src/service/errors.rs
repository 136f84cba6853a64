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
/// Why [`ParkingService::park`](crate::ParkingService::park) failed.
pub enum ParkError {
    /// Neither callpark nor the provider knows a caller's leg for this call in the agent's
    /// organisation.
    #[error("no call of yours with this SID is in progress")]
    CallNotFound,
    #[error("the call is already parked in slot {0}")]
    /// The caller's leg is parked already, in this slot.
    AlreadyParked(SlotNumber),
    #[error("slot {slot} is outside the lot of {lot_size} slots")]
    /// The requested slot is not in the lot.
    SlotOutOfRange {
        /// The slot asked for.
        slot: SlotNumber,
        /// How many slots the lot has.
        lot_size: u16,
    },
    #[error("slot {0} is occupied")]
    /// The requested slot is taken.
    SlotOccupied(SlotNumber),
    #[error("every slot of the lot is occupied")]
    /// No slot is free.
    LotFull,
    /// The caller hung up before the call reached the lot.
    #[error("the caller has hung up")]
    CallerGone,
    /// The parked call changed on every attempt to store the redirect's outcome.
    #[error("the parked call kept changing; try again")]
    Contended,
    #[error(transparent)]
    /// The telephony failed the redirect.
    Telephony(#[from] TelephonyFailure),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
/// Why [`ParkingService::retrieve`](crate::ParkingService::retrieve) failed.
pub enum RetrieveError {
    #[error("slot {slot} is outside the lot of {lot_size} slots")]
    /// The slot is not in the lot.
    SlotOutOfRange {
        /// The slot asked for.
        slot: SlotNumber,
        /// How many slots the lot has.
        lot_size: u16,
    },
    #[error("no call is parked in slot {0}")]
    /// No call occupies the slot.
    SlotEmpty(SlotNumber),
    #[error("no agent {0} in this organisation")]
    /// The agent to connect does not exist in the organisation.
    UnknownAgent(AgentIdentity),
    /// The agent to connect is on a call: ringing them would cost a caller (the browser does
    /// not present a second call, and connecting would drop the first). The parked call stays
    /// parked; park the current call first.
    #[error("{0} is on a call: park or end that call first")]
    AgentBusy(AgentIdentity),
    #[error("the call in slot {0} is still being parked")]
    /// The call in the slot is still being parked.
    NotYetParked(SlotNumber),
    #[error("the call in slot {0} is already being retrieved")]
    /// Another retrieve (or a ring-back) is moving the call.
    AlreadyRetrieving(SlotNumber),
    /// The caller hung up; the slot is free now.
    #[error("the caller in slot {0} has hung up")]
    CallerGone(SlotNumber),
    /// The parked call changed on every attempt to store the retrieve or its outcome.
    #[error("the parked call kept changing; try again")]
    Contended,
    #[error(transparent)]
    /// The telephony failed the redirect.
    Telephony(#[from] TelephonyFailure),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

/// A failure handling a Twilio webhook: only the store's, since every Twilio signal is
/// acknowledged, whatever state it finds.
#[derive(Debug, Error)]
pub enum SignalError {
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
    /// A record changed on every attempt to apply the signal.
    #[error("the parked call kept changing; the signal was not applied")]
    Contended,
}

#[derive(Debug, Error)]
/// Why [`ParkingService::on_inbound_call`](crate::ParkingService::on_inbound_call) failed.
pub enum InboundError {
    #[error("no organisation answers {0}")]
    /// No organisation answers the dialled number.
    UnknownNumber(PhoneNumber),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

/// Why [`ParkingService::voicemail_audio`](crate::ParkingService::voicemail_audio) or
/// [`ParkingService::mark_voicemail_handled`](crate::ParkingService::mark_voicemail_handled)
/// failed.
#[derive(Debug, Error)]
pub enum VoicemailError {
    /// No parked call of the organisation with this id has a voicemail recording (another
    /// organisation's is not found either).
    #[error("no voicemail of this organisation has this id")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record kept changing while it was marked handled.
    #[error("the parked call kept changing; try again")]
    Contended,
    /// The telephony provider did not hand the recording over.
    #[error("the telephony provider could not serve the recording")]
    Telephony(#[source] TelephonyError),
}
