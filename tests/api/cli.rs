//! The `idhub` binary's commands, run as a user would, on a fresh database.
use std::process::Output;

use serde_json::Value;

use crate::helpers::{idhub_command, idhub_command_at, TestDatabase};

fn idhub(database: &TestDatabase, args: &[&str]) -> Output {
    idhub_command(database)
        .args(args)
        .output()
        .expect("run idhub")
}

fn stdout_of(database: &TestDatabase, args: &[&str]) -> String {
    let output = idhub(database, args);
    assert!(
        output.status.success(),
        "idhub {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim_end()
        .to_owned()
}

#[test]
fn commands_print_machine_readable_results() {
    let database = TestDatabase::new();
    assert_eq!(stdout_of(&database, &["migrate"]), "migrations applied");

    let token = stdout_of(
        &database,
        &[
            "tokens",
            "create",
            "--user",
            "admin",
            "--name",
            "setup",
            "--scope",
            "0-0-0-0-0",
        ],
    );
    assert!(
        token.starts_with("perm:YWRtaW4.c2V0dXA."),
        "only the token: {token}"
    );
    assert!(!token.contains('\n'));

    let service: Value = serde_json::from_str(&stdout_of(
        &database,
        &[
            "services",
            "add",
            "--name",
            "CLI app",
            "--redirect-uri",
            "https://cli.example.com/cb",
            "--json",
        ],
    ))
    .unwrap();
    let id = service["id"].as_str().unwrap();
    assert_eq!(service.as_object().unwrap().len(), 2);
    assert_eq!(service["secret"].as_str().unwrap().len(), 43);

    assert!(stdout_of(&database, &["services", "trust", id]).contains("trusted"));
    let secret = stdout_of(&database, &["services", "reset-secret", id]);
    assert_eq!(secret.len(), 43);
    assert_ne!(secret, service["secret"].as_str().unwrap());

    let user: Value = serde_json::from_str(&stdout_of(
        &database,
        &[
            "users",
            "add",
            "--login",
            "ops",
            "--password",
            "ops-password",
            "--admin",
            "--json",
        ],
    ))
    .unwrap();
    assert!(user["id"].is_string());

    let pool =
        idhub::db::build_pool(database.location(), 1, std::time::Duration::from_secs(5)).unwrap();
    let mut conn = pool.get().unwrap();
    let stored = idhub::registry::repo::find(&mut conn, id).unwrap();
    assert!(stored.trusted);
    assert!(idhub::secrets::matches(&secret, &stored.secret_hash));
    let ops = idhub::users::repo::find_by_login(&mut conn, "ops")
        .unwrap()
        .unwrap();
    assert!(ops.admin);

    let refused = idhub(
        &database,
        &[
            "users",
            "add",
            "--login",
            "ops",
            "--password",
            "ops-password",
        ],
    );
    assert!(!refused.status.success());
    let refused = idhub(
        &database,
        &[
            "tokens", "create", "--user", "admin", "--name", "x", "--scope", "nope",
        ],
    );
    assert!(!refused.status.success());
}

fn with_stdin(database: &TestDatabase, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = idhub_command(database)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run idhub");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("idhub ends")
}

#[test]
fn commands_refuse_to_create_a_database_and_say_which_they_open() {
    let database = TestDatabase::new();
    let refused = idhub(&database, &["users", "list"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("idhub: database "), "{stderr}");
    assert!(stderr.contains("idhub migrate"), "says how: {stderr}");
    if let Some(path) = database.url.strip_prefix("sqlite://") {
        assert!(stderr.contains(path), "names the file: {stderr}");
        assert!(
            !std::path::Path::new(path).exists(),
            "no empty database was left behind"
        );
        // An empty file (what older versions left behind) is no database either.
        std::fs::write(path, b"").expect("empty file");
        let refused = idhub(&database, &["users", "list"]);
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("holds no idhub database"), "{stderr}");
        assert_eq!(std::fs::metadata(path).map(|m| m.len()).ok(), Some(0));
        // Nor is another program's file.
        std::fs::write(path, b"name,email\nada,ada@example.com\n").expect("text file");
        let refused = idhub(&database, &["users", "list"]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("holds no idhub database"), "{stderr}");
        std::fs::remove_file(path).expect("remove the text file");
    }
    let migrated = idhub(&database, &["migrate"]);
    assert!(migrated.status.success());
    let stderr = String::from_utf8_lossy(&migrated.stderr);
    assert!(stderr.starts_with("idhub: database "), "{stderr}");
    assert!(
        stderr.contains("created a new, empty database at"),
        "a new database is announced: {stderr}"
    );
    let again = idhub(&database, &["migrate"]);
    let stderr_again = String::from_utf8_lossy(&again.stderr);
    assert!(
        !stderr_again.contains("created a new"),
        "an existing one is not: {stderr_again}"
    );
    assert!(
        !stderr.contains("password"),
        "no URL password shown: {stderr}"
    );
    assert!(idhub(&database, &["users", "list"]).status.success());
}

#[test]
fn admins_list_ban_and_recover_from_the_command_line() {
    let database = TestDatabase::new();
    stdout_of(&database, &["migrate"]);
    let users = stdout_of(&database, &["users", "list"]);
    assert!(
        users
            .lines()
            .any(|l| l.contains("  admin  ") && l.ends_with("admin")),
        "{users}"
    );
    assert!(
        users
            .lines()
            .any(|l| l.contains("guest") && l.contains("banned")),
        "{users}"
    );

    let short = with_stdin(&database, &["users", "set-password", "admin"], "short\n");
    assert!(!short.status.success(), "the API's password rules apply");
    let set = with_stdin(
        &database,
        &["users", "set-password", "admin"],
        "a-new-admin-password\n",
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let pool =
        idhub::db::build_pool(database.location(), 1, std::time::Duration::from_secs(5)).unwrap();
    let hasher =
        idhub::users::password_hash::PasswordHasher::new(&crate::helpers::test_settings(&database))
            .unwrap();
    let admin = {
        let mut conn = pool.get().unwrap();
        idhub::users::repo::find_by_login(&mut conn, "admin")
            .unwrap()
            .unwrap()
    };
    assert!(hasher.verify(
        "a-new-admin-password",
        admin.password_hash.as_deref().unwrap()
    ));

    assert!(stdout_of(&database, &["users", "ban", "admin"]).contains("is banned"));
    let listed = stdout_of(&database, &["users", "list", "--query", "admin", "--json"]);
    let admin_json: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(admin_json["banned"], true);
    assert!(stdout_of(&database, &["users", "unban", admin.id.as_str()]).contains("no longer"));
    assert!(!idhub(&database, &["users", "ban", "nobody"])
        .status
        .success());

    let service: Value = serde_json::from_str(&stdout_of(
        &database,
        &["services", "add", "--name", "Doomed", "--json"],
    ))
    .unwrap();
    let id = service["id"].as_str().unwrap();
    let listed = stdout_of(&database, &["services", "list"]);
    assert!(listed.contains(&format!("{id}  Doomed")), "{listed}");
    assert!(listed.contains("Hub  trusted"), "{listed}");
    assert!(stdout_of(&database, &["services", "delete", id]).contains("deleted"));
    assert!(!stdout_of(&database, &["services", "list"]).contains(id));

    let kid = stdout_of(&database, &["keys", "rotate"]);
    let keys = stdout_of(&database, &["keys", "list"]);
    let first = keys.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&kid) && first.ends_with("current"),
        "{keys}"
    );
    assert!(
        keys.lines().nth(1).is_some_and(|l| l.contains("retired")),
        "{keys}"
    );

    let trail = stdout_of(&database, &["audit", "tail", "-n", "6"]);
    for kind in [
        "user.password_set actor=cli",
        "user.banned actor=cli",
        "user.unbanned actor=cli",
        "service.deleted actor=cli",
        "key.rotated actor=cli",
    ] {
        assert!(trail.contains(kind), "{kind} in {trail}");
    }
}

