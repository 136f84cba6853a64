//! How to reach Twilio's REST API, and as whom.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use thiserror::Error;

use crate::sid::is_sid;

/// Why a configuration value was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The account SID is not `AC` followed by 32 lowercase hex digits.
    #[error("invalid Twilio account SID: expected \"AC\" followed by 32 lowercase hex digits")]
    InvalidAccountSid,
    /// The API base is not an absolute `http(s)://host` URL, or it carries credentials, a
    /// query or a fragment (the paths are appended to it).
    #[error("invalid Twilio API base URL: expected http(s)://host[:port][/path]")]
    InvalidApiBase,
}

/// A Twilio account SID (`AC` + 32 hex digits): the account every REST path is under.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccountSid(String);

impl AccountSid {
    /// Parses an account SID.
    ///
    /// # Errors
    /// [`ConfigError::InvalidAccountSid`] unless the input is `AC` + 32 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        if is_sid(s, "AC") {
            Ok(Self(s.to_owned()))
        } else {
            Err(ConfigError::InvalidAccountSid)
        }
    }

    /// The SID as Twilio writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountSid({})", self.0)
    }
}

/// Everything [`crate::TwilioClient`] needs. `Debug` shows the auth token as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// Scheme, host and optional path prefix of the REST API, without a trailing slash
    /// (one is tolerated). Tests point it at a local mock server.
    pub api_base: String,
    /// The account whose calls are managed; also the Basic-auth user name.
    pub account_sid: AccountSid,
    /// The account's auth token: the Basic-auth password. Never logged.
    pub auth_token: SecretString,
    /// How long establishing a connection may take.
    pub connect_timeout: Duration,
    /// How long one whole attempt (connect, send, answer) may take.
    pub request_timeout: Duration,
    /// How many times one request is sent at most, counting the first (0 is taken as 1).
    /// Only requests Twilio certainly did not act on are sent again.
    pub max_attempts: u32,
    /// The backoff before the second attempt; it doubles for each further one, with jitter.
    pub retry_base_delay: Duration,
    /// The longest backoff between two attempts.
    pub retry_max_delay: Duration,
}

impl TwilioConfig {
    /// Twilio's public REST API.
    pub const DEFAULT_API_BASE: &'static str = "https://api.twilio.com";

    /// A configuration for Twilio's public API with production defaults: 5 s to connect,
    /// 10 s per attempt, 3 attempts, backoff from 250 ms up to 2 s.
    ///
    /// The per-attempt timeout stays well under Twilio's 15 s webhook window, so a caller
    /// that retries once still answers in time.
    pub fn new(account_sid: AccountSid, auth_token: SecretString) -> Self {
        Self {
            api_base: Self::DEFAULT_API_BASE.to_owned(),
            account_sid,
            auth_token,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_attempts: 3,
            retry_base_delay: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(2),
        }
    }

    /// Replaces the API base (e.g. a regional edge, or a mock server in tests).
    #[must_use]
    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into();
        self
    }

    /// The API base without its trailing slash, once checked.
    pub(crate) fn checked_api_base(&self) -> Result<&str, ConfigError> {
        let base = self.api_base.strip_suffix('/').unwrap_or(&self.api_base);
        let rest = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .ok_or(ConfigError::InvalidApiBase)?;
        let host = rest.split('/').next().unwrap_or_default();
        // Credentials in the base would end up in error messages and logs (reqwest prints
        // URLs); the account's own credentials go in the Authorization header instead.
        let bad = host.is_empty()
            || host.contains('@')
            || rest.contains(['?', '#'])
            || rest.chars().any(|c| c.is_whitespace() || c.is_control());
        if bad {
            Err(ConfigError::InvalidApiBase)
        } else {
            Ok(base)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base: &str) -> TwilioConfig {
        TwilioConfig::new(
            AccountSid::parse("AC0123456789abcdef0123456789abcdef").unwrap(),
            SecretString::from("s3cr3t-token"),
        )
        .with_api_base(base)
    }

    #[test]
    fn debug_redacts_the_auth_token() {
        let shown = format!("{:?}", config(TwilioConfig::DEFAULT_API_BASE));
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(
            shown.contains("AC0123456789abcdef0123456789abcdef"),
            "{shown}"
        );
    }

    #[test]
    fn account_sids_are_validated() {
        assert!(AccountSid::parse("AC0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "AC",
            "CA0123456789abcdef0123456789abcdef",
            "AC0123456789ABCDEF0123456789ABCDEF",
            "AC0123456789abcdef0123456789abcde",
        ] {
            assert_eq!(
                AccountSid::parse(bad),
                Err(ConfigError::InvalidAccountSid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_api_base_must_be_a_bare_http_url() {
        assert_eq!(
            config("https://api.twilio.com/").checked_api_base(),
            Ok("https://api.twilio.com")
        );
        assert_eq!(
            config("http://127.0.0.1:8080/prefix").checked_api_base(),
            Ok("http://127.0.0.1:8080/prefix")
        );
        for bad in [
            "api.twilio.com",
            "https://",
            "https:///x",
            "https://user:pw@api.twilio.com",
            "https://api.twilio.com?x=1",
            "https://api.twilio.com/a b",
        ] {
            assert_eq!(
                config(bad).checked_api_base(),
                Err(ConfigError::InvalidApiBase),
                "{bad:?}"
            );
        }
    }
}
