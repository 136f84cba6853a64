//! Crashes and outages: the service killed between a slot claim and Twilio's answer, and
//! PostgreSQL going away under it. Every caller stays accounted for.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::db::TestDatabase;
use crate::helpers::{
    ACCOUNT_SID, ADMIN_TOKEN, AUTH_TOKEN, Api, TestApp, accepted, answer_updates, calls_are, sid,
};

const NUMBER: &str = "+15550005000";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real `callpark` binary, as an operator runs it.
struct Service {
    child: Child,
    api: Api,
}

impl Service {
    async fn start(port: u16, database_url: &str, twilio: &MockServer) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_callpark"))
            .arg("serve")
            .env("CALLPARK_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
            .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
            .env("TWILIO_API_BASE", twilio.uri())
            .env("TWILIO_TIMEOUT_MS", "30000")
            .env("CALLPARK_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("CALLPARK_SWEEP_INTERVAL_MS", "100")
            .env("CALLPARK_RECONCILE_GRACE_SECS", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the callpark binary starts");
        let service = Self {
            child,
            api: Api::new(format!("http://127.0.0.1:{port}")),
        };
        for _ in 0..100 {
            if service
                .api
                .http
                .get(service.api.url("/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("callpark did not start");
    }

    fn kill_9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL: no shutdown, no clean-up
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_kill_9_between_the_claim_and_twilios_answer_is_resolved_after_a_restart() {
    // Twilio takes its time with the first redirect: the service dies while waiting for it.
    let twilio = MockServer::start().await;
    answer_updates(
        &twilio,
        accepted().set_delay(Duration::from_secs(60)),
        Some(1),
        1,
    )
    .await;
    answer_updates(&twilio, accepted(), None, 5).await;
    calls_are(&twilio, "in-progress").await;
    let database = TestDatabase::create().await;
    let port = free_port();
    let mut service = Service::start(port, database.url(), &twilio).await;
    let api = service.api.clone();
    api.create_org("acme", 4, NUMBER).await;
    let alice = api.agent("acme", "alice").await;
    api.inbound_call_answered(&sid(1), "+14155550100", NUMBER, &sid(2), "acme.alice")
        .await;

    let park = tokio::spawn({
        let (api, alice) = (api.clone(), alice.clone());
        async move {
            api.http
                .post(api.url("/api/park"))
                .bearer_auth(&alice)
                .json(&json!({"callSid": sid(2), "slot": 2}))
                .send()
                .await
        }
    });
    // The slot is claimed and the redirect is on its way to Twilio: now the process dies.
    for _ in 0..100 {
        if !twilio
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    service.kill_9();
    assert!(
        park.await.unwrap().is_err(),
        "the agent's request died with the process"
    );

    let killed_at = Instant::now();
    let restarted = Service::start(port, database.url(), &twilio).await;
    let lot = || restarted.api.lot(&alice);
    assert_eq!(
        lot().await["slots"][1]["state"],
        "parking",
        "the claim survived the crash"
    );
    loop {
        if lot().await["slots"][1]["state"] == "parked" {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(10),
            "not resolved within 10 s: {}",
            lot().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A PostgreSQL cluster of the test's own, which it can stop and start.
struct Cluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

fn pg_bin() -> PathBuf {
    let on_path = Command::new("sh")
        .args(["-c", "command -v pg_ctl"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                .parent()
                .unwrap()
                .to_owned()
        });
    on_path
        .or_else(|| {
            let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .flatten()
                .map(|e| e.path().join("bin"))
                .collect();
            versions.sort();
            versions.pop()
        })
        .expect("initdb and pg_ctl are needed for the outage test (apt-get install postgresql)")
}

impl Cluster {
    /// `tool` of the server's installation, run as the cluster's owner.
    fn command(&self, tool: &str) -> Command {
        let tool = self.bin.join(tool);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(tool);
            command
        } else {
            Command::new(tool)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn data(&self) -> String {
        self.dir.join("data").to_str().unwrap().to_owned()
    }

    /// `pg_ctl` on this cluster's data directory.
    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data();
        self.run("pg_ctl", &[&["-D", data.as_str()], args].concat());
    }

    fn create() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "callpark-outage-{}",
            uuid::Uuid::new_v4().as_simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        // initdb refuses to run as root: run the cluster as the postgres user then.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        if as_postgres {
            Command::new("chown")
                .arg("postgres")
                .arg(&dir)
                .status()
                .unwrap();
        }
        let cluster = Self {
            port: free_port(),
            bin: pg_bin(),
            as_postgres,
            dir,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        self.pg_ctl(&["-l", log.to_str().unwrap(), "-w", "-o", &options, "start"]);
    }

    fn stop(&self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn postgres_restarted_under_load_gives_503s_then_recovers_with_the_lot_intact() {
    let cluster = Cluster::create();
    let url = cluster.url();
    let twilio = MockServer::start().await;
    answer_updates(&twilio, accepted(), None, 5).await;
    let app = TestApp::spawn_configured(twilio, |s| {
        s.database = Some(callpark_app::config::DatabaseSettings {
            url: SecretString::from(url.clone()),
            pool_size: 4,
            timeout: Duration::from_millis(500),
        });
    })
    .await;
    app.create_org("acme", 6, NUMBER).await;
    let alice = app.agent("acme", "alice").await;
    app.park_calls(&alice, "acme.alice", NUMBER, 3).await;
    let before = app.lot(&alice).await;

    // Load: agents keep reading the lot while the database goes away and comes back.
    let load = tokio::spawn({
        let (http, base, alice) = (app.http.clone(), app.base.clone(), alice.clone());
        async move {
            let mut statuses = Vec::new();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(8) {
                let status = http
                    .get(format!("{base}/api/lot"))
                    .bearer_auth(&alice)
                    .timeout(Duration::from_secs(3))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                statuses.push(status);
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            statuses
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.stop();
    let down = Instant::now();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let lot = app.get("/api/lot", &alice).await;
    assert_eq!(lot.status(), 503);
    assert_eq!(
        lot.json::<Value>().await.unwrap()["error"]["code"],
        "store_unavailable"
    );
    assert!(
        down.elapsed() < Duration::from_secs(3),
        "503s come within the configured timeout, not after a hang"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.start();

    let statuses = load.await.unwrap();
    assert!(statuses.contains(&503), "the outage was seen as 503s");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "only 200s and 503s: {statuses:?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&200),
        "the service recovered without a restart"
    );
    assert_eq!(
        app.lot(&alice).await,
        before,
        "no parked call lost or duplicated"
    );
    // And it works as before.
    app.inbound_call_answered(&sid(90), "+14155550100", NUMBER, &sid(91), "acme.alice")
        .await;
    app.park(&alice, &sid(91), Some(4)).await;
    app.stop().await;
}