#[test]
fn a_weak_admin_password_in_the_environment_is_refused() {
    let database = TestDatabase::new();
    let refused = idhub_command(&database)
        .env("IDHUB_ADMIN_PASSWORD", "short")
        .arg("migrate")
        .output()
        .expect("run idhub");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("IDHUB_ADMIN_PASSWORD"), "{stderr}");
}

#[tokio::test]
async fn services_add_takes_the_sign_out_fields() {
    let app = crate::helpers::spawn_app().await;
    let out = app.cli(&[
        "services",
        "add",
        "--name",
        "Signs out",
        "--redirect-uri",
        "https://so.example/cb",
        "--post-logout-redirect-uri",
        "https://so.example/bye",
        "--backchannel-logout-uri",
        "https://so.example/backchannel",
        "--json",
    ]);
    let added: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = added["id"].as_str().unwrap();
    let service: serde_json::Value = app
        .get(&format!("/api/rest/services/{id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        service["postLogoutRedirectUris"],
        serde_json::json!(["https://so.example/bye"])
    );
    assert_eq!(
        service["backchannelLogoutUri"],
        "https://so.example/backchannel"
    );
}

#[test]
fn an_unreachable_database_is_one_line_and_exit_1_within_the_timeout() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let started = std::time::Instant::now();
    let output = idhub_command_at(&format!(
        "postgres://postgres@127.0.0.1:{closed_port}/idhub"
    ))
    .env("IDHUB_DATABASE_TIMEOUT_MS", "1000")
    .arg("serve")
    .output()
    .expect("run idhub");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.trim().is_empty(), "no page of pool errors: {stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("cannot open the database"), "{stderr}");
    assert!(lines[0].contains("refused"), "says why: {stderr}");
}

