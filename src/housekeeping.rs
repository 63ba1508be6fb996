//! Housekeeping: deletes rows nothing will read again (expired codes,
//! refresh tokens, sessions, pushed requests, passkey ceremonies, device codes, revocations, lockout counters, grants revoked long ago, audit events past
//! retention), a batch at a time so no statement holds a long lock, one
//! instance at a time (a lease). The server runs a pass every
//! `housekeeping_interval_secs`; `idhub housekeeping` runs one now. (Used
//! JWT ids churn with every DPoP request: their writer purges them itself.)
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::schema::{
    authorization_codes, device_codes, grants, passkey_ceremonies, password_attempts,
    pushed_requests, refresh_tokens, revoked_access_tokens, sessions,
};
use crate::db::{lease, DbConn, DbPool};
use crate::error::{cause_chain, StoreError};
use crate::{audit, clock, telemetry};

/// Rows deleted per statement.
pub const BATCH: i64 = 1_000;
/// The least pause between two batches of a background pass.
const MIN_PAUSE: Duration = Duration::from_millis(5);

/// How a pass shares the database with requests.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Between batches, wait as long as the batch took (at least 5 ms), so
    /// the pass takes at most half of one connection's time, however fast
    /// the database, and requests waiting to write go first.
    Background,
    /// No pause: `idhub housekeeping`, run by an operator.
    AtOnce,
}
const LEASE: &str = "housekeeping";
/// A used code presented again revokes its grant (RFC 6749 §4.1.2); its
/// row is kept this long past expiry to notice.
const CODE_REPLAY_WINDOW: chrono::Duration = chrono::Duration::days(1);
/// A device polling late hears `expired_token`, not an unknown code.
const DEVICE_LATE_POLL: chrono::Duration = chrono::Duration::hours(1);
/// A revoked grant is kept for the access token lifetime and this much
/// more (clock skew; instances keep revocations in memory for the lifetime
/// and a minute), and at least an hour: its access tokens expire meanwhile.
/// Deleted earlier, a restarting instance would not know them revoked.
const REVOKED_GRANT_MARGIN: chrono::Duration = chrono::Duration::minutes(5);
const REVOKED_GRANT_MIN_GRACE: chrono::Duration = chrono::Duration::hours(1);
/// Before these moments, rows are gone for good.
pub struct Cutoffs {
    now: NaiveDateTime,
    codes: NaiveDateTime,
    device_codes: NaiveDateTime,
    /// None: revoked grants are left alone.
    revoked_grants: Option<NaiveDateTime>,
    /// A rotated-out refresh token presented again revokes its grant
    /// (RFC 9700 §4.14), even once expired: tokens are kept a refresh
    /// token lifetime past expiry to notice. None: left alone.
    refresh_tokens: Option<NaiveDateTime>,
    lockout_windows: NaiveDateTime,
    /// None: audit events are kept.
    audit: Option<NaiveDateTime>,
}

impl Cutoffs {
    pub fn new(settings: &Settings, now: NaiveDateTime) -> Self {
        let seconds = |secs: i64| chrono::Duration::try_seconds(secs.max(0)).unwrap_or_default();
        let access_tokens = seconds(settings.access_token_ttl_secs);
        let before = |span: chrono::Duration| now.checked_sub_signed(span).unwrap_or(now);
        Self {
            now,
            codes: before(CODE_REPLAY_WINDOW),
            device_codes: before(DEVICE_LATE_POLL),
            revoked_grants: Some(before(
                access_tokens
                    .checked_add(&REVOKED_GRANT_MARGIN)
                    .unwrap_or(access_tokens)
                    .max(REVOKED_GRANT_MIN_GRACE),
            )),
            refresh_tokens: Some(before(seconds(settings.refresh_token_ttl_secs))),
            lockout_windows: before(seconds(settings.password_failure_window_secs)),
            audit: match settings.audit_retention_days {
                0 => None,
                days => chrono::Duration::try_days(i64::from(days)).map(before),
            },
        }
    }

