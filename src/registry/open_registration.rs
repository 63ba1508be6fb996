//! Registration without a token (RFC 7591 open registration) is a door
//! anyone may walk through, so how often and how much is bounded: each
//! address (an IPv6 /64, which one subscriber usually holds whole) may
//! register a few clients an hour, all addresses together a few hundred,
//! and anonymous metadata is small. Counts live in the shared counters
//! table, so every instance adds to the same ones.
use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use crate::db::DbConn;
use crate::error::AppError;
use crate::sessions::failure_counters::{self, Limits};

/// The largest metadata document anyone may register without a token: room
/// for a few inline RSA keys, not for filling the database.
pub const MAX_ANONYMOUS_METADATA_BYTES: usize = 16 * 1024;
const OVERALL: &str = "open-registration:all";

/// Registrations per hour, per address and overall.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub per_address: i32,
    pub overall: i32,
}

fn address_subject(address: Option<IpAddr>) -> String {
    match address {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!(
                "open-registration:addr:{:x}:{:x}:{:x}:{:x}::/64",
                s[0], s[1], s[2], s[3]
            )
        }
        Some(IpAddr::V6(v6)) => format!("open-registration:addr:{}", v6.to_canonical()),
        Some(ip) => format!("open-registration:addr:{ip}"),
        None => "open-registration:addr:unknown".into(),
    }
}

fn hourly(max: i32) -> Limits {
    Limits {
        max_failures: max.max(1),
        window: Duration::hours(1),
        lockout: Duration::hours(1),
    }
}

/// Counts one anonymous registration from `address`, or refuses it with
/// 429 and the seconds until the address (or everybody) may register again.
pub fn admit(
    conn: &mut DbConn,
    address: Option<IpAddr>,
    allowance: Allowance,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let address = address_subject(address);
    let locks = failure_counters::locks(conn, &[address.as_str(), OVERALL], now)?;
    if let Some(until) = locks.iter().map(|(_, until)| *until).max() {
        let retry_after_secs = u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1);
        return Err(AppError::TooManyRequests {
            message: format!(
                "too many clients registered without a token; try again in {retry_after_secs} s"
            ),
            retry_after_secs,
        });
    }
    failure_counters::count_failure(conn, &address, hourly(allowance.per_address), now)?;
    failure_counters::count_failure(conn, OVERALL, hourly(allowance.overall), now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_subscriber_is_one_address_and_a_mapped_ipv4_is_its_ipv4() {
        let subject = |text: &str| address_subject(Some(text.parse().expect("an address")));
        assert_eq!(
            subject("2001:db8:1:2:aaaa::1"),
            subject("2001:db8:1:2:bbbb::2")
        );
        assert_ne!(subject("2001:db8:1:2::1"), subject("2001:db8:1:3::1"));
        assert_eq!(subject("::ffff:192.0.2.7"), subject("192.0.2.7"));
        assert_eq!(address_subject(None), "open-registration:addr:unknown");
    }
}
