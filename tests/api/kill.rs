//! kill -9 under load: every write the server acknowledged with a 2xx is there
//! after a restart, on SQLite and on PostgreSQL.
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::helpers::{idhub_command, TestDatabase};
use crate::run_log;

const WRITERS: usize = 8;

/// `idhub serve` in its own process.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Its log lines, read as they come so the pipe never fills.
    log: Option<Receiver<String>>,
    read: Vec<String>,
}

impl Server {
    async fn start(database: &TestDatabase, port: u16) -> Self {
        Self::start_with(database, port, &[]).await
    }

    /// Started with these settings; its log goes to the run's log.
    pub async fn start_with(database: &TestDatabase, port: u16, settings: &[(&str, &str)]) -> Self {
        Self::spawn(database, port, settings, false).await
    }

    /// Started with these settings, its log read by the test (`wait_for_log`,
    /// `wait_for_exit`) and copied to the run's log.
    pub async fn start_watched(
        database: &TestDatabase,
        port: u16,
        settings: &[(&str, &str)],
    ) -> Self {
        Self::spawn(database, port, settings, true).await
    }

    async fn spawn(
        database: &TestDatabase,
        port: u16,
        settings: &[(&str, &str)],
        watched: bool,
    ) -> Self {
        let stdout = match watched {
            true => Stdio::piped(),
            false => Stdio::from(run_log::log_file()),
        };
        let mut child = idhub_command(database)
            .env("IDHUB_LISTEN", format!("127.0.0.1:{port}"))
            .env("IDHUB_LOG", "info,idhub=debug")
            .envs(settings.iter().copied())
            .arg("serve")
            .stdout(stdout)
            .stderr(Stdio::from(run_log::log_file()))
            .spawn()
            .expect("start idhub");
        let log = child.stdout.take().map(|stdout| {
            let (lines, log) = mpsc::channel();
            let mut copy = run_log::log_file();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    // One write: other servers append to the same file.
                    let _ = copy.write_all(format!("{line}\n").as_bytes());
                    if lines.send(line).is_err() {
                        return;
                    }
                }
            });
            log
        });
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            read: Vec::new(),
        };
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            let ready = client
                .get(format!("{}/health/ready", server.base))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "idhub did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush.
    fn kill(self) {}

    /// Waits (up to 10 s) for a log line containing `needle`.
    pub fn wait_for_log(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.read.iter().any(|line| line.contains(needle)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let log = self.log.as_ref().expect("a piped log");
            match log.recv_timeout(left) {
                Ok(line) => self.read.push(line),
                Err(_) => panic!("no log line with {needle:?}: {:#?}", self.read),
            }
        }
    }

    /// Sends `signal` and waits for the process to exit (`wait_for_exit`).
    pub fn stop(&mut self, signal: libc::c_int) -> (ExitStatus, String) {
        self.signal(signal);
        self.wait_for_exit()
    }

    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: signals our own child process.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits (up to 30 s) for the process to exit; how it exited and its
    /// whole log.
    pub fn wait_for_exit(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "idhub did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(log) = self.log.take() {
            self.read.extend(log.iter());
        }
        (status, self.read.join("\n"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// What the server said 2xx to.
#[derive(Default)]
struct Acknowledged {
    services: Vec<String>,
    users: Vec<String>,
    refresh_tokens: Vec<(String, String, String)>,
    requests: usize,
}

/// One writer: registers services and users, and takes refresh tokens, until killed.
async fn write_until_killed(
    base: String,
    token: String,
    acked: Arc<Mutex<Acknowledged>>,
    n: usize,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    for round in 0.. {
        let service = client
            .post(format!("{base}/api/rest/services"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("kill-{n}-{round}")}))
            .send()
            .await;
        let Ok(service) = service else { return };
        let status = service.status();
        let Ok(service) = service.json::<Value>().await else {
            return;
        };
        if !status.is_success() {
            return;
        }
        let (id, secret) = (
            service["id"].as_str().unwrap_or_default().to_owned(),
            service["secret"].as_str().unwrap_or_default().to_owned(),
        );
        acked.lock().expect("lock").services.push(id.clone());

        let login = format!("k{n}r{round}");
        let user = client
            .post(format!("{base}/api/rest/users"))
            .bearer_auth(&token)
            .json(&json!({"login": login, "password": "kill-password"}))
            .send()
            .await;
        let Ok(user) = user else { return };
        let Ok(user) = user.json::<Value>().await else {
            return;
        };
        let Some(user_id) = user["id"].as_str() else {
            return;
        };
        acked.lock().expect("lock").users.push(user_id.to_owned());

        let tokens = client
            .post(format!("{base}/api/rest/oauth2/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "password"),
                ("username", login.as_str()),
                ("password", "kill-password"),
                ("access_type", "offline"),
            ])
            .send()
            .await;
        let Ok(tokens) = tokens else { return };
        let Ok(tokens) = tokens.json::<Value>().await else {
            return;
        };
        let Some(refresh) = tokens["refresh_token"].as_str() else {
            return;
        };
        let mut acked = acked.lock().expect("lock");
        acked.refresh_tokens.push((id, secret, refresh.to_owned()));
        acked.requests += 3;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_kill_9() {
    let database = TestDatabase::new();
    let port = free_port();
    let server = Server::start(&database, port).await;
    let token = {
        let pool =
            idhub::db::build_pool(database.location(), 1, Duration::from_secs(5)).expect("pool");
        let mut conn = pool.get().expect("connection");
        let admin = idhub::users::repo::find_by_login(&mut conn, "admin")
            .expect("query")
            .expect("admin");
        let now = chrono::Utc::now().naive_utc();
        idhub::users::permanent_tokens::create(
            &mut conn,
            &admin,
            "kill".into(),
            &["0-0-0-0-0".into()],
            now,
            &idhub::audit::Caller::cli(),
        )
        .expect("token")
        .1
    };

    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        writers.spawn(write_until_killed(
            server.base.clone(),
            token.clone(),
            Arc::clone(&acked),
            n,
        ));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill();
    while writers.join_next().await.is_some() {}

    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    println!(
        "kill -9 after {} acknowledged requests: {} services, {} users, {} refresh tokens",
        acked.requests,
        acked.services.len(),
        acked.users.len(),
        acked.refresh_tokens.len()
    );
    assert!(
        acked.services.len() > 10,
        "the load did little before the kill"
    );

    let server = Server::start(&database, port).await;
    let client = reqwest::Client::new();
    let mut lost = Vec::new();
    for id in &acked.services {
        let found = client
            .get(format!("{}/api/rest/services/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answer");
        if found.status() != 200 {
            lost.push(format!("service {id}"));
        }
    }
    for id in &acked.users {
        let found = client
            .get(format!("{}/api/rest/users/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answer");
        if found.status() != 200 {
            lost.push(format!("user {id}"));
        }
    }
    for (id, secret, refresh) in &acked.refresh_tokens {
        let used = client
            .post(format!("{}/api/rest/oauth2/token", server.base))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
            .send()
            .await
            .expect("answer");
        if used.status() != 200 {
            lost.push(format!("refresh token of {id}"));
        }
    }
    server.kill();
    assert!(lost.is_empty(), "lost after kill -9: {lost:?}");
}
