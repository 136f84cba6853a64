//! `X-Twilio-Signature`: proof that a webhook request comes from Twilio.
//!
//! Twilio signs `base64(HMAC-SHA1(auth token, URL + name₁value₁ + name₂value₂ …))`, where the
//! URL is the full URL it requested (query included) and the pairs are the form-encoded POST
//! parameters sorted by name (then value; byte order, i.e. "Unix-style case-sensitive"). A
//! request with a JSON body instead carries `bodySHA256=<hex SHA-256 of the body>` in its query
//! and the signature covers the URL alone; the body must then match that hash.
//!
//! Build `url` from the service's configured public base URL plus the request's path and
//! query, never from the `Host` header, which the client controls. Twilio drops or keeps an
//! explicit port depending on the product, so validation tries the URL as given and then with
//! the port removed (any port, as Twilio's helper libraries do) or, when it has none, with the
//! scheme's default port (`:443`, `:80`) added. Comparisons are constant-time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// The header Twilio puts the signature in.
pub const HEADER: &str = "X-Twilio-Signature";

/// The query parameter that carries the SHA-256 of a JSON body.
pub const BODY_HASH_PARAM: &str = "bodySHA256";

type HmacSha1 = Hmac<Sha1>;

/// The length of an HMAC-SHA1.
const MAC_LEN: usize = 20;

/// Why a request's signature was refused. Every variant means "not from Twilio": answer 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum SignatureError {
    /// The request has no `X-Twilio-Signature` header.
    #[error("the request carries no X-Twilio-Signature header")]
    Missing,
    /// The header is not the base64 of an HMAC-SHA1 (20 bytes).
    #[error("the X-Twilio-Signature header is not a base64 HMAC-SHA1")]
    Malformed,
    /// The signature is well-formed but does not match the URL and parameters.
    #[error("the X-Twilio-Signature does not match the request")]
    Mismatch,
    /// A JSON-body request whose URL carries no `bodySHA256` parameter.
    #[error("the URL of a JSON-body request carries no bodySHA256 parameter")]
    MissingBodyHash,
    /// The body is not the one whose SHA-256 the (signed) URL carries.
    #[error("the body does not match the URL's bodySHA256")]
    BodyHashMismatch,
}

/// The signature Twilio sends for a form-encoded request to `url` with `params`: for tests,
/// and for callers that sign requests themselves.
pub fn compute<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &SecretString,
    url: &str,
    params: &[(K, V)],
) -> String {
    BASE64.encode(mac(auth_token, url, &sorted(params)))
}

/// Validates a form-encoded (`application/x-www-form-urlencoded`) webhook: `url` is the full
/// URL Twilio requested (query included), `params` every decoded POST parameter in any order
/// (repeated names included), `signature` the `X-Twilio-Signature` header if present.
///
/// # Errors
/// [`SignatureError::Missing`], [`SignatureError::Malformed`] or [`SignatureError::Mismatch`].
pub fn validate_form<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &SecretString,
    url: &str,
    params: &[(K, V)],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let expected = decode_signature(signature)?;
    let params = sorted(params);
    check_url_variants(url, |candidate| {
        mac(auth_token, candidate, &params).ct_eq(&expected).into()
    })
}

/// Validates a webhook with a JSON (or any non-form) body: the signature covers `url` alone,
/// which must carry `bodySHA256`, and `body` (the raw bytes as received) must hash to it.
///
/// # Errors
/// [`SignatureError::Missing`], [`SignatureError::Malformed`],
/// [`SignatureError::MissingBodyHash`], [`SignatureError::Mismatch`] or
/// [`SignatureError::BodyHashMismatch`].
pub fn validate_json(
    auth_token: &SecretString,
    url: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let expected = decode_signature(signature)?;
    let claimed_hash = query_param(url, BODY_HASH_PARAM).ok_or(SignatureError::MissingBodyHash)?;
    check_url_variants(url, |candidate| {
        mac(auth_token, candidate, &[]).ct_eq(&expected).into()
    })?;
    // Only now is `claimed_hash` known to come from Twilio; without this check a replayed URL
    // and signature would vouch for any body.
    let claimed = decode_hex_32(claimed_hash).ok_or(SignatureError::BodyHashMismatch)?;
    let actual: [u8; 32] = Sha256::digest(body).into();
    if bool::from(actual.ct_eq(&claimed)) {
        Ok(())
    } else {
        Err(SignatureError::BodyHashMismatch)
    }
}

/// The lowercase hex SHA-256 of `body`, as Twilio puts it in `bodySHA256`.
pub fn body_sha256_hex(body: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(body);
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

fn sorted<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    // Equal pairs are interchangeable, so an unstable sort yields the same byte string.
    sorted.sort_unstable();
    sorted
}

