//! Checking a login and password, with lockout: the one rule behind the
//! sign-in page, the password grant and a password change. Argon2 runs on the
//! blocking pool between two short database steps, so no connection is held
//! while hashing. Known and unknown logins take the same steps (a hash, the
//! same counters), so neither the answer nor its timing tells them apart.
use chrono::NaiveDateTime;

use super::lockout::{self, Counters, Lockout, Source};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::users::model::User;
use crate::users::password_hash::PasswordHasher;
use crate::users::repo as users_repo;

/// One attempt to sign in.
pub struct Attempt {
    /// A login, an email address or a user id.
    pub identifier: String,
    pub password: String,
    /// Where it comes from: failures are throttled per source too.
    pub source: Source,
}

#[derive(Debug)]
pub enum Outcome {
    /// The password is right. The user may still be banned: callers say so
    /// in their own words.
    Verified(User),
    /// Unknown user or wrong password, answered alike.
    WrongCredentials,
    /// Too many recent failures from this source, for this account, or both.
    Locked,
}

pub async fn check(
    pool: &DbPool,
    hasher: &PasswordHasher,
    lockout: Lockout,
    attempt: Attempt,
    now: NaiveDateTime,
) -> Result<Outcome, AppError> {
    let Attempt {
        identifier,
        password,
        source,
    } = attempt;
    let (user, counters, locked) = db::run(pool, move |conn| {
        // No login, email or id holds a control character (and PostgreSQL
        // refuses a NUL in a query): such an identifier names nobody.
        let identifier = identifier.trim();
        let user = match identifier.chars().any(char::is_control) {
            true => None,
            false => users_repo::find_by_identifier(conn, identifier)?.filter(|u| !u.guest),
        };
        let account = lockout::account_key(user.as_ref().map(|u| u.id.as_str()), identifier);
        let counters = Counters::new(&lockout, &source, &account);
        let locked = counters.locked(conn, now)?;
        Ok((user, counters, locked))
    })
    .await?;
    if locked {
        return Ok(Outcome::Locked);
    }
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = hasher
        .run(move |hasher| hasher.check(&password, stored_hash.as_deref()))
        .await?;
    db::run(pool, move |conn| {
        match verified {
            true => counters.record_success(conn)?,
            false => counters.record_failure(conn, now)?,
        }
        Ok(())
    })
    .await?;
    Ok(match user {
        Some(user) if verified => Outcome::Verified(user),
        _ => Outcome::WrongCredentials,
    })
}
