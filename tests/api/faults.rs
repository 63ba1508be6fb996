//! Faults of the database under the server: stalled, gone, back again, full.
//! Every request gets an answer within the database timeout (503 where the
//! database is needed, JWKS from memory), and the server recovers by itself.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::helpers::{spawn_app_on, spawn_app_with, TestApp, TestDatabase};

/// A TCP proxy in front of PostgreSQL that the test can stall, kill and restart.
struct Proxy {
    port: u16,
    upstream: String,
    paused: Arc<AtomicBool>,
    tasks: JoinSet<()>,
}

impl Proxy {
    async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Self {
            port,
            upstream: upstream.to_owned(),
            paused: Arc::default(),
            tasks: JoinSet::new(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let (upstream, paused) = (self.upstream.clone(), Arc::clone(&self.paused));
        self.tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, paused) = (upstream.clone(), Arc::clone(&paused));
                connections.spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(
                        pump(client_read, server_write, Arc::clone(&paused)),
                        pump(server_read, client_write, paused)
                    );
                });
            }
        });
    }

    /// Bytes stop flowing; connections stay open (a stalled network or server).
    fn stall(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Every connection is reset and new ones are refused.
    fn kill(&mut self) {
        self.tasks.abort_all();
        self.paused.store(false, Ordering::SeqCst);
    }

    async fn restart(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    paused: Arc<AtomicBool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// Status and seconds taken by GET `path` (with the admin token).
async fn timed_get(app: &TestApp, path: &str) -> (u16, f64) {
    let started = Instant::now();
    let status = app
        .client
        .get(app.url(path))
        .bearer_auth(&app.admin_token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16());
    (status, started.elapsed().as_secs_f64())
}

// Several threads: building the app blocks one while the proxy serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_stalled_or_lost_postgresql_gives_quick_503s_and_the_server_recovers() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        crate::helpers::skipped("a database behind a proxy needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    };
    let upstream = url::Url::parse(&base).unwrap();
    let upstream = format!(
        "{}:{}",
        upstream.host_str().unwrap_or("127.0.0.1"),
        upstream.port().unwrap_or(5432)
    );
    let mut proxy = Proxy::start(&upstream).await;
    let proxy_port = proxy.port;
    let app = spawn_app_with(|s| {
        let mut through_proxy = url::Url::parse(&s.database_url).unwrap();
        through_proxy.set_port(Some(proxy_port)).unwrap();
        s.database_url = through_proxy.to_string();
        s.database_timeout_ms = 1000;
        s.pool_size = 4;
        s.key_cache_secs = 1;
    })
    .await;
    assert_eq!(timed_get(&app, "/health/ready").await.0, 200);
    app.create_service(json!({"name": "before"})).await;

    proxy.stall();
    let paths = [
        "/health/ready",
        "/api/rest/services",
        "/api/rest/oauth2/keys",
    ];
    for round in 0..2 {
        let answers = futures_join(&app, &paths).await;
        println!("stalled, round {round}: {answers:?}");
        for ((path, (status, seconds)), expected) in paths.iter().zip(&answers).zip([503, 503, 200])
        {
            assert_eq!(*status, expected, "{path} while the database is stalled");
            assert!(*seconds < 2.5, "{path} took {seconds:.1} s while stalled");
        }
    }

    proxy.kill();
    for (path, expected) in [
        ("/health/ready", 503),
        ("/api/rest/services", 503),
        ("/api/rest/oauth2/keys", 200),
    ] {
        let (status, seconds) = timed_get(&app, path).await;
        println!("gone: {path} {status} in {seconds:.2} s");
        assert_eq!(status, expected, "{path} while the database is gone");
        assert!(seconds < 2.5, "{path} took {seconds:.1} s while gone");
    }

    proxy.restart().await;
    let back = Instant::now();
    while timed_get(&app, "/health/ready").await.0 != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not ready 5 s after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "ready again {:.2} s after the database returned",
        back.elapsed().as_secs_f64()
    );
    let services = app.get("/api/rest/services", &app.admin_token).await;
    assert_eq!(services.status(), 200);
    app.create_service(json!({"name": "after"})).await;
}

/// GETs every path at once; status and seconds of each, in order.
async fn futures_join(app: &TestApp, paths: &[&str]) -> Vec<(u16, f64)> {
    let mut set = JoinSet::new();
    for (index, path) in paths.iter().enumerate() {
        let (client, url, token) = (app.client.clone(), app.url(path), app.admin_token.clone());
        set.spawn(async move {
            let started = Instant::now();
            let status = client
                .get(url)
                .bearer_auth(token)
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            (index, (status, started.elapsed().as_secs_f64()))
        });
    }
    let mut answers = vec![(0, 0.0); paths.len()];
    while let Some(Ok((index, answer))) = set.join_next().await {
        answers[index] = answer;
    }
    answers
}

/// A small tmpfs, unmounted (lazily: the server may still hold files) on drop.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        mounted.status.success().then_some(Self(dir))
    }

    /// Writes a file until the disk refuses more.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .output();
    }
}

#[tokio::test]
async fn a_full_disk_gives_503_and_not_ready_then_recovers() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        crate::helpers::skipped("on PostgreSQL: this test fills the disk under a SQLite file");
        return;
    }
    let Some(disk) = SmallDisk::mount(8) else {
        crate::helpers::skipped("cannot mount a tmpfs here (needs root)");
        return;
    };
    let database = TestDatabase::sqlite_at(&disk.0.path().join("idhub.db"));
    let app = spawn_app_on(database, |_| {}).await;
    app.create_service(json!({"name": "room to spare"})).await;
    let filler = disk.fill();

    let mut refused = false;
    for n in 0..5000 {
        let answer = app
            .post_json(
                "/api/rest/services",
                &app.admin_token,
                &json!({"name": format!("service {n}"), "description": "x".repeat(4000)}),
            )
            .await;
        match answer.status().as_u16() {
            201 | 200 => continue,
            503 => {
                refused = true;
                break;
            }
            other => panic!("a write on a full disk answered {other}"),
        }
    }
    assert!(refused, "the disk never filled up");
    let (status, _) = timed_get(&app, "/health/ready").await;
    assert_eq!(status, 503, "not ready while writes are refused");

    std::fs::remove_file(filler).unwrap();
    let freed = Instant::now();
    while timed_get(&app, "/health/ready").await.0 != 200 {
        assert!(
            freed.elapsed() < Duration::from_secs(8),
            "not ready again after space was freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.create_service(json!({"name": "after"})).await;
}
