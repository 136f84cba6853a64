//! Configuration: the command line and the environment (clap), optionally a `KEY=value` file
//! for the same variables. Secrets are wrapped on arrival and never printed, not even by
//! `--help`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use callpark_domain::SessionLifetime;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(
    name = "callpark",
    version,
    about = "Call parking for Twilio Programmable Voice"
)]
pub struct Cli {
    /// A file of `KEY=value` lines (the environment variables below); variables set in the
    /// environment win over the file.
    #[arg(long, global = true, env = "CALLPARK_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "CALLPARK_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve Twilio's webhooks, the agents' API and page. With no Twilio credentials it runs
    /// the sandbox: simulated calls, an in-memory store and a demo organisation.
    Serve(Box<ServeArgs>),
    /// Apply the database migrations and exit.
    Migrate(MigrateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL. Unset: the in-memory store (nothing survives a restart).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Database connections per instance.
    #[arg(long, env = "CALLPARK_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,

    /// Longest wait for a database connection before answering 503, in milliseconds.
    #[arg(long, env = "CALLPARK_DB_TIMEOUT_MS", default_value_t = 2000)]
    pub db_timeout_ms: u64,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CALLPARK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// The base URL Twilio reaches this service at (e.g. `https://park.example.com`); webhook
    /// URLs and signature checks are built from it. Default: `http://` + the listen address.
    #[arg(long, env = "CALLPARK_PUBLIC_URL")]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Twilio account SID. Unset (with the auth token): sandbox telephony.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,

    /// Twilio auth token: authenticates REST calls and verifies webhook signatures.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,

    /// Twilio's REST API base URL (override for staging or tests).
    #[arg(
        long,
        env = "TWILIO_API_BASE",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_api_base: String,

    /// Longest wait for one Twilio REST request, in milliseconds. A park or retrieve whose
    /// request times out is confirmed with Twilio later (see `--reconcile-grace-secs`).
    #[arg(long, env = "TWILIO_TIMEOUT_MS", default_value_t = 10_000)]
    pub twilio_timeout_ms: u64,

    /// API key SID for Voice SDK access tokens (`SK…`).
    #[arg(long, env = "TWILIO_API_KEY_SID")]
    pub twilio_api_key_sid: Option<String>,

    /// API key secret for Voice SDK access tokens.
    #[arg(long, env = "TWILIO_API_KEY_SECRET", hide_env_values = true)]
    pub twilio_api_key_secret: Option<String>,

    /// TwiML application SID the browsers' outgoing calls use (`AP…`).
    #[arg(long, env = "TWILIO_TWIML_APP_SID")]
    pub twilio_twiml_app_sid: Option<String>,

    /// Bearer token of the admin API, at least 32 characters. Unset: the admin API is
    /// disabled.
    #[arg(long, env = "CALLPARK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Bearer token `/metrics` asks of its scraper, at least 32 characters. Unset: `/metrics`
    /// is off (it names organisations).
    #[arg(long, env = "CALLPARK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// An available agent with no sign of life (an open page, a request) for this many
    /// seconds goes offline, so no call rings a page that is gone.
    #[arg(long, env = "CALLPARK_PRESENCE_TIMEOUT_SECS", default_value_t = 20)]
    pub presence_timeout_secs: u64,

    /// Live streams (agents' open pages) one instance serves at most; beyond, 429.
    #[arg(long, env = "CALLPARK_MAX_STREAMS", default_value_t = callpark_http::DEFAULT_MAX_STREAMS)]
    pub max_streams: usize,

    /// Wrong tokens one client may present per minute before it is answered 429.
    #[arg(long, env = "CALLPARK_MAX_FAILED_LOGINS", default_value_t = 10)]
    pub max_failed_logins: u32,

    /// A signed-in page's session ends after this many minutes unused.
    #[arg(long, env = "CALLPARK_SESSION_IDLE_MINUTES", default_value_t = 60)]
    pub session_idle_minutes: u64,

    /// A signed-in page's session ends this many hours after sign-in, however much it is used.
    #[arg(long, env = "CALLPARK_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,

    /// Allow real Twilio calls with the in-memory store (parked calls are lost on restart).
    #[arg(long, env = "CALLPARK_ALLOW_MEMORY_STORE")]
    pub allow_memory_store: bool,

    /// Do not apply database migrations on start.
    #[arg(long, env = "CALLPARK_NO_MIGRATE")]
    pub no_migrate: bool,

    /// Do not create the sandbox's demo organisation.
    #[arg(long, env = "CALLPARK_NO_DEMO")]
    pub no_demo: bool,

    /// How often due park deadlines are fired, in milliseconds.
    #[arg(long, env = "CALLPARK_SWEEP_INTERVAL_MS", default_value_t = 1000)]
    pub sweep_interval_ms: u64,

    /// How long a park or retrieve may wait for Twilio's confirmation before callpark asks
    /// Twilio for the call's state, in seconds.
    #[arg(long, env = "CALLPARK_RECONCILE_GRACE_SECS", default_value_t = 30)]
    pub reconcile_grace_secs: u64,

    /// How long a retrieve or ring-back rings the agent's browser before the caller goes back
    /// to the lot, in seconds (Twilio's `<Dial timeout>`: 5 to 600).
    #[arg(long, env = "CALLPARK_RING_SECS", default_value_t = 20)]
    pub ring_secs: u64,

    /// How many days the history keeps callers' numbers and names, voicemail recordings and
    /// lot events: older ones are forgotten (callers anonymised, events deleted) by a sweep,
    /// a small batch at a time. 0 keeps everything.
    #[arg(long, env = "CALLPARK_RETENTION_DAYS", default_value_t = 90)]
    pub retention_days: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CALLPARK_WORKERS")]
    pub workers: Option<usize>,
}

/// The database part of the settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub pool_size: usize,
    pub timeout: Duration,
}

