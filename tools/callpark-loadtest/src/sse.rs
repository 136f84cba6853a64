//! SSE fan-out: many `GET /api/events` subscribers (spread over the instances given), then
//! parks one after another; for each, the time from the park's HTTP response to the moment
//! the event of the call reaching `parked` has arrived at every subscriber.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::Error;
use crate::api::{Instance, Sids, TargetArgs, fresh_org_name};
use crate::stats::{Samples, rss_kib};

#[derive(Debug, Clone, Args)]
pub(crate) struct SseArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Subscribers, spread evenly over the instances.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Parks measured, one after another.
    #[arg(long, default_value_t = 100)]
    parks: usize,
    /// Pause between one park's retrieve and the next park, in milliseconds.
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
    /// Subscribers connecting at once.
    #[arg(long, default_value_t = 50)]
    connect_concurrency: usize,
    /// How long to wait for one event to reach every subscriber, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    event_timeout_ms: u64,
    /// Processes whose RSS is sampled once every subscriber is connected.
    #[arg(long, value_delimiter = ',')]
    rss_pid: Vec<u32>,
}

/// Who received what, when.
#[derive(Debug, Default)]
struct Tracker {
    ready: AtomicUsize,
    failed: AtomicUsize,
    /// Parked call id → (subscribers that have it, when the last one got it).
    arrivals: Mutex<HashMap<String, (usize, Instant)>>,
}

impl Tracker {
    fn arrived(&self, id: &str, at: Instant) {
        let mut arrivals = self
            .arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = arrivals.entry(id.to_owned()).or_insert((0, at));
        entry.0 += 1;
        entry.1 = entry.1.max(at);
    }

    fn get(&self, id: &str) -> Option<(usize, Instant)> {
        self.arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .copied()
    }
}

/// One SSE event, as far as this test reads it.
fn handle_event(block: &str, tracker: &Tracker, got_snapshot: &mut bool) {
    let mut name = "message";
    let mut data = String::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    match name {
        "snapshot" if !*got_snapshot => {
            *got_snapshot = true;
            tracker.ready.fetch_add(1, Ordering::Relaxed);
        }
        "parked" | "updated" => {
            let now = Instant::now();
            let Ok(event) = serde_json::from_str::<Value>(&data) else {
                return;
            };
            if event["call"]["state"] == "parked"
                && let Some(id) = event["call"]["id"].as_str()
            {
                tracker.arrived(id, now);
            }
        }
        _ => {}
    }
}

/// Follows the stream until it ends; `permit` is released once the snapshot has arrived, so
/// that only a few subscribers are connecting at any time.
async fn subscriber(
    instance: Instance,
    token: String,
    tracker: Arc<Tracker>,
    permit: OwnedSemaphorePermit,
) -> Result<(), Error> {
    let mut permit = Some(permit);
    let mut response = instance
        .http
        .get(instance.url("/api/events"))
        .bearer_auth(&token)
        // A stream outlives the client's default request timeout.
        .timeout(Duration::from_secs(3600))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("GET /api/events: HTTP {}", response.status()).into());
    }
    let mut buffer = String::new();
    let mut got_snapshot = false;
    while let Some(chunk) = response.chunk().await? {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            handle_event(&buffer[..end], &tracker, &mut got_snapshot);
            buffer.drain(..end + 2);
            if got_snapshot {
                permit.take();
            }
        }
    }
    Ok(())
}

/// Connects the subscribers, a few at a time, and waits (up to two minutes) until each has its
/// snapshot or has failed.
async fn connect_subscribers(
    args: &SseArgs,
    instances: &[Instance],
    token: &str,
    tracker: &Arc<Tracker>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Error> {
    let connecting = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let mut tasks = Vec::with_capacity(args.subscribers);
    for i in 0..args.subscribers {
        let permit = Arc::clone(&connecting).acquire_owned().await?;
        let (instance, token, tracker) = (
            instances[i % instances.len()].clone(),
            token.to_owned(),
            Arc::clone(tracker),
        );
        tasks.push(tokio::spawn(async move {
            if let Err(e) = subscriber(instance, token, Arc::clone(&tracker), permit).await
                && tracker.failed.fetch_add(1, Ordering::Relaxed) < 5
            {
                eprintln!("subscriber failed: {e}");
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while tracker.ready.load(Ordering::Relaxed) + tracker.failed.load(Ordering::Relaxed)
        < args.subscribers
    {
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(tasks)
}

pub(crate) async fn run(args: &SseArgs) -> Result<(), Error> {
    let instances = args.target.instances()?;
    let (slug, number) = fresh_org_name("sse", 0);
    let org = instances[0].create_org(&slug, &number, 10, 2).await?;
    let watcher_token = org.agents[1].1.clone();
    let tracker = Arc::new(Tracker::default());

    let started = Instant::now();
    let tasks = connect_subscribers(args, &instances, &watcher_token, &tracker).await?;
    let ready = tracker.ready.load(Ordering::Relaxed);
    eprintln!(
        "{ready} of {} subscribers connected over {} instance(s) in {:?}",
        args.subscribers,
        instances.len(),
        started.elapsed()
    );
    // Let the connection storm settle before sampling memory and measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected: Vec<Option<u64>> = args.rss_pid.iter().map(|&p| rss_kib(p)).collect();

    let parker = &instances[0];
    let (identity, token) = &org.agents[0];
    let sids = Sids::new();
    let mut delivery = Samples::default();
    let mut from_request = Samples::default();
    let (mut complete, mut incomplete) = (0usize, 0usize);
    let run_deadline = Instant::now() + Duration::from_secs(300);
    for _ in 0..args.parks {
        if Instant::now() > run_deadline {
            break;
        }
        let (pstn, browser) = parker.inbound_call(&sids, &org, identity).await?;
        let requested = Instant::now();
        let (id, slot) = parker.park(token, &browser).await?;
        let answered = Instant::now();
        let wait_until = answered + Duration::from_millis(args.event_timeout_ms);
        loop {
            match tracker.get(&id) {
                Some((n, last)) if n >= ready => {
                    complete += 1;
                    delivery.push(last.saturating_duration_since(answered));
                    from_request.push(last.saturating_duration_since(requested));
                    break;
                }
                _ if Instant::now() > wait_until => {
                    incomplete += 1;
                    break;
                }
                _ => tokio::time::sleep(Duration::from_micros(200)).await,
            }
        }
        parker.retrieve(&sids, token, &id, slot, &pstn).await?;
        tokio::time::sleep(Duration::from_millis(args.interval_ms)).await;
    }
    let result = json!({
        "subscribers": args.subscribers,
        "connected": ready,
        "failed": tracker.failed.load(Ordering::Relaxed),
        "instances": instances.len(),
        "parks": complete + incomplete,
        "incomplete": incomplete,
        "delivery_after_response": delivery.summary(),
        "delivery_after_request": from_request.summary(),
        "rss_kib_connected": rss_connected,
    });
    println!("{result}");
    for task in tasks {
        task.abort();
    }
    Ok(())
}
