//! The log of the whole API test run, and every secret the tests saw: the
//! in-process servers log through one JSON subscriber into `server.log`, the
//! servers run as processes append their output to the same file, and the
//! helpers that receive a token, a secret, a code or a password note it in
//! `secrets.txt`. The `log_scan` test binary, which cargo runs after this one,
//! looks for each noted secret in the log.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// Shorter values (test passwords such as `pw`, a user code's chunk) would
/// match ordinary words of the log.
const SHORTEST_NOTED: usize = 12;

/// Fields of JSON answers and of forms whose values are secrets.
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "secret",
    "client_secret",
    "registration_access_token",
    "device_code",
    "code",
    "code_verifier",
    "token",
    "password",
    "subject_token",
    "actor_token",
    "client_assertion",
];

pub fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("api-run")
}

struct Record {
    secrets: Mutex<File>,
    log_path: PathBuf,
}

fn record() -> &'static Record {
    static RECORD: OnceLock<Record> = OnceLock::new();
    RECORD.get_or_init(|| {
        let directory = directory();
        std::fs::create_dir_all(&directory).expect("run log directory");
        let log_path = directory.join("server.log");
        File::create(&log_path).expect("run log");
        // Appending, as the servers run as processes do, so no line
        // overwrites another.
        let log = append_to(&log_path);
        let secrets = File::create(directory.join("secrets.txt")).expect("secrets file");
        // Which run wrote these files: `.ci/run` sets it, and `log_scan`
        // refuses files of another run.
        let run = std::env::var("IDHUB_TEST_RUN").unwrap_or_default();
        std::fs::write(directory.join("run"), run).expect("run id");
        // Every level idhub logs at, so a secret in a debug line counts too.
        let filter = tracing_subscriber::EnvFilter::new("info,idhub=debug,actix_server=warn");
        let installed = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .flatten_event(true)
            .with_writer(Mutex::new(log))
            .try_init();
        if let Err(error) = installed {
            panic!("the run log's subscriber could not be installed: {error}");
        }
        let record = Record {
            secrets: Mutex::new(secrets),
            log_path,
        };
        note(&record, crate::helpers::ADMIN_PASSWORD);
        record
    })
}

/// Starts the run's record (idempotent): called before any server starts.
pub fn begin() {
    record();
}

/// Where a server run as a process appends its output.
pub fn log_file() -> File {
    append_to(&record().log_path)
}

fn append_to(path: &std::path::Path) -> File {
    OpenOptions::new()
        .append(true)
        .open(path)
        .expect("run log for appending")
}

/// A secret the tests received or sent.
pub fn saw(secret: &str) {
    note(record(), secret);
}

/// The secret, and the shapes a leak would likely take: percent-encoded (a
/// logged query or form) and, for a JWT, its signature alone.
fn note(record: &Record, secret: &str) {
    if secret.len() < SHORTEST_NOTED {
        return;
    }
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let signature = match secret.split('.').collect::<Vec<_>>().as_slice() {
        [_, _, signature] if signature.len() >= SHORTEST_NOTED => Some(*signature),
        _ => None,
    };
    let mut lines = format!("{secret}\n");
    if encoded != secret {
        lines.push_str(&format!("{encoded}\n"));
    }
    if let Some(signature) = signature {
        lines.push_str(&format!("{signature}\n"));
    }
    let mut file = record
        .secrets
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    file.write_all(lines.as_bytes()).expect("note a secret");
}

/// HTTP Basic credentials, as the `Authorization` header carries them.
pub fn saw_basic(id: &str, secret: &str) {
    use base64::Engine;
    saw(secret);
    saw(&base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")));
}

/// What a CLI command printed: a JSON answer's secrets, or the token that
/// `tokens create` prints. Other output (ids, key ids) is logged legitimately.
pub fn saw_cli_output(args: &[&str], stdout: &str) {
    if let Ok(answer) = serde_json::from_str::<Value>(stdout) {
        saw_json(&answer);
    } else if args.starts_with(&["tokens", "create"]) {
        saw(stdout.trim());
    }
}

/// Every secret field of a form sent or a redirect's parameters.
pub fn saw_form<K: AsRef<str>, V: AsRef<str>>(form: &[(K, V)]) {
    for (name, value) in form {
        if SECRET_FIELDS.contains(&name.as_ref()) {
            saw(value.as_ref());
        }
    }
}

/// Every secret field of a JSON answer, at any depth.
pub fn saw_json(answer: &Value) {
    match answer {
        Value::Object(fields) => {
            for (name, value) in fields {
                match value.as_str() {
                    Some(text) if SECRET_FIELDS.contains(&name.as_str()) => saw(text),
                    _ => saw_json(value),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(saw_json),
        _ => {}
    }
}
