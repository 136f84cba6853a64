//! Escaping text for XML 1.0, so that no input can break out of the element or attribute it
//! is written into.

/// Whether XML 1.0 can carry `c` at all (its `Char` production). Rust strings hold no
/// surrogates, so only C0 controls other than tab, line feed and carriage return, and the
/// non-characters U+FFFE and U+FFFF, are out.
pub(crate) fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Appends `s` as element content: the five markup characters as entities, carriage returns
/// as a character reference (a parser would turn a literal one into a line feed), characters
/// XML cannot carry dropped.
pub(crate) fn text(out: &mut String, s: &str) {
    escape(out, s, false);
}

/// Appends `s` as a double-quoted attribute value. Besides what [`text`] does, tabs and line
/// breaks become character references, because a parser replaces literal ones with spaces
/// (attribute-value normalisation) and the value would not come back as written.
pub(crate) fn attribute(out: &mut String, s: &str) {
    escape(out, s, true);
}

fn escape(out: &mut String, s: &str, in_attribute: bool) {
    let bytes = s.as_bytes();
    // Copy clean runs in one go: most inputs (URLs, names) need no escaping at all.
    let mut clean_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (replacement, width): (&str, usize) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            b'\r' => ("&#13;", 1),
            b'\n' if in_attribute => ("&#10;", 1),
            b'\t' if in_attribute => ("&#9;", 1),
            b'\n' | b'\t' => {
                i += 1;
                continue;
            }
            0..=0x1f => ("", 1),
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
            0xef if bytes.get(i + 1) == Some(&0xbf)
                && matches!(bytes.get(i + 2), Some(0xbe | 0xbf)) =>
            {
                ("", 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[clean_from..i]);
        out.push_str(replacement);
        i += width;
        clean_from = i;
    }
    out.push_str(&s[clean_from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> String {
        let mut out = String::new();
        text(&mut out, s);
        out
    }

    fn a(s: &str) -> String {
        let mut out = String::new();
        attribute(&mut out, s);
        out
    }

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(
            t(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(t("]]>"), "]]&gt;");
        assert_eq!(a("a\"b'c"), "a&quot;b&apos;c");
    }

    #[test]
    fn clean_text_is_copied_unchanged() {
        assert_eq!(t("Hello, wörld ✓ 😀"), "Hello, wörld ✓ 😀");
        assert_eq!(a("https://example.com/x?y=1"), "https://example.com/x?y=1");
    }

    #[test]
    fn line_breaks_survive_parsing() {
        assert_eq!(t("a\nb\tc\rd"), "a\nb\tc&#13;d");
        assert_eq!(a("a\nb\tc\rd"), "a&#10;b&#9;c&#13;d");
    }

    #[test]
    fn characters_xml_cannot_carry_are_dropped() {
        assert_eq!(
            t("a\u{0}b\u{1b}c\u{7}\u{fffe}d\u{ffff}e\u{fffd}"),
            "abcde\u{fffd}"
        );
        assert_eq!(a("\u{0}\u{1f}"), "");
        assert!(!is_xml_char('\u{b}'));
        assert!(is_xml_char('\t') && is_xml_char('\u{7f}') && is_xml_char('\u{10ffff}'));
    }
}
