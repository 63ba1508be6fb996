//! The console's user changes: create, save name/email/admin, ban and unban,
//! set a password, revoke an application, delete a permanent token, delete
//! the user. Users
//! change through `accounts` (who may, field checks, hashing), as in the
//! REST API; applications and tokens through the functions "my account" uses.
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::common::{administrator, confirm_page, form_administrator, refusal, Confirmation};
use super::users::{new_user_page, user_page, NewUserFields};
use crate::accounts;
use crate::audit::Caller;
use crate::oauth2::authorized_apps;
use crate::sessions::repo::Session;
use crate::state::AppState;
use crate::users::input::UserInput;
use crate::users::permanent_tokens as tokens;
use crate::users::repo as users_repo;
use crate::web::login::{start_session, CsrfOnly};
use crate::web::page::{see_other, PageError};
use crate::{clock, db};

fn back_to(id: &str) -> HttpResponse {
    see_other(&format!("/admin/users/{id}"), vec![])
}

/// Applies `input` to user `id` for the administrator, then back to the
/// user's page, or the page again with the reason it was refused.
async fn change(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    admin: Session,
    id: String,
    input: UserInput,
) -> Result<HttpResponse, PageError> {
    // Setting a password ends the user's sessions: administrators who set
    // their own stay signed in with a new one, as on the account page.
    let own_password = input.password.is_some() && id == admin.user.id;
    let requester = state.requester(admin.user.clone(), req);
    let deps = state.account_deps();
    match accounts::update(&deps, &requester, &id, input, clock::now()).await {
        Ok(user) if own_password => {
            // Signed in the same way as the session it replaces.
            let cookie = start_session(state, req, user.id, &admin.amr, clock::now()).await?;
            Ok(see_other(&format!("/admin/users/{id}"), vec![cookie]))
        }
        Ok(_) => Ok(back_to(&id)),
        Err(error) => {
            let message = refusal(error)?;
            user_page(
                state,
                req,
                &admin,
                id,
                StatusCode::BAD_REQUEST,
                Some(message),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct NewUserForm {
    csrf_token: Option<String>,
    login: Option<String>,
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    admin: Option<String>,
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<NewUserForm>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let form = form.into_inner();
    let shown = NewUserFields {
        login: form.login.clone().unwrap_or_default(),
        name: form.name.clone().unwrap_or_default(),
        email: form.email.clone().unwrap_or_default(),
        admin: form.admin.is_some(),
    };
    let input = UserInput {
        login: form.login,
        name: form.name,
        email: Some(form.email),
        password: form.password.filter(|p| !p.is_empty()),
        admin: Some(form.admin.is_some()),
        ..UserInput::default()
    };
    let requester = state.requester(admin.user, &req);
    let deps = state.account_deps();
    match accounts::create(&deps, &requester, input, clock::now()).await {
        Ok(user) => Ok(back_to(&user.id)),
        Err(error) => {
            let message = refusal(error)?;
            new_user_page(&state, &req, StatusCode::BAD_REQUEST, shown, Some(message))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    csrf_token: Option<String>,
    name: Option<String>,
    email: Option<String>,
    admin: Option<String>,
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let form = form.into_inner();
    let input = UserInput {
        name: Some(form.name.unwrap_or_default()),
        email: Some(form.email),
        admin: Some(form.admin.is_some()),
        ..UserInput::default()
    };
    change(&req, &state, admin, path.into_inner(), input).await
}

#[derive(Debug, Deserialize)]
pub struct BanForm {
    csrf_token: Option<String>,
    /// "on" bans, "off" lifts the ban.
    banned: Option<String>,
}

pub async fn ban(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<BanForm>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let banned = match form.banned.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => return Err(PageError::bad_request("Say banned=on or banned=off.")),
    };
    let input = UserInput {
        banned: Some(banned),
        ..UserInput::default()
    };
    change(&req, &state, admin, path.into_inner(), input).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: Option<String>,
    password: Option<String>,
    /// Asked only when administrators set their own.
    current_password: Option<String>,
}

pub async fn set_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let form = form.into_inner();
    let input = UserInput {
        password: Some(form.password.unwrap_or_default()),
        current_password: form.current_password,
        ..UserInput::default()
    };
    change(&req, &state, admin, path.into_inner(), input).await
}

pub async fn revoke_app(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let (id, service_id) = path.into_inner();
    let caller = Caller::user(&admin.user.id, state.origin(&req));
    let (user_id, revoked) = (id.clone(), Arc::clone(&state.revoked));
    db::run(&state.pool, move |conn| {
        authorized_apps::revoke(conn, &revoked, &user_id, &service_id, clock::now(), &caller)
    })
    .await?;
    Ok(back_to(&id))
}

/// Removes the user's second factors (a user who lost their phone and
/// their recovery codes): they sign in with the password alone.
pub async fn remove_second_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let id = path.into_inner();
    let caller = Caller::user(&admin.user.id, state.origin(&req));
    let user_id = id.clone();
    db::run(&state.pool, move |conn| {
        users_repo::find(conn, &user_id)?;
        crate::factors::repo::remove(
            conn,
            &user_id,
            crate::factors::repo::Removal::Everything,
            clock::now(),
            &caller,
        )
    })
    .await?;
    Ok(back_to(&id))
}

#[derive(Debug, Deserialize)]
pub struct RequiredForm {
    csrf_token: Option<String>,
    /// "on" requires a second factor of the user, "off" no longer.
    required: Option<String>,
}

/// Requires the user to have a second factor, or no longer (the server's
/// policy still applies): the same rule as the REST API's.
pub async fn require_second_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<RequiredForm>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let required = match form.required.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => return Err(PageError::bad_request("Say required=on or required=off.")),
    };
    let id = path.into_inner();
    let caller = Caller::user(&admin.user.id, state.origin(&req));
    let user_id = id.clone();
    db::run(&state.pool, move |conn| {
        users_repo::find(conn, &user_id)?;
        crate::factors::repo::set_required(conn, &user_id, required, clock::now(), &caller)
    })
    .await?;
    Ok(back_to(&id))
}

pub async fn delete_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let (id, token_id) = path.into_inner();
    let caller = Caller::user(&admin.user.id, state.origin(&req));
    let user_id = id.clone();
    db::run(&state.pool, move |conn| {
        tokens::delete(conn, &user_id, &token_id, &caller)
    })
    .await?;
    Ok(back_to(&id))
}

/// "Are you sure?" before a user is deleted.
pub async fn confirm_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let id = path.into_inner();
    let target = id.clone();
    let user = db::run(&state.pool, move |conn| users_repo::find(conn, &target)).await?;
    let asked = Confirmation {
        heading: format!("Delete {}?", user.login),
        message: "The user is removed with their grants, permanent tokens and sessions: \
                  every token issued to them stops working. This cannot be undone; to \
                  stop the account's use but keep it, ban it instead.",
        action: format!("/admin/users/{id}/delete"),
        button: "Delete the user",
        cancel: format!("/admin/users/{id}"),
    };
    Ok(confirm_page(&state, &req, asked))
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let requester = state.requester(admin.user, &req);
    accounts::delete(&state.account_deps(), &requester, &path.into_inner()).await?;
    Ok(see_other("/admin/users", vec![]))
}
