//! Throttling failed sign-ins, in the database so every instance sees it.
//!
//! Failures are counted three ways, each locking on its own:
//! - per source and account (5 by default): one address, or one client of the
//!   password grant, guessing one account's password;
//! - per source (20 for an address, 100 for a client): one source spraying
//!   many accounts;
//! - per account (50): a guess spread over many addresses; not for a browser
//!   that signed in to the account before (`familiar_devices`), so nobody
//!   locks an administrator out from the network.
//!
//! The right password is refused only where a lock applies, so a stranger who
//! locks `admin` from their own address locks only themselves out, unless they
//! command more addresses than the account limit. Unknown logins are counted
//! and locked exactly like real ones, so the answer never tells which exist.
use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use super::failure_counters;
pub use super::failure_counters::Limits;
use crate::config::Settings;
use crate::db::DbConn;
use crate::error::StoreError;

/// The limits for each way failures are counted, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    pub per_source_and_account: Limits,
    pub per_address: Limits,
    pub per_client: Limits,
    pub per_account: Limits,
}

impl Lockout {
    pub fn from_settings(settings: &Settings) -> Self {
        let limits = |max_failures: i32| Limits {
            max_failures: max_failures.max(1),
            window: Duration::seconds(settings.password_failure_window_secs),
            lockout: Duration::seconds(settings.password_lockout_secs),
        };
        Self {
            per_source_and_account: limits(settings.password_max_failures),
            per_address: limits(settings.password_address_max_failures),
            per_client: limits(settings.password_client_max_failures),
            per_account: limits(settings.password_account_max_failures),
        }
    }
}

/// Where an attempt comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A browser or API caller, by network address (None when unknown).
    Address(Option<IpAddr>),
    /// The confidential client a password grant comes through.
    Client(String),
}

impl Source {
    fn key(&self) -> String {
        match self {
            Source::Address(Some(ip)) => format!("addr:{ip}"),
            Source::Address(None) => "addr:unknown".into(),
            Source::Client(id) => format!("client:{id}"),
        }
    }
}

/// The account an attempt names: a user id when the identifier is known, else
/// a digest of the identifier as typed (so unknown names are throttled too,
/// and the table never holds what strangers typed).
pub fn account_key(user_id: Option<&str>, identifier: &str) -> String {
    match user_id {
        Some(id) => format!("user:{id}"),
        None => format!(
            "name:{}",
            crate::secrets::hash(&identifier.trim().to_lowercase())
        ),
    }
}

/// The counters one attempt touches, with the limits of each.
pub struct Counters {
    /// Source and account together: cleared by a successful sign-in.
    pub pair: (String, Limits),
    pub source: (String, Limits),
    /// The account, from anywhere; for a familiar browser its cookie
    /// instead (the account-wide lock is not its).
    pub account: (String, Limits),
}

/// Whether the browser signed in to the account before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// With a valid cookie, and its nonce.
    Familiar {
        user_id: String,
        nonce: String,
    },
    Unknown,
}

/// The counter of one familiar browser's cookie.
fn device_key(user_id: &str, nonce: &str) -> String {
    format!("device:{user_id}:{nonce}")
}

impl Counters {
    pub fn new(lockout: &Lockout, source: &Source, account: &str, device: Device) -> Self {
        let source_limits = match source {
            Source::Address(_) => lockout.per_address,
            Source::Client(_) => lockout.per_client,
        };
        let source_key = source.key();
        Self {
            pair: (
                format!("pair:{source_key}|{account}"),
                lockout.per_source_and_account,
            ),
            source: (source_key, source_limits),
            account: match device {
                Device::Familiar { user_id, nonce } => {
                    (device_key(&user_id, &nonce), lockout.per_source_and_account)
                }
                Device::Unknown => (account.to_owned(), lockout.per_account),
            },
        }
    }

    fn all(&self) -> [&(String, Limits); 3] {
        [&self.pair, &self.source, &self.account]
    }

    /// True when any of the counters is locked now.
    pub fn locked(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<bool, StoreError> {
        let subjects = self.all().map(|(s, _)| s.as_str());
        failure_counters::any_locked(conn, &subjects, now)
    }

    pub fn record_failure(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<(), StoreError> {
        for (subject, limits) in self.all() {
            failure_counters::count_failure(conn, subject, *limits, now)?;
        }
        Ok(())
    }

    /// A success forgets the pair's failures; the wider counters run out on
    /// their own, so a sign-in between guesses does not reset a spray.
    pub fn record_success(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        failure_counters::forget(conn, &self.pair.0)
    }
}

/// Forgets the failures counted against a user's account, alone, with
/// every source and on every familiar browser; returns how many counters
/// went.
pub fn unlock_account(conn: &mut DbConn, user_id: &str) -> Result<usize, StoreError> {
    let account = account_key(Some(user_id), "");
    failure_counters::forget_matching(
        conn,
        &account,
        &[
            format!("pair:%|{account}"),
            format!("{}%", device_key(user_id, "")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_keyed_by_a_digest_of_what_was_typed() {
        let key = account_key(None, " Admin@Example.com ");
        assert_eq!(key, account_key(None, "admin@example.com"));
        assert!(!key.contains("admin"), "{key}");
        assert_eq!(key.len(), "name:".len() + 64);
        assert_eq!(account_key(Some("u1"), "anything"), "user:u1");
    }
}
