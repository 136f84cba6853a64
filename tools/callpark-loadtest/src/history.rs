//! `callpark-loadtest history`: reading a long history over HTTP, as a supervisor's report or
//! an integration would. The database is filled beforehand (`scripts/bench-history.sh`); this
//! measures the first page, pages deep in the history (by cursors collected on a walk through
//! all of it), two filtered pages (a slot's voicemails, which some slots have none of; the
//! live calls, which an ended history has none of), the CSV of everything, with the service's
//! memory while the CSV streams, and a supervisor's reports of the last day and 30 days.

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};

use crate::Error;
use crate::stats::{Samples, ms, rss_kib};

#[derive(Debug, Clone, Args)]
pub(crate) struct HistoryArgs {
    /// The service's base URL.
    #[arg(long)]
    base: String,
    /// A supervisor's token of the organisation whose history is read (the reports are a
    /// supervisor's).
    #[arg(long)]
    token: String,
    /// The service's process id, for its memory while the CSV streams.
    #[arg(long)]
    pid: u32,
    /// Requests per measured kind of page.
    #[arg(long, default_value_t = 300)]
    requests: usize,
}

pub(crate) async fn run(args: &HistoryArgs) -> Result<(), Error> {
    let http = reqwest::Client::new();
    let get = |query: String| {
        let request = http
            .get(format!("{}/api/history{query}", args.base))
            .bearer_auth(&args.token);
        async move {
            let started = Instant::now();
            let response = request.send().await?.error_for_status()?;
            let page: Value = response.json().await?;
            Ok::<_, Error>((started.elapsed(), page))
        }
    };

    // A walk through everything, 500 a page: its cursors are the deep pages measured below.
    let walk_started = Instant::now();
    let (mut cursors, mut walked, mut query) = (Vec::new(), 0u64, "?limit=500".to_owned());
    loop {
        let (_, page) = get(query).await?;
        walked += page["calls"].as_array().map_or(0, |c| c.len() as u64);
        let Some(next) = page["nextCursor"].as_str() else {
            break;
        };
        cursors.push(next.to_owned());
        query = format!("?limit=500&cursor={next}");
    }
    let walk = walk_started.elapsed();
    eprintln!(
        "history: walked {walked} calls in {} pages",
        cursors.len() + 1
    );
    if cursors.is_empty() {
        return Err("the history has a single page: fill it first".into());
    }

    let mut first = Samples::default();
    let mut deep = Samples::default();
    let mut filtered = Samples::default();
    let mut live = Samples::default();
    for i in 0..args.requests {
        first.push(get("?limit=50".to_owned()).await?.0);
        let cursor = &cursors[fastrand::usize(..cursors.len())];
        deep.push(get(format!("?limit=50&cursor={cursor}")).await?.0);
        let slot = i % 8 + 1;
        filtered.push(
            get(format!("?limit=50&outcome=voicemail&slot={slot}"))
                .await?
                .0,
        );
        live.push(get("?limit=50&outcome=live".to_owned()).await?.0);
    }

    let csv = csv(&http, args).await?;
    let (day, month) = (
        stats(&http, args, "hour").await?,
        stats(&http, args, "day").await?,
    );
    println!(
        "{}",
        json!({
            "calls": walked,
            "walk_500_per_page": {
                "pages": cursors.len() + 1,
                "seconds": walk.as_secs_f64(),
                "calls_per_s": per_second(walked, walk),
            },
            "first_page_50": first.summary(),
            "deep_page_50": deep.summary(),
            "voicemail_in_a_slot_page_50": filtered.summary(),
            "live_calls_page_50": live.summary(),
            "csv": csv,
            "stats_last_day_by_hour": day,
            "stats_last_30_days_by_day": month,
        })
    );
    Ok(())
}

/// The CSV of everything, read as it streams: rows per second, and the service's memory
/// before and at its highest while it streamed.
async fn csv(http: &reqwest::Client, args: &HistoryArgs) -> Result<Value, Error> {
    let rss_before = rss_kib(args.pid);
    let mut rss_max = rss_before.unwrap_or(0);
    let started = Instant::now();
    let mut response = http
        .get(format!("{}/api/history.csv", args.base))
        .bearer_auth(&args.token)
        .send()
        .await?
        .error_for_status()?;
    let (mut lines, mut bytes, mut last_sample) = (0u64, 0u64, Instant::now());
    while let Some(chunk) = response.chunk().await? {
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        bytes += chunk.len() as u64;
        if last_sample.elapsed() > Duration::from_millis(50) {
            rss_max = rss_max.max(rss_kib(args.pid).unwrap_or(0));
            last_sample = Instant::now();
        }
    }
    let elapsed = started.elapsed();
    let rows = lines.saturating_sub(1);
    Ok(json!({
        "rows": rows,
        "megabytes": bytes as f64 / 1e6,
        "ms": ms(elapsed),
        "rows_per_s": per_second(rows, elapsed),
        "service_rss_kib_before": rss_before,
        "service_rss_kib_max": rss_max,
    }))
}

/// A supervisor's report (`GET /api/stats`, its default range for the bucket), a few times:
/// how long it takes, and how many parked calls it adds up.
async fn stats(http: &reqwest::Client, args: &HistoryArgs, bucket: &str) -> Result<Value, Error> {
    let mut took = Samples::default();
    let mut parks = 0;
    for _ in 0..STATS_REQUESTS {
        let started = Instant::now();
        let report: Value = http
            .get(format!("{}/api/stats?bucket={bucket}", args.base))
            .bearer_auth(&args.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        took.push(started.elapsed());
        parks = report["totals"]["parks"].as_u64().unwrap_or(0);
    }
    Ok(json!({"parks": parks, "latency": took.summary()}))
}

/// Reports read per range: each adds up every call of its range.
const STATS_REQUESTS: usize = 5;

fn per_second(n: u64, elapsed: Duration) -> f64 {
    (n as f64 / elapsed.as_secs_f64()).round()
}
