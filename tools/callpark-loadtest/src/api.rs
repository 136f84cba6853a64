//! A callpark over HTTP: the admin API to set up organisations and agents, Twilio's signed
//! webhooks, and the agents' API.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;
use serde_json::{Value, json};

use callpark_http::routes::paths;

use crate::Error;

#[derive(Debug, Clone, Args)]
pub(crate) struct TargetArgs {
    /// A callpark instance's base URL (also its `CALLPARK_PUBLIC_URL`); repeat for several
    /// instances on one database.
    #[arg(long = "url", required = true)]
    pub(crate) urls: Vec<String>,
    /// `TWILIO_AUTH_TOKEN` of the instances: webhooks are signed with it.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub(crate) auth_token: String,
    /// `CALLPARK_ADMIN_TOKEN` of the instances.
    #[arg(long, env = "CALLPARK_ADMIN_TOKEN", hide_env_values = true)]
    pub(crate) admin_token: String,
}

/// One instance.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub(crate) base: String,
    auth_token: SecretString,
    admin_token: String,
    pub(crate) http: reqwest::Client,
}

pub(crate) fn http_client() -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4096)
        .tcp_nodelay(true)
        .build()?)
}

impl TargetArgs {
    pub(crate) fn instances(&self) -> Result<Vec<Instance>, Error> {
        let http = http_client()?;
        Ok(self
            .urls
            .iter()
            .map(|url| Instance {
                base: url.trim_end_matches('/').to_owned(),
                auth_token: SecretString::from(self.auth_token.clone()),
                admin_token: self.admin_token.clone(),
                http: http.clone(),
            })
            .collect())
    }
}

/// Call SIDs unique to this run: a random prefix and a counter.
#[derive(Debug)]
pub(crate) struct Sids {
    prefix: u32,
    next: AtomicU64,
}

/// A random 64-bit number, from the standard library's randomly keyed hasher.
pub(crate) fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

impl Sids {
    pub(crate) fn new() -> Self {
        Self {
            prefix: u32::try_from(random_u64() >> 32).unwrap_or_default(),
            next: AtomicU64::new(1),
        }
    }

    pub(crate) fn call(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("CA{:08x}{n:024x}", self.prefix)
    }
}

/// An organisation made for a run, with its agents' tokens.
#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub(crate) slug: String,
    pub(crate) number: String,
    pub(crate) agents: Vec<(String, String)>,
}

fn check(status: reqwest::StatusCode, expected: u16, what: &str, body: &str) -> Result<(), Error> {
    if status.as_u16() == expected {
        Ok(())
    } else {
        Err(format!("{what}: HTTP {status}: {body}").into())
    }
}

impl Instance {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates an organisation of `slots` slots and `agents` signed-in agents.
    pub(crate) async fn create_org(
        &self,
        slug: &str,
        number: &str,
        slots: u32,
        agents: usize,
    ) -> Result<Org, Error> {
        let response = self
            .http
            .post(self.url("/admin/orgs"))
            .bearer_auth(&self.admin_token)
            .json(
                &json!({"slug": slug, "name": slug, "slots": slots, "numbers": [number],
                          "announcement": "Please hold.", "maxParkSeconds": 3600}),
            )
            .send()
            .await?;
        let status = response.status();
        check(status, 201, "create org", &response.text().await?)?;
        let mut tokens = Vec::with_capacity(agents);
        for i in 0..agents {
            let identity = format!("agent{i}");
            let response = self
                .http
                .post(self.url(&format!("/admin/orgs/{slug}/agents")))
                .bearer_auth(&self.admin_token)
                .json(&json!({"identity": identity}))
                .send()
                .await?;
            let status = response.status();
            let body = response.text().await?;
            check(status, 201, "create agent", &body)?;
            let token = serde_json::from_str::<Value>(&body)?["token"]
                .as_str()
                .ok_or("no token")?
                .to_owned();
            let response = self
                .http
                .post(self.url("/api/session"))
                .bearer_auth(&token)
                .send()
                .await?;
            let status = response.status();
            check(status, 200, "sign in", &response.text().await?)?;
            tokens.push((identity, token));
        }
        Ok(Org {
            slug: slug.to_owned(),
            number: number.to_owned(),
            agents: tokens,
        })
    }

