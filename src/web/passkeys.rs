//! Passkeys in the browser: signing in with one from the sign-in page (no
//! login typed), one as the second step after a password, and adding,
//! renaming and deleting them on `/account/passkeys`. Each ceremony is a
//! page whose script hands the server's options to
//! `navigator.credentials` and posts the answer back as a form.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::cookies;
use super::login::{form_sender, login_form, signed_in, start_session};
use super::page::{render, render_with_script, see_other, PageError};
use super::page_routes::{get_page, post_page};
use super::second_factor::{judge_second_step, pending_user, to_sign_in, SentProof};
use crate::audit::Caller;
use crate::error::AppError;
use crate::factors::passkey_repo::{self, PasskeySummary, Purpose};
use crate::factors::passkeys::{RelyingParty, Started};
use crate::sessions::passkey_sign_in::{self, PasskeyOutcome};
use crate::sessions::pending::NextStep;
use crate::sessions::repo::Session;
use crate::state::AppState;
use crate::{clock, db};

const ACCOUNT_PAGE: &str = "/account/passkeys";
/// Adding or deleting a passkey takes a sign-in this recent: a session
/// left open (or stolen) cannot add a way in that needs no password.
pub const RECENT_SIGN_IN_SECS: i64 = 600;

/// Whether the session signed in lately enough to change passkeys.
fn lately(session: &Session, now: chrono::NaiveDateTime) -> bool {
    (now - session.auth_time).num_seconds() <= RECENT_SIGN_IN_SECS
}

/// How old a sign-in a form of the passkeys page takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Recency {
    Any,
    /// Of the last `RECENT_SIGN_IN_SECS`: adding or deleting a passkey.
    Required,
}

/// The signed-in sender of a form of the passkeys page (its CSRF token
/// checked), signed in recently enough; else where the browser goes: to
/// sign in (again), coming back to the passkeys.
async fn sender(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    csrf_token: Option<&str>,
    recency: Recency,
) -> Result<Result<Session, HttpResponse>, PageError> {
    let session = match form_sender(state, req, csrf_token, ACCOUNT_PAGE).await? {
        Ok(session) => session,
        Err(redirect) => return Ok(Err(redirect)),
    };
    if recency == Recency::Required && !lately(&session, clock::now()) {
        let again = format!("/login?return_to={}", encode(ACCOUNT_PAGE));
        return Ok(Err(see_other(&again, vec![])));
    }
    Ok(Ok(session))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(post_page("/login/passkey", start_sign_in))
        .service(post_page("/login/passkey/finish", finish_sign_in))
        .service(post_page(
            "/login/second-factor/passkey",
            start_second_factor,
        ))
        .service(post_page(
            "/login/second-factor/passkey/finish",
            finish_second_factor,
        ))
        .service(get_page(ACCOUNT_PAGE, account_page))
        .service(post_page("/account/passkeys/new", start_registration))
        .service(post_page("/account/passkeys/finish", finish_registration))
        .service(post_page("/account/passkeys/{id}/rename", rename))
        .service(post_page("/account/passkeys/{id}/delete", delete));
}

