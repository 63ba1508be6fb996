//! Sign in and sign out. A successful sign-in always starts a new session id.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Deserialize;

use super::cookies;
use super::page::{render, see_other, PageError};
use super::page_routes::page;
use super::templates;
use crate::clock;
use crate::oidc::discovery::OAUTH_BASE;
use crate::oidc::id_token::PWD;
use crate::sessions::lockout::Source;
use crate::sessions::repo::{self as sessions_repo, Session};
use std::sync::Arc;

use crate::sessions::familiar_devices::DEVICE_COOKIE;
use crate::sessions::pending::NextStep;
use crate::sessions::sign_in::{self, Attempt, Outcome, PresentedDevice, Via};
use crate::state::AppState;
use crate::users::model::User;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        page("/login")
            .route(web::get().to(login_page))
            .route(web::post().to(login)),
    )
    .service(
        page("/logout")
            .route(web::get().to(logout_page))
            .route(web::post().to(logout)),
    );
}

/// The signed-in person, if the session cookie names a live session.
pub async fn current_session(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Option<Session>, PageError> {
    let Some(id) = cookies::session_id(req) else {
        return Ok(None);
    };
    let now = clock::now();
    Ok(crate::db::run(&state.pool, move |conn| {
        Ok(sessions_repo::find(conn, &id, now)?)
    })
    .await?)
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub return_to: Option<String>,
    login_hint: Option<String>,
}

pub fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    return_to: &str,
    hint: &str,
    error: Option<String>,
    application: Option<String>,
) -> HttpResponse {
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = templates::Login {
        application,
        csrf_token,
        return_to: cookies::safe_return_to(Some(return_to)),
        login_hint: hint.chars().take(256).collect(),
        passkeys: state.passkeys.is_some(),
        modules: state.sign_in_buttons.shown(),
        error,
    };
    render(status, &page, cookie.into_iter().collect())
}

async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> HttpResponse {
    let return_to = cookies::safe_return_to(query.return_to.as_deref());
    let application = asking_application(&state, &return_to).await;
    // A database that cannot answer leaves the buttons as last read.
    let _ = state.sign_in_buttons.refresh(&state.pool).await;
    login_form(
        &req,
        &state,
        StatusCode::OK,
        &return_to,
        query.login_hint.as_deref().unwrap_or(""),
        None,
        application,
    )
}

/// The name of the registered service whose authorization request the
/// sign-in interrupts, to say whom the user signs in for.
async fn asking_application(state: &AppState, return_to: &str) -> Option<String> {
    let query = return_to.strip_prefix(&format!("{OAUTH_BASE}/auth?"))?;
    let client_id = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "client_id")
        .map(|(_, value)| value.into_owned())
        .filter(|id| !id.is_empty() && !id.chars().any(char::is_control))?;
    let services = std::sync::Arc::clone(&state.services);
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(services.lookup(conn, &client_id)?)
    })
    .await
    .ok()??;
    Some(found.name.clone())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    csrf_token: Option<String>,
    return_to: Option<String>,
}

const WRONG_CREDENTIALS: &str = "Wrong login or password.";
/// Where a sign-in goes on after the right password: the code of the
/// user's second factor, or setting one up when they must have one.
pub const SECOND_FACTOR_PAGE: &str = "/login/second-factor";
pub const SET_UP_PAGE: &str = "/login/set-up-second-factor";

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let form = form.into_inner();
    let return_to = cookies::safe_return_to(form.return_to.as_deref());
    let application = asking_application(&state, &return_to).await;
    let refuse = |message: &str| {
        Ok(login_form(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            &return_to,
            &form.login,
            Some(message.to_owned()),
            application.clone(),
        ))
    };
    let now = clock::now();
    let attempt = Attempt {
        identifier: form.login.clone(),
        password: form.password.clone(),
        source: Source::Address(state.client_address(&req)),
        origin: state.origin(&req),
        via: Via::SignInPage,
        policy: state.settings.require_second_factor,
        device: Some(PresentedDevice {
            key: Arc::clone(&state.devices),
            cookie: req.cookie(DEVICE_COOKIE).map(|c| c.value().to_owned()),
        }),
    };
    let (user, device, next_step) = match sign_in::check(
        &state.pool,
        &state.hasher,
        state.lockout,
        &state.audit,
        attempt,
        now,
    )
    .await?
    {
        Outcome::Verified(user, device) => (user, device, None),
        Outcome::SecondFactorNeeded(user, device) => (user, device, Some(NextStep::Verify)),
        Outcome::EnrolFirst(user, device) => (user, device, Some(NextStep::Enrol)),
        Outcome::WrongCredentials => return refuse(WRONG_CREDENTIALS),
        Outcome::Locked => return refuse("Too many failed attempts. Wait a minute and try again."),
    };
    if user.banned {
        return refuse("This account is banned.");
    }
    if let Some(step) = next_step {
        // No device cookie yet: the browser becomes familiar to the
        // account once the sign-in is done (its second step passed), so
        // the password alone buys no lockout counters of its own.
        return Ok(ask_second_factor(&state, &user, now, step, &return_to));
    }
    let device = device.map(|tag| cookies::device_cookie(tag, state.secure_cookies()));
    let cookie = start_session(&state, &req, user.id, PWD, now).await?;
    Ok(see_other(
        &return_to,
        std::iter::once(cookie).chain(device).collect(),
    ))
}

