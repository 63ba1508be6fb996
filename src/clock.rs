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

/// Hub gives times as milliseconds since the epoch: every JSON answer of
/// the REST API and every `--json` line of the CLI.
pub fn millis(time: NaiveDateTime) -> i64 {
    time.and_utc().timestamp_millis()
}

/// A time as people read it in the CLI's text output and the log: ISO 8601,
/// UTC, to the second ("2026-12-07T17:20:52Z").
pub fn shown(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `millis` for serde's `serialize_with`.
pub fn serialize_millis<S: serde::Serializer>(
    time: &NaiveDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(millis(*time))
}

/// `millis` of an optional time for serde's `serialize_with` (null when none).
pub fn serialize_optional_millis<S: serde::Serializer>(
    time: &Option<NaiveDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_i64(millis(*time)),
        None => serializer.serialize_none(),
    }
}
