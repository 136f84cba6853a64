//! Logs: `tracing` to stderr, as text or JSON lines, filtered by `RUST_LOG` (default `info`).

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; a second call (tests) keeps the first.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The span every request runs in: its method, path and request id, so that whatever is logged
/// while handling it says which request it belongs to.
///
/// Lighter than `tracing-actix-web`'s default span on purpose: that one formats a dozen fields
/// (user agent, client address, route pattern, an OpenTelemetry name, …) into every request's
/// span, which cost the signed-webhook hot path about a sixth of its CPU (`perf` profile under
/// `scripts/bench.sh`'s webhook load). The outcome is not recorded: the text and JSON logs only
/// show a span's fields on events inside it, and those happen before the response; a failed
/// request logs its own error with its cause chain (`callpark_http::error`).
#[derive(Debug)]
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        tracing::info_span!(
            "request",
            method = request.method().as_str(),
            path = request.path(),
            request_id = request_id.map(tracing::field::display),
        )
    }

    fn on_request_end<B: MessageBody>(_: Span, _: &Result<ServiceResponse<B>, actix_web::Error>) {}
}
