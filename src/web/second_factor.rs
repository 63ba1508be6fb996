//! Second factors in the browser: the sign-in step that asks for a code
//! after the password (`/login/second-factor`), and setting up or removing
//! an authenticator app on the account (`/account/second-factor`), with
//! its ten recovery codes shown once.
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::cookies;
use super::login::{
    familiar_device_cookie, form_sender, signed_in, start_session, LoginQuery, SET_UP_PAGE,
};

const ACCOUNT_PAGE: &str = "/account/second-factor";
use super::page::{render, see_other, PageError};
use super::page_routes::{get_page, post_page};
use crate::audit::Caller;
use crate::factors::{repo as factors, totp, FactorStatus};
use crate::oidc::id_token::{MFA, OTP, PWD};
use crate::sessions::familiar_devices::DEVICE_COOKIE;
use crate::sessions::lockout::{Device, Source};
use crate::sessions::pending::{self, NextStep, PENDING_COOKIE};
use crate::sessions::second_step::{self, Proof, SecondOutcome, SecondStep};
use crate::state::AppState;
use crate::users::model::User;
use crate::{clock, db};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_page("/login/second-factor", code_page))
        .service(post_page("/login/second-factor", code_sent))
        .service(get_page(SET_UP_PAGE, set_up_page))
        .service(post_page(SET_UP_PAGE, set_up_confirmed))
        .service(get_page("/account/second-factor", account_page))
        .service(post_page("/account/second-factor/totp", start_totp))
        .service(post_page(
            "/account/second-factor/totp/confirm",
            confirm_totp,
        ))
        .service(post_page("/account/second-factor/remove", remove));
}

/// How the lockout counts this browser for `user`: familiar when it holds
/// a device cookie of theirs (`sessions::familiar_devices`).
fn device_of(state: &AppState, req: &HttpRequest, user: &User) -> Device {
    let credential = user.password_hash.as_deref().unwrap_or_default();
    req.cookie(DEVICE_COOKIE)
        .and_then(|cookie| {
            state
                .devices
                .recognize(cookie.value(), &user.id, credential)
        })
        .map_or(Device::Unknown, |nonce| Device::Familiar {
            user_id: user.id.clone(),
            nonce,
        })
}

/// Confirms, with `code`, the enrolment this browser started (its
/// enrolment cookie names the secret): the recovery codes; refused, the
/// secret to show again, or none when this browser did not start the
/// enrolment in progress (then nothing of it is shown).
async fn confirm_enrolment(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &User,
    code: String,
    now: NaiveDateTime,
) -> Result<Result<Vec<String>, Option<Vec<u8>>>, PageError> {
    let presented = req
        .cookie(cookies::ENROLMENT_COOKIE)
        .map(|c| c.value().to_owned());
    let (checked, user_id) = (state.clone(), user.id.clone());
    let caller = Caller::user(&user.id, state.origin(req));
    let confirmed = db::run(&state.pool, move |conn| {
        let encryption = checked.keys.encryption();
        let Some((secret, _)) = factors::secret(conn, encryption, &user_id, false)? else {
            return Ok(Err(None));
        };
        let tag = factors::enrolment_tag(&secret);
        let ours = presented.is_some_and(|presented| {
            subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), tag.as_bytes()).into()
        });
        if !ours {
            return Ok(Err(None));
        }
        let unix = u64::try_from(now.and_utc().timestamp()).unwrap_or(0);
        match totp::accept(&secret, &code, unix, 0) {
            Some(step) => Ok(Ok(factors::confirm(conn, &user_id, step, now, &caller)?)),
            None => Ok(Err(Some(secret))),
        }
    })
    .await?;
    Ok(confirmed)
}

