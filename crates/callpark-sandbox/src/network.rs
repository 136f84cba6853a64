//! The simulated network's plumbing: its calls, the signed requests it sends the service, and
//! the status callbacks of each leg.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use callpark_domain::{CallSid, PhoneNumber, TelephonyError};
use callpark_twilio::signature;

use crate::fidelity::Mischief;
use crate::world::{Location, SimCall, World};
use crate::{SandboxConfig, SandboxError};

/// The state behind a [`Sandbox`](crate::Sandbox).
pub(crate) struct Network {
    pub(crate) config: SandboxConfig,
    pub(crate) account_sid: String,
    http: reqwest::Client,
    world: Mutex<World>,
    pub(crate) mischief: Mischief,
}

/// Sets a form parameter, replacing any earlier value.
pub(crate) fn set(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    params.retain(|(k, _)| k != name);
    params.push((name.to_owned(), value.to_owned()));
}

impl Network {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent(concat!(
                "TwilioProxy/1.1 callpark-sandbox/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .expect("a plain HTTP client builds");
        Self {
            config,
            account_sid: format!("AC{:032x}", 0x5a4d_b0c5_u128),
            http,
            world: Mutex::new(World::default()),
            mischief: Mischief::default(),
        }
    }

    /// `duration` of sandbox time, in real time (see [`crate::Behaviour::clock_speed`]).
    pub(crate) fn real(&self, duration: Duration) -> Duration {
        duration.div_f64(self.config.behaviour.clock_speed.max(f64::MIN_POSITIVE))
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn call(&self, sid: &CallSid) -> Option<SimCall> {
        self.world().calls.get(sid).cloned()
    }

    /// A new caller's leg from `from` to the number `to`, whose status goes to the console's
    /// status callback.
    pub(crate) fn dial_in(&self, to: &PhoneNumber, from: &PhoneNumber) -> CallSid {
        let mut world = self.world();
        let sid = world.new_call_sid();
        world.calls.insert(
            sid.clone(),
            SimCall {
                from: from.to_string(),
                to: to.to_string(),
                parent: None,
                live: true,
                status_callback: Some(self.config.console.status_callback_url.to_string()),
                status_events: vec!["completed".to_owned()],
                location: Location::Idle,
                started_at: time::OffsetDateTime::now_utc(),
                ringing: false,
            },
        );
        sid
    }

    pub(crate) fn call_params(&self, sid: &CallSid) -> Vec<(String, String)> {
        let call = self.call(sid);
        let mut params = vec![
            ("AccountSid".to_owned(), self.account_sid.clone()),
            ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
            ("CallSid".to_owned(), sid.to_string()),
            ("CallStatus".to_owned(), "in-progress".to_owned()),
        ];
        if let Some(call) = call {
            params.push(("From".to_owned(), call.from));
            params.push(("To".to_owned(), call.to));
            let direction = if call.parent.is_some() {
                "outbound-dial"
            } else {
                "inbound"
            };
            params.push(("Direction".to_owned(), direction.to_owned()));
            if let Some(parent) = call.parent {
                params.push(("ParentCallSid".to_owned(), parent.to_string()));
            }
        }
        params
    }

    /// Posts a signed form to the service, as Twilio does, and returns the body.
    pub(crate) async fn post(
        &self,
        url: &str,
        params: &[(String, String)],
    ) -> Result<String, SandboxError> {
        send(&self.http, &self.config.auth_token, url, params).await
    }

    /// Asks the service for the TwiML `sid` goes on with. When the service does not answer it,
    /// the caller hears Twilio's "an application error has occurred" and the call ends, as on
    /// Twilio without a fallback URL.
    pub(crate) async fn fetch_twiml(
        &self,
        sid: &CallSid,
        url: &str,
        params: &[(String, String)],
    ) -> Result<String, SandboxError> {
        match self.post(url, params).await {
            Ok(twiml) => Ok(twiml),
            Err(e) => {
                self.mischief.application_error();
                if self.call(sid).is_some_and(|c| c.live) {
                    // The call is over whatever that end's callbacks meet.
                    let _ = self.end_call(sid, "participant_hung_up").await;
                }
                Err(e)
            }
        }
    }

    /// Sends a callback whose answer Twilio ignores (a call's, a conference's or a
    /// recording's status): as Twilio can, at times twice, or late, after others.
    pub(crate) async fn callback(
        &self,
        url: &str,
        params: Vec<(String, String)>,
    ) -> Result<(), SandboxError> {
        let delivery = self.mischief.delivery(&self.config.behaviour.disorder);
        let times = if delivery.twice { 2 } else { 1 };
        let Some(delay) = delivery.delay else {
            for _ in 0..times {
                // Twilio ignores the answer, and a failure, of a callback: the call goes on.
                if let Err(e) = self.post(url, &params).await {
                    let error = &e as &dyn std::error::Error;
                    tracing::warn!(error, url, "a sandbox callback failed");
                }
            }
            return Ok(());
        };
        let (http, token, url) = (
            self.http.clone(),
            self.config.auth_token.clone(),
            url.to_owned(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            for _ in 0..times {
                if let Err(e) = send(&http, &token, &url, &params).await {
                    let error = &e as &dyn std::error::Error;
                    tracing::warn!(error, url, "a late sandbox callback failed");
                }
            }
        });
        Ok(())
    }

    /// Sends a leg's status callback if it asked for `event`.
    pub(crate) async fn report_status(
        &self,
        sid: &CallSid,
        event: &str,
        status: &str,
    ) -> Result<(), SandboxError> {
        let Some(call) = self.call(sid) else {
            return Ok(());
        };
        let wanted = call.status_events.iter().any(|e| e == event)
            || (call.parent.is_none() && event == "completed");
        let Some(url) = call.status_callback.filter(|_| wanted) else {
            return Ok(());
        };
        let mut params = self.call_params(sid);
        set(&mut params, "CallStatus", status);
        set(&mut params, "CallbackSource", "call-progress-events");
        self.callback(&url, params).await
    }

    pub(crate) async fn end_call(&self, sid: &CallSid, reason: &str) -> Result<(), SandboxError> {
        {
            let mut world = self.world();
            let call = world.calls.get_mut(sid).ok_or(SandboxError::UnknownCall)?;
            if !call.live {
                return Err(SandboxError::CallEnded);
            }
            call.live = false;
        }
        self.leave(sid, reason).await?;
        self.report_status(sid, "completed", "completed").await
    }

    pub(crate) fn hang_up_leg(&self, leg: &CallSid) {
        if let Some(call) = self.world().calls.get_mut(leg) {
            call.live = false;
        }
    }

    pub(crate) fn check_live(&self, sid: &CallSid) -> Result<SimCall, TelephonyError> {
        let call = self.call(sid).ok_or(TelephonyError::NotFound)?;
        if call.live {
            Ok(call)
        } else {
            Err(TelephonyError::NotInProgress)
        }
    }
}

/// Posts a signed form to the service, as Twilio does, and returns the body.
async fn send(
    http: &reqwest::Client,
    token: &secrecy::SecretString,
    url: &str,
    params: &[(String, String)],
) -> Result<String, SandboxError> {
    let signature = signature::compute(token, url, params);
    let request = || {
        http.post(url)
            .header(signature::HEADER, signature.as_str())
            .form(params)
            .send()
    };
    // Twilio retries a webhook once when it cannot connect (its default connection overrides,
    // `rc=1` and `rp=ct`: twilio.com/docs/usage/webhooks/webhooks-connection-overrides).
    let response = match request().await {
        Err(e) if e.is_connect() => request().await?,
        answer => answer?,
    };
    let status = response.status();
    if !status.is_success() {
        return Err(SandboxError::Status {
            status: status.as_u16(),
            url: url.to_owned(),
        });
    }
    Ok(response.text().await?)
}
