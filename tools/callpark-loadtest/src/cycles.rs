//! Park+retrieve cycles, and the pre-signed webhooks wrk replays.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use callpark_http::routes::paths;
use clap::Args;
use serde_json::{Value, json};

use crate::Error;
use crate::api::{Instance, Org, Sids, TargetArgs, fake_twilio_stats, fresh_org_name};
use crate::stats::{Samples, rss_kib};

#[derive(Debug, Clone, Args)]
pub(crate) struct CyclesArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Cycles in flight at once (one agent each).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Organisations the agents are spread over (each has its own lot).
    #[arg(long, default_value_t = 1)]
    orgs: usize,
    /// Each cycle is a whole call's life: a new call comes in (the voice webhook, then the
    /// browser leg's call-status callback) before it is parked and retrieved. Without it,
    /// each agent's call comes in once and every cycle parks it again on the browser leg the
    /// last retrieve connected, as agents pass a caller around.
    #[arg(long)]
    new_call_each_cycle: bool,
    /// Seconds of cycles before measuring starts (not counted).
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Longest measurement, in seconds.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Stop once this many cycles have been measured.
    #[arg(long, default_value_t = 1_000_000)]
    max_cycles: u64,
    /// Give up after this many failed cycles.
    #[arg(long, default_value_t = 50)]
    max_errors: u64,
    /// The fake Twilio's URL: the Twilio requests per cycle are reported.
    #[arg(long)]
    fake_twilio: Option<String>,
    /// Processes whose RSS is sampled while the cycles run.
    #[arg(long, value_delimiter = ',')]
    rss_pid: Vec<u32>,
    /// Sample RSS after every this many measured cycles.
    #[arg(long, default_value_t = 10_000)]
    rss_every_cycles: u64,
}

#[derive(Debug)]
struct Shared {
    sids: Sids,
    stop: AtomicBool,
    measured: AtomicU64,
    /// Every cycle completed, warm-up included.
    completed: AtomicU64,
    errors: AtomicU64,
    measure_from: Instant,
    measure_until: Instant,
    max_cycles: u64,
    max_errors: u64,
}

struct Worker {
    instance: Instance,
    org: Org,
    agent: usize,
    new_call_each_cycle: bool,
    /// The caller's leg of the call in hand and the browser leg it is bridged to.
    call: Option<(String, String)>,
}

impl Worker {
    /// One cycle: the call is parked, retrieved and answered (after coming in, for a new
    /// call). Returns when the park request started and how long it took.
    async fn cycle(&mut self, sids: &Sids) -> Result<(Instant, Duration), Error> {
        let (identity, token) = &self.org.agents[self.agent];
        let (pstn, browser) = match self.call.take() {
            Some(call) if !self.new_call_each_cycle => call,
            _ => {
                self.instance
                    .inbound_call(sids, &self.org, identity)
                    .await?
            }
        };
        let started = Instant::now();
        let (id, slot) = self.instance.park(token, &browser).await?;
        let park = started.elapsed();
        let browser = self
            .instance
            .retrieve(sids, token, &id, slot, &pstn)
            .await?;
        self.call = Some((pstn, browser));
        Ok((started, park))
    }

