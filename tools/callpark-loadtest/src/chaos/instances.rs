//! The callpark processes of a chaos run: started from the binary under test, on one database,
//! Twilio's REST API at the facade and the proxy as their public URL; one is killed with
//! SIGKILL and started again mid-run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// How to start an instance.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub(crate) binary: PathBuf,
    pub(crate) database_url: String,
    pub(crate) public_url: String,
    pub(crate) twilio_api_base: String,
    pub(crate) account_sid: String,
    pub(crate) auth_token: String,
    pub(crate) admin_token: String,
    pub(crate) ring_secs: u64,
    pub(crate) reconcile_grace_secs: u64,
    pub(crate) logs: PathBuf,
}

/// One running (or killed) instance.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) base: String,
    port: u16,
    name: String,
    child: Option<Child>,
}

impl Launch {
    fn spawn(&self, name: &str, port: u16) -> Result<Child, Error> {
        let log = |suffix: &str| -> Result<std::fs::File, Error> {
            Ok(std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.logs.join(format!("{name}.{suffix}")))?)
        };
        Ok(Command::new(&self.binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("DATABASE_URL", &self.database_url)
            .env("CALLPARK_PUBLIC_URL", &self.public_url)
            .env("TWILIO_ACCOUNT_SID", &self.account_sid)
            .env("TWILIO_AUTH_TOKEN", &self.auth_token)
            .env("TWILIO_API_BASE", &self.twilio_api_base)
            // Shorter than the facade's stall, so a stalled request's answer is lost.
            .env("TWILIO_TIMEOUT_MS", "2000")
            .env("CALLPARK_ADMIN_TOKEN", &self.admin_token)
            .env("CALLPARK_RING_SECS", self.ring_secs.to_string())
            .env(
                "CALLPARK_RECONCILE_GRACE_SECS",
                self.reconcile_grace_secs.to_string(),
            )
            .env("CALLPARK_SWEEP_INTERVAL_MS", "200")
            // The run's agents are there throughout; presence has its own tests.
            .env("CALLPARK_PRESENCE_TIMEOUT_SECS", "3600")
            .env("CALLPARK_WORKERS", "2")
            .stdin(Stdio::null())
            .stdout(log("out")?)
            .stderr(log("log")?)
            .spawn()?)
    }

    /// Starts instance `name` on a free port and waits until it is ready.
    pub(crate) async fn start(&self, name: &str) -> Result<Instance, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut instance = Instance {
            base: format!("http://127.0.0.1:{port}"),
            port,
            name: name.to_owned(),
            child: None,
        };
        instance.child = Some(self.spawn(name, port)?);
        instance.wait_ready(&self.logs).await?;
        Ok(instance)
    }

    /// Starts a killed instance again, on its port.
    pub(crate) async fn restart(&self, instance: &mut Instance) -> Result<(), Error> {
        instance.child = Some(self.spawn(&instance.name, instance.port)?);
        instance.wait_ready(&self.logs).await
    }
}

impl Instance {
    async fn wait_ready(&mut self, logs: &Path) -> Result<(), Error> {
        let http = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let ready = http
                .get(format!("{}/readyz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            if let Some(child) = &mut self.child
                && let Some(status) = child.try_wait()?
            {
                return Err(format!(
                    "{} exited ({status}) before it was ready: see {}",
                    self.name,
                    logs.join(format!("{}.log", self.name)).display()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("{} was not ready within a minute", self.name).into())
    }

    /// `kill -9`: no shutdown, requests in flight are cut.
    pub(crate) fn kill(&mut self) -> Result<(), Error> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
