//! User storage: plain functions over a connection, called by handlers, CLI and tests.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{User, UserChanges};
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{ended_sessions, grants, sessions, users};
use crate::db::{lower, DbConn};
use crate::error::{AppError, StoreError};
use crate::paging::Page;
use crate::validate::like_pattern;

/// The user, if there is one with this id.
pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// The users with these ids that exist.
pub fn get_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<User>, StoreError> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)?)
}

/// The user, or "user not found".
pub fn find(conn: &mut DbConn, id: &str) -> Result<User, AppError> {
    get(conn, id)?.ok_or_else(|| AppError::not_found("user"))
}

/// Finds a user by login or email (case-insensitive) or by id, as a sign-in form does.
pub fn find_by_identifier(conn: &mut DbConn, identifier: &str) -> Result<Option<User>, StoreError> {
    // As logins are stored: a fullwidth `ａｄｍｉｎ` typed is `admin`.
    let lowered = crate::validate::nfkc(identifier).to_lowercase();
    Ok(users::table
        .filter(
            lower(users::login)
                .eq(&lowered)
                .or(users::email
                    .is_not_null()
                    .and(lower(users::email.assume_not_null()).eq(&lowered)))
                .or(users::id.eq(identifier)),
        )
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_login(conn: &mut DbConn, login: &str) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .filter(lower(users::login).eq(login.to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Logins and emails name one user each, also across the two: the sign-in
/// form takes either (`find_by_identifier`), so a login that is another
/// user's email or id, or an email that is another user's login, would make
/// one name two people.
fn ensure_unique(
    conn: &mut DbConn,
    login: Option<&str>,
    email: Option<&str>,
    except: Option<&str>,
) -> Result<(), AppError> {
    let other = |found: Vec<String>| found.into_iter().any(|id| Some(id.as_str()) != except);
    if let Some(login) = login {
        if let Some(existing) = find_by_login(conn, login)? {
            if Some(existing.id.as_str()) != except {
                return Err(AppError::conflict(
                    "login",
                    format!("login '{login}' is taken"),
                ));
            }
        }
        if other(emails_or_ids_equal(conn, login)?) {
            return Err(AppError::conflict(
                "login",
                format!("login '{login}' names another user (their email or id)"),
            ));
        }
    }
    if let Some(email) = email {
        let taken: Vec<String> = users::table
            .filter(
                (users::email
                    .is_not_null()
                    .and(lower(users::email.assume_not_null()).eq(email.to_lowercase())))
                .or(lower(users::login).eq(email.to_lowercase())),
            )
            .select(users::id)
            .load(conn)?;
        if other(taken) {
            return Err(AppError::conflict(
                "email",
                "email is used by another user (as their email or login)",
            ));
        }
    }
    Ok(())
}

/// The users whose email (case-insensitive) or id is `name`.
fn emails_or_ids_equal(conn: &mut DbConn, name: &str) -> Result<Vec<String>, StoreError> {
    Ok(users::table
        .filter(
            (users::email
                .is_not_null()
                .and(lower(users::email.assume_not_null()).eq(name.to_lowercase())))
            .or(users::id.eq(name)),
        )
        .select(users::id)
        .load(conn)?)
}

pub fn create(conn: &mut DbConn, new_user: User, caller: &Caller) -> Result<User, AppError> {
    crate::db::transaction(conn, |conn| {
        ensure_unique(conn, Some(&new_user.login), new_user.email.as_deref(), None)?;
        let id = new_user.id.clone();
        diesel::insert_into(users::table)
            .values(&new_user)
            .execute(conn)
            .map_err(|e| unique_as_field(e, "login"))?;
        let created = caller
            .event(Kind::UserCreated)
            .user(&id)
            .detail("login", new_user.login.as_str())
            .detail("admin", new_user.admin);
        audit::store::record(conn, &created, new_user.created)?;
        find(conn, &id)
    })
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    changes: UserChanges,
    caller: &Caller,
) -> Result<User, AppError> {
    crate::db::transaction(conn, |conn| {
        let before = find(conn, id)?;
        let email = changes.email.as_ref().and_then(|e| e.as_deref());
        ensure_unique(conn, changes.login.as_deref(), email, Some(id))?;
        let updated = diesel::update(users::table.find(id))
            .set(&changes)
            .execute(conn)
            .map_err(|e| unique_as_field(e, "login"))?;
        if updated == 0 {
            return Err(AppError::not_found("user"));
        }
        record_update(conn, &before, &changes, caller)?;
        let banned_now = changes.banned == Some(true) && !before.banned;
        if changes.password_hash.is_some() || banned_now {
            // Whoever signed in with the old password is signed out; so is
            // a banned user, and the services they signed into are told.
            let now = changes.updated.unwrap_or_else(crate::clock::now);
            let ended: Vec<Option<String>> =
                diesel::delete(sessions::table.filter(sessions::user_id.eq(id)))
                    .returning(sessions::sid)
                    .get_results(conn)?;
            // Sessions that expired (and housekeeping deleted) may still
            // have signed the user into services: their grants know them.
            let granted: Vec<Option<String>> = grants::table
                .filter(grants::user_id.eq(id))
                .filter(grants::revoked_at.is_null())
                .select(grants::sid)
                .distinct()
                .load(conn)?;
            let mut sids: Vec<String> = ended.into_iter().chain(granted).flatten().collect();
            sids.sort_unstable();
            sids.dedup();
            note_ended(conn, id, sids, now)?;
        }
        find(conn, id)
    })
}

/// Records an update: the profile fields changed as one event; a ban, an
/// admin flag and a password set each as their own.
fn record_update(
    conn: &mut DbConn,
    before: &User,
    changes: &UserChanges,
    caller: &Caller,
) -> Result<(), StoreError> {
    let now = crate::clock::now();
    let fields: Vec<&str> = [
        ("login", changes.login.is_some()),
        ("name", changes.name.is_some()),
        ("email", changes.email.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect();
    let mut events = Vec::new();
    if !fields.is_empty() {
        events.push(caller.event(Kind::UserUpdated).detail("fields", fields));
    }
    match changes.banned {
        Some(true) if !before.banned => events.push(caller.event(Kind::UserBanned)),
        Some(false) if before.banned => events.push(caller.event(Kind::UserUnbanned)),
        _ => {}
    }
    match changes.admin {
        Some(true) if !before.admin => events.push(caller.event(Kind::UserAdminGranted)),
        Some(false) if before.admin => events.push(caller.event(Kind::UserAdminRevoked)),
        _ => {}
    }
    if changes.password_hash.is_some() {
        events.push(caller.event(Kind::UserPasswordSet));
    }
    for event in events {
        audit::store::record(conn, &event.user(&before.id), now)?;
    }
    Ok(())
}

pub fn delete(conn: &mut DbConn, id: &str, caller: &Caller) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let user = find(conn, id)?;
        let deleted = caller
            .event(Kind::UserDeleted)
            .user(id)
            .detail("login", user.login);
        audit::store::record(conn, &deleted, crate::clock::now())?;
        match diesel::delete(users::table.find(id)).execute(conn)? {
            0 => Err(AppError::not_found("user")),
            _ => Ok(()),
        }
    })
}

/// The `lower(login)` of user `id`, as the database computes it: where a
/// `$after` page starts.
pub fn login_key(conn: &mut DbConn, id: &str) -> Result<String, AppError> {
    users::table
        .find(id)
        .select(lower(users::login))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::bad_field("$after", format!("no user has the id '{id}'")))
}

/// Users matching `text`, in login order (logins are unique whatever their
/// case, so the order is total), from `page.skip` or just after the login key
/// `after` (keyset paging); and how many match in all.
pub fn list(
    conn: &mut DbConn,
    text: &str,
    page: Page,
    after: Option<&str>,
) -> Result<(Vec<User>, i64), AppError> {
    let filtered = || {
        let mut query = users::table.into_boxed();
        for word in text.split_whitespace() {
            let pattern = like_pattern(word);
            query = query.filter(
                lower(users::login)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::name).like(pattern.clone()).escape('\\'))
                    .or(users::email.is_not_null().and(
                        lower(users::email.assume_not_null())
                            .like(pattern)
                            .escape('\\'),
                    )),
            );
        }
        query
    };
    let total = match page.count_total {
        true => filtered().count().get_result(conn)?,
        false => 0,
    };
    let mut listed = filtered();
    if let Some(key) = after {
        listed = listed.filter(lower(users::login).gt(key.to_owned()));
    }
    let items = listed
        .order(lower(users::login).asc())
        .offset(page.skip)
        .limit(page.top)
        .select(User::as_select())
        .load(conn)?;
    Ok((items, total))
}

