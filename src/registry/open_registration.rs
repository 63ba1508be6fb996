//! Registration without a token (RFC 7591 open registration) is a door
//! anyone may walk through, so how often and how much is bounded: each
//! address (an IPv6 /64, which one subscriber usually holds whole; and four
//! times as many per /48, which one site may hold) may register a few
//! clients an hour, all addresses together a few hundred, a client may
//! update its own registration 60 times an hour, and metadata sent without
//! an administrator is small. Counts live in the shared counters table, so
//! every instance adds to the same ones. Parallel requests may overshoot a
//! limit by the requests in flight.
use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use crate::db::DbConn;
use crate::error::AppError;
use crate::sessions::failure_counters::{self, Limits};

/// The largest metadata document anyone may register without a token: room
/// for a few inline RSA keys, not for filling the database.
pub const MAX_ANONYMOUS_METADATA_BYTES: usize = 16 * 1024;
const OVERALL: &str = "open-registration:all";
/// A site's /48 holds 65,536 /64s: without its own count, one site could
/// use up the overall allowance.
const SITE_FACTOR: i32 = 4;
const UPDATES_PER_HOUR: i32 = 60;

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

/// The IPv6 /48 of `address`, if it is one.
fn site_subject(address: Option<IpAddr>) -> Option<String> {
    match address {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            Some(format!(
                "open-registration:site:{:x}:{:x}:{:x}::/48",
                s[0], s[1], s[2]
            ))
        }
        _ => None,
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
    let mut counted = vec![
        (address_subject(address), hourly(allowance.per_address)),
        (OVERALL.to_owned(), hourly(allowance.overall)),
    ];
    if let Some(site) = site_subject(address) {
        let per_site = allowance.per_address.saturating_mul(SITE_FACTOR);
        counted.push((site, hourly(per_site)));
    }
    count_unless_locked(conn, &counted, "clients registered without a token", now)
}

/// Counts one update a client makes to its own registration (RFC 7592), or
/// refuses it with 429: each writes its metadata and an audit event.
pub fn admit_update(
    conn: &mut DbConn,
    client_id: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let counted = [(
        format!("open-registration:update:{client_id}"),
        hourly(UPDATES_PER_HOUR),
    )];
    count_unless_locked(conn, &counted, "updates of this registration", now)
}

fn count_unless_locked(
    conn: &mut DbConn,
    counted: &[(String, Limits)],
    what: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let subjects: Vec<&str> = counted
        .iter()
        .map(|(subject, _)| subject.as_str())
        .collect();
    let locks = failure_counters::locks(conn, &subjects, now)?;
    if let Some(until) = locks.iter().map(|(_, until)| *until).max() {
        let retry_after_secs = u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1);
        return Err(AppError::TooManyRequests {
            message: format!("too many {what}; try again in {retry_after_secs} s"),
            retry_after_secs,
        });
    }
    for (subject, limits) in counted {
        failure_counters::count_failure(conn, subject, *limits, now)?;
    }
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
        let site = |text: &str| site_subject(Some(text.parse().expect("an address")));
        assert_eq!(site("2001:db8:1:2::1"), site("2001:db8:1:ffff::1"));
        assert_ne!(site("2001:db8:1::1"), site("2001:db8:2::1"));
        assert_eq!(site("192.0.2.7"), None);
    }
}
