//! The administrator's API: organisations and their agents.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use callpark_domain::{
    AgentIdentity, Announcement, AutoSlot, DisplayName, HttpUrl, LotSize, MAX_PARK_TIME, NewAgent,
    NewOrganisation, OrgSlug, PhoneNumber, TimeoutAction, Voice,
};
use time::OffsetDateTime;

use crate::HttpContext;
use crate::auth::{Admin, new_token, token_hash};
use crate::body::JsonBody;
use crate::dto::{NewAgentBody, NewAgentDto, NewOrgBody, NewTokenBody, OrgDto, rfc3339};
use crate::error::{ApiError, get, only, post};

/// What a parked caller hears when the organisation sets nothing else.
pub const DEFAULT_ANNOUNCEMENT: &str = "Please hold. Your call is being transferred.";
/// How long a call may stay parked when the organisation sets nothing else (Asterisk's
/// default is 45 s; contact centres park longer).
pub const DEFAULT_MAX_PARK: Duration = Duration::from_secs(300);

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(crate::auth::private_answers())
            .service(post("/orgs", create_org))
            .service(get("/orgs/{slug}", get_org))
            .service(post("/orgs/{slug}/agents", create_agent))
            .service(
                web::resource("/orgs/{slug}/agents/{identity}/token")
                    .post(rotate_token)
                    .delete(revoke_token)
                    .default_service(only("POST, DELETE")),
            ),
    );
}

/// Validates an organisation request into the domain's type.
///
/// # Errors
/// [`ApiError`] 400 naming the first invalid field.
pub fn new_organisation(body: NewOrgBody) -> Result<NewOrganisation, ApiError> {
    let max_park = Duration::from_secs(body.max_park_seconds.unwrap_or(DEFAULT_MAX_PARK.as_secs()));
    if max_park.is_zero() || max_park > MAX_PARK_TIME {
        return Err(ApiError::invalid(format!(
            "maxParkSeconds must be between 1 and {}",
            MAX_PARK_TIME.as_secs()
        )));
    }
    Ok(NewOrganisation {
        slug: OrgSlug::parse(&body.slug)?,
        name: DisplayName::parse(&body.name)?,
        lot_size: LotSize::new(body.slots)?,
        numbers: body
            .numbers
            .iter()
            .map(|n| PhoneNumber::parse(n))
            .collect::<Result<_, _>>()?,
        hold_music_url: body
            .hold_music_url
            .as_deref()
            .map(HttpUrl::parse)
            .transpose()?,
        announcement: Announcement::parse(
            body.announcement.as_deref().unwrap_or(DEFAULT_ANNOUNCEMENT),
        )?,
        voice: body.voice.as_deref().map(Voice::parse).transpose()?,
        max_park,
        timeout_action: match body.timeout_action.as_deref() {
            None | Some("ringback") => TimeoutAction::Ringback,
            Some("voicemail") => TimeoutAction::Voicemail,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "timeoutAction must be \"ringback\" or \"voicemail\", not {other:?}"
                )));
            }
        },
        auto_slot: match body.slot_policy.as_deref() {
            None | Some("first_free") => AutoSlot::FirstFree,
            Some("next") => AutoSlot::NextAfterLastUsed,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "slotPolicy must be \"first_free\" or \"next\", not {other:?}"
                )));
            }
        },
    })
}

async fn create_org(
    ctx: web::Data<HttpContext>,
    _: Admin,
    JsonBody(body): JsonBody<NewOrgBody>,
) -> Result<HttpResponse, ApiError> {
    let org = ctx.service.create_org(&new_organisation(body)?).await?;
    Ok(HttpResponse::Created().json(OrgDto::from(&org)))
}

async fn get_org(
    ctx: web::Data<HttpContext>,
    _: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = OrgSlug::parse(&path)?;
    let org = ctx
        .service
        .org(&slug)
        .await?
        .ok_or_else(|| ApiError::not_found("org_not_found", "no such organisation"))?;
    Ok(HttpResponse::Ok().json(OrgDto::from(&org)))
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
    _: Admin,
    path: web::Path<String>,
    JsonBody(body): JsonBody<NewAgentBody>,
) -> Result<HttpResponse, ApiError> {
    let token = new_token();
    let expires_at = token_expiry(&ctx, body.token_expires_in_seconds)?;
    let agent = NewAgent {
        org: OrgSlug::parse(&path)?,
        identity: AgentIdentity::parse(&body.identity)?,
        display_name: body
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        token_hash: token_hash(&token),
        token_expires_at: expires_at,
    };
    let agent = ctx.service.create_agent(&agent).await?;
    Ok(HttpResponse::Created().json(issued(&agent.identity, token, expires_at)))
}

/// The agent a `/orgs/{slug}/agents/{identity}` path names.
fn agent_path(path: &(String, String)) -> Result<(OrgSlug, AgentIdentity), ApiError> {
    Ok((OrgSlug::parse(&path.0)?, AgentIdentity::parse(&path.1)?))
}

fn no_such_agent() -> ApiError {
    ApiError::not_found("agent_not_found", "no such agent")
}

/// A new API token for the agent; the old one is refused from now on. Its pages stay signed in.
async fn rotate_token(
    ctx: web::Data<HttpContext>,
    _: Admin,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<Option<NewTokenBody>>,
) -> Result<HttpResponse, ApiError> {
    let (org, identity) = agent_path(&path)?;
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
    _: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, identity) = agent_path(&path)?;
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
