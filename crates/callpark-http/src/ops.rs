//! Health, readiness and metrics endpoints for operators and orchestrators.

use actix_web::{HttpResponse, web};

use crate::HttpContext;
use crate::auth::MetricsScraper;
use crate::error::{ApiError, get};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/healthz", healthz))
        .service(get("/readyz", readyz))
        .service(get("/metrics", metrics));
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

/// Prometheus text, for the scraper that presents the metrics token: the metrics name
/// organisations (a lot's occupancy), which is nobody else's business.
async fn metrics(ctx: web::Data<HttpContext>, _: MetricsScraper) -> Result<HttpResponse, ApiError> {
    let handle = ctx.metrics.as_ref().ok_or_else(|| {
        ApiError::not_found("metrics_disabled", "metrics are off in this process")
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render()))
}
