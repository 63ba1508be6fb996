//! The metrics idhub exports, each named and described once here. Code
//! records them through the `metrics` facade, as it logs through `tracing`;
//! the server installs the recorder that renders them for Prometheus at
//! `/metrics`. Where no recorder is installed (the CLI, unit tests),
//! recording does nothing.
//!
//! Label values come from closed sets (route templates, grant types, error
//! codes, a few reasons), never from what a client typed, so a client cannot
//! make the series grow without bound.
use std::cell::RefCell;
use std::collections::HashMap;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, Counter, Histogram, Unit,
};

pub const HTTP_REQUEST_DURATION: &str = "idhub_http_request_duration_seconds";
pub const TOKENS_ISSUED: &str = "idhub_tokens_issued_total";
pub const OAUTH_ERRORS: &str = "idhub_oauth_errors_total";
pub const SIGN_IN_FAILURES: &str = "idhub_sign_in_failures_total";
pub const FACTOR_EVENTS: &str = "idhub_second_factor_events_total";
pub const CODE_REPLAYS: &str = "idhub_code_replays_total";
pub const REFRESH_TOKEN_REUSES: &str = "idhub_refresh_token_reuses_total";
pub const CACHE_LOOKUPS: &str = "idhub_cache_lookups_total";
pub const DB_POOL_CONNECTIONS: &str = "idhub_db_pool_connections";
pub const DB_POOL_MAX_CONNECTIONS: &str = "idhub_db_pool_max_connections";
pub const DB_POOL_ACQUIRE: &str = "idhub_db_pool_acquire_seconds";
pub const DB_POOL_TIMEOUTS: &str = "idhub_db_pool_timeouts_total";
pub const AUDIT_EVENTS_DROPPED: &str = "idhub_audit_events_dropped_total";
pub const HOUSEKEEPING_DELETED: &str = "idhub_housekeeping_deleted_rows_total";
pub const HOUSEKEEPING_PASS: &str = "idhub_housekeeping_pass_seconds";

/// Help texts, for the recorder to print; called once it is installed.
pub fn describe() {
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "HTTP requests by method, route template and status, and how long they took"
    );
    describe_counter!(TOKENS_ISSUED, "Access tokens issued, by grant type");
    describe_counter!(OAUTH_ERRORS, "OAuth error answers, by error code");
    describe_counter!(
        SIGN_IN_FAILURES,
        "Failed sign-ins, by where (sign-in page, password grant, password change) and why"
    );
    describe_counter!(
        FACTOR_EVENTS,
        "Second-factor events: TOTP and passkeys enrolled, used, refused and removed, recovery codes used"
    );
    describe_counter!(
        CODE_REPLAYS,
        "Authorization codes presented again (their grant is revoked)"
    );
    describe_counter!(
        REFRESH_TOKEN_REUSES,
        "Rotated-out refresh tokens presented again (their grant is revoked)"
    );
    describe_counter!(
        CACHE_LOOKUPS,
        "In-memory cache lookups, by cache and result (hit or miss)"
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Open database connections, by state (idle or in_use), when last scraped"
    );
    describe_gauge!(DB_POOL_MAX_CONNECTIONS, "The database pool's size");
    describe_histogram!(
        DB_POOL_ACQUIRE,
        Unit::Seconds,
        "How long requests waited for a pooled database connection"
    );
    describe_counter!(
        DB_POOL_TIMEOUTS,
        "Requests that got no database connection within the database timeout"
    );
    describe_counter!(
        HOUSEKEEPING_DELETED,
        "Expired rows housekeeping deleted, by table"
    );
    describe_histogram!(
        HOUSEKEEPING_PASS,
        Unit::Seconds,
        "How long this instance's housekeeping passes took"
    );
    describe_counter!(
        AUDIT_EVENTS_DROPPED,
        "Audit events dropped because the queue was full or the database refused them"
    );
}

