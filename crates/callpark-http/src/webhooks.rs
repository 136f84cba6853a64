//! Twilio's webhooks. Every request's `X-Twilio-Signature` is verified against the configured
//! public URL before anything else happens; every answer comes from local state, without a
//! Twilio REST call, so it is sent in milliseconds.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::{Payload, Service as _, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Responder, web};
use callpark_domain::{
    AfterDial, ClientIdentity, HttpUrl, InboundError, Language, Organisation, ParkState,
    ParkedCallContext, ParkedCallId, PhoneNumber, Retrieval, Voice, WebhookUrls,
};
use callpark_twilio::twiml::documents::{self, Speech};
use callpark_twilio::{signature, webhook};

use crate::HttpContext;
use crate::error::{ApiError, post};
use crate::routes::paths;

/// Said to the parked caller when a retrieve did not connect.
const RETURNED_ANNOUNCEMENT: &str = "Sorry, nobody could take your call. Please continue to hold.";
/// Said before the caller is connected to the retrieving agent.
const CONNECTING: &str = "Connecting you now.";
const VOICEMAIL_PROMPT: &str =
    "Sorry, nobody could take your call. Please leave a message after the tone.";
const NOBODY_AVAILABLE: &str =
    "Sorry, nobody can take your call right now. Please call again later.";
const NOT_IN_SERVICE: &str = "Sorry, this number is not in service.";
/// How long the agents' browsers ring for an inbound call.
const RING_SECONDS: u32 = 20;
const VOICEMAIL_MAX_SECONDS: u32 = 120;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .app_data(web::PayloadConfig::new(64 * 1024))
            .service(timed(paths::VOICE, voice))
            .service(timed(paths::CALL_STATUS, call_status))
            .service(timed(paths::INBOUND_DIAL_RESULT, inbound_dial_result))
            .service(timed(paths::CONFERENCE_STATUS, conference_status))
            .service(timed(paths::PARK, park))
            .service(timed(paths::HOLD, hold))
            .service(timed(paths::RETRIEVE_ANSWERED, retrieve_answered))
            .service(timed(paths::RETRIEVE, retrieve))
            .service(timed(paths::DIAL_RESULT, dial_result))
            .service(timed(paths::VOICEMAIL_DONE, voicemail_done))
            .service(timed(paths::VOICEMAIL, voicemail))
            .service(timed(paths::RECORDING, recording)),
    );
}

/// `POST path` answered by `handler`, its latency recorded under the path's pattern. Each route
/// is timed by its own middleware, which knows its pattern: asking the request for it
/// (`match_pattern`) walks the router again, a few percent of a webhook's CPU.
fn timed<F, Args>(
    path: &'static str,
    handler: F,
) -> actix_web::Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    post(path, handler).wrap_fn(move |req, srv| {
        let started = std::time::Instant::now();
        let response = srv.call(req);
        async move {
            let response = response.await?;
            crate::metrics::record_webhook(path, started, response.status());
            Ok(response)
        }
    })
}

/// A webhook's form, once its signature has been verified; [`webhook`] reads it.
#[derive(Debug)]
pub struct TwilioForm(webhook::Form);

impl From<webhook::WebhookError> for ApiError {
    fn from(e: webhook::WebhookError) -> Self {
        match e {
            webhook::WebhookError::Missing(_) | webhook::WebhookError::NotANumber(_) => {
                Self::invalid(e.to_string())
            }
            webhook::WebhookError::Invalid(e) => e.into(),
        }
    }
}

fn forbidden(e: signature::SignatureError) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "invalid_signature",
        "the request is not signed by Twilio",
    )
    .with_cause(e)
}

