//! The telephony the service drives: Twilio's REST API when the settings have an account, else
//! the sandbox, configured as a Twilio console would be with the service's own webhook URLs.

use std::sync::Arc;

use async_trait::async_trait;
use callpark_domain::{BoxError, CallSid, ClientIdentity, PhoneNumber, Telephony, WebhookUrls};
use callpark_http::metrics::MeteredTelephony;
use callpark_http::{Pickup, Routes, SandboxControl};
use callpark_sandbox::{Behaviour, Console, Sandbox, SandboxConfig};
use secrecy::SecretString;

use crate::StartupError;
use crate::config::TwilioSettings;

/// The telephony port, the token Twilio's webhooks are signed with, and the sandbox's controls
/// when it is the sandbox.
pub(crate) struct Wired {
    pub(crate) telephony: Arc<dyn Telephony>,
    pub(crate) auth_token: SecretString,
    pub(crate) sandbox: Option<Arc<dyn SandboxControl>>,
}

pub(crate) fn wire(
    twilio: Option<&TwilioSettings>,
    sandbox_behaviour: Behaviour,
    routes: &Routes,
) -> Result<Wired, StartupError> {
    match twilio {
        Some(twilio) => twilio_client(twilio),
        None => Ok(sandbox(routes, sandbox_behaviour)),
    }
}

fn twilio_client(twilio: &TwilioSettings) -> Result<Wired, StartupError> {
    let account = callpark_twilio::AccountSid::parse(&twilio.account_sid)
        .map_err(|e| StartupError::Twilio(e.into()))?;
    let mut config = callpark_twilio::TwilioConfig::new(account, twilio.auth_token.clone())
        .with_api_base(twilio.api_base.clone());
    config.request_timeout = twilio.request_timeout;
    let client =
        callpark_twilio::TwilioClient::new(config).map_err(|e| StartupError::Twilio(e.into()))?;
    Ok(Wired {
        telephony: Arc::new(MeteredTelephony(client)),
        auth_token: twilio.auth_token.clone(),
        sandbox: None,
    })
}

/// The sandbox, signing with a random token, its numbers pointed at this service's webhooks.
fn sandbox(routes: &Routes, behaviour: Behaviour) -> Wired {
    let token = SecretString::from(uuid::Uuid::new_v4().as_simple().to_string());
    let sandbox = Sandbox::new(SandboxConfig {
        console: Console {
            voice_url: routes.voice(),
            status_callback_url: routes.call_status(),
        },
        auth_token: token.clone(),
        behaviour,
    });
    Wired {
        telephony: Arc::new(MeteredTelephony(sandbox.clone())),
        auth_token: token,
        sandbox: Some(Arc::new(SandboxHandle(sandbox))),
    }
}

/// The agents' page drives the sandbox through this.
struct SandboxHandle(Sandbox);

#[async_trait]
impl SandboxControl for SandboxHandle {
    async fn incoming_call(
        &self,
        to: &PhoneNumber,
        from: &PhoneNumber,
        answered_by: &ClientIdentity,
    ) -> Result<CallSid, BoxError> {
        Ok(self.0.incoming_call(to, from, answered_by).await?)
    }

    async fn caller_hangs_up(&self, call: &CallSid) -> Result<(), BoxError> {
        Ok(self.0.caller_hangs_up(call).await?)
    }

    fn random_caller(&self) -> PhoneNumber {
        Sandbox::random_caller()
    }

    fn pickup(&self, client: &ClientIdentity) -> Pickup {
        match self.0.pickup(client) {
            callpark_sandbox::Pickup::Answer => Pickup::Answer,
            callpark_sandbox::Pickup::Decline => Pickup::Decline,
            callpark_sandbox::Pickup::LetRing => Pickup::LetRing,
        }
    }

    fn set_pickup(&self, client: &ClientIdentity, pickup: Pickup) {
        self.0.set_pickup(
            client,
            match pickup {
                Pickup::Answer => callpark_sandbox::Pickup::Answer,
                Pickup::Decline => callpark_sandbox::Pickup::Decline,
                Pickup::LetRing => callpark_sandbox::Pickup::LetRing,
            },
        );
    }
}
