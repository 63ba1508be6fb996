//! `/admin/users`: users, searchable and paged; one user with the forms that
//! change them, their authorized applications and permanent tokens.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::common::{administrator, csrf, span, ListQuery, PAGE_ROWS};
use crate::db;
use crate::oauth2::authorized_apps;
use crate::paging::Page;
use crate::sessions::repo::Session;
use crate::state::AppState;
use crate::users::permanent_tokens as tokens;
use crate::users::repo as users_repo;
use crate::web::page::{render, PageError};
use crate::web::templates::{
    page_time, AdminUser, AdminUserNew, AdminUsers, AppRow, TokenRow, UserRow,
};

/// Permanent tokens shown on a user's page.
const TOKEN_ROWS: i64 = 200;

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let text = params.query.trim().to_owned();
    let skip = params.skip();
    let page = Page {
        skip,
        top: PAGE_ROWS,
        count_total: true,
    };
    let search = text.clone();
    let (found, total) = db::run(&state.pool, move |conn| {
        users_repo::list(conn, &search, page, None)
    })
    .await?;
    let rows = found
        .into_iter()
        .map(|user| UserRow {
            id: user.id,
            login: user.login,
            name: user.name,
            email: user.email.unwrap_or_default(),
            admin: user.admin,
            banned: user.banned,
            guest: user.guest,
        })
        .collect();
    let page = AdminUsers {
        span: span("/admin/users", &text, skip, total),
        query: text,
        rows,
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    match administrator(&state, &req).await? {
        Ok(admin) => {
            user_page(
                &state,
                &req,
                &admin,
                path.into_inner(),
                StatusCode::OK,
                None,
            )
            .await
        }
        Err(redirect) => Ok(redirect),
    }
}

/// A user's page, with `error` when a form on it was refused.
pub async fn user_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    admin: &Session,
    id: String,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (user, apps, token_rows, second_factor) = db::run(&state.pool, move |conn| {
        let user = users_repo::find(conn, &id)?;
        let second_factor = crate::factors::repo::status(conn, &id)?;
        let apps = authorized_apps::list(conn, &id)?;
        let page = Page {
            skip: 0,
            top: TOKEN_ROWS,
            count_total: false,
        };
        let (rows, _) = tokens::list(conn, &id, page)?;
        Ok((user, apps, rows, second_factor))
    })
    .await?;
    let (csrf_token, cookies) = csrf(state, req);
    let page = AdminUser {
        csrf_token,
        is_self: user.id == admin.user.id,
        id: user.id,
        login: user.login,
        name: user.name,
        email: user.email.unwrap_or_default(),
        admin: user.admin,
        banned: user.banned,
        guest: user.guest,
        second_factor,
        policy_requires: state.settings.require_second_factor.requires(user.admin),
        created: page_time(user.created),
        apps: apps.into_iter().map(AppRow::from).collect(),
        tokens: token_rows.iter().map(TokenRow::from).collect(),
        error,
    };
    Ok(render(status, &page, cookies))
}

pub async fn new(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    new_user_page(&state, &req, StatusCode::OK, NewUserFields::default(), None)
}

/// What the new-user form shows again when it is refused.
#[derive(Debug, Default)]
pub struct NewUserFields {
    pub login: String,
    pub name: String,
    pub email: String,
    pub admin: bool,
}

pub fn new_user_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    fields: NewUserFields,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (csrf_token, cookies) = csrf(state, req);
    let page = AdminUserNew {
        csrf_token,
        login: fields.login,
        name: fields.name,
        email: fields.email,
        admin: fields.admin,
        error,
    };
    Ok(render(status, &page, cookies))
}