impl DatabaseArgs {
    pub fn settings(&self) -> Option<DatabaseSettings> {
        self.database_url.as_ref().map(|url| DatabaseSettings {
            url: SecretString::from(url.clone()),
            pool_size: self.db_pool_size.max(1),
            timeout: Duration::from_millis(self.db_timeout_ms.max(1)),
        })
    }
}

/// Real Twilio's settings.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: SecretString,
    pub api_base: String,
    pub request_timeout: Duration,
}

/// Everything `serve` needs, validated and typed.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub public_url: Option<String>,
    pub database: Option<DatabaseSettings>,
    /// `None`: the sandbox.
    pub twilio: Option<TwilioSettings>,
    /// How unkind the sandbox is (when it is the sandbox): Twilio on an ordinary day.
    pub sandbox: callpark_sandbox::Behaviour,
    pub voice: Option<callpark_http::VoiceSettings>,
    pub admin_token: Option<SecretString>,
    pub metrics_token: Option<SecretString>,
    pub allow_memory_store: bool,
    pub migrate: bool,
    pub demo: bool,
    pub sweep_interval: Duration,
    pub reconcile_grace: Duration,
    pub ring_time: Duration,
    pub sessions: SessionLifetime,
    pub presence_timeout: Duration,
    pub max_failed_logins: u32,
    pub max_streams: usize,
    /// `None`: keep everything.
    pub retention: Option<Duration>,
    pub workers: Option<usize>,
}

