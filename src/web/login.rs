//! Sign in and sign out. A successful sign-in always starts a new session id.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Deserialize;

use super::page::{render, see_other, PageError};
use super::session::{self, Session};
use super::templates;
use crate::oauth2::throttle::{self, Limits};
use crate::startup::AppState;
use crate::users::repo as users_repo;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login_page))
            .route(web::post().to(login)),
    )
    .service(
        web::resource("/logout")
            .route(web::get().to(logout_page))
            .route(web::post().to(logout)),
    );
}

pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

pub fn secure_cookies(state: &AppState) -> bool {
    state.issuer.starts_with("https://")
}

/// The signed-in person, if the session cookie names a live session.
pub async fn current_session(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Option<Session>, PageError> {
    let Some(id) = session::session_id(req) else {
        return Ok(None);
    };
    let now = now();
    Ok(crate::db::run(&state.pool, move |conn| session::find(conn, &id, now)).await?)
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    login_hint: Option<String>,
}

pub fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    return_to: &str,
    hint: &str,
    error: Option<String>,
) -> HttpResponse {
    let (csrf_token, cookie) = session::csrf_token(req, secure_cookies(state));
    let page = templates::Login {
        csrf_token,
        return_to: session::safe_return_to(Some(return_to)),
        login_hint: hint.chars().take(256).collect(),
        error,
    };
    render(status, &page, cookie.into_iter().collect())
}

async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> HttpResponse {
    let return_to = session::safe_return_to(query.return_to.as_deref());
    login_form(
        &req,
        &state,
        StatusCode::OK,
        &return_to,
        query.login_hint.as_deref().unwrap_or(""),
        None,
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    csrf_token: Option<String>,
    return_to: Option<String>,
}

const WRONG_CREDENTIALS: &str = "Wrong login or password.";

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    session::check_csrf(&req, form.csrf_token.as_deref())?;
    let form = form.into_inner();
    let return_to = session::safe_return_to(form.return_to.as_deref());
    let refuse = |message: &str| {
        Ok(login_form(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            &return_to,
            &form.login,
            Some(message.to_owned()),
        ))
    };
    let now = now();
    let identifier = form.login.trim().to_owned();
    let user = crate::db::run(&state.pool, move |conn| {
        let user = users_repo::find_by_identifier(conn, &identifier)?.filter(|u| !u.guest);
        let locked = match &user {
            Some(user) => throttle::is_locked(conn, &throttle::user_subject(&user.id), now)?,
            None => false,
        };
        Ok((user, locked))
    })
    .await?;
    let (user, locked) = user;
    if locked {
        return refuse("Too many failed attempts. Wait a minute and try again.");
    }
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let plain = form.password.clone();
    let verified = state
        .hasher
        .run(move |hasher| hasher.check(&plain, stored_hash.as_deref()))
        .await?;
    let Some(user) = user else {
        return refuse(WRONG_CREDENTIALS);
    };
    let limits = Limits::for_users(&state.settings);
    let ttl = Duration::seconds(state.settings.session_ttl_secs);
    let previous = session::session_id(&req);
    let user_id = user.id.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let subject = throttle::user_subject(&user_id);
        if !verified {
            throttle::record_failure(conn, &subject, limits, now)?;
            return Ok(None);
        }
        throttle::clear(conn, &subject)?;
        if let Some(previous) = previous {
            session::delete(conn, &previous)?;
        }
        session::create(conn, &user_id, ttl, now).map(Some)
    })
    .await?;
    match outcome {
        None => refuse(WRONG_CREDENTIALS),
        Some(_) if user.banned => refuse("This account is banned."),
        Some(session_id) => Ok(see_other(
            &return_to,
            vec![session::session_cookie(
                session_id,
                secure_cookies(&state),
                ttl,
            )],
        )),
    }
}

async fn logout_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let signed_in = current_session(&state, &req).await?.is_some();
    let (csrf_token, cookie) = session::csrf_token(&req, secure_cookies(&state));
    Ok(render(
        StatusCode::OK,
        &templates::Logout {
            signed_in,
            csrf_token,
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
    session::check_csrf(&req, form.csrf_token.as_deref())?;
    if let Some(id) = session::session_id(&req) {
        crate::db::run(&state.pool, move |conn| session::delete(conn, &id)).await?;
    }
    Ok(see_other(
        "/logout",
        vec![session::expired_session_cookie(secure_cookies(&state))],
    ))
}