/// A method from the closed set HTTP defines, or `other`.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// Request histograms by route, then by method and status.
type RequestHistograms = HashMap<String, Vec<(&'static str, u16, Histogram)>>;

thread_local! {
    /// Each worker's handles: the registry would build, hash and look up a
    /// labelled key on every request, which costs ten times as much.
    static REQUEST_HISTOGRAMS: RefCell<RequestHistograms> = RefCell::default();
}

/// One answered request. `method` is a `method_label`; `route` the matched
/// route template, or `None` when no route matched (a path anyone may make
/// up is not a label).
pub fn request(method: &'static str, route: Option<&str>, status: u16, seconds: f64) {
    let route = route.unwrap_or("unmatched");
    REQUEST_HISTOGRAMS.with_borrow_mut(|by_route| {
        if !by_route.contains_key(route) {
            by_route.insert(route.to_owned(), Vec::new());
        }
        let Some(handles) = by_route.get_mut(route) else {
            return;
        };
        match handles
            .iter()
            .find(|(m, s, _)| *m == method && *s == status)
        {
            Some((_, _, histogram)) => histogram.record(seconds),
            None => {
                let histogram = metrics::histogram!(
                    HTTP_REQUEST_DURATION,
                    "method" => method,
                    "route" => route.to_owned(),
                    "status" => status.to_string()
                );
                histogram.record(seconds);
                handles.push((method, status, histogram));
            }
        }
    });
}

/// A pooled connection asked for: how long it took, and whether one came.
pub fn pool_acquired(waited: std::time::Duration, got_one: bool) {
    metrics::histogram!(DB_POOL_ACQUIRE).record(waited.as_secs_f64());
    if !got_one {
        counter!(DB_POOL_TIMEOUTS).increment(1);
    }
}

pub fn token_issued(grant_type: &str) {
    counter!(TOKENS_ISSUED, "grant_type" => grant_type.to_owned()).increment(1);
}

pub fn oauth_error(code: &str) {
    counter!(OAUTH_ERRORS, "error" => code.to_owned()).increment(1);
}

/// `via`: where the password was typed; `reason`: why it failed.
pub fn sign_in_failed(via: &'static str, reason: &'static str) {
    counter!(SIGN_IN_FAILURES, "via" => via, "reason" => reason).increment(1);
}

/// A second factor enrolled, used or removed (`event` names which); the
/// audit trail says whose.
pub fn factor_event(event: &'static str) {
    counter!(FACTOR_EVENTS, "event" => event).increment(1);
}

pub fn code_replayed() {
    counter!(CODE_REPLAYS).increment(1);
}

pub fn refresh_token_reused() {
    counter!(REFRESH_TOKEN_REUSES).increment(1);
}

pub fn housekeeping_deleted(table: &'static str, rows: usize) {
    counter!(HOUSEKEEPING_DELETED, "table" => table).increment(u64::try_from(rows).unwrap_or(0));
}

pub fn housekeeping_pass(took: std::time::Duration) {
    metrics::histogram!(HOUSEKEEPING_PASS).record(took.as_secs_f64());
}

/// Set from the audit recorder's own count when scraped.
pub fn audit_events_dropped(since_start: u64) {
    counter!(AUDIT_EVENTS_DROPPED).absolute(since_start);
}

/// The hit and miss counters of one cache, registered once so a lookup
/// costs an atomic add.
pub struct CacheCounters {
    pub hits: Counter,
    pub misses: Counter,
}

impl CacheCounters {
    pub fn new(cache: &'static str) -> Self {
        Self {
            hits: counter!(CACHE_LOOKUPS, "cache" => cache, "result" => "hit"),
            misses: counter!(CACHE_LOOKUPS, "cache" => cache, "result" => "miss"),
        }
    }

    pub fn record(&self, hit: bool) {
        match hit {
            true => self.hits.increment(1),
            false => self.misses.increment(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_http_are_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PROPFIND"), "other");
        assert_eq!(method_label("get"), "other");
    }
}