/// Starts an enrolment with a new secret, which this browser alone then
/// sees and confirms: the secret, and the cookie that says so.
async fn begin_enrolment(
    state: &web::Data<AppState>,
    user_id: &str,
) -> Result<(Vec<u8>, Cookie<'static>), crate::error::AppError> {
    let (started, user_id) = (state.clone(), user_id.to_owned());
    let secret = db::run(&state.pool, move |conn| {
        factors::begin(conn, started.keys.encryption(), &user_id, clock::now())
    })
    .await?;
    let cookie = cookies::enrolment_cookie(factors::enrolment_tag(&secret), state.secure_cookies());
    Ok((secret, cookie))
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct CodePage {
    csrf_token: String,
    return_to: String,
    /// The user has a passkey this server can check: offer it.
    passkeys: bool,
    /// The user has an authenticator app: ask for its code.
    totp: bool,
    error: Option<String>,
}

async fn code_form(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    status: StatusCode,
    return_to: &str,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = user.id.clone();
    let factors = db::run(&state.pool, move |conn| factors::status(conn, &user_id)).await?;
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = CodePage {
        csrf_token,
        return_to: cookies::safe_return_to(Some(return_to)),
        passkeys: factors.passkeys > 0 && state.passkeys.is_some(),
        totp: factors.totp,
        error,
    };
    Ok(render(status, &page, cookie.into_iter().collect()))
}

/// The user the browser's pending cookie holds for, if it still does.
pub async fn pending_user(
    state: &AppState,
    req: &HttpRequest,
    step: NextStep,
    now: NaiveDateTime,
) -> Result<Option<User>, PageError> {
    let Some(cookie) = req.cookie(PENDING_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    // No user id holds a control character or is this long (and
    // PostgreSQL refuses a NUL): such a cookie names nobody.
    let Some(user_id) = pending::user_of(&cookie)
        .filter(|id| id.len() <= 64 && !id.chars().any(char::is_control))
        .map(str::to_owned)
    else {
        return Ok(None);
    };
    let user = db::run(&state.pool, move |conn| {
        Ok(crate::users::repo::get(conn, &user_id)?)
    })
    .await?;
    Ok(user.filter(|user| {
        let credential = user.password_hash.as_deref().unwrap_or_default();
        !user.banned
            && pending::holds(
                &state.devices,
                step,
                &cookie,
                &user.id,
                credential,
                now.and_utc().timestamp(),
            )
    }))
}

async fn code_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, PageError> {
    let return_to = cookies::safe_return_to(query.return_to.as_deref());
    let Some(user) = pending_user(&state, &req, NextStep::Verify, clock::now()).await? else {
        return Ok(to_sign_in(&return_to));
    };
    code_form(&req, &state, &user, StatusCode::OK, &return_to, None).await
}

/// The user a form of the sign-in's second step is for (the pending
/// cookie's, the CSRF token checked) and where to go after; else the
/// sign-in page, from the start.
pub async fn pending_form(
    state: &AppState,
    req: &HttpRequest,
    form: &CodeForm,
    step: NextStep,
    now: NaiveDateTime,
) -> Result<Result<(User, String), HttpResponse>, PageError> {
    cookies::check_csrf(req, form.csrf_token.as_deref())?;
    let return_to = cookies::safe_return_to(form.return_to.as_deref());
    match pending_user(state, req, step, now).await? {
        Some(user) => Ok(Ok((user, return_to))),
        None => Ok(Err(to_sign_in(&return_to))),
    }
}

/// Back to the sign-in page, which comes back to `return_to` after.
pub fn to_sign_in(return_to: &str) -> HttpResponse {
    see_other(&format!("/login?return_to={}", encode(return_to)), vec![])
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf_token: Option<String>,
    #[serde(default)]
    code: String,
    return_to: Option<String>,
}

async fn code_sent(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let (form, now) = (form.into_inner(), clock::now());
    let (user, return_to) = match pending_form(&state, &req, &form, NextStep::Verify, now).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in),
    };
    let code = form.code.chars().take(64).collect();
    judge_second_step(&state, &req, user, &return_to, SentProof::Code(code), now).await
}

/// A second factor as the browser sent it, owned to cross to the
/// database thread: a code, or a passkey's answer to a ceremony taken.
pub enum SentProof {
    Code(String),
    Passkey { state: String, response: String },
}

