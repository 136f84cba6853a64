//! Hostile input, in volume: 100,000 cases each (set `CALLPARK_HOSTILE_CASES` for more) of
//! arbitrary bytes and Unicode through webhook form decoding, signature validation and TwiML
//! rendering. None may panic; a signature must pass only when it is right; every rendered
//! document must be well-formed XML with exactly the verbs it was built from.

use callpark_twilio::signature;
use callpark_twilio::twiml::documents;
use proptest::prelude::*;
use quick_xml::events::Event;
use secrecy::SecretString;

fn cases() -> u32 {
    std::env::var("CALLPARK_HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// The names of the top-level verbs of a document, or the parse error.
fn verbs(xml: &str) -> Result<Vec<String>, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut depth, mut verbs) = (0usize, Vec::new());
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                if depth == 1 {
                    verbs.push(e.name().as_ref().to_owned());
                }
                depth += 1;
            }
            Event::Empty(e) if depth == 1 => {
                verbs.push(e.name().as_ref().to_owned());
            }
            Event::End(_) => depth = depth.checked_sub(1).ok_or("unbalanced")?,
            Event::Eof => {
                return if depth == 0 {
                    Ok(verbs)
                } else {
                    Err("unclosed".into())
                };
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn any_form_body_decodes_or_is_refused_and_never_validates_without_the_token(
        body in prop::collection::vec(any::<u8>(), 0..96),
        signature in prop::option::of("[A-Za-z0-9+/=]{0,40}"),
    ) {
        let token = SecretString::from("the-real-token");
        if let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
            let url = "https://park.example.com/twilio/call-status";
            let forged = signature::validate_form(&token, url, &params, signature.as_deref());
            let right = signature::compute(&token, url, &params);
            prop_assert!(forged.is_err() || signature.as_deref() == Some(right.as_str()));
            prop_assert!(signature::validate_form(&token, url, &params, Some(&right)).is_ok());
        }
    }

    #[test]
    fn a_signature_passes_only_for_its_own_url_and_parameters(
        url in "https?://[a-z.]{1,12}(:[0-9]{1,5})?/[ -~]{0,24}",
        name in "\\PC{0,12}", value in "\\PC{0,24}", other in "\\PC{1,8}",
        garbage in "\\PC{0,40}",
    ) {
        let token = SecretString::from("tok");
        let params = [(name.as_str(), value.as_str())];
        let good = signature::compute(&token, &url, &params);
        prop_assert!(signature::validate_form(&token, &url, &params, Some(&good)).is_ok());
        let tampered = [(name.as_str(), format!("{value}{other}"))];
        prop_assert!(signature::validate_form(&token, &url, &tampered, Some(&good)).is_err());
        let added = [(name.as_str(), value.as_str()), ("Extra", other.as_str())];
        prop_assert!(signature::validate_form(&token, &url, &added, Some(&good)).is_err());
        let other_url = format!("{url}{other}");
        prop_assert!(signature::validate_form(&token, &other_url, &params, Some(&good)).is_err());
        prop_assert!(signature::validate_form(&SecretString::from("other"), &url, &params, Some(&good)).is_err());
        prop_assert!(signature::validate_form(&token, &url, &params, Some(&garbage)).is_err() || garbage == good);
        prop_assert!(signature::validate_json(&token, &url, garbage.as_bytes(), Some(&good)).is_err());
    }

    #[test]
    fn every_document_is_well_formed_whatever_its_inputs(
        text in "\\PC{0,40}|[\\x00-\\x1f<>&\"'\\]]{0,16}",
        attr in "\\PC{0,40}|[\\x00-\\x1f<>&\"'\\]]{0,16}",
        identity in "[A-Za-z0-9_]{1,16}",
    ) {
        let say = usize::from(documents::has_words(&text));
        let speech = documents::Speech { voice: Some(&attr), language: Some(&attr) };
        let docs = [
            (documents::park(&text, speech, &attr, &attr, &attr), say + 1),
            (documents::retrieve(&text, speech, &identity, Some(&attr), &[(&attr, &text)], 20, &attr, &attr), say + 1),
            (documents::voicemail(&text, speech, &attr, &attr, 120), say + 3),
            (documents::hold_music(&attr), 1),
            (documents::ring_agents(&[&identity, &attr], &attr, 20, &attr, Some(&text)), 1),
            (documents::say_and_hangup(&text, speech), say + 1),
        ];
        for (xml, expected) in docs {
            let verbs = verbs(&xml).map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))?;
            prop_assert_eq!(verbs.len(), expected, "{}", xml);
        }
    }
}
