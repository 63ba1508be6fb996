//! The device authorization grant (RFC 8628), free of HTTP: a device asks
//! for a pair of codes, the user types the short one at `/device` and allows
//! or denies, and the device polls the token endpoint with the long one until
//! then. Both codes are stored hashed; every state change is one conditional
//! UPDATE, so two instances never decide or redeem one request twice.
use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;

use super::error::{ErrorCode, OAuthError};
use super::{consents, grants};
use crate::db::schema::device_codes;
use crate::db::unexpired::unexpired;
use crate::db::{self, DbConn};
use crate::error::{AppError, StoreError};
use crate::scope::StoredScope;
use crate::secrets;
use crate::sessions::failure_counters::{self, Limits};

/// Letters that cannot be mistaken for each other or spell words (no
/// vowels), as RFC 8628 §6.1 suggests.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LENGTH: usize = 8;
/// How often a device may poll, at first.
pub const INTERVAL_SECS: i32 = 5;
/// What `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_SECS: i32 = 5;

const PENDING: &str = "pending";
const ALLOWED: &str = "allowed";
const DENIED: &str = "denied";
const USED: &str = "used";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = device_codes)]
pub struct DeviceRequest {
    pub device_code_hash: String,
    pub user_code_hash: String,
    pub client_id: String,
    pub scope: String,
    pub created: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub interval_secs: i32,
    pub polled_at: Option<NaiveDateTime>,
    pub status: String,
    pub user_id: Option<String>,
    pub grant_id: Option<String>,
    pub auth_time: Option<NaiveDateTime>,
    pub sid: Option<String>,
}

/// A new request's codes, in plain text: the only time they exist so.
#[derive(Debug, Clone)]
pub struct Issued {
    pub device_code: String,
    /// As the user reads it: `XXXX-XXXX`.
    pub user_code: String,
    pub interval_secs: i32,
}

fn random_user_code() -> String {
    let mut code = String::with_capacity(USER_CODE_LENGTH);
    let mut bytes = [0u8; 32];
    while code.len() < USER_CODE_LENGTH {
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        // 240 is the largest multiple of 20 below 256: no letter is favoured.
        for byte in bytes.iter().filter(|b| **b < 240) {
            if code.len() == USER_CODE_LENGTH {
                break;
            }
            code.push(char::from(USER_CODE_ALPHABET[usize::from(*byte % 20)]));
        }
    }
    code
}

/// `BCDFGHJK` as it is shown and typed: `BCDF-GHJK`.
pub fn display(code: &str) -> String {
    let (first, second) = code.split_at(code.len().min(USER_CODE_LENGTH / 2));
    format!("{first}-{second}")
}

/// A typed user code in its stored form: case, dashes and spaces ignored.
/// `None` when it cannot be a user code at all.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid =
        code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then_some(code)
}

/// Stores a new request for `client_id`, pending for `ttl`.
pub fn start(
    conn: &mut DbConn,
    client_id: &str,
    scope: &str,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<Issued, StoreError> {
    // 20^8 codes: a clash with a live one is rare, two in a row rarer still.
    let mut attempts = 0;
    loop {
        let device_code = secrets::generate();
        let user_code = random_user_code();
        let row = DeviceRequest {
            device_code_hash: secrets::hash(&device_code),
            user_code_hash: secrets::hash(&user_code),
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            created: now,
            expires_at: now + ttl,
            interval_secs: INTERVAL_SECS,
            polled_at: None,
            status: PENDING.into(),
            user_id: None,
            grant_id: None,
            auth_time: None,
            sid: None,
        };
        let inserted = diesel::insert_into(device_codes::table)
            .values(&row)
            .execute(conn);
        match inserted.map_err(StoreError::from) {
            Ok(_) => {
                return Ok(Issued {
                    device_code,
                    user_code: display(&user_code),
                    interval_secs: INTERVAL_SECS,
                })
            }
            Err(StoreError::Duplicate(_)) if attempts < 3 => attempts += 1,
            Err(other) => return Err(other),
        }
    }
}

/// The pending, unexpired request a normalized user code names.
pub fn find_pending(
    conn: &mut DbConn,
    user_code: &str,
    now: NaiveDateTime,
) -> Result<Option<DeviceRequest>, StoreError> {
    Ok(device_codes::table
        .filter(device_codes::user_code_hash.eq(secrets::hash(user_code)))
        .filter(device_codes::status.eq(PENDING))
        .filter(unexpired(device_codes::expires_at, now))
        .select(DeviceRequest::as_select())
        .first(conn)
        .optional()?)
}

/// Who allowed a request: the signed-in user and their session.
pub struct Approver<'a> {
    pub user_id: &'a str,
    pub auth_time: NaiveDateTime,
    pub sid: Option<&'a str>,
    /// How the approving session signed in.
    pub amr: Option<&'a str>,
}

