//! The cookies of the pages: the session cookie (its id names a row of
//! `sessions::repo`) and CSRF protection. Every form carries a token that
//! must equal an HttpOnly, SameSite cookie (double submit), compared in
//! constant time, from a page of this origin. The session id is unguessable and checked against the table
//! on every use, so signing the cookie as well would add nothing.
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpRequest;
use chrono::Duration;
use subtle::ConstantTimeEq;

use super::page::PageError;
use crate::secrets;

pub const SESSION_COOKIE: &str = "idhub_session";
pub const CSRF_COOKIE: &str = "idhub_csrf";

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

/// A sign-in waiting for its second factor (`sessions::pending`).
pub fn pending_cookie(value: String, secure: bool) -> Cookie<'static> {
    cookie(
        crate::sessions::pending::PENDING_COOKIE,
        value,
        secure,
        Some(time::Duration::seconds(
            crate::sessions::pending::PENDING_TTL_SECS,
        )),
    )
}

/// The authenticator app this browser is setting up: only it sees and
/// confirms that secret (`factors::repo::enrolment_tag`).
pub const ENROLMENT_COOKIE: &str = "idhub_enrolment";

pub fn enrolment_cookie(tag: String, secure: bool) -> Cookie<'static> {
    cookie(
        ENROLMENT_COOKIE,
        tag,
        secure,
        Some(time::Duration::minutes(15)),
    )
}

pub fn expired_pending_cookie(secure: bool) -> Cookie<'static> {
    cookie(
        crate::sessions::pending::PENDING_COOKIE,
        String::new(),
        secure,
        Some(time::Duration::ZERO),
    )
}

/// The OAuth `state` of a sign-in through an auth module, so only the
/// browser that started it finishes it (Lax: the provider's redirect back
/// is a top-level navigation from its site).
pub const UPSTREAM_COOKIE: &str = "idhub_upstream";

pub fn upstream_cookie(state: String, secure: bool) -> Cookie<'static> {
    cookie(
        UPSTREAM_COOKIE,
        state,
        secure,
        Some(time::Duration::minutes(10)),
    )
}

pub fn expired_upstream_cookie(secure: bool) -> Cookie<'static> {
    cookie(
        UPSTREAM_COOKIE,
        String::new(),
        secure,
        Some(time::Duration::ZERO),
    )
}

pub fn session_cookie(value: String, secure: bool, ttl: Duration) -> Cookie<'static> {
    cookie(
        SESSION_COOKIE,
        value,
        secure,
        Some(time::Duration::seconds(ttl.num_seconds())),
    )
}

/// The browser signed in to this account (`sessions::familiar_devices`):
/// kept a year, renewed at each sign-in.
pub fn device_cookie(tag: String, secure: bool) -> Cookie<'static> {
    cookie(
        crate::sessions::familiar_devices::DEVICE_COOKIE,
        tag,
        secure,
        Some(time::Duration::days(365)),
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

/// Checks a form's CSRF token against the cookie. A browser that says where
/// the form came from (`Sec-Fetch-Site`) must say this very origin: a
/// sibling subdomain or a plain-http page of the same host could have planted
/// the cookie, and their posts are `same-site`, not `same-origin`.
pub fn check_csrf(req: &HttpRequest, submitted: Option<&str>) -> Result<(), PageError> {
    let fetched_from = req
        .headers()
        .get("sec-fetch-site")
        .map(|value| value.as_bytes());
    if fetched_from.is_some_and(|site| site != b"same-origin") {
        return Err(PageError::forbidden(
            "The form did not come from this site.",
        ));
    }
    let expected = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned());
    match (expected, submitted) {
        (Some(expected), Some(submitted)) if expected.len() >= 32 && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) => Ok(()),
        _ => Err(PageError::forbidden(
            "The form has expired or did not come from this site. Go back, reload the page and try again.",
        )),
    }
}

/// Only local paths may follow a sign-in, so it cannot redirect elsewhere
/// (RFC 9700 §4.11). Browsers drop tabs and newlines from a Location and read
/// `\` as `/`, so `/\t/evil.example` would become `//evil.example`: any
/// control character, whitespace or backslash refuses the path.
pub fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
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
        for hostile in [
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/ /x",
            "/\r\n/x",
            "/a\u{0}b",
        ] {
            assert_eq!(safe_return_to(Some(hostile)), "/account", "{hostile:?}");
        }
    }
}
