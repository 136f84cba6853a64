//! The sandbox's controls, for the agents' page (sandbox mode only; 404 `sandbox_disabled`
//! with real Twilio): a simulated caller dials in or hangs up, and the agent chooses what its
//! simulated browser does when a retrieve or a ring-back rings it alone.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use callpark_domain::{CallSid, ClientIdentity, PhoneNumber};

use crate::auth::AuthedAgent;
use crate::body::JsonBody;
use crate::error::{ApiError, post};
use crate::{HttpContext, Pickup};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post("/sandbox/calls", sandbox_call))
        .service(post("/sandbox/calls/{sid}/hangup", sandbox_hangup))
        .service(
            web::resource("/sandbox/pickup")
                .get(pickup)
                .post(set_pickup)
                .default_service(crate::error::only("GET, POST")),
        );
}

fn sandbox(ctx: &HttpContext) -> Result<&dyn crate::SandboxControl, ApiError> {
    ctx.sandbox
        .as_deref()
        .ok_or_else(|| ApiError::not_found("sandbox_disabled", "this service runs real Twilio"))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxCallBody {
    from: Option<String>,
}

/// Sandbox only: a simulated caller dials the organisation and the agent's browser answers.
async fn sandbox_call(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    JsonBody(body): JsonBody<Option<SandboxCallBody>>,
) -> Result<HttpResponse, ApiError> {
    let sandbox = sandbox(&ctx)?;
    let org = ctx
        .service
        .org(&agent.org)
        .await?
        .ok_or_else(|| ApiError::not_found("org_not_found", "no such organisation"))?;
    let to = org
        .numbers
        .first()
        .ok_or_else(|| ApiError::invalid("the organisation has no phone number"))?;
    let from = match body.and_then(|b| b.from) {
        Some(from) => PhoneNumber::parse(&from)?,
        None => sandbox.random_caller(),
    };
    let pstn = sandbox
        .incoming_call(to, &from, &ClientIdentity::of(&agent.org, &agent.identity))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "sandbox_error",
                "the simulated call failed",
            )
            .with_cause(e)
        })?;
    until_on_the_call(&ctx, &agent, &pstn).await?;
    Ok(HttpResponse::Created()
        .json(serde_json::json!({ "callSid": pstn.as_str(), "from": from.as_str() })))
}

/// How long a simulated call's answer waits for the service to hear of it: longer than the
/// sandbox ever holds a callback back.
const HEARD_WITHIN: Duration = Duration::from_secs(3);

/// Waits (a little) until the service has heard, from the agent's leg's status callback, that
/// the agent is on the call: the sandbox may deliver that callback late, as Twilio may, and the
/// page asks for the call as soon as this answers. (A real browser learns its call from the
/// Voice SDK itself.) Past the wait the page catches up from the live updates.
async fn until_on_the_call(
    ctx: &HttpContext,
    agent: &callpark_domain::Agent,
    pstn: &CallSid,
) -> Result<(), ApiError> {
    let until = tokio::time::Instant::now() + HEARD_WITHIN;
    while tokio::time::Instant::now() < until {
        let current = ctx.service.current_call(agent).await?;
        if current.is_some_and(|c| &c.call.pstn == pstn) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Sandbox only: the simulated caller hangs up.
async fn sandbox_hangup(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sandbox = sandbox(&ctx)?;
    let pstn = CallSid::parse(&path)?;
    let org = ctx
        .service
        .org(&agent.org)
        .await?
        .ok_or_else(|| ApiError::not_found("org_not_found", "no such organisation"))?;
    // Only a caller of the agent's own organisation: parked in its lot, or on its own call.
    let in_lot = ctx
        .service
        .lot(&org)
        .await?
        .slots
        .iter()
        .any(|s| s.call.as_ref().is_some_and(|c| c.pstn_call == pstn));
    let on_call = ctx
        .service
        .current_call(&agent)
        .await?
        .is_some_and(|c| c.call.pstn == pstn);
    if !(in_lot || on_call) {
        return Err(ApiError::not_found(
            "call_not_found",
            "no such call in your organisation",
        ));
    }
    sandbox.caller_hangs_up(&pstn).await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "sandbox_error",
            "the simulated hang-up failed",
        )
        .with_cause(e)
    })?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct PickupBody {
    /// `answer`, `decline` or `let_ring`.
    pickup: String,
}

fn pickup_name(pickup: Pickup) -> &'static str {
    match pickup {
        Pickup::Answer => "answer",
        Pickup::Decline => "decline",
        Pickup::LetRing => "let_ring",
    }
}

/// Sandbox only: what the agent's simulated browser does when it is rung alone.
async fn pickup(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
) -> Result<HttpResponse, ApiError> {
    let client = ClientIdentity::of(&agent.org, &agent.identity);
    let pickup = sandbox(&ctx)?.pickup(&client);
    Ok(HttpResponse::Ok().json(PickupBody {
        pickup: pickup_name(pickup).to_owned(),
    }))
}

/// Sandbox only: the agent chooses what its simulated browser does from now on when a
/// retrieve or a ring-back rings it: answer, decline (the caller goes back to the lot, or on
/// to voicemail after a ring-back), or let it ring for the whole ring time.
async fn set_pickup(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    JsonBody(body): JsonBody<PickupBody>,
) -> Result<HttpResponse, ApiError> {
    let sandbox = sandbox(&ctx)?;
    let pickup = match body.pickup.as_str() {
        "answer" => Pickup::Answer,
        "decline" => Pickup::Decline,
        "let_ring" => Pickup::LetRing,
        other => {
            return Err(ApiError::invalid(format!(
                "pickup must be \"answer\", \"decline\" or \"let_ring\", not {other:?}"
            )));
        }
    };
    sandbox.set_pickup(&ClientIdentity::of(&agent.org, &agent.identity), pickup);
    Ok(HttpResponse::Ok().json(body))
}