/// After the right password of a user with a second factor (or who must
/// set one up): the pending cookie for that step, and on to its page.
pub fn ask_second_factor(
    state: &AppState,
    user: &User,
    now: chrono::NaiveDateTime,
    next: NextStep,
    return_to: &str,
) -> HttpResponse {
    let credential = user.password_hash.as_deref().unwrap_or_default();
    let value = crate::sessions::pending::issue(
        &state.devices,
        next,
        &user.id,
        credential,
        now.and_utc().timestamp(),
    );
    let step = match next {
        NextStep::Verify => SECOND_FACTOR_PAGE,
        NextStep::Enrol => SET_UP_PAGE,
    };
    let back: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    let cookie = cookies::pending_cookie(value, state.secure_cookies());
    see_other(&format!("{step}?return_to={back}"), vec![cookie])
}

/// The cookie that makes this browser familiar to `user` (the lockout
/// counts its failures apart), set when a sign-in completes.
pub fn familiar_device_cookie(state: &AppState, user: &User) -> actix_web::cookie::Cookie<'static> {
    let credential = user.password_hash.as_deref().unwrap_or_default();
    let tag = state.devices.issue(&user.id, credential);
    cookies::device_cookie(tag, state.secure_cookies())
}

/// The signed-in, non-guest user, or a redirect to the sign-in page that
/// comes back to `page`.
pub async fn signed_in(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    page: &str,
) -> Result<Result<Session, HttpResponse>, PageError> {
    match current_session(state, req).await? {
        Some(session) if !session.user.guest => Ok(Ok(session)),
        _ => {
            let back: String = url::form_urlencoded::byte_serialize(page.as_bytes()).collect();
            Ok(Err(see_other(&format!("/login?return_to={back}"), vec![])))
        }
    }
}

/// The signed-in user who sent a form of `page`, once its CSRF token checks out.
pub async fn form_sender(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    csrf_token: Option<&str>,
    page: &str,
) -> Result<Result<Session, HttpResponse>, PageError> {
    cookies::check_csrf(req, csrf_token)?;
    signed_in(state, req, page).await
}

/// Starts a new session for the user who signed in just now with the
/// methods `amr`, ending the one the browser had (a session id never
/// survives a sign-in); returns its cookie.
pub async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user_id: String,
    amr: &str,
    now: chrono::NaiveDateTime,
) -> Result<actix_web::cookie::Cookie<'static>, PageError> {
    renew_session(state, req, user_id, (amr, now), now).await
}

/// A new session for a sign-in made at another time (`signed_in`: its
/// methods and time), as when a password change replaces the session.
pub async fn renew_session(
    state: &AppState,
    req: &HttpRequest,
    user_id: String,
    signed_in: (&str, chrono::NaiveDateTime),
    now: chrono::NaiveDateTime,
) -> Result<actix_web::cookie::Cookie<'static>, PageError> {
    let (amr, auth_time) = signed_in;
    let ttl = Duration::seconds(state.settings.session_ttl_secs);
    let previous = cookies::session_id(req);
    let amr = amr.to_owned();
    let session_id = crate::db::run(&state.pool, move |conn| {
        if let Some(previous) = previous {
            // The same person again (a step-up, a forced sign-in): their
            // session gets a new id and keeps its `sid`, so the services
            // that know it are not told it ended. Someone else: it ends.
            let signed_in = (amr.as_str(), auth_time);
            if let Some(renewed) =
                sessions_repo::renew(conn, &previous, &user_id, signed_in, ttl, now)?
            {
                return Ok(renewed);
            }
            sessions_repo::delete(conn, &previous, now)?;
        }
        Ok(sessions_repo::create(
            conn,
            &user_id,
            (&amr, auth_time),
            ttl,
            now,
        )?)
    })
    .await?;
    Ok(cookies::session_cookie(
        session_id,
        state.secure_cookies(),
        ttl,
    ))
}

async fn logout_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let signed_in = current_session(&state, &req).await?.is_some();
    let (csrf_token, cookie) = cookies::csrf_token(&req, state.secure_cookies());
    Ok(render(
        StatusCode::OK,
        &templates::Logout {
            signed_in,
            csrf_token,
            action: "/logout".into(),
            params: vec![],
            client_name: None,
            continue_to: None,
        },
        cookie.into_iter().collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    pub csrf_token: Option<String>,
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let expired = sign_out(&state, &req).await?;
    Ok(see_other("/logout", vec![expired]))
}

/// Ends the browser's session, if it has one (recorded, and told to the
/// services it signed into by back-channel logout); returns the cookie that
/// clears it.
pub async fn sign_out(
    state: &AppState,
    req: &HttpRequest,
) -> Result<actix_web::cookie::Cookie<'static>, PageError> {
    if let Some(id) = cookies::session_id(req) {
        let origin = state.origin(req);
        crate::db::run(&state.pool, move |conn| {
            Ok(sessions_repo::end(conn, &id, origin, clock::now())?)
        })
        .await?;
        state.logout_wake.notify_one();
    }
    Ok(cookies::expired_session_cookie(state.secure_cookies()))
}
