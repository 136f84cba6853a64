//! The REST client: callpark's [`Telephony`] port on Twilio's Calls resource.

use std::time::Duration;

use async_trait::async_trait;
use callpark_domain::{
    CallSid, CallStatus, Caller, CallerName, ChildLeg, ClientIdentity, HttpUrl, PhoneNumber,
    PstnLeg, RecordingAudio, Telephony, TelephonyError,
};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use thiserror::Error;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use tracing::Instrument as _;

use crate::config::{AccountSid, ConfigError, TwilioConfig};
use crate::error::{ApiError, RestError};

/// The `User-Agent` of every request, so Twilio's logs tell callpark's traffic apart.
pub const USER_AGENT: &str = concat!("callpark/", env!("CARGO_PKG_VERSION"));

/// Why a [`TwilioClient`] could not be built.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client (TLS set-up) could not be built.
    #[error("the HTTP client could not be built")]
    Http(#[source] reqwest::Error),
}

/// Twilio's REST API for calls, as callpark's [`Telephony`] port.
///
/// Updates (redirect, hang-up) are sent once, except after a 429, which Twilio answers
/// without acting; a timeout, broken connection or 5xx leaves their outcome unknown
/// ([`TelephonyError::OutcomeUnknown`]), for the caller to reconcile by fetching the call.
/// Fetches are retried on any transient failure. Retries wait with jittered exponential
/// backoff, within [`TwilioConfig::max_attempts`].
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    /// `{api_base}/2010-04-01/Accounts/{AccountSid}/Calls`, the prefix of every call's path.
    calls_url: String,
    /// `{api_base}/2010-04-01/Accounts/{AccountSid}/Recordings/`: the account's credentials
    /// are sent to no other recording URL.
    recordings_url: String,
    account_sid: AccountSid,
    auth_token: SecretString,
    retry: RetryPolicy,
}

#[derive(Debug, Clone, Copy)]
struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based): exponential, capped, with
    /// "equal jitter" (between half and all of it) so that instances that were throttled
    /// together do not come back together.
    fn delay(&self, attempt: u32) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let capped = exponential.min(self.max_delay);
        let half = capped / 2;
        let jitter_nanos = u64::try_from((capped - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(fastrand::u64(0..=jitter_nanos))
    }
}

/// Whether a request may change the call. It decides what a failure means: a lost answer to
/// a fetch is harmless to repeat, a lost answer to an update may mean it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fetch,
    Update,
}

/// How one attempt ended, when it did not succeed.
enum Failure {
    /// Twilio certainly did not act on it: try again if attempts remain.
    Retryable(RestError),
    /// Settled: report it as is.
    Final(TelephonyError),
}

/// A call as the Calls resource describes it; only the fields callpark reads.
#[derive(Debug, Deserialize)]
struct CallResource {
    sid: String,
    #[serde(default)]
    parent_call_sid: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    caller_name: Option<String>,
    /// `inbound`, `outbound-api` or `outbound-dial`.
    #[serde(default)]
    direction: Option<String>,
    status: String,
    /// When the call began, RFC 2822 (`Tue, 31 Aug 2010 20:36:29 +0000`); empty or null
    /// before it is dialled.
    #[serde(default)]
    start_time: Option<String>,
}

impl CallResource {
    /// When the call began, if Twilio says (a form it does not document is as good as unsaid:
    /// the start only tightens a parked call's deadline).
    fn started_at(&self) -> Option<OffsetDateTime> {
        let start = self.start_time.as_deref()?;
        OffsetDateTime::parse(start, &Rfc2822).ok()
    }

