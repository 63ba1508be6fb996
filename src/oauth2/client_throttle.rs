//! Throttling failed client authentication at the token, introspection and
//! revocation endpoints. A client secret has 256 bits, so guessing one is
//! hopeless; what this stops is a source hammering the endpoints with wrong
//! credentials. Failures are counted in the database (so every instance adds
//! to the same counts) per address and client (`client_auth_max_failures`)
//! and per address (five times that), never per client alone: a stranger
//! cannot lock a client out everywhere. Where a lock applies even the right
//! secret is refused until it ends.
//!
//! Locks are kept in memory, so a request pays no database read: an instance
//! learns of a lock when one of its own failures is counted, whichever
//! instance set it, so across instances a locked source gets at most one more
//! try per instance.
use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::config::Settings;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::sessions::failure_counters::{self, Limits};

/// How many times the pair's limit locks a whole address.
const ADDRESS_FACTOR: i32 = 5;
/// Locks kept in memory at most; past it the least used are forgotten.
const MAX_LOCKS: u64 = 100_000;

pub struct ClientThrottle {
    pair: Limits,
    address: Limits,
    /// Locked subjects and when their lock ends.
    locked: moka::sync::Cache<String, Instant>,
}

fn address_key(address: Option<IpAddr>) -> String {
    match address {
        Some(ip) => format!("client-auth:addr:{ip}"),
        None => "client-auth:addr:unknown".into(),
    }
}

fn pair_key(address: Option<IpAddr>, client_id: &str) -> String {
    format!("{}|{client_id}", address_key(address))
}

impl ClientThrottle {
    pub fn from_settings(settings: &Settings) -> Self {
        let max = settings.client_auth_max_failures.max(1);
        let limits = |max_failures: i32| Limits {
            max_failures,
            window: chrono::Duration::seconds(settings.password_failure_window_secs),
            lockout: chrono::Duration::seconds(settings.password_lockout_secs),
        };
        let lockout_secs = u64::try_from(settings.password_lockout_secs.max(1)).unwrap_or(60);
        Self {
            pair: limits(max),
            address: limits(max.saturating_mul(ADDRESS_FACTOR)),
            locked: moka::sync::Cache::builder()
                .max_capacity(MAX_LOCKS)
                .time_to_live(Duration::from_secs(lockout_secs))
                .build(),
        }
    }

    /// Whether this address, or this address for this client, is locked.
    pub fn is_locked(&self, address: Option<IpAddr>, client_id: &str) -> bool {
        let now = Instant::now();
        let locked = |key: String| self.locked.get(&key).is_some_and(|until| until > now);
        locked(address_key(address)) || locked(pair_key(address, client_id))
    }

    /// Counts one failed client authentication; remembers any lock that
    /// now applies to the address or the pair.
    pub fn record_failure(
        &self,
        conn: &mut DbConn,
        address: Option<IpAddr>,
        client_id: &str,
        now: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let subjects = [
            (pair_key(address, client_id), self.pair),
            (address_key(address), self.address),
        ];
        for (subject, limits) in &subjects {
            failure_counters::count_failure(conn, subject, *limits, now)?;
        }
        let keys = subjects.each_ref().map(|(s, _)| s.as_str());
        for (subject, until) in failure_counters::locks(conn, &keys, now)? {
            let left = (until - now).to_std().unwrap_or_default();
            if let Some(ends) = Instant::now().checked_add(left) {
                self.locked.insert(subject, ends);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_lock_leaves_other_clients_and_addresses_free() {
        let throttle = ClientThrottle::from_settings(&Settings::default());
        let here: Option<IpAddr> = "192.0.2.1".parse().ok();
        let there: Option<IpAddr> = "192.0.2.2".parse().ok();
        let later = Instant::now() + Duration::from_secs(60);
        throttle.locked.insert(pair_key(here, "app"), later);
        assert!(throttle.is_locked(here, "app"));
        assert!(!throttle.is_locked(here, "other-app"));
        assert!(!throttle.is_locked(there, "app"));
        throttle.locked.insert(address_key(here), later);
        throttle.locked.insert(
            pair_key(there, "app"),
            Instant::now() - Duration::from_millis(1),
        );
        assert!(!throttle.is_locked(there, "app"), "an ended lock");
        assert!(throttle.is_locked(here, "other-app"));
        assert!(!throttle.is_locked(None, "app"));
    }
}