/// Checks the second factor `user` sent and answers: on to `return_to`
/// with a session, or the code page again saying why not.
pub async fn judge_second_step(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: User,
    return_to: &str,
    sent: SentProof,
    now: NaiveDateTime,
) -> Result<HttpResponse, PageError> {
    let (source, origin) = (
        Source::Address(state.client_address(req)),
        state.origin(req),
    );
    let device = device_of(state, req, &user);
    let (checked, person) = (state.clone(), user.clone());
    let outcome = db::run(&state.pool, move |conn| {
        let step = SecondStep {
            encryption: checked.keys.encryption(),
            lockout: &checked.lockout,
            source: &source,
            origin: &origin,
            device,
        };
        let proof = match (&sent, checked.passkeys.as_deref()) {
            (SentProof::Code(code), _) => Proof::Code(code),
            (SentProof::Passkey { state, response }, Some(party)) => Proof::Passkey {
                party,
                state,
                response,
            },
            // Passkeys off since the ceremony began (a restart with an
            // IP issuer): nothing to check the answer with.
            (SentProof::Passkey { .. }, None) => Proof::Code(""),
        };
        second_step::check(conn, &step, &person, proof, now)
    })
    .await?;
    let status = StatusCode::UNAUTHORIZED;
    match outcome {
        SecondOutcome::Passed(method) => {
            let amr = [PWD, method.amr(), MFA].join(" ");
            let familiar = familiar_device_cookie(state, &user);
            let session = start_session(state, req, user.id, &amr, now).await?;
            let done = cookies::expired_pending_cookie(state.secure_cookies());
            Ok(see_other(return_to, vec![session, done, familiar]))
        }
        SecondOutcome::Wrong => {
            let wrong = "That was not right (a code used already, or a passkey not of this account). Try again.";
            code_form(req, state, &user, status, return_to, Some(wrong.into())).await
        }
        SecondOutcome::Locked => {
            let locked = "Too many failed attempts. Wait a minute and try again.";
            code_form(req, state, &user, status, return_to, Some(locked.into())).await
        }
    }
}

#[derive(Template)]
#[template(path = "account_second_factor.html")]
struct AccountPage {
    csrf_token: String,
    status: FactorStatus,
    /// Setting up: the QR code (an SVG made here), the URI and the secret as text.
    enrolling: Option<Enrolment>,
    /// Just confirmed: the recovery codes, shown this once.
    recovery_codes: Vec<String>,
    error: Option<String>,
}

struct Enrolment {
    qr_svg: String,
    uri: String,
    secret: String,
}

async fn account_view(
    state: &AppState,
    req: &HttpRequest,
    user: &User,
    status: StatusCode,
    enrolling: Option<Vec<u8>>,
    recovery_codes: Vec<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = user.id.clone();
    let factor_status = db::run(&state.pool, move |conn| factors::status(conn, &user_id)).await?;
    let enrolling = enrolling
        .map(|secret| enrolment(state, user, &secret))
        .transpose()?;
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = AccountPage {
        csrf_token,
        status: factor_status,
        enrolling,
        recovery_codes,
        error,
    };
    Ok(render(status, &page, cookie.into_iter().collect()))
}

fn host_of(issuer: &str) -> String {
    url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| issuer.to_owned())
}

/// The account's second-factor page saying why a form did nothing.
async fn account_says(
    state: &AppState,
    req: &HttpRequest,
    user: &User,
    status: StatusCode,
    message: &str,
) -> Result<HttpResponse, PageError> {
    let said = Some(message.to_owned());
    account_view(state, req, user, status, None, Vec::new(), said).await
}

async fn account_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let session = match signed_in(&state, &req, ACCOUNT_PAGE).await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    account_view(
        &state,
        &req,
        &session.user,
        StatusCode::OK,
        None,
        Vec::new(),
        None,
    )
    .await
}

#[derive(Deserialize)]
struct CodeOnly {
    csrf_token: Option<String>,
    #[serde(default)]
    code: String,
}

