//! Repeated wrong credentials are throttled: a client that presents the configured number of
//! wrong tokens (agent, session, admin or metrics; [`DEFAULT_MAX_FAILURES`]) within [`WINDOW`]
//! is answered 429, with
//! `Retry-After`, until the window has passed, however right its next token is. Guessing a
//! token is then hopeless; a request without any credential is a plain 401 and not counted.
//!
//! The client is the peer's address; behind a reverse proxy on the same host (the peer is a
//! loopback address) it is the address the proxy appended to `X-Forwarded-For`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::http::StatusCode;

use crate::error::ApiError;

/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Wrong credentials a client may present in one window, unless configured otherwise.
pub const DEFAULT_MAX_FAILURES: u32 = 10;
/// Clients remembered at most; beyond, windows that have passed are forgotten first.
const MAX_CLIENTS: usize = 100_000;

/// Wrong credentials per client: when its window began, and how many.
#[derive(Debug)]
pub struct FailedLogins {
    max_failures: u32,
    clients: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailedLogins {
    /// Allows `max_failures` wrong credentials per client and window.
    pub fn new(max_failures: u32) -> Self {
        Self {
            max_failures: max_failures.max(1),
            clients: Mutex::default(),
        }
    }

    fn clients(&self) -> MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 429 while `req`'s client has used up its failures.
    pub(crate) fn check(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(client) = client_of(req) else {
            return Ok(());
        };
        let now = Instant::now();
        match self.clients().get(&client) {
            Some((since, failures)) if *failures >= self.max_failures => {
                let left = WINDOW.saturating_sub(now.duration_since(*since));
                if left.is_zero() {
                    Ok(())
                } else {
                    Err(too_many(left))
                }
            }
            _ => Ok(()),
        }
    }

    /// `req`'s client presented a wrong credential.
    pub(crate) fn failed(&self, req: &HttpRequest) {
        let Some(client) = client_of(req) else {
            return;
        };
        let now = Instant::now();
        let mut clients = self.clients();
        if clients.len() >= MAX_CLIENTS {
            clients.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
        }
        let entry = clients.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

fn too_many(left: Duration) -> ApiError {
    let seconds = u32::try_from(left.as_secs() + 1).unwrap_or(u32::MAX);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many wrong tokens from this address: try again in {seconds} s"),
    )
    .retry_after(seconds)
}

/// Who is asking: the peer, or the client a local reverse proxy forwards for.
fn client_of(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !peer.is_loopback() {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("X-Forwarded-For")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    Some(forwarded.unwrap_or(peer))
}
