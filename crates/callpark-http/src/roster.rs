//! Managing an organisation's agents, by the administrator or the organisation's supervisors:
//! list them, add one (its token shown once), change its name and role, rotate or revoke its
//! token, deactivate it.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use callpark_domain::{AgentChange, AgentIdentity, DisplayName, NewAgent, OrgSlug, Role};
use time::OffsetDateTime;

use crate::HttpContext;
use crate::auth::{new_token, token_hash};
use crate::body::JsonBody;
use crate::dto::{
    AgentChangeBody, ManagedAgentDto, NewAgentBody, NewAgentDto, NewTokenBody, rfc3339,
};
use crate::error::{ApiError, only};
use crate::manager::Manager;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orgs/{slug}/agents")
            .post(create_agent)
            .get(list_agents)
            .default_service(only("GET, POST")),
    )
    .service(
        web::resource("/orgs/{slug}/agents/{identity}")
            .patch(change_agent)
            .delete(deactivate_agent)
            .default_service(only("PATCH, DELETE")),
    )
    .service(
        web::resource("/orgs/{slug}/agents/{identity}/token")
            .post(rotate_token)
            .delete(revoke_token)
            .default_service(only("POST, DELETE")),
    );
}

/// The wire name of a role, and back.
fn parse_role(name: &str) -> Result<Role, ApiError> {
    match name {
        "agent" => Ok(Role::Agent),
        "supervisor" => Ok(Role::Supervisor),
        other => Err(ApiError::invalid(format!(
            "role must be \"agent\" or \"supervisor\", not {other:?}"
        ))),
    }
}

/// The organisation a path names, if the manager may manage it.
fn managed_org(manager: &Manager, slug: &str) -> Result<OrgSlug, ApiError> {
    let org = OrgSlug::parse(slug)?;
    manager.may_manage(&org)?;
    Ok(org)
}

/// The agent a `/orgs/{slug}/agents/{identity}` path names, if the manager may manage it.
fn managed_agent(
    manager: &Manager,
    path: &(String, String),
) -> Result<(OrgSlug, AgentIdentity), ApiError> {
    Ok((
        managed_org(manager, &path.0)?,
        AgentIdentity::parse(&path.1)?,
    ))
}

fn no_such_agent() -> ApiError {
    ApiError::not_found("agent_not_found", "no such agent")
}

/// The longest an API token may be issued for: five years.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 365 * 24 * 3600);

/// When a token issued now for `seconds` expires.
fn token_expiry(
    ctx: &HttpContext,
    seconds: Option<u64>,
) -> Result<Option<OffsetDateTime>, ApiError> {
    let Some(seconds) = seconds else {
        return Ok(None);
    };
    let lifetime = Duration::from_secs(seconds);
    if lifetime.is_zero() || lifetime > MAX_TOKEN_LIFETIME {
        return Err(ApiError::invalid(format!(
            "a token's lifetime must be between 1 and {} seconds",
            MAX_TOKEN_LIFETIME.as_secs()
        )));
    }
    Ok(Some(ctx.service.now() + lifetime))
}

fn issued(
    identity: &AgentIdentity,
    token: String,
    expires_at: Option<OffsetDateTime>,
) -> NewAgentDto {
    NewAgentDto {
        identity: identity.to_string(),
        token,
        token_expires_at: expires_at.map(rfc3339),
    }
}

async fn create_agent(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<String>,
    JsonBody(body): JsonBody<NewAgentBody>,
) -> Result<HttpResponse, ApiError> {
    let org = managed_org(&manager, &path)?;
    let token = new_token();
    let expires_at = token_expiry(&ctx, body.token_expires_in_seconds)?;
    let agent = NewAgent {
        org,
        identity: AgentIdentity::parse(&body.identity)?,
        display_name: body
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        token_hash: token_hash(&token),
        token_expires_at: expires_at,
        role: body.role.as_deref().map_or(Ok(Role::Agent), parse_role)?,
    };
    let agent = ctx.service.create_agent(&agent).await?;
    Ok(HttpResponse::Created().json(issued(&agent.identity, token, expires_at)))
}

/// A new API token for the agent; the old one is refused from now on. Its pages stay signed in.
async fn rotate_token(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<Option<NewTokenBody>>,
) -> Result<HttpResponse, ApiError> {
    let (org, identity) = managed_agent(&manager, &path)?;
    let expires_at = token_expiry(&ctx, body.and_then(|b| b.expires_in_seconds))?;
    let token = new_token();
    if !ctx
        .service
        .replace_token(&org, &identity, &token_hash(&token), expires_at)
        .await?
    {
        return Err(no_such_agent());
    }
    Ok(HttpResponse::Created().json(issued(&identity, token, expires_at)))
}

/// Revokes the agent's API token and signs out every page it signed in on: for a token that
/// leaked. Only a new token (`POST`) lets the agent in again.
async fn revoke_token(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, identity) = managed_agent(&manager, &path)?;
    // A digest of a secret nobody is given: no token matches it.
    let unusable = token_hash(&new_token());
    if !ctx
        .service
        .replace_token(&org, &identity, &unusable, None)
        .await?
    {
        return Err(no_such_agent());
    }
    ctx.service.end_sessions_of(&org, &identity).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every agent of the organisation, deactivated ones too.
async fn list_agents(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = managed_org(&manager, &path)?;
    if ctx.service.org(&org).await?.is_none() {
        return Err(ApiError::not_found("org_not_found", "no such organisation"));
    }
    let agents = ctx.service.roster(&org).await?;
    Ok(HttpResponse::Ok().json(agents.iter().map(ManagedAgentDto::from).collect::<Vec<_>>()))
}

/// Changes an agent's display name (`null` removes it) or role.
async fn change_agent(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<AgentChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let (org, identity) = managed_agent(&manager, &path)?;
    let change = AgentChange {
        display_name: body
            .display_name
            .map(|name| name.as_deref().map(DisplayName::parse).transpose())
            .transpose()?,
        role: body.role.as_deref().map(parse_role).transpose()?,
    };
    let agent = ctx
        .service
        .change_agent(&org, &identity, &change)
        .await?
        .ok_or_else(no_such_agent)?;
    Ok(HttpResponse::Ok().json(ManagedAgentDto::from(&agent)))
}

/// Deactivates an agent at once: its token and sessions are refused on every instance, it is
/// never rung again, the calls it parked stay parked, the history keeps its name.
async fn deactivate_agent(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, identity) = managed_agent(&manager, &path)?;
    ctx.service
        .deactivate_agent(&org, &identity)
        .await?
        .ok_or_else(no_such_agent)?;
    Ok(HttpResponse::NoContent().finish())
}
