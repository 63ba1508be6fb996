//! Signing keys encrypted at rest: the CLI encrypts them, a server with the
//! key signs with them, a wrong or missing key is a clear error at start,
//! and the key can be changed.
use std::io::Write;
use std::process::{Output, Stdio};

use diesel::prelude::*;
use idhub::db::schema::signing_keys;

use crate::helpers::{idhub_command, TestDatabase};
use crate::kill::{free_port, Server};

fn cli(database: &TestDatabase, key: Option<&str>, args: &[&str], stdin: &str) -> Output {
    let mut command = idhub_command(database);
    if let Some(key) = key {
        command.env("IDHUB_KEY_ENCRYPTION_KEY", key);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run idhub");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    let output = child.wait_with_output().expect("idhub output");
    crate::run_log::saw_cli_output(args, &String::from_utf8_lossy(&output.stdout));
    output
}

fn succeeds(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn fails_saying(output: &Output, words: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(words), "{stderr}");
}

fn connection<T>(database: &TestDatabase, work: impl FnOnce(&mut idhub::db::DbConn) -> T) -> T {
    let pool = idhub::db::build_pool(database.location(), 1, std::time::Duration::from_secs(5))
        .expect("pool");
    let mut pooled = pool.get().expect("connection");
    work(&mut pooled)
}

/// The admin's authenticator-app secret as stored, after starting one
/// with `encryption` (none: kept as base64).
fn admin_totp_secret(database: &TestDatabase) -> String {
    connection(database, |conn| {
        idhub::db::schema::totp_factors::table
            .select(idhub::db::schema::totp_factors::secret)
            .first(conn)
            .expect("a TOTP secret")
    })
}

fn stored_keys(database: &TestDatabase) -> Vec<String> {
    let pool = idhub::db::build_pool(database.location(), 1, std::time::Duration::from_secs(5))
        .expect("pool");
    let mut pooled = pool.get().expect("connection");
    let conn: &mut idhub::db::DbConn = &mut pooled;
    signing_keys::table
        .select(signing_keys::private_key_pem)
        .load(conn)
        .expect("keys")
}

#[tokio::test]
async fn encrypted_keys_sign_tokens_and_need_their_key() {
    let database = TestDatabase::new();
    succeeds(&cli(&database, None, &["migrate"], ""));
    assert!(stored_keys(&database)
        .iter()
        .all(|pem| pem.contains("PRIVATE KEY")));
    let first = succeeds(&cli(&database, None, &["keys", "new-encryption-key"], ""));
    let second = succeeds(&cli(&database, None, &["keys", "new-encryption-key"], ""));
    assert_ne!(first, second);
    crate::run_log::saw(&first);
    crate::run_log::saw(&second);

    // An authenticator app set up before there was a key: its secret is
    // stored as base64, and encrypted with the signing keys.
    let admin_secret = connection(&database, |conn| {
        let admin = idhub::users::repo::find_by_login(conn, "admin")
            .unwrap()
            .expect("the admin");
        idhub::factors::repo::begin(conn, None, &admin.id, chrono::Utc::now().naive_utc())
            .expect("a TOTP secret")
    });
    assert!(!admin_totp_secret(&database).starts_with("aes256gcm:"));
    // And an auth module's client secret.
    let module_id = connection(&database, |conn| {
        let input: idhub::auth_modules::input::AuthModuleInput = serde_json::from_value(
            serde_json::json!({"name": "Corp", "type": "oidc", "issuer": "https://op.example",
                               "clientId": "idhub", "clientSecret": "module-secret"}),
        )
        .unwrap();
        let changes = input.check(true).unwrap();
        let now = chrono::Utc::now().naive_utc();
        let caller = idhub::audit::Caller::cli();
        idhub::auth_modules::repo::create(conn, None, changes, now, &caller)
            .unwrap()
            .id
    });

    let refused = cli(&database, None, &["keys", "encrypt"], "");
    fails_saying(&refused, "set IDHUB_KEY_ENCRYPTION_KEY first");
    let plaintext: Vec<String> = stored_keys(&database);
    // A running server holds connections, so nothing checkpoints when the
    // CLI exits: the file keeps what the log has not yet replaced. (Held in
    // another process: reading the files here while this process held a
    // connection would drop its POSIX locks.)
    let running = Server::start_with(&database, free_port(), &[]).await;
    let encrypted = succeeds(&cli(&database, Some(&first), &["keys", "encrypt"], ""));
    assert!(
        encrypted.starts_with(
            "1 signing keys, 1 authenticator-app secrets and 1 auth-module secrets are encrypted"
        ),
        "{encrypted}"
    );
    // No old copy stays in the SQLite files (free pages, the log): recovered
    // from the file, one forged an admin token (the hardening trial).
    if let idhub::db::DatabaseLocation::Sqlite(path) = database.location() {
        assert_eq!(
            encrypted,
            "1 signing keys, 1 authenticator-app secrets and 1 auth-module secrets are encrypted"
        );
        let body = |pem: &str| {
            pem.lines()
                .find(|line| line.len() > 40 && !line.starts_with("-----"))
                .unwrap_or_default()
                .to_owned()
        };
        for file in [path.clone(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            for pem in &plaintext {
                let needle = body(pem);
                assert!(!needle.is_empty());
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{file} still holds the plaintext key"
                );
            }
        }
    }
    drop(running);
    let stored = stored_keys(&database);
    assert!(
        stored
            .iter()
            .all(|pem| pem.starts_with("aes256gcm:") && !pem.contains("PRIVATE")),
        "{stored:?}"
    );

    // The key is needed, and only the right one does.
    let without = cli(&database, None, &["keys", "list"], "");
    fails_saying(&without, "is encrypted: set IDHUB_KEY_ENCRYPTION_KEY");
    let wrong = cli(&database, Some(&second), &["keys", "list"], "");
    fails_saying(&wrong, "does not decrypt signing key");
    let malformed = cli(&database, Some("c2hvcnQ="), &["keys", "list"], "");
    fails_saying(&malformed, "key_encryption_key must be 32 bytes in base64");

    // A server with the key signs tokens that its JWKS verifies.
    let port = free_port();
    let settings = [("IDHUB_KEY_ENCRYPTION_KEY", first.as_str())];
    let server = Server::start_with(&database, port, &settings).await;
    let added = succeeds(&cli(
        &database,
        Some(&first),
        &["services", "add", "--name", "Sealed", "--trusted", "--json"],
        "",
    ));
    let added: serde_json::Value = serde_json::from_str(&added).expect("json");
    let (id, secret) = (
        added["id"].as_str().expect("id"),
        added["secret"].as_str().expect("secret"),
    );
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/rest/oauth2/token", server.base))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access = token["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {token}"));
    let introspected: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/rest/oauth2/introspect", server.base))
        .basic_auth(id, Some(secret))
        .form(&[("token", access)])
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_eq!(introspected["active"], true, "signed and verified");
    drop(server);

    // A new key: the old one stops working, the new one works, and keys
    // rotated from then on are encrypted with it.
    let changed = cli(
        &database,
        Some(&first),
        &["keys", "change-encryption-key"],
        &format!("{second}\n"),
    );
    assert!(succeeds(&changed).starts_with(
        "1 signing keys, 1 authenticator-app secrets and 1 auth-module secrets are encrypted with the new key"
    ));
    fails_saying(
        &cli(&database, Some(&first), &["keys", "list"], ""),
        "does not decrypt signing key",
    );
    succeeds(&cli(&database, Some(&second), &["keys", "rotate"], ""));
    let stored = stored_keys(&database);
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|pem| pem.starts_with("aes256gcm:")));
    let listed = succeeds(&cli(&database, Some(&second), &["keys", "list"], ""));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let bad_new = cli(
        &database,
        Some(&second),
        &["keys", "change-encryption-key"],
        "too short\n",
    );
    fails_saying(&bad_new, "the new key on stdin must be 32 bytes");
    // The app's secret is sealed with the new key, and opens to the same.
    assert!(admin_totp_secret(&database).starts_with("aes256gcm:"));
    let new_key = idhub::key_encryption::KeyEncryption::from_setting(&second).unwrap();
    let opened = connection(&database, |conn| {
        let admin = idhub::users::repo::find_by_login(conn, "admin")
            .unwrap()
            .unwrap();
        idhub::factors::repo::secret(conn, Some(&new_key), &admin.id, false)
            .unwrap()
            .expect("the secret")
            .0
    });
    assert_eq!(opened, admin_secret);
    let module_secret = connection(&database, |conn| {
        let module = idhub::auth_modules::repo::find(conn, &module_id).unwrap();
        assert!(module.secret.as_deref().unwrap().starts_with("aes256gcm:"));
        idhub::auth_modules::repo::secret(Some(&new_key), &module).unwrap()
    });
    assert_eq!(module_secret.as_deref(), Some("module-secret"));
}
