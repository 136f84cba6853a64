//! Rendering the TwiML callpark serves most: every park and every retrieve renders one.

use std::hint::black_box;

use callpark_twilio::twiml::documents::{Speech, park, retrieve};
use criterion::{Criterion, criterion_group, criterion_main};

fn documents(c: &mut Criterion) {
    c.bench_function("twiml/park", |b| {
        b.iter(|| {
            park(
                black_box("Please hold while we find someone to take your call."),
                black_box(Speech {
                    voice: Some("Polly.Amy"),
                    language: None,
                }),
                black_box("park-0123456789abcdef0123456789abcdef"),
                black_box("https://callpark.example.com/twilio/acme/hold-music"),
                black_box("https://callpark.example.com/twilio/acme/conference-status"),
            )
        });
    });

    let parameters = [
        ("callerNumber", "+14155550100"),
        ("callerName", "Ada Lovelace & Co"),
        ("slot", "3"),
        ("parkedCallId", "0123456789abcdef0123456789abcdef"),
    ];
    c.bench_function("twiml/retrieve", |b| {
        b.iter(|| {
            retrieve(
                black_box("Connecting you now."),
                black_box(Speech {
                    voice: Some("Polly.Amy"),
                    language: None,
                }),
                black_box("bob_2"),
                black_box(Some("+14155550100")),
                black_box(&parameters),
                black_box(20),
                black_box(
                    "https://callpark.example.com/twilio/acme/retrieve/0123456789abcdef/answered",
                ),
                black_box(
                    "https://callpark.example.com/twilio/acme/retrieve/0123456789abcdef/dial-ended",
                ),
            )
        });
    });
}

criterion_group!(benches, documents);
criterion_main!(benches);