#[test]
fn a_misspelt_setting_is_refused_by_name() {
    let database = TestDatabase::new();
    let output = idhub_command(&database)
        .env("IDHUB_POOL_SIZ", "4")
        .args(["users", "list"])
        .output()
        .expect("run idhub");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pool_siz"), "{stderr}");
    assert!(
        stderr.contains("pool_size"),
        "names the valid keys: {stderr}"
    );
}

/// `idhub audit tail | head` panicked on the broken pipe (exit 101): a
/// reader that stops early is no failure.
#[test]
fn output_into_a_closed_pipe_is_no_failure() {
    let database = TestDatabase::new();
    stdout_of(&database, &["migrate"]);
    // The reader (`true`) is gone before idhub writes.
    let status_file = tempfile::NamedTempFile::new().expect("temp file");
    let script = format!(
        "(sleep 0.5; \"$0\" audit tail; echo $? > '{}') | true",
        status_file.path().display()
    );
    let output = idhub_command(&database)
        .arg0_shell(&script)
        .output()
        .expect("run sh");
    assert!(output.status.success(), "{output:?}");
    let status = std::fs::read_to_string(status_file.path()).expect("status");
    assert_eq!(
        status.trim(),
        "0",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

trait ShellWithBinary {
    fn arg0_shell(&mut self, script: &str) -> &mut Self;
}

/// Runs `script` in `sh` with the idhub binary as `$0` and this command's
/// environment.
impl ShellWithBinary for std::process::Command {
    fn arg0_shell(&mut self, script: &str) -> &mut Self {
        let binary = self.get_program().to_owned();
        let mut shell = std::process::Command::new("sh");
        shell.arg("-c").arg(script).arg(binary);
        for (key, value) in self.get_envs() {
            match value {
                Some(value) => shell.env(key, value),
                None => shell.env_remove(key),
            };
        }
        *self = shell;
        self
    }
}

/// A PostgreSQL database that does not exist is said at once, with the
/// command that creates it, by the server and by the CLI.
#[test]
fn a_missing_postgres_database_is_reported_at_once_with_createdb() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        crate::helpers::skipped("PostgreSQL only (TEST_DATABASE_URL is not set)");
        return;
    };
    let mut url = url::Url::parse(&base).expect("TEST_DATABASE_URL is a URL");
    url.set_path("idhub_t_never_created");
    for command in [&["serve"][..], &["users", "list"][..]] {
        let started = std::time::Instant::now();
        let output = idhub_command_at(url.as_str())
            .env("IDHUB_DATABASE_TIMEOUT_MS", "8000")
            .args(command)
            .output()
            .expect("run idhub");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {stderr}");
        assert!(
            stderr.contains("createdb idhub_t_never_created"),
            "{command:?}: {stderr}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{command:?} waited out its timeout"
        );
    }
}
