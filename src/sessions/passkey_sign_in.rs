//! Signing in with a passkey alone, no login typed: the browser's answer
//! names the credential and its user; the credential's signature over the
//! challenge (with user verification) proves them. Banned and guest users
//! are refused as on the password path; every outcome is audited.
use chrono::NaiveDateTime;

use crate::audit::{self, Actor, Event, Kind, Origin};
use crate::db::DbConn;
use crate::error::AppError;
use crate::factors::amr::{HWK, MFA, SWK};
use crate::factors::passkey_repo;
use crate::factors::passkeys::{user_handle, RelyingParty};
use crate::users::model::User;

#[derive(Debug)]
pub enum PasskeyOutcome {
    /// Signed in: the user, and the `amr` of the session to start.
    Passed(User, String),
    /// Refused, with the reason the audit trail records.
    Refused(&'static str),
}

/// Finishes the sign-in whose ceremony state is `state` with the
/// browser's `response`.
pub fn finish(
    conn: &mut DbConn,
    party: &RelyingParty,
    state: &str,
    response: &str,
    origin: &Origin,
    now: NaiveDateTime,
) -> Result<PasskeyOutcome, AppError> {
    let (outcome, user_id) = match verify(conn, party, state, response, now)? {
        Ok((user, amr)) => {
            let id = user.id.clone();
            (PasskeyOutcome::Passed(user, amr), Some(id))
        }
        Err((reason, user_id)) => (PasskeyOutcome::Refused(reason), user_id),
    };
    let event = match &outcome {
        PasskeyOutcome::Passed(user, _) => {
            crate::telemetry::factor_event("passkey_sign_in");
            Event::new(
                Kind::SignInSucceeded,
                Actor::User(user.id.clone()),
                origin.clone(),
            )
            .detail("via", "passkey")
        }
        PasskeyOutcome::Refused(reason) => {
            crate::telemetry::sign_in_failed("passkey", reason);
            Event::new(Kind::SignInFailed, Actor::Anonymous, origin.clone())
                .detail("via", "passkey")
                .detail("reason", *reason)
        }
    };
    let event = match user_id {
        Some(id) => event.user(id),
        None => event,
    };
    audit::store::record(conn, &event, now)?;
    Ok(outcome)
}

type Verified = Result<(User, String), (&'static str, Option<String>)>;

fn verify(
    conn: &mut DbConn,
    party: &RelyingParty,
    state: &str,
    response: &str,
    now: NaiveDateTime,
) -> Result<Verified, AppError> {
    let (handle, credential_id, answer) = match party.identify(response) {
        Ok(identified) => identified,
        Err(AppError::BadRequest { .. }) => return Ok(Err(("not_a_passkey_answer", None))),
        Err(other) => return Err(other),
    };
    let Some((owner, passkey)) = passkey_repo::by_credential(conn, &credential_id)? else {
        return Ok(Err(("unknown_passkey", None)));
    };
    if user_handle(&owner) != handle {
        return Ok(Err(("unknown_passkey", None)));
    }
    let Some(user) = crate::users::repo::get(conn, &owner)?.filter(|user| !user.guest) else {
        return Ok(Err(("unknown_passkey", None)));
    };
    let used = match party.finish_sign_in(state, &answer, passkey) {
        Ok(used) => used,
        Err(AppError::BadRequest { .. }) => return Ok(Err(("passkey_refused", Some(user.id)))),
        Err(other) => return Err(other),
    };
    if !passkey_repo::record_use(conn, &credential_id, &used, now)? {
        return Ok(Err(("passkey_refused", Some(user.id))));
    }
    if user.banned {
        return Ok(Err(("banned", Some(user.id))));
    }
    let key = match used.backup_eligible {
        true => SWK,
        false => HWK,
    };
    Ok(Ok((user, [key, MFA].join(" "))))
}
