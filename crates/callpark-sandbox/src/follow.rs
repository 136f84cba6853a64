//! The TwiML interpreter: what Twilio does with the documents the service answers.

use std::sync::Arc;
use std::time::Duration;

use callpark_domain::CallSid;

use crate::SandboxError;
use crate::fidelity::Pickup;
use crate::network::Network;
use crate::twiml::{Node, parse_twiml};
use crate::world::{Location, SimCall};

/// Which of the browsers an inbound call's `<Dial>` rings answers (given their identities),
/// if any.
pub(crate) type Picker<'a> = dyn Fn(&[String]) -> Option<String> + Send + Sync + 'a;

/// The most `<Client>` nouns a `<Dial>` may hold (TwiML `<Client>`: "You can include up to 10
/// <Client> nouns within a <Dial>").
const MAX_CLIENTS: usize = 10;

impl Network {
    /// After a REST redirect: the call leaves where it is and follows the TwiML at `url`.
    pub(crate) async fn follow_redirect(
        self: &Arc<Self>,
        call: &CallSid,
        url: &str,
    ) -> Result<(), SandboxError> {
        self.leave(call, "participant_updated_via_api").await?;
        let params = self.call_params(call);
        let twiml = self.fetch_twiml(call, url, &params).await?;
        self.execute(call, &twiml, None).await
    }

    /// Follows a TwiML document for `sid`, as Twilio would, until the call waits somewhere
    /// (a conference, a bridge) or ends.
    pub(crate) async fn execute(
        self: &Arc<Self>,
        sid: &CallSid,
        twiml: &str,
        pick: Option<&Picker<'_>>,
    ) -> Result<(), SandboxError> {
        let mut document = parse_twiml(twiml)?;
        // Each <Redirect> or <Record> action hands over to a new document; bounded so a
        // redirect loop in the service cannot spin the sandbox forever.
        for _ in 0..16 {
            let mut next = None;
            for verb in &document.children {
                match verb.name.as_str() {
                    "Hangup" => return self.end_call(sid, "participant_hung_up").await,
                    "Redirect" => {
                        let params = self.call_params(sid);
                        next = Some(self.fetch_twiml(sid, &verb.text, &params).await?);
                        break;
                    }
                    "Dial" => {
                        if let Some(conference) = verb.child("Conference") {
                            return self.join_conference(sid, conference).await;
                        }
                        let clients: Vec<&Node> = verb
                            .children
                            .iter()
                            .filter(|c| c.name == "Client")
                            .collect();
                        if !clients.is_empty() {
                            return self.ring(sid, verb, &clients, pick).await;
                        }
                    }
                    "Record" => {
                        next = self.record(sid, verb).await?;
                        if next.is_some() {
                            break;
                        }
                    }
                    _ => {} // <Say>, <Play>, <Pause>: time passes, nothing else.
                }
            }
            match next {
                Some(twiml) => document = parse_twiml(&twiml)?,
                // Twilio hangs up when a document runs out of verbs.
                None => return self.end_call(sid, "participant_hung_up").await,
            }
        }
        Ok(())
    }

    /// Rings agents' browsers, at most 10 (a `<Dial>` holds no more `<Client>`s). For an
    /// inbound call the browser `pick` chooses answers at once and the others stop ringing; a
    /// browser rung alone (a retrieve, a ring-back) does what its agent chose ([`Pickup`]).
    async fn ring(
        self: &Arc<Self>,
        sid: &CallSid,
        dial: &Node,
        clients: &[&Node],
        pick: Option<&Picker<'_>>,
    ) -> Result<(), SandboxError> {
        if clients.len() > MAX_CLIENTS {
            // Twilio refuses the document; the caller hears an application error.
            tracing::warn!(
                clients = clients.len(),
                "a <Dial> with more than 10 <Client>s"
            );
            return self.end_call(sid, "participant_hung_up").await;
        }
        let identities: Vec<String> = clients
            .iter()
            .map(|c| {
                c.child("Identity")
                    .map_or_else(|| c.text.clone(), |i| i.text.clone())
            })
            .collect();
        let (answerer, pickup) = self.answerer(&identities, pick);
        let mut answered_leg = None;
        let mut dial_status = "no-answer";
        for (client, identity) in clients.iter().zip(&identities) {
            let child = self.new_child(sid, dial, client, identity)?;
            for (event, status) in [("initiated", "initiated"), ("ringing", "ringing")] {
                self.report_status(&child, event, status).await?;
            }
            if answerer.as_deref() != Some(identity.as_str()) {
                self.hang_up_leg(&child);
                self.report_status(&child, "completed", "canceled").await?;
                continue;
            }
            match self.pick_up(&child, dial, pickup).await? {
                None => answered_leg = Some(child),
                Some(status) => dial_status = status,
            }
        }
        let action = dial.attr("action").map(str::to_owned);
        if answered_leg.is_none() {
            return self.unanswered(sid, action, dial_status).await;
        }
        if let Some(call) = self.world().calls.get_mut(sid) {
            call.location = Location::Dialing {
                child: answered_leg,
                action,
            };
        }
        Ok(())
    }

