//! Browser sessions and CSRF protection.
//!
//! The session cookie holds 256 random bits; the sessions table holds their
//! SHA-256, so any instance can serve any request and a stolen database does
//! not yield usable cookies. The id is unguessable and checked against the
//! table on every use, so signing the cookie as well would add nothing.
//! CSRF: every form carries a token that must equal an HttpOnly, SameSite
//! cookie (double submit), compared in constant time.
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpRequest;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use subtle::ConstantTimeEq;

use super::page::PageError;
use crate::db::schema::{sessions, users};
use crate::db::DbConn;
use crate::error::AppError;
use crate::secrets;
use crate::users::model::User;

pub const SESSION_COOKIE: &str = "idhub_session";
pub const CSRF_COOKIE: &str = "idhub_csrf";

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub auth_time: NaiveDateTime,
}

pub fn create(
    conn: &mut DbConn,
    user_id: &str,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let plain = secrets::generate();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(secrets::hash(&plain)),
            sessions::user_id.eq(user_id),
            sessions::auth_time.eq(now),
            sessions::created.eq(now),
            sessions::expires_at.eq(now + ttl),
        ))
        .execute(conn)?;
    Ok(plain)
}

/// The live session named by the cookie, if its user is still allowed in.
pub fn find(
    conn: &mut DbConn,
    plain: &str,
    now: NaiveDateTime,
) -> Result<Option<Session>, AppError> {
    let found: Option<(NaiveDateTime, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(secrets::hash(plain)))
        .filter(sessions::expires_at.gt(now))
        .select((sessions::auth_time, User::as_select()))
        .first(conn)
        .optional()?;
    Ok(found
        .filter(|(_, user)| !user.banned)
        .map(|(auth_time, user)| Session { user, auth_time }))
}

pub fn delete(conn: &mut DbConn, plain: &str) -> Result<(), AppError> {
    diesel::delete(sessions::table.filter(sessions::id_hash.eq(secrets::hash(plain))))
        .execute(conn)?;
    Ok(())
}

pub fn session_id(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age: Option<time::Duration>,
) -> Cookie<'static> {
    let mut builder = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax);
    if let Some(age) = max_age {
        builder = builder.max_age(age);
    }
    builder.finish()
}

pub fn session_cookie(value: String, secure: bool, ttl: Duration) -> Cookie<'static> {
    cookie(
        SESSION_COOKIE,
        value,
        secure,
        Some(time::Duration::seconds(ttl.num_seconds())),
    )
}

pub fn expired_session_cookie(secure: bool) -> Cookie<'static> {
    cookie(
        SESSION_COOKIE,
        String::new(),
        secure,
        Some(time::Duration::ZERO),
    )
}

/// The CSRF token for forms on this page, and the cookie to set if the
/// browser has none yet.
pub fn csrf_token(req: &HttpRequest, secure: bool) -> (String, Option<Cookie<'static>>) {
    match req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32)
    {
        Some(token) => (token, None),
        None => {
            let token = secrets::generate();
            (
                token.clone(),
                Some(cookie(CSRF_COOKIE, token, secure, None)),
            )
        }
    }
}

pub fn check_csrf(req: &HttpRequest, submitted: Option<&str>) -> Result<(), PageError> {
    let expected = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned());
    match (expected, submitted) {
        (Some(expected), Some(submitted)) if expected.len() >= 32 && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) => Ok(()),
        _ => Err(PageError::forbidden(
            "The form has expired or did not come from this site. Go back, reload the page and try again.",
        )),
    }
}

/// Only local paths may follow a sign-in, so it cannot redirect elsewhere.
pub fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/account".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(
            safe_return_to(Some("/api/rest/oauth2/auth?x=1")),
            "/api/rest/oauth2/auth?x=1"
        );
        assert_eq!(safe_return_to(Some("//evil.example/")), "/account");
        assert_eq!(safe_return_to(Some("https://evil.example/")), "/account");
        assert_eq!(safe_return_to(Some("/\\evil.example")), "/account");
        assert_eq!(safe_return_to(None), "/account");
    }
}
