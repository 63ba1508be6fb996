//! The back-channel logout outbox: the logout tokens owed to services, kept
//! in the database until each service takes its token or the delivery
//! window closes, so that neither a service that is down for a while nor an
//! instance that stops mid-delivery loses one.
//!
//! Claiming an ended session's note (`ended_sessions`) turns it, in one
//! transaction, into one row per service to tell. An instance leases a due
//! row by counting the attempt and moving `next_attempt_at` past what an
//! attempt can take; the update is conditional on the count it read, so of
//! instances racing for a row only one sends that attempt. The count is
//! also the lease's version: an instance that finishes an attempt after its
//! lease ran out and another took the row over changes nothing.
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::{ended_sessions, grants, logout_outbox, services};
use crate::db::DbConn;
use crate::error::StoreError;
use crate::outbound::Reach;
use crate::registry::model::vouched;

/// A session that ended, and where to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The logout token's `jti`: the same on every attempt.
    pub jti: String,
    pub sid: String,
    pub user_id: String,
    pub service_id: String,
    pub uri: String,
    /// Who chose `uri` (`outbound`): a self-registered client's receiver
    /// must be on a public host.
    pub reach: Reach,
}

/// How long an attempt is leased: well past the 5 s a service has to answer,
/// so that a slow database or a busy instance does not let another instance
/// send the same attempt. The rows of an instance that stops mid-attempt are
/// taken over after this.
pub const LEASE: TimeDelta = TimeDelta::seconds(30);
/// The pause after the first failed attempt; it doubles after each one.
const FIRST_BACKOFF_SECS: i64 = 2;
/// The longest pause between attempts, so that a service back after a long
/// outage waits at most this long for its tokens.
const MAX_BACKOFF_SECS: i64 = 60;
/// Jitter: up to this fraction of a pause is added, so that the tokens for
/// a mass sign-out do not all come back to a recovering service at once.
const JITTER: f64 = 0.25;

/// A leased attempt: what to send, and which attempt it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub notice: Notice,
    /// 1 for the first attempt; also the lease's version.
    pub number: i32,
    pub give_up_at: NaiveDateTime,
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered 200 or 204.
    Delivered,
    /// Anything else: worth another attempt while the window is open.
    Failed(String),
    /// A URL idhub may not call (`outbound`): no attempt would do better.
    Refused(String),
}

/// What settling an attempt decided; the first two are recorded in the
/// audit trail, once, by whichever attempt removed the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Delivered,
    GaveUp(String),
    /// Another attempt is due later, or the row is no longer this attempt's.
    Pending,
}

/// Claims up to `limit` ended sessions, each in its own transaction, and
/// writes their deliveries, due at once, to try until `window` after the
/// session ended; how many it claimed.
pub fn claim(
    conn: &mut DbConn,
    limit: i64,
    window: TimeDelta,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    let pending: Vec<(String, String, NaiveDateTime)> = ended_sessions::table
        .order(ended_sessions::ended_at.asc())
        .limit(limit)
        .select((
            ended_sessions::sid,
            ended_sessions::user_id,
            ended_sessions::ended_at,
        ))
        .load(conn)?;
    let mut claimed = 0_usize;
    for (sid, user_id, ended_at) in pending {
        let give_up_at = ended_at.checked_add_signed(window).unwrap_or(ended_at);
        let took = crate::db::transaction(conn, |conn| {
            claim_one(conn, &sid, &user_id, give_up_at, now)
        })?;
        if took {
            claimed = claimed.saturating_add(1);
        }
    }
    Ok(claimed)
}

