//! `/device`: where a user connects a device of the device flow (RFC 8628
//! §3.3). They sign in, type the code the device shows, see what it asks
//! for and allow or deny it, always: a code someone else sent them must not
//! sign them in unawares (§5.4). Wrong codes are counted per address and
//! per user, in the database, and past the limit the page refuses codes
//! for a while (§5.1).
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Deserialize;

use super::cookies;
use super::login::current_session;
use super::page::{render, see_other, PageError};
use super::page_routes::{page, post_page};
use super::templates;
use crate::audit::{Actor, Event, Kind};
use crate::oauth2::device::{self, Approver, DeviceRequest};
use crate::registry::repo as services_repo;
use crate::scope::{Requested, StoredScope};
use crate::sessions::failure_counters::Limits;
use crate::sessions::repo::Session;
use crate::state::AppState;
use crate::{clock, db};

pub const DEVICE_PATH: &str = "/device";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        page(DEVICE_PATH)
            .route(web::get().to(entry_page))
            .route(web::post().to(enter_code)),
    )
    .service(post_page("/device/decide", decide));
}

#[derive(Debug, Deserialize)]
pub struct EntryQuery {
    user_code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    csrf_token: Option<String>,
    user_code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf_token: Option<String>,
    user_code: Option<String>,
    decision: Option<String>,
}

/// To the sign-in page, back here with the code kept.
fn to_login(user_code: Option<&str>) -> HttpResponse {
    let mut back = String::from(DEVICE_PATH);
    if let Some(code) = user_code.filter(|c| !c.is_empty()) {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("user_code", &code.chars().take(32).collect::<String>())
            .finish();
        back = format!("{back}?{query}");
    }
    let login = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", &back)
        .finish();
    see_other(&format!("/login?{login}"), vec![])
}

fn entry_form(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    status: StatusCode,
    user_code: &str,
    error: Option<String>,
) -> HttpResponse {
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = templates::Device {
        csrf_token,
        user_login: session.user.login.clone(),
        user_code: user_code.chars().take(32).collect(),
        error,
    };
    render(status, &page, cookie.into_iter().collect())
}

/// The signed-in person, who must be a real user: the guest cannot allow
/// a device for anyone.
async fn signed_in_user(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Option<Session>, PageError> {
    match current_session(state, req).await? {
        Some(session) if session.user.guest => Err(PageError::forbidden(
            "The guest account cannot connect devices. Sign in as yourself.",
        )),
        other => Ok(other),
    }
}

async fn entry_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<EntryQuery>,
) -> Result<HttpResponse, PageError> {
    let Some(session) = signed_in_user(&state, &req).await? else {
        return Ok(to_login(query.user_code.as_deref()));
    };
    let code = query.user_code.as_deref().unwrap_or("");
    Ok(entry_form(
        &req,
        &state,
        &session,
        StatusCode::OK,
        code,
        None,
    ))
}

fn limits(state: &AppState) -> Limits {
    Limits {
        max_failures: state.settings.device_code_max_failures.max(1),
        window: Duration::seconds(state.settings.password_failure_window_secs),
        lockout: Duration::seconds(state.settings.password_lockout_secs),
    }
}

/// Why a typed code found nothing to show.
enum Lookup {
    Found(Box<DeviceRequest>),
    Wrong,
    Locked,
}

/// The pending request a typed code names; a wrong code is counted.
async fn look_up(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    typed: &str,
) -> Result<Lookup, PageError> {
    let keys = device::typist_keys(state.client_address(req), &session.user.id);
    let normalized = device::normalize(typed);
    let limits = limits(state);
    let now = clock::now();
    Ok(db::run(&state.pool, move |conn| {
        if device::locked_out(conn, &keys, now)? {
            return Ok(Lookup::Locked);
        }
        let found = match &normalized {
            Some(code) => device::find_pending(conn, code, now)?,
            None => None,
        };
        match found {
            Some(request) => Ok(Lookup::Found(Box::new(request))),
            None => {
                device::count_wrong_code(conn, &keys, limits, now)?;
                Ok(Lookup::Wrong)
            }
        }
    })
    .await?)
}

