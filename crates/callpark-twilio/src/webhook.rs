//! Twilio's webhook forms, read into the domain's inputs. This is the one place that knows
//! Twilio's parameter names and the strings they carry (`CallStatus`, `DialCallStatus`,
//! `StatusCallbackEvent`, `ReasonParticipantLeft`, `RecordingStatus`, …); the HTTP front end
//! verifies the signature, hands the form here and gets typed values back.

use callpark_domain::{
    CallSid, CallStatus, CallStatusUpdate, Caller, CallerName, ClientIdentity, ConferenceEvent,
    ConferenceEventKind, ConferenceSid, DialOutcome, HttpUrl, InboundCall, InvalidValue,
    LeaveReason, PhoneNumber,
};
use thiserror::Error;

/// Why a webhook form cannot be read.
#[derive(Debug, Error)]
pub enum WebhookError {
    /// A parameter Twilio always sends is missing or empty.
    #[error("missing parameter {0}")]
    Missing(&'static str),
    /// A parameter is present but not a valid value.
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// A parameter that is a count is present but not a whole number.
    #[error("parameter {0} is not a whole number")]
    NotANumber(&'static str),
}

/// A webhook's form parameters, once its signature has been verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    params: Vec<(String, String)>,
}

impl From<Vec<(String, String)>> for Form {
    fn from(params: Vec<(String, String)>) -> Self {
        Self { params }
    }
}

impl Form {
    /// A parameter's value; an empty value counts as absent, as Twilio sends empty optional
    /// parameters.
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<&str, WebhookError> {
        self.get(name).ok_or(WebhookError::Missing(name))
    }

    fn call_sid(&self) -> Result<CallSid, WebhookError> {
        Ok(CallSid::parse(self.required("CallSid")?)?)
    }
}

/// Twilio's call `status` / `CallStatus` values, the same for the REST API and callbacks.
pub fn parse_call_status(text: &str) -> Option<CallStatus> {
    Some(match text {
        "queued" => CallStatus::Queued,
        "initiated" => CallStatus::Initiated,
        "ringing" => CallStatus::Ringing,
        "in-progress" => CallStatus::InProgress,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "failed" => CallStatus::Failed,
        "no-answer" => CallStatus::NoAnswer,
        "canceled" => CallStatus::Canceled,
        _ => return None,
    })
}

/// `DialCallStatus`: how a `<Dial>` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialCallStatus {
    /// The dialled party answered and the conversation is over.
    Completed,
    /// The dialled party answered.
    Answered,
    /// The dialled party was busy.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
    /// The dial could not be placed.
    Failed,
    /// The dial was cancelled before anyone answered.
    Canceled,
}

impl DialCallStatus {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "completed" => Self::Completed,
            "answered" => Self::Answered,
            "busy" => Self::Busy,
            "no-answer" => Self::NoAnswer,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }
}

/// The agent a leg rings, from `To=client:<identity>`.
fn agent_of_client(to: Option<&str>) -> Option<ClientIdentity> {
    to.and_then(|t| t.strip_prefix("client:"))
        .and_then(|identity| ClientIdentity::parse(identity).ok())
}

/// The voice webhook of a number: a new inbound call.
///
/// # Errors
/// [`WebhookError`] without a valid `CallSid` or `To`.
pub fn inbound_call(form: &Form) -> Result<InboundCall, WebhookError> {
    Ok(InboundCall {
        pstn: form.call_sid()?,
        dialled: PhoneNumber::parse(form.required("To")?)?,
        caller: Caller {
            number: form.get("From").and_then(|f| PhoneNumber::parse(f).ok()),
            name: form
                .get("CallerName")
                .and_then(|n| CallerName::parse(n).ok()),
        },
    })
}

