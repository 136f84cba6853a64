//! What the use cases take (requests, parsed webhooks) and give back (views, routings).

use crate::model::{Caller, Organisation, ParkedCall};
use crate::ports::CallStatus;
use crate::values::{CallSid, ClientIdentity, ConferenceSid, PhoneNumber, Sequence, SlotNumber};

/// An agent's request to park the call it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkRequest {
    /// The agent's own leg (its browser's call SID), or the caller's leg if the agent knows it.
    pub call: CallSid,
    /// The slot to park in; `None` lets the organisation's policy choose.
    pub slot: Option<SlotNumber>,
}

/// A Twilio conference status callback, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceEvent {
    /// The conference's name (`park-…`, from [`ParkedCallId::conference_name`](crate::ParkedCallId::conference_name)).
    pub conference_name: String,
    /// The conference's SID.
    pub conference_sid: ConferenceSid,
    /// What happened.
    pub kind: ConferenceEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// What a conference callback reports.
pub enum ConferenceEventKind {
    /// The conference started.
    Started,
    /// The conference ended.
    Ended,
    /// A participant joined (the first callback a lone parked caller gets).
    ParticipantJoined,
    /// A participant left, for this reason.
    ParticipantLeft(LeaveReason),
    /// Any other event (mute, hold, announcement…): nothing to do.
    Other,
}

/// `ReasonParticipantLeft`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The participant hung up.
    HungUp,
    /// The participant was moved by an API request (our redirect).
    UpdatedViaApi,
    /// Any other reason.
    Other,
}

/// A call status callback, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStatusUpdate {
    /// The leg whose status changed.
    pub call: CallSid,
    /// Set for a child leg (an agent's browser dialled from the caller's leg).
    pub parent: Option<CallSid>,
    /// Its new status.
    pub status: CallStatus,
    /// The agent whose browser the leg rings (`To=client:<identity>`).
    pub agent: Option<ClientIdentity>,
    /// The callback's place among the leg's callbacks (Twilio's `SequenceNumber`), when
    /// given: callbacks can arrive out of order.
    pub sequence: Option<u32>,
}

/// A new inbound call, from the voice webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundCall {
    /// The caller's leg.
    pub pstn: CallSid,
    /// The number the caller dialled.
    pub dialled: PhoneNumber,
    /// Who is calling.
    pub caller: Caller,
}

/// Where an inbound call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRouting {
    /// The organisation the number routes to.
    pub org: Organisation,
    /// The agents' browsers to ring, all at once. Empty when nobody is available.
    pub agents: Vec<ClientIdentity>,
}

/// What the TwiML answering a retrieve `<Dial>`'s `action` must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterDial {
    /// The agent did not answer: back to the conference of the same slot.
    ReturnToLot(ParkedCall, Organisation),
    /// A ring-back went unanswered: record a voicemail.
    Voicemail(ParkedCall, Organisation),
    /// The call was answered (or is over): nothing more for the caller's leg here.
    Hangup,
    /// The result of an earlier attempt than the record's (a late or replayed callback): it
    /// changed nothing, and the caller's leg belongs where the record has it now (in the
    /// lot's conference, or in the current attempt's TwiML).
    Current(ParkedCall, Organisation),
}

/// One slot of the lot view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotView {
    /// The slot.
    pub slot: SlotNumber,
    /// The parked call occupying it, if any.
    pub call: Option<ParkedCall>,
}

/// An organisation's whole lot at one sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotView {
    /// The organisation.
    pub org: Organisation,
    /// Every slot, in order.
    pub slots: Vec<SlotView>,
    /// The sequence of the last event the view reflects: follow the events after it.
    pub sequence: Sequence,
}

/// A parked call and the organisation it belongs to: what the TwiML endpoints render from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedCallContext {
    /// The parked call.
    pub call: ParkedCall,
    /// Its organisation.
    pub org: Organisation,
}