fn mac(auth_token: &SecretString, url: &str, sorted_params: &[(&str, &str)]) -> [u8; MAC_LEN] {
    let mut mac = match HmacSha1::new_from_slice(auth_token.expose_secret().as_bytes()) {
        Ok(mac) => mac,
        // HMAC hashes over-long keys and pads short ones: every length is accepted.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(url.as_bytes());
    for (name, value) in sorted_params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().into()
}

/// Checks that a request carries a well-formed `X-Twilio-Signature` (the base64 of an
/// HMAC-SHA1), before its body is read: a request without one is refused without waiting for a
/// body that may never come.
///
/// # Errors
/// [`SignatureError::Missing`] or [`SignatureError::Malformed`].
pub fn check_header(signature: Option<&str>) -> Result<(), SignatureError> {
    decode_signature(signature).map(|_| ())
}

fn decode_signature(signature: Option<&str>) -> Result<[u8; MAC_LEN], SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing)?.trim();
    if signature.is_empty() {
        return Err(SignatureError::Missing);
    }
    // A 20-byte MAC is 28 base64 characters; checking first keeps the decode bounded.
    if signature.len() != 28 {
        return Err(SignatureError::Malformed);
    }
    let mut out = [0u8; MAC_LEN];
    match BASE64.decode_slice(signature, &mut out) {
        Ok(MAC_LEN) => Ok(out),
        _ => Err(SignatureError::Malformed),
    }
}

/// Runs `matches` over the URL as given, then over its port variant, and succeeds on the first
/// match. Each check is constant-time; which variant matched is not secret.
fn check_url_variants(
    url: &str,
    mut matches: impl FnMut(&str) -> bool,
) -> Result<(), SignatureError> {
    if matches(url) {
        return Ok(());
    }
    match port_variant(url) {
        Some(other) if matches(&other) => Ok(()),
        _ => Err(SignatureError::Mismatch),
    }
}

/// The same URL with its explicit port removed, or with the scheme's default port added when
/// it has none. `None` when the URL is not `scheme://authority…` or the scheme has no known
/// default port.
fn port_variant(url: &str) -> Option<String> {
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_start..];
    // An IPv6 literal is bracketed: a port colon can only follow the closing bracket.
    let after_host = host_port.rfind(']').map_or(0, |i| i + 1);
    if let Some(colon) = host_port[after_host..].rfind(':') {
        let colon = authority_start + host_start + after_host + colon;
        let mut out = String::with_capacity(url.len());
        out.push_str(&url[..colon]);
        out.push_str(&url[authority_end..]);
        return Some(out);
    }
    let default_port = if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("wss")
    {
        ":443"
    } else if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("ws") {
        ":80"
    } else {
        return None;
    };
    let mut out = String::with_capacity(url.len() + default_port.len());
    out.push_str(&url[..authority_end]);
    out.push_str(default_port);
    out.push_str(&url[authority_end..]);
    Some(out)
}

/// The raw value of the first query parameter called `name`. Twilio writes `bodySHA256` as
/// plain hex, so no percent-decoding is needed.
fn query_param<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query.split('&').find_map(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (n == name).then_some(v)
    })
}

fn decode_hex_32(hex: &str) -> Option<[u8; 32]> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_variants_add_or_remove_the_port() {
        let cases = [
            (
                "https://a.example/x?y=1",
                Some("https://a.example:443/x?y=1"),
            ),
            ("https://a.example:443/x", Some("https://a.example/x")),
            ("https://a.example:8443/x", Some("https://a.example/x")),
            ("http://a.example", Some("http://a.example:80")),
            ("http://a.example:80?q", Some("http://a.example?q")),
            (
                "https://u:p@a.example/x",
                Some("https://u:p@a.example:443/x"),
            ),
            ("https://[::1]/x", Some("https://[::1]:443/x")),
            ("https://[::1]:443/x", Some("https://[::1]/x")),
            ("ftp://a.example/x", None),
            ("not a url", None),
        ];
        for (url, variant) in cases {
            assert_eq!(port_variant(url).as_deref(), variant, "{url}");
        }
    }

    #[test]
    fn query_params_are_found_by_exact_name() {
        let url = "https://a.example/x?xbodySHA256=1&bodySHA256=abc&bodySHA256=def#frag";
        assert_eq!(query_param(url, "bodySHA256"), Some("abc"));
        assert_eq!(
            query_param("https://a.example/x#bodySHA256=1", "bodySHA256"),
            None
        );
        assert_eq!(
            query_param("https://a.example/x?bodySHA256", "bodySHA256"),
            Some("")
        );
    }

    #[test]
    fn hex_hashes_decode_in_either_case() {
        let lower = body_sha256_hex(b"x");
        assert_eq!(decode_hex_32(&lower), decode_hex_32(&lower.to_uppercase()));
        assert_eq!(
            decode_hex_32(&lower).map(|b| b.to_vec()),
            Some(Sha256::digest(b"x").to_vec())
        );
        assert_eq!(decode_hex_32("zz"), None);
        assert_eq!(decode_hex_32(&"g".repeat(64)), None);
    }

    #[test]
    fn malformed_headers_are_told_apart_from_mismatches() {
        assert_eq!(decode_signature(None), Err(SignatureError::Missing));
        assert_eq!(decode_signature(Some("  ")), Err(SignatureError::Missing));
        assert_eq!(
            decode_signature(Some("abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            decode_signature(Some("!!!!!!!!!!!!!!!!!!!!!!!!!!!=")),
            Err(SignatureError::Malformed)
        );
        assert!(decode_signature(Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")).is_ok());
    }
}
