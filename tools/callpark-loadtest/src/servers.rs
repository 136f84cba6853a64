//! The two servers the benchmarks run beside callpark: a fake Twilio REST API and a bare
//! actix-web handler (the baseline the webhook figures are compared with).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::Error;

/// What the fake Twilio has been asked, for the latency test to check that a park costs one
/// Twilio round trip.
#[derive(Debug, Default)]
struct Counters {
    updates: AtomicU64,
    fetches: AtomicU64,
    lists: AtomicU64,
}

#[derive(Debug)]
struct Fake {
    delay: Duration,
    counters: Counters,
}

/// `…/Calls/{CallSid}.json` → the call SID.
fn call_sid(req: &HttpRequest) -> String {
    req.match_info()
        .get("file")
        .unwrap_or_default()
        .trim_end_matches(".json")
        .to_owned()
}

async fn wait(fake: &Fake) {
    if !fake.delay.is_zero() {
        tokio::time::sleep(fake.delay).await;
    }
}

/// `POST …/Calls/{sid}.json`: a redirect or a hang-up, accepted. The form is read (and
/// dropped) so that the connection is kept alive, as Twilio's are.
async fn update(fake: web::Data<Fake>, req: HttpRequest, _form: web::Bytes) -> HttpResponse {
    fake.counters.updates.fetch_add(1, Ordering::Relaxed);
    wait(&fake).await;
    HttpResponse::Ok().json(serde_json::json!({"sid": call_sid(&req), "status": "in-progress"}))
}

/// `GET …/Calls/{sid}.json`: a caller's leg in progress (so a fetch finds itself as the PSTN
/// leg, which the benchmarks never rely on: they check that no fetch happens).
async fn fetch(fake: web::Data<Fake>, req: HttpRequest) -> HttpResponse {
    fake.counters.fetches.fetch_add(1, Ordering::Relaxed);
    wait(&fake).await;
    HttpResponse::Ok().json(serde_json::json!({
        "sid": call_sid(&req),
        "parent_call_sid": null,
        "from": "+14155550100",
        "to": "+15550000000",
        "status": "in-progress",
    }))
}

/// `GET …/Calls.json?ParentCallSid=…`: no children.
async fn list(fake: web::Data<Fake>) -> HttpResponse {
    fake.counters.lists.fetch_add(1, Ordering::Relaxed);
    wait(&fake).await;
    HttpResponse::Ok().json(serde_json::json!({"calls": []}))
}

async fn stats(fake: web::Data<Fake>) -> HttpResponse {
    let c = &fake.counters;
    HttpResponse::Ok().json(serde_json::json!({
        "updates": c.updates.load(Ordering::Relaxed),
        "fetches": c.fetches.load(Ordering::Relaxed),
        "lists": c.lists.load(Ordering::Relaxed),
    }))
}

pub(crate) fn fake_twilio(port: u16, delay: Duration, workers: usize) -> Result<(), Error> {
    let fake = web::Data::new(Fake {
        delay,
        counters: Counters::default(),
    });
    eprintln!("fake Twilio on 127.0.0.1:{port}, answering after {delay:?}");
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(fake.clone())
                .route(
                    "/2010-04-01/Accounts/{account}/Calls/{file}",
                    web::post().to(update),
                )
                .route(
                    "/2010-04-01/Accounts/{account}/Calls/{file}",
                    web::get().to(fetch),
                )
                .route(
                    "/2010-04-01/Accounts/{account}/Calls.json",
                    web::get().to(list),
                )
                .route("/stats", web::get().to(stats))
        })
        .workers(workers.max(1))
        .bind(("127.0.0.1", port))?
        .run(),
    )?;
    Ok(())
}

/// As short as a real TwiML answer gets.
const BARE_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Play loop=\"0\">http://127.0.0.1/hold.mp3</Play></Response>";

/// The body is read (and dropped), as any webhook handler does: a handler that leaves it unread
/// makes actix close the connection after the answer, and the baseline would measure
/// reconnections instead.
async fn bare_twiml(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(BARE_TWIML)
}

pub(crate) fn bare(port: u16, workers: Option<usize>) -> Result<(), Error> {
    eprintln!("bare actix-web on 127.0.0.1:{port}");
    actix_web::rt::System::new().block_on({
        let mut server = HttpServer::new(|| App::new().default_service(web::post().to(bare_twiml)));
        if let Some(workers) = workers {
            server = server.workers(workers.max(1));
        }
        server.bind(("127.0.0.1", port))?.run()
    })?;
    Ok(())
}
