//! Voice SDK access tokens decode to the header and claims Twilio expects.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use callpark_twilio::access_token::{AccessTokenError, MAX_TTL, voice_token, voice_token_at};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::SecretString;
use serde_json::{Value, json};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SK0123456789abcdef0123456789abcdef";
const APP: &str = "AP0123456789abcdef0123456789abcdef";
const SECRET: &str = "api-key-secret";

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

fn decode(token: &str, secret: &str) -> jsonwebtoken::errors::Result<Value> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
}

/// Verifies the signature of a token that expired long ago.
fn decode_long_ago(token: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims
}

fn raw_header(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn a_voice_token_carries_the_header_and_claims_twilio_expects() {
    let token = voice_token(
        ACCOUNT,
        KEY,
        &secret(),
        "alice_01",
        APP,
        Duration::from_secs(3600),
    )
    .unwrap();

    assert_eq!(
        raw_header(&token),
        json!({"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"})
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.cty.as_deref(), Some("twilio-fpa;v=1"));

    let claims = decode(&token, SECRET).unwrap();
    let iat = claims["iat"].as_u64().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(iat) <= 5, "iat {iat} is not now ({now})");
    assert_eq!(
        claims,
        json!({
            "jti": format!("{KEY}-{iat}"),
            "iss": KEY,
            "sub": ACCOUNT,
            "iat": iat,
            "exp": iat + 3600,
            "grants": {
                "identity": "alice_01",
                "voice": {
                    "incoming": {"allow": true},
                    "outgoing": {"application_sid": APP},
                },
            },
        })
    );
}

#[test]
fn only_the_api_key_secret_verifies_it() {
    let token = voice_token(
        ACCOUNT,
        KEY,
        &secret(),
        "alice",
        APP,
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(decode(&token, "another-secret").is_err());
}

#[test]
fn the_lifetime_is_capped_at_24_hours() {
    let issued = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let token = voice_token_at(
        ACCOUNT,
        KEY,
        &secret(),
        "alice",
        APP,
        Duration::from_secs(48 * 3600),
        issued,
    )
    .unwrap();
    let claims = decode_long_ago(&token);
    assert_eq!(claims["iat"], json!(1_700_000_000u64));
    assert_eq!(claims["exp"], json!(1_700_000_000u64 + 86_400));
    assert_eq!(claims["jti"], json!(format!("{KEY}-1700000000")));
    assert_eq!(MAX_TTL, Duration::from_secs(86_400));

    let exactly = voice_token_at(ACCOUNT, KEY, &secret(), "alice", APP, MAX_TTL, issued).unwrap();
    assert_eq!(
        decode_long_ago(&exactly)["exp"],
        json!(1_700_000_000u64 + 86_400)
    );
}

#[test]
fn invalid_sids_and_identities_are_refused() {
    let ttl = Duration::from_secs(60);
    let s = secret();
    assert!(matches!(
        voice_token(KEY, KEY, &s, "alice", APP, ttl),
        Err(AccessTokenError::InvalidAccountSid)
    ));
    assert!(matches!(
        voice_token(ACCOUNT, ACCOUNT, &s, "alice", APP, ttl),
        Err(AccessTokenError::InvalidApiKeySid)
    ));
    assert!(matches!(
        voice_token(ACCOUNT, KEY, &s, "alice", "APnope", ttl),
        Err(AccessTokenError::InvalidApplicationSid)
    ));
    assert!(matches!(
        voice_token(ACCOUNT, KEY, &s, "", APP, ttl),
        Err(AccessTokenError::InvalidIdentity)
    ));
    assert!(matches!(
        voice_token(ACCOUNT, KEY, &s, "ali\nce", APP, ttl),
        Err(AccessTokenError::InvalidIdentity)
    ));
}