    /// Without the cutoffs that come from settings only the server's are
    /// sure to hold (`ACCESS_TOKEN_TTL_SECS`, `REFRESH_TOKEN_TTL_SECS`,
    /// `AUDIT_RETENTION_DAYS`): for a CLI run that may not have them.
    pub fn without_server_settings(mut self) -> Self {
        self.revoked_grants = None;
        self.refresh_tokens = None;
        self.audit = None;
        self
    }

    /// The tables these cutoffs leave alone entirely.
    pub fn tables_left_alone(&self) -> Vec<&'static str> {
        [
            ("grants", self.revoked_grants),
            ("refresh_tokens", self.refresh_tokens),
            ("audit_events", self.audit),
        ]
        .into_iter()
        .filter(|(_, cutoff)| cutoff.is_none())
        .map(|(table, _)| table)
        .collect()
    }
}

/// Deletes up to `$batch` rows of `$table` that match `$filter`: their keys
/// (`$key`) are read first, so each statement is bounded; the delete checks
/// `$filter` again, as a row may have changed in between (a lockout counter
/// counting a new failure).
macro_rules! delete_batch {
    ($conn:expr, $table:ident, $key:ident, $filter:expr, $batch:expr) => {{
        let keys: Vec<String> = $table::table
            .select($table::$key)
            .filter($filter)
            .limit($batch)
            .load($conn)?;
        diesel::delete(
            $table::table
                .filter($table::$key.eq_any(&keys))
                .filter($filter),
        )
        .execute($conn)
        .map_err(StoreError::from)
    }};
}

type Delete = fn(&mut DbConn, &Cutoffs, i64) -> Result<usize, StoreError>;

/// Each table and what in it is gone for good.
const RULES: &[(&str, Delete)] = &[
    // First, so their codes and refresh tokens go with them (ON DELETE CASCADE).
    ("grants", |conn, cut, batch| match cut.revoked_grants {
        Some(before) => delete_batch!(conn, grants, id, grants::revoked_at.lt(before), batch),
        None => Ok(0),
    }),
    ("authorization_codes", |conn, cut, batch| {
        delete_batch!(
            conn,
            authorization_codes,
            code_hash,
            authorization_codes::expires_at.lt(cut.codes),
            batch
        )
    }),
    ("refresh_tokens", |conn, cut, batch| {
        match cut.refresh_tokens {
            Some(before) => delete_batch!(
                conn,
                refresh_tokens,
                token_hash,
                refresh_tokens::expires_at.lt(before),
                batch
            ),
            None => Ok(0),
        }
    }),
    ("sessions", |conn, cut, batch| {
        delete_batch!(
            conn,
            sessions,
            id_hash,
            sessions::expires_at.lt(cut.now),
            batch
        )
    }),
    ("pushed_requests", |conn, cut, batch| {
        delete_batch!(
            conn,
            pushed_requests,
            uri_hash,
            pushed_requests::expires_at.lt(cut.now),
            batch
        )
    }),
    ("passkey_ceremonies", |conn, cut, batch| {
        delete_batch!(
            conn,
            passkey_ceremonies,
            handle_hash,
            passkey_ceremonies::expires.lt(cut.now),
            batch
        )
    }),
    ("device_codes", |conn, cut, batch| {
        delete_batch!(
            conn,
            device_codes,
            device_code_hash,
            device_codes::expires_at.lt(cut.device_codes),
            batch
        )
    }),
    ("revoked_access_tokens", |conn, cut, batch| {
        delete_batch!(
            conn,
            revoked_access_tokens,
            jti,
            revoked_access_tokens::expires_at.lt(cut.now),
            batch
        )
    }),
    ("password_attempts", |conn, cut, batch| {
        delete_batch!(
            conn,
            password_attempts,
            subject,
            password_attempts::window_start.lt(cut.lockout_windows).and(
                password_attempts::locked_until
                    .is_null()
                    .or(password_attempts::locked_until.lt(cut.now))
            ),
            batch
        )
    }),
    ("audit_events", |conn, cut, batch| match cut.audit {
        Some(before) => audit::store::purge(conn, before, batch),
        None => Ok(0),
    }),
];

