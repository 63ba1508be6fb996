//! The server's log as an operator reads it: with `IDHUB_LOG_FORMAT=json`
//! one JSON object a line, one line per request with its route, status,
//! latency, request id (echoed in `X-Request-Id`), client, user and OAuth
//! error, and never a secret or token that crossed the wire.

use serde_json::Value;

use crate::helpers::{idhub_command, TestDatabase};
use crate::kill::{free_port, Server};

const SECRET: &str = "a-client-secret-never-logged";

#[tokio::test]
async fn json_log_lines_carry_the_request_fields_and_no_secrets() {
    let database = TestDatabase::new();
    let port = free_port();
    let settings = [
        ("IDHUB_LOG", "info"),
        ("IDHUB_LOG_FORMAT", "json"),
        // The test speaks as a proxy would, so its request ids are taken.
        ("IDHUB_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    let mut server = Server::start_watched(&database, port, &settings).await;
    let created = idhub_command(&database)
        .args(["tokens", "create", "--user", "admin", "--name", "logs"])
        .args(["--scope", "0-0-0-0-0"])
        .output()
        .expect("run idhub");
    let token = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    assert!(token.starts_with("perm:"), "{token}");

    let client = reqwest::Client::new();
    let echoed = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let ready_with_id = |id: &'static str| {
        client
            .get(format!("{}/health/ready", server.base))
            .header("X-Request-Id", id)
            .send()
    };
    let ready = ready_with_id("probe-1").await.expect("ready");
    assert_eq!(echoed(&ready), "probe-1");
    let odd = ready_with_id("not a plain id").await.expect("ready");
    let generated = echoed(&odd);
    assert_eq!(generated.len(), 32, "a fresh id replaces one with spaces");

    let refused = client
        .post(format!("{}/api/rest/oauth2/token", server.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "some-client"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(refused.status(), 401);
    let authorize = client
        .get(format!(
            "{}/api/rest/oauth2/auth?client_id=unknown-app&response_type=code",
            server.base
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(authorize.status(), 400);
    let me: Value = client
        .get(format!("{}/api/rest/users/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let admin_id = me["id"].as_str().expect("an id").to_owned();
    // A client registered (RFC 7591) by the admin, then read back with its
    // registration token; and a sign-out naming that client.
    let registered: Value = client
        .post(format!("{}/api/rest/oauth2/register", server.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "client_name": "Logged",
            "redirect_uris": ["https://logged.example.com/cb"],
            "post_logout_redirect_uris": ["https://logged.example.com/bye"]
        }))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    let registered_id = registered["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let registration_token = registered["registration_access_token"]
        .as_str()
        .expect("registration token")
        .to_owned();
    let read = client
        .get(format!(
            "{}/api/rest/oauth2/register/{registered_id}",
            server.base
        ))
        .bearer_auth(&registration_token)
        .send()
        .await
        .expect("read");
    assert_eq!(read.status(), 200);
    let logout = client
        .get(format!(
            "{}/api/rest/oauth2/logout?client_id={registered_id}",
            server.base
        ))
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 200);

    let (_, log) = server.stop(libc::SIGINT);

    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "idhub::request")
        .collect();
    let by_id = |id: &str| {
        requests
            .iter()
            .find(|l| l["request_id"] == id)
            .unwrap_or_else(|| panic!("no line for request {id}: {log}"))
    };
    let probe = by_id("probe-1");
    assert_eq!(probe["route"], "/health/ready");
    assert_eq!(probe["method"], "GET");
    assert_eq!(probe["status"], 200);
    assert!(probe["latency_ms"].as_f64().is_some());
    by_id(&generated);

    let token_line = requests
        .iter()
        .find(|l| l["route"] == "/api/rest/oauth2/token")
        .expect("the token request's line");
    assert_eq!(token_line["status"], 401);
    assert_eq!(token_line["client_id"], "some-client");
    assert_eq!(token_line["error"], "invalid_client");
    let authorize_line = requests
        .iter()
        .find(|l| l["route"] == "/api/rest/oauth2/auth")
        .expect("the authorization request's line");
    assert_eq!(authorize_line["client_id"], "unknown-app");
    assert_eq!(authorize_line["status"], 400);
    let me_line = requests
        .iter()
        .find(|l| {
            l["route"]
                .as_str()
                .is_some_and(|r| r.starts_with("/api/rest/users/"))
        })
        .expect("the me request's line");
    assert_eq!(me_line["user_id"], admin_id.as_str());
    let registration_lines: Vec<&&Value> = requests
        .iter()
        .filter(|l| {
            l["route"]
                .as_str()
                .is_some_and(|r| r.starts_with("/api/rest/oauth2/register"))
        })
        .collect();
    assert_eq!(registration_lines.len(), 2, "{log}");
    assert_eq!(registration_lines[0]["status"], 201);
    assert_eq!(registration_lines[0]["user_id"], admin_id.as_str());
    for line in &registration_lines {
        assert_eq!(line["client_id"], registered_id.as_str());
    }
    let logout_line = requests
        .iter()
        .find(|l| l["route"] == "/api/rest/oauth2/logout")
        .expect("the sign-out's line");
    assert_eq!(logout_line["client_id"], registered_id.as_str());

    let serving = lines
        .iter()
        .find(|l| l["message"] == "idhub is serving")
        .expect("the start line");
    // Says which database, as a path that does not depend on where the
    // server was started, and without a password.
    let shown = serving["database"].as_str().unwrap_or_default();
    match database.url.strip_prefix("sqlite://") {
        Some(path) => {
            assert!(shown.starts_with('/'), "absolute: {shown}");
            assert!(shown.ends_with(path.trim_start_matches("./")), "{shown}");
        }
        None => assert!(shown.starts_with("postgres"), "{shown}"),
    }
    assert!(lines.iter().any(|l| l["message"] == "idhub stopped"));
    assert!(
        !lines.iter().any(|l| l["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("actix_server"))),
        "idhub's own start and stop lines, not actix's: {log}"
    );
    for secret in [
        SECRET,
        token.as_str(),
        registration_token.as_str(),
        registered["client_secret"].as_str().expect("a secret"),
        "perm:",
        crate::helpers::ADMIN_PASSWORD,
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}

/// `IDHUB_ADMIN_PASSWORD` chooses the first admin's password only; a server
/// started with it on a database that has its admin says so, where the
/// operator who set it to change the password looks.
#[tokio::test]
async fn an_admin_password_setting_that_does_nothing_is_logged() {
    const IGNORED: &str = "IDHUB_ADMIN_PASSWORD is set but user 'admin' exists";
    let database = TestDatabase::new();
    let settings = [("IDHUB_LOG", "info"), ("IDHUB_LOG_FORMAT", "json")];
    let mut first = Server::start_watched(&database, free_port(), &settings).await;
    let (_, log) = first.stop(libc::SIGTERM);
    assert!(!log.contains(IGNORED), "the first start used it: {log}");
    let mut second = Server::start_watched(&database, free_port(), &settings).await;
    let (_, log) = second.stop(libc::SIGTERM);
    let warned = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.contains(IGNORED))
        })
        .unwrap_or_else(|| panic!("no line about the ignored setting: {log}"));
    assert_eq!(warned["level"], "WARN");
    assert!(
        !log.contains(crate::helpers::ADMIN_PASSWORD),
        "never the password itself"
    );
}

/// A plain-http issuer on a host other than loopback is said at start, as a
/// warning naming the fix; the loopback default is not.
#[tokio::test]
async fn a_plain_http_issuer_off_loopback_is_a_warning_at_start() {
    const WARNED: &str = "is plain http on a host other than loopback";
    let database = TestDatabase::new();
    let quiet = [("IDHUB_LOG", "info")];
    let mut local = Server::start_watched(&database, free_port(), &quiet).await;
    let (_, log) = local.stop(libc::SIGTERM);
    assert!(!log.contains(WARNED), "{log}");
    let loud = [
        ("IDHUB_LOG", "info"),
        ("IDHUB_LOG_FORMAT", "json"),
        ("IDHUB_ISSUER", "http://id.example.com"),
    ];
    let mut exposed = Server::start_watched(&database, free_port(), &loud).await;
    let (_, log) = exposed.stop(libc::SIGTERM);
    let warned = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["message"].as_str().is_some_and(|m| m.contains(WARNED)))
        .unwrap_or_else(|| panic!("no warning about the http issuer: {log}"));
    assert_eq!(warned["level"], "WARN");
    assert!(warned["message"].as_str().unwrap().contains("IDHUB_ISSUER"));
}
