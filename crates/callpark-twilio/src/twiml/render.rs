//! Writing attributes into a document being rendered: each one escaped, or one of our own
//! constants written as it is.

use super::{Method, escape};

/// The length of an optional string, for size hints.
pub(super) fn len(s: Option<&str>) -> usize {
    s.map_or(0, str::len)
}

pub(super) fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape::attribute(out, value);
    out.push('"');
}

/// An attribute whose value is one of our own constants, which need no escaping.
pub(super) fn attr_raw(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(value);
    out.push('"');
}

pub(super) fn attr_opt(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        attr(out, name, value);
    }
}

pub(super) fn attr_method(out: &mut String, name: &str, method: Option<Method>) {
    if let Some(method) = method {
        attr_raw(out, name, method.as_str());
    }
}

pub(super) fn attr_bool_opt(out: &mut String, name: &str, value: Option<bool>) {
    if let Some(value) = value {
        attr_raw(out, name, if value { "true" } else { "false" });
    }
}

pub(super) fn attr_num_opt(out: &mut String, name: &str, value: Option<u32>) {
    if let Some(value) = value {
        // Formatting through `fmt` would be fine too; this keeps rendering free of it.
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut n = value;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        for &d in &digits[at..] {
            out.push(char::from(d));
        }
        out.push('"');
    }
}

pub(super) fn attr_events<'e>(out: &mut String, name: &str, events: impl Iterator<Item = &'e str>) {
    let mut events = events.peekable();
    if events.peek().is_none() {
        return;
    }
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for (i, event) in events.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(event);
    }
    out.push('"');
}

/// Drops the characters XML 1.0 cannot carry, as rendering does: what a parser reads back
/// from a rendered document is exactly this.
pub fn xml_safe(s: &str) -> String {
    s.chars().filter(|&c| escape::is_xml_char(c)).collect()
}
