//! `idhub passwords`: what a password costs, and reading one safely.
use std::io::{BufRead, IsTerminal};

use clap::Subcommand;

use crate::config::Settings;
use crate::users::password_hash::{self as password, PasswordHasher};

#[derive(Debug, Subcommand)]
pub enum PasswordsCommand {
    /// Time one password verification (what each sign-in costs one core), in ms.
    Time {
        #[arg(long, default_value_t = 10)]
        iterations: u32,
    },
}

pub fn run(command: PasswordsCommand, settings: &Settings) -> anyhow::Result<String> {
    match command {
        PasswordsCommand::Time { iterations } => time_verification(settings, iterations),
    }
}

/// Needs no database: hashes once, then times verifications on this thread.
fn time_verification(settings: &Settings, iterations: u32) -> anyhow::Result<String> {
    let hasher = PasswordHasher::new(settings).map_err(anyhow::Error::msg)?;
    let hash = hasher
        .hash("correct horse battery staple")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    hasher.verify("warm-up", &hash);
    let iterations = iterations.max(1);
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        if !hasher.verify("correct horse battery staple", &hash) {
            anyhow::bail!("verification failed");
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(iterations);
    Ok(format!("{ms:.2}"))
}

/// A new password: asked twice on a terminal (not echoed), else the first
/// line of stdin; checked by the same rules as the REST API. Never from a
/// command-line flag, which other local users can read in the process list.
pub fn read_new(for_whom: &str) -> anyhow::Result<String> {
    let chosen = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {for_whom}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    password::validate(&chosen).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(chosen)
}