/// The shortest admin or metrics token accepted: 32 characters (`openssl rand -hex 16`).
pub const MIN_SECRET_LEN: usize = 32;

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither (for the sandbox)")]
    HalfTwilio,
    #[error(
        "Voice SDK tokens need TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET and TWILIO_TWIML_APP_SID together"
    )]
    HalfVoice,
    #[error(
        "{0} must be at least {MIN_SECRET_LEN} characters (e.g. `openssl rand -hex 32`), or unset to switch what it guards off"
    )]
    WeakSecret(&'static str),
    #[error("sessions must last at least a minute, and no longer idle than in all")]
    SessionLifetime,
    #[error("cannot read the config file {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ServeArgs {
    /// # Errors
    /// [`ConfigError`] for settings that only work together and were given apart.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let twilio = match (&self.twilio_account_sid, &self.twilio_auth_token) {
            (Some(sid), Some(token)) => Some(TwilioSettings {
                account_sid: sid.clone(),
                auth_token: SecretString::from(token.clone()),
                api_base: self.twilio_api_base.clone(),
                request_timeout: Duration::from_millis(self.twilio_timeout_ms.max(1)),
            }),
            (None, None) => None,
            _ => return Err(ConfigError::HalfTwilio),
        };
        let voice = match (
            &self.twilio_api_key_sid,
            &self.twilio_api_key_secret,
            &self.twilio_twiml_app_sid,
            &twilio,
        ) {
            (Some(key), Some(secret), Some(app), Some(twilio)) => {
                Some(callpark_http::VoiceSettings {
                    account_sid: twilio.account_sid.clone(),
                    api_key_sid: key.clone(),
                    api_key_secret: SecretString::from(secret.clone()),
                    twiml_app_sid: app.clone(),
                    ttl: Duration::from_secs(3600),
                })
            }
            (None, None, None, _) => None,
            _ => return Err(ConfigError::HalfVoice),
        };
        let strong = |token: &Option<String>| {
            token
                .as_ref()
                .is_none_or(|t| t.trim().chars().count() >= MIN_SECRET_LEN)
        };
        if !strong(&self.admin_token) {
            return Err(ConfigError::WeakSecret("CALLPARK_ADMIN_TOKEN"));
        }
        if !strong(&self.metrics_token) {
            return Err(ConfigError::WeakSecret("CALLPARK_METRICS_TOKEN"));
        }
        let sessions = SessionLifetime {
            idle: Duration::from_secs(self.session_idle_minutes.saturating_mul(60)),
            absolute: Duration::from_secs(self.session_max_hours.saturating_mul(3600)),
        };
        if sessions.idle.is_zero() || sessions.absolute < sessions.idle {
            return Err(ConfigError::SessionLifetime);
        }
        Ok(Settings {
            listen: self.listen.clone(),
            public_url: self.public_url.clone(),
            database: self.database.settings(),
            demo: twilio.is_none() && !self.no_demo,
            twilio,
            sandbox: callpark_sandbox::Behaviour::default(),
            voice,
            admin_token: self.admin_token.clone().map(SecretString::from),
            metrics_token: self.metrics_token.clone().map(SecretString::from),
            allow_memory_store: self.allow_memory_store,
            migrate: !self.no_migrate,
            sweep_interval: Duration::from_millis(self.sweep_interval_ms.max(10)),
            reconcile_grace: Duration::from_secs(self.reconcile_grace_secs.max(1)),
            // Twilio's bounds of `<Dial timeout>`.
            ring_time: Duration::from_secs(self.ring_secs.clamp(5, 600)),
            sessions,
            // Longer than a live stream's sign-of-life interval, with room for one to be late.
            presence_timeout: Duration::from_secs(self.presence_timeout_secs.max(10)),
            max_failed_logins: self.max_failed_logins.max(1),
            max_streams: self.max_streams.max(1),
            retention: (self.retention_days > 0)
                .then(|| Duration::from_secs(self.retention_days.saturating_mul(86_400))),
            workers: self.workers,
        })
    }
}

/// Reads `--config FILE` (or `CALLPARK_CONFIG`) and turns each `KEY=value` line whose key is
/// one of the options' environment variables, and is not set in the environment, into that
/// option on the command line, so clap validates file values like any other.
///
/// # Errors
/// [`ConfigError::File`] when the file cannot be read.
pub fn args_with_config_file(args: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let path = args
        .windows(2)
        .find(|w| w[0] == "--config")
        .map(|w| PathBuf::from(&w[1]))
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--config=").map(PathBuf::from))
        })
        .or_else(|| std::env::var_os("CALLPARK_CONFIG").map(PathBuf::from));
    let Some(path) = path else { return Ok(args) };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::File {
        path: path.clone(),
        source,
    })?;
    Ok(merge_config_file(
        args,
        &text,
        |key| std::env::var_os(key).is_some(),
        &path,
    ))
}

