//! What a user enrolled, as stored. The TOTP secret is sealed with the
//! key-encryption key when one is set (associated data `totp:USER`), else
//! kept as base64. Accepting a code moves `last_step` forward in one
//! statement, so a code is good once even across instances; a recovery
//! code is marked used the same way.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::recovery;
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{passkeys, recovery_codes, second_factor_required, totp_factors};
use crate::db::DbConn;
use crate::error::AppError;
use crate::key_encryption::{self, KeyEncryption};

/// What a user has enrolled, as `GET …/twofactorauthentication` says it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FactorStatus {
    /// A second factor is enrolled: sign-in asks for it.
    pub enabled: bool,
    pub totp: bool,
    /// Passkeys registered.
    pub passkeys: i64,
    pub recovery_codes_left: i64,
    /// An administrator requires this user to have a second factor.
    pub required: bool,
}

fn associated(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// What the browser that started an enrolment keeps (a cookie) so that
/// only it sees and confirms that secret: the digest of the secret.
pub fn enrolment_tag(secret: &[u8]) -> String {
    crate::secrets::hash(&STANDARD.encode(secret))
}

/// The stored form of a secret.
pub fn seal(
    encryption: Option<&KeyEncryption>,
    user_id: &str,
    secret: &[u8],
) -> Result<String, AppError> {
    let text = STANDARD.encode(secret);
    match encryption {
        Some(encryption) => encryption
            .seal(&associated(user_id), &text)
            .map_err(AppError::internal),
        None => Ok(text),
    }
}

fn open(
    encryption: Option<&KeyEncryption>,
    user_id: &str,
    stored: &str,
) -> Result<Vec<u8>, AppError> {
    let text = key_encryption::open(encryption, &associated(user_id), stored)
        .map_err(|e| AppError::internal(format!("the TOTP secret of a user: {e}")))?;
    STANDARD
        .decode(text)
        .map_err(|_| AppError::internal("a stored TOTP secret is not base64"))
}

/// Seals every stored TOTP secret with `new`, opening each with
/// `current` (or `new`, when a run before sealed it already): what
/// `idhub keys encrypt` and `change-encryption-key` do beside the signing
/// keys. How many secrets there are.
pub fn seal_all(
    conn: &mut DbConn,
    current: Option<&KeyEncryption>,
    new: &KeyEncryption,
) -> Result<usize, AppError> {
    crate::db::transaction(conn, |conn| {
        let stored: Vec<(String, String)> = totp_factors::table
            .select((totp_factors::user_id, totp_factors::secret))
            .load(conn)?;
        for (user_id, secret) in &stored {
            let sealed = key_encryption::reseal(current, new, &associated(user_id), secret)
                .map_err(|e| AppError::internal(format!("the TOTP secret of a user: {e}")))?;
            diesel::update(totp_factors::table.find(user_id))
                .set(totp_factors::secret.eq(sealed))
                .execute(conn)?;
        }
        Ok(stored.len())
    })
}

/// Whether the user has a confirmed authenticator app.
fn has_totp(conn: &mut DbConn, user_id: &str) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(
        totp_factors::table
            .filter(totp_factors::user_id.eq(user_id))
            .filter(totp_factors::confirmed.eq(true)),
    ))
    .get_result(conn)?)
}

/// Whether an admin requires the user to have a second factor.
fn is_required(conn: &mut DbConn, user_id: &str) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(
        second_factor_required::table.find(user_id),
    ))
    .get_result(conn)?)
}

/// What a sign-in needs to know, without counting recovery codes: whether
/// the user has a factor, and whether an admin requires one.
pub fn sign_in_needs(conn: &mut DbConn, user_id: &str) -> Result<(bool, bool), AppError> {
    let totp = has_totp(conn, user_id)?;
    let enabled = totp
        || diesel::select(diesel::dsl::exists(
            passkeys::table.filter(passkeys::user_id.eq(user_id)),
        ))
        .get_result(conn)?;
    let required = is_required(conn, user_id)?;
    Ok((enabled, required))
}

pub fn status(conn: &mut DbConn, user_id: &str) -> Result<FactorStatus, AppError> {
    let totp = has_totp(conn, user_id)?;
    let left: i64 = recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used.is_null())
        .count()
        .get_result(conn)?;
    let required = is_required(conn, user_id)?;
    let passkeys = super::passkey_repo::count(conn, user_id)?;
    Ok(FactorStatus {
        required,
        enabled: totp || passkeys > 0,
        totp,
        passkeys,
        recovery_codes_left: match totp {
            true => left,
            false => 0,
        },
    })
}

