//! Browser sessions, stored as the SHA-256 of a 256-bit random id so any
//! instance can serve any request and a stolen database does not yield usable
//! cookies. The cookie itself is the web layer's business (`web::cookies`).
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::{self, Actor, Event, Kind, Origin};
use crate::db::schema::{sessions, users};
use crate::db::unexpired::unexpired;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::secrets;
use crate::users::model::User;
use crate::users::repo as users_repo;

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub auth_time: NaiveDateTime,
    /// The public session id that ID tokens and logout tokens carry (none
    /// for sessions begun before idhub had it).
    pub sid: Option<String>,
    /// How it signed in: RFC 8176 `amr` values, space-separated.
    pub amr: String,
}

pub fn create(
    conn: &mut DbConn,
    user_id: &str,
    signed_in: (&str, NaiveDateTime),
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    let (amr, auth_time) = signed_in;
    let plain = secrets::generate();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(secrets::hash(&plain)),
            sessions::user_id.eq(user_id),
            sessions::auth_time.eq(auth_time),
            sessions::created.eq(now),
            sessions::expires_at.eq(now + ttl),
            sessions::sid.eq(uuid::Uuid::new_v4().simple().to_string()),
            sessions::amr.eq(amr),
        ))
        .execute(conn)?;
    Ok(plain)
}

/// The same user signing in again in the browser that holds `plain`, a
/// live session of theirs: the session gets a new id (returned) and how
/// and when they signed in now; its `sid` stays. None when `plain` names
/// no live session of `user_id`.
pub fn renew(
    conn: &mut DbConn,
    plain: &str,
    user_id: &str,
    signed_in: (&str, NaiveDateTime),
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<Option<String>, StoreError> {
    let (amr, auth_time) = signed_in;
    let fresh = secrets::generate();
    let renewed = diesel::update(
        sessions::table
            .filter(sessions::id_hash.eq(secrets::hash(plain)))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::expires_at.gt(now)),
    )
    .set((
        sessions::id_hash.eq(secrets::hash(&fresh)),
        sessions::amr.eq(amr),
        sessions::auth_time.eq(auth_time),
        sessions::expires_at.eq(now + ttl),
    ))
    .execute(conn)?;
    Ok((renewed == 1).then_some(fresh))
}

/// The live session named by the cookie, if its user is still allowed in.
pub fn find(
    conn: &mut DbConn,
    plain: &str,
    now: NaiveDateTime,
) -> Result<Option<Session>, StoreError> {
    let found: Option<(NaiveDateTime, Option<String>, String, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(secrets::hash(plain)))
        .filter(unexpired(sessions::expires_at, now))
        .select((
            sessions::auth_time,
            sessions::sid,
            sessions::amr,
            User::as_select(),
        ))
        .first(conn)
        .optional()?;
    Ok(found
        .filter(|(_, _, _, user)| !user.banned)
        .map(|(auth_time, sid, amr, user)| Session {
            user,
            auth_time,
            sid,
            amr,
        }))
}

/// Ends a session a new sign-in replaces; the services it signed into are
/// told (back-channel logout) as for a sign-out.
pub fn delete(conn: &mut DbConn, plain: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    crate::db::transaction(conn, |conn| {
        let ended: Option<(String, Option<String>)> =
            diesel::delete(sessions::table.filter(sessions::id_hash.eq(secrets::hash(plain))))
                .returning((sessions::user_id, sessions::sid))
                .get_result(conn)
                .optional()?;
        match ended {
            Some((user_id, sid)) => {
                users_repo::note_ended(conn, &user_id, sid.into_iter().collect(), now)
            }
            None => Ok(()),
        }
    })
}

/// Signs out: ends the session and records it.
pub fn end(
    conn: &mut DbConn,
    plain: &str,
    origin: Origin,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    crate::db::transaction(conn, |conn| {
        let ended: Option<(String, Option<String>)> =
            diesel::delete(sessions::table.filter(sessions::id_hash.eq(secrets::hash(plain))))
                .returning((sessions::user_id, sessions::sid))
                .get_result(conn)
                .optional()?;
        if let Some((user_id, sid)) = ended {
            users_repo::note_ended(conn, &user_id, sid.into_iter().collect(), now)?;
            let event =
                Event::new(Kind::SignOut, Actor::User(user_id.clone()), origin).user(user_id);
            audit::store::record(conn, &event, now)?;
        }
        Ok(())
    })
}
