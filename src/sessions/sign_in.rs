//! Checking a login and password, with lockout: the one rule behind the
//! sign-in page and the password grant. Argon2 runs on the blocking pool
//! between two short database steps, so no connection is held while hashing.
use chrono::NaiveDateTime;

use super::lockout::{self, Lockout};
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
    /// The client a password grant comes through: its failures are counted
    /// too, and a locked client is refused whoever the user.
    pub through_client: Option<String>,
}

#[derive(Debug)]
pub enum Outcome {
    /// The password is right. The user may still be banned: callers say so
    /// in their own words.
    Verified(User),
    /// Unknown user or wrong password, answered alike.
    WrongCredentials,
    /// Too many recent failures for this user or client.
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
        through_client,
    } = attempt;
    let client_subject = through_client.as_deref().map(lockout::client_subject);
    let checked_client = client_subject.clone();
    let (user, locked) = db::run(pool, move |conn| {
        if let Some(subject) = &checked_client {
            if lockout::is_locked(conn, subject, now)? {
                return Ok((None, true));
            }
        }
        // No login, email or id holds a control character (and PostgreSQL
        // refuses a NUL in a query): such an identifier names nobody.
        let identifier = identifier.trim();
        let user = match identifier.chars().any(char::is_control) {
            true => None,
            false => users_repo::find_by_identifier(conn, identifier)?.filter(|u| !u.guest),
        };
        let locked = match &user {
            Some(user) => lockout::is_locked(conn, &lockout::user_subject(&user.id), now)?,
            None => false,
        };
        Ok((user, locked))
    })
    .await?;
    if locked {
        return Ok(Outcome::Locked);
    }
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = hasher
        .run(move |hasher| hasher.check(&password, stored_hash.as_deref()))
        .await?;
    let user_subject = user.as_ref().map(|u| lockout::user_subject(&u.id));
    let nothing_to_record = user_subject.is_none() && (verified || client_subject.is_none());
    if nothing_to_record {
        return Ok(Outcome::WrongCredentials);
    }
    db::run(pool, move |conn| {
        if verified {
            if let Some(subject) = &user_subject {
                lockout::clear(conn, subject)?;
            }
            return Ok(());
        }
        if let Some(subject) = &user_subject {
            lockout::record_failure(conn, subject, lockout.users, now)?;
        }
        if let Some(subject) = &client_subject {
            lockout::record_failure(conn, subject, lockout.clients, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(match user {
        Some(user) if verified => Outcome::Verified(user),
        _ => Outcome::WrongCredentials,
    })
}
