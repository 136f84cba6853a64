//! The value types' rules.

use super::*;

const SID_HEX: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn sids_need_their_prefix_and_32_lowercase_hex_digits() {
    assert!(CallSid::parse(&format!("CA{SID_HEX}")).is_ok());
    assert!(ConferenceSid::parse(&format!("CF{SID_HEX}")).is_ok());
    for bad in [
        format!("CF{SID_HEX}"),
        format!("ca{SID_HEX}"),
        format!("CA{}", &SID_HEX[1..]),
        format!("CA{SID_HEX}0"),
        format!("CA{}", SID_HEX.to_uppercase()),
        "CA".to_owned(),
        String::new(),
        format!("CA{}g", &SID_HEX[1..]),
    ] {
        assert!(CallSid::parse(&bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(CallSid::parse("x").unwrap_err().kind(), "call SID");
}

#[test]
fn slot_numbers_are_1_to_999() {
    assert!(SlotNumber::new(0).is_err());
    assert_eq!(SlotNumber::new(1).unwrap().get(), 1);
    assert_eq!(SlotNumber::new(999).unwrap().get(), 999);
    assert!(SlotNumber::new(1000).is_err());
    assert!(SlotNumber::new(65_537).is_err());
    let lot = LotSize::new(3).unwrap();
    assert!(lot.contains(SlotNumber::new(3).unwrap()));
    assert!(!lot.contains(SlotNumber::new(4).unwrap()));
    assert_eq!(
        lot.slots().map(SlotNumber::get).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn agent_identities_follow_the_mobile_sdk_rule() {
    assert!(AgentIdentity::parse("alice_01").is_ok());
    assert!(AgentIdentity::parse(&"a".repeat(64)).is_ok());
    for bad in [
        "",
        "alice smith",
        "alice-b",
        "élodie",
        "a.b",
        &"a".repeat(65),
    ] {
        assert!(AgentIdentity::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn org_slugs_are_lowercase_url_safe() {
    assert!(OrgSlug::parse("acme-support").is_ok());
    for bad in [
        "",
        "Acme",
        "-acme",
        "acme_x",
        "acme support",
        &"a".repeat(64),
    ] {
        assert!(OrgSlug::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn phone_numbers_are_e164() {
    assert!(PhoneNumber::parse("+14155550100").is_ok());
    for bad in [
        "14155550100",
        "+",
        "+0123",
        "+1415555010012345",
        "+1 415",
        "+1a",
    ] {
        assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn display_texts_are_trimmed_and_bounded() {
    assert_eq!(
        CallerName::parse("  Ada Lovelace ").unwrap().as_str(),
        "Ada Lovelace"
    );
    assert!(CallerName::parse("   ").is_err());
    assert!(CallerName::parse("a\u{0007}b").is_err());
    assert!(CallerName::parse(&"é".repeat(64)).is_ok());
    assert!(CallerName::parse(&"é".repeat(65)).is_err());
}

#[test]
fn urls_must_be_absolute_http() {
    assert!(HttpUrl::parse("https://example.com/hold.mp3").is_ok());
    for bad in [
        "ftp://x",
        "https://",
        "https:///x",
        "example.com",
        "https://a b",
    ] {
        assert!(HttpUrl::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn conference_names_lead_back_to_the_parked_call_and_carry_no_personal_data() {
    let id = ParkedCallId::random();
    let name = id.conference_name();
    assert!(name.starts_with("park-") && name.len() == 37);
    assert_eq!(ParkedCallId::from_conference_name(&name), Some(id));
    assert_eq!(
        ParkedCallId::from_conference_name("park-+14155550100"),
        None
    );
    assert_eq!(ParkedCallId::from_conference_name("other"), None);
}

#[test]
fn client_identities_are_unique_across_organisations_and_read_back() {
    let alice = AgentIdentity::parse("alice").unwrap();
    let (acme, globex) = (
        OrgSlug::parse("acme").unwrap(),
        OrgSlug::parse("globex-2").unwrap(),
    );
    let ours = ClientIdentity::of(&acme, &alice);
    let theirs = ClientIdentity::of(&globex, &alice);
    assert_ne!(ours.to_string(), theirs.to_string());
    assert_eq!(ours.to_string(), "acme.alice");
    assert_eq!(ClientIdentity::parse("globex-2.alice").unwrap(), theirs);
    assert_eq!(theirs.org(), &globex);
    assert_eq!(theirs.agent(), &alice);
    // The longest possible identity is within Twilio's 256 characters.
    let longest = ClientIdentity::of(
        &OrgSlug::parse(&"o".repeat(63)).unwrap(),
        &AgentIdentity::parse(&"a".repeat(64)).unwrap(),
    );
    assert!(longest.to_string().len() <= 256);
    assert!(
        longest
            .to_string()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    );
    for bad in [
        "alice",
        "acme.",
        ".alice",
        "Acme.alice",
        "acme.al-ice",
        "acme.a.b",
    ] {
        assert!(ClientIdentity::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn languages_are_shaped_as_say_takes_them() {
    for good in [
        "en",
        "en-US",
        "en-GB",
        "fr-CA",
        "cmn-CN",
        "de-DE",
        "zh-Hant-TW",
        "es-419",
    ] {
        assert_eq!(
            Language::parse(good).map(|l| l.to_string()),
            Ok(good.to_owned())
        );
    }
    for bad in [
        "",
        "e",
        "english",
        "en_GB",
        "en-",
        "-en",
        "en--GB",
        "en-G",
        "en GB",
        "en-GB\"><Hangup/>",
        "en-abcdefghi",
        "fr-CA-abcdefgh-abcdefgh-abcdefgh-x12",
    ] {
        assert!(Language::parse(bad).is_err(), "{bad:?} accepted");
    }
}
