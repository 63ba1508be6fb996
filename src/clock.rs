//! The one clock. Rules about expiry take `now` as an argument (so tests can
//! pass any instant); the edges of the program read it here.
use chrono::NaiveDateTime;

/// The current time as naive UTC, the form every table stores.
pub fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Seconds since the epoch, as JWT claims count them.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
