//! docs/first-flows.md and docs/authorization.md, run as written: a
//! page's `bash` blocks in one bash process against a fresh server (its
//! own process, on the test's database), each block's output compared
//! with the `text` block that follows it. The page's base URL is replaced
//! by the server's.
use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::{idhub_command, skipped, TestDatabase};
use crate::kill::{free_port, Server};

const PAGE: &str = include_str!("../../docs/first-flows.md");
const AUTHORIZATION_PAGE: &str = include_str!("../../docs/authorization.md");
const PAGE_BASE: &str = "http://127.0.0.1:8080";
const PAGE_BASE_ENCODED: &str = "http%3A%2F%2F127.0.0.1%3A8080";
const STEP_END: &str = "@@ end of step @@";

/// A `bash` block and the output shown for it, if any.
struct Step {
    code: String,
    expected: Option<String>,
}

/// The page's fenced blocks, strictly: every fence opens a `bash`, `text`
/// or `sh` block (the last are shown, not run) and is closed, so no block
/// can slip out of the run unnoticed.
fn steps(page: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let kind = match info.trim_end() {
            "bash" => "bash",
            "text" => "text",
            "sh" => "sh",
            other => panic!("a fence the test does not know: ```{other}"),
        };
        let mut closed = false;
        let mut body = Vec::new();
        for line in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                assert_eq!(line, "```", "a block closes with a bare fence");
                closed = true;
                break;
            }
            body.push(line);
        }
        assert!(closed, "an unclosed ```{kind} block");
        let body = body.join("\n");
        if kind == "sh" {
            continue;
        }
        match kind {
            "bash" => steps.push(Step {
                code: body,
                expected: None,
            }),
            _ => {
                let last = steps.last_mut().expect("output shown after a command");
                assert!(last.expected.is_none(), "two outputs for one command");
                last.expected = Some(body);
            }
        }
    }
    steps
}

fn missing_tool() -> Option<&'static str> {
    ["bash", "curl", "jq", "openssl"].into_iter().find(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .map_or(true, |status| !status.success())
    })
}

#[test]
fn every_command_of_the_pages_is_run_and_every_output_checked() {
    for (page, at_least) in [(PAGE, 10), (AUTHORIZATION_PAGE, 6)] {
        let steps = steps(page);
        assert_eq!(steps.len(), page.matches("```bash\n").count());
        let outputs = steps.iter().filter(|s| s.expected.is_some()).count();
        assert_eq!(outputs, page.matches("```text\n").count());
        assert!(
            steps.len() >= at_least && outputs + 1 >= at_least,
            "{} steps",
            steps.len()
        );
    }
}

#[tokio::test]
async fn the_first_flows_page_runs_as_written() {
    runs_as_written("docs/first-flows.md", PAGE).await;
}

#[tokio::test]
async fn the_authorization_page_runs_as_written() {
    runs_as_written("docs/authorization.md", AUTHORIZATION_PAGE).await;
}

async fn runs_as_written(name: &str, page: &str) {
    if let Some(tool) = missing_tool() {
        // CI installs the tools and makes the test required.
        if std::env::var("IDHUB_BROWSER_TESTS").as_deref() == Ok("required") {
            panic!("{name} needs {tool}");
        }
        skipped(&format!("{name} needs {tool}"));
        return;
    }
    let database = TestDatabase::new();
    let port = free_port();
    let server = Server::start_with(&database, port, &[]).await;
    let steps = steps(page);
    let mut script = String::from("set -euo pipefail\n");
    for step in &steps {
        script.push_str(&step.code.replace(PAGE_BASE, &server.base));
        script.push_str(&format!("\necho '{STEP_END}'\n"));
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_idhub"));
    let path = format!(
        "{}:{}",
        binary.parent().expect("a directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The environment the CLI gets in the other tests: this database, no
    // settings from the shell that runs the tests.
    let cli = idhub_command(&database);
    let mut bash = Command::new("bash");
    bash.env_clear();
    for (key, value) in cli.get_envs() {
        if let Some(value) = value {
            bash.env(key, value);
        }
    }
    let run = bash
        .env("PATH", path)
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .args(["-c", &script])
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "{name}: the page's commands failed ({}):\n{stdout}\n{stderr}",
        run.status
    );
    let outputs: Vec<&str> = stdout.split(&format!("{STEP_END}\n")).collect();
    assert_eq!(outputs.len(), steps.len() + 1, "{stdout}");
    for (step, output) in steps.iter().zip(&outputs) {
        let Some(expected) = &step.expected else {
            continue;
        };
        let expected = expected.replace(PAGE_BASE, &server.base).replace(
            PAGE_BASE_ENCODED,
            &url::form_urlencoded::byte_serialize(server.base.as_bytes()).collect::<String>(),
        );
        assert_eq!(
            output.trim_end(),
            expected.trim_end(),
            "the output of\n{}",
            step.code
        );
    }
}
