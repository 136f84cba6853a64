//! Twilio SIDs: a two-letter prefix naming the resource kind, then 32 lowercase hex digits.

/// Whether `s` is a SID of the kind `prefix` names. Lowercase hex only, as Twilio issues them
/// and as `callpark-domain` checks call SIDs, so one SID never has two spellings.
pub(crate) fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34
        && s.starts_with(prefix)
        && s.as_bytes()[2..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

#[cfg(test)]
mod tests {
    use super::is_sid;

    #[test]
    fn a_sid_is_its_prefix_and_32_lowercase_hex_digits() {
        let hex = "0123456789abcdef0123456789abcdef";
        assert!(is_sid(&format!("AC{hex}"), "AC"));
        assert!(!is_sid(&format!("SK{hex}"), "AC"));
        assert!(!is_sid(&format!("AC{}", hex.to_uppercase()), "AC"));
        assert!(!is_sid(&format!("AC{hex}0"), "AC"));
        assert!(!is_sid(&format!("AC{}", &hex[1..]), "AC"));
        assert!(!is_sid(&format!("AC{}g", &hex[1..]), "AC"));
        assert!(!is_sid("", "AC"));
    }
}
