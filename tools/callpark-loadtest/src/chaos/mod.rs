//! `callpark-loadtest chaos`: thousands of call lives through two callpark instances on one
//! PostgreSQL, with the faithful simulated Twilio injecting every fault it knows (20404, 20429,
//! 5xx, stalled requests; callbacks twice, late and out of order), a `kill -9` of one instance
//! and a PostgreSQL restart mid-run; then the invariants ([`check`]). See
//! `docs/reliability.md` and `scripts/chaos.sh`.

mod check;
mod instances;
mod lives;
mod proxy;
mod twilio;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use callpark_domain::{HttpUrl, OrgSlug};
use callpark_sandbox::{Behaviour, Console, Disorder, Sandbox, SandboxConfig};
use clap::Args;
use secrecy::SecretString;
use serde_json::json;

use crate::Error;
use instances::{Instance, Launch};
use lives::Lives;

#[derive(Debug, Clone, Args)]
pub(crate) struct ChaosArgs {
    /// The `callpark` binary under test.
    #[arg(long, default_value = "target/debug/callpark")]
    callpark_bin: PathBuf,
    /// A database of the run's own (it is migrated and filled).
    #[arg(long, env = "CHAOS_DATABASE_URL")]
    database_url: String,
    /// Call lives in all.
    #[arg(long, default_value_t = 500)]
    lives: u64,
    /// Lives at once.
    #[arg(long, default_value_t = 24)]
    concurrency: usize,
    #[arg(long, default_value_t = 4)]
    orgs: usize,
    /// Agents per organisation.
    #[arg(long, default_value_t = 8)]
    agents: usize,
    /// The share of Twilio REST requests that fail (each kind equally often).
    #[arg(long, default_value_t = 0.04)]
    fault_rate: f64,
    /// The share of callbacks sent twice, and the share held back (up to a second).
    #[arg(long, default_value_t = 0.05)]
    disorder: f64,
    /// A parked call's deadline (the organisations' `maxParkSeconds`).
    #[arg(long, default_value_t = 6)]
    max_park_secs: u64,
    /// The instances' `CALLPARK_RING_SECS` (the least Twilio allows: 5).
    #[arg(long, default_value_t = 5)]
    ring_secs: u64,
    /// The instances' `CALLPARK_RECONCILE_GRACE_SECS`.
    #[arg(long, default_value_t = 4)]
    grace_secs: u64,
    /// How much faster than real time a browser that is let ring rings.
    #[arg(long, default_value_t = 5.0)]
    clock_speed: f64,
    /// When (the share of lives begun) one instance is killed with SIGKILL, and started again.
    #[arg(long, default_value_t = 0.4)]
    kill_at: f64,
    /// A shell command that restarts PostgreSQL, run once the share `--pg-restart-at` of the
    /// lives has begun.
    #[arg(long)]
    pg_restart: Option<String>,
    #[arg(long, default_value_t = 0.7)]
    pg_restart_at: f64,
    /// Where the instances' output goes.
    #[arg(long, default_value = "target/chaos")]
    logs: PathBuf,
}

const ADMIN_TOKEN: &str = "chaos-admin-token-0123456789abcdef0123";
const AUTH_TOKEN: &str = "chaos-auth-token";

fn listener() -> Result<(std::net::TcpListener, String), Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    Ok((listener, url))
}

fn sandbox(public: &str, args: &ChaosArgs) -> Result<Sandbox, Error> {
    Ok(Sandbox::new(SandboxConfig {
        console: Console {
            voice_url: HttpUrl::parse(&format!("{public}/twilio/voice"))?,
            status_callback_url: HttpUrl::parse(&format!("{public}/twilio/call-status"))?,
        },
        auth_token: SecretString::from(AUTH_TOKEN),
        behaviour: Behaviour {
            disorder: Disorder {
                duplicate: args.disorder,
                delay: args.disorder,
                max_delay: Duration::from_secs(1),
            },
            clock_speed: args.clock_speed,
        },
    }))
}

