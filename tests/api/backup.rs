//! Backups: `idhub backup FILE` while a server runs, restored by starting a
//! server on the copy; and a clean stop that leaves the SQLite file whole.
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::helpers::{idhub_command, idhub_command_at, spawn_app, start_instance, TestDatabase};
use crate::kill::{free_port, Server};

fn on_postgres(database: &TestDatabase) -> bool {
    database.url.starts_with("postgres")
}

/// `path` of the server at `base`, as the admin whose token is `token`.
async fn json_of(base: &str, token: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_every_service_user_and_key() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idhub-backup.db");
    let backup = || {
        idhub_command(&app.database)
            .arg("backup")
            .arg(&file)
            .output()
            .unwrap()
    };
    if on_postgres(&app.database) {
        let refused = backup();
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            said.contains("pg_dump") && said.contains("pg_restore"),
            "{said}"
        );
        assert!(!file.exists());
        return;
    }
    let (service_id, _) = app
        .service_with(serde_json::json!({"name": "Kept in the backup"}))
        .await;
    let user_id = app.create_user("backed-up", "backed-up-password").await;
    let keys = json_of(&app.address, &app.admin_token, "/api/rest/oauth2/keys").await;

    let made = backup();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(String::from_utf8_lossy(&made.stdout).contains("backed up to"));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the copy holds secrets");
    let again = backup();
    assert!(!again.status.success(), "never over an existing file");
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // The admin's permanent token is in the copy too.
    let restored = start_instance(&TestDatabase::sqlite_at(&file), |_| {});
    let token = &app.admin_token;
    let service = json_of(
        &restored,
        token,
        &format!("/api/rest/services/{service_id}"),
    )
    .await;
    assert_eq!(service["name"], "Kept in the backup");
    let user = json_of(&restored, token, &format!("/api/rest/users/{user_id}")).await;
    assert_eq!(user["login"], "backed-up");
    assert_eq!(
        json_of(&restored, token, "/api/rest/oauth2/keys").await,
        keys,
        "the same signing keys, so tokens issued before still verify"
    );
}

/// A copy of `idhub.db` alone, taken after a clean stop, is the whole
/// database: the server folds the write-ahead log into it as it stops.
#[tokio::test]
async fn a_clean_stop_leaves_the_database_file_whole() {
    let database = TestDatabase::new();
    if on_postgres(&database) {
        return;
    }
    let mut server = Server::start_with(&database, free_port(), &[]).await;
    // Written by another process while the server holds the file open, so
    // only the server's stop can fold it in.
    let added = idhub_command(&database)
        .args(["services", "add", "--name", "Written before the stop"])
        .output()
        .unwrap();
    assert!(added.status.success());
    let (status, _) = server.stop(libc::SIGTERM);
    assert!(status.success());
    let path = database.url.trim_start_matches("sqlite://");
    let log = std::path::PathBuf::from(format!("{path}-wal"));
    let left = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "the log is empty after a clean stop");

    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("idhub.db");
    std::fs::copy(path, &copy).unwrap();
    let listed = idhub_command_at(&format!("sqlite://{}", copy.display()))
        .args(["services", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("Written before the stop"), "{listed}");
}