/// What a pass deleted, table by table.
pub type Report = Vec<(&'static str, usize)>;

/// Deletes everything gone for good, a batch at a time at `pace`; a
/// connection is taken per batch and given back.
pub fn run_pass(pool: &DbPool, cutoffs: &Cutoffs, pace: Pace) -> Result<Report, StoreError> {
    let full_batch = usize::try_from(BATCH).unwrap_or(usize::MAX);
    let mut report = Report::new();
    for (table, delete) in RULES {
        let mut rows = 0usize;
        loop {
            let started = std::time::Instant::now();
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
            let deleted = delete(&mut conn, cutoffs, BATCH)?;
            drop(conn);
            let took = started.elapsed();
            rows = rows.saturating_add(deleted);
            telemetry::housekeeping_deleted(table, deleted);
            if deleted < full_batch {
                break;
            }
            if let Pace::Background = pace {
                std::thread::sleep(took.max(MIN_PAUSE));
            }
        }
        report.push((table, rows));
    }
    Ok(report)
}

/// Runs a pass when this instance holds (or takes) the lease: what it
/// deleted and how long it took; None when another instance holds it.
fn pass_if_leased(
    pool: &DbPool,
    settings: &Settings,
    holder: &str,
    lease_for: chrono::Duration,
) -> Result<Option<(Report, Duration)>, StoreError> {
    let now = clock::now();
    let until = now.checked_add_signed(lease_for).unwrap_or(now);
    let mut conn = pool
        .get()
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    if !lease::try_hold(&mut conn, LEASE, holder, until, now)? {
        return Ok(None);
    }
    drop(conn);
    let started = std::time::Instant::now();
    let report = run_pass(pool, &Cutoffs::new(settings, now), Pace::Background)?;
    let took = started.elapsed();
    telemetry::housekeeping_pass(took);
    Ok(Some((report, took)))
}

/// Runs a pass every `housekeeping_interval_secs` (0: never) while the
/// server's runtime lives.
pub fn spawn(pool: DbPool, settings: Settings) {
    let Ok(interval) = u32::try_from(settings.housekeeping_interval_secs) else {
        return;
    };
    if interval == 0 {
        return;
    }
    let holder = uuid::Uuid::new_v4().to_string();
    // Held across two intervals: the holder renews it at each pass, and
    // another instance takes over within two intervals of its stopping.
    let lease_for = chrono::Duration::seconds(i64::from(interval).saturating_mul(2));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(u64::from(interval)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (pool, settings, holder) = (pool.clone(), settings.clone(), holder.clone());
            let pass = tokio::task::spawn_blocking(move || {
                pass_if_leased(&pool, &settings, &holder, lease_for)
            })
            .await;
            match pass {
                Ok(Ok(Some((report, took)))) => log(&report, took),
                Ok(Ok(None)) => tracing::debug!("housekeeping: another instance holds the lease"),
                Ok(Err(error)) => {
                    tracing::warn!(error = %cause_chain(&error), "housekeeping failed")
                }
                Err(error) => tracing::warn!(%error, "housekeeping stopped"),
            }
        }
    });
}

fn log(report: &Report, took: Duration) {
    let total: usize = report.iter().map(|(_, rows)| rows).sum();
    if total == 0 {
        return;
    }
    let tables: Vec<String> = report
        .iter()
        .filter(|(_, rows)| *rows > 0)
        .map(|(table, rows)| format!("{table}={rows}"))
        .collect();
    tracing::info!(
        deleted = total,
        tables = %tables.join(" "),
        took_ms = took.as_millis(),
        "housekeeping deleted expired rows"
    );
}
