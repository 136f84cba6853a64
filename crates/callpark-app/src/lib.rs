//! # callpark-app
//!
//! The `callpark` binary's wiring: settings in, a running service out. [`Application::build`]
//! binds (port 0 in tests), picks the store (Postgres or memory) and the telephony (Twilio or
//! the sandbox), and starts the HTTP server and the background sweeps.

pub mod config;
mod store;
pub mod telemetry;
mod telephony;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use callpark_domain::{
    AgentIdentity, BoxError, CreateAgentError, CreateOrgError, DisplayName, NewAgent,
    ParkingService, Ports, Role, SystemClock,
};
use callpark_http::metrics::MeteredEvents;
use callpark_http::{HttpContext, HttpSettings, Routes};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::Settings;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the public URL is invalid")]
    PublicUrl(#[source] callpark_domain::InvalidValue),
    #[error(
        "refusing to run real Twilio calls on the in-memory store (parked calls would be lost on \
         restart): set DATABASE_URL, or pass --allow-memory-store"
    )]
    VolatileStore,
    #[error("the Twilio client could not be set up")]
    Twilio(#[source] BoxError),
    #[error("the database could not be set up")]
    Store(#[source] BoxError),
    #[error("the demo organisation could not be created")]
    Demo(#[source] BoxError),
}

/// The sandbox's demo organisation and its agents' tokens, to print at start.
#[derive(Debug, Clone)]
pub struct Demo {
    pub org: String,
    pub number: String,
    /// (identity, token) of each demo agent; empty when the organisation already existed (its
    /// tokens were shown when it was created).
    pub agents: Vec<(String, String)>,
}

/// A running callpark.
pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
    shutdown: watch::Sender<bool>,
    demo: Option<Demo>,
    sandbox: bool,
    background: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// Applies the database migrations (`callpark migrate`).
///
/// # Errors
/// [`StartupError::Store`] when there is no database or it cannot be migrated.
pub async fn migrate(database: &config::DatabaseArgs) -> Result<(), StartupError> {
    let settings = database
        .settings()
        .ok_or_else(|| StartupError::Store("set DATABASE_URL to migrate".into()))?;
    store::migrate(&settings).await
}

impl Application {
    /// Binds, connects and starts everything; the server runs once
    /// [`Application::run_until_stopped`] is awaited.
    ///
    /// # Errors
    /// [`StartupError`] for a port in use, an invalid public URL, an unreachable database,
    /// real Twilio on the memory store without `--allow-memory-store`.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let (listener, address) = bind(&settings.listen)?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let routes = Routes::new(&public_url).map_err(StartupError::PublicUrl)?;

        if settings.twilio.is_some() && settings.database.is_none() && !settings.allow_memory_store
        {
            return Err(StartupError::VolatileStore);
        }
        let (store, events) = store::open(&settings).await?;
        let wired = telephony::wire(settings.twilio.as_ref(), settings.sandbox, &routes)?;
        let service = ParkingService::new(Ports {
            store,
            telephony: wired.telephony,
            events: Arc::new(MeteredEvents(events)),
            clock: Arc::new(SystemClock),
            urls: Arc::new(routes.clone()),
        });
        let demo = if settings.demo {
            Some(create_demo(&service).await?)
        } else {
            None
        };

        let live = Arc::new(callpark_http::LiveCalls::new());
        let following_live = tokio::spawn(Arc::clone(&live).follow(service.subscribe()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let sandbox = wired.sandbox.is_some();
        let ctx = HttpContext {
            service: service.clone(),
            settings: HttpSettings {
                twilio_auth_token: wired.auth_token,
                admin_token: settings.admin_token.clone(),
                metrics_token: settings.metrics_token.clone(),
                voice: settings.voice.clone(),
                ring_time: settings.ring_time,
                sessions: settings.sessions,
            },
            routes,
            sandbox: wired.sandbox,
            shutdown: shutdown_rx,
            metrics: callpark_http::metrics::prometheus(),
            idempotency: callpark_http::IdempotencyKeys::default(),
            team: Arc::default(),
            seen: Arc::default(),
            failed_logins: Arc::new(callpark_http::throttle::FailedLogins::new(
                settings.max_failed_logins,
            )),
            streams: Arc::new(callpark_http::StreamLimits::new(settings.max_streams)),
            live,
        };
        let server = serve(&settings, listener, ctx)?;
        let mut background = background(service, &settings);
        background.push(following_live);
        Ok(Self {
            port: address.port(),
            public_url,
            server,
            shutdown,
            demo,
            sandbox,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    pub fn is_sandbox(&self) -> bool {
        self.sandbox
    }

    /// Stops the server (as SIGTERM does) from elsewhere, e.g. a test.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            server: self.server.handle(),
            shutdown: self.shutdown.clone(),
        }
    }

    /// Serves until SIGTERM or Ctrl-C (or a [`Stopper`]): then stops accepting, ends the live
    /// streams, and lets requests in flight finish.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stopper = self.stopper();
        let signals = tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            stopper.stop().await;
        });
        let result = self.server.await;
        signals.abort();
        for task in self.background {
            task.abort();
        }
        result
    }
}

fn bind(listen: &str) -> Result<(TcpListener, std::net::SocketAddr), StartupError> {
    let failed = |source| StartupError::Bind {
        address: listen.to_owned(),
        source,
    };
    let listener = TcpListener::bind(listen).map_err(failed)?;
    let address = listener.local_addr().map_err(failed)?;
    Ok((listener, address))
}

/// The HTTP server on `listener`, not yet running.
fn serve(
    settings: &Settings,
    listener: TcpListener,
    ctx: HttpContext,
) -> Result<Server, StartupError> {
    let ctx = web::Data::new(ctx);
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(tracing_actix_web::TracingLogger::<telemetry::RequestSpan>::new())
            .configure(callpark_http::configure(ctx.clone()))
    })
    .disable_signals()
    .shutdown_timeout(10);
    if let Some(workers) = settings.workers {
        server = server.workers(workers.max(1));
    }
    Ok(server
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            address: settings.listen.clone(),
            source,
        })?
        .run())
}

