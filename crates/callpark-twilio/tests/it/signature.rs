//! `X-Twilio-Signature` against the examples Twilio publishes, and against tampering.

use callpark_twilio::signature::{
    SignatureError, body_sha256_hex, compute, validate_form, validate_json,
};
use secrecy::SecretString;

fn token(s: &str) -> SecretString {
    SecretString::from(s)
}

// Twilio's documented example: "Security — Validating Requests are coming from Twilio",
// https://www.twilio.com/docs/usage/security#validating-requests (auth token 12345). The page's
// numbers have changed between revisions; this one is the revision with Caller/From
// +12349013030, which the signature below was independently re-derived for (HMAC-SHA1 in
// Python's standard library) before being written here.
const DOC_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const DOC_PARAMS: [(&str, &str); 5] = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
];
const DOC_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

#[test]
fn twilios_documented_example_verifies() {
    assert_eq!(
        compute(&token("12345"), DOC_URL, &DOC_PARAMS),
        DOC_SIGNATURE
    );
    assert_eq!(
        validate_form(&token("12345"), DOC_URL, &DOC_PARAMS, Some(DOC_SIGNATURE)),
        Ok(())
    );
}

#[test]
fn the_current_documentation_walkthrough_verifies() {
    // The same page's current "Explore the algorithm yourself" walkthrough: URL
    // https://example.com/myapp.php?foo=1&bar=2, From/Caller +14158675310, token 12345 →
    // L/OH5YylLD5NRKLltdqwSvS0BnU=. The parameters are given in the page's (unsorted) order.
    let params = [
        ("Digits", "1234"),
        ("To", "+18005551212"),
        ("From", "+14158675310"),
        ("Caller", "+14158675310"),
        ("CallSid", "CA1234567890ABCDE"),
    ];
    assert_eq!(
        validate_form(
            &token("12345"),
            "https://example.com/myapp.php?foo=1&bar=2",
            &params,
            Some("L/OH5YylLD5NRKLltdqwSvS0BnU=")
        ),
        Ok(())
    );
}

#[test]
fn parameter_order_does_not_matter_and_owned_strings_work_too() {
    let reversed: Vec<(String, String)> = DOC_PARAMS
        .iter()
        .rev()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(
        validate_form(&token("12345"), DOC_URL, &reversed, Some(DOC_SIGNATURE)),
        Ok(())
    );
}

#[test]
fn repeated_names_sort_by_value() {
    // twilio-python's test suite (tests/unit/test_request_validator.py,
    // test_compute_signature_duplicate_multi_dict) signs Sid, SidAccount and two Digits given
    // out of order; keys then values are sorted: "Digits1234Digits5678SidCA123SidAccountAC123".
    let params = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
    ];
    assert_eq!(
        compute(&token("12345"), DOC_URL, &params),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
    let mut reordered = params;
    reordered.swap(2, 3);
    assert_eq!(
        validate_form(
            &token("12345"),
            DOC_URL,
            &reordered,
            Some("IK+Dwps556ElfBT0I3Rgjkr1wJU=")
        ),
        Ok(())
    );
}

