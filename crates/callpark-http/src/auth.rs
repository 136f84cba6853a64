//! Who is asking: agents by their API token (a bearer header, or the session cookie the web
//! page gets when it signs in, since `EventSource` cannot send headers), the administrator by
//! the admin token.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use callpark_domain::{Agent, TokenHash};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::HttpContext;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "callpark_session";

/// A fresh agent API token: 244 random bits from the OS generator (two v4 UUIDs), prefixed so
/// a leaked one is recognisable in logs and secret scanners.
pub fn new_token() -> String {
    format!(
        "cpk_{}{}",
        uuid::Uuid::new_v4().as_simple(),
        uuid::Uuid::new_v4().as_simple()
    )
}

/// What the store keeps of a token. A lookup by this digest reveals nothing about the token's
/// bytes, so no constant-time comparison of tokens is needed.
pub fn token_hash(token: &str) -> TokenHash {
    TokenHash::from_bytes(Sha256::digest(token.as_bytes()).into())
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The token a request carries: the bearer header first, else the session cookie.
pub(crate) fn presented_token(req: &HttpRequest) -> Option<String> {
    bearer(req)
        .map(str::to_owned)
        .or_else(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty())
}

/// The session cookie for a token: HTTP-only, same-site strict (so no other site can make the
/// browser send it), secure when the service is served over https.
pub fn session_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// The authenticated agent of a request.
#[derive(Debug)]
pub struct AuthedAgent(pub Agent);

impl FromRequest for AuthedAgent {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<HttpContext>>().cloned();
        let token = presented_token(req);
        Box::pin(async move {
            let ctx = ctx.ok_or_else(|| ApiError::invalid("misconfigured application"))?;
            let token = token.ok_or_else(ApiError::unauthorized)?;
            ctx.service
                .authenticate(&token_hash(&token))
                .await?
                .map(AuthedAgent)
                .ok_or_else(ApiError::unauthorized)
        })
    }
}

/// The administrator, proven by the admin token (compared in constant time).
#[derive(Debug)]
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<HttpContext>>();
        let configured = ctx.and_then(|c| c.settings.admin_token.as_ref());
        let result = match (configured, bearer(req)) {
            (None, _) => Err(ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "admin_disabled",
                "the admin API is disabled: set CALLPARK_ADMIN_TOKEN",
            )),
            (Some(expected), Some(given))
                if bool::from(expected.expose_secret().as_bytes().ct_eq(given.as_bytes())) =>
            {
                Ok(Admin)
            }
            _ => Err(ApiError::unauthorized()),
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
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
