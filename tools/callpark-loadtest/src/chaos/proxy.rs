//! The public URL of a chaos run: a round-robin proxy in front of the callpark instances, as a
//! load balancer is in production. Like nginx with `proxy_next_upstream error
//! non_idempotent`, a request an instance did not answer (it was killed, or is restarting) goes
//! to the next one; an answer, whatever its status, is passed on as it is.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Debug)]
struct Proxy {
    backends: Vec<String>,
    next: AtomicUsize,
    http: reqwest::Client,
    /// Requests an instance did not answer, sent to the next.
    failovers: Arc<AtomicUsize>,
}

/// The request headers that matter to callpark.
const FORWARDED: [&str; 4] = [
    "content-type",
    "authorization",
    "x-twilio-signature",
    "cookie",
];

async fn forward(proxy: web::Data<Proxy>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let Ok(method) = reqwest::Method::from_bytes(req.method().as_str().as_bytes()) else {
        return HttpResponse::MethodNotAllowed().finish();
    };
    let first = proxy.next.fetch_add(1, Ordering::Relaxed);
    for i in 0..proxy.backends.len() {
        let backend = &proxy.backends[(first + i) % proxy.backends.len()];
        let mut request = proxy
            .http
            .request(method.clone(), format!("{backend}{path}"))
            .body(body.clone());
        for name in FORWARDED {
            if let Some(value) = req.headers().get(name) {
                request = request.header(name, value.as_bytes());
            }
        }
        let Ok(response) = request.send().await else {
            proxy.failovers.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("text/plain")
            .to_owned();
        let Ok(bytes) = response.bytes().await else {
            proxy.failovers.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        return HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status).unwrap_or_default(),
        )
        .content_type(content_type)
        .body(bytes);
    }
    HttpResponse::BadGateway().body("no instance answered")
}

/// Serves the proxy on `listener`; `failovers` counts the requests sent on to another
/// instance.
pub(crate) fn serve(
    backends: Vec<String>,
    listener: std::net::TcpListener,
    failovers: Arc<AtomicUsize>,
) -> Result<actix_web::dev::Server, crate::Error> {
    let proxy = web::Data::new(Proxy {
        backends,
        next: AtomicUsize::new(0),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build()?,
        failovers,
    });
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(proxy.clone())
            .app_data(web::PayloadConfig::new(1 << 20))
            .default_service(web::to(forward))
    })
    .workers(2)
    .disable_signals()
    .listen(listener)?
    .run())
}