impl FromRequest for TwilioForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<HttpContext>>().cloned();
        let body = web::Bytes::from_request(req, payload);
        let url_path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), ToString::to_string);
        let signature = req
            .headers()
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let well_signed = signature::check_header(signature.as_deref());
        Box::pin(async move {
            let ctx = ctx.ok_or_else(|| ApiError::invalid("misconfigured application"))?;
            // Refused before the body is read: a forged request cannot hold a worker.
            well_signed.map_err(forbidden)?;
            let body = crate::body::within_timeout(async {
                body.await
                    .map_err(|e| ApiError::invalid("unreadable body").with_cause(e.to_string()))
            })
            .await?;
            let url = ctx.routes.absolute(&url_path);
            let token = &ctx.settings.twilio_auth_token;
            if is_json {
                signature::validate_json(token, &url, &body, signature.as_deref())
                    .map_err(forbidden)?;
                return Ok(Self(webhook::Form::default()));
            }
            let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| ApiError::invalid("malformed form body").with_cause(e))?;
            signature::validate_form(token, &url, &params, signature.as_deref())
                .map_err(forbidden)?;
            Ok(Self(params.into()))
        })
    }
}

fn twiml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(body)
}

fn acknowledged() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn parked_id(id: &str) -> Result<ParkedCallId, ApiError> {
    ParkedCallId::parse(id)
        .map_err(|_| ApiError::not_found("parked_call_not_found", "no such parked call"))
}

/// An inbound call: ring the organisation's available agents.
async fn voice(ctx: web::Data<HttpContext>, form: TwilioForm) -> Result<HttpResponse, ApiError> {
    let call = webhook::inbound_call(&form.0)?;
    let caller_id = call.caller.number.as_ref().map(|n| n.as_str().to_owned());
    let routing = match ctx.service.on_inbound_call(call).await {
        Ok(routing) => routing,
        Err(InboundError::UnknownNumber(_)) => {
            return Ok(twiml(documents::say_and_hangup(
                NOT_IN_SERVICE,
                Speech::default(),
            )));
        }
        Err(InboundError::Store(e)) => return Err(e.into()),
    };
    if routing.agents.is_empty() {
        let speech = speech(&routing.org);
        return Ok(twiml(documents::say_and_hangup(NOBODY_AVAILABLE, speech)));
    }
    let agents: Vec<String> = routing.agents.iter().map(ToString::to_string).collect();
    let agents: Vec<&str> = agents.iter().map(String::as_str).collect();
    Ok(twiml(documents::ring_agents(
        &agents,
        ctx.routes.call_status().as_str(),
        RING_SECONDS,
        ctx.routes.inbound_dial_result().as_str(),
        caller_id.as_deref(),
    )))
}

/// The end of the inbound `<Dial>`: after a conversation, or when our park redirect took the
/// caller away (Twilio asks, then ignores the answer), or when nobody answered.
async fn inbound_dial_result(form: TwilioForm) -> HttpResponse {
    if webhook::nobody_answered(&form.0) {
        twiml(documents::say_and_hangup(
            NOBODY_AVAILABLE,
            Speech::default(),
        ))
    } else {
        twiml(documents::hangup())
    }
}

/// Call status callbacks: agents' legs (children of the caller's) and callers' legs.
async fn call_status(
    ctx: web::Data<HttpContext>,
    form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    if let Some(update) = webhook::call_status(&form.0)? {
        ctx.service.on_call_status(&update).await?;
    }
    Ok(acknowledged())
}

async fn conference_status(
    ctx: web::Data<HttpContext>,
    form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let event = webhook::conference_event(&form.0)?;
    ctx.service.on_conference_event(&event).await?;
    Ok(acknowledged())
}

async fn parked(
    ctx: &HttpContext,
    path: &web::Path<String>,
) -> Result<Option<ParkedCallContext>, ApiError> {
    Ok(ctx.service.parked_call(parked_id(path)?).await?)
}

/// The organisation of a parked call that occupies its slot, from memory (see
/// [`crate::LiveCalls`]); `None` sends the caller to the store.
async fn live_org(ctx: &HttpContext, id: ParkedCallId) -> Result<Option<Organisation>, ApiError> {
    match ctx.live.org_of(id) {
        Some(slug) => Ok(ctx.service.org(&slug).await?),
        None => Ok(None),
    }
}