fn merge_config_file(
    mut args: Vec<String>,
    text: &str,
    in_env: impl Fn(&str) -> bool,
    _path: &Path,
) -> Vec<String> {
    let command = Cli::command();
    let Some(subcommand) = args.iter().skip(1).find_map(|a| command.find_subcommand(a)) else {
        return args;
    };
    for line in text.lines() {
        let line = line.trim();
        let Some((key, value)) = line.split_once('=').filter(|_| !line.starts_with('#')) else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim().trim_matches('"'));
        let option = subcommand
            .get_arguments()
            .chain(command.get_arguments())
            .find(|a| a.get_env().is_some_and(|e| e == key));
        let (Some(option), false) = (option, in_env(key)) else {
            continue;
        };
        let Some(long) = option.get_long() else {
            continue;
        };
        let flag = format!("--{long}");
        if args.contains(&flag) {
            continue;
        }
        let takes_value = option.get_action().takes_values();
        if takes_value {
            args.push(flag);
            args.push(value.to_owned());
        } else if matches!(value, "1" | "true" | "yes") {
            args.push(flag);
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_config_file_fills_options_the_environment_and_command_line_leave_unset() {
        let file = "# comment\nCALLPARK_LISTEN=0.0.0.0:9000\nTWILIO_AUTH_TOKEN=\"secret\"\nCALLPARK_NO_DEMO=true\nCALLPARK_ADMIN_TOKEN=from-file\nUNRELATED=1\n";
        let merged = merge_config_file(
            args("callpark serve --admin-token from-cli"),
            file,
            |key| key == "TWILIO_AUTH_TOKEN",
            Path::new("x"),
        );
        let cli = Cli::try_parse_from(&merged).unwrap();
        let Command::Serve(serve) = cli.command else {
            panic!("serve")
        };
        assert_eq!(serve.listen, "0.0.0.0:9000");
        assert!(serve.no_demo);
        assert_eq!(
            serve.admin_token.as_deref(),
            Some("from-cli"),
            "the command line wins"
        );
        assert_eq!(serve.twilio_auth_token, None, "the environment wins");
    }

    #[test]
    fn half_configured_twilio_is_refused() {
        let cli = Cli::try_parse_from(args("callpark serve --twilio-account-sid AC1")).unwrap();
        let Command::Serve(serve) = cli.command else {
            panic!("serve")
        };
        assert!(matches!(serve.settings(), Err(ConfigError::HalfTwilio)));
    }

    #[test]
    fn an_empty_or_short_admin_or_metrics_token_refuses_to_start() {
        let settings = |extra: &str| {
            let cli = Cli::try_parse_from(args(&format!("callpark serve {extra}"))).unwrap();
            let Command::Serve(serve) = cli.command else {
                panic!("serve")
            };
            serve.settings()
        };
        for (flag, variable) in [
            ("--admin-token", "CALLPARK_ADMIN_TOKEN"),
            ("--metrics-token", "CALLPARK_METRICS_TOKEN"),
        ] {
            for weak in ["", "short", &"x".repeat(MIN_SECRET_LEN - 1)] {
                let result = Cli::try_parse_from(["callpark", "serve", flag, weak])
                    .map(|cli| match cli.command {
                        Command::Serve(serve) => serve.settings(),
                        _ => panic!("serve"),
                    })
                    .unwrap();
                assert!(
                    matches!(result, Err(ConfigError::WeakSecret(v)) if v == variable),
                    "{flag} {weak:?} accepted"
                );
            }
            let strong = "x".repeat(MIN_SECRET_LEN);
            assert!(settings(&format!("{flag} {strong}")).is_ok());
        }
        assert!(
            settings("").unwrap().admin_token.is_none(),
            "unset: disabled"
        );
        // Sessions: a working default, and no lifetime shorter than its idle time.
        let defaults = settings("").unwrap().sessions;
        assert_eq!(defaults, SessionLifetime::SHIFT);
        assert!(matches!(
            settings("--session-idle-minutes 120 --session-max-hours 1"),
            Err(ConfigError::SessionLifetime)
        ));
        assert!(matches!(
            settings("--session-idle-minutes 0"),
            Err(ConfigError::SessionLifetime)
        ));
    }

    #[test]
    fn secrets_are_not_shown_in_help() {
        let help = Cli::command()
            .find_subcommand_mut("serve")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("TWILIO_AUTH_TOKEN"));
        assert!(help.contains("CALLPARK_PUBLIC_URL"));
    }
}
