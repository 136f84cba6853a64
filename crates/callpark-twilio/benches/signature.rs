//! Validating the signature of a realistic voice webhook: every Twilio request callpark
//! serves goes through this first.

use std::hint::black_box;

use callpark_twilio::signature::{compute, validate_form};
use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::SecretString;

/// A call-status callback as Twilio sends it for an inbound PSTN call: 20 parameters.
const PARAMS: [(&str, &str); 20] = [
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("ApiVersion", "2010-04-01"),
    ("CallSid", "CA0123456789abcdef0123456789abcdef"),
    ("CallStatus", "completed"),
    ("CallDuration", "42"),
    ("Called", "+18005551212"),
    ("CalledCity", "SAN FRANCISCO"),
    ("CalledCountry", "US"),
    ("CalledState", "CA"),
    ("CalledZip", "94105"),
    ("Caller", "+14155550100"),
    ("CallerCity", "OAKLAND"),
    ("CallerCountry", "US"),
    ("CallerState", "CA"),
    ("CallerZip", "94612"),
    ("Direction", "inbound"),
    ("From", "+14155550100"),
    ("SequenceNumber", "3"),
    ("Timestamp", "Tue, 05 May 2026 10:00:00 +0000"),
    ("To", "+18005551212"),
];

const URL: &str = "https://callpark.example.com/twilio/acme/call-status?org=acme";

fn validate(c: &mut Criterion) {
    let token = SecretString::from("0123456789abcdef0123456789abcdef");
    let signature = compute(&token, URL, &PARAMS);
    // As a webhook handler holds them: owned, in the order they arrived.
    let received: Vec<(String, String)> = PARAMS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(
        validate_form(&token, URL, &received, Some(&signature)),
        Ok(())
    );

    c.bench_function("signature/validate_form_20_params", |b| {
        b.iter(|| {
            validate_form(
                black_box(&token),
                black_box(URL),
                black_box(&received),
                black_box(Some(signature.as_str())),
            )
        });
    });
}

criterion_group!(benches, validate);
criterion_main!(benches);