/// The user's decision on a pending request, taken once: false when it was
/// already decided, used or expired. Allowing records the consent and a
/// grant, in the same transaction.
pub fn decide(
    conn: &mut DbConn,
    user_code: &str,
    approver: Approver<'_>,
    allow: bool,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let decided = db::transaction(conn, |conn| {
        let Some(request) = find_pending(conn, user_code, now)? else {
            return Ok(false);
        };
        let pending = device_codes::table
            .find(&request.device_code_hash)
            .filter(device_codes::status.eq(PENDING))
            .filter(unexpired(device_codes::expires_at, now));
        let updated = if allow {
            let scope = StoredScope(&request.scope).to_vec();
            consents::record(conn, approver.user_id, &request.client_id, &scope, now)?;
            let grant = grants::create(
                conn,
                &request.client_id,
                Some(approver.user_id),
                &request.scope,
                grants::SignIn {
                    sid: approver.sid,
                    amr: approver.amr,
                    auth_time: Some(approver.auth_time),
                },
                now,
            )?;
            diesel::update(pending)
                .set((
                    device_codes::status.eq(ALLOWED),
                    device_codes::user_id.eq(approver.user_id),
                    device_codes::grant_id.eq(&grant.id),
                    device_codes::auth_time.eq(approver.auth_time),
                    device_codes::sid.eq(approver.sid),
                ))
                .execute(conn)?
        } else {
            diesel::update(pending)
                .set((
                    device_codes::status.eq(DENIED),
                    device_codes::user_id.eq(approver.user_id),
                ))
                .execute(conn)?
        };
        if updated != 1 {
            // Decided elsewhere meanwhile: undo the grant made here.
            return Err(AppError::Conflict {
                message: "the request was decided meanwhile".into(),
                field: None,
            });
        }
        Ok(true)
    });
    match decided {
        Err(AppError::Conflict { .. }) => Ok(false),
        other => other,
    }
}

/// An allowed request, redeemed: what the device gets tokens for.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub grant_id: String,
    pub user_id: String,
    pub scope: String,
    pub auth_time: NaiveDateTime,
    pub sid: Option<String>,
    /// How the approving session signed in (from the grant).
    pub amr: Option<String>,
}