async fn enter_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let typed = form.user_code.unwrap_or_default();
    let Some(session) = signed_in_user(&state, &req).await? else {
        return Ok(to_login(Some(&typed)));
    };
    let request = match look_up(&state, &req, &session, &typed).await? {
        Lookup::Found(request) => *request,
        Lookup::Wrong => {
            let error = "That code is not valid, or it has expired or been used. Check the code on your device.";
            return Ok(entry_form(
                &req,
                &state,
                &session,
                StatusCode::BAD_REQUEST,
                &typed,
                Some(error.into()),
            ));
        }
        Lookup::Locked => {
            let error = "Too many wrong codes. Wait a few minutes, then try again.";
            return Ok(entry_form(
                &req,
                &state,
                &session,
                StatusCode::TOO_MANY_REQUESTS,
                &typed,
                Some(error.into()),
            ));
        }
    };
    consent_page(&req, &state, &session, request, &typed).await
}

async fn consent_page(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    request: DeviceRequest,
    typed: &str,
) -> Result<HttpResponse, PageError> {
    let requested = Requested::from_entries(StoredScope(&request.scope).to_vec());
    let (client_id, services) = (request.client_id.clone(), requested.services.clone());
    let (client, named) = db::run(&state.pool, move |conn| {
        let client = services_repo::find(conn, &client_id)?;
        let named = services_repo::registered_names(conn, &services)?;
        Ok((client, named))
    })
    .await?;
    // A service deleted since the device asked: the user could not see
    // all they would allow, so the request cannot be allowed.
    let Ok(names) = named else {
        return Err(PageError::bad_request(
            "This request names a service that no longer exists. Start again on your device.",
        ));
    };
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = templates::DeviceConsent {
        csrf_token,
        unverified: !client.vouched_for(),
        client_name: client.name,
        user_login: session.user.login.clone(),
        user_code: device::normalize(typed)
            .map(|c| device::display(&c))
            .unwrap_or_default(),
        items: super::consent::items(&names, &requested.oidc, false),
    };
    Ok(render(StatusCode::OK, &page, cookie.into_iter().collect()))
}

async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let allow = match form.decision.as_deref() {
        Some("allow") => true,
        Some("deny") => false,
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    };
    let Some(session) = signed_in_user(&state, &req).await? else {
        return Ok(to_login(form.user_code.as_deref()));
    };
    let typed = form.user_code.unwrap_or_default();
    let request = match look_up(&state, &req, &session, &typed).await? {
        Lookup::Found(request) => request,
        Lookup::Wrong | Lookup::Locked => {
            return Err(PageError::bad_request(
                "This code has expired or was already used. Start again on your device.",
            ))
        }
    };
    if allow {
        let services = Requested::from_entries(StoredScope(&request.scope).to_vec()).services;
        let still_there = db::run(&state.pool, move |conn| {
            Ok(services_repo::registered_names(conn, &services)?)
        })
        .await?;
        if still_there.is_err() {
            return Err(PageError::bad_request(
                "This request names a service that no longer exists. Start again on your device.",
            ));
        }
    }
    let code = device::normalize(&typed).unwrap_or_default();
    let (user_id, sid, auth_time, amr) = (
        session.user.id.clone(),
        session.sid.clone(),
        session.auth_time,
        session.amr.clone(),
    );
    let now = clock::now();
    let decided = db::run(&state.pool, move |conn| {
        let approver = Approver {
            user_id: &user_id,
            auth_time,
            sid: sid.as_deref(),
            amr: Some(&amr),
        };
        device::decide(conn, &code, approver, allow, now)
    })
    .await?;
    if !decided {
        return Err(PageError::bad_request(
            "This code has expired or was already used. Start again on your device.",
        ));
    }
    let kind = match allow {
        true => Kind::ConsentGiven,
        false => Kind::ConsentRefused,
    };
    let event = Event::new(
        kind,
        Actor::User(session.user.id.clone()),
        state.origin(&req),
    )
    .user(&session.user.id)
    .service(&request.client_id)
    .detail("scope", request.scope.as_str())
    .detail("flow", "device");
    state.audit.submit(event);
    let page = match allow {
        true => templates::DeviceDone {
            title: "Device connected".into(),
            message: "You can go back to your device; it signs in on its own in a few seconds."
                .into(),
        },
        false => templates::DeviceDone {
            title: "Access denied".into(),
            message: "The device was not given access. It will say so.".into(),
        },
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}