/// The sweeps and the metrics' upkeep.
fn background(service: ParkingService, settings: &Settings) -> Vec<JoinHandle<()>> {
    let mut background = vec![
        tokio::spawn(sweep(service.clone(), settings.clone())),
        tokio::spawn(callpark_http::metrics::follow_occupancy(service)),
    ];
    if let Some(handle) = callpark_http::metrics::prometheus() {
        background.push(tokio::spawn(callpark_http::metrics::upkeep(
            handle,
            callpark_http::metrics::UPKEEP_EVERY,
        )));
    }
    background
}

/// Stops a running [`Application`] gracefully.
#[derive(Clone)]
pub struct Stopper {
    server: ServerHandle,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Stopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stopper")
    }
}

impl Stopper {
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        self.server.stop(true).await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// How often presence is expired: a page that went away makes its agent offline within the
/// presence timeout and this.
const PRESENCE_EVERY: Duration = Duration::from_secs(5);
/// Reconciliation, and the check of agents left on an ended call, run every this many sweeps.
const RECONCILE_EVERY_SWEEPS: u64 = 10;
const AGENT_CHECK_EVERY_SWEEPS: u64 = 30;
/// The retention sweep runs every this many sweeps, forgetting at most
/// [`RETENTION_BATCHES`] batches of [`RETENTION_BATCH`] rows of each kind: each batch a few
/// short statements, so that a backlog (the first run on a long history) never holds the lot
/// up, and is worked off run by run.
const RETENTION_EVERY_SWEEPS: u64 = 60;
const RETENTION_BATCH: usize = 500;
const RETENTION_BATCHES: usize = 20;

/// Fires due deadlines every sweep interval, expires presence every [`PRESENCE_EVERY`], every
/// ten intervals asks Twilio about parks and retrieves unconfirmed for longer than the grace,
/// and every thirty about the calls agents are on. Every instance runs this; the store's
/// compare-and-set makes each deadline fire once.
async fn sweep(service: ParkingService, settings: Settings) {
    let (grace, ring_time) = (settings.reconcile_grace, settings.ring_time);
    let presence_every =
        (PRESENCE_EVERY.as_millis() / settings.sweep_interval.as_millis().max(1)).max(1) as u64;
    let mut ticker = tokio::time::interval(settings.sweep_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for tick in 0u64.. {
        ticker.tick().await;
        let fired = service.fire_due_deadlines(100).await;
        logged(
            fired.map(|r| r.moved),
            "park deadlines fired",
            "deadline sweep failed",
        );
        if tick % presence_every == 0 {
            let gone = service.expire_presence(settings.presence_timeout).await;
            logged(
                gone.map(|g| g.len()),
                "agents with no page went offline",
                "presence sweep failed",
            );
        }
        if tick % RECONCILE_EVERY_SWEEPS == 0 {
            let resolved = service.reconcile(grace, ring_time, 100).await;
            logged(
                resolved.map(|r| r.moved),
                "in-flight calls reconciled",
                "reconciliation failed",
            );
        }
        if tick % AGENT_CHECK_EVERY_SWEEPS == 0 {
            let freed = service.release_agents_of_ended_calls().await;
            logged(
                freed.map(|r| r.moved),
                "agents left on an ended call are available again",
                "the check of agents' calls failed",
            );
        }
        if let Some(retention) = settings.retention
            && tick % RETENTION_EVERY_SWEEPS == 0
        {
            let forgotten = forget_old(&service, retention).await;
            logged(
                forgotten,
                "records older than the retention forgotten",
                "the retention sweep failed",
            );
        }
    }
}

/// Forgets what is older than `retention`, batch after batch while batches come back full.
async fn forget_old(
    service: &ParkingService,
    retention: Duration,
) -> Result<usize, callpark_domain::StoreError> {
    let mut total = 0;
    for _ in 0..RETENTION_BATCHES {
        let batch = service
            .forget_older_than(retention, RETENTION_BATCH)
            .await?;
        total += batch.total();
        if !batch.filled(RETENTION_BATCH) {
            break;
        }
        // Let the lot's own work run between batches.
        tokio::task::yield_now().await;
    }
    Ok(total)
}

/// Logs a sweep's outcome: how many it changed, when any, or why it failed.
fn logged(outcome: Result<usize, callpark_domain::StoreError>, done: &str, failed: &str) {
    match outcome {
        Ok(0) => {}
        Ok(n) => tracing::info!(count = n, "{done}"),
        Err(e) => tracing::warn!(error = &e as &dyn std::error::Error, "{failed}"),
    }
}

/// The sandbox's demo organisation, `demo`, with agents alice, bob and carol.
async fn create_demo(service: &ParkingService) -> Result<Demo, StartupError> {
    let number = "+15550100100";
    let org = callpark_http::new_organisation(callpark_http::dto::NewOrgBody {
        slug: "demo".to_owned(),
        name: "Demo Contact Centre".to_owned(),
        slots: 8,
        numbers: vec![number.to_owned()],
        hold_music_url: None,
        announcement: None,
        voice: None,
        language: None,
        max_park_seconds: Some(180),
        timeout_action: None,
        slot_policy: None,
    })
    .map_err(|e| StartupError::Demo(e.into()))?;
    match service.create_org(&org).await {
        Ok(_) => {}
        Err(CreateOrgError::AlreadyExists) => {
            return Ok(Demo {
                org: org.slug.to_string(),
                number: number.to_owned(),
                agents: Vec::new(),
            });
        }
        Err(e) => return Err(StartupError::Demo(e.into())),
    }
    let mut agents = Vec::new();
    for (identity, name) in [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")] {
        let token = callpark_http::auth::new_token();
        let agent = NewAgent {
            org: org.slug.clone(),
            identity: AgentIdentity::parse(identity).map_err(|e| StartupError::Demo(e.into()))?,
            display_name: DisplayName::parse(name).ok(),
            token_hash: callpark_http::auth::token_hash(&token),
            token_expires_at: None,
            // Alice supervises the demo organisation: she manages its agents.
            role: if identity == "alice" {
                Role::Supervisor
            } else {
                Role::Agent
            },
        };
        match service.create_agent(&agent).await {
            Ok(_) => agents.push((identity.to_owned(), token)),
            Err(CreateAgentError::AlreadyExists) => {}
            Err(e) => return Err(StartupError::Demo(e.into())),
        }
    }
    Ok(Demo {
        org: org.slug.to_string(),
        number: number.to_owned(),
        agents,
    })
}