/// One poll of the token endpoint by `client_id` (RFC 8628 §3.4–3.5).
pub fn poll(
    conn: &mut DbConn,
    client_id: &str,
    device_code: &str,
    now: NaiveDateTime,
) -> Result<Redeemed, OAuthError> {
    let hash = secrets::hash(device_code);
    let request: DeviceRequest = device_codes::table
        .find(&hash)
        .select(DeviceRequest::as_select())
        .first(conn)
        .optional()?
        .filter(|r| r.client_id == client_id)
        .ok_or_else(|| OAuthError::invalid_grant("unknown device_code"))?;
    if request.status == USED {
        return Err(OAuthError::invalid_grant(
            "the device_code was already used",
        ));
    }
    if request.expires_at <= now {
        return Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            "the device_code has expired; start again",
        ));
    }
    let too_soon = request
        .polled_at
        .is_some_and(|last| now < last + Duration::seconds(i64::from(request.interval_secs)));
    if too_soon && request.status == PENDING {
        diesel::update(device_codes::table.find(&hash))
            .set((
                device_codes::interval_secs
                    .eq(request.interval_secs.saturating_add(SLOW_DOWN_SECS)),
                device_codes::polled_at.eq(now),
            ))
            .execute(conn)?;
        return Err(OAuthError::new(
            ErrorCode::SlowDown,
            format!(
                "polling too fast; wait {} seconds between requests",
                request.interval_secs.saturating_add(SLOW_DOWN_SECS)
            ),
        ));
    }
    match request.status.as_str() {
        PENDING => {
            diesel::update(device_codes::table.find(&hash))
                .set(device_codes::polled_at.eq(now))
                .execute(conn)?;
            Err(OAuthError::new(
                ErrorCode::AuthorizationPending,
                "the user has not decided yet",
            ))
        }
        DENIED => Err(OAuthError::new(
            ErrorCode::DeviceDenied,
            "the user denied the request",
        )),
        _ => {
            let used = diesel::update(
                device_codes::table
                    .find(&hash)
                    .filter(device_codes::status.eq(ALLOWED)),
            )
            .set((
                device_codes::status.eq(USED),
                device_codes::polled_at.eq(now),
            ))
            .execute(conn)?;
            match (used, request.grant_id, request.user_id, request.auth_time) {
                (1, Some(grant_id), Some(user_id), Some(auth_time)) => Ok(Redeemed {
                    amr: crate::db::schema::grants::table
                        .find(&grant_id)
                        .select(crate::db::schema::grants::amr)
                        .first(conn)
                        .optional()?
                        .flatten(),
                    grant_id,
                    user_id,
                    scope: request.scope,
                    auth_time,
                    sid: request.sid,
                }),
                _ => Err(OAuthError::invalid_grant(
                    "the device_code was already used",
                )),
            }
        }
    }
}

/// The counters a wrong user code adds to: its address's and its user's,
/// so neither many addresses nor many accounts guess much. Without a known
/// address, the user's alone: one shared counter would let anyone lock the
/// page for everyone.
pub fn typist_keys(address: Option<IpAddr>, user_id: &str) -> Vec<String> {
    let mut keys = vec![format!("device-code:user:{user_id}")];
    if let Some(ip) = address {
        keys.push(format!("device-code:addr:{ip}"));
    }
    keys
}

/// Whether either counter is locked now.
pub fn locked_out(
    conn: &mut DbConn,
    keys: &[String],
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    failure_counters::any_locked(conn, keys, now)
}

/// Counts one wrong code against both counters.
pub fn count_wrong_code(
    conn: &mut DbConn,
    keys: &[String],
    limits: Limits,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    for key in keys {
        failure_counters::count_failure(conn, key, limits, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_letters_of_the_alphabet() {
        for _ in 0..200 {
            let code = random_user_code();
            assert_eq!(code.len(), USER_CODE_LENGTH);
            assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
            assert_eq!(normalize(&display(&code)), Some(code));
        }
    }

    #[test]
    fn typed_codes_are_forgiving_about_case_and_dashes_only() {
        assert_eq!(normalize("bcdf-ghjk"), Some("BCDFGHJK".into()));
        assert_eq!(normalize(" BCDF GHJK "), Some("BCDFGHJK".into()));
        assert_eq!(normalize("BCDF-GHJ"), None, "too short");
        assert_eq!(normalize("ABCD-EFGH"), None, "vowels are never issued");
        assert_eq!(normalize("BCDF-GHJKL"), None, "too long");
        assert_eq!(normalize("ßCDF-GHJK"), None);
    }

    #[test]
    fn display_splits_in_the_middle() {
        assert_eq!(display("BCDFGHJK"), "BCDF-GHJK");
    }
}
