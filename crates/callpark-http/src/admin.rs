//! The administrator's API: organisations (the agents are in `roster.rs`).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use callpark_domain::{
    Announcement, AutoSlot, DisplayName, HttpUrl, Language, LotSize, MAX_PARK_TIME,
    NewOrganisation, OrgChange, OrgSlug, PhoneNumber, TimeoutAction, Voice,
};

use crate::HttpContext;
use crate::body::JsonBody;
use crate::dto::{NewOrgBody, OrgChangeBody, OrgDto};
use crate::error::{ApiError, only};
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
            .service(
                web::resource("/orgs/{slug}")
                    .get(get_org)
                    .patch(change_org)
                    .default_service(only("GET, PATCH")),
            )
            .configure(crate::roster::configure),
    );
}

/// Validates an organisation request into the domain's type.
///
/// # Errors
/// [`ApiError`] 400 naming the first invalid field.
pub fn new_organisation(body: NewOrgBody) -> Result<NewOrganisation, ApiError> {
    Ok(NewOrganisation {
        slug: OrgSlug::parse(&body.slug)?,
        name: DisplayName::parse(&body.name)?,
        lot_size: LotSize::new(body.slots)?,
        numbers: phone_numbers(&body.numbers)?,
        hold_music_url: body
            .hold_music_url
            .as_deref()
            .map(HttpUrl::parse)
            .transpose()?,
        announcement: Announcement::parse(
            body.announcement.as_deref().unwrap_or(DEFAULT_ANNOUNCEMENT),
        )?,
        voice: body.voice.as_deref().map(Voice::parse).transpose()?,
        language: body.language.as_deref().map(Language::parse).transpose()?,
        max_park: max_park(body.max_park_seconds.unwrap_or(DEFAULT_MAX_PARK.as_secs()))?,
        timeout_action: body
            .timeout_action
            .as_deref()
            .map_or(Ok(TimeoutAction::Ringback), timeout_action)?,
        auto_slot: body
            .slot_policy
            .as_deref()
            .map_or(Ok(AutoSlot::FirstFree), slot_policy)?,
        active: true,
    })
}

/// The numbers that route to an organisation: each valid, none twice.
fn phone_numbers(numbers: &[String]) -> Result<Vec<PhoneNumber>, ApiError> {
    let mut parsed: Vec<PhoneNumber> = Vec::with_capacity(numbers.len());
    for number in numbers {
        let number = PhoneNumber::parse(number)?;
        if parsed.contains(&number) {
            return Err(ApiError::invalid(format!(
                "the number {number} is given twice"
            )));
        }
        parsed.push(number);
    }
    Ok(parsed)
}

/// Validates a change of an organisation's settings into the domain's type.
///
/// # Errors
/// [`ApiError`] 400 naming the first invalid field.
pub(crate) fn org_change(body: OrgChangeBody) -> Result<OrgChange, ApiError> {
    Ok(OrgChange {
        name: body.name.as_deref().map(DisplayName::parse).transpose()?,
        lot_size: body.slots.map(LotSize::new).transpose()?,
        numbers: body.numbers.as_deref().map(phone_numbers).transpose()?,
        language: body
            .language
            .map(|l| l.as_deref().map(Language::parse).transpose())
            .transpose()?,
        active: body.active,
        hold_music_url: body
            .hold_music_url
            .map(|url| url.as_deref().map(HttpUrl::parse).transpose())
            .transpose()?,
        announcement: body
            .announcement
            .as_deref()
            .map(Announcement::parse)
            .transpose()?,
        voice: body
            .voice
            .map(|v| v.as_deref().map(Voice::parse).transpose())
            .transpose()?,
        max_park: body.max_park_seconds.map(max_park).transpose()?,
        timeout_action: body
            .timeout_action
            .as_deref()
            .map(timeout_action)
            .transpose()?,
        auto_slot: body.slot_policy.as_deref().map(slot_policy).transpose()?,
    })
}

fn max_park(seconds: u64) -> Result<Duration, ApiError> {
    let max_park = Duration::from_secs(seconds);
    if max_park.is_zero() || max_park > MAX_PARK_TIME {
        return Err(ApiError::invalid(format!(
            "maxParkSeconds must be between 1 and {}",
            MAX_PARK_TIME.as_secs()
        )));
    }
    Ok(max_park)
}

fn timeout_action(name: &str) -> Result<TimeoutAction, ApiError> {
    match name {
        "ringback" => Ok(TimeoutAction::Ringback),
        "voicemail" => Ok(TimeoutAction::Voicemail),
        other => Err(ApiError::invalid(format!(
            "timeoutAction must be \"ringback\" or \"voicemail\", not {other:?}"
        ))),
    }
}

fn slot_policy(name: &str) -> Result<AutoSlot, ApiError> {
    match name {
        "first_free" => Ok(AutoSlot::FirstFree),
        "next" => Ok(AutoSlot::NextAfterLastUsed),
        other => Err(ApiError::invalid(format!(
            "slotPolicy must be \"first_free\" or \"next\", not {other:?}"
        ))),
    }
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

/// Changes the organisation's settings: the admin, or a supervisor of the organisation. A lot
/// grows at once; it shrinks only while no call occupies a slot beyond its new size (409, and
/// nothing changes). Only the admin puts an organisation in or out of service.
async fn change_org(
    ctx: web::Data<HttpContext>,
    manager: Manager,
    path: web::Path<String>,
    JsonBody(body): JsonBody<OrgChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let slug = OrgSlug::parse(&path)?;
    manager.may_manage(&slug)?;
    if body.active.is_some() && !matches!(manager, Manager::Admin) {
        return Err(crate::manager::forbidden(
            "the admin token to change `active`",
        ));
    }
    let org = ctx.service.change_org(&slug, &org_change(body)?).await?;
    Ok(HttpResponse::Ok().json(OrgDto::from(&org)))
}
