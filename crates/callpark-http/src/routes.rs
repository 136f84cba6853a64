//! The public URLs of the webhook endpoints, built from the configured public base URL (never
//! from the Host header, which a proxy may rewrite: Twilio signs the URL it requested).

use callpark_domain::{HttpUrl, InvalidValue, ParkedCallId, WebhookUrls};

/// Every path Twilio is sent to. The handlers are mounted on exactly these.
pub mod paths {
    pub const VOICE: &str = "/twilio/voice";
    pub const CALL_STATUS: &str = "/twilio/call-status";
    pub const INBOUND_DIAL_RESULT: &str = "/twilio/inbound-dial-result";
    pub const CONFERENCE_STATUS: &str = "/twilio/conference-status";
    pub const PARK: &str = "/twilio/park/{id}";
    pub const HOLD: &str = "/twilio/hold/{id}";
    pub const RETRIEVE: &str = "/twilio/retrieve/{id}";
    /// A retrieve's callbacks name its attempt (`ParkedCall::attempt`): a late one of an
    /// earlier attempt changes nothing.
    pub const RETRIEVE_ANSWERED: &str = "/twilio/retrieve/{id}/{attempt}/answered";
    pub const DIAL_RESULT: &str = "/twilio/dial-result/{id}/{attempt}";
    pub const VOICEMAIL: &str = "/twilio/voicemail/{id}";
    pub const VOICEMAIL_DONE: &str = "/twilio/voicemail/{id}/done";
    pub const RECORDING: &str = "/twilio/recording/{id}";

    /// A templated path (`PARK`, `HOLD`, …) for one parked call.
    pub fn with_id(template: &str, id: impl std::fmt::Display) -> String {
        template.replace("{id}", &id.to_string())
    }

    /// A templated path of a retrieve's callbacks, for one attempt of one parked call.
    pub fn with_attempt(template: &str, id: impl std::fmt::Display, attempt: u32) -> String {
        with_id(template, id).replace("{attempt}", &attempt.to_string())
    }
}

/// `scheme://host[:port]` of an absolute URL, lowercase, without a default port.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let default_port = match scheme {
        "https" => ":443",
        _ => ":80",
    };
    let host = authority.strip_suffix(default_port).unwrap_or(authority);
    format!("{scheme}://{host}").to_ascii_lowercase()
}

/// The public base URL and the webhook URLs under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    base: String,
    origin: String,
}

impl Routes {
    /// # Errors
    /// [`InvalidValue`] unless `public_url` is an absolute http(s) URL.
    pub fn new(public_url: &str) -> Result<Self, InvalidValue> {
        let base = HttpUrl::parse(public_url.trim_end_matches('/'))?;
        Ok(Self {
            origin: origin_of(base.as_str()),
            base: base.as_str().to_owned(),
        })
    }

    /// The service's origin as a browser sends it in `Origin`: scheme, host and any port
    /// other than the scheme's default, without the path.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of a request path (with its query), as Twilio requested it.
    pub fn absolute(&self, path_and_query: &str) -> String {
        let mut url = String::with_capacity(self.base.len() + path_and_query.len());
        url.push_str(&self.base);
        url.push_str(path_and_query);
        url
    }

    fn url(&self, path: &str) -> HttpUrl {
        HttpUrl::parse(&self.absolute(path)).expect("the base is a valid URL and paths are fixed")
    }

    fn with_id(&self, template: &str, id: ParkedCallId) -> HttpUrl {
        self.url(&paths::with_id(template, id))
    }

    pub fn voice(&self) -> HttpUrl {
        self.url(paths::VOICE)
    }

    pub fn inbound_dial_result(&self) -> HttpUrl {
        self.url(paths::INBOUND_DIAL_RESULT)
    }

    pub fn conference_status(&self) -> HttpUrl {
        self.url(paths::CONFERENCE_STATUS)
    }

    pub fn hold(&self, id: ParkedCallId) -> HttpUrl {
        self.with_id(paths::HOLD, id)
    }

    pub fn retrieve_answered(&self, id: ParkedCallId, attempt: u32) -> HttpUrl {
        self.url(&paths::with_attempt(paths::RETRIEVE_ANSWERED, id, attempt))
    }

    pub fn dial_result(&self, id: ParkedCallId, attempt: u32) -> HttpUrl {
        self.url(&paths::with_attempt(paths::DIAL_RESULT, id, attempt))
    }

    pub fn voicemail_done(&self, id: ParkedCallId) -> HttpUrl {
        self.with_id(paths::VOICEMAIL_DONE, id)
    }

    pub fn recording(&self, id: ParkedCallId) -> HttpUrl {
        self.with_id(paths::RECORDING, id)
    }
}

impl WebhookUrls for Routes {
    fn park(&self, id: ParkedCallId) -> HttpUrl {
        self.with_id(paths::PARK, id)
    }

    fn retrieve(&self, id: ParkedCallId) -> HttpUrl {
        self.with_id(paths::RETRIEVE, id)
    }

    fn voicemail(&self, id: ParkedCallId) -> HttpUrl {
        self.with_id(paths::VOICEMAIL, id)
    }

    fn call_status(&self) -> HttpUrl {
        self.url(paths::CALL_STATUS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_what_a_browser_sends() {
        for (base, origin) in [
            ("https://park.example.com/", "https://park.example.com"),
            (
                "https://Park.Example.com:443/callpark",
                "https://park.example.com",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:80/x?y", "http://localhost"),
            ("https://host:8443/", "https://host:8443"),
        ] {
            assert_eq!(Routes::new(base).unwrap().origin(), origin, "{base}");
        }
    }

    #[test]
    fn urls_hang_off_the_public_base_without_double_slashes() {
        let routes = Routes::new("https://park.example.com/").unwrap();
        let id = ParkedCallId::parse("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        assert_eq!(
            routes.park(id).as_str(),
            "https://park.example.com/twilio/park/67e55044-10b1-426f-9247-bb680e5fe0c8"
        );
        assert_eq!(
            routes.call_status().as_str(),
            "https://park.example.com/twilio/call-status"
        );
        assert!(Routes::new("park.example.com").is_err());
    }
}
