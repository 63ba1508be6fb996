//! "My account": authorized applications with Revoke, and permanent tokens
//! (create — shown once —, list, delete). Every action is a CSRF-checked form.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::cookies;
use super::login::{form_sender, renew_session, signed_in, CsrfOnly};
use super::page::{render, see_other, PageError};
use super::page_routes::{get_page, post_page};
use super::templates::{Account, AppRow, TokenRow};
use crate::accounts;
use crate::audit::Caller;
use crate::auth_modules::identities;
use crate::error::AppError;
use crate::oauth2::authorized_apps;
use crate::paging::Page;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::users::input::UserInput;
use crate::users::model::User;
use crate::users::permanent_tokens as tokens;
use crate::validate::{self, MAX_SHORT_TEXT};
use crate::{clock, db};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_page("/account", show))
        .service(post_page("/account/apps/{service_id}/revoke", revoke_app))
        .service(post_page("/account/password", change_password))
        .service(post_page("/account/tokens", create_token))
        .service(post_page("/account/tokens/{token_id}/delete", delete_token))
        .service(post_page(
            "/account/identities/{identity_id}/unlink",
            unlink_identity,
        ));
}

/// What the page says above its sections after a form.
#[derive(Default)]
struct Notice {
    new_token: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

async fn page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: User,
    notice: Notice,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let user_id = user.id.clone();
    let (apps, token_rows, linked) = db::run(&state.pool, move |conn| {
        let apps = authorized_apps::list(conn, &user_id)?;
        let (rows, _) = tokens::list(
            conn,
            &user_id,
            Page {
                skip: 0,
                top: 1000,
                count_total: false,
            },
        )?;
        let linked = identities::of_user(conn, &user_id)?;
        Ok((apps, rows, linked))
    })
    .await?;
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let account = Account {
        csrf_token,
        user_name: user.name,
        user_login: user.login,
        admin: user.admin,
        apps: apps.into_iter().map(AppRow::from).collect(),
        tokens: token_rows.iter().map(TokenRow::from).collect(),
        identities: linked,
        new_token: notice.new_token,
        error: notice.error,
        message: notice.message,
    };
    Ok(render(status, &account, cookie.into_iter().collect()))
}

#[derive(Debug, Deserialize)]
struct ShowParams {
    /// Set by the redirect after a change, to say it happened.
    changed: Option<String>,
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ShowParams>,
) -> Result<HttpResponse, PageError> {
    match signed_in(&state, &req, "/account").await? {
        Ok(session) => {
            let notice = Notice {
                message: params.changed.as_deref().map(|what| match what {
                    "password" => {
                        "Your password is changed; your other sessions are signed out.".to_owned()
                    }
                    _ => "Saved.".to_owned(),
                }),
                ..Notice::default()
            };
            page(&state, &req, session.user, notice, StatusCode::OK).await
        }
        Err(redirect) => Ok(redirect),
    }
}

/// A form that changes one thing for the signed-in sender, then back to the page.
async fn act_and_return(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    csrf_token: Option<&str>,
    action: impl FnOnce(&mut db::DbConn, &str, &Caller) -> Result<(), AppError> + Send + 'static,
) -> Result<HttpResponse, PageError> {
    let session = match form_sender(state, req, csrf_token, "/account").await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    let caller = Caller::user(&session.user.id, state.origin(req));
    db::run(&state.pool, move |conn| {
        action(conn, &session.user.id, &caller)
    })
    .await?;
    Ok(see_other("/account", vec![]))
}

async fn revoke_app(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (service_id, now) = (path.into_inner(), clock::now());
    let revoked = std::sync::Arc::clone(&state.revoked);
    act_and_return(
        &req,
        &state,
        form.csrf_token.as_deref(),
        move |conn, user_id, caller| {
            authorized_apps::revoke(conn, &revoked, user_id, &service_id, now, caller)
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct NewToken {
    csrf_token: Option<String>,
    name: Option<String>,
    scope: Option<String>,
}

async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<NewToken>,
) -> Result<HttpResponse, PageError> {
    let session = match form_sender(&state, &req, form.csrf_token.as_deref(), "/account").await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    let form = form.into_inner();
    let name = validate::required_text("name", form.name.as_deref(), MAX_SHORT_TEXT)?;
    let ids = crate::scope::parse("scope", form.scope.as_deref().unwrap_or(""))?;
    if ids.is_empty() {
        return Err(PageError::bad_request(
            "Name at least one service in the scope.",
        ));
    }
    let user = session.user.clone();
    let now = clock::now();
    let caller = Caller::user(&user.id, state.origin(&req));
    let plain = db::run(&state.pool, move |conn| {
        services_repo::require_registered(conn, "scope", &ids)?;
        tokens::create(conn, &user, name, &ids, now, &caller).map(|(_, plain)| plain)
    })
    .await?;
    let notice = Notice {
        new_token: Some(plain),
        ..Notice::default()
    };
    page(&state, &req, session.user, notice, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PasswordChange {
    csrf_token: Option<String>,
    current_password: Option<String>,
    password: Option<String>,
}

/// One's own password, with the current one: the rule of the REST API
/// (`accounts::update`), which also ends the user's other sessions.
async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PasswordChange>,
) -> Result<HttpResponse, PageError> {
    let session = match form_sender(&state, &req, form.csrf_token.as_deref(), "/account").await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    let form = form.into_inner();
    let input = UserInput {
        password: Some(form.password.unwrap_or_default()),
        current_password: form.current_password,
        ..UserInput::default()
    };
    let requester = state.requester(session.user.clone(), &req);
    let deps = state.account_deps();
    let user_id = session.user.id.clone();
    match accounts::update(&deps, &requester, &user_id, input, clock::now()).await {
        Ok(user) => {
            // The change ended every session, this one too: start a new one,
            // signed in when and how the one it replaces was (the current
            // password alone is no new second factor).
            let signed_in = (session.amr.as_str(), session.auth_time);
            let cookie = renew_session(&state, &req, user.id, signed_in, clock::now()).await?;
            Ok(see_other("/account?changed=password", vec![cookie]))
        }
        Err(AppError::BadRequest { message, .. }) => {
            let notice = Notice {
                error: Some(message),
                ..Notice::default()
            };
            page(&state, &req, session.user, notice, StatusCode::BAD_REQUEST).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Unlinks one of the sender's identities at an auth module.
async fn unlink_identity(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let identity_id = path.into_inner();
    act_and_return(
        &req,
        &state,
        form.csrf_token.as_deref(),
        move |conn, user_id, caller| {
            identities::unlink(conn, user_id, &identity_id, clock::now(), caller)
        },
    )
    .await
}

async fn delete_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let token_id = path.into_inner();
    act_and_return(
        &req,
        &state,
        form.csrf_token.as_deref(),
        move |conn, user_id, caller| tokens::delete(conn, user_id, &token_id, caller),
    )
    .await
}
