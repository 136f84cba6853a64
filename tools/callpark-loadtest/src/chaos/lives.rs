//! Call lives, as callers and agents live them: a caller dials in and an agent answers, parks
//! the call, and then the caller is retrieved by another agent, hangs up in the lot, or waits
//! for the ring-back (and voicemail). Every step goes through the proxy, and every outcome is
//! read from the simulated Twilio's side, never assumed from an answer.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use callpark_domain::{CallSid, ClientIdentity, PhoneNumber};
use callpark_sandbox::{Pickup, Sandbox, Whereabouts};
use serde_json::{Value, json};

use crate::Error;

/// An organisation of the run and its agents, with those the driver has not given a call.
#[derive(Debug)]
pub(crate) struct OrgAgents {
    pub(crate) slug: String,
    pub(crate) number: PhoneNumber,
    /// Each agent's Client identity and bearer token.
    pub(crate) agents: Vec<(ClientIdentity, String)>,
    pub(crate) idle: Mutex<Vec<usize>>,
}

impl OrgAgents {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The first of the rung browsers whose agent is idle, taken.
    fn take_among(&self, rung: &[String]) -> Option<String> {
        let mut idle = self.idle();
        let position = idle
            .iter()
            .position(|&a| rung.contains(&self.agents[a].0.to_string()))?;
        Some(self.agents[idle.swap_remove(position)].0.to_string())
    }

    fn take_any(&self) -> Option<usize> {
        let mut idle = self.idle();
        let len = idle.len();
        (len > 0).then(|| idle.swap_remove(fastrand::usize(..len)))
    }

    fn release(&self, agent: usize) {
        self.idle().push(agent);
    }

    fn index_of(&self, client: &ClientIdentity) -> Option<usize> {
        self.agents.iter().position(|(c, _)| c == client)
    }
}

/// What the lives share.
#[derive(Debug)]
pub(crate) struct Lives {
    pub(crate) sandbox: Sandbox,
    pub(crate) http: reqwest::Client,
    /// The proxy: the service's public URL.
    pub(crate) base: String,
    pub(crate) orgs: Vec<OrgAgents>,
    /// How long a parked call waits before its deadline, and a browser rings.
    pub(crate) max_park: Duration,
    pub(crate) ring: Duration,
    pub(crate) grace: Duration,
    pub(crate) outcomes: Mutex<BTreeMap<&'static str, u64>>,
    pub(crate) next_caller: AtomicU64,
    pub(crate) callers: Mutex<Vec<CallSid>>,
}

/// A pickup as agents choose them: most answer.
fn random_pickup() -> Pickup {
    match fastrand::u32(0..100) {
        0..80 => Pickup::Answer,
        80..92 => Pickup::Decline,
        _ => Pickup::LetRing,
    }
}

impl Lives {
    fn count(&self, outcome: &'static str) {
        let mut outcomes = self
            .outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *outcomes.entry(outcome).or_default() += 1;
    }

    /// Every agent's browser answers, declines or lets it ring, at random.
    pub(crate) fn shuffle_pickups(&self) {
        for org in &self.orgs {
            for (client, _) in &org.agents {
                self.sandbox.set_pickup(client, random_pickup());
            }
        }
    }

    /// One call's life, in organisation `org`.
    pub(crate) async fn live(&self, org: &OrgAgents) {
        let outcome = self.life(org).await;
        self.count(outcome);
    }