pub(crate) async fn run(args: &ChaosArgs) -> Result<(), Error> {
    std::fs::create_dir_all(&args.logs)?;
    let (facade_listener, facade_url) = listener()?;
    let (proxy_listener, public) = listener()?;
    let sandbox = sandbox(&public, args)?;
    let facade = twilio::Facade {
        sandbox: sandbox.clone(),
        stall: Duration::from_secs(3),
    };
    tokio::spawn(twilio::serve(facade, facade_listener)?);
    let launch = Launch {
        binary: args.callpark_bin.clone(),
        database_url: args.database_url.clone(),
        public_url: public.clone(),
        twilio_api_base: facade_url,
        account_sid: format!("AC{:032x}", 0x5a4d_b0c5_u128),
        auth_token: AUTH_TOKEN.to_owned(),
        admin_token: ADMIN_TOKEN.to_owned(),
        ring_secs: args.ring_secs,
        reconcile_grace_secs: args.grace_secs,
        logs: args.logs.clone(),
    };
    // One after the other: the first applies the migrations.
    let mut instances = vec![launch.start("a").await?, launch.start("b").await?];
    let failovers = Arc::new(AtomicUsize::new(0));
    let backends = instances.iter().map(|i| i.base.clone()).collect();
    tokio::spawn(proxy::serve(
        backends,
        proxy_listener,
        Arc::clone(&failovers),
    )?);

    let http = crate::api::http_client()?;
    let max_park = Duration::from_secs(args.max_park_secs);
    let orgs = lives::sign_in(
        &http,
        &public,
        ADMIN_TOKEN,
        args.orgs,
        args.agents,
        max_park,
    )
    .await?;
    let lives = Arc::new(Lives {
        sandbox: sandbox.clone(),
        http,
        base: public,
        orgs,
        max_park,
        ring: Duration::from_secs(args.ring_secs),
        grace: Duration::from_secs(args.grace_secs),
        outcomes: Default::default(),
        next_caller: AtomicU64::new(1),
        callers: Default::default(),
    });
    lives.shuffle_pickups();
    sandbox.set_fault_rate(args.fault_rate);
    let started = Instant::now();
    let begun = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| tokio::spawn(worker(Arc::clone(&lives), Arc::clone(&begun), args.lives)))
        .collect();
    let mischief = disrupt(args, &launch, &mut instances, &begun, &workers).await?;
    for worker in workers {
        worker.await?;
    }
    let lived = started.elapsed();
    // Faults stop with the last life; reconciliation and late callbacks settle what is left.
    sandbox.set_fault_rate(0.0);
    tokio::time::sleep(Duration::from_secs(args.grace_secs * 2 + 5)).await;
    let store = callpark_postgres::PgStore::connect(&callpark_postgres::PgConfig::new(
        args.database_url.clone(),
    ))
    .await?;
    let slugs = lives
        .orgs
        .iter()
        .map(|o| OrgSlug::parse(&o.slug))
        .collect::<Result<Vec<_>, _>>()?;
    let verdict = check::check(&store, &sandbox, &slugs).await?;
    report(&lives, &sandbox, &verdict, lived, mischief, &failovers)
}

/// One of the run's concurrent callers: lives until all have begun.
async fn worker(lives: Arc<Lives>, begun: Arc<AtomicU64>, total: u64) {
    loop {
        let n = begun.fetch_add(1, Ordering::Relaxed);
        if n >= total {
            return;
        }
        let org = &lives.orgs[usize::try_from(n).unwrap_or_default() % lives.orgs.len()];
        lives.live(org).await;
    }
}

/// While the lives go on: the `kill -9` and the PostgreSQL restart, each once, at its time;
/// progress on stderr. Returns what was done.
async fn disrupt(
    args: &ChaosArgs,
    launch: &Launch,
    instances: &mut [Instance],
    begun: &AtomicU64,
    workers: &[tokio::task::JoinHandle<()>],
) -> Result<Vec<String>, Error> {
    let mut done = Vec::new();
    let at = |share: f64| (args.lives as f64 * share) as u64;
    let (mut killed, mut restarted) = (false, args.pg_restart.is_none());
    let mut last_report = Instant::now();
    while !workers.iter().all(tokio::task::JoinHandle::is_finished) {
        let n = begun.load(Ordering::Relaxed).min(args.lives);
        if !killed && n >= at(args.kill_at) {
            killed = true;
            instances[1].kill()?;
            eprintln!("chaos: kill -9 of instance b after {n} lives");
            tokio::time::sleep(Duration::from_secs(2)).await;
            launch.restart(&mut instances[1]).await?;
            done.push(format!(
                "kill -9 of one instance after {n} lives, restarted 2 s later"
            ));
        }
        if !restarted && n >= at(args.pg_restart_at) {
            restarted = true;
            let command = args.pg_restart.clone().unwrap_or_default();
            eprintln!("chaos: restarting PostgreSQL after {n} lives");
            let status = tokio::task::spawn_blocking(move || {
                std::process::Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .status()
            })
            .await??;
            if !status.success() {
                return Err(format!("the PostgreSQL restart command failed: {status}").into());
            }
            done.push(format!("PostgreSQL restarted after {n} lives"));
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!("chaos: {n} of {} lives begun", args.lives);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(done)
}

fn report(
    lives: &Lives,
    sandbox: &Sandbox,
    verdict: &check::Verdict,
    lived: Duration,
    disruptions: Vec<String>,
    failovers: &AtomicUsize,
) -> Result<(), Error> {
    let outcomes = lives
        .outcomes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let findings: Vec<_> = verdict
        .findings
        .iter()
        .map(
            |f| json!({"invariant": f.invariant, "violations": f.violations, "example": f.example}),
        )
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "lives": outcomes.values().sum::<u64>(),
            "seconds": lived.as_secs(),
            "outcomes": outcomes,
            "callers_at_the_end": verdict.callers,
            "events": verdict.events,
            "twilio_mischief": sandbox.mischief(),
            "requests_failed_over_by_the_proxy": failovers.load(Ordering::Relaxed),
            "disruptions": disruptions,
            "invariants": findings,
        }))?
    );
    let broken: Vec<_> = verdict
        .findings
        .iter()
        .filter(|f| f.violations > 0)
        .collect();
    for f in &broken {
        eprintln!(
            "chaos: FAILED: {} {} (e.g. {})",
            f.violations,
            f.invariant,
            f.example.as_deref().unwrap_or("-")
        );
    }
    if broken.is_empty() {
        eprintln!("chaos: every invariant holds");
        Ok(())
    } else {
        Err(format!("{} invariants broken", broken.len()).into())
    }
}
