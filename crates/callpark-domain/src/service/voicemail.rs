//! Voicemail that someone hears: an agent of the organisation plays a caller's recording, and
//! marks the voicemail handled.

use super::{ParkingService, VoicemailError};
use crate::machine::{ParkState, Signal};
use crate::model::{Agent, ParkedCall};
use crate::ports::{RecordingAudio, TelephonyError};
use crate::values::{OrgSlug, ParkedCallId};

impl ParkingService {
    /// The audio of the voicemail a caller of `org` left, fetched from the telephony (with
    /// the account's credentials, which the browser never sees).
    ///
    /// # Errors
    /// [`VoicemailError::NotFound`] for a call of another organisation, one without a
    /// recording, or one the telephony no longer has.
    pub async fn voicemail_audio(
        &self,
        org: &OrgSlug,
        id: ParkedCallId,
    ) -> Result<RecordingAudio, VoicemailError> {
        let call = self.ports.store.parked_call(id).await?;
        let Some(url) = call.filter(|c| &c.org == org).and_then(|c| c.recording_url) else {
            return Err(VoicemailError::NotFound);
        };
        self.ports
            .telephony
            .recording(&url)
            .await
            .map_err(|e| match e {
                TelephonyError::NotFound => VoicemailError::NotFound,
                e => VoicemailError::Telephony(e),
            })
    }

    /// `agent` took care of the voicemail of the parked call `id` (listened, called back):
    /// the first agent to say so is kept, with the time, and the organisation's live streams
    /// are told (`voicemail_handled`). Saying it again changes nothing.
    ///
    /// # Errors
    /// [`VoicemailError::NotFound`] for a call of another organisation, or one that did not
    /// end in voicemail.
    pub async fn mark_voicemail_handled(
        &self,
        agent: &Agent,
        id: ParkedCallId,
    ) -> Result<ParkedCall, VoicemailError> {
        let Some(ctx) = self
            .parked_call(id)
            .await?
            .filter(|c| c.call.org == agent.org && c.call.state == ParkState::Voicemail)
        else {
            return Err(VoicemailError::NotFound);
        };
        let signal = Signal::VoicemailHandled(agent.identity.clone());
        let applied = self
            .apply_signal(id, Some(ctx.call), &signal, &ctx.org, None)
            .await?;
        applied.call.ok_or(VoicemailError::NotFound)
    }
}