/// A ceremony's page: the options for the browser, and the form its
/// script fills with the answer.
#[derive(Template)]
#[template(path = "passkey_ceremony.html")]
struct CeremonyPage {
    title: &'static str,
    explanation: &'static str,
    button: &'static str,
    /// `create` (registration) or `get` (sign-in).
    mode: &'static str,
    options: String,
    action: &'static str,
    ceremony: String,
    /// More hidden fields the answer carries on.
    fields: Vec<(&'static str, String)>,
    back: String,
    csrf_token: String,
    script_nonce: String,
}

struct Ceremony {
    purpose: Purpose,
    title: &'static str,
    explanation: &'static str,
    button: &'static str,
    action: &'static str,
}

const SIGN_IN: Ceremony = Ceremony {
    purpose: Purpose::SignIn,
    title: "Sign in with a passkey",
    explanation: "Choose your passkey when your browser asks, and unlock it.",
    button: "Use a passkey",
    action: "/login/passkey/finish",
};

const SECOND_FACTOR: Ceremony = Ceremony {
    purpose: Purpose::SecondFactor,
    title: "Confirm with a passkey",
    explanation: "Use one of the passkeys of this account when your browser asks.",
    button: "Use a passkey",
    action: "/login/second-factor/passkey/finish",
};

const REGISTER: Ceremony = Ceremony {
    purpose: Purpose::Register,
    title: "Add a passkey",
    explanation:
        "Your browser asks where to keep the new passkey: this device, a phone or a security key.",
    button: "Create the passkey",
    action: "/account/passkeys/finish",
};

/// Keeps the ceremony's state and shows its page.
async fn ceremony_page(
    state: &AppState,
    req: &HttpRequest,
    ceremony: &Ceremony,
    user_id: Option<String>,
    started: Started,
    fields: Vec<(&'static str, String)>,
    back: String,
) -> Result<HttpResponse, PageError> {
    let (purpose, kept) = (ceremony.purpose, started.state);
    let handle = db::run(&state.pool, move |conn| {
        passkey_repo::begin_ceremony(conn, purpose, user_id.as_deref(), &kept, clock::now())
    })
    .await?;
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let nonce = crate::secrets::generate();
    let page = CeremonyPage {
        title: ceremony.title,
        explanation: ceremony.explanation,
        button: ceremony.button,
        mode: match purpose {
            Purpose::Register => "create",
            Purpose::SignIn | Purpose::SecondFactor | Purpose::Upstream => "get",
        },
        options: started.options,
        action: ceremony.action,
        ceremony: handle,
        fields,
        back,
        csrf_token,
        script_nonce: nonce.clone(),
    };
    Ok(render_with_script(
        StatusCode::OK,
        &page,
        cookie.into_iter().collect(),
        &nonce,
    ))
}

/// The relying party, when passkeys work on this server.
fn party(state: &AppState) -> Option<&RelyingParty> {
    state.passkeys.as_deref()
}

#[derive(Deserialize)]
struct StartForm {
    csrf_token: Option<String>,
    return_to: Option<String>,
}

async fn start_sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, PageError> {
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let return_to = cookies::safe_return_to(form.return_to.as_deref());
    let Some(party) = party(&state) else {
        return Ok(to_sign_in(&return_to));
    };
    let started = party.start_sign_in()?;
    let back = format!("/login?return_to={}", encode(&return_to));
    let fields = vec![("return_to", return_to)];
    ceremony_page(&state, &req, &SIGN_IN, None, started, fields, back).await
}

#[derive(Deserialize)]
struct FinishForm {
    csrf_token: Option<String>,
    return_to: Option<String>,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    response: String,
    #[serde(default)]
    name: String,
}

/// The ceremony the form answers, taken (once) if it is for `purpose`:
/// its user and state.
async fn take(
    state: &AppState,
    form: &FinishForm,
    purpose: Purpose,
) -> Result<Option<(Option<String>, String)>, PageError> {
    let handle = form.ceremony.clone();
    if handle.is_empty() || handle.len() > 64 {
        return Ok(None);
    }
    Ok(db::run(&state.pool, move |conn| {
        passkey_repo::take_ceremony(conn, &handle, purpose, clock::now())
    })
    .await?)
}

const EXPIRED: &str = "That passkey request expired or was used already: try again.";

async fn finish_sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<FinishForm>,
) -> Result<HttpResponse, PageError> {
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let return_to = cookies::safe_return_to(form.return_to.as_deref());
    let refuse = |status: StatusCode, message: &str| {
        login_form(
            &req,
            &state,
            status,
            &return_to,
            "",
            Some(message.to_owned()),
            None,
        )
    };
    let (Some(_), Some((_, kept))) = (party(&state), take(&state, &form, Purpose::SignIn).await?)
    else {
        return Ok(refuse(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let (checked, response, origin, now) = (
        state.clone(),
        form.into_inner().response,
        state.origin(&req),
        clock::now(),
    );
    let outcome = db::run(&state.pool, move |conn| {
        let party = checked
            .passkeys
            .as_deref()
            .ok_or_else(|| AppError::internal("passkeys are off"))?;
        passkey_sign_in::finish(conn, party, &kept, &response, &origin, now)
    })
    .await?;
    match outcome {
        PasskeyOutcome::Passed(user, amr) => {
            let session = start_session(&state, &req, user.id, &amr, now).await?;
            let done = cookies::expired_pending_cookie(state.secure_cookies());
            Ok(see_other(&return_to, vec![session, done]))
        }
        PasskeyOutcome::Refused("banned") => {
            Ok(refuse(StatusCode::FORBIDDEN, "This account is banned."))
        }
        PasskeyOutcome::Refused(_) => Ok(refuse(
            StatusCode::UNAUTHORIZED,
            "That passkey was not accepted. Try another, or sign in with your password.",
        )),
    }
}

async fn start_second_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, PageError> {
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let return_to = cookies::safe_return_to(form.return_to.as_deref());
    let (Some(party), Some(user)) = (
        party(&state),
        pending_user(&state, &req, NextStep::Verify, clock::now()).await?,
    ) else {
        return Ok(to_sign_in(&return_to));
    };
    let user_id = user.id.clone();
    let credentials = db::run(&state.pool, move |conn| {
        passkey_repo::credentials(conn, &user_id)
    })
    .await?;
    let back = format!("/login/second-factor?return_to={}", encode(&return_to));
    if credentials.is_empty() {
        return Ok(see_other(&back, vec![]));
    }
    let started = party.start_second_factor(&credentials)?;
    let fields = vec![("return_to", return_to)];
    ceremony_page(
        &state,
        &req,
        &SECOND_FACTOR,
        Some(user.id),
        started,
        fields,
        back,
    )
    .await
}

async fn finish_second_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<FinishForm>,
) -> Result<HttpResponse, PageError> {
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let (return_to, now) = (
        cookies::safe_return_to(form.return_to.as_deref()),
        clock::now(),
    );
    let Some(user) = pending_user(&state, &req, NextStep::Verify, now).await? else {
        return Ok(to_sign_in(&return_to));
    };
    let taken = take(&state, &form, Purpose::SecondFactor).await?;
    let Some((_, kept)) = taken.filter(|(owner, _)| owner.as_deref() == Some(user.id.as_str()))
    else {
        let again = format!("/login/second-factor?return_to={}", encode(&return_to));
        return Ok(see_other(&again, vec![]));
    };
    let sent = SentProof::Passkey {
        state: kept,
        response: form.into_inner().response,
    };
    judge_second_step(&state, &req, user, &return_to, sent, now).await
}

#[derive(Template)]
#[template(path = "account_passkeys.html")]
struct AccountPage {
    csrf_token: String,
    available: bool,
    issuer: String,
    passkeys: Vec<PasskeySummary>,
    error: Option<String>,
}

async fn account_view(
    state: &AppState,
    req: &HttpRequest,
    user_id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = user_id.to_owned();
    let passkeys = db::run(&state.pool, move |conn| passkey_repo::list(conn, &user_id)).await?;
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = AccountPage {
        csrf_token,
        available: state.passkeys.is_some(),
        issuer: state.issuer.clone(),
        passkeys,
        error,
    };
    Ok(render(status, &page, cookie.into_iter().collect()))
}

/// The account page saying why a form did nothing, with the status of
/// the error behind it.
async fn account_refuses(
    state: &AppState,
    req: &HttpRequest,
    user_id: &str,
    error: AppError,
) -> Result<HttpResponse, PageError> {
    let status = match &error {
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => return Err(error.into()),
    };
    account_view(state, req, user_id, status, Some(error.to_string())).await
}

async fn account_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    match signed_in(&state, &req, ACCOUNT_PAGE).await? {
        Ok(session) => account_view(&state, &req, &session.user.id, StatusCode::OK, None).await,
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Deserialize)]
struct NameForm {
    csrf_token: Option<String>,
    #[serde(default)]
    name: String,
}

async fn start_registration(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, PageError> {
    let session = match sender(&state, &req, form.csrf_token.as_deref(), Recency::Required).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let user = session.user;
    let name = match passkey_repo::checked_name(&form.name) {
        Ok(name) => name,
        Err(error) => return account_refuses(&state, &req, &user.id, error).await,
    };
    let Some(party) = party(&state) else {
        return Ok(see_other(ACCOUNT_PAGE, vec![]));
    };
    let user_id = user.id.clone();
    let existing = db::run(&state.pool, move |conn| {
        Ok(passkey_repo::credentials(conn, &user_id)?
            .iter()
            .map(|passkey| passkey.cred_id().clone())
            .collect())
    })
    .await?;
    let display = match user.name.trim() {
        "" => user.login.as_str(),
        name => name,
    };
    let started = party.start_registration(&user.id, &user.login, display, existing)?;
    let fields = vec![("name", name)];
    let back = ACCOUNT_PAGE.to_owned();
    ceremony_page(
        &state,
        &req,
        &REGISTER,
        Some(user.id),
        started,
        fields,
        back,
    )
    .await
}

async fn finish_registration(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<FinishForm>,
) -> Result<HttpResponse, PageError> {
    let session = match sender(&state, &req, form.csrf_token.as_deref(), Recency::Required).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let user_id = session.user.id.clone();
    let taken = take(&state, &form, Purpose::Register).await?;
    let (Some(party), Some((_, kept))) = (
        party(&state),
        taken.filter(|(owner, _)| owner.as_deref() == Some(user_id.as_str())),
    ) else {
        let expired = AppError::bad_request(EXPIRED);
        return account_refuses(&state, &req, &user_id, expired).await;
    };
    let passkey = match party.finish_registration(&kept, &form.response) {
        Ok(passkey) => passkey,
        Err(error) => return account_refuses(&state, &req, &user_id, error).await,
    };
    let (caller, name, owner) = (
        Caller::user(&user_id, state.origin(&req)),
        form.name.clone(),
        user_id.clone(),
    );
    let added = db::run(&state.pool, move |conn| {
        passkey_repo::add(conn, &owner, &name, &passkey, clock::now(), &caller)
    })
    .await;
    match added {
        Ok(_) => Ok(see_other(ACCOUNT_PAGE, vec![])),
        Err(error) => account_refuses(&state, &req, &user_id, error).await,
    }
}

async fn rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, PageError> {
    let session = match sender(&state, &req, form.csrf_token.as_deref(), Recency::Any).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let (user_id, id, name) = (
        session.user.id.clone(),
        path.into_inner(),
        form.name.clone(),
    );
    let renamed = db::run(&state.pool, move |conn| {
        passkey_repo::rename(conn, &user_id, &id, &name)
    })
    .await;
    match renamed {
        Ok(()) => Ok(see_other(ACCOUNT_PAGE, vec![])),
        Err(error) => account_refuses(&state, &req, &session.user.id, error).await,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: Option<String>,
}

/// Deleting a passkey; not the last factor of a user who must have one.
async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let session = match sender(&state, &req, form.csrf_token.as_deref(), Recency::Required).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let user = session.user;
    let policy_requires = state.settings.require_second_factor.requires(user.admin);
    let (user_id, id, caller) = (
        user.id.clone(),
        path.into_inner(),
        Caller::user(&user.id, state.origin(&req)),
    );
    let deleted = db::run(&state.pool, move |conn| {
        crate::db::transaction(conn, |conn| {
            let status = crate::factors::repo::status(conn, &user_id)?;
            let last = !status.totp && status.passkeys <= 1;
            if last && (status.required || policy_requires) {
                return Err(AppError::Forbidden(
                    "Your account must have a second factor: add another passkey or an \
                     authenticator app before deleting this one."
                        .into(),
                ));
            }
            passkey_repo::delete(conn, &user_id, &id, clock::now(), &caller)
        })
    })
    .await;
    match deleted {
        Ok(()) => Ok(see_other(ACCOUNT_PAGE, vec![])),
        Err(error) => account_refuses(&state, &req, &user.id, error).await,
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