/// Starts (or restarts) a TOTP enrolment with a new secret; refused while
/// a confirmed one exists. Returns the secret, to show.
pub fn begin(
    conn: &mut DbConn,
    encryption: Option<&KeyEncryption>,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<u8>, AppError> {
    let secret = super::totp::new_secret();
    let stored = seal(encryption, user_id, &secret)?;
    crate::db::transaction(conn, |conn| {
        if status(conn, user_id)?.totp {
            return Err(AppError::conflict(
                "totp",
                "an authenticator app is already set up: remove it first",
            ));
        }
        // Only an unconfirmed one: a confirm committed meanwhile stays, and
        // the insert below then fails as a conflict.
        diesel::delete(
            totp_factors::table
                .find(user_id)
                .filter(totp_factors::confirmed.eq(false)),
        )
        .execute(conn)?;
        diesel::insert_into(totp_factors::table)
            .values((
                totp_factors::user_id.eq(user_id),
                totp_factors::secret.eq(&stored),
                totp_factors::confirmed.eq(false),
                totp_factors::last_step.eq(0_i64),
                totp_factors::created.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(secret)
}

/// The secret of `user_id`'s TOTP factor, confirmed or being enrolled, and
/// the last step accepted.
pub fn secret(
    conn: &mut DbConn,
    encryption: Option<&KeyEncryption>,
    user_id: &str,
    confirmed: bool,
) -> Result<Option<(Vec<u8>, u64)>, AppError> {
    let found: Option<(String, i64)> = totp_factors::table
        .find(user_id)
        .filter(totp_factors::confirmed.eq(confirmed))
        .select((totp_factors::secret, totp_factors::last_step))
        .first(conn)
        .optional()?;
    found
        .map(|(stored, last)| {
            Ok((
                open(encryption, user_id, &stored)?,
                u64::try_from(last).unwrap_or(0),
            ))
        })
        .transpose()
}

/// Takes `step` as the last one used, if it is later than the last one:
/// false when another request took it (or a later one) first.
pub fn take_step(conn: &mut DbConn, user_id: &str, step: u64) -> Result<bool, AppError> {
    let step = i64::try_from(step).map_err(|_| AppError::internal("a TOTP step past i64"))?;
    let taken = diesel::update(
        totp_factors::table
            .find(user_id)
            .filter(totp_factors::last_step.lt(step)),
    )
    .set(totp_factors::last_step.eq(step))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Confirms the enrolment whose code matched at `step`, with new recovery
/// codes (returned, to show once).
pub fn confirm(
    conn: &mut DbConn,
    user_id: &str,
    step: u64,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Vec<String>, AppError> {
    let codes = recovery::new_codes();
    crate::db::transaction(conn, |conn| {
        let updated = diesel::update(
            totp_factors::table
                .find(user_id)
                .filter(totp_factors::confirmed.eq(false)),
        )
        .set((
            totp_factors::confirmed.eq(true),
            totp_factors::last_step
                .eq(i64::try_from(step).map_err(|_| AppError::internal("a TOTP step past i64"))?),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(AppError::conflict("totp", "start setting up the app again"));
        }
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?;
        for code in &codes {
            diesel::insert_into(recovery_codes::table)
                .values((
                    recovery_codes::user_id.eq(user_id),
                    recovery_codes::code_hash.eq(recovery::stored_form(user_id, code)),
                ))
                .execute(conn)?;
        }
        let event = caller
            .event(Kind::SecondFactorEnrolled)
            .user(user_id)
            .detail("factor", "totp");
        audit::store::record(conn, &event, now)?;
        Ok(())
    })?;
    crate::telemetry::factor_event("totp_enrolled");
    Ok(codes)
}

/// Uses recovery code `code` of `user_id`: false when it is not one of
/// theirs or was used already.
pub fn use_recovery_code(
    conn: &mut DbConn,
    user_id: &str,
    code: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<bool, AppError> {
    crate::db::transaction(conn, |conn| {
        let used = diesel::update(
            recovery_codes::table
                .filter(recovery_codes::user_id.eq(user_id))
                .filter(recovery_codes::code_hash.eq(recovery::stored_form(user_id, code)))
                .filter(recovery_codes::used.is_null()),
        )
        .set(recovery_codes::used.eq(now))
        .execute(conn)?;
        if used == 0 {
            return Ok(false);
        }
        let event = caller.event(Kind::RecoveryCodeUsed).user(user_id);
        audit::store::record(conn, &event, now)?;
        Ok(true)
    })
}

/// What a removal takes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The authenticator app and its recovery codes: the user turning it
    /// off, their passkeys kept.
    AuthenticatorApp,
    /// Every factor, passkeys included: an administrator's reset.
    Everything,
}

/// Removes second factors of `user_id`, audited as one event naming them.
pub fn remove(
    conn: &mut DbConn,
    user_id: &str,
    removal: Removal,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let removed = diesel::delete(totp_factors::table.find(user_id)).execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?;
        let passkeys = match removal {
            Removal::Everything => super::passkey_repo::delete_all(conn, user_id)?,
            Removal::AuthenticatorApp => 0,
        };
        let factors: Vec<&str> = [("totp", removed), ("passkeys", passkeys)]
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(factor, _)| factor)
            .collect();
        if !factors.is_empty() {
            let event = caller
                .event(Kind::SecondFactorRemoved)
                .user(user_id)
                .detail("factors", factors)
                .detail("passkeysRemoved", passkeys);
            audit::store::record(conn, &event, now)?;
            crate::telemetry::factor_event(match removal {
                Removal::Everything => "all_removed",
                Removal::AuthenticatorApp => "totp_removed",
            });
        }
        Ok(())
    })
}

/// Requires `user_id` to have a second factor, or no longer (the server's
/// policy still applies); audited when it changes.
pub fn set_required(
    conn: &mut DbConn,
    user_id: &str,
    required: bool,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let row = second_factor_required::table.find(user_id);
        let already: bool = diesel::select(diesel::dsl::exists(row)).get_result(conn)?;
        if already == required {
            return Ok(());
        }
        match required {
            true => diesel::insert_into(second_factor_required::table)
                .values((
                    second_factor_required::user_id.eq(user_id),
                    second_factor_required::since.eq(now),
                ))
                .execute(conn)?,
            false => diesel::delete(row).execute(conn)?,
        };
        let event = caller
            .event(Kind::UserUpdated)
            .user(user_id)
            .detail("fields", vec!["secondFactorRequired"])
            .detail("secondFactorRequired", required);
        audit::store::record(conn, &event, now)?;
        Ok(())
    })
}