/// Whoever deletes the note writes its deliveries: two instances never both
/// do. A failure leaves the note for the next round.
fn claim_one(
    conn: &mut DbConn,
    sid: &str,
    user_id: &str,
    give_up_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let deleted = diesel::delete(ended_sessions::table.find(sid)).execute(conn)?;
    if deleted == 0 {
        return Ok(false);
    }
    // One row at a time: a session signs into few services, and the two
    // backends share no multi-row INSERT.
    for notice in targets(conn, sid, user_id)? {
        diesel::insert_into(logout_outbox::table)
            .values((
                logout_outbox::jti.eq(&notice.jti),
                logout_outbox::sid.eq(&notice.sid),
                logout_outbox::user_id.eq(&notice.user_id),
                logout_outbox::service_id.eq(&notice.service_id),
                logout_outbox::uri.eq(&notice.uri),
                logout_outbox::public_only.eq(notice.reach == Reach::PublicOnly),
                logout_outbox::attempts.eq(0),
                logout_outbox::next_attempt_at.eq(now),
                logout_outbox::give_up_at.eq(give_up_at),
                logout_outbox::created.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// A service to notify: id, receiver, trusted, verified.
type Target = (String, Option<String>, bool, bool);

/// The services session `sid` signed into that take logout tokens, each
/// with the `jti` every attempt of its token will carry.
fn targets(conn: &mut DbConn, sid: &str, user_id: &str) -> Result<Vec<Notice>, StoreError> {
    let targets: Vec<Target> = grants::table
        .inner_join(services::table)
        .filter(grants::sid.eq(sid))
        .filter(services::backchannel_logout_uri.is_not_null())
        .select((
            services::id,
            services::backchannel_logout_uri,
            services::trusted,
            services::verified,
        ))
        .distinct()
        .load(conn)?;
    Ok(targets
        .into_iter()
        .filter_map(|(service_id, uri, trusted, verified)| {
            Some(Notice {
                jti: uuid::Uuid::new_v4().to_string(),
                sid: sid.to_owned(),
                user_id: user_id.to_owned(),
                service_id,
                uri: uri?,
                reach: match vouched(trusted, verified) {
                    true => Reach::Anywhere,
                    false => Reach::PublicOnly,
                },
            })
        })
        .collect())
}

/// A row as the worker reads it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = logout_outbox)]
struct Owed {
    jti: String,
    sid: String,
    user_id: String,
    service_id: String,
    uri: String,
    public_only: bool,
    attempts: i32,
    give_up_at: NaiveDateTime,
}

/// Leases up to `limit` rows that are due, oldest first.
pub fn lease(
    conn: &mut DbConn,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<Attempt>, StoreError> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    // Read first, outside a transaction: an idle instance polls every
    // second and must not take SQLite's write lock each time.
    let due: Vec<Owed> = logout_outbox::table
        .filter(logout_outbox::next_attempt_at.le(now))
        .order(logout_outbox::next_attempt_at.asc())
        .limit(limit)
        .select(Owed::as_select())
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    crate::db::transaction(conn, |conn| {
        let mut leased = Vec::with_capacity(due.len());
        for owed in due {
            leased.extend(take(conn, owed, now)?);
        }
        Ok(leased)
    })
}

/// The conditional update that decides who sends this attempt.
fn take(conn: &mut DbConn, owed: Owed, now: NaiveDateTime) -> Result<Option<Attempt>, StoreError> {
    let number = owed.attempts.saturating_add(1);
    let taken = diesel::update(
        logout_outbox::table
            .find(&owed.jti)
            .filter(logout_outbox::attempts.eq(owed.attempts))
            .filter(logout_outbox::next_attempt_at.le(now)),
    )
    .set((
        logout_outbox::attempts.eq(number),
        logout_outbox::next_attempt_at.eq(now.checked_add_signed(LEASE).unwrap_or(now)),
    ))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    Ok(Some(Attempt {
        notice: Notice {
            jti: owed.jti,
            sid: owed.sid,
            user_id: owed.user_id,
            service_id: owed.service_id,
            uri: owed.uri,
            reach: match owed.public_only {
                true => Reach::PublicOnly,
                false => Reach::Anywhere,
            },
        },
        number,
        give_up_at: owed.give_up_at,
    }))
}

/// Records how `attempt` went. `spread`, in [0, 1), picks the jitter.
pub fn settle(
    conn: &mut DbConn,
    attempt: &Attempt,
    outcome: &Outcome,
    now: NaiveDateTime,
    spread: f64,
) -> Result<Settled, StoreError> {
    let row = logout_outbox::table.find(&attempt.notice.jti);
    let (reason, retry) = match outcome {
        // Delivered is delivered, even by an attempt whose lease ran out;
        // only the attempt that removes the row records it.
        Outcome::Delivered => {
            let deleted = diesel::delete(row).execute(conn)?;
            return Ok(match deleted {
                0 => Settled::Pending,
                _ => Settled::Delivered,
            });
        }
        Outcome::Failed(reason) => (reason, retry_at(attempt, now, spread)),
        Outcome::Refused(reason) => (reason, None),
    };
    let mine = row.filter(logout_outbox::attempts.eq(attempt.number));
    match retry {
        Some(at) => {
            diesel::update(mine)
                .set(logout_outbox::next_attempt_at.eq(at))
                .execute(conn)?;
            Ok(Settled::Pending)
        }
        None => Ok(match diesel::delete(mine).execute(conn)? {
            0 => Settled::Pending,
            _ => Settled::GaveUp(reason.clone()),
        }),
    }
}

/// When to try again after `attempt` failed at `now`: after the backoff
/// with jitter, but no later than `give_up_at`, so the last attempt is made
/// as the window closes; none once it has.
pub fn retry_at(attempt: &Attempt, now: NaiveDateTime, spread: f64) -> Option<NaiveDateTime> {
    if now >= attempt.give_up_at {
        return None;
    }
    let next = now
        .checked_add_signed(backoff(attempt.number, spread))
        .unwrap_or(attempt.give_up_at);
    Some(next.min(attempt.give_up_at))
}

/// The pause after failed attempt `number`: 2 s, 4 s, 8 s … up to 60 s,
/// plus up to a quarter of it, as `spread` (in [0, 1)) says.
pub fn backoff(number: i32, spread: f64) -> TimeDelta {
    let doublings = u32::try_from(number.saturating_sub(1)).unwrap_or(0).min(6);
    let base = FIRST_BACKOFF_SECS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_SECS);
    let base_ms = base.saturating_mul(1000);
    // At most 15 000 ms: the cast back cannot overflow.
    let jitter_ms = (base_ms as f64 * JITTER * spread.clamp(0.0, 1.0)) as i64;
    TimeDelta::milliseconds(base_ms.saturating_add(jitter_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    fn attempt(number: i32, give_up_at: NaiveDateTime) -> Attempt {
        Attempt {
            notice: Notice {
                jti: "j".into(),
                sid: "s".into(),
                user_id: "u".into(),
                service_id: "c".into(),
                uri: "https://rp.example/logout".into(),
                reach: Reach::Anywhere,
            },
            number,
            give_up_at,
        }
    }

    #[test]
    fn the_backoff_doubles_from_two_seconds_up_to_a_minute() {
        let secs: Vec<i64> = (1..=9).map(|n| backoff(n, 0.0).num_seconds()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(backoff(0, 0.0).num_seconds(), 2);
        assert_eq!(backoff(i32::MIN, 0.0).num_seconds(), 2);
        assert_eq!(backoff(i32::MAX, 0.0).num_seconds(), 60);
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        assert_eq!(backoff(1, 0.999_999).num_milliseconds(), 2499);
        assert_eq!(backoff(6, 0.5).num_milliseconds(), 67_500);
        assert_eq!(backoff(6, f64::NAN).num_milliseconds(), 60_000);
        assert_eq!(backoff(6, 7.0).num_milliseconds(), 75_000);
    }

    #[test]
    fn the_last_attempt_is_made_as_the_window_closes_and_none_after() {
        let give_up_at = at(600);
        assert_eq!(retry_at(&attempt(1, give_up_at), at(0), 0.0), Some(at(2)));
        assert_eq!(
            retry_at(&attempt(9, give_up_at), at(580), 0.0),
            Some(give_up_at)
        );
        assert_eq!(retry_at(&attempt(10, give_up_at), at(600), 0.0), None);
        assert_eq!(retry_at(&attempt(10, give_up_at), at(700), 0.0), None);
    }

    #[test]
    fn a_full_window_makes_about_fifteen_attempts() {
        let give_up_at = at(600);
        let (mut now, mut made) = (at(0), 1);
        while let Some(next) = retry_at(&attempt(made, give_up_at), now, 0.0) {
            now = next;
            made += 1;
        }
        // At 0, 2, 6, 14, 30, 62 s, then every minute to 542 s, and at 600 s.
        assert_eq!(made, 15);
    }
}
