//! Access tokens for the Twilio Voice JavaScript SDK: what lets an agent's browser register as
//! a `<Client>` (incoming calls) and place calls through a TwiML application (outgoing).
//!
//! The token is a JWT signed HS256 with an API key's secret:
//! header `{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`; claims `iss` = API key SID,
//! `sub` = account SID, `jti` = `{keySid}-{issued at}`, `iat`, `exp` (at most 24 h later, the
//! longest Twilio accepts), and `grants` = `{identity, voice: {incoming: {allow: true},
//! outgoing: {application_sid}}}`. No `nbf`: a server clock slightly ahead of Twilio's would
//! make a fresh token "not yet valid".

use std::time::{Duration, SystemTime, SystemTimeError, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use thiserror::Error;

use crate::sid::is_sid;

/// The longest lifetime Twilio accepts for an access token; longer requests are capped.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The content type Twilio requires in the header of its access tokens.
pub const CONTENT_TYPE: &str = "twilio-fpa;v=1";

/// Why a token could not be made.
#[derive(Debug, Error)]
pub enum AccessTokenError {
    /// Not `AC` + 32 lowercase hex digits.
    #[error("invalid account SID")]
    InvalidAccountSid,
    /// Not `SK` + 32 lowercase hex digits.
    #[error("invalid API key SID")]
    InvalidApiKeySid,
    /// Not `AP` + 32 lowercase hex digits.
    #[error("invalid TwiML application SID")]
    InvalidApplicationSid,
    /// Empty, or with control characters.
    #[error("invalid client identity")]
    InvalidIdentity,
    /// The issue time is before 1970.
    #[error("the issue time is before the Unix epoch")]
    Clock(#[source] SystemTimeError),
    /// Signing failed.
    #[error("the access token could not be signed")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: String,
    iss: &'a str,
    sub: &'a str,
    iat: u64,
    exp: u64,
    grants: Grants<'a>,
}

#[derive(Serialize)]
struct Grants<'a> {
    identity: &'a str,
    voice: VoiceGrant<'a>,
}

#[derive(Serialize)]
struct VoiceGrant<'a> {
    incoming: Incoming,
    outgoing: Outgoing<'a>,
}

#[derive(Serialize)]
struct Incoming {
    allow: bool,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    application_sid: &'a str,
}

/// A Voice SDK token for `identity`, valid from now for `ttl` (capped at [`MAX_TTL`]),
/// allowing incoming calls to the identity and outgoing calls through the TwiML application
/// `outgoing_application_sid`.
///
/// # Errors
/// [`AccessTokenError`] for an invalid SID or identity, or a failed signature.
pub fn voice_token(
    account_sid: &str,
    api_key_sid: &str,
    api_key_secret: &SecretString,
    identity: &str,
    outgoing_application_sid: &str,
    ttl: Duration,
) -> Result<String, AccessTokenError> {
    voice_token_at(
        account_sid,
        api_key_sid,
        api_key_secret,
        identity,
        outgoing_application_sid,
        ttl,
        SystemTime::now(),
    )
}

/// [`voice_token`] issued at `issued_at` instead of now (for tests and reproducible tokens).
///
/// # Errors
/// As [`voice_token`], and [`AccessTokenError::Clock`] for a time before 1970.
pub fn voice_token_at(
    account_sid: &str,
    api_key_sid: &str,
    api_key_secret: &SecretString,
    identity: &str,
    outgoing_application_sid: &str,
    ttl: Duration,
    issued_at: SystemTime,
) -> Result<String, AccessTokenError> {
    if !is_sid(account_sid, "AC") {
        return Err(AccessTokenError::InvalidAccountSid);
    }
    if !is_sid(api_key_sid, "SK") {
        return Err(AccessTokenError::InvalidApiKeySid);
    }
    if !is_sid(outgoing_application_sid, "AP") {
        return Err(AccessTokenError::InvalidApplicationSid);
    }
    if identity.is_empty() || identity.chars().any(char::is_control) {
        return Err(AccessTokenError::InvalidIdentity);
    }
    let iat = issued_at
        .duration_since(UNIX_EPOCH)
        .map_err(AccessTokenError::Clock)?
        .as_secs();
    let claims = Claims {
        jti: format!("{api_key_sid}-{iat}"),
        iss: api_key_sid,
        sub: account_sid,
        iat,
        exp: iat + ttl.min(MAX_TTL).as_secs(),
        grants: Grants {
            identity,
            voice: VoiceGrant {
                incoming: Incoming { allow: true },
                outgoing: Outgoing {
                    application_sid: outgoing_application_sid,
                },
            },
        },
    };
    let mut header = Header::new(Algorithm::HS256);
    header.cty = Some(CONTENT_TYPE.to_owned());
    let key = EncodingKey::from_secret(api_key_secret.expose_secret().as_bytes());
    jsonwebtoken::encode(&header, &claims, &key).map_err(AccessTokenError::Signing)
}