/// A call-status callback, of an agent's leg (it has a parent) or a caller's. `None` for a
/// status callpark does not know, which it acknowledges and ignores.
///
/// # Errors
/// [`WebhookError`] without a valid `CallSid`.
pub fn call_status(form: &Form) -> Result<Option<CallStatusUpdate>, WebhookError> {
    let Some(status) = form.get("CallStatus").and_then(parse_call_status) else {
        return Ok(None);
    };
    Ok(Some(CallStatusUpdate {
        call: form.call_sid()?,
        parent: form
            .get("ParentCallSid")
            .and_then(|p| CallSid::parse(p).ok()),
        status,
        agent: agent_of_client(form.get("To")),
        sequence: form
            .get("SequenceNumber")
            .map(|n| {
                n.parse()
                    .map_err(|_| WebhookError::NotANumber("SequenceNumber"))
            })
            .transpose()?,
    }))
}

/// How a `<Dial>` ended, from its `action` request; `None` when Twilio did not say.
pub fn dial_call_status(form: &Form) -> Option<DialCallStatus> {
    form.get("DialCallStatus").and_then(DialCallStatus::parse)
}

/// Whether an inbound `<Dial>` ended because no agent took the call (as opposed to after a
/// conversation, or because callpark redirected the caller away).
pub fn nobody_answered(form: &Form) -> bool {
    matches!(
        dial_call_status(form),
        Some(DialCallStatus::NoAnswer | DialCallStatus::Busy | DialCallStatus::Failed)
    )
}

/// The outcome of a retrieve's `<Dial>`.
pub fn dial_outcome(form: &Form) -> DialOutcome {
    match dial_call_status(form) {
        Some(DialCallStatus::Completed | DialCallStatus::Answered) => DialOutcome::Answered,
        _ => DialOutcome::NotAnswered,
    }
}

/// A dialled browser answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The browser's leg, when the callback names a valid one.
    pub leg: Option<CallSid>,
}

/// The `answered` status callback of a dialled `<Client>`: `Some` when it says the browser
/// answered (a callback without a status counts).
pub fn dial_answered(form: &Form) -> Option<Answered> {
    let answered = matches!(
        form.get("CallStatus"),
        Some("in-progress" | "answered") | None
    );
    answered.then(|| Answered {
        leg: form.get("CallSid").and_then(|s| CallSid::parse(s).ok()),
    })
}

fn leave_reason(form: &Form) -> LeaveReason {
    match form.get("ReasonParticipantLeft") {
        Some("participant_hung_up") => LeaveReason::HungUp,
        Some("participant_updated_via_api") => LeaveReason::UpdatedViaApi,
        _ => LeaveReason::Other,
    }
}

/// A conference status callback.
///
/// # Errors
/// [`WebhookError`] without a `FriendlyName` or a valid `ConferenceSid`.
pub fn conference_event(form: &Form) -> Result<ConferenceEvent, WebhookError> {
    let kind = match form.get("StatusCallbackEvent") {
        Some("conference-start") => ConferenceEventKind::Started,
        Some("conference-end") => ConferenceEventKind::Ended,
        Some("participant-join") => ConferenceEventKind::ParticipantJoined,
        Some("participant-leave") => ConferenceEventKind::ParticipantLeft(leave_reason(form)),
        _ => ConferenceEventKind::Other,
    };
    Ok(ConferenceEvent {
        conference_name: form.required("FriendlyName")?.to_owned(),
        conference_sid: ConferenceSid::parse(form.required("ConferenceSid")?)?,
        kind,
    })
}

/// A recording status callback: the recording's URL once it is complete (a callback without a
/// status counts); `None` while it is not, or when no URL came.
///
/// # Errors
/// [`WebhookError::Invalid`] for a URL that does not parse.
pub fn recording(form: &Form) -> Result<Option<HttpUrl>, WebhookError> {
    if !matches!(form.get("RecordingStatus"), Some("completed") | None) {
        return Ok(None);
    }
    Ok(form.get("RecordingUrl").map(HttpUrl::parse).transpose()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_parameters_count_as_absent() {
        let form = Form::from(vec![("From".to_owned(), String::new())]);
        assert_eq!(form.get("From"), None);
        assert!(matches!(
            form.required("From"),
            Err(WebhookError::Missing("From"))
        ));
    }
}
