//! The agents' web page, embedded in the binary: `cargo run` alone serves a working page, with
//! no build step and no third-party CDN.

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError as _, web};
use rust_embed::RustEmbed;

use crate::error::{ApiError, get};

#[derive(RustEmbed)]
#[folder = "ui/"]
struct Assets;

/// Scripts, styles and media only from this origin; Twilio's voice servers for the SDK's
/// signalling and media; no framing, no inline script.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; media-src 'self' https://*.twilio.com; \
    connect-src 'self' https://*.twilio.com wss://*.twilio.com; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'; object-src 'none'";

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/", index))
        .service(get("/ui/{path:.*}", asset));
}

async fn index() -> HttpResponse {
    serve("index.html")
}

async fn asset(path: web::Path<String>) -> HttpResponse {
    serve(&path)
}

fn serve(path: &str) -> HttpResponse {
    let Some(file) = Assets::get(path) else {
        return ApiError::not_found("not_found", format!("there is nothing at /ui/{path}"))
            .error_response();
    };
    let mime = match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(file.data.into_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The relative modules a script imports (`import … from './x.js';`, one a line).
    fn imports(script: &str) -> Vec<String> {
        script
            .lines()
            .filter(|line| line.starts_with("import "))
            .filter_map(|line| line.split("from './").nth(1))
            .filter_map(|rest| rest.split('\'').next())
            .map(str::to_owned)
            .collect()
    }

    /// A browser runs a module script only when it is served as JavaScript, and under this CSP
    /// only from 'self': every module the page reaches from main.js is embedded and served so.
    #[test]
    fn every_module_the_page_imports_is_embedded_and_served_as_javascript() {
        let index = Assets::get("index.html").expect("index.html is embedded");
        let index = std::str::from_utf8(&index.data).expect("UTF-8");
        assert!(index.contains(r#"<script type="module" src="/ui/main.js"></script>"#));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        let mut todo = vec!["main.js".to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(path) = todo.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let file =
                Assets::get(&path).unwrap_or_else(|| panic!("{path} is imported, not embedded"));
            let response = serve(&path);
            assert_eq!(
                response.headers().get(header::CONTENT_TYPE).unwrap(),
                "text/javascript; charset=utf-8",
                "{path}"
            );
            todo.extend(imports(std::str::from_utf8(&file.data).expect("UTF-8")));
        }
        assert!(
            seen.contains("lot.js") && seen.contains("voice.js"),
            "{seen:?}"
        );
    }
}
