//! `/api/rest/authmodules`: thin handlers over `auth_modules::repo`, for
//! admins. Secrets (`clientSecret`, `bindPassword`) are write-only.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::json::{FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::auth_modules::input::AuthModuleInput;
use crate::auth_modules::repo;
use crate::error::AppError;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/authmodules", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
}

#[utoipa::path(
    operation_id = "authmodules_create",
    post,
    path = "/api/rest/authmodules",
    tag = "authmodules",
    summary = "Create an auth module (oidc, oauth2 or ldap)",
    params(crate::rest::json::FieldsParam),
    request_body = crate::auth_modules::input::AuthModuleInput,
    responses((status = 200, body = crate::auth_modules::model::AuthModuleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<AuthModuleInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let changes = body.0.check(true)?;
    let (caller, keys) = (principal.caller(), state.keys.clone());
    resource::one(&state.pool, &params, move |conn| {
        repo::create(
            conn,
            keys.encryption(),
            changes,
            crate::clock::now(),
            &caller,
        )
    })
    .await
}

#[utoipa::path(
    operation_id = "authmodules_list",
    get,
    path = "/api/rest/authmodules",
    tag = "authmodules",
    summary = "List auth modules in their order, then by name",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::AuthModuleList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    resource::list(&state.pool, "authmodules", &params, move |conn, page| {
        repo::list(conn, page)
    })
    .await
}

#[utoipa::path(
    operation_id = "authmodules_get",
    get,
    path = "/api/rest/authmodules/{id}",
    tag = "authmodules",
    summary = "One auth module",
    params(("id" = String, Path, description = "An auth module id"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::auth_modules::model::AuthModuleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    resource::one(&state.pool, &params, move |conn| {
        let module = repo::find(conn, &id)?;
        repo::view(conn, module)
    })
    .await
}

#[utoipa::path(
    operation_id = "authmodules_update",
    post,
    path = "/api/rest/authmodules/{id}",
    tag = "authmodules",
    summary = "Update part of an auth module: absent fields stay; its type never changes",
    params(("id" = String, Path, description = "An auth module id"), crate::rest::json::FieldsParam),
    request_body = crate::auth_modules::input::AuthModuleInput,
    responses((status = 200, body = crate::auth_modules::model::AuthModuleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<AuthModuleInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let changes = body.0.check(false)?;
    let (id, caller, keys) = (path.into_inner(), principal.caller(), state.keys.clone());
    resource::one(&state.pool, &params, move |conn| {
        repo::update(
            conn,
            keys.encryption(),
            &id,
            changes,
            crate::clock::now(),
            &caller,
        )
    })
    .await
}

#[utoipa::path(
    operation_id = "authmodules_delete",
    delete,
    path = "/api/rest/authmodules/{id}",
    tag = "authmodules",
    summary = "Delete an auth module and its group mappings",
    params(("id" = String, Path, description = "An auth module id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (id, caller) = (path.into_inner(), principal.caller());
    resource::delete(&state.pool, move |conn| {
        repo::delete(conn, &id, crate::clock::now(), &caller)
    })
    .await
}
