//! Conferences: joining one, and the callbacks of leaving it (or a bridge).

use std::sync::Arc;

use callpark_domain::CallSid;

use crate::SandboxError;
use crate::network::Network;
use crate::twiml::Node;
use crate::world::Location;

impl Network {
    pub(crate) async fn join_conference(
        self: &Arc<Self>,
        sid: &CallSid,
        conference: &Node,
    ) -> Result<(), SandboxError> {
        let name = conference.text.clone();
        let (conference_sid, sequence) = {
            let mut world = self.world();
            let existing = world.calls.values().find_map(|c| match &c.location {
                Location::Conference { name: n, sid, .. } if *n == name => Some(sid.clone()),
                _ => None,
            });
            let conference_sid = existing.unwrap_or_else(|| world.new_sid("CF"));
            let sequence = world.next_sequence();
            if let Some(call) = world.calls.get_mut(sid) {
                call.location = Location::Conference {
                    name: name.clone(),
                    sid: conference_sid.clone(),
                    callback: conference.attr("statusCallback").map(str::to_owned),
                    events: conference.events(),
                };
            }
            (conference_sid, sequence)
        };
        if let Some(wait_url) = conference.attr("waitUrl") {
            // Twilio fetches the hold music; its answer only matters to the caller's ears.
            let mut params = self.call_params(sid);
            params.push(("ConferenceSid".to_owned(), conference_sid.clone()));
            params.push(("FriendlyName".to_owned(), name.clone()));
            self.post(wait_url, &params).await?;
        }
        if let Some(callback) = conference.attr("statusCallback")
            && conference.events().iter().any(|e| e == "join")
        {
            let params =
                self.conference_params(sid, &conference_sid, &name, "participant-join", sequence);
            self.callback(callback, params).await?;
        }
        Ok(())
    }

    fn conference_params(
        &self,
        sid: &CallSid,
        conference_sid: &str,
        name: &str,
        event: &str,
        sequence: u64,
    ) -> Vec<(String, String)> {
        vec![
            ("AccountSid".to_owned(), self.account_sid.clone()),
            ("CallSid".to_owned(), sid.to_string()),
            ("ConferenceSid".to_owned(), conference_sid.to_owned()),
            ("FriendlyName".to_owned(), name.to_owned()),
            ("StatusCallbackEvent".to_owned(), event.to_owned()),
            ("SequenceNumber".to_owned(), sequence.to_string()),
            (
                "Timestamp".to_owned(),
                "Tue, 24 Nov 2026 10:00:00 +0000".to_owned(),
            ),
        ]
    }

    /// Takes a caller out of wherever it is, reporting what Twilio reports.
    pub(crate) async fn leave(&self, sid: &CallSid, reason: &str) -> Result<(), SandboxError> {
        let location = {
            let mut world = self.world();
            let Some(call) = world.calls.get_mut(sid) else {
                return Ok(());
            };
            std::mem::take(&mut call.location)
        };
        match location {
            Location::Idle => {}
            Location::Conference {
                name,
                sid: conference_sid,
                callback,
                events,
            } => {
                let Some(callback) = callback else {
                    return Ok(());
                };
                for (wanted, event) in [("leave", "participant-leave"), ("end", "conference-end")] {
                    if !events.iter().any(|e| e == wanted) {
                        continue;
                    }
                    let sequence = self.world().next_sequence();
                    let mut params =
                        self.conference_params(sid, &conference_sid, &name, event, sequence);
                    if event == "participant-leave" {
                        params.push(("ReasonParticipantLeft".to_owned(), reason.to_owned()));
                    } else {
                        params.push((
                            "ReasonConferenceEnded".to_owned(),
                            "participant-with-end-conference-on-exit-left".to_owned(),
                        ));
                    }
                    self.callback(&callback, params).await?;
                }
            }
            Location::Dialing { child, action } => {
                if let Some(child) = child {
                    self.hang_up_leg(&child);
                    self.report_status(&child, "completed", "completed").await?;
                }
                // Twilio requests the interrupted <Dial>'s action and ignores its answer.
                if let Some(action) = action {
                    let mut params = self.call_params(sid);
                    params.push(("DialCallStatus".to_owned(), "completed".to_owned()));
                    if let Err(e) = self.post(&action, &params).await {
                        let error = &e as &dyn std::error::Error;
                        tracing::warn!(error, action, "an interrupted <Dial>'s action failed");
                    }
                }
            }
        }
        Ok(())
    }
}
