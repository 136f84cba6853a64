//! Prometheus metrics. Counters are incremented where an event is written (so several
//! instances never count one event twice); the occupancy gauge follows the live feed, which
//! every instance sees whole.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use async_trait::async_trait;
use callpark_domain::{
    CallSid, CallStatus, ChildLeg, EventPublisher, EventSubscription, HttpUrl, LotEvent,
    LotEventKind, OrgSlug, ParkingService, PstnLeg, RecordingAudio, SlotNumber, SubscriptionError,
    Telephony, TelephonyError,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The process's metrics recorder, installed on first use (a process has one).
pub fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(TIME_ON_HOLD.to_owned()), HOLD_BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// How long callers were on hold, by organisation and how the call left the lot: a
/// histogram, so that a dashboard can sum it across instances and organisations.
const TIME_ON_HOLD: &str = "callpark_time_on_hold_seconds";

/// Its buckets, in seconds: from a quick retrieve to the longest park.
const HOLD_BUCKETS: &[f64] = &[
    5.0, 10.0, 15.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
];

/// How often [`upkeep`] folds the histograms' new samples into their summaries.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the histograms' new samples into their summaries every `every`. A recorder installed
/// with `install_recorder` (as [`prometheus`] does) leaves that to its caller: without it every
/// sample of every histogram (a few per call) is kept until `/metrics` is scraped, which, where
/// nobody scrapes, grows without end (1 MB per 10,000 park+retrieve cycles).
pub async fn upkeep(handle: PrometheusHandle, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        handle.run_upkeep();
    }
}

/// Counts every event this instance writes, by organisation and kind, and observes each
/// call's time on hold when it leaves the lot.
pub struct MeteredEvents(pub Arc<dyn EventPublisher>);

impl std::fmt::Debug for MeteredEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MeteredEvents")
    }
}

#[async_trait]
impl EventPublisher for MeteredEvents {
    async fn publish(&self, event: &LotEvent) {
        let name = match event.kind {
            LotEventKind::Parked => Some("callpark_parks_total"),
            LotEventKind::Retrieved => Some("callpark_retrieves_total"),
            LotEventKind::Abandoned => Some("callpark_abandons_total"),
            LotEventKind::TimedOut => Some("callpark_timeouts_total"),
            _ => None,
        };
        let org = event.org.to_string();
        if let Some(name) = name {
            metrics::counter!(name, "org" => org.clone()).increment(1);
        }
        metrics::counter!(
            "callpark_lot_events_total",
            "org" => org.clone(),
            "kind" => event.kind.as_str()
        )
        .increment(1);
        // The events by which a call leaves the lot, each once per call.
        let left = match event.kind {
            LotEventKind::Retrieved => Some("retrieved"),
            LotEventKind::Abandoned => Some("abandoned"),
            LotEventKind::Voicemail => Some("voicemail"),
            LotEventKind::Failed => Some("failed"),
            _ => None,
        };
        if let Some(outcome) = left {
            metrics::histogram!(TIME_ON_HOLD, "org" => org, "outcome" => outcome)
                .record(event.call.time_on_hold(event.at).as_secs_f64());
        }
        self.0.publish(event).await;
    }

    fn subscribe(&self) -> Box<dyn EventSubscription> {
        self.0.subscribe()
    }
}

/// Times every Twilio REST request, by operation and outcome.
#[derive(Debug)]
pub struct MeteredTelephony<T>(pub T);

fn observe<T>(op: &'static str, started: Instant, result: &Result<T, TelephonyError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(TelephonyError::NotInProgress | TelephonyError::NotFound) => "gone",
        Err(TelephonyError::CredentialsRejected) => "credentials",
        Err(TelephonyError::NotProcessed(_)) => "not_processed",
        Err(TelephonyError::OutcomeUnknown(_)) => "unknown",
    };
    metrics::histogram!("callpark_twilio_request_seconds", "op" => op, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
}

#[async_trait]
impl<T: Telephony> Telephony for MeteredTelephony<T> {
    async fn find_pstn_leg(&self, browser_leg: &CallSid) -> Result<PstnLeg, TelephonyError> {
        let started = Instant::now();
        let result = self.0.find_pstn_leg(browser_leg).await;
        observe("find_pstn_leg", started, &result);
        result
    }

    async fn redirect(
        &self,
        call: &CallSid,
        url: &HttpUrl,
        status_callback: &HttpUrl,
    ) -> Result<(), TelephonyError> {
        let started = Instant::now();
        let result = self.0.redirect(call, url, status_callback).await;
        observe("redirect", started, &result);
        result
    }

    async fn call_status(&self, call: &CallSid) -> Result<CallStatus, TelephonyError> {
        let started = Instant::now();
        let result = self.0.call_status(call).await;
        observe("call_status", started, &result);
        result
    }

    async fn child_legs(&self, caller_leg: &CallSid) -> Result<Vec<ChildLeg>, TelephonyError> {
        let started = Instant::now();
        let result = self.0.child_legs(caller_leg).await;
        observe("child_legs", started, &result);
        result
    }

    async fn hang_up(&self, call: &CallSid) -> Result<(), TelephonyError> {
        let started = Instant::now();
        let result = self.0.hang_up(call).await;
        observe("hang_up", started, &result);
        result
    }

    async fn recording(&self, url: &HttpUrl) -> Result<RecordingAudio, TelephonyError> {
        let started = Instant::now();
        let result = self.0.recording(url).await;
        observe("recording", started, &result);
        result
    }
}

/// Keeps `callpark_lot_occupancy{org}` current from the live feed. An organisation's gauge is
/// seeded from its lot the first time one of its events is seen.
pub async fn follow_occupancy(service: ParkingService) {
    let mut feed = service.subscribe();
    let mut occupied: HashMap<OrgSlug, HashSet<SlotNumber>> = HashMap::new();
    loop {
        let event = match feed.next().await {
            Ok(event) => event,
            // Recount every known organisation from its lot.
            Err(SubscriptionError::Lagged) => {
                occupied.clear();
                continue;
            }
            Err(SubscriptionError::Closed) => return,
        };
        let slots = match occupied.entry(event.org.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let Ok(Some(org)) = service.org(&event.org).await else {
                    continue;
                };
                let Ok(lot) = service.lot(&org).await else {
                    continue;
                };
                e.insert(
                    lot.slots
                        .iter()
                        .filter(|s| s.call.is_some())
                        .map(|s| s.slot)
                        .collect(),
                )
            }
        };
        if event.call.occupies_slot() {
            slots.insert(event.call.slot);
        } else {
            slots.remove(&event.call.slot);
        }
        #[expect(clippy::cast_precision_loss, reason = "a lot has at most 999 slots")]
        let count = slots.len() as f64;
        metrics::gauge!("callpark_lot_occupancy", "org" => event.org.to_string()).set(count);
    }
}

/// Records how long a webhook took, by route pattern and status.
pub fn record_webhook(route: &'static str, started: Instant, status: StatusCode) {
    metrics::histogram!(
        "callpark_webhook_seconds",
        "route" => route,
        "status" => status_label(status)
    )
    .record(started.elapsed().as_secs_f64());
}

/// The status as a label, without an allocation for the ones webhooks answer.
fn status_label(status: StatusCode) -> metrics::SharedString {
    match status.as_u16() {
        200 => "200".into(),
        204 => "204".into(),
        400 => "400".into(),
        403 => "403".into(),
        404 => "404".into(),
        409 => "409".into(),
        500 => "500".into(),
        503 => "503".into(),
        other => other.to_string().into(),
    }
}
