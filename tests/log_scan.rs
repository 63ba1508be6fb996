//! No secret reaches the log. The `api` test binary writes the log of every
//! server it ran (in-process and as processes) and every token, client
//! secret, code and password its tests saw (`tests/api/run_log.rs`); cargo
//! runs the integration test binaries one after another in name order, so
//! this one reads them after that run. `.ci/run` names the run
//! (`IDHUB_TEST_RUN`), and then the files must be that run's and a whole
//! run's; without the name (a developer's `cargo test`) whatever was
//! recorded last is scanned.
use std::io::Write;
use std::path::PathBuf;

use aho_corasick::AhoCorasick;

fn run_directory() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("api-run")
}

/// Each secret found, with the first line it is in.
fn leaks<'a>(log: &'a str, secrets: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let Ok(matcher) = AhoCorasick::new(secrets) else {
        panic!("the secrets do not build a matcher");
    };
    let mut found: Vec<(&str, &str)> = Vec::new();
    for line in log.lines() {
        for hit in matcher.find_overlapping_iter(line) {
            let secret = secrets[hit.pattern().as_usize()];
            if !found.iter().any(|(seen, _)| *seen == secret) {
                found.push((secret, line));
            }
        }
    }
    found
}

#[test]
fn no_secret_the_api_tests_saw_is_in_their_servers_log() {
    let directory = run_directory();
    // `.ci/run` names each run; the files must be that run's, and whole.
    let run = std::env::var("IDHUB_TEST_RUN")
        .ok()
        .filter(|run| !run.is_empty());
    let (Ok(log), Ok(noted)) = (
        std::fs::read_to_string(directory.join("server.log")),
        std::fs::read_to_string(directory.join("secrets.txt")),
    ) else {
        let why = format!("no API test run recorded in {}", directory.display());
        if run.is_some() {
            panic!("{why}: `cargo test` runs the api tests first");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED the log scan: {why}");
        return;
    };
    let mut secrets: Vec<&str> = noted.lines().collect();
    secrets.sort_unstable();
    secrets.dedup();
    if let Some(run) = &run {
        let recorded = std::fs::read_to_string(directory.join("run")).unwrap_or_default();
        assert_eq!(&recorded, run, "the recorded API test run is another one");
        // Not a vacuous scan: a whole run notes hundreds of secrets and logs
        // every request of every server, in-process ones and processes alike.
        assert!(secrets.len() >= 500, "only {} secrets noted", secrets.len());
        let requests = log.lines().filter(|l| l.contains("idhub::request")).count();
        assert!(requests >= 1000, "only {requests} request lines logged");
        assert!(log.contains("idhub stopped"), "no process server's log");
    }

    let found = leaks(&log, &secrets);
    assert!(
        found.is_empty(),
        "{} secrets are in the log, e.g.:\n{}",
        found.len(),
        found
            .iter()
            .take(5)
            .map(|(secret, line)| format!("{secret}\n  in: {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_scan_finds_a_secret_anywhere_in_a_line() {
    let log =
        "first line\nBearer eyJhbGciOi.abc.def in the middle\nlast: perm:cm9vdA==.MjQ.secret-tail";
    let secrets = ["eyJhbGciOi.abc.def", "secret-tail", "not-there-at-all"];
    let found = leaks(log, &secrets);
    assert_eq!(
        found,
        vec![
            (
                "eyJhbGciOi.abc.def",
                "Bearer eyJhbGciOi.abc.def in the middle"
            ),
            ("secret-tail", "last: perm:cm9vdA==.MjQ.secret-tail"),
        ]
    );
}
