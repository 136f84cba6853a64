//! The agents' API. Everything is scoped to the authenticated agent's organisation: another
//! organisation's lot, calls and agents do not exist as far as these routes can tell.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use callpark_domain::{
    Agent, AgentIdentity, AgentStatus, CallSid, ClientIdentity, MAX_SLOTS, ParkError, ParkRequest,
    SlotNumber,
};

use crate::HttpContext;
use crate::auth::{AuthedAgent, Credential, credential, new_session, session_cookie, token_hash};
use crate::body::JsonBody;
use crate::dto::{
    AgentDto, CurrentCallDto, LotDto, MeDto, ParkBody, ParkedDto, RetrieveBody, RetrievedDto,
};
use crate::error::{ApiError, get, only, post};
use crate::idempotency::{self, Recorded};
use crate::sse;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .wrap(crate::auth::private_answers())
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::invalid(format!("malformed path: {e}")).into()),
            )
            .service(
                web::resource("/session")
                    .post(sign_in)
                    .delete(sign_out)
                    .default_service(only("POST, DELETE")),
            )
            .service(get("/me", me))
            .service(get("/agents", agents))
            .service(get("/lot", lot))
            .service(post("/park", park))
            .service(post("/lot/{slot}/retrieve", retrieve))
            .service(get("/events", sse::events))
            .service(get("/token", voice_token))
            .configure(crate::history::configure)
            .configure(crate::stats::configure)
            .configure(crate::voicemail::configure)
            .configure(crate::sandbox::configure),
    );
}

/// Signs the agent in and makes it available. With the API token (bearer header) a new
/// session starts and its cookie is set; with the cookie of a live session (a page reloaded)
/// that session goes on.
async fn sign_in(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if agent.status == AgentStatus::Offline {
        ctx.service
            .set_presence(&agent, AgentStatus::Available)
            .await?;
    }
    let mut response = HttpResponse::Ok();
    if let Some(Credential::Token(_)) = credential(&req) {
        let secret = new_session();
        ctx.service
            .start_session(&agent, token_hash(&secret), ctx.settings.sessions)
            .await?;
        response.cookie(session_cookie(
            &secret,
            ctx.routes.base().starts_with("https://"),
        ));
    }
    let mut dto = AgentDto::from(&agent);
    dto.status = crate::dto::agent_status(AgentStatus::Available);
    Ok(response.json(dto))
}

/// Signs the agent out: its session ends at once, it goes offline, the cookie is cleared.
/// Calls it parked stay parked and retrievable.
async fn sign_out(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(Credential::Session(hash)) = credential(&req) {
        ctx.service.end_session(&hash).await?;
    }
    ctx.service
        .set_presence(&agent, AgentStatus::Offline)
        .await?;
    let mut cookie = session_cookie("", false);
    cookie.make_removal();
    Ok(HttpResponse::NoContent().cookie(cookie).finish())
}

async fn me(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
) -> Result<HttpResponse, ApiError> {
    let current = ctx.service.current_call(&agent).await?;
    let org = ctx
        .service
        .org(&agent.org)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(HttpResponse::Ok().json(MeDto {
        agent: AgentDto::from(&agent),
        current_call: current.as_ref().map(CurrentCallDto::from),
        sandbox: ctx.sandbox.is_some(),
        voice: ctx.settings.voice.is_some(),
        timeout_action: crate::dto::timeout_action_name(org.timeout_action),
    }))
}

async fn agents(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
) -> Result<HttpResponse, ApiError> {
    let agents = ctx.service.agents(&agent.org).await?;
    Ok(HttpResponse::Ok().json(agents.iter().map(AgentDto::from).collect::<Vec<_>>()))
}

async fn lot(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
) -> Result<HttpResponse, ApiError> {
    let org = ctx
        .service
        .org(&agent.org)
        .await?
        .ok_or_else(|| ApiError::not_found("org_not_found", "no such organisation"))?;
    let lot = ctx.service.lot(&org).await?;
    Ok(HttpResponse::Ok().json(LotDto::from(&lot)))
}

