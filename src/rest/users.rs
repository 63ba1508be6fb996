//! `/api/rest/users`: admin CRUD, `me`, ban and unban by update. The rules
//! live in `accounts`, shared with the console.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::authn::Principal;
use super::json::{respond, to_json, FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::accounts;
use crate::error::AppError;
use crate::paging::ListParams;
use crate::state::AppState;
use crate::users::input::UserInput;
use crate::users::model::UserView;
use crate::users::repo;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/users", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
}

#[utoipa::path(
    operation_id = "users_create",
    post,
    path = "/api/rest/users",
    tag = "users",
    summary = "Create a user",
    params(crate::rest::json::FieldsParam),
    request_body = crate::users::input::UserInput,
    responses((status = 200, body = crate::users::model::UserView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<UserInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let fields = params.parse()?;
    let requester = state.requester(principal.user, &req);
    let now = crate::clock::now();
    let user = accounts::create(&state.account_deps(), &requester, body.0, now).await?;
    Ok(respond(to_json(UserView::from(&user))?, fields.as_ref()))
}

#[utoipa::path(
    operation_id = "users_list",
    get,
    path = "/api/rest/users",
    tag = "users",
    summary = "List users",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::UserList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let text = params.search_text()?.to_owned();
    let after_id = params.after()?.map(str::to_owned);
    resource::list(&state.pool, "users", &params, move |conn, page| {
        let after = after_id.map(|id| repo::login_key(conn, &id)).transpose()?;
        let (users, total) = repo::list(conn, &text, page, after.as_deref())?;
        Ok((users.iter().map(UserView::from).collect(), total))
    })
    .await
}

#[utoipa::path(
    operation_id = "users_get",
    get,
    path = "/api/rest/users/{id}",
    tag = "users",
    summary = "One user (`me`: the caller)",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::users::model::UserView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn get(
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

#[utoipa::path(
    operation_id = "users_update",
    post,
    path = "/api/rest/users/{id}",
    tag = "users",
    summary = "Update part of a user",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::rest::json::FieldsParam),
    request_body = crate::users::input::UserInput,
    responses((status = 200, body = crate::users::model::UserView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<UserInput>,
) -> Result<HttpResponse, AppError> {
    let fields = params.parse()?;
    let id = principal.resolve_user_id(&path)?;
    let requester = state.requester(principal.user, &req);
    let now = crate::clock::now();
    let user = accounts::update(&state.account_deps(), &requester, &id, body.0, now).await?;
    Ok(respond(to_json(UserView::from(&user))?, fields.as_ref()))
}

#[utoipa::path(
    operation_id = "users_delete",
    delete,
    path = "/api/rest/users/{id}",
    tag = "users",
    summary = "Delete a user",
    params(("id" = String, Path, description = "A user id, or `me`")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = principal.resolve_user_id(&path)?;
    let requester = state.requester(principal.user, &req);
    accounts::delete(&state.account_deps(), &requester, &id).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
