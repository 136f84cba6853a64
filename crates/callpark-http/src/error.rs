//! The one error type every handler returns, rendered as `{"error":{"code","message"}}`.
//! Domain errors are turned into it here, exactly once.

use std::fmt;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Responder, ResponseError, web};
use callpark_domain::{
    ChangeOrgError, CreateAgentError, CreateOrgError, InvalidValue, ParkError, RetrieveError,
    SignalError, StoreError, TelephonyFailure, VoicemailError,
};
use serde::Serialize;

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error answer: status, a stable machine-readable code, a human message, and (for logs
/// only) the cause.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds after which a retry may succeed, sent as `Retry-After`.
    retry_after: Option<u32>,
    /// The methods a path answers, sent as `Allow` with a 405.
    allow: Option<&'static str>,
    cause: Option<Cause>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            allow: None,
            cause: None,
        }
    }

    /// 405: the path exists, the method does not.
    pub fn method_not_allowed(method: &Method, path: &str, allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{path} does not answer {method}; it answers {allow}"),
            )
        }
    }

    /// A parked call that changed on every attempt to change it: one status, whichever
    /// operation lost the race, and a retry is likely to win soon.
    pub fn contended() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "contended",
                "the parked call kept changing; try again",
            )
        }
    }

    #[must_use]
    /// Says when a retry may succeed (`Retry-After`, in seconds).
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_cause(mut self, cause: impl Into<Cause>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(
                error = self as &dyn std::error::Error,
                code = self.code,
                "request failed"
            );
        }
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(allow) = self.allow {
            response.insert_header((header::ALLOW, allow));
        }
        response.json(Body {
            error: Inner {
                code: self.code,
                message: &self.message,
            },
        })
    }
}

/// The default service of a resource answering `allow` (e.g. `"GET, POST"`): any other method
/// is a 405 that says which ones it takes.
pub(crate) fn only(allow: &'static str) -> actix_web::Route {
    web::to(move |req: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::method_not_allowed(
            req.method(),
            req.path(),
            allow,
        ))
    })
}

/// `GET path`, answered by `handler`; any other method on the path is a 405 naming GET.
pub(crate) fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .get(handler)
        .default_service(only("GET"))
}

/// `POST path`, answered by `handler`; any other method on the path is a 405 naming POST.
pub(crate) fn post<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .post(handler)
        .default_service(only("POST"))
}

/// The service's default: a path it does not have is a 404 like every other.
pub(crate) fn unknown_path() -> actix_web::Route {
    web::to(|req: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::not_found(
            "not_found",
            format!("there is nothing at {}", req.path()),
        ))
    })
}

impl From<InvalidValue> for ApiError {
    fn from(e: InvalidValue) -> Self {
        Self::invalid(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the database is unavailable; try again shortly",
            ),
            StoreError::Internal(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred",
            ),
        }
        .with_cause(e)
    }
}

impl From<SignalError> for ApiError {
    fn from(e: SignalError) -> Self {
        match e {
            SignalError::Store(e) => e.into(),
            SignalError::Contended => Self::contended().with_cause(e),
        }
    }
}

impl From<TelephonyFailure> for ApiError {
    fn from(e: TelephonyFailure) -> Self {
        match e {
            TelephonyFailure::Rejected(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                "telephony_error",
                "Twilio refused the request",
            ),
            TelephonyFailure::OutcomeUnknown(_) => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "telephony_timeout",
                "Twilio did not answer in time; callpark will confirm the call's state shortly",
            ),
        }
        .with_cause(e)
    }
}