    /// The signature Twilio would send for `path` with `params`.
    pub(crate) fn sign(&self, path: &str, params: &[(&str, &str)]) -> String {
        callpark_twilio::signature::compute(&self.auth_token, &self.url(path), params)
    }

    /// POSTs a signed webhook; fails unless it answers 2xx. Returns the body.
    pub(crate) async fn webhook(
        &self,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<String, Error> {
        let response = self
            .http
            .post(self.url(path))
            .header(callpark_twilio::signature::HEADER, self.sign(path, params))
            .form(params)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{path}: HTTP {status}: {body}").into())
        }
    }

    /// A caller dials the organisation and `agent`'s browser answers on a leg of its own:
    /// returns (caller's leg, browser leg).
    pub(crate) async fn inbound_call(
        &self,
        sids: &Sids,
        org: &Org,
        agent: &str,
    ) -> Result<(String, String), Error> {
        let (pstn, browser) = (sids.call(), sids.call());
        self.webhook(
            paths::VOICE,
            &[
                ("CallSid", &pstn),
                ("From", "+14155550100"),
                ("To", &org.number),
                ("CallStatus", "ringing"),
            ],
        )
        .await?;
        // The agent's Twilio Client identity: the organisation's and the agent's names.
        let client = format!("client:{}.{agent}", org.slug);
        self.webhook(
            paths::CALL_STATUS,
            &[
                ("CallSid", &browser),
                ("ParentCallSid", &pstn),
                ("CallStatus", "in-progress"),
                ("To", &client),
            ],
        )
        .await?;
        Ok((pstn, browser))
    }

    /// `POST /api/park` of the browser leg: (parked call id, slot).
    pub(crate) async fn park(&self, token: &str, browser: &str) -> Result<(String, u64), Error> {
        let response = self
            .http
            .post(self.url("/api/park"))
            .bearer_auth(token)
            .json(&json!({"callSid": browser}))
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        check(status, 201, "park", &body)?;
        let parked: Value = serde_json::from_str(&body)?;
        Ok((
            parked["id"].as_str().ok_or("no id")?.to_owned(),
            parked["slot"].as_u64().ok_or("no slot")?,
        ))
    }

    /// `POST /api/lot/{slot}/retrieve`, then the agent's browser answers on a new leg, which
    /// is returned: the slot is free again and the caller is on that leg.
    pub(crate) async fn retrieve(
        &self,
        sids: &Sids,
        token: &str,
        id: &str,
        slot: u64,
        pstn: &str,
    ) -> Result<String, Error> {
        let response = self
            .http
            .post(self.url(&format!("/api/lot/{slot}/retrieve")))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await?;
        let status = response.status();
        check(status, 200, "retrieve", &response.text().await?)?;
        let leg = sids.call();
        // Every cycle parks anew: each retrieve is its parked call's first time out of the lot.
        self.webhook(
            &paths::with_attempt(paths::RETRIEVE_ANSWERED, id, 1),
            &[
                ("CallSid", &leg),
                ("ParentCallSid", pstn),
                ("CallStatus", "in-progress"),
            ],
        )
        .await?;
        Ok(leg)
    }
}

/// A fresh slug and phone number for a run.
pub(crate) fn fresh_org_name(tag: &str, i: usize) -> (String, String) {
    let r = random_u64();
    let slug = format!("{tag}-{:08x}-{i}", r & 0xffff_ffff);
    let number = format!(
        "+1{}{:09}",
        2 + (r >> 60) % 7,
        (r >> 16) % 900_000_000 + i as u64
    );
    (slug, number)
}

pub(crate) async fn fake_twilio_stats(url: &str) -> Result<Value, Error> {
    Ok(http_client()?
        .get(format!("{}/stats", url.trim_end_matches('/')))
        .send()
        .await?
        .json()
        .await?)
}
