//! The simulated Twilio behind Twilio's own wire format: the Calls resource of the REST API,
//! over the sandbox, so that the two callpark processes of a chaos run share one Twilio as
//! they would share the real one. Only the requests callpark makes are served.

use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use callpark_domain::{CallSid, CallStatus, HttpUrl, TelephonyError};
use callpark_sandbox::{CallRecord, CallUpdate, Fault, RestFailure, Sandbox};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc2822;

/// What the facade needs: the sandbox, and how long a stalled request hangs before it is
/// answered (longer than callpark's `TWILIO_TIMEOUT_MS`, so the answer is lost).
#[derive(Debug, Clone)]
pub(crate) struct Facade {
    pub(crate) sandbox: Sandbox,
    pub(crate) stall: Duration,
}

fn status_name(status: CallStatus) -> &'static str {
    match status {
        CallStatus::Queued => "queued",
        CallStatus::Initiated => "initiated",
        CallStatus::Ringing => "ringing",
        CallStatus::InProgress => "in-progress",
        CallStatus::Completed => "completed",
        CallStatus::Busy => "busy",
        CallStatus::Failed => "failed",
        CallStatus::NoAnswer => "no-answer",
        CallStatus::Canceled => "canceled",
    }
}

fn resource(call: &CallRecord) -> Value {
    json!({
        "sid": call.sid.as_str(),
        "parent_call_sid": call.parent.as_ref().map(CallSid::as_str),
        "from": call.from,
        "to": call.to,
        "direction": call.direction,
        "status": status_name(call.status),
        "start_time": call.started_at.format(&Rfc2822).ok(),
    })
}

/// Twilio's error body.
fn error(status: u16, code: u32, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .json(json!({"code": code, "message": message, "status": status,
               "more_info": format!("https://www.twilio.com/docs/errors/{code}")}))
}

/// What Twilio answers to a request that failed.
async fn failure(facade: &Facade, failure: RestFailure) -> HttpResponse {
    match failure {
        RestFailure::Injected(Fault::NotFound) | RestFailure::Refused(TelephonyError::NotFound) => {
            error(404, 20404, "The requested resource was not found")
        }
        RestFailure::Injected(Fault::RateLimited) => error(429, 20429, "Too Many Requests"),
        RestFailure::Injected(Fault::ServerError) => error(500, 20500, "Internal Server Error"),
        RestFailure::Injected(Fault::Stall) => {
            tokio::time::sleep(facade.stall).await;
            error(504, 20504, "Gateway Timeout")
        }
        RestFailure::Refused(TelephonyError::NotInProgress) => {
            error(400, 21220, "Call is not in-progress. Cannot redirect.")
        }
        RestFailure::Refused(other) => error(500, 20500, &other.to_string()),
    }
}

fn call_sid(req: &HttpRequest) -> Option<CallSid> {
    let file = req.match_info().get("file")?;
    CallSid::parse(file.strip_suffix(".json")?).ok()
}

async fn fetch(facade: web::Data<Facade>, req: HttpRequest) -> HttpResponse {
    let Some(sid) = call_sid(&req) else {
        return error(404, 20404, "The requested resource was not found");
    };
    match facade.sandbox.fetch_call(&sid).await {
        Ok(call) => HttpResponse::Ok().json(resource(&call)),
        Err(f) => failure(&facade, f).await,
    }
}

async fn list(facade: web::Data<Facade>, query: web::Query<Vec<(String, String)>>) -> HttpResponse {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(parent) = param("ParentCallSid").and_then(|p| CallSid::parse(p).ok()) else {
        return error(400, 20001, "ParentCallSid is required here");
    };
    let wanted = param("Status");
    match facade.sandbox.child_calls(&parent).await {
        Ok(calls) => {
            let calls: Vec<Value> = calls
                .iter()
                .filter(|c| wanted.is_none_or(|w| w == status_name(c.status)))
                .map(resource)
                .collect();
            HttpResponse::Ok().json(json!({"calls": calls}))
        }
        Err(f) => failure(&facade, f).await,
    }
}

async fn update(
    facade: web::Data<Facade>,
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(sid) = call_sid(&req) else {
        return error(404, 20404, "The requested resource was not found");
    };
    let param = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let url_of = |name: &str| param(name).and_then(|u| HttpUrl::parse(u).ok());
    let change = match (url_of("Url"), param("Status")) {
        (Some(url), _) => CallUpdate::Redirect {
            url,
            status_callback: url_of("StatusCallback"),
        },
        (None, Some("completed" | "canceled")) => CallUpdate::Complete,
        _ => return error(400, 21218, "Url or Status=completed is required"),
    };
    match facade.sandbox.update_call(&sid, change).await {
        // callpark reads nothing of the answer; Twilio's echo of the call is left out.
        Ok(()) => HttpResponse::Ok().json(json!({"sid": sid.as_str()})),
        Err(f) => failure(&facade, f).await,
    }
}

/// Serves the facade on `listener` until the process ends.
pub(crate) fn serve(
    facade: Facade,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let facade = web::Data::new(facade);
    let calls = "/2010-04-01/Accounts/{account}/Calls";
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(facade.clone())
            .route(&format!("{calls}.json"), web::get().to(list))
            .route(&format!("{calls}/{{file}}"), web::get().to(fetch))
            .route(&format!("{calls}/{{file}}"), web::post().to(update))
    })
    .workers(2)
    .disable_signals()
    .listen(listener)?
    .run())
}