impl From<ParkError> for ApiError {
    fn from(e: ParkError) -> Self {
        use StatusCode as S;
        let message = e.to_string();
        match e {
            ParkError::CallNotFound => Self::new(S::NOT_FOUND, "call_not_found", message),
            ParkError::AlreadyParked(_) => Self::new(S::CONFLICT, "already_parked", message),
            ParkError::SlotOutOfRange { .. } => {
                Self::new(S::BAD_REQUEST, "invalid_request", message)
            }
            ParkError::SlotOccupied(_) => Self::new(S::CONFLICT, "slot_occupied", message),
            ParkError::LotFull => Self::new(S::CONFLICT, "lot_full", message),
            ParkError::CallerGone => Self::new(S::GONE, "caller_gone", message),
            ParkError::Contended => Self::contended().with_cause(e),
            ParkError::Telephony(e) => e.into(),
            ParkError::Store(e) => e.into(),
        }
    }
}

impl From<VoicemailError> for ApiError {
    fn from(e: VoicemailError) -> Self {
        match e {
            VoicemailError::NotFound => Self::not_found("voicemail_not_found", e.to_string()),
            VoicemailError::Store(e) => e.into(),
            VoicemailError::Contended => Self::contended().with_cause(e),
            VoicemailError::Telephony(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                "telephony_error",
                "Twilio did not hand the recording over",
            )
            .with_cause(e),
        }
    }
}

impl From<RetrieveError> for ApiError {
    fn from(e: RetrieveError) -> Self {
        use StatusCode as S;
        let message = e.to_string();
        match e {
            RetrieveError::SlotOutOfRange { .. } => {
                Self::new(S::BAD_REQUEST, "invalid_request", message)
            }
            RetrieveError::SlotEmpty(_) => Self::new(S::NOT_FOUND, "slot_empty", message),
            RetrieveError::UnknownAgent(_) => Self::new(S::NOT_FOUND, "agent_not_found", message),
            RetrieveError::AgentBusy(_) => Self::new(S::CONFLICT, "agent_busy", message),
            RetrieveError::NotYetParked(_) => Self::new(S::CONFLICT, "not_yet_parked", message),
            RetrieveError::AlreadyRetrieving(_) => {
                Self::new(S::CONFLICT, "already_retrieving", message)
            }
            RetrieveError::CallerGone(_) => Self::new(S::GONE, "caller_gone", message),
            RetrieveError::Contended => Self::contended().with_cause(e),
            RetrieveError::Telephony(e) => e.into(),
            RetrieveError::Store(e) => e.into(),
        }
    }
}

impl From<CreateOrgError> for ApiError {
    fn from(e: CreateOrgError) -> Self {
        let message = e.to_string();
        match e {
            CreateOrgError::AlreadyExists => Self::new(StatusCode::CONFLICT, "org_exists", message),
            CreateOrgError::NumberTaken(_) => {
                Self::new(StatusCode::CONFLICT, "number_taken", message)
            }
            CreateOrgError::Store(e) => e.into(),
        }
    }
}

impl From<ChangeOrgError> for ApiError {
    fn from(e: ChangeOrgError) -> Self {
        let message = e.to_string();
        match e {
            ChangeOrgError::UnknownOrg => Self::not_found("org_not_found", message),
            ChangeOrgError::SlotOccupied(_) => {
                Self::new(StatusCode::CONFLICT, "slot_occupied", message)
            }
            ChangeOrgError::NumberTaken(_) => {
                Self::new(StatusCode::CONFLICT, "number_taken", message)
            }
            ChangeOrgError::Store(e) => e.into(),
        }
    }
}

impl From<CreateAgentError> for ApiError {
    fn from(e: CreateAgentError) -> Self {
        let message = e.to_string();
        match e {
            CreateAgentError::UnknownOrg => Self::not_found("org_not_found", message),
            CreateAgentError::AlreadyExists => {
                Self::new(StatusCode::CONFLICT, "agent_exists", message)
            }
            CreateAgentError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whichever operation lost the race, the answer is the same.
    #[test]
    fn a_lost_race_is_one_status_everywhere() {
        let answers: [ApiError; 3] = [
            SignalError::Contended.into(),
            ParkError::Contended.into(),
            RetrieveError::Contended.into(),
        ];
        for answer in answers {
            assert_eq!(answer.code(), "contended");
            let response = answer.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
                Some("1")
            );
        }
    }
}
