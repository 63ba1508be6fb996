//! The second step of a sign-in: a code from the user's authenticator app,
//! one of their recovery codes or one of their passkeys, after the
//! password. Wrong ones count toward the same lockout as wrong passwords
//! (per address and account), a TOTP code is accepted once
//! (`factors::repo::take_step`), a passkey's challenge too (its ceremony
//! is taken before).
use chrono::NaiveDateTime;

use super::lockout::{self, Counters, Device, Lockout, Source};
use crate::audit::{self, Actor, Event, Kind, Origin};
use crate::db::DbConn;
use crate::error::AppError;
use crate::factors::amr::{HWK, OTP, SWK};
use crate::factors::passkeys::RelyingParty;
use crate::factors::{passkey_repo, recovery, repo, totp};
use crate::key_encryption::KeyEncryption;
use crate::users::model::User;

/// How the second step was passed, for the audit trail and `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Totp,
    RecoveryCode,
    /// A passkey; synced between devices (backup eligible) or bound to one.
    Passkey {
        synced: bool,
    },
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
            Method::Passkey { .. } => "passkey",
        }
    }

    /// Its RFC 8176 `amr` value.
    pub fn amr(self) -> &'static str {
        match self {
            Method::Totp | Method::RecoveryCode => OTP,
            Method::Passkey { synced: true } => SWK,
            Method::Passkey { synced: false } => HWK,
        }
    }
}

/// What the browser sent as the second factor.
pub enum Proof<'a> {
    /// A TOTP or recovery code, as typed.
    Code(&'a str),
    /// A passkey's answer to the challenge of `state` (a ceremony taken).
    Passkey {
        party: &'a RelyingParty,
        state: &'a str,
        response: &'a str,
    },
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

/// Checks `proof` for `user`, counting a wrong one, and audits the outcome.
pub fn check(
    conn: &mut DbConn,
    step: &SecondStep<'_>,
    user: &User,
    proof: Proof<'_>,
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
        match passes(conn, step, user, proof, now)? {
            Some(method) => SecondOutcome::Passed(method),
            None => {
                counters.record_failure(conn, now)?;
                SecondOutcome::Wrong
            }
        }
    };
    let event = match outcome {
        SecondOutcome::Passed(method) => {
            crate::telemetry::factor_event(method.name());
            Event::new(
                Kind::SignInSucceeded,
                Actor::User(user.id.clone()),
                step.origin.clone(),
            )
            .detail("via", "second_factor")
            .detail("method", method.name())
        }
        SecondOutcome::Wrong | SecondOutcome::Locked => {
            let reason = match outcome {
                SecondOutcome::Locked => "locked",
                _ => "wrong_second_factor",
            };
            crate::telemetry::sign_in_failed("second_factor", reason);
            crate::telemetry::factor_event("refused");
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
    proof: Proof<'_>,
    now: NaiveDateTime,
) -> Result<Option<Method>, AppError> {
    let code = match proof {
        Proof::Code(code) => code,
        Proof::Passkey {
            party,
            state,
            response,
        } => return passkey_passes(conn, party, user, state, response, now),
    };
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

/// A passkey of `user` answered the challenge: its counter recorded. A
/// refused answer (not theirs, a bad signature, a counter gone back) is
/// a wrong factor like a wrong code.
fn passkey_passes(
    conn: &mut DbConn,
    party: &RelyingParty,
    user: &User,
    state: &str,
    response: &str,
    now: NaiveDateTime,
) -> Result<Option<Method>, AppError> {
    let finished = party.finish_second_factor(state, response, |credential_id| {
        Ok(passkey_repo::by_credential(conn, credential_id)?
            .filter(|(owner, _)| *owner == user.id)
            .map(|(_, passkey)| passkey))
    });
    match finished {
        Ok((credential_id, used)) => {
            Ok(
                passkey_repo::record_use(conn, &credential_id, &used, now)?.then_some(
                    Method::Passkey {
                        synced: used.backup_eligible,
                    },
                ),
            )
        }
        Err(AppError::BadRequest { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