fn conference_twiml(ctx: &HttpContext, parked: &ParkedCallContext, announcement: &str) -> String {
    conference_twiml_of(ctx, parked.call.id, &parked.org, announcement)
}

/// How the organisation's callers hear what is said to them.
fn speech(org: &Organisation) -> Speech<'_> {
    Speech {
        voice: org.voice.as_ref().map(Voice::as_str),
        language: org.language.as_ref().map(Language::as_str),
    }
}

fn conference_twiml_of(
    ctx: &HttpContext,
    id: ParkedCallId,
    org: &Organisation,
    announcement: &str,
) -> String {
    documents::park(
        announcement,
        speech(org),
        &id.conference_name(),
        ctx.routes.hold(id).as_str(),
        ctx.routes.conference_status().as_str(),
    )
}

/// Where the park redirect sends the caller: the announcement, then the conference.
async fn park(
    ctx: web::Data<HttpContext>,
    path: web::Path<String>,
    _form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let id = parked_id(&path)?;
    if let Some(org) = live_org(&ctx, id).await? {
        return Ok(twiml(conference_twiml_of(
            &ctx,
            id,
            &org,
            org.announcement.as_str(),
        )));
    }
    Ok(twiml(match parked(&ctx, &path).await? {
        Some(p) if p.call.occupies_slot() => {
            conference_twiml(&ctx, &p, p.org.announcement.as_str())
        }
        _ => documents::hangup(),
    }))
}

/// The conference's `waitUrl`: the organisation's hold music, looped.
async fn hold(
    ctx: web::Data<HttpContext>,
    path: web::Path<String>,
    _form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let org = match live_org(&ctx, parked_id(&path)?).await? {
        Some(org) => Some(org),
        None => parked(&ctx, &path).await?.map(|p| p.org),
    };
    let music = org.as_ref().and_then(|o| o.hold_music_url.as_ref());
    Ok(twiml(documents::hold_music(
        music.map_or(documents::TWILIO_HOLD_MUSIC, HttpUrl::as_str),
    )))
}

/// Where a retrieve (or ring-back) sends the caller: ring the agent's browser.
async fn retrieve(
    ctx: web::Data<HttpContext>,
    path: web::Path<String>,
    _form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let Some(p) = parked(&ctx, &path).await? else {
        return Ok(twiml(documents::hangup()));
    };
    let call = &p.call;
    let (state, retrieval) = (call.state, call.retrieval.as_ref());
    let Some(retrieval) = retrieval.filter(|_| state == ParkState::Retrieving) else {
        // The record moved on (back to the lot, or ended) before Twilio fetched this: put the
        // caller where the record says.
        return Ok(twiml(if call.occupies_slot() {
            conference_twiml(&ctx, &p, RETURNED_ANNOUNCEMENT)
        } else {
            documents::hangup()
        }));
    };
    let (reason, agent) = match retrieval {
        Retrieval::ByAgent(agent) => ("retrieve", agent),
        Retrieval::Ringback(agent) => ("ringback", agent),
        Retrieval::ToVoicemail => return Ok(twiml(voicemail_twiml(&ctx, &p))),
    };
    let id = call.id.to_string();
    let slot = call.slot.to_string();
    let mut parameters = vec![
        ("parkedCallId", id.as_str()),
        ("slot", slot.as_str()),
        ("reason", reason),
    ];
    if let Some(number) = &call.caller.number {
        parameters.push(("callerNumber", number.as_str()));
    }
    if let Some(name) = &call.caller.name {
        parameters.push(("callerName", name.as_str()));
    }
    let client = ClientIdentity::of(&call.org, agent).to_string();
    Ok(twiml(documents::retrieve(
        CONNECTING,
        speech(&p.org),
        &client,
        call.caller.number.as_ref().map(PhoneNumber::as_str),
        &parameters,
        u32::try_from(ctx.settings.ring_time.as_secs()).unwrap_or(u32::MAX),
        ctx.routes.retrieve_answered(call.id, call.attempt).as_str(),
        ctx.routes.dial_result(call.id, call.attempt).as_str(),
    )))
}

