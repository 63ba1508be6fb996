//! Counters of failed attempts (sign-in passwords, client secrets, device
//! user codes), one row per subject in the `password_attempts` table, shared
//! by every instance: counted atomically, locked for a while past a limit,
//! and asked whether a lock applies. The policies that name the subjects
//! live with their callers (`sessions::lockout`, `oauth2::client_throttle`,
//! `oauth2::device`).
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::password_attempts;
use crate::db::DbConn;
use crate::error::StoreError;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_failures: i32,
    pub window: Duration,
    pub lockout: Duration,
}

/// One more failure for `subject`, counted atomically so that parallel
/// guesses (on any instance) cannot race past the limit.
pub fn count_failure(
    conn: &mut DbConn,
    subject: &str,
    limits: Limits,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    use password_attempts::dsl as a;
    crate::db::transaction::<(), StoreError>(conn, |conn| {
        let in_window = diesel::update(
            a::password_attempts
                .find(subject)
                .filter(a::window_start.gt(now - limits.window)),
        )
        .set(a::failures.eq(a::failures + 1))
        .execute(conn)?;
        if in_window == 0 {
            // Only an expired window restarts: a row another failure just
            // created (or restarted) is counted on, never reset.
            let restarted = diesel::update(
                a::password_attempts
                    .find(subject)
                    .filter(a::window_start.le(now - limits.window)),
            )
            .set((a::failures.eq(1), a::window_start.eq(now)))
            .execute(conn)?;
            if restarted == 0 {
                let inserted = conn.transaction::<_, StoreError, _>(|conn| {
                    diesel::insert_into(a::password_attempts)
                        .values((
                            a::subject.eq(subject),
                            a::failures.eq(1),
                            a::window_start.eq(now),
                        ))
                        .execute(conn)
                        .map_err(StoreError::from)
                });
                match inserted {
                    Ok(_) => {}
                    // The row exists (a parallel failure inserted it, or its
                    // window is live): count on it.
                    Err(StoreError::Duplicate(_)) => {
                        diesel::update(a::password_attempts.find(subject))
                            .set(a::failures.eq(a::failures + 1))
                            .execute(conn)?;
                    }
                    Err(other) => return Err(other),
                }
            }
        }
        let failures: i32 = a::password_attempts
            .find(subject)
            .select(a::failures)
            .first(conn)?;
        if failures >= limits.max_failures {
            diesel::update(a::password_attempts.find(subject))
                .set((
                    a::failures.eq(0),
                    a::window_start.eq(now),
                    a::locked_until.eq(Some(now + limits.lockout)),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// The subjects among `subjects` locked now, and until when.
pub fn locks(
    conn: &mut DbConn,
    subjects: &[impl AsRef<str>],
    now: NaiveDateTime,
) -> Result<Vec<(String, NaiveDateTime)>, StoreError> {
    let subjects: Vec<&str> = subjects.iter().map(AsRef::as_ref).collect();
    let locked: Vec<(String, Option<NaiveDateTime>)> = password_attempts::table
        .filter(password_attempts::subject.eq_any(subjects))
        .filter(password_attempts::locked_until.gt(now))
        .select((password_attempts::subject, password_attempts::locked_until))
        .load(conn)?;
    Ok(locked
        .into_iter()
        .filter_map(|(subject, until)| until.map(|until| (subject, until)))
        .collect())
}

/// True when any of `subjects` is locked now.
pub fn any_locked(
    conn: &mut DbConn,
    subjects: &[impl AsRef<str>],
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(!locks(conn, subjects, now)?.is_empty())
}

/// Forgets the failures of `subject` and of subjects `LIKE` any of
/// `patterns`.
pub fn forget_matching(
    conn: &mut DbConn,
    subject: &str,
    patterns: &[String],
) -> Result<usize, StoreError> {
    let mut forgotten = diesel::delete(password_attempts::table.find(subject)).execute(conn)?;
    for pattern in patterns {
        let matching = password_attempts::table.filter(password_attempts::subject.like(pattern));
        forgotten = forgotten.saturating_add(diesel::delete(matching).execute(conn)?);
    }
    Ok(forgotten)
}

/// Forgets a subject's failures.
pub fn forget(conn: &mut DbConn, subject: &str) -> Result<(), StoreError> {
    diesel::delete(password_attempts::table.find(subject)).execute(conn)?;
    Ok(())
}
