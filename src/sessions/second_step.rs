//! The second step of a sign-in: a code from the user's authenticator app
//! or one of their recovery codes, after the password. Wrong codes count
//! toward the same lockout as wrong passwords (per address and account),
//! and a TOTP code is accepted once (`factors::repo::take_step`).
use chrono::NaiveDateTime;

use super::lockout::{self, Counters, Device, Lockout, Source};
use crate::audit::{self, Actor, Event, Kind, Origin};
use crate::db::DbConn;
use crate::error::AppError;
use crate::factors::{recovery, repo, totp};
use crate::key_encryption::KeyEncryption;
use crate::users::model::User;

/// How the second step was passed, for the audit trail and `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Totp,
    RecoveryCode,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SecondOutcome {
    Passed(Method),
    Wrong,
    Locked,
}

/// What a second step needs besides the database.
pub struct SecondStep<'a> {
    pub encryption: Option<&'a KeyEncryption>,
    pub lockout: &'a Lockout,
    pub source: &'a Source,
    pub origin: &'a Origin,
    /// A browser that signed in to this account before (its device
    /// cookie), counted apart so strangers cannot lock its owner out.
    pub device: Device,
}

/// Checks `code` for `user`, counting a wrong one, and audits the outcome.
pub fn check(
    conn: &mut DbConn,
    step: &SecondStep<'_>,
    user: &User,
    code: &str,
    now: NaiveDateTime,
) -> Result<SecondOutcome, AppError> {
    // Counters of their own: the right password, which clears the
    // password's counters, does not buy more guesses at the code.
    let account = format!(
        "second-factor:{}",
        lockout::account_key(Some(&user.id), &user.login)
    );
    let counters = Counters::new(step.lockout, step.source, &account, step.device.clone());
    let outcome = if counters.locked(conn, now)? {
        SecondOutcome::Locked
    } else {
        match passes(conn, step, user, code, now)? {
            Some(method) => SecondOutcome::Passed(method),
            None => {
                counters.record_failure(conn, now)?;
                SecondOutcome::Wrong
            }
        }
    };
    let event = match outcome {
        SecondOutcome::Passed(method) => Event::new(
            Kind::SignInSucceeded,
            Actor::User(user.id.clone()),
            step.origin.clone(),
        )
        .detail("via", "second_factor")
        .detail("method", method.name()),
        SecondOutcome::Wrong | SecondOutcome::Locked => {
            let reason = match outcome {
                SecondOutcome::Locked => "locked",
                _ => "wrong_second_factor",
            };
            crate::telemetry::sign_in_failed("second_factor", reason);
            Event::new(Kind::SignInFailed, Actor::Anonymous, step.origin.clone())
                .detail("via", "second_factor")
                .detail("reason", reason)
        }
    };
    audit::store::record(conn, &event.user(&user.id), now)?;
    Ok(outcome)
}

fn passes(
    conn: &mut DbConn,
    step: &SecondStep<'_>,
    user: &User,
    code: &str,
    now: NaiveDateTime,
) -> Result<Option<Method>, AppError> {
    if recovery::looks_like_one(code) {
        let caller = audit::Caller::user(&user.id, step.origin.clone());
        return Ok(repo::use_recovery_code(conn, &user.id, code, now, &caller)?
            .then_some(Method::RecoveryCode));
    }
    let Some((secret, last_step)) = repo::secret(conn, step.encryption, &user.id, true)? else {
        return Ok(None);
    };
    let unix = u64::try_from(now.and_utc().timestamp()).unwrap_or(0);
    match totp::accept(&secret, code, unix, last_step) {
        Some(matched) if repo::take_step(conn, &user.id, matched)? => Ok(Some(Method::Totp)),
        _ => Ok(None),
    }
}
