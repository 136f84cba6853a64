//! What went wrong talking to Twilio's REST API: the cause inside a
//! [`TelephonyError`](callpark_domain::TelephonyError), kept for logs and `source()` chains.

use std::fmt;

use callpark_domain::InvalidValue;
use serde::Deserialize;
use thiserror::Error;

/// Twilio's refusal of a request: the HTTP status and, when its body said so, Twilio's error
/// code and message (`{"code", "message", "more_info", "status"}`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ApiError {
    /// The HTTP status of the answer.
    pub status: u16,
    /// Twilio's error code, e.g. 21220 ("Call is not in-progress"), if the body had one.
    pub code: Option<u32>,
    /// Twilio's explanation, if the body had one.
    pub message: Option<String>,
    /// Twilio's link to the error's documentation, if the body had one.
    pub more_info: Option<String>,
}

impl ApiError {
    /// Reads Twilio's error body, tolerating any body: the status alone still tells a lot.
    pub(crate) fn from_answer(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Body {
            code: Option<u32>,
            message: Option<String>,
            more_info: Option<String>,
        }
        let body: Option<Body> = serde_json::from_slice(body).ok();
        let (code, message, more_info) =
            body.map_or((None, None, None), |b| (b.code, b.message, b.more_info));
        Self {
            status,
            code,
            message,
            more_info,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Twilio answered HTTP {}", self.status)?;
        if let Some(code) = self.code {
            write!(f, " with error {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// Why a REST request failed.
#[derive(Debug, Error)]
pub enum RestError {
    /// Twilio answered with an error.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No complete answer: the connection failed, timed out or broke.
    #[error("the request to Twilio failed in transit")]
    Transport(#[source] reqwest::Error),
    /// The answer was not the JSON we expected.
    #[error("Twilio's answer could not be decoded")]
    Decode(#[source] serde_json::Error),
    /// The answer held a value callpark cannot represent (e.g. a malformed SID).
    #[error("Twilio's answer holds an invalid value")]
    InvalidValue(#[source] InvalidValue),
    /// The answer held a call status callpark does not know.
    #[error("Twilio reported an unknown call status {0:?}")]
    UnknownStatus(String),
    /// Every attempt failed in a way that is safe to retry; this is the last failure.
    #[error("gave up after {attempts} attempts")]
    GaveUp {
        /// How many requests were sent.
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: Box<RestError>,
    },
}
