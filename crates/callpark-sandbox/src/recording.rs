//! The sandbox's voicemail recordings: each `<Record>` leaves one, and its audio is a short
//! generated WAV (tones shaped like a few spoken words), so that the flow from a timed-out park
//! to someone listening can be tried without Twilio.

use callpark_domain::{HttpUrl, RecordingAudio, TelephonyError};

use crate::network::Network;

/// How long every sandbox voicemail lasts, as its `RecordingDuration` says.
pub(crate) const SECONDS: u32 = 4;
const RATE: u32 = 8_000;

impl Network {
    /// The URL of the recording `sid`, as Twilio names one of the account's.
    pub(crate) fn recording_url(&self, sid: &str) -> String {
        format!(
            "https://api.twilio.com/2010-04-01/Accounts/{}/Recordings/{sid}",
            self.account_sid
        )
    }

    /// The audio of a recording this sandbox made; any other is not found, as on Twilio.
    pub(crate) fn recording_audio(&self, url: &HttpUrl) -> Result<RecordingAudio, TelephonyError> {
        let known = self
            .world()
            .recordings
            .iter()
            .any(|sid| self.recording_url(sid) == url.as_str());
        if !known {
            return Err(TelephonyError::NotFound);
        }
        Ok(RecordingAudio {
            media_type: "audio/wav".to_owned(),
            bytes: wav(&samples()),
        })
    }
}

/// A few "words": bursts of a tone that glides like a voice, with pauses between them.
fn samples() -> Vec<i16> {
    (0..RATE * SECONDS)
        .map(|n| {
            let t = f64::from(n) / f64::from(RATE);
            let word = (t * 2.5).fract();
            if word > 0.7 {
                return 0;
            }
            let envelope = (word / 0.7 * std::f64::consts::PI).sin();
            let pitch = 180.0 + 60.0 * (t * 1.3).sin();
            let wave = (2.0 * std::f64::consts::PI * pitch * t).sin();
            #[expect(
                clippy::cast_possible_truncation,
                reason = "within ±8,000 by construction"
            )]
            let sample = (wave * envelope * 8_000.0) as i16;
            sample
        })
        .collect()
}

/// 16-bit mono PCM in a RIFF/WAVE container.
fn wav(samples: &[i16]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).expect("a short recording");
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for sample in samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{RATE, SECONDS, samples, wav};

    #[test]
    fn a_voicemail_is_a_wav_of_its_stated_length_with_sound_and_pauses() {
        let audio = wav(&samples());
        assert_eq!(&audio[..4], b"RIFF");
        assert_eq!(&audio[8..16], b"WAVEfmt ");
        let data_len = u32::from_le_bytes(audio[40..44].try_into().unwrap());
        assert_eq!(data_len, RATE * SECONDS * 2);
        assert_eq!(audio.len(), 44 + data_len as usize);
        let loud = samples()
            .iter()
            .filter(|s| s.unsigned_abs() > 1_000)
            .count();
        let silent = samples().iter().filter(|s| **s == 0).count();
        assert!(
            loud > 1_000 && silent > 1_000,
            "{loud} loud, {silent} silent"
        );
    }
}
