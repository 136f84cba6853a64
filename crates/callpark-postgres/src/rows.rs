//! What the conversions of every row (next to their queries, in [`crate::queries`]) share.
//! Everything read from the database is validated again on the way in: a row that breaks a
//! domain rule is a [`CorruptRow`], never a panic.

use callpark_domain::{
    AgentIdentity, Caller, CallerName, InvalidValue, PhoneNumber, VoicemailHandled,
};
use thiserror::Error;
use time::OffsetDateTime;

/// A row that the domain refuses: written by something other than this crate, or by a newer
/// version of it.
#[derive(Debug, Error)]
pub(crate) enum CorruptRow {
    #[error("{column} holds an invalid value")]
    Invalid {
        column: &'static str,
        #[source]
        source: InvalidValue,
    },
    #[error("{column} holds the unknown value {value:?}")]
    Unknown { column: &'static str, value: String },
    #[error("the parked-call snapshot of an event is not readable")]
    Snapshot(#[source] serde_json::Error),
}

pub(crate) fn valid<T>(
    column: &'static str,
    parsed: Result<T, InvalidValue>,
) -> Result<T, CorruptRow> {
    parsed.map_err(|source| CorruptRow::Invalid { column, source })
}

pub(crate) fn unknown(column: &'static str, value: &str) -> CorruptRow {
    CorruptRow::Unknown {
        column,
        value: value.to_owned(),
    }
}

pub(crate) fn number(column: &'static str, n: impl TryInto<u32>) -> Result<u32, CorruptRow> {
    n.try_into().map_err(|_| unknown(column, "out of range"))
}

pub(crate) fn optional<T>(
    column: &'static str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, InvalidValue>,
) -> Result<Option<T>, CorruptRow> {
    value.map(|v| valid(column, parse(v))).transpose()
}

/// A caller as the `calls` and `parked_calls` rows keep one.
pub(crate) fn caller(number: Option<&str>, name: Option<&str>) -> Result<Caller, CorruptRow> {
    Ok(Caller {
        number: optional("caller_number", number, PhoneNumber::parse)?,
        name: optional("caller_name", name, CallerName::parse)?,
    })
}

/// Who handled a voicemail and when: both or neither.
pub(crate) fn voicemail_handled(
    by: Option<String>,
    at: Option<OffsetDateTime>,
) -> Result<Option<VoicemailHandled>, CorruptRow> {
    match (by, at) {
        (None, None) => Ok(None),
        (Some(by), Some(at)) => Ok(Some(VoicemailHandled {
            by: valid(
                "parked_calls.voicemail_handled_by",
                AgentIdentity::parse(&by),
            )?,
            at,
        })),
        _ => Err(unknown("parked_calls.voicemail_handled_by", "half set")),
    }
}
