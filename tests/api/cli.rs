//! The `idhub` binary's commands, run as a user would, on a fresh database.
use std::process::Output;

use serde_json::Value;

use crate::helpers::{idhub_command, TestDatabase};

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