    /// The external party of a caller's leg: who called in on an inbound leg (`from`, with
    /// its caller name), who was called on an outbound one (`to`: a call an agent placed, or
    /// that callpark or a `<Dial>` made; `from` is then our own number or client).
    fn external_party(&self) -> Caller {
        let outbound = self
            .direction
            .as_deref()
            .is_some_and(|d| d.starts_with("outbound"));
        if outbound {
            Caller {
                number: phone_number(self.to.as_deref()),
                name: None,
            }
        } else {
            Caller {
                number: phone_number(self.from.as_deref()),
                name: caller_name(self.caller_name.as_deref()),
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct CallPage {
    calls: Vec<CallResource>,
}

impl TwilioClient {
    /// Builds the client (rustls, no OpenSSL).
    ///
    /// # Errors
    /// [`ClientError::Config`] for an invalid API base; [`ClientError::Http`] when the TLS
    /// stack cannot be set up.
    pub fn new(config: TwilioConfig) -> Result<Self, ClientError> {
        let base = config.checked_api_base()?;
        let account = format!("{base}/2010-04-01/Accounts/{}", config.account_sid.as_str());
        let (calls_url, recordings_url) =
            (format!("{account}/Calls"), format!("{account}/Recordings/"));
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect could turn a POST into a GET or carry the credentials elsewhere;
            // Twilio's API does not redirect, so any redirect is refused as an error answer.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ClientError::Http)?;
        Ok(Self {
            http,
            calls_url,
            recordings_url,
            account_sid: config.account_sid,
            auth_token: config.auth_token,
            retry: RetryPolicy {
                max_attempts: config.max_attempts.max(1),
                base_delay: config.retry_base_delay,
                max_delay: config.retry_max_delay,
            },
        })
    }

    fn call_url(&self, call: &CallSid) -> String {
        format!("{}/{}.json", self.calls_url, call.as_str())
    }

    fn children_url(&self, parent: &CallSid, status: Option<&str>) -> Result<Url, TelephonyError> {
        let mut url = Url::parse(&format!("{}.json", self.calls_url))
            .map_err(|e| TelephonyError::NotProcessed(Box::new(e)))?;
        url.query_pairs_mut()
            .append_pair("ParentCallSid", parent.as_str());
        if let Some(status) = status {
            url.query_pairs_mut().append_pair("Status", status);
        }
        Ok(url)
    }

    async fn fetch_call(&self, call: &CallSid) -> Result<CallResource, TelephonyError> {
        let url = self.call_url(call);
        let body = self
            .execute(Kind::Fetch, || self.http.request(Method::GET, &url))
            .await?;
        decode(&body)
    }

    /// The child legs of `parent`, of one status or of any.
    async fn children(
        &self,
        parent: &CallSid,
        status: Option<&str>,
    ) -> Result<Vec<CallResource>, TelephonyError> {
        let url = self.children_url(parent, status)?;
        let body = self
            .execute(Kind::Fetch, || self.http.request(Method::GET, url.clone()))
            .await?;
        decode::<CallPage>(&body).map(|page| page.calls)
    }

    async fn update(&self, call: &CallSid, form: &[(&str, &str)]) -> Result<(), TelephonyError> {
        let url = self.call_url(call);
        self.execute(Kind::Update, || {
            self.http.request(Method::POST, &url).form(form)
        })
        .await
        .map(drop)
    }

    /// Sends the request `make` builds until it succeeds, fails for good, or the attempts run
    /// out; returns the body of a 2xx answer.
    async fn execute(
        &self,
        kind: Kind,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Vec<u8>, TelephonyError> {
        let mut attempt = 1;
        loop {
            let request = make().basic_auth(
                self.account_sid.as_str(),
                Some(self.auth_token.expose_secret()),
            );
            let cause = match self.attempt(kind, request).await {
                Ok(body) => return Ok(body),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Retryable(cause)) => cause,
            };
            if attempt >= self.retry.max_attempts {
                tracing::warn!(attempt, error = %cause, "giving up on Twilio request");
                return Err(TelephonyError::NotProcessed(Box::new(RestError::GaveUp {
                    attempts: attempt,
                    last: Box::new(cause),
                })));
            }
            let delay = self.retry.delay(attempt);
            tracing::debug!(attempt, ?delay, error = %cause, "retrying Twilio request");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, kind: Kind, request: RequestBuilder) -> Result<Vec<u8>, Failure> {
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Err(transport_failure(kind, e)),
        };
        let status = response.status();
        tracing::debug!(status = status.as_u16(), "Twilio answered");
        if status.is_success() {
            return match response.bytes().await {
                Ok(body) => Ok(body.to_vec()),
                Err(e) => match kind {
                    Kind::Fetch => Err(Failure::Retryable(RestError::Transport(e))),
                    // The status already says the update happened; its echo of the call is
                    // not needed.
                    Kind::Update => Ok(Vec::new()),
                },
            };
        }
        // The error body only refines the status; losing it changes nothing.
        let body = response.bytes().await.unwrap_or_default();
        Err(classify(
            kind,
            ApiError::from_answer(status.as_u16(), &body),
        ))
    }
}

/// What an error answer means for callpark.
fn classify(kind: Kind, error: ApiError) -> Failure {
    let known = match (error.code, error.status) {
        (Some(21220), _) => Some(TelephonyError::NotInProgress),
        (Some(20404), _) | (_, 404) => Some(TelephonyError::NotFound),
        (Some(20003), _) | (_, 401) => Some(TelephonyError::CredentialsRejected),
        _ => None,
    };
    if let Some(known) = known {
        tracing::debug!(error = %error, "Twilio refused the request");
        return Failure::Final(known);
    }
    match error.status {
        // Throttled: Twilio never processed it, whatever the method.
        429 => Failure::Retryable(error.into()),
        500..=599 => match kind {
            Kind::Fetch => Failure::Retryable(error.into()),
            Kind::Update => Failure::Final(TelephonyError::OutcomeUnknown(Box::new(
                RestError::from(error),
            ))),
        },
        _ => Failure::Final(TelephonyError::NotProcessed(Box::new(RestError::from(
            error,
        )))),
    }
}

/// What a request that got no answer means for callpark.
fn transport_failure(kind: Kind, error: reqwest::Error) -> Failure {
    if error.is_builder() {
        // The request could not even be built: nothing was sent, and nothing will change.
        return Failure::Final(TelephonyError::NotProcessed(Box::new(
            RestError::Transport(error),
        )));
    }
    match kind {
        Kind::Fetch => Failure::Retryable(RestError::Transport(error)),
        // Even a failed connect is treated as unknown: with pooled connections reqwest cannot
        // always tell a request that never left from one whose answer was lost.
        Kind::Update => Failure::Final(TelephonyError::OutcomeUnknown(Box::new(
            RestError::Transport(error),
        ))),
    }
}

fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, TelephonyError> {
    serde_json::from_slice(body)
        .map_err(|e| TelephonyError::NotProcessed(Box::new(RestError::Decode(e))))
}

fn parse_sid(sid: &str) -> Result<CallSid, TelephonyError> {
    CallSid::parse(sid)
        .map_err(|e| TelephonyError::NotProcessed(Box::new(RestError::InvalidValue(e))))
}

fn parse_status(status: &str) -> Result<CallStatus, TelephonyError> {
    crate::webhook::parse_call_status(status).ok_or_else(|| {
        TelephonyError::NotProcessed(Box::new(RestError::UnknownStatus(status.to_owned())))
    })
}

/// A party's number when it is a phone number; a `client:alice` or SIP address is not.
fn phone_number(party: Option<&str>) -> Option<PhoneNumber> {
    party.and_then(|p| PhoneNumber::parse(p).ok())
}

fn caller_name(name: Option<&str>) -> Option<CallerName> {
    name.and_then(|n| CallerName::parse(n).ok())
}

#[async_trait]
impl Telephony for TwilioClient {
    async fn find_pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError> {
        let span = tracing::info_span!("twilio.find_pstn_leg", call_sid = %browser_leg);
        async {
            let browser = self.fetch_call(browser_leg).await?;
            // The browser was dialled by the caller's leg (its parent), or placed the call
            // itself (the caller's leg is its in-progress child). The parent may be an
            // outbound leg: a call an agent placed, parked and retrieved again.
            let caller_leg = match browser.parent_call_sid.as_deref() {
                Some(parent) => self.fetch_call(&parse_sid(parent)?).await?,
                None => self
                    .children(browser_leg, Some("in-progress"))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or(TelephonyError::NotFound)?,
            };
            let inbound = caller_leg.direction.as_deref() == Some("inbound");
            Ok(PstnLeg {
                sid: parse_sid(&caller_leg.sid)?,
                caller: caller_leg.external_party(),
                dialled: phone_number(caller_leg.to.as_deref()).filter(|_| inbound),
                // The browser's own party: the Client it rang (`to`), or that placed it (`from`).
                client: [browser.to.as_deref(), browser.from.as_deref()]
                    .into_iter()
                    .flatten()
                    .find_map(|party| party.strip_prefix("client:"))
                    .and_then(|c| ClientIdentity::parse(c).ok()),
                started_at: caller_leg.started_at(),
            })
        }
        .instrument(span)
        .await
    }

    async fn redirect(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: &HttpUrl,
    ) -> Result<(), TelephonyError> {
        let span = tracing::info_span!("twilio.redirect", call_sid = %call);
        // By URL, never inline `Twiml`: the TwiML is served (and logged, and signed-for) by
        // callpark itself, and Twilio fetches it with POST like every other webhook.
        self.update(
            call,
            &[
                ("Url", url.as_str()),
                ("Method", "POST"),
                ("StatusCallback", status_callback.as_str()),
                ("StatusCallbackMethod", "POST"),
            ],
        )
        .instrument(span)
        .await
    }

    async fn call_status(&self, call: &CallSid) -> Result<CallStatus, TelephonyError> {
        let span = tracing::info_span!("twilio.call_status", call_sid = %call);
        async { parse_status(&self.fetch_call(call).await?.status) }
            .instrument(span)
            .await
    }

    async fn child_legs(&self, caller_leg: &CallSid) -> Result<Vec<ChildLeg>, TelephonyError> {
        let span = tracing::info_span!("twilio.child_legs", call_sid = %caller_leg);
        async {
            // One list of every child (queued, ringing, in progress: a status filter takes one
            // status only); the ended ones are left out here.
            let mut legs = Vec::new();
            for child in self.children(caller_leg, None).await? {
                let status = parse_status(&child.status)?;
                if !status.is_final() {
                    legs.push(ChildLeg {
                        sid: parse_sid(&child.sid)?,
                        status,
                    });
                }
            }
            Ok(legs)
        }
        .instrument(span)
        .await
    }

    async fn hang_up(&self, call: &CallSid) -> Result<(), TelephonyError> {
        let span = tracing::info_span!("twilio.hang_up", call_sid = %call);
        self.update(call, &[("Status", "completed")])
            .instrument(span)
            .await
    }

    /// The recording as MP3 (`{RecordingUrl}.mp3`), which Twilio serves to the account's
    /// credentials (when the account enforces HTTP auth on media URLs, to nobody else).
    async fn recording(&self, url: &HttpUrl) -> Result<RecordingAudio, TelephonyError> {
        let span = tracing::info_span!("twilio.recording");
        let Some(sid) = url.as_str().strip_prefix(&self.recordings_url) else {
            return Err(TelephonyError::NotFound);
        };
        if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(TelephonyError::NotFound);
        }
        let mp3 = format!("{}{sid}.mp3", self.recordings_url);
        let bytes = self
            .execute(Kind::Fetch, || {
                self.http
                    .request(Method::GET, &mp3)
                    .header(reqwest::header::ACCEPT, "audio/mpeg")
            })
            .instrument(span)
            .await?;
        Ok(RecordingAudio {
            media_type: "audio/mpeg".to_owned(),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..100 {
            let first = policy.delay(1);
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
            let third = policy.delay(3);
            assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&third));
            let late = policy.delay(30);
            assert!((Duration::from_millis(500)..=Duration::from_millis(1000)).contains(&late));
        }
    }

    #[test]
    fn every_twilio_call_status_is_known() {
        for (text, status) in [
            ("queued", CallStatus::Queued),
            ("initiated", CallStatus::Initiated),
            ("ringing", CallStatus::Ringing),
            ("in-progress", CallStatus::InProgress),
            ("completed", CallStatus::Completed),
            ("busy", CallStatus::Busy),
            ("failed", CallStatus::Failed),
            ("no-answer", CallStatus::NoAnswer),
            ("canceled", CallStatus::Canceled),
        ] {
            assert_eq!(parse_status(text).unwrap(), status);
        }
        assert!(matches!(
            parse_status("paused"),
            Err(TelephonyError::NotProcessed(_))
        ));
    }

    #[test]
    fn the_user_agent_names_callpark_and_its_version() {
        assert_eq!(
            USER_AGENT,
            format!("callpark/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
