//! Voicemail for the organisation's agents: its audio (`GET /api/voicemails/{id}/audio`),
//! fetched from Twilio with the account's credentials and passed on, so that a browser never
//! sees the credentials or the recording's own URL; and marking it handled (`POST
//! /api/voicemails/{id}/handled`). The list of voicemails is the history's (`GET
//! /api/history?outcome=voicemail`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use callpark_domain::ParkedCallId;

use crate::HttpContext;
use crate::auth::AuthedAgent;
use crate::error::{ApiError, get, post};
use crate::history::HistoryCallDto;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/voicemails/{id}/audio", audio))
        .service(post("/voicemails/{id}/handled", handled));
}

/// An id that names no voicemail: 404, as another organisation's does.
fn voicemail_id(id: &str) -> Result<ParkedCallId, ApiError> {
    ParkedCallId::parse(id).map_err(|_| {
        ApiError::not_found(
            "voicemail_not_found",
            "no voicemail of this organisation has this id",
        )
    })
}

/// The agent took care of the voicemail: the call as the history shows it, with who (the
/// first agent to say so) and when.
async fn handled(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let call = ctx
        .service
        .mark_voicemail_handled(&agent, voicemail_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(HistoryCallDto::of(&call, ctx.service.now())))
}

async fn audio(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = voicemail_id(&id)?;
    let recording = ctx.service.voicemail_audio(&agent.org, id).await?;
    let extension = if recording.media_type == "audio/mpeg" {
        "mp3"
    } else {
        "wav"
    };
    Ok(HttpResponse::Ok()
        .content_type(recording.media_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"voicemail-{id}.{extension}\""),
        ))
        .body(recording.bytes))
}