#[test]
fn the_url_is_accepted_with_and_without_its_default_port() {
    // Vectors from twilio-python's test suite (test_validation_adds_port_on_https / _on_http,
    // test_validation_removes_port_on_https); token 12345.
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ];
    let t = token("12345");
    // Signed without a port: validates with or without :443.
    let plain = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    assert_eq!(validate_form(&t, DOC_URL, &params, Some(plain)), Ok(()));
    let with_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert_eq!(validate_form(&t, with_443, &params, Some(plain)), Ok(()));
    // Voice over HTTPS drops even a non-default port before signing.
    let with_1234 = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert_eq!(validate_form(&t, with_1234, &params, Some(plain)), Ok(()));
    // Signed with :443 / :80: validates against the URL without the port.
    assert_eq!(
        validate_form(&t, DOC_URL, &params, Some("kvajT1Ptam85bY51eRf/AJRuM3w=")),
        Ok(())
    );
    let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        validate_form(&t, http, &params, Some("0ZXoZLH/DfblKGATFgpif+LLRf4=")),
        Ok(())
    );
    // Signed with a non-default port, as given.
    let http_1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert_eq!(
        validate_form(&t, http_1234, &params, Some("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")),
        Ok(())
    );
    // A port is not a wildcard: another host still fails.
    let elsewhere = "https://mycompany.org:443/myapp.php?foo=1&bar=2";
    assert_eq!(
        validate_form(&t, elsewhere, &params, Some(plain)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_changed_parameter_fails() {
    let mut params = DOC_PARAMS;
    params[2] = ("Digits", "9999");
    assert_eq!(
        validate_form(&token("12345"), DOC_URL, &params, Some(DOC_SIGNATURE)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn an_added_parameter_fails() {
    let mut params = DOC_PARAMS.to_vec();
    params.push(("CallStatus", "completed"));
    assert_eq!(
        validate_form(&token("12345"), DOC_URL, &params, Some(DOC_SIGNATURE)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_removed_parameter_fails() {
    assert_eq!(
        validate_form(
            &token("12345"),
            DOC_URL,
            &DOC_PARAMS[1..],
            Some(DOC_SIGNATURE)
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_changed_url_fails() {
    for url in [
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        "https://mycompany.com/myapp.php?foo=1",
        "https://mycompany.com/other.php?foo=1&bar=2",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        "https://evil.example/myapp.php?foo=1&bar=2",
    ] {
        assert_eq!(
            validate_form(&token("12345"), url, &DOC_PARAMS, Some(DOC_SIGNATURE)),
            Err(SignatureError::Mismatch),
            "{url}"
        );
    }
}

#[test]
fn a_wrong_token_fails() {
    assert_eq!(
        validate_form(&token("12346"), DOC_URL, &DOC_PARAMS, Some(DOC_SIGNATURE)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_missing_header_fails_as_missing() {
    assert_eq!(
        validate_form(&token("12345"), DOC_URL, &DOC_PARAMS, None),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        validate_form(&token("12345"), DOC_URL, &DOC_PARAMS, Some("")),
        Err(SignatureError::Missing)
    );
}

#[test]
fn a_malformed_header_fails_as_malformed() {
    for bad in [
        "not base64 at all",
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ",
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ==",
        "0_KCTR6DLpKmkAf8muzZqo1nDgQ=",
    ] {
        assert_eq!(
            validate_form(&token("12345"), DOC_URL, &DOC_PARAMS, Some(bad)),
            Err(SignatureError::Malformed),
            "{bad}"
        );
    }
}

#[test]
fn a_signature_for_another_request_fails_as_a_mismatch() {
    let other = compute(&token("12345"), DOC_URL, &[("CallSid", "CA1")]);
    assert_eq!(
        validate_form(&token("12345"), DOC_URL, &DOC_PARAMS, Some(&other)),
        Err(SignatureError::Mismatch)
    );
}

// The JSON-body vector shared by Twilio's helper libraries' test suites (twilio-python
// tests/unit/test_request_validator.py test_validation_of_body_succeeds; twilio-csharp and
// twilio-php RequestValidator tests): token 12345.
const JSON_BODY: &str = r#"{"property": "value", "boolean": true}"#;
const JSON_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const JSON_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const JSON_SIGNATURE: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";

#[test]
fn the_helper_libraries_json_body_example_verifies() {
    assert_eq!(body_sha256_hex(JSON_BODY.as_bytes()), JSON_HASH);
    assert_eq!(
        validate_json(
            &token("12345"),
            JSON_URL,
            JSON_BODY.as_bytes(),
            Some(JSON_SIGNATURE)
        ),
        Ok(())
    );
    // The signature of a JSON request covers the URL alone.
    assert_eq!(
        compute::<&str, &str>(&token("12345"), JSON_URL, &[]),
        JSON_SIGNATURE
    );
}

#[test]
fn the_documented_json_body_hash_matches() {
    // The docs' application/json example (same page as above): this body goes with
    // https://example.com/myapp?bodySHA256=5ccde714…; its signature is made with an unstated
    // token, so only the hash can be checked.
    let body = r#"{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}"#;
    assert_eq!(
        body_sha256_hex(body.as_bytes()),
        "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"
    );
}

#[test]
fn a_json_body_that_does_not_match_its_hash_fails() {
    assert_eq!(
        validate_json(
            &token("12345"),
            JSON_URL,
            br#"{"property": "evil", "boolean": true}"#,
            Some(JSON_SIGNATURE)
        ),
        Err(SignatureError::BodyHashMismatch)
    );
}

#[test]
fn a_json_url_with_another_hash_fails() {
    let body = br#"{"property": "evil"}"#;
    let url = format!(
        "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={}",
        body_sha256_hex(body)
    );
    assert_eq!(
        validate_json(&token("12345"), &url, body, Some(JSON_SIGNATURE)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_json_url_without_a_hash_fails() {
    assert_eq!(
        validate_json(
            &token("12345"),
            DOC_URL,
            JSON_BODY.as_bytes(),
            Some(JSON_SIGNATURE)
        ),
        Err(SignatureError::MissingBodyHash)
    );
}

#[test]
fn a_json_request_with_a_wrong_token_or_no_header_fails() {
    assert_eq!(
        validate_json(
            &token("54321"),
            JSON_URL,
            JSON_BODY.as_bytes(),
            Some(JSON_SIGNATURE)
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        validate_json(&token("12345"), JSON_URL, JSON_BODY.as_bytes(), None),
        Err(SignatureError::Missing)
    );
}

#[test]
fn a_json_request_is_accepted_with_and_without_the_default_port() {
    let with_port = JSON_URL.replace(".com/", ".com:443/");
    assert_eq!(
        validate_json(
            &token("12345"),
            &with_port,
            JSON_BODY.as_bytes(),
            Some(JSON_SIGNATURE)
        ),
        Ok(())
    );
    let signed_with_port = compute::<&str, &str>(&token("12345"), &with_port, &[]);
    assert_eq!(
        validate_json(
            &token("12345"),
            JSON_URL,
            JSON_BODY.as_bytes(),
            Some(&signed_with_port)
        ),
        Ok(())
    );
}

#[test]
fn errors_read_well() {
    assert_eq!(
        SignatureError::Missing.to_string(),
        "the request carries no X-Twilio-Signature header"
    );
    assert_eq!(callpark_twilio::signature::HEADER, "X-Twilio-Signature");
}
