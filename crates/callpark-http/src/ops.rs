//! Health, readiness and metrics endpoints for operators and orchestrators.

use actix_web::{HttpResponse, web};

use crate::HttpContext;
use crate::error::ApiError;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The process can serve: its store answers. 503 otherwise, so a load balancer stops sending.
async fn readyz(ctx: web::Data<HttpContext>) -> Result<HttpResponse, ApiError> {
    ctx.service.check_store().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}

async fn metrics(ctx: web::Data<HttpContext>) -> HttpResponse {
    match &ctx.metrics {
        Some(handle) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(handle.render()),
        None => HttpResponse::NotFound().finish(),
    }
}