fn slot_number(n: u32) -> Result<SlotNumber, ApiError> {
    SlotNumber::new(n).map_err(ApiError::from)
}

async fn park(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    req: HttpRequest,
    JsonBody(body): JsonBody<ParkBody>,
) -> Result<HttpResponse, ApiError> {
    let request = ParkRequest {
        call: CallSid::parse(&body.call_sid)?,
        slot: body.slot.map(slot_number).transpose()?,
    };
    let Some(key) = idempotency::key_of(&req)? else {
        let parked = ctx.service.park(&agent, request).await?;
        return Ok(HttpResponse::Created().json(ParkedDto::from(&parked)));
    };
    let owner = format!("{}/{}", agent.org, agent.identity);
    let fingerprint = format!("{}/{:?}", request.call, request.slot.map(SlotNumber::get));
    let answer = ctx.idempotency.slot(owner, key, fingerprint)?;
    let recorded = answer
        .get_or_init(|| async {
            match park_once(&ctx, &agent, request).await {
                Ok(dto) => Recorded {
                    status: StatusCode::CREATED,
                    body: serde_json::to_value(dto).unwrap_or_default(),
                },
                Err(e) => Recorded {
                    status: actix_web::ResponseError::status_code(&e),
                    body: serde_json::json!({"error": {"code": e.code(), "message": e.message()}}),
                },
            }
        })
        .await;
    Ok(HttpResponse::build(recorded.status).json(&recorded.body))
}

/// A park that treats "already parked, by this agent" as its own earlier success: a retry with
/// the same key that reaches another instance answers like the first.
async fn park_once(
    ctx: &HttpContext,
    agent: &Agent,
    request: ParkRequest,
) -> Result<ParkedDto, ApiError> {
    match ctx.service.park(agent, request).await {
        Ok(parked) => Ok(ParkedDto::from(&parked)),
        Err(ParkError::AlreadyParked(slot)) => {
            let org = ctx.service.org(&agent.org).await?;
            let lot = match org {
                Some(org) => ctx.service.lot(&org).await?,
                None => return Err(ParkError::AlreadyParked(slot).into()),
            };
            lot.slots
                .into_iter()
                .find(|s| s.slot == slot)
                .and_then(|s| s.call)
                .filter(|c| c.parked_by == agent.identity)
                .map(|c| ParkedDto::from(&c))
                .ok_or_else(|| ParkError::AlreadyParked(slot).into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn retrieve(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    path: web::Path<String>,
    JsonBody(body): JsonBody<Option<RetrieveBody>>,
) -> Result<HttpResponse, ApiError> {
    let slot = path
        .parse::<u32>()
        .map_err(|_| {
            ApiError::invalid(format!(
                "the slot in the path must be a whole number from 1 to {MAX_SLOTS}, not {:?}",
                path.as_str()
            ))
        })
        .and_then(slot_number)?;
    let target = body
        .and_then(|b| b.agent)
        .map(|a| AgentIdentity::parse(&a))
        .transpose()?;
    let call = ctx.service.retrieve(&agent, slot, target).await?;
    let agent = call
        .retrieval
        .as_ref()
        .and_then(callpark_domain::Retrieval::agent)
        .map_or_else(|| agent.identity.to_string(), ToString::to_string);
    Ok(HttpResponse::Ok().json(RetrievedDto {
        id: call.id.to_string(),
        slot: call.slot.get(),
        agent,
    }))
}

/// A Twilio Voice SDK access token for the agent's browser.
async fn voice_token(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
) -> Result<HttpResponse, ApiError> {
    let voice = ctx.settings.voice.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "voice_not_configured",
            "Twilio Voice is not configured on this service (sandbox mode)",
        )
    })?;
    let client = ClientIdentity::of(&agent.org, &agent.identity);
    let token = voice.token_for(&client, ctx.service.now()).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "could not sign a token",
        )
        .with_cause(e)
    })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "token": token,
        "identity": agent.identity.as_str(),
        "clientIdentity": client.to_string(),
        "ttlSeconds": voice.ttl.as_secs(),
    })))
}
