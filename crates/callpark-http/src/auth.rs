//! Who is asking: agents by their API token (a bearer header) or by the session of a page
//! they signed in on (the session cookie, since `EventSource` cannot send headers), the
//! administrator by the admin token.
//!
//! The cookie never holds the API token: signing in starts a server-side session, stored
//! hashed, which expires and which signing out ends at once. A request that changes state on
//! the strength of the cookie alone must come from the service's own page: its `Origin` is the
//! service's, and it says it sends JSON, which no cross-site form can.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use callpark_domain::{Agent, TokenHash};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::HttpContext;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "callpark_session";

/// A fresh secret: 244 random bits from the OS generator (two v4 UUIDs), prefixed so a leaked
/// one is recognisable in logs and secret scanners.
fn new_secret(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().as_simple(),
        uuid::Uuid::new_v4().as_simple()
    )
}

/// A fresh agent API token.
pub fn new_token() -> String {
    new_secret("cpk_")
}

/// A fresh session secret, what the session cookie holds.
pub fn new_session() -> String {
    new_secret("cps_")
}

/// What the store keeps of a token or session secret. A lookup by this digest reveals nothing
/// about the secret's bytes, so no constant-time comparison of secrets is needed.
pub fn token_hash(token: &str) -> TokenHash {
    TokenHash::from_bytes(Sha256::digest(token.as_bytes()).into())
}

pub(crate) fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// What a request proves who it is with.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// An API token, in the bearer header.
    Token(TokenHash),
    /// A page's session, in the cookie (and no bearer header).
    Session(TokenHash),
}

/// The credential a request carries: the bearer header first, else the session cookie.
pub(crate) fn credential(req: &HttpRequest) -> Option<Credential> {
    if let Some(token) = bearer(req) {
        return Some(Credential::Token(token_hash(token)));
    }
    req.cookie(SESSION_COOKIE)
        .filter(|c| !c.value().is_empty())
        .map(|c| Credential::Session(token_hash(c.value())))
}

/// The session cookie: HTTP-only, same-site strict (so no other site can make the browser send
/// it), secure when the service is served over https.
pub fn session_cookie(secret: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, secret.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// The headers of every `/api` and `/admin` answer: they carry callers' numbers and tokens,
/// which no cache may keep, and JSON no browser may sniff into anything else.
pub(crate) fn private_answers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

/// A cookie-authenticated request that would change state is refused unless it comes from the
/// service's own page: its `Origin` is the service's public origin, and it sends JSON.
fn from_own_page(req: &HttpRequest, ctx: &HttpContext) -> Result<(), ApiError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
    if origin == Some(ctx.routes.origin()) && json {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_origin",
        "a request signed in by the session cookie must come from this service's own page \
         (its Origin) and send application/json",
    ))
}

impl Credential {
    /// The agent it still proves, if any: a live stream asks again from time to time, so that
    /// signing out, a revoked token or an expired session ends it.
    pub(crate) async fn agent(&self, ctx: &HttpContext) -> Result<Option<Agent>, ApiError> {
        Ok(match self {
            Self::Token(hash) => ctx.service.authenticate(hash).await?,
            Self::Session(hash) => {
                ctx.service
                    .session_agent(hash, ctx.settings.sessions)
                    .await?
            }
        })
    }
}

/// The authenticated agent of a request.
#[derive(Debug)]
pub struct AuthedAgent(pub Agent);

impl FromRequest for AuthedAgent {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let ctx = context(&req)?;
            let credential = credential(&req).ok_or_else(ApiError::unauthorized)?;
            authenticate(&req, &ctx, &credential).await.map(AuthedAgent)
        })
    }
}

/// The service's context, as every handler has it.
pub(crate) fn context(req: &HttpRequest) -> Result<web::Data<HttpContext>, ApiError> {
    req.app_data::<web::Data<HttpContext>>()
        .cloned()
        .ok_or_else(|| ApiError::invalid("misconfigured application"))
}

/// The agent `credential` proves: throttled, from the service's own page when it is the
/// cookie, and noted as a sign of life.
pub(crate) async fn authenticate(
    req: &HttpRequest,
    ctx: &HttpContext,
    credential: &Credential,
) -> Result<Agent, ApiError> {
    ctx.failed_logins.check(req)?;
    if let Credential::Session(_) = credential {
        from_own_page(req, ctx)?;
    }
    let Some(agent) = credential.agent(ctx).await? else {
        ctx.failed_logins.failed(req);
        return Err(ApiError::unauthorized());
    };
    ctx.seen.note(&ctx.service, &agent).await;
    Ok(agent)
}

/// `given` is `configured`'s secret, compared in constant time.
pub(crate) fn same_secret(configured: &SecretString, given: &str) -> bool {
    bool::from(
        configured
            .expose_secret()
            .as_bytes()
            .ct_eq(given.as_bytes()),
    )
}

/// The request's bearer token is `configured`'s secret; a wrong one counts towards the
/// client's throttle, a missing one does not.
pub(crate) fn guarded(
    req: &HttpRequest,
    ctx: &HttpContext,
    configured: &SecretString,
) -> Result<(), ApiError> {
    let given = bearer(req).ok_or_else(ApiError::unauthorized)?;
    ctx.failed_logins.check(req)?;
    if same_secret(configured, given) {
        Ok(())
    } else {
        ctx.failed_logins.failed(req);
        Err(ApiError::unauthorized())
    }
}

/// The metrics scraper, proven by the metrics token. Without one configured, nobody is.
#[derive(Debug)]
pub struct MetricsScraper;

impl FromRequest for MetricsScraper {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<HttpContext>>();
        let result = match ctx.map(|c| (c, c.settings.metrics_token.as_ref())) {
            None | Some((_, None)) => Err(ApiError::not_found(
                "metrics_disabled",
                "metrics are off: set CALLPARK_METRICS_TOKEN and scrape with it",
            )),
            Some((ctx, Some(expected))) => guarded(req, ctx, expected).map(|()| MetricsScraper),
        };
        std::future::ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("cpk_") && a.len() == 68);
        assert!(new_session().starts_with("cps_") && new_session().len() == 68);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
