//! Passkeys as stored, and WebAuthn ceremonies under way. A ceremony's
//! state waits in the database (any instance finishes it) under the digest
//! of a handle only the browser holds, and is taken once: the delete that
//! takes it decides, so a challenge answered twice counts once.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::passkeys::{self, Used};
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{passkey_ceremonies, passkeys as stored};
use crate::db::DbConn;
use crate::error::AppError;

/// How long a browser has to answer a ceremony.
pub const CEREMONY_TTL_SECS: i64 = 300;
/// Passkeys one account may have.
pub const MOST_PER_USER: i64 = 20;
pub const NAME_MAX_CHARS: usize = 64;

/// What a ceremony is for; kept with its state and checked when finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
    SecondFactor,
    /// Not a passkey's: a sign-in through an auth module waiting for the
    /// provider's answer (its handle is the OAuth `state`).
    Upstream,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
            Purpose::SecondFactor => "second_factor",
            Purpose::Upstream => "upstream_sign_in",
        }
    }
}

/// A passkey as its owner sees it listed.
#[derive(Debug, Clone, Queryable, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeySummary {
    pub id: String,
    pub name: String,
    pub sign_count: i64,
    /// Synced between the owner's devices (a passkey manager), not bound
    /// to one authenticator.
    pub backup_eligible: bool,
    pub created: NaiveDateTime,
    pub last_used: Option<NaiveDateTime>,
}

/// Keeps a ceremony's state; returns the handle the browser answers with.
pub fn begin_ceremony(
    conn: &mut DbConn,
    purpose: Purpose,
    user_id: Option<&str>,
    state: &str,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let handle = crate::secrets::generate();
    keep_ceremony(
        conn,
        purpose,
        &handle,
        user_id,
        state,
        CEREMONY_TTL_SECS,
        now,
    )?;
    Ok(handle)
}

