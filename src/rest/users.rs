//! `/api/rest/users`: admin CRUD, `me`, ban and unban by update.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::sync::Arc;

use super::authn::Principal;
use super::json::{FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::error::AppError;
use crate::paging::ListParams;
use crate::sessions::lockout::Source;
use crate::sessions::repo as sessions_repo;
use crate::sessions::sign_in::{self, Attempt, Outcome, Via};
use crate::state::AppState;
use crate::users::model::{UserChanges, UserView};
use crate::users::rules::{self, ChangeRequest};
use crate::users::{password_hash as password, repo};
use crate::validate::{self, MAX_SHORT_TEXT};

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/users", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInput {
    login: Option<String>,
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    email: Option<Option<String>>,
    password: Option<String>,
    /// Required with `password` when users change their own.
    current_password: Option<String>,
    admin: Option<bool>,
    banned: Option<bool>,
}

fn checked_email(email: Option<Option<String>>) -> Result<Option<Option<String>>, AppError> {
    email
        .map(|inner| match inner.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => validate::email(text).map(Some),
        })
        .transpose()
}

/// Hashes on the blocking pool; Argon2 must not stall an async worker.
async fn hash_password(
    state: &web::Data<AppState>,
    plain: Option<String>,
) -> Result<Option<String>, AppError> {
    let Some(plain) = plain else { return Ok(None) };
    password::validate(&plain)?;
    state
        .hasher
        .run(move |hasher| hasher.hash(&plain))
        .await?
        .map(Some)
}

/// The current password, checked by the sign-in rule (failures count towards
/// the lockout like any other sign-in).
async fn check_current_password(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user_id: &str,
    current: Option<String>,
) -> Result<(), AppError> {
    let Some(current) = current else {
        return Err(AppError::bad_field(
            "currentPassword",
            "currentPassword is required to change your own password",
        ));
    };
    let attempt = Attempt {
        identifier: user_id.to_owned(),
        password: current,
        source: Source::Address(state.client_address(req)),
        origin: state.origin(req),
        via: Via::PasswordChange,
    };
    let now = crate::clock::now();
    match sign_in::check(
        &state.pool,
        &state.hasher,
        state.lockout,
        &state.audit,
        attempt,
        now,
    )
    .await?
    {
        Outcome::Verified(user) if user.id == user_id => Ok(()),
        Outcome::Locked => Err(AppError::Forbidden(
            "too many failed attempts; try again later".into(),
        )),
        _ => Err(AppError::bad_field(
            "currentPassword",
            "the current password is wrong",
        )),
    }
}

async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<UserInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    params.parse()?;
    let input = body.0;
    let login = validate::login(input.login.as_deref().unwrap_or(""))?;
    let name = validate::optional_text("name", input.name.as_deref(), MAX_SHORT_TEXT)?;
    let email = checked_email(input.email)?.flatten();
    let password_hash = hash_password(&state, input.password).await?;
    let mut new_user = repo::new_user(login, name, crate::clock::now());
    new_user.email = email;
    new_user.password_hash = password_hash;
    new_user.admin = input.admin.unwrap_or(false);
    new_user.banned = input.banned.unwrap_or(false);
    let caller = principal.caller();
    resource::one(&state.pool, &params, move |conn| {
        Ok(UserView::from(&repo::create(conn, new_user, &caller)?))
    })
    .await
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let text = params.query_text().to_owned();
    let after_id = params.after()?.map(str::to_owned);
    resource::list(&state.pool, "users", &params, move |conn, page| {
        let after = after_id.map(|id| repo::login_key(conn, &id)).transpose()?;
        let (users, total) = repo::list(conn, &text, page, after.as_deref())?;
        Ok((users.iter().map(UserView::from).collect(), total))
    })
    .await
}

async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    let id = principal.resolve_user_id(&path)?;
    resource::one(&state.pool, &params, move |conn| {
        Ok(UserView::from(&repo::find(conn, &id)?))
    })
    .await
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<UserInput>,
) -> Result<HttpResponse, AppError> {
    params.parse()?;
    let id = principal.resolve_user_id(&path)?;
    let input = body.0;
    let change = ChangeRequest {
        login: input.login.is_some(),
        admin: input.admin,
        banned: input.banned,
    };
    rules::may_change(&principal.user, &id, change)?;
    if input.password.is_some() && rules::needs_current_password(&principal.user, &id) {
        check_current_password(&state, &req, &id, input.current_password.clone()).await?;
    }
    let password_changed = input.password.is_some();
    let mut changes = UserChanges {
        login: input.login.as_deref().map(validate::login).transpose()?,
        name: match input.name.as_deref() {
            None => None,
            value => Some(validate::required_text("name", value, MAX_SHORT_TEXT)?),
        },
        email: checked_email(input.email)?,
        admin: input.admin,
        banned: input.banned,
        updated: Some(crate::clock::now()),
        ..UserChanges::default()
    };
    changes.password_hash = hash_password(&state, input.password).await?.map(Some);
    let cache = Arc::clone(&state.users);
    let caller = principal.caller();
    resource::one(&state.pool, &params, move |conn| {
        let user = repo::update(conn, &id, changes, &caller)?;
        if password_changed {
            // Whoever signed in with the old password is signed out.
            sessions_repo::delete_for_user(conn, &user.id)?;
        }
        cache.invalidate(&user.id);
        Ok(UserView::from(&user))
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    if id == "me" || id == principal.user.id {
        return Err(AppError::bad_request(
            "administrators cannot delete themselves",
        ));
    }
    let cache = Arc::clone(&state.users);
    let caller = principal.caller();
    resource::delete(&state.pool, move |conn| {
        let user = repo::find(conn, &id)?;
        if user.guest {
            return Err(AppError::Forbidden(
                "the guest account cannot be deleted; ban it instead".into(),
            ));
        }
        repo::delete(conn, &id, &caller)?;
        cache.invalidate(&id);
        Ok(())
    })
    .await
}