pub fn new_user(login: String, name: Option<String>, now: NaiveDateTime) -> User {
    User {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.unwrap_or_else(|| login.clone()),
        login,
        email: None,
        password_hash: None,
        admin: false,
        guest: false,
        banned: false,
        created: now,
        updated: now,
    }
}

/// Records ended sessions (by `sid`) of a user, in the transaction that
/// ended them, for back-channel logout to deliver.
pub fn note_ended(
    conn: &mut DbConn,
    user_id: &str,
    sids: Vec<String>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if sids.is_empty() {
        return Ok(());
    }
    // One row at a time: a user has few sessions, and the two backends
    // share no multi-row INSERT.
    for sid in sids {
        // Already waiting for delivery: once is enough.
        let pending: i64 = ended_sessions::table
            .filter(ended_sessions::sid.eq(&sid))
            .count()
            .get_result(conn)?;
        if pending > 0 {
            continue;
        }
        diesel::insert_into(ended_sessions::table)
            .values((
                ended_sessions::sid.eq(sid),
                ended_sessions::user_id.eq(user_id),
                ended_sessions::ended_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Two racing inserts both pass the friendly pre-check; the index decides.
fn unique_as_field(error: diesel::result::Error, field: &str) -> AppError {
    match StoreError::from(error) {
        StoreError::Duplicate(_) => AppError::conflict(field, format!("{field} is taken")),
        other => other.into(),
    }
}
