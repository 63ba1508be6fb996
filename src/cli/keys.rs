//! `idhub keys`: list and rotate the token signing keys.
use clap::Subcommand;
use serde_json::json;

use super::common::{with_conn, Output};
use crate::audit::Caller;
use crate::clock;
use crate::config::Settings;
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
                            Some(at) => format!("retired {}", at.format("%Y-%m-%dT%H:%M:%SZ")),
                        };
                        let created = key.created.format("%Y-%m-%dT%H:%M:%SZ");
                        format!("{}  {}  created {created}  {state}", key.kid, key.algorithm)
                    }
                })
                .collect();
            Ok(lines.join("\n"))
        }
        KeysCommand::Rotate { output } => {
            let policy = KeyPolicy::from_settings(settings).map_err(anyhow::Error::msg)?;
            let kid = with_conn(state, |conn| {
                keystore::rotate(
                    conn,
                    policy.algorithm,
                    policy.retention,
                    clock::now(),
                    &Caller::cli(),
                )
            })?;
            Ok(match output.json {
                true => json!({ "kid": kid, "algorithm": policy.algorithm.name() }).to_string(),
                false => kid,
            })
        }
    }
}