/// Keeps a ceremony's state under a handle made elsewhere (an OAuth
/// `state`), for `ttl_secs`.
pub fn keep_ceremony(
    conn: &mut DbConn,
    purpose: Purpose,
    handle: &str,
    user_id: Option<&str>,
    state: &str,
    ttl_secs: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let expires = now
        .checked_add_signed(Duration::seconds(ttl_secs))
        .unwrap_or(now);
    diesel::insert_into(passkey_ceremonies::table)
        .values((
            passkey_ceremonies::handle_hash.eq(crate::secrets::hash(handle)),
            passkey_ceremonies::purpose.eq(purpose.name()),
            passkey_ceremonies::user_id.eq(user_id),
            passkey_ceremonies::state.eq(state),
            passkey_ceremonies::expires.eq(expires),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the unexpired ceremony `handle` names, if it is for `purpose`:
/// its user (none for a sign-in) and state. Taken once, whatever follows.
pub fn take_ceremony(
    conn: &mut DbConn,
    handle: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> Result<Option<(Option<String>, String)>, AppError> {
    let key = crate::secrets::hash(handle);
    let found: Option<(String, Option<String>, String, NaiveDateTime)> = passkey_ceremonies::table
        .find(&key)
        .select((
            passkey_ceremonies::purpose,
            passkey_ceremonies::user_id,
            passkey_ceremonies::state,
            passkey_ceremonies::expires,
        ))
        .first(conn)
        .optional()?;
    let Some((kind, user_id, state, expires)) = found else {
        return Ok(None);
    };
    let taken = diesel::delete(passkey_ceremonies::table.find(&key)).execute(conn)? == 1;
    Ok((taken && kind == purpose.name() && expires > now).then_some((user_id, state)))
}

pub fn list(conn: &mut DbConn, user_id: &str) -> Result<Vec<PasskeySummary>, AppError> {
    Ok(stored::table
        .filter(stored::user_id.eq(user_id))
        .order((stored::created.asc(), stored::id.asc()))
        .select((
            stored::id,
            stored::name,
            stored::sign_count,
            stored::backup_eligible,
            stored::created,
            stored::last_used,
        ))
        .load(conn)?)
}

pub fn count(conn: &mut DbConn, user_id: &str) -> Result<i64, AppError> {
    Ok(stored::table
        .filter(stored::user_id.eq(user_id))
        .count()
        .get_result(conn)?)
}

/// The user's passkeys, as webauthn-rs takes them.
pub fn credentials(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Vec<webauthn_rs::prelude::Passkey>, AppError> {
    let rows: Vec<String> = stored::table
        .filter(stored::user_id.eq(user_id))
        .select(stored::credential)
        .load(conn)?;
    rows.iter().map(|row| passkeys::from_stored(row)).collect()
}

/// The passkey with this credential id: its owner and credential.
pub fn by_credential(
    conn: &mut DbConn,
    credential_id: &str,
) -> Result<Option<(String, webauthn_rs::prelude::Passkey)>, AppError> {
    let row: Option<(String, String)> = stored::table
        .filter(stored::credential_id.eq(credential_id))
        .select((stored::user_id, stored::credential))
        .first(conn)
        .optional()?;
    row.map(|(user_id, credential)| Ok((user_id, passkeys::from_stored(&credential)?)))
        .transpose()
}

/// A name people can read back: trimmed, one line, not too long.
pub fn checked_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_field("name", "name the passkey"));
    }
    if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "name",
            format!("a passkey's name is one line of at most {NAME_MAX_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Keeps a newly registered passkey; audited as an enrolled second factor.
pub fn add(
    conn: &mut DbConn,
    user_id: &str,
    name: &str,
    passkey: &webauthn_rs::prelude::Passkey,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<String, AppError> {
    let name = checked_name(name)?;
    let credential_id = passkeys::credential_key(passkey.cred_id());
    let credential = passkeys::to_stored(passkey)?;
    let id = uuid::Uuid::new_v4().to_string();
    crate::db::transaction(conn, |conn| {
        if count(conn, user_id)? >= MOST_PER_USER {
            return Err(AppError::conflict(
                "passkeys",
                format!("an account has at most {MOST_PER_USER} passkeys: delete one first"),
            ));
        }
        let taken: bool = diesel::select(diesel::dsl::exists(
            stored::table.filter(stored::credential_id.eq(&credential_id)),
        ))
        .get_result(conn)?;
        if taken {
            return Err(AppError::conflict(
                "passkey",
                "this passkey is registered already",
            ));
        }
        diesel::insert_into(stored::table)
            .values((
                stored::id.eq(&id),
                stored::user_id.eq(user_id),
                stored::credential_id.eq(&credential_id),
                stored::name.eq(&name),
                stored::credential.eq(&credential),
                stored::sign_count.eq(0i64),
                stored::backup_eligible.eq(passkeys::synced(passkey)),
                stored::created.eq(now),
            ))
            .execute(conn)?;
        let event = caller
            .event(Kind::SecondFactorEnrolled)
            .user(user_id)
            .detail("factor", "passkey")
            .detail("passkey", id.as_str());
        audit::store::record(conn, &event, now)?;
        Ok(())
    })?;
    crate::telemetry::factor_event("passkey_registered");
    Ok(id)
}

/// Records a passkey's use: its credential with the new counter. False
/// when another use recorded a counter as high meanwhile (two ceremonies
/// answered at once by copies of one key): this one is refused.
pub fn record_use(
    conn: &mut DbConn,
    credential_id: &str,
    used: &Used,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let counter = i64::from(used.counter);
    let values = (
        stored::credential.eq(passkeys::to_stored(&used.passkey)?),
        stored::sign_count.eq(counter),
        stored::backup_eligible.eq(used.backup_eligible),
        stored::last_used.eq(Some(now)),
    );
    let row = stored::table.filter(stored::credential_id.eq(credential_id));
    // An authenticator that does not count always says 0.
    let updated = match counter {
        0 => diesel::update(row).set(values).execute(conn)?,
        _ => diesel::update(row.filter(stored::sign_count.lt(counter)))
            .set(values)
            .execute(conn)?,
    };
    Ok(updated == 1)
}

pub fn rename(conn: &mut DbConn, user_id: &str, id: &str, name: &str) -> Result<(), AppError> {
    let name = checked_name(name)?;
    let changed = diesel::update(
        stored::table
            .filter(stored::id.eq(id))
            .filter(stored::user_id.eq(user_id)),
    )
    .set(stored::name.eq(name))
    .execute(conn)?;
    match changed {
        0 => Err(AppError::not_found("passkey")),
        _ => Ok(()),
    }
}

/// Deletes one passkey of `user_id`; audited as a removed second factor.
pub fn delete(
    conn: &mut DbConn,
    user_id: &str,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let deleted = diesel::delete(
            stored::table
                .filter(stored::id.eq(id))
                .filter(stored::user_id.eq(user_id)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(AppError::not_found("passkey"));
        }
        let event = caller
            .event(Kind::SecondFactorRemoved)
            .user(user_id)
            .detail("factor", "passkey")
            .detail("passkey", id);
        audit::store::record(conn, &event, now)?;
        Ok(())
    })?;
    crate::telemetry::factor_event("passkey_deleted");
    Ok(())
}

/// Deletes every passkey of `user_id`; how many there were.
pub fn delete_all(conn: &mut DbConn, user_id: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(stored::table.filter(stored::user_id.eq(user_id))).execute(conn)?)
}