/// The parked call and the attempt a retrieve's callback URL names.
fn attempt_of(path: &web::Path<(String, String)>) -> Result<(ParkedCallId, u32), ApiError> {
    let id = parked_id(&path.0)?;
    let attempt = path.1.parse().map_err(|_| {
        ApiError::not_found("attempt_not_found", "no such attempt of the parked call")
    })?;
    Ok((id, attempt))
}

/// The retrieving agent's browser answered.
async fn retrieve_answered(
    ctx: web::Data<HttpContext>,
    path: web::Path<(String, String)>,
    form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let (id, attempt) = attempt_of(&path)?;
    if let Some(answered) = webhook::dial_answered(&form.0) {
        ctx.service
            .on_dial_answered(id, attempt, answered.leg.as_ref())
            .await?;
    }
    Ok(acknowledged())
}

/// The retrieve `<Dial>` ended: answered (after the conversation), or not.
async fn dial_result(
    ctx: web::Data<HttpContext>,
    path: web::Path<(String, String)>,
    form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let (id, attempt) = attempt_of(&path)?;
    let outcome = webhook::dial_outcome(&form.0);
    Ok(twiml(
        match ctx.service.on_dial_result(id, attempt, outcome).await? {
            AfterDial::ReturnToLot(call, org) => conference_twiml(
                &ctx,
                &ParkedCallContext { call, org },
                RETURNED_ANNOUNCEMENT,
            ),
            AfterDial::Voicemail(call, org) => {
                voicemail_twiml(&ctx, &ParkedCallContext { call, org })
            }
            AfterDial::Current(call, org) => current_twiml(&ctx, &ParkedCallContext { call, org }),
            AfterDial::Hangup => documents::hangup(),
        },
    ))
}

/// Where the record has the caller now, for a callback of an earlier attempt: in the lot's
/// conference, or following the current attempt's TwiML.
fn current_twiml(ctx: &HttpContext, p: &ParkedCallContext) -> String {
    if p.call.state == ParkState::Retrieving {
        documents::redirect(ctx.routes.retrieve(p.call.id).as_str())
    } else {
        conference_twiml(ctx, p, RETURNED_ANNOUNCEMENT)
    }
}

fn voicemail_twiml(ctx: &HttpContext, p: &ParkedCallContext) -> String {
    documents::voicemail(
        VOICEMAIL_PROMPT,
        speech(&p.org),
        ctx.routes.voicemail_done(p.call.id).as_str(),
        ctx.routes.recording(p.call.id).as_str(),
        VOICEMAIL_MAX_SECONDS,
    )
}

async fn voicemail(
    ctx: web::Data<HttpContext>,
    path: web::Path<String>,
    _form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    Ok(twiml(match parked(&ctx, &path).await? {
        Some(p) => voicemail_twiml(&ctx, &p),
        None => documents::hangup(),
    }))
}

/// The `<Record>` finished: thank the caller, in the organisation's voice and language, as
/// the rest of the voicemail was said.
async fn voicemail_done(
    ctx: web::Data<HttpContext>,
    path: web::Path<String>,
    _form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let parked = parked(&ctx, &path).await?;
    let speech = parked
        .as_ref()
        .map_or_else(Speech::default, |p| speech(&p.org));
    Ok(twiml(documents::say_and_hangup(
        documents::VOICEMAIL_GOODBYE,
        speech,
    )))
}

/// A voicemail recording is ready: keep its URL on the parked call's history.
async fn recording(
    ctx: web::Data<HttpContext>,
    path: web::Path<String>,
    form: TwilioForm,
) -> Result<HttpResponse, ApiError> {
    let id = parked_id(&path)?;
    if let Some(url) = webhook::recording(&form.0)? {
        ctx.service.on_recording(id, &url).await?;
    }
    Ok(acknowledged())
}
