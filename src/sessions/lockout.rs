//! Lockout after failed sign-ins, in the database so every instance sees it:
//! a burst of failures for one user (or through one client) locks password
//! sign-in for that user (or client) for a while, and while locked even the
//! right password is refused.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::schema::password_attempts;
use crate::db::DbConn;
use crate::error::StoreError;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_failures: i32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Limits {
    pub fn for_users(settings: &Settings) -> Self {
        Self {
            max_failures: settings.password_max_failures.max(1),
            window: Duration::seconds(settings.password_failure_window_secs),
            lockout: Duration::seconds(settings.password_lockout_secs),
        }
    }

    pub fn for_clients(settings: &Settings) -> Self {
        Self {
            max_failures: settings.password_client_max_failures.max(1),
            ..Self::for_users(settings)
        }
    }
}

/// The limits for users and for the clients a password grant comes through.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    pub users: Limits,
    pub clients: Limits,
}

impl Lockout {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            users: Limits::for_users(settings),
            clients: Limits::for_clients(settings),
        }
    }
}

pub fn user_subject(user_id: &str) -> String {
    format!("user:{user_id}")
}

pub fn client_subject(client_id: &str) -> String {
    format!("client:{client_id}")
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = password_attempts)]
#[diesel(treat_none_as_null = true)]
struct Attempts {
    subject: String,
    failures: i32,
    window_start: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
}

fn load(conn: &mut DbConn, subject: &str) -> Result<Option<Attempts>, StoreError> {
    Ok(password_attempts::table
        .find(subject)
        .select(Attempts::as_select())
        .first(conn)
        .optional()?)
}

pub fn is_locked(conn: &mut DbConn, subject: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(load(conn, subject)?
        .and_then(|a| a.locked_until)
        .is_some_and(|until| until > now))
}

/// The next state after one more failure: pure, so the rules are unit-tested.
fn after_failure(
    previous: Option<&Attempts>,
    subject: &str,
    limits: Limits,
    now: NaiveDateTime,
) -> Attempts {
    let (failures, window_start) = match previous {
        Some(p) if now - p.window_start < limits.window => (p.failures + 1, p.window_start),
        _ => (1, now),
    };
    if failures >= limits.max_failures {
        return Attempts {
            subject: subject.to_owned(),
            failures: 0,
            window_start: now,
            locked_until: Some(now + limits.lockout),
        };
    }
    Attempts {
        subject: subject.to_owned(),
        failures,
        window_start,
        locked_until: previous
            .and_then(|p| p.locked_until)
            .filter(|until| *until > now),
    }
}

pub fn record_failure(
    conn: &mut DbConn,
    subject: &str,
    limits: Limits,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let previous = load(conn, subject)?;
    let next = after_failure(previous.as_ref(), subject, limits, now);
    if previous.is_some() {
        diesel::update(password_attempts::table.find(subject))
            .set(&next)
            .execute(conn)?;
        return Ok(());
    }
    // No upsert on both backends: a racing insert just loses this one count.
    match diesel::insert_into(password_attempts::table)
        .values(&next)
        .execute(conn)
        .map_err(StoreError::from)
    {
        Ok(_) | Err(StoreError::Duplicate(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

pub fn clear(conn: &mut DbConn, subject: &str) -> Result<(), StoreError> {
    diesel::delete(password_attempts::table.find(subject)).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_failures: 3,
            window: Duration::seconds(60),
            lockout: Duration::seconds(30),
        }
    }

    #[test]
    fn a_burst_locks_and_a_slow_trickle_does_not() {
        let t0 = chrono::DateTime::from_timestamp(1_000_000, 0)
            .unwrap()
            .naive_utc();
        let one = after_failure(None, "s", limits(), t0);
        let two = after_failure(Some(&one), "s", limits(), t0 + Duration::seconds(1));
        assert_eq!(two.failures, 2);
        assert!(two.locked_until.is_none());
        let three = after_failure(Some(&two), "s", limits(), t0 + Duration::seconds(2));
        assert_eq!(three.locked_until, Some(t0 + Duration::seconds(32)));

        let late = after_failure(Some(&two), "s", limits(), t0 + Duration::seconds(61));
        assert_eq!(late.failures, 1, "the window restarted");
        assert!(late.locked_until.is_none());
    }
}