async fn start_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeOnly>,
) -> Result<HttpResponse, PageError> {
    let session = match form_sender(&state, &req, form.csrf_token.as_deref(), ACCOUNT_PAGE).await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    match begin_enrolment(&state, &session.user.id).await {
        Ok((secret, cookie)) => {
            let mut page = account_view(
                &state,
                &req,
                &session.user,
                StatusCode::OK,
                Some(secret),
                Vec::new(),
                None,
            )
            .await?;
            page.add_cookie(&cookie)
                .map_err(|e| crate::error::AppError::internal(e.to_string()))?;
            Ok(page)
        }
        Err(crate::error::AppError::Conflict { message, .. }) => {
            account_says(&state, &req, &session.user, StatusCode::CONFLICT, &message).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn confirm_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeOnly>,
) -> Result<HttpResponse, PageError> {
    let session = match form_sender(&state, &req, form.csrf_token.as_deref(), ACCOUNT_PAGE).await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    let now = clock::now();
    let confirmed = confirm_enrolment(&state, &req, &session.user, form.code.clone(), now).await?;
    match confirmed {
        Ok(codes) => {
            account_view(
                &state,
                &req,
                &session.user,
                StatusCode::OK,
                None,
                codes,
                None,
            )
            .await
        }
        Err(Some(secret)) => {
            account_view(
                &state,
                &req,
                &session.user,
                StatusCode::BAD_REQUEST,
                Some(secret),
                Vec::new(),
                Some("That code is not right: type the one your app shows now.".into()),
            )
            .await
        }
        Err(None) => {
            account_says(
                &state,
                &req,
                &session.user,
                StatusCode::BAD_REQUEST,
                "Start setting up the app again.",
            )
            .await
        }
    }
}

/// Removing one's factors takes a current code (or a recovery code), so a
/// session left open does not suffice.
async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeOnly>,
) -> Result<HttpResponse, PageError> {
    let session = match form_sender(&state, &req, form.csrf_token.as_deref(), ACCOUNT_PAGE).await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    let user_id = session.user.id.clone();
    let required = db::run(&state.pool, move |conn| factors::status(conn, &user_id))
        .await?
        .required;
    if required
        || state
            .settings
            .require_second_factor
            .requires(session.user.admin)
    {
        let must = "Your account must sign in with a second factor: it cannot be turned off. \
                    An administrator can reset it if you lost your phone.";
        return account_says(&state, &req, &session.user, StatusCode::FORBIDDEN, must).await;
    }
    let now = clock::now();
    let (source, origin) = (
        Source::Address(state.client_address(&req)),
        state.origin(&req),
    );
    let device = device_of(&state, &req, &session.user);
    let (checked, user, code) = (state.clone(), session.user.clone(), form.code.clone());
    let removed = db::run(&state.pool, move |conn| {
        let step = SecondStep {
            encryption: checked.keys.encryption(),
            lockout: &checked.lockout,
            source: &source,
            origin: &origin,
            device,
        };
        match second_step::check(conn, &step, &user, Proof::Code(&code), now)? {
            SecondOutcome::Passed(_) => {
                let caller = Caller::user(&user.id, origin.clone());
                factors::remove(
                    conn,
                    &user.id,
                    factors::Removal::AuthenticatorApp,
                    now,
                    &caller,
                )?;
                Ok(true)
            }
            _ => Ok(false),
        }
    })
    .await?;
    match removed {
        true => Ok(see_other("/account/second-factor", vec![])),
        false => {
            account_says(
                &state,
                &req,
                &session.user,
                StatusCode::BAD_REQUEST,
                "That code is not right: nothing was removed.",
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "set_up_second_factor.html")]
struct SetUpPage {
    csrf_token: String,
    return_to: String,
    enrolment: Option<Enrolment>,
    /// Set up: the recovery codes, shown this once, and on.
    recovery_codes: Vec<String>,
    error: Option<String>,
}

/// The QR code, URI and key of `secret` for `user`.
fn enrolment(state: &AppState, user: &User, secret: &[u8]) -> Result<Enrolment, PageError> {
    let issuer = host_of(&state.issuer);
    let uri = totp::otpauth_uri(secret, &format!("idhub {issuer}"), &user.login)
        .ok_or_else(|| PageError::from(crate::error::AppError::internal("an otpauth URI")))?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| {
        PageError::from(crate::error::AppError::internal(format!("a QR code: {e}")))
    })?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(Enrolment {
        qr_svg,
        uri,
        secret: totp::secret_text(secret),
    })
}

/// What the set-up page shows: the app to set up (and why the last code
/// was refused), or, once done, the recovery codes.
enum SetUpStep {
    Enrolling(Enrolment, Option<String>),
    Done(Vec<String>),
}

fn set_up_view(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    return_to: &str,
    step: SetUpStep,
    mut cookies_to_set: Vec<Cookie<'static>>,
) -> HttpResponse {
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    cookies_to_set.extend(cookie);
    let (enrolment, recovery_codes, error) = match step {
        SetUpStep::Enrolling(shown, error) => (Some(shown), Vec::new(), error),
        SetUpStep::Done(codes) => (None, codes, None),
    };
    let page = SetUpPage {
        csrf_token,
        return_to: cookies::safe_return_to(Some(return_to)),
        enrolment,
        recovery_codes,
        error,
    };
    render(status, &page, cookies_to_set)
}

/// A user who must have a second factor and has none sets one up here,
/// after the right password, before the sign-in goes on.
async fn set_up_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, PageError> {
    let return_to = cookies::safe_return_to(query.return_to.as_deref());
    let Some(user) = pending_user(&state, &req, NextStep::Enrol, clock::now()).await? else {
        return Ok(to_sign_in(&return_to));
    };
    // A new secret each time, so none is ever shown twice: whoever
    // confirms holds the only copy.
    let (secret, cookie) = match begin_enrolment(&state, &user.id).await {
        Ok(begun) => begun,
        // Set up meanwhile (another tab): the code is asked for instead.
        Err(crate::error::AppError::Conflict { .. }) => {
            return Ok(see_other(
                &format!("/login/second-factor?return_to={}", encode(&return_to)),
                vec![],
            ))
        }
        Err(other) => return Err(other.into()),
    };
    let shown = enrolment(&state, &user, &secret)?;
    Ok(set_up_view(
        &req,
        &state,
        StatusCode::OK,
        &return_to,
        SetUpStep::Enrolling(shown, None),
        vec![cookie],
    ))
}

async fn set_up_confirmed(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let (form, now) = (form.into_inner(), clock::now());
    let (user, return_to) = match pending_form(&state, &req, &form, NextStep::Enrol, now).await? {
        Ok(found) => found,
        Err(to_sign_in) => return Ok(to_sign_in),
    };
    let confirmed = confirm_enrolment(&state, &req, &user, form.code, now).await?;
    match confirmed {
        Ok(codes) => {
            let amr = [PWD, OTP, MFA].join(" ");
            let familiar = familiar_device_cookie(&state, &user);
            let session = start_session(&state, &req, user.id, &amr, now).await?;
            let done = cookies::expired_pending_cookie(state.secure_cookies());
            Ok(set_up_view(
                &req,
                &state,
                StatusCode::OK,
                &return_to,
                SetUpStep::Done(codes),
                vec![session, done, familiar],
            ))
        }
        Err(Some(secret)) => {
            let shown = enrolment(&state, &user, &secret)?;
            let wrong = Some("That code is not right: type the one your app shows now.".to_owned());
            Ok(set_up_view(
                &req,
                &state,
                StatusCode::BAD_REQUEST,
                &return_to,
                SetUpStep::Enrolling(shown, wrong),
                Vec::new(),
            ))
        }
        // Not this browser's enrolment (or none): a new one, from the start.
        Err(None) => Ok(see_other(
            &format!("{SET_UP_PAGE}?return_to={}", encode(&return_to)),
            vec![],
        )),
    }
}
