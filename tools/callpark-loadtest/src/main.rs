//! `callpark-loadtest`: the load generator behind `scripts/bench.sh`.
//!
//! A tool, not part of the product: nothing in `crates/` depends on it, and it is not shipped.
//! It drives a running service from outside, over HTTP, as Twilio and the agents' pages would;
//! the webhook paths it requests are the service's own (`callpark_http::routes::paths`).
//!
//! Every workload talks to 127.0.0.1 only, and every loop is bounded both in count and in time.
//! Results go to stdout as one JSON object, for the script to put into `docs/benchmarks.md`;
//! progress goes to stderr.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line load generator reports on stdout and stderr"
)]

mod api;
mod chaos;
mod cycles;
mod history;
mod servers;
mod sse;
mod stats;

use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "callpark-loadtest",
    about = "Load generator for callpark's benchmarks, and its chaos run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A fake Twilio REST API: call updates and fetches answer 200, after `--delay-ms`.
    FakeTwilio {
        #[arg(long)]
        port: u16,
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// HTTP worker threads.
        #[arg(long, default_value_t = 1)]
        workers: usize,
    },
    /// A bare actix-web handler answering a short TwiML body to any POST: the baseline.
    Bare {
        #[arg(long)]
        port: u16,
        /// HTTP worker threads (default: one per core, as callpark).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Parks one call and writes wrk Lua scripts that POST a fixed, pre-signed webhook to its
    /// park and hold TwiML endpoints.
    WebhookScripts {
        #[command(flatten)]
        target: api::TargetArgs,
        /// Where to write park.lua and hold.lua.
        #[arg(long)]
        out_dir: std::path::PathBuf,
    },
    /// Concurrent park+retrieve cycles over HTTP: cycles/s and the latency of `POST /api/park`.
    Cycles(cycles::CyclesArgs),
    /// SSE fan-out: subscribers on one or more instances, then parks; the time from a park's
    /// HTTP response to its event at the last subscriber.
    Sse(sse::SseArgs),
    /// Call lives through two callpark instances on one database, with a faithful simulated
    /// Twilio injecting faults, a `kill -9` and a PostgreSQL restart; then the invariants.
    Chaos(chaos::ChaosArgs),
    /// A long history read over HTTP: first and deep pages, a filtered page, the whole CSV.
    History(history::HistoryArgs),
    /// VmRSS of processes, in KiB.
    Rss {
        /// Process ids.
        #[arg(long, value_delimiter = ',', required = true)]
        pid: Vec<u32>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::FakeTwilio {
            port,
            delay_ms,
            workers,
        } => servers::fake_twilio(port, Duration::from_millis(delay_ms), workers),
        Command::Bare { port, workers } => servers::bare(port, workers),
        Command::Rss { pid } => {
            let rss: Vec<serde_json::Value> = pid
                .iter()
                .map(|&p| serde_json::json!({"pid": p, "rss_kib": stats::rss_kib(p)}))
                .collect();
            println!("{}", serde_json::Value::Array(rss));
            Ok(())
        }
        Command::WebhookScripts { target, out_dir } => {
            runtime().block_on(cycles::webhook_scripts(&target, &out_dir))
        }
        Command::Cycles(args) => runtime().block_on(cycles::run(&args)),
        Command::Sse(args) => runtime().block_on(sse::run(&args)),
        Command::Chaos(args) => runtime().block_on(chaos::run(&args)),
        Command::History(args) => runtime().block_on(history::run(&args)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("callpark-loadtest: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The load generator's own runtime: two threads, as many as the machine has cores; it shares
/// them with the service, which is the point of measuring on one machine.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Any error, with its message.
pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;
