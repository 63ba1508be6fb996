//! `/api/rest/projects`: thin handlers over `authz::projects`, for admins.
//! The Global project (`0-0-0-0-0`) is listed first and cannot be deleted.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::json::{FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::authz::input::KeyedInput;
use crate::authz::model::ProjectView;
use crate::authz::projects as repo;
use crate::error::AppError;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/projects", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
}

/// The key, name and description of a project; it has no permissions.
fn checked(
    body: KeyedInput,
    creating: bool,
) -> Result<crate::authz::model::KeyedChanges, AppError> {
    if body.permissions.is_some() {
        return Err(AppError::bad_field(
            "permissions",
            "a project has no permissions: grant roles in it instead",
        ));
    }
    Ok(body.check(creating)?.0)
}

#[utoipa::path(
    operation_id = "projects_create",
    post,
    path = "/api/rest/projects",
    tag = "projects",
    summary = "Create a project",
    params(crate::rest::json::FieldsParam),
    request_body = crate::authz::input::KeyedInput,
    responses((status = 200, body = crate::authz::model::ProjectView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<KeyedInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let changes = checked(body.0, true)?;
    let caller = principal.caller();
    let created = resource::one(&state.pool, &params, move |conn| {
        repo::create(conn, changes, crate::clock::now(), &caller).map(ProjectView::from)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    // What is new may be named by the next grant this instance reads.
    state.access.graph_changed();
    created
}

#[utoipa::path(
    operation_id = "projects_list",
    get,
    path = "/api/rest/projects",
    tag = "projects",
    summary = "List projects, Global first, then by key; `query` keeps those whose key or name contains every word",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::ProjectList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let text = params.search_text()?.to_owned();
    resource::list(&state.pool, "projects", &params, move |conn, page| {
        let (found, total) = repo::list(conn, &text, page)?;
        Ok((found.into_iter().map(ProjectView::from).collect(), total))
    })
    .await
}

#[utoipa::path(
    operation_id = "projects_get",
    get,
    path = "/api/rest/projects/{id}",
    tag = "projects",
    summary = "One project",
    params(("id" = String, Path, description = "A project id"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::authz::model::ProjectView), crate::rest::api_doc::RestErrors),
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
        repo::find(conn, &id).map(ProjectView::from)
    })
    .await
}

#[utoipa::path(
    operation_id = "projects_update",
    post,
    path = "/api/rest/projects/{id}",
    tag = "projects",
    summary = "Update part of a project: absent fields stay",
    params(("id" = String, Path, description = "A project id"), crate::rest::json::FieldsParam),
    request_body = crate::authz::input::KeyedInput,
    responses((status = 200, body = crate::authz::model::ProjectView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<KeyedInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let changes = checked(body.0, false)?;
    let (id, caller) = (path.into_inner(), principal.caller());
    let updated = resource::one(&state.pool, &params, move |conn| {
        repo::update(conn, &id, changes, crate::clock::now(), &caller).map(ProjectView::from)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    updated
}

#[utoipa::path(
    operation_id = "projects_delete",
    delete,
    path = "/api/rest/projects/{id}",
    tag = "projects",
    summary = "Delete a project and every role granted in it; the Global project stays",
    params(("id" = String, Path, description = "A project id")),
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
    let deleted = resource::delete(&state.pool, move |conn| {
        repo::delete(conn, &id, crate::clock::now(), &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    deleted
}
