//! Who may manage what: the administrator (the operator, with the admin token) everything; a
//! supervisor (an agent with that role, by its own token or session) its own organisation; an
//! agent nothing. Another organisation is 404 to a supervisor, as to any agent: nothing leaks.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest};
use callpark_domain::{Agent, OrgSlug, Role};

use crate::auth::{AuthedAgent, Credential, authenticate, bearer, context, credential, guarded};
use crate::error::ApiError;

/// Who asks for a management operation.
#[derive(Debug)]
enum Who {
    Admin,
    Agent(Agent),
}

async fn who(req: &HttpRequest) -> Result<Who, ApiError> {
    let ctx = context(req)?;
    let credential = credential(req).ok_or_else(ApiError::unauthorized)?;
    let admin_token = ctx.settings.admin_token.as_ref();
    // The admin token is no agent's: a bearer that is not it is an agent's, or wrong.
    if let (Credential::Token(_), Some(expected)) = (&credential, admin_token)
        && bearer(req).is_some_and(|given| crate::auth::same_secret(expected, given))
    {
        guarded(req, &ctx, expected)?;
        return Ok(Who::Admin);
    }
    match authenticate(req, &ctx, &credential).await {
        Ok(agent) => Ok(Who::Agent(agent)),
        Err(e) if admin_token.is_none() && e.code() == "unauthorized" => Err(disabled()),
        Err(e) => Err(e),
    }
}

fn disabled() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "admin_disabled",
        "the admin API is disabled: set CALLPARK_ADMIN_TOKEN",
    )
}

pub(crate) fn forbidden(needs: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("this needs {needs}"),
    )
}

/// The administrator, proven by the admin token.
#[derive(Debug)]
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match who(&req).await? {
                Who::Admin => Ok(Admin),
                Who::Agent(_) => Err(forbidden("the admin token")),
            }
        })
    }
}

/// The administrator, or a supervisor, for the organisations it may manage.
#[derive(Debug)]
pub enum Manager {
    /// Manages every organisation.
    Admin,
    /// Manages its own organisation.
    Supervisor(Agent),
}

impl Manager {
    /// `Ok` when it may manage `org`; another organisation is 404, as if it did not exist.
    pub fn may_manage(&self, org: &OrgSlug) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Supervisor(agent) if &agent.org == org => Ok(()),
            Self::Supervisor(_) => {
                Err(ApiError::not_found("org_not_found", "no such organisation"))
            }
        }
    }
}

impl FromRequest for Manager {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match who(&req).await? {
                Who::Admin => Ok(Self::Admin),
                Who::Agent(agent) if agent.role == Role::Supervisor => Ok(Self::Supervisor(agent)),
                Who::Agent(_) => Err(forbidden(
                    "a supervisor of the organisation, or the admin token",
                )),
            }
        })
    }
}

/// A supervisor, for what concerns its own organisation only (the admin token is no
/// organisation's): an agent without the role is 403.
#[derive(Debug)]
pub struct Supervisor(pub Agent);

impl FromRequest for Supervisor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let agent = AuthedAgent::from_request(req, payload);
        Box::pin(async move {
            let AuthedAgent(agent) = agent.await?;
            if agent.role == Role::Supervisor {
                Ok(Self(agent))
            } else {
                Err(forbidden("a supervisor of the organisation"))
            }
        })
    }
}