    async fn life(&self, org: &OrgAgents) -> &'static str {
        let n = self.next_caller.fetch_add(1, Ordering::Relaxed);
        let Ok(from) = PhoneNumber::parse(&format!("+1555{:07}", n % 10_000_000)) else {
            return "no caller number";
        };
        let pick = |rung: &[String]| org.take_among(rung);
        let incoming = match self
            .sandbox
            .incoming_call_picked(&org.number, &from, &pick)
            .await
        {
            Ok(incoming) => incoming,
            Err(_) => return "dropped: the service did not answer for its TwiML",
        };
        self.lock_callers().push(incoming.caller.clone());
        let Some((client, leg)) = incoming.answered else {
            return "no agent answered";
        };
        let Some(agent) = org.index_of(&client) else {
            return "answered by a stranger";
        };
        let parked = self.park(org, agent, &leg, &incoming.caller, &from).await;
        org.release(agent);
        let Some(slot) = parked else {
            let _ = self.sandbox.caller_hangs_up(&incoming.caller).await;
            return "not parked: its agent hung up";
        };
        match fastrand::u32(0..100) {
            0..45 => self.retrieve(org, slot, &incoming.caller).await,
            45..65 => {
                sleep_up_to(Duration::from_millis(1500)).await;
                match self.sandbox.caller_hangs_up(&incoming.caller).await {
                    Ok(()) => "hung up in the lot",
                    Err(_) => "ended before it hung up",
                }
            }
            _ => self.await_deadline(&incoming.caller).await,
        }
    }

    fn lock_callers(&self) -> std::sync::MutexGuard<'_, Vec<CallSid>> {
        self.callers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `POST /api/park`, as an agent clicks it: again when it fails, and parked when the lot
    /// shows it parked, whatever the answers said. The slot, if it is.
    async fn park(
        &self,
        org: &OrgAgents,
        agent: usize,
        leg: &CallSid,
        caller: &CallSid,
        from: &PhoneNumber,
    ) -> Option<u64> {
        let token = &org.agents[agent].1;
        for _ in 0..3 {
            let _ = self
                .http
                .post(format!("{}/api/park", self.base))
                .bearer_auth(token)
                .json(&json!({"callSid": leg.as_str()}))
                .send()
                .await;
            let until = Instant::now() + self.grace + Duration::from_secs(3);
            while Instant::now() < until {
                if let Some(slot) = self.parked_slot(token, from).await {
                    return Some(slot);
                }
                let state = self.sandbox.caller(caller)?;
                if !state.live {
                    return None;
                }
                if matches!(state.whereabouts, Whereabouts::WithAgent { live: true, .. }) {
                    break; // still with the agent: the park did not happen
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }
        None
    }

    /// The slot in which the lot shows `caller` parked.
    async fn parked_slot(&self, token: &str, caller: &PhoneNumber) -> Option<u64> {
        let lot: Value = self
            .http
            .get(format!("{}/api/lot", self.base))
            .bearer_auth(token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        lot["slots"].as_array()?.iter().find_map(|slot| {
            let ours = slot["state"] == "parked"
                && slot["call"]["callerNumber"].as_str() == Some(caller.as_str());
            ours.then(|| slot["slot"].as_u64()).flatten()
        })
    }

    /// Another agent retrieves it; if their browser does not answer, the caller is back in
    /// the lot and waits for the deadline.
    async fn retrieve(&self, org: &OrgAgents, slot: u64, caller: &CallSid) -> &'static str {
        let Some(agent) = org.take_any() else {
            return self.await_deadline(caller).await;
        };
        let (client, token) = &org.agents[agent];
        self.sandbox.set_pickup(client, random_pickup());
        sleep_up_to(Duration::from_millis(1000)).await;
        let answered = self
            .http
            .post(format!("{}/api/lot/{slot}/retrieve", self.base))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        let outcome = if answered {
            self.until_settled(caller, self.ring * 2 + self.grace).await
        } else {
            None
        };
        let outcome = match outcome {
            Some(Settled::WithAgent) => Some(self.talk_and_hang_up(caller, "retrieved").await),
            Some(Settled::Ended) => Some("ended while retrieved"),
            None => None,
        };
        org.release(agent);
        match outcome {
            Some(outcome) => outcome,
            // Refused, or back in its slot: the deadline takes over.
            None => self.await_deadline(caller).await,
        }
    }

    /// The caller talks with the agent a moment, then hangs up: the life ended as `outcome`.
    async fn talk_and_hang_up(&self, caller: &CallSid, outcome: &'static str) -> &'static str {
        sleep_up_to(Duration::from_millis(500)).await;
        let _ = self.sandbox.caller_hangs_up(caller).await;
        outcome
    }

    /// Nobody retrieves it: the deadline rings its parker back (who answers, or not), then
    /// voicemail.
    async fn await_deadline(&self, caller: &CallSid) -> &'static str {
        let limit = self.max_park + self.ring * 4 + self.grace * 2 + Duration::from_secs(10);
        match self.until_settled(caller, limit).await {
            Some(Settled::WithAgent) => {
                self.talk_and_hang_up(caller, "rang back and answered")
                    .await
            }
            Some(Settled::Ended) => "timed out to voicemail",
            None => "still waiting at the end of its life",
        }
    }

    /// Waits until the caller is with an agent or has ended (`None`: neither, in `limit`; a
    /// caller back in the lot counts as neither, and keeps waiting).
    async fn until_settled(&self, caller: &CallSid, limit: Duration) -> Option<Settled> {
        let until = Instant::now() + limit;
        let mut in_lot_since: Option<Instant> = None;
        while Instant::now() < until {
            let state = self.sandbox.caller(caller)?;
            match state.whereabouts {
                _ if !state.live => return Some(Settled::Ended),
                Whereabouts::WithAgent { live: true, .. } => return Some(Settled::WithAgent),
                Whereabouts::Conference(_) if limit < self.max_park => {
                    // A retrieve that went unanswered: back in the lot for a while.
                    let since = *in_lot_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(2) {
                        return None;
                    }
                }
                _ => in_lot_since = None,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

/// How a wait for a caller ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    WithAgent,
    Ended,
}

async fn sleep_up_to(max: Duration) {
    tokio::time::sleep(max.mul_f64(fastrand::f64())).await;
}

/// The organisations' agents, signed in: `agents` each.
pub(crate) async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    admin_token: &str,
    orgs: usize,
    agents: usize,
    max_park: Duration,
) -> Result<Vec<OrgAgents>, Error> {
    let mut made = Vec::with_capacity(orgs);
    for i in 0..orgs {
        let (slug, number) = crate::api::fresh_org_name("chaos", i);
        let created = http
            .post(format!("{base}/admin/orgs"))
            .bearer_auth(admin_token)
            .json(
                &json!({"slug": slug, "name": slug, "slots": 40, "numbers": [number],
                          "announcement": "Please hold.",
                          "maxParkSeconds": max_park.as_secs().max(1)}),
            )
            .send()
            .await?;
        if created.status() != 201 {
            return Err(format!("create org: {}", created.text().await?).into());
        }
        let mut tokens = Vec::with_capacity(agents);
        for a in 0..agents {
            let identity = format!("agent{a}");
            let body: Value = http
                .post(format!("{base}/admin/orgs/{slug}/agents"))
                .bearer_auth(admin_token)
                .json(&json!({"identity": identity}))
                .send()
                .await?
                .json()
                .await?;
            let token = body["token"].as_str().ok_or("no agent token")?.to_owned();
            let session = http
                .post(format!("{base}/api/session"))
                .bearer_auth(&token)
                .send()
                .await?;
            if !session.status().is_success() {
                return Err(format!("sign in: {}", session.text().await?).into());
            }
            let client = ClientIdentity::parse(&format!("{slug}.{identity}"))?;
            tokens.push((client, token));
        }
        made.push(OrgAgents {
            slug,
            number: PhoneNumber::parse(&number)?,
            idle: Mutex::new((0..agents).collect()),
            agents: tokens,
        });
    }
    Ok(made)
}
