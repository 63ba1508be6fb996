//! `idhub keys`: list and rotate the token signing keys, and encrypt them
//! at rest.
use clap::Subcommand;
use serde_json::json;

use super::common::{with_conn, Output};
use crate::audit::Caller;
use crate::auth_modules::repo as auth_modules;
use crate::clock;
use crate::config::Settings;
use crate::db::scrub::{self, Scrubbed};
use crate::factors::repo as factors;
use crate::key_encryption::KeyEncryption;
use crate::oidc::keystore::{self, KeyPolicy};
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys, newest first: kid, algorithm, created, and
    /// whether current or retired (retired keys stay in the JWKS until the
    /// tokens they signed have expired).
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Make a new current signing key; the old ones stay in the JWKS until the
    /// tokens they signed have expired. Running servers switch within seconds.
    Rotate {
        #[command(flatten)]
        output: Output,
    },
    /// Print a new random key for IDHUB_KEY_ENCRYPTION_KEY (32 bytes, base64).
    NewEncryptionKey,
    /// Encrypt the stored signing keys and authenticator-app (TOTP)
    /// secrets with IDHUB_KEY_ENCRYPTION_KEY (AES-256-GCM). Servers keep working meanwhile; give them the same
    /// setting before they restart.
    Encrypt,
    /// Re-encrypt the stored signing keys and TOTP secrets with a new key, read from stdin
    /// (one line); IDHUB_KEY_ENCRYPTION_KEY is the current one, if any.
    /// Then set IDHUB_KEY_ENCRYPTION_KEY to the new key everywhere and
    /// restart the servers.
    ChangeEncryptionKey,
}

/// Handled before any database is opened.
/// Clears what the rewrite left of the old keys in the files, and says
/// what remains to do.
fn scrubbed(state: &AppState) -> anyhow::Result<&'static str> {
    Ok(match with_conn(state, |conn| Ok(scrub::scrub(conn)?))? {
        Scrubbed::Clean => "",
        Scrubbed::LogInUse => {
            " (running servers kept the write-ahead log busy, and it may still hold the \
             old keys: stop the servers and run this command again to clear it)"
        }
        Scrubbed::NotSqlite => {
            " (PostgreSQL keeps old row versions until it vacuums, and its WAL and \
             backups longer: run `idhub keys rotate` so the keys that were stored in \
             plaintext retire)"
        }
    })
}

pub fn new_encryption_key() -> anyhow::Result<String> {
    KeyEncryption::generate().map_err(anyhow::Error::msg)
}

pub fn run(command: KeysCommand, state: &AppState, settings: &Settings) -> anyhow::Result<String> {
    match command {
        KeysCommand::List { output } => {
            let keys = with_conn(state, |conn| Ok(keystore::list(conn)?))?;
            let lines: Vec<String> = keys
                .iter()
                .map(|key| match output.json {
                    true => serde_json::to_string(key).unwrap_or_default(),
                    false => {
                        let state = match key.retired_at {
                            None => "current".to_owned(),
                            Some(at) => format!("retired {}", clock::shown(at)),
                        };
                        let created = clock::shown(key.created);
                        format!("{}  {}  created {created}  {state}", key.kid, key.algorithm)
                    }
                })
                .collect();
            Ok(lines.join("\n"))
        }
        KeysCommand::Rotate { output } => {
            let policy = KeyPolicy::from_settings(settings).map_err(anyhow::Error::msg)?;
            let kid = with_conn(state, |conn| {
                keystore::rotate(conn, &policy, clock::now(), &Caller::cli())
            })?;
            Ok(match output.json {
                true => json!({ "kid": kid, "algorithm": policy.algorithm.name() }).to_string(),
                false => kid,
            })
        }
        KeysCommand::NewEncryptionKey => new_encryption_key(),
        KeysCommand::Encrypt => {
            let Some(key) = KeyPolicy::from_settings(settings)
                .map_err(anyhow::Error::msg)?
                .encryption
            else {
                anyhow::bail!(
                    "set IDHUB_KEY_ENCRYPTION_KEY first (`idhub keys new-encryption-key` makes one)"
                );
            };
            let (count, apps, modules) = with_conn(state, |conn| {
                let count =
                    keystore::encrypt_all(conn, Some(&key), &key, &Caller::cli(), clock::now())?;
                let apps = factors::seal_all(conn, Some(&key), &key)?;
                Ok((count, apps, auth_modules::seal_all(conn, Some(&key), &key)?))
            })?;
            Ok(format!(
                "{count} signing keys, {apps} authenticator-app secrets and {modules} \
                 auth-module secrets are encrypted{}",
                scrubbed(state)?
            ))
        }
        KeysCommand::ChangeEncryptionKey => {
            let current = KeyPolicy::from_settings(settings)
                .map_err(anyhow::Error::msg)?
                .encryption;
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| anyhow::anyhow!("cannot read the new key from stdin: {e}"))?;
            let new = KeyEncryption::from_setting(&line).map_err(|_| {
                anyhow::anyhow!(
                    "the new key on stdin must be 32 bytes in base64 \
                     (`idhub keys new-encryption-key` makes one)"
                )
            })?;
            let (count, apps, modules) = with_conn(state, |conn| {
                let count = keystore::encrypt_all(
                    conn,
                    current.as_deref(),
                    &new,
                    &Caller::cli(),
                    clock::now(),
                )?;
                let apps = factors::seal_all(conn, current.as_deref(), &new)?;
                let modules = auth_modules::seal_all(conn, current.as_deref(), &new)?;
                Ok((count, apps, modules))
            })?;
            Ok(format!(
                "{count} signing keys, {apps} authenticator-app secrets and {modules} \
                 auth-module secrets are encrypted \
                 with the new key{}: set \
                 IDHUB_KEY_ENCRYPTION_KEY to it for every server and CLI run, and restart the servers",
                scrubbed(state)?
            ))
        }
    }
}