    /// Who answers, and how: the browser `pick` chooses answers at once; a browser rung alone
    /// does what its agent chose.
    fn answerer(
        &self,
        identities: &[String],
        pick: Option<&Picker<'_>>,
    ) -> (Option<String>, Pickup) {
        match pick {
            Some(pick) => (pick(identities), Pickup::Answer),
            None => {
                let alone = (identities.len() == 1).then(|| identities[0].clone());
                let pickup = alone
                    .as_deref()
                    .map_or(Pickup::Answer, |a| self.mischief.pickup(a));
                (alone, pickup)
            }
        }
    }

    /// The answering agent's browser leg `child` does as `pickup` says: `None` once it is on
    /// the call, else the dial's status.
    async fn pick_up(
        self: &Arc<Self>,
        child: &CallSid,
        dial: &Node,
        pickup: Pickup,
    ) -> Result<Option<&'static str>, SandboxError> {
        let status = match pickup {
            Pickup::Answer => {
                if let Some(leg) = self.world().calls.get_mut(child) {
                    leg.ringing = false;
                }
                self.report_status(child, "answered", "in-progress").await?;
                return Ok(None);
            }
            Pickup::Decline => "busy",
            Pickup::LetRing => {
                // Twilio rings for the dial's timeout (30 s unless it says) plus 5 s.
                let timeout = dial
                    .attr("timeout")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(30);
                tokio::time::sleep(self.real(Duration::from_secs(timeout + 5))).await;
                "no-answer"
            }
        };
        self.hang_up_leg(child);
        self.report_status(child, "completed", status).await?;
        Ok(Some(status))
    }

    /// Nobody answered: the dial ends, and its action says what the caller does next.
    async fn unanswered(
        self: &Arc<Self>,
        sid: &CallSid,
        action: Option<String>,
        dial_status: &str,
    ) -> Result<(), SandboxError> {
        if !self.call(sid).is_some_and(|c| c.live) {
            return Ok(()); // the caller hung up while it rang
        }
        let Some(action) = action else {
            return self.end_call(sid, "participant_hung_up").await;
        };
        let mut params = self.call_params(sid);
        params.push(("DialCallStatus".to_owned(), dial_status.to_owned()));
        let twiml = self.fetch_twiml(sid, &action, &params).await?;
        Box::pin(self.execute(sid, &twiml, None)).await
    }

    /// A browser's leg, a child of the caller's, as the `<Client>` noun asks.
    fn new_child(
        &self,
        sid: &CallSid,
        dial: &Node,
        client: &Node,
        identity: &str,
    ) -> Result<CallSid, SandboxError> {
        let caller = self.call(sid).ok_or(SandboxError::UnknownCall)?;
        let mut world = self.world();
        let child = world.new_call_sid();
        world.calls.insert(
            child.clone(),
            SimCall {
                from: dial.attr("callerId").unwrap_or(&caller.from).to_owned(),
                to: format!("client:{identity}"),
                parent: Some(sid.clone()),
                live: true,
                status_callback: client.attr("statusCallback").map(str::to_owned),
                status_events: client.events(),
                location: Location::Idle,
                started_at: time::OffsetDateTime::now_utc(),
                ringing: true,
            },
        );
        Ok(child)
    }

    /// Records a voicemail: the recording is ready at once. Returns the action's TwiML.
    async fn record(&self, sid: &CallSid, record: &Node) -> Result<Option<String>, SandboxError> {
        let recording_sid = {
            let mut world = self.world();
            let sid = world.new_sid("RE");
            world.recordings.push(sid.clone());
            sid
        };
        let recording_url = self.recording_url(&recording_sid);
        let mut params = self.call_params(sid);
        params.push(("RecordingSid".to_owned(), recording_sid));
        params.push(("RecordingUrl".to_owned(), recording_url));
        params.push((
            "RecordingDuration".to_owned(),
            crate::recording::SECONDS.to_string(),
        ));
        if let Some(callback) = record.attr("recordingStatusCallback") {
            let mut status = params.clone();
            status.push(("RecordingStatus".to_owned(), "completed".to_owned()));
            self.callback(callback, status).await?;
        }
        match record.attr("action") {
            Some(action) => Ok(Some(self.fetch_twiml(sid, action, &params).await?)),
            None => Ok(None),
        }
    }
}
