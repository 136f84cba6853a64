//! Where to reach something: phone numbers and URLs.

use std::fmt;

use super::InvalidValue;

/// A phone number in E.164: `+`, then 2 to 15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// # Errors
    /// [`InvalidValue`] when not in E.164 form.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let digits = s.strip_prefix('+').ok_or(InvalidValue::new(
            "phone number",
            "must start with '+' (E.164)",
        ))?;
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new(
                "phone number",
                "must be '+' and 2 to 15 digits, the first not zero (E.164)",
            ))
        }
    }

    /// The number, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An absolute `http` or `https` URL: hold music, and every URL handed to Twilio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// # Errors
    /// [`InvalidValue`] unless the input starts with `http://` or `https://` followed by a host,
    /// and holds no whitespace or control characters.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or(InvalidValue::new(
                "URL",
                "must start with http:// or https://",
            ))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(InvalidValue::new("URL", "must name a host"));
        }
        if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new(
                "URL",
                "must be at most 2048 characters without whitespace",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
