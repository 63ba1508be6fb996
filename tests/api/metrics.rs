//! `/metrics` as Prometheus scrapes it: the text format, and counters that
//! move with what happened. The server runs in its own process, so no other
//! test's requests reach its counters.
use std::collections::HashMap;

use serde_json::Value;

use crate::helpers::{idhub_command, TestDatabase};
use crate::kill::{free_port, Server};

/// A sample's name with its labels as written (`name{a="b",…}`), and its value.
type Samples = HashMap<String, f64>;

/// Parses the text exposition format strictly: every line a comment, a
/// `# HELP`/`# TYPE` line or a sample of a metric whose type was declared.
fn parse(text: &str) -> Samples {
    let sample = regex::Regex::new(
        r#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$"#,
    )
    .expect("regex");
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut samples = Samples::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let (name, kind) = declared.split_once(' ').expect("TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let parts = sample
            .captures(line)
            .unwrap_or_else(|| panic!("not a sample line: {line}"));
        let name = &parts[1];
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|family| typed.get(*family).is_some_and(|kind| kind == "histogram"))
            .unwrap_or(name);
        assert!(typed.contains_key(family), "no TYPE for {name}");
        let value: f64 = parts[4]
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let key = line.rsplit_once(' ').map(|(key, _)| key).unwrap_or(line);
        samples.insert(key.to_owned(), value);
    }
    samples
}

async fn scrape(base: &str) -> Samples {
    let response = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"));
    parse(&response.text().await.expect("body"))
}

/// The value of the one sample whose name and labels are all these.
fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = samples
        .iter()
        .filter(|(key, _)| {
            key.split('{').next() == Some(name)
                && labels
                    .iter()
                    .all(|(label, value)| key.contains(&format!("{label}=\"{value}\"")))
        })
        .map(|(_, value)| *value)
        .collect();
    match found.as_slice() {
        [] => 0.0,
        [one] => *one,
        _ => panic!("several samples of {name} {labels:?}"),
    }
}

async fn token(base: &str, form: &[(&str, &str)], client: (&str, &str)) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/rest/oauth2/token"))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .expect("token request")
}

#[tokio::test]
async fn counters_move_with_a_token_issued_and_a_failed_sign_in() {
    let database = TestDatabase::new();
    let port = free_port();
    let server = Server::start_with(&database, port, &[]).await;
    let added = idhub_command(&database)
        .args(["services", "add", "--name", "Metered", "--json"])
        .output()
        .expect("run idhub");
    let added: Value = serde_json::from_slice(&added.stdout).expect("json");
    let (id, secret) = (
        added["id"].as_str().expect("id"),
        added["secret"].as_str().expect("secret"),
    );
    let trusted = idhub_command(&database)
        .args(["services", "trust", id])
        .output()
        .expect("run idhub");
    assert!(trusted.status.success());

    let before = scrape(&server.base).await;
    let issued = token(
        &server.base,
        &[("grant_type", "client_credentials")],
        (id, secret),
    )
    .await;
    assert_eq!(issued.status(), 200);
    let refused = token(
        &server.base,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "not the password"),
        ],
        (id, secret),
    )
    .await;
    assert_eq!(refused.status(), 400);
    let after = scrape(&server.base).await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let client_credentials = [("grant_type", "client_credentials")];
    assert_eq!(moved("idhub_tokens_issued_total", &client_credentials), 1.0);
    assert_eq!(
        moved("idhub_tokens_issued_total", &[("grant_type", "password")]),
        0.0
    );
    let wrong_password = [("via", "password_grant"), ("reason", "wrong_credentials")];
    assert_eq!(moved("idhub_sign_in_failures_total", &wrong_password), 1.0);
    assert_eq!(
        moved("idhub_oauth_errors_total", &[("error", "invalid_grant")]),
        1.0
    );
    let token_route = [
        ("method", "POST"),
        ("route", "/api/rest/oauth2/token"),
        ("status", "200"),
    ];
    assert_eq!(
        moved("idhub_http_request_duration_seconds_count", &token_route),
        1.0
    );
    let under_ten_seconds = [token_route.as_slice(), &[("le", "10")]].concat();
    assert_eq!(
        moved(
            "idhub_http_request_duration_seconds_bucket",
            &under_ten_seconds
        ),
        1.0
    );
    // The first scrape is counted once it is answered, so the second sees it.
    let scrapes = [("route", "/metrics"), ("status", "200")];
    assert_eq!(
        value(
            &after,
            "idhub_http_request_duration_seconds_count",
            &scrapes
        ),
        1.0
    );
    let service_hits = [("cache", "services"), ("result", "hit")];
    let service_lookups = moved("idhub_cache_lookups_total", &service_hits)
        + moved(
            "idhub_cache_lookups_total",
            &[("cache", "services"), ("result", "miss")],
        );
    assert!(service_lookups >= 2.0, "each grant looks its client up");
    assert!(value(&after, "idhub_db_pool_max_connections", &[]) >= 1.0);
    assert!(after
        .keys()
        .any(|key| key.starts_with("idhub_db_pool_connections{")));
    assert!(value(&after, "idhub_db_pool_acquire_seconds_count", &[]) >= 1.0);
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    assert!(!text.contains(secret), "no secret in the metrics");
}

#[tokio::test]
async fn a_metrics_listener_takes_metrics_off_the_public_one() {
    let database = TestDatabase::new();
    let (port, metrics_port) = (free_port(), free_port());
    let metrics_listen = format!("127.0.0.1:{metrics_port}");
    let settings = [("IDHUB_METRICS_LISTEN", metrics_listen.as_str())];
    let server = Server::start_with(&database, port, &settings).await;
    let public = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("public");
    assert_eq!(public.status(), 404);
    let operators = format!("http://{metrics_listen}");
    let samples = scrape(&operators).await;
    assert!(
        samples
            .keys()
            .any(|key| key.starts_with("idhub_http_request_duration_seconds_count{")),
        "the public listener's requests are counted"
    );
    let ready = reqwest::get(format!("{operators}/health/ready"))
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
    let api = reqwest::get(format!("{operators}/api/rest/services"))
        .await
        .expect("api");
    assert_eq!(api.status(), 404, "nothing but metrics and health there");
}
