//! The administrator's API: organisations (the agents are in `roster.rs`).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use callpark_domain::{
    Announcement, AutoSlot, DisplayName, HttpUrl, LotSize, MAX_PARK_TIME, NewOrganisation, OrgSlug,
    PhoneNumber, TimeoutAction, Voice,
};

use crate::HttpContext;
use crate::body::JsonBody;
use crate::dto::{NewOrgBody, OrgDto};
use crate::error::{ApiError, get, only};
use crate::manager::{Admin, Manager};

/// What a parked caller hears when the organisation sets nothing else.
pub const DEFAULT_ANNOUNCEMENT: &str = "Please hold. Your call is being transferred.";
/// How long a call may stay parked when the organisation sets nothing else (Asterisk's
/// default is 45 s; contact centres park longer).
pub const DEFAULT_MAX_PARK: Duration = Duration::from_secs(300);

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(crate::auth::private_answers())
            .service(
                web::resource("/orgs")
                    .post(create_org)
                    .get(list_orgs)
                    .default_service(only("GET, POST")),
            )
            .service(get("/orgs/{slug}", get_org))
            .configure(crate::roster::configure),
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

/// Every organisation, for the operator.
async fn list_orgs(ctx: web::Data<HttpContext>, _: Admin) -> Result<HttpResponse, ApiError> {
    let orgs = ctx.service.orgs().await?;
    Ok(HttpResponse::Ok().json(orgs.iter().map(OrgDto::from).collect::<Vec<_>>()))
}

async fn get_org(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = OrgSlug::parse(&path)?;
    manager.may_manage(&slug)?;
    let org = ctx
        .service
        .org(&slug)
        .await?
        .ok_or_else(|| ApiError::not_found("org_not_found", "no such organisation"))?;
    Ok(HttpResponse::Ok().json(OrgDto::from(&org)))
}