    async fn run(mut self, shared: Arc<Shared>) -> Samples {
        let mut samples = Samples::default();
        while !shared.stop.load(Ordering::Relaxed) {
            match self.cycle(&shared.sids).await {
                Ok((started, park)) => {
                    shared.completed.fetch_add(1, Ordering::Relaxed);
                    let now = Instant::now();
                    if now < shared.measure_from {
                        continue;
                    }
                    if now > shared.measure_until {
                        break;
                    }
                    if started >= shared.measure_from {
                        samples.push(park);
                    }
                    if shared.measured.fetch_add(1, Ordering::Relaxed) + 1 >= shared.max_cycles {
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    let n = shared.errors.fetch_add(1, Ordering::Relaxed) + 1;
                    if n <= 5 {
                        eprintln!("cycle failed: {e}");
                    }
                    if n >= shared.max_errors {
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        samples
    }
}

async fn twilio_stats(url: Option<&str>) -> Result<Option<Value>, Error> {
    match url {
        Some(url) => Ok(Some(fake_twilio_stats(url).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn run(args: &CyclesArgs) -> Result<(), Error> {
    let instances = args.target.instances()?;
    let concurrency = args.concurrency.max(1);
    let orgs = create_orgs(&instances[0], concurrency, args.orgs).await?;
    eprintln!(
        "{concurrency} concurrent cycles over {} organisation(s), {} instance(s)",
        orgs.len(),
        instances.len()
    );
    let before = twilio_stats(args.fake_twilio.as_deref()).await?;
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup_secs);
    let shared = Arc::new(Shared {
        sids: Sids::new(),
        stop: AtomicBool::new(false),
        measured: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        measure_from,
        measure_until: measure_from + Duration::from_secs(args.duration_secs),
        max_cycles: args.max_cycles.max(1),
        max_errors: args.max_errors.max(1),
    });
    let workers: Vec<_> = (0..concurrency)
        .map(|i| {
            let worker = Worker {
                instance: instances[i % instances.len()].clone(),
                org: orgs[i % orgs.len()].clone(),
                agent: i / orgs.len(),
                new_call_each_cycle: args.new_call_each_cycle,
                call: None,
            };
            tokio::spawn(worker.run(Arc::clone(&shared)))
        })
        .collect();

    let rss = sample_rss(&shared, &args.rss_pid, args.rss_every_cycles).await;
    let mut park = Samples::default();
    for worker in workers {
        park.extend(worker.await?);
    }
    let ended = Instant::now().min(shared.measure_until);
    let after = twilio_stats(args.fake_twilio.as_deref()).await?;
    let measured = shared.measured.load(Ordering::Relaxed);
    let seconds = ended.saturating_duration_since(measure_from).as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let rate = if seconds > 0.0 {
        measured as f64 / seconds
    } else {
        0.0
    };
    // Every cycle that started has ended (the workers are done): the requests Twilio got, per
    // completed cycle, warm-up included.
    let completed = shared.completed.load(Ordering::Relaxed);
    let twilio = twilio_per_cycle(before.as_ref(), after.as_ref(), completed);
    let errors = shared.errors.load(Ordering::Relaxed);
    let result = json!({
        "concurrency": concurrency,
        "orgs": orgs.len(),
        "new_call_each_cycle": args.new_call_each_cycle,
        "instances": instances.len(),
        "cycles": measured,
        "completed": completed,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "cycles_per_sec": rate.round(),
        "park": park.summary(),
        "errors": errors,
        "twilio": twilio,
        "rss": rss,
    });
    println!("{result}");
    if errors >= shared.max_errors {
        return Err(format!("{errors} cycles failed").into());
    }
    Ok(())
}

/// Organisations for `concurrency` agents, `wanted` of them (at least one, at most one per
/// agent), each with room for twice its agents' calls.
async fn create_orgs(
    instance: &Instance,
    concurrency: usize,
    wanted: usize,
) -> Result<Vec<Org>, Error> {
    let wanted = wanted.clamp(1, concurrency);
    let per_org = concurrency.div_ceil(wanted);
    let slots = u32::try_from((per_org * 2).min(999)).unwrap_or(999);
    let mut orgs = Vec::with_capacity(wanted);
    for i in 0..wanted {
        let (slug, number) = fresh_org_name("cycles", i);
        orgs.push(instance.create_org(&slug, &number, slots, per_org).await?);
    }
    Ok(orgs)
}

/// The requests the fake Twilio got between `before` and `after`, in all and per completed
/// cycle.
fn twilio_per_cycle(
    before: Option<&Value>,
    after: Option<&Value>,
    completed: u64,
) -> Option<Value> {
    let (b, a) = (before?, after?);
    let total = |k: &str| a[k].as_u64().unwrap_or(0) - b[k].as_u64().unwrap_or(0);
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let per = |k: &str| (total(k) as f64 / completed.max(1) as f64 * 100.0).round() / 100.0;
    Some(json!({
        "updates_total": total("updates"),
        "fetches_total": total("fetches"),
        "lists_total": total("lists"),
        "updates_per_cycle": per("updates"),
        "fetches_per_cycle": per("fetches"),
    }))
}

/// Samples the processes' RSS at the start of measurement and after every `every` measured
/// cycles, until the workers stop.
async fn sample_rss(shared: &Shared, pids: &[u32], every: u64) -> Vec<Value> {
    let mut samples = Vec::new();
    let sample = |cycles: u64| {
        json!({
            "cycles": cycles,
            "rss_kib": pids.iter().map(|&p| rss_kib(p)).collect::<Vec<_>>(),
        })
    };
    let every = every.max(1);
    let mut next = 0;
    loop {
        let done = shared.stop.load(Ordering::Relaxed) || Instant::now() > shared.measure_until;
        let measured = shared.measured.load(Ordering::Relaxed);
        if !pids.is_empty() && (measured >= next || done) {
            samples.push(sample(measured));
            next = (measured / every + 1) * every;
        }
        if done {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `application/x-www-form-urlencoded`, as a browser or Twilio writes it.
fn form_encode(params: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        for (j, part) in [k, v].iter().enumerate() {
            if j == 1 {
                out.push('=');
            }
            for b in part.bytes() {
                if b.is_ascii_alphanumeric() || b"-_.*".contains(&b) {
                    out.push(char::from(b));
                } else {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
    }
    out
}

/// Parks one call and writes `park.lua` and `hold.lua` into `out_dir`: each POSTs the same
/// signed form (the parameters of a real Twilio request) to the parked call's TwiML endpoint.
pub(crate) async fn webhook_scripts(target: &TargetArgs, out_dir: &Path) -> Result<(), Error> {
    let instances = target.instances()?;
    let instance = &instances[0];
    let (slug, number) = fresh_org_name("webhooks", 0);
    let org = instance.create_org(&slug, &number, 10, 1).await?;
    let sids = Sids::new();
    let (identity, token) = &org.agents[0];
    let (pstn, browser) = instance.inbound_call(&sids, &org, identity).await?;
    let (id, _slot) = instance.park(token, &browser).await?;
    std::fs::create_dir_all(out_dir)?;
    let account = "AC0123456789abcdef0123456789abcdef";
    let params = [
        ("AccountSid", account),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", pstn.as_str()),
        ("CallStatus", "in-progress"),
        ("Called", number.as_str()),
        ("Caller", "+14155550100"),
        ("Direction", "inbound"),
        ("From", "+14155550100"),
        ("To", number.as_str()),
    ];
    let body = form_encode(&params);
    let mut paths = serde_json::Map::new();
    for (name, path) in [
        ("park", paths::with_id(paths::PARK, &id)),
        ("hold", paths::with_id(paths::HOLD, &id)),
    ] {
        // Check the endpoint answers TwiML before wrk hammers it.
        let twiml = instance.webhook(&path, &params).await?;
        if !twiml.contains("<Response>") {
            return Err(format!("{path} answered {twiml}").into());
        }
        let signature = instance.sign(&path, &params);
        let lua = format!(
            "-- Generated by callpark-loadtest: one signed Twilio webhook, replayed.\n\
             wrk.method = \"POST\"\n\
             wrk.path = \"{path}\"\n\
             wrk.body = \"{body}\"\n\
             wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             wrk.headers[\"X-Twilio-Signature\"] = \"{signature}\"\n"
        );
        std::fs::write(out_dir.join(format!("{name}.lua")), lua)?;
        paths.insert(name.to_owned(), Value::String(path));
    }
    println!("{}", json!({"id": id, "paths": paths}));
    Ok(())
}
